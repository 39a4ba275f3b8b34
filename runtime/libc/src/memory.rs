//! The `malloc` family over the `talc` allocator.
//!
//! Every block starts with a [`Header`] just below the pointer handed to C, recording
//! what `free` needs to give the block back (C's `free` gets no size). Blocks are
//! 16-byte aligned, as glibc's on x86_64 and aarch64 (`MALLOC_ALIGNMENT`), so a
//! `long double` or SSE vector fits anywhere `malloc` returns. Over-aligned requests
//! (`memalign` & co.) allocate `alignment` extra bytes and place the pointer inside.
//!
//! Out of memory is never fatal: the C functions return NULL with `errno = ENOMEM`.
//! One global heap behind talc's lock (`spinning_top`): uncontended today, correct
//! when threads arrive.

use core::alloc::Layout;
use core::ptr::NonNull;

use talc::source::Manual;

use crate::errno;

/// glibc's `MALLOC_ALIGNMENT` on x86_64 and aarch64.
pub const MALLOC_ALIGNMENT: usize = 16;

/// The bookkeeping below every block handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Header {
    /// A tag in the upper 32 bits ([`LIVE_TAG`] or [`FREED_TAG`]), and the distance from
    /// the start of talc's allocation to the user pointer in the lower 32.
    tagged_offset: usize,
    /// Size of talc's allocation (its layout has alignment [`MALLOC_ALIGNMENT`]).
    total_size: usize,
}

const HEADER_SIZE: usize = size_of::<Header>();
const _: () = assert!(HEADER_SIZE <= MALLOC_ALIGNMENT);

/// Marks a live block ("unik"), so that `free` of a pointer malloc never returned is
/// caught (as glibc's "free(): invalid pointer") instead of corrupting the heap.
const LIVE_TAG: usize = 0x756e_696b;
/// Written over the tag when a block is freed: a second `free` of it is caught while
/// the allocator has not reused the memory.
const FREED_TAG: usize = 0x6672_6565;
const TAG_SHIFT: u32 = 32;
/// The largest alignment a request may ask for: its offset must fit the lower 32 bits.
const MAXIMUM_ALIGNMENT: usize = 1 << 31;

/// Why a pointer given to `free`/`realloc` cannot be a live block of this heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The header below the pointer is not one `allocate` wrote.
    InvalidPointer,
    /// The block was freed already.
    DoubleFree,
}

impl BlockError {
    /// glibc's wording (malloc/malloc.c `malloc_printerr` messages).
    pub fn description(self) -> &'static [u8] {
        match self {
            BlockError::InvalidPointer => b"invalid pointer",
            BlockError::DoubleFree => b"double free detected",
        }
    }
}

impl Header {
    fn live(offset: usize, total_size: usize) -> Header {
        Header {
            tagged_offset: (LIVE_TAG << TAG_SHIFT) | offset,
            total_size,
        }
    }

    /// The block's `(offset, total_size)`, if the header is a live block's.
    fn decode(self) -> Result<(usize, usize), BlockError> {
        let offset = self.tagged_offset & ((1 << TAG_SHIFT) - 1);
        match self.tagged_offset >> TAG_SHIFT {
            LIVE_TAG => {}
            FREED_TAG => return Err(BlockError::DoubleFree),
            _ => return Err(BlockError::InvalidPointer),
        }
        let consistent = offset >= HEADER_SIZE
            && offset.is_multiple_of(MALLOC_ALIGNMENT)
            && self.total_size >= offset;
        if consistent {
            Ok((offset, self.total_size))
        } else {
            Err(BlockError::InvalidPointer)
        }
    }
}

/// A heap: talc plus the header protocol above.
pub struct Heap {
    talc: talc::TalcLock<spinning_top::RawSpinlock, Manual>,
}

impl Heap {
    pub const fn new() -> Self {
        Heap {
            talc: talc::TalcLock::new(Manual),
        }
    }

    /// Gives the allocator the memory `start..start + length`. Returns false when the
    /// region is too small for talc's metadata.
    ///
    /// # Safety
    /// The region is readable and writable, and nothing else uses it for as long as the
    /// heap lives.
    pub unsafe fn claim(&self, start: *mut u8, length: usize) -> bool {
        // SAFETY: the caller hands the region over exclusively.
        unsafe { self.talc.lock().claim(start, length) }.is_some()
    }

    /// Allocates `size` bytes aligned to `alignment` (a power of two); None when out of
    /// memory or when the sizes overflow.
    pub fn allocate(&self, size: usize, alignment: usize) -> Option<NonNull<u8>> {
        debug_assert!(alignment.is_power_of_two());
        if alignment > MAXIMUM_ALIGNMENT {
            return None;
        }
        let alignment = alignment.max(MALLOC_ALIGNMENT);
        // Room for the header below the pointer, and for moving the pointer up to the
        // requested alignment when that exceeds talc's.
        let slack = if alignment > MALLOC_ALIGNMENT {
            alignment
        } else {
            MALLOC_ALIGNMENT
        };
        let total_size = size.checked_add(slack)?;
        let layout = Layout::from_size_align(total_size, MALLOC_ALIGNMENT).ok()?;
        // SAFETY: the layout's size is nonzero (slack > 0).
        let base = unsafe { self.talc.lock().allocate(layout) }?;
        let base_address = base.as_ptr() as usize;
        let user_address = (base_address + HEADER_SIZE).next_multiple_of(alignment);
        let offset = user_address - base_address;
        // SAFETY: offset <= slack, so the user pointer and the `size` bytes after it lie
        // within the allocation of `size + slack` bytes.
        let user = unsafe { base.add(offset) };
        // SAFETY: offset >= HEADER_SIZE, so the header lies inside the allocation too, and
        // user is 16-byte aligned, so the header (two words) is aligned.
        unsafe {
            user.cast::<Header>()
                .sub(1)
                .write(Header::live(offset, total_size))
        };
        Some(user)
    }

    /// The `(offset, total_size)` recorded below `user`, checked.
    ///
    /// # Safety
    /// The 16 bytes below `user` are readable (true of every pointer this heap returned,
    /// live or freed).
    unsafe fn header(user: NonNull<u8>) -> Result<(usize, usize), BlockError> {
        // SAFETY: caller's contract; the read is aligned for a 16-byte-aligned pointer
        // and unaligned-tolerant otherwise.
        unsafe { user.cast::<Header>().sub(1).read_unaligned() }.decode()
    }

    /// Gives a block back; an error (nothing released) when `user` is not a live block.
    ///
    /// # Safety
    /// `user` was returned by this heap (a pointer that was not is caught as long as its
    /// 16 bytes below are readable and do not happen to look like a header).
    pub unsafe fn release(&self, user: NonNull<u8>) -> Result<(), BlockError> {
        if !(user.as_ptr() as usize).is_multiple_of(MALLOC_ALIGNMENT) {
            return Err(BlockError::InvalidPointer);
        }
        // SAFETY: caller's contract.
        let (offset, total_size) = unsafe { Self::header(user) }?;
        // SAFETY: base and layout are those of the talc allocation (recorded in the
        // header, which is ours to overwrite until the block is given back).
        unsafe {
            user.cast::<Header>().sub(1).write(Header {
                tagged_offset: (FREED_TAG << TAG_SHIFT) | offset,
                total_size,
            });
            let base = user.as_ptr().sub(offset);
            let layout = Layout::from_size_align_unchecked(total_size, MALLOC_ALIGNMENT);
            self.talc.lock().deallocate(base, layout);
        }
        Ok(())
    }

    /// How many bytes the caller may use at `user` (at least what it asked for).
    ///
    /// # Safety
    /// As [`Heap::release`].
    pub unsafe fn usable_size(user: NonNull<u8>) -> Result<usize, BlockError> {
        // SAFETY: caller's contract.
        let (offset, total_size) = unsafe { Self::header(user) }?;
        Ok(total_size - offset)
    }

    /// C `realloc` for a block and a nonzero size: resizes in place when talc can, else
    /// allocates, copies and releases. `Ok(None)` (old block untouched) when out of
    /// memory; an error when `user` is not a live block.
    ///
    /// # Safety
    /// As [`Heap::release`].
    pub unsafe fn reallocate(
        &self,
        user: NonNull<u8>,
        new_size: usize,
    ) -> Result<Option<NonNull<u8>>, BlockError> {
        // SAFETY: caller's contract.
        let (offset, total_size) = unsafe { Self::header(user) }?;
        let old_usable = total_size - offset;
        if offset == MALLOC_ALIGNMENT {
            // A plain malloc block: ask talc to grow or shrink it where it is.
            let Some(new_total) = new_size.checked_add(MALLOC_ALIGNMENT) else {
                return Ok(None);
            };
            // SAFETY: base/layout recorded by allocate; new_total is nonzero.
            let resized = unsafe {
                let base = user.as_ptr().sub(offset);
                let layout = Layout::from_size_align_unchecked(total_size, MALLOC_ALIGNMENT);
                self.talc
                    .lock()
                    .try_realloc_in_place(base, layout, new_total)
            };
            if resized {
                // SAFETY: the header is still ours, below `user`.
                unsafe {
                    user.cast::<Header>()
                        .sub(1)
                        .write(Header::live(offset, new_total))
                };
                return Ok(Some(user));
            }
        } else if new_size <= old_usable {
            return Ok(Some(user));
        }
        let Some(moved) = self.allocate(new_size, MALLOC_ALIGNMENT) else {
            return Ok(None);
        };
        // SAFETY: both blocks are live, distinct, and at least this long.
        unsafe {
            core::ptr::copy_nonoverlapping(user.as_ptr(), moved.as_ptr(), old_usable.min(new_size));
            self.release(user)?;
        }
        Ok(Some(moved))
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

/// The program's heap (the region the kernel reports in `BootInfo`).
pub static HEAP: Heap = Heap::new();

/// `malloc` with errno: None means "return NULL", with `errno = ENOMEM` set.
pub fn allocate_or_set_errno(size: usize, alignment: usize) -> Option<NonNull<u8>> {
    let block = HEAP.allocate(size, alignment);
    if block.is_none() {
        errno::set(errno::ENOMEM);
    }
    block
}

/// Allocates `count * size` zeroed bytes; None (with ENOMEM) on overflow or exhaustion.
pub fn allocate_zeroed(count: usize, size: usize) -> Option<NonNull<u8>> {
    let Some(total) = count.checked_mul(size) else {
        errno::set(errno::ENOMEM);
        return None;
    };
    let block = allocate_or_set_errno(total, MALLOC_ALIGNMENT)?;
    // SAFETY: the block holds `total` writable bytes. (Fresh talc memory is not
    // necessarily zero: freed blocks are reused.)
    unsafe { block.as_ptr().write_bytes(0, total) };
    Some(block)
}

/// Ends the program when a pointer handed to `function` is no live block, as glibc's
/// `malloc_printerr` does: `unik: free(): invalid pointer`, status 134 (SIGABRT).
pub fn misuse(function: &[u8], error: BlockError) -> ! {
    crate::process::abort_with(&[b"unik: ", function, b"(): ", error.description(), b"\n"])
}

/// Frees a block from the C world (NULL is allowed, as C says); a pointer that is no
/// live block ends the program (see [`misuse`]).
///
/// # Safety
/// `pointer` is NULL or was returned by [`HEAP`].
pub unsafe fn free_pointer(pointer: *mut u8) {
    if let Some(block) = NonNull::new(pointer) {
        // SAFETY: caller's contract.
        if let Err(error) = unsafe { HEAP.release(block) } {
            misuse(b"free", error);
        }
    }
}

/// Resizes a block from the C world to a nonzero `size` (NULL allocates), keeping its
/// contents; None with `errno = ENOMEM` (the block untouched) when out of memory.
///
/// # Safety
/// `pointer` is NULL or was returned by [`HEAP`].
pub unsafe fn reallocate_pointer(pointer: *mut u8, size: usize) -> Option<NonNull<u8>> {
    let Some(block) = NonNull::new(pointer) else {
        return allocate_or_set_errno(size, MALLOC_ALIGNMENT);
    };
    // SAFETY: caller's contract.
    match unsafe { HEAP.reallocate(block, size.max(1)) } {
        Ok(Some(moved)) => Some(moved),
        Ok(None) => {
            errno::set(errno::ENOMEM);
            None
        }
        Err(error) => misuse(b"realloc", error),
    }
}

/// Rust's global allocator for the runtime's own crates, on the same heap. (`talc`
/// links Rust's `alloc` crate, which requires one in the final archive.)
#[cfg(not(test))]
struct RuntimeAllocator;

// SAFETY: allocate returns blocks of at least `size` bytes aligned to `align`, disjoint
// until released; dealloc releases only blocks it handed out (GlobalAlloc's contract).
#[cfg(not(test))]
unsafe impl core::alloc::GlobalAlloc for RuntimeAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.allocate(layout.size(), layout.align())
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, pointer: *mut u8, _layout: Layout) {
        // SAFETY: GlobalAlloc's contract: `pointer` came from alloc above.
        unsafe { free_pointer(pointer) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(block) = NonNull::new(pointer) else {
            return core::ptr::null_mut();
        };
        if layout.align() > MALLOC_ALIGNMENT {
            // reallocate keeps only MALLOC_ALIGNMENT: move by hand.
            let Some(moved) = HEAP.allocate(new_size, layout.align()) else {
                return core::ptr::null_mut();
            };
            // SAFETY: both live, disjoint, at least min(old, new) bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    pointer,
                    moved.as_ptr(),
                    layout.size().min(new_size),
                );
                free_pointer(pointer);
            }
            return moved.as_ptr();
        }
        // SAFETY: GlobalAlloc's contract: a live block of this heap; new_size nonzero.
        match unsafe { HEAP.reallocate(block, new_size) } {
            Ok(moved) => moved.map_or(core::ptr::null_mut(), NonNull::as_ptr),
            Err(error) => misuse(b"realloc", error),
        }
    }
}

#[cfg(not(test))]
#[global_allocator]
static RUNTIME_ALLOCATOR: RuntimeAllocator = RuntimeAllocator;

/// The C-visible functions.
#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::c_void;
    use core::ptr::null_mut;

    fn to_c(block: Option<NonNull<u8>>) -> *mut c_void {
        block.map_or(null_mut(), |block| block.as_ptr().cast())
    }

    /// C `malloc` (C11 7.22.3.4). `malloc(0)` returns a unique pointer, as glibc's.
    #[unsafe(export_name = "__unik_malloc")]
    pub extern "C" fn malloc(size: usize) -> *mut c_void {
        to_c(allocate_or_set_errno(size, MALLOC_ALIGNMENT))
    }

    /// C `calloc` (C11 7.22.3.2): `count * size` overflow gives NULL with ENOMEM.
    #[unsafe(export_name = "__unik_calloc")]
    pub extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        to_c(allocate_zeroed(count, size))
    }

    /// C `free` (C11 7.22.3.3).
    ///
    /// # Safety
    /// `pointer` is NULL or a live block from this allocator.
    #[unsafe(export_name = "__unik_free")]
    pub unsafe extern "C" fn free(pointer: *mut c_void) {
        // SAFETY: caller's contract.
        unsafe { free_pointer(pointer.cast()) }
    }

    /// C `realloc` (C11 7.22.3.5), glibc's edge cases: `realloc(NULL, n)` is
    /// `malloc(n)`; `realloc(p, 0)` frees `p` and returns NULL; on failure `p` stays.
    ///
    /// # Safety
    /// `pointer` is NULL or a live block from this allocator.
    #[unsafe(export_name = "__unik_realloc")]
    pub unsafe extern "C" fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
        let Some(block) = NonNull::new(pointer.cast::<u8>()) else {
            return malloc(size);
        };
        if size == 0 {
            // SAFETY: caller's contract.
            unsafe { free_pointer(block.as_ptr()) };
            return null_mut();
        }
        // SAFETY: caller's contract.
        to_c(unsafe { reallocate_pointer(block.as_ptr(), size) })
    }

    /// glibc/BSD `reallocarray`: `realloc(p, count * size)` with an overflow check.
    ///
    /// # Safety
    /// As `realloc`.
    #[unsafe(export_name = "__unik_reallocarray")]
    pub unsafe extern "C" fn reallocarray(
        pointer: *mut c_void,
        count: usize,
        size: usize,
    ) -> *mut c_void {
        match count.checked_mul(size) {
            // SAFETY: caller's contract.
            Some(total) => unsafe { realloc(pointer, total) },
            None => {
                errno::set(errno::ENOMEM);
                null_mut()
            }
        }
    }

    /// POSIX `posix_memalign`: the alignment must be a power of two multiple of
    /// `sizeof(void *)`; returns 0, EINVAL or ENOMEM and leaves `errno` alone.
    ///
    /// # Safety
    /// `result` is writable.
    #[unsafe(export_name = "__unik_posix_memalign")]
    pub unsafe extern "C" fn posix_memalign(
        result: *mut *mut c_void,
        alignment: usize,
        size: usize,
    ) -> i32 {
        if !alignment.is_power_of_two() || !alignment.is_multiple_of(size_of::<usize>()) {
            return errno::EINVAL;
        }
        match HEAP.allocate(size, alignment) {
            Some(block) => {
                // SAFETY: caller's contract.
                unsafe { result.write(block.as_ptr().cast()) };
                0
            }
            None => errno::ENOMEM,
        }
    }

    /// C11 `aligned_alloc` (7.22.3.1): like glibc 2.38+, a non-power-of-two alignment
    /// gives NULL with EINVAL.
    #[unsafe(export_name = "__unik_aligned_alloc")]
    pub extern "C" fn aligned_alloc(alignment: usize, size: usize) -> *mut c_void {
        if !alignment.is_power_of_two() {
            errno::set(errno::EINVAL);
            return null_mut();
        }
        to_c(allocate_or_set_errno(size, alignment))
    }

    /// Obsolete `memalign`: glibc rounds a non-power-of-two alignment up to one.
    #[unsafe(export_name = "__unik_memalign")]
    pub extern "C" fn memalign(alignment: usize, size: usize) -> *mut c_void {
        match alignment.max(1).checked_next_power_of_two() {
            Some(alignment) => to_c(allocate_or_set_errno(size, alignment)),
            None => {
                errno::set(errno::EINVAL);
                null_mut()
            }
        }
    }

    /// Page size of both targets (4 KiB pages).
    const PAGE_SIZE: usize = 4096;

    /// Obsolete `valloc`: page-aligned `malloc`.
    #[unsafe(export_name = "__unik_valloc")]
    pub extern "C" fn valloc(size: usize) -> *mut c_void {
        to_c(allocate_or_set_errno(size, PAGE_SIZE))
    }

    /// glibc `malloc_usable_size` (0 for NULL).
    ///
    /// # Safety
    /// `pointer` is NULL or a live block from this allocator.
    #[unsafe(export_name = "__unik_malloc_usable_size")]
    pub unsafe extern "C" fn malloc_usable_size(pointer: *mut c_void) -> usize {
        match NonNull::new(pointer.cast::<u8>()) {
            // SAFETY: caller's contract.
            Some(block) => match unsafe { Heap::usable_size(block) } {
                Ok(size) => size,
                Err(error) => misuse(b"malloc_usable_size", error),
            },
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heap_over(buffer: &mut [u8]) -> Heap {
        let heap = Heap::new();
        // SAFETY: the buffer outlives the heap in each test, and only the heap uses it.
        assert!(unsafe { heap.claim(buffer.as_mut_ptr(), buffer.len()) });
        heap
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_reusable() {
        let mut memory = vec![0u8; 1 << 20];
        let heap = heap_over(&mut memory);
        let mut blocks = Vec::new();
        for (index, size) in [0usize, 1, 15, 16, 17, 100, 4096, 10000]
            .into_iter()
            .enumerate()
        {
            let block = heap.allocate(size, MALLOC_ALIGNMENT).unwrap();
            assert_eq!(block.as_ptr() as usize % 16, 0);
            // SAFETY: live block of at least `size` bytes.
            unsafe {
                assert!(Heap::usable_size(block).unwrap() >= size);
                block.as_ptr().write_bytes(index as u8, size);
            }
            blocks.push((block, size, index as u8));
        }
        for (block, size, fill) in &blocks {
            // SAFETY: live blocks.
            let contents = unsafe { core::slice::from_raw_parts(block.as_ptr(), *size) };
            assert!(contents.iter().all(|byte| byte == fill));
        }
        for (block, ..) in blocks {
            // SAFETY: live blocks, released once.
            unsafe { heap.release(block).unwrap() };
        }
        // Everything came back: one block of most of the heap fits again.
        let big = heap.allocate(900_000, 16).unwrap();
        // SAFETY: live block.
        unsafe { heap.release(big).unwrap() };
    }

    #[test]
    fn over_aligned_blocks() {
        let mut memory = vec![0u8; 1 << 20];
        let heap = heap_over(&mut memory);
        for alignment in [32usize, 64, 4096, 65536] {
            let block = heap.allocate(24, alignment).unwrap();
            assert_eq!(block.as_ptr() as usize % alignment, 0);
            // SAFETY: live block.
            unsafe {
                assert!(Heap::usable_size(block).unwrap() >= 24);
                heap.release(block).unwrap();
            }
        }
    }

    #[test]
    fn reallocation_keeps_contents() {
        let mut memory = vec![0u8; 1 << 20];
        let heap = heap_over(&mut memory);
        let block = heap.allocate(10, 16).unwrap();
        // SAFETY: live blocks throughout; each old pointer is not used after reallocate.
        unsafe {
            block.as_ptr().copy_from(b"0123456789".as_ptr(), 10);
            let _blocker = heap.allocate(10, 16).unwrap();
            let grown = heap.reallocate(block, 5000).unwrap().unwrap();
            assert_eq!(
                core::slice::from_raw_parts(grown.as_ptr(), 10),
                b"0123456789"
            );
            let shrunk = heap.reallocate(grown, 4).unwrap().unwrap();
            assert_eq!(core::slice::from_raw_parts(shrunk.as_ptr(), 4), b"0123");
            let aligned = heap.allocate(8, 256).unwrap();
            aligned.as_ptr().copy_from(b"abcdefgh".as_ptr(), 8);
            let moved = heap.reallocate(aligned, 3000).unwrap().unwrap();
            assert_eq!(core::slice::from_raw_parts(moved.as_ptr(), 8), b"abcdefgh");
        }
    }

    #[test]
    fn foreign_and_double_frees_are_caught() {
        let mut memory = vec![0u8; 1 << 16];
        let heap = heap_over(&mut memory);
        let block = heap.allocate(64, 16).unwrap();
        let aligned = heap.allocate(64, 256).unwrap();
        let mut foreign = [0u128; 4];
        // SAFETY: every pointer below has 16 readable bytes beneath it.
        unsafe {
            let inside = NonNull::new_unchecked(foreign.as_mut_ptr().add(2).cast::<u8>());
            assert_eq!(heap.release(inside), Err(BlockError::InvalidPointer));
            assert_eq!(heap.release(block.add(1)), Err(BlockError::InvalidPointer));
            assert_eq!(heap.release(block.add(16)), Err(BlockError::InvalidPointer));
            assert_eq!(heap.release(aligned), Ok(()));
            // The over-aligned block's header is not where talc keeps its own records,
            // so the freed tag survives and the second free is named as such.
            assert_eq!(heap.release(aligned), Err(BlockError::DoubleFree));
            assert_eq!(heap.release(block), Ok(()));
            assert!(heap.release(block).is_err());
        }
    }

    #[test]
    fn exhaustion_gives_none_not_a_crash() {
        let mut memory = vec![0u8; 64 * 1024];
        let heap = heap_over(&mut memory);
        let mut count = 0;
        while heap.allocate(1000, 16).is_some() {
            count += 1;
            assert!(count < 100);
        }
        assert!(count > 30);
        assert!(heap.allocate(usize::MAX, 16).is_none());
        assert!(heap.allocate(usize::MAX - 8, 4096).is_none());
        assert!(heap.allocate(8, 1 << 40).is_none());
    }
}

/// A growable array of plain values on [`HEAP`], for the libc's own lists (atexit
/// handlers, the environment). Unlike `alloc::vec::Vec` it reports exhaustion instead of
/// aborting, and needs no Rust global allocator in the archive.
pub struct Array<T: Copy> {
    pointer: *mut T,
    length: usize,
    capacity: usize,
}

impl<T: Copy> Array<T> {
    pub const fn new() -> Self {
        const { assert!(align_of::<T>() <= MALLOC_ALIGNMENT) };
        Array {
            pointer: core::ptr::null_mut(),
            length: 0,
            capacity: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Makes room for `additional` more values; false when out of memory.
    pub fn reserve(&mut self, additional: usize) -> bool {
        let Some(needed) = self.length.checked_add(additional) else {
            return false;
        };
        if needed <= self.capacity {
            return true;
        }
        let capacity = needed.max(self.capacity.saturating_mul(2)).max(8);
        let Some(bytes) = capacity.checked_mul(size_of::<T>()) else {
            return false;
        };
        let grown = match NonNull::new(self.pointer.cast::<u8>()) {
            // SAFETY: `pointer` is a live block of HEAP owned by this array.
            Some(block) => match unsafe { HEAP.reallocate(block, bytes.max(1)) } {
                Ok(grown) => grown,
                Err(error) => misuse(b"realloc", error),
            },
            None => HEAP.allocate(bytes, MALLOC_ALIGNMENT),
        };
        match grown {
            Some(block) => {
                self.pointer = block.as_ptr().cast();
                self.capacity = capacity;
                true
            }
            None => false,
        }
    }

    /// Appends a value; false (array unchanged) when out of memory.
    pub fn push(&mut self, value: T) -> bool {
        if !self.reserve(1) {
            return false;
        }
        // SAFETY: length < capacity after reserve, inside the block.
        unsafe { self.pointer.add(self.length).write(value) };
        self.length += 1;
        true
    }

    pub fn pop(&mut self) -> Option<T> {
        if self.length == 0 {
            return None;
        }
        self.length -= 1;
        // SAFETY: the value at the old last index was written by push.
        Some(unsafe { self.pointer.add(self.length).read() })
    }

    pub fn as_slice(&self) -> &[T] {
        if self.pointer.is_null() {
            return &[];
        }
        // SAFETY: the first `length` values were written; the block is live.
        unsafe { core::slice::from_raw_parts(self.pointer, self.length) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.pointer.is_null() {
            return &mut [];
        }
        // SAFETY: as for as_slice, and `&mut self` makes the borrow exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.pointer, self.length) }
    }

    /// Removes the value at `index`, keeping the order of the others.
    pub fn remove(&mut self, index: usize) {
        if index < self.length {
            self.as_mut_slice().copy_within(index + 1.., index);
            self.length -= 1;
        }
    }

    /// The address of the first value (for C globals such as `environ`).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.pointer
    }
}

impl<T: Copy> Default for Array<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Host tests that need [`HEAP`] call this first: it claims a leaked buffer once.
#[cfg(test)]
pub fn claim_test_heap() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let memory: &'static mut [u8] = Vec::leak(vec![0u8; 16 << 20]);
        // SAFETY: the leaked buffer is used by nothing else, for ever.
        assert!(unsafe { HEAP.claim(memory.as_mut_ptr(), memory.len()) });
    });
}

#[cfg(test)]
mod array_tests {
    use super::*;

    #[test]
    fn array_grows_pops_and_removes() {
        claim_test_heap();
        let mut array = Array::<u64>::new();
        for value in 0..1000 {
            assert!(array.push(value));
        }
        assert_eq!(array.len(), 1000);
        assert_eq!(array.as_slice()[999], 999);
        array.remove(0);
        assert_eq!(array.as_slice()[0], 1);
        assert_eq!(array.pop(), Some(999));
        assert_eq!(array.len(), 998);
        assert!(!array.reserve(usize::MAX));
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    malloc,
    calloc,
    free,
    realloc,
    reallocarray,
    posix_memalign,
    aligned_alloc,
    memalign,
    valloc,
    malloc_usable_size
);
