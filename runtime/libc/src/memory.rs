//! The `malloc` family over the `talc` allocator.
//!
//! Every block starts with a [`Header`] just below the pointer handed to C, recording
//! what `free` needs to give the block back (C's `free` gets no size). Blocks are
//! 16-byte aligned, as glibc's on x86_64 and aarch64 (`MALLOC_ALIGNMENT`), so a
//! `long double` or SSE vector fits anywhere `malloc` returns. Over-aligned requests
//! (`memalign` & co.) allocate `alignment` extra bytes and place the pointer inside.
//!
//! Heap checks (light, always on): `free`, `realloc` and `malloc_usable_size` tell
//! apart, and end the program with a report naming the fault and the address (status
//! 134, as glibc's `malloc_printerr` aborts):
//!
//! - an **invalid pointer**: not from this heap (outside it, misaligned) or not the
//!   start of a block (an interior pointer) — two bitmaps per heap region with one bit
//!   per 16-byte granule (together 1/64 of the region) record where live blocks start
//!   and where freed ones started;
//! - a **double free**: no live block starts there, but a freed one did (and `malloc`
//!   has not returned that address again since);
//! - a **corrupted chunk header**: a live block starts there but its header fails its
//!   check — a 32-bit keyed hash of the address, offset, size and state, with a secret
//!   drawn from the random generator at start (a fixed one without a hardware random
//!   source), so an overflow from the block below cannot write a valid header back.
//!
//! Out of memory is never fatal: the C functions return NULL with `errno = ENOMEM`.
//! One global heap behind talc's lock (`spinning_top`): uncontended today, correct
//! when threads arrive.

use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use talc::source::Manual;

use crate::errno;

/// glibc's `MALLOC_ALIGNMENT` on x86_64 and aarch64.
pub const MALLOC_ALIGNMENT: usize = 16;

/// The bookkeeping below every block handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Header {
    /// The check value in the upper 32 bits ([`check`] for the live or freed state), and
    /// the distance from the start of talc's allocation to the user pointer in the lower
    /// 32.
    tagged_offset: usize,
    /// Size of talc's allocation (its layout has alignment [`MALLOC_ALIGNMENT`]).
    total_size: usize,
}

const HEADER_SIZE: usize = size_of::<Header>();
const _: () = assert!(HEADER_SIZE <= MALLOC_ALIGNMENT);

/// The state mixed into a live block's check value.
const LIVE_TAG: usize = 0x756e_696b;
/// The state mixed into a freed block's check value (a stale header never passes for a
/// live one).
const FREED_TAG: usize = 0x6672_6565;
/// Bytes of heap per bit of the block-start bitmap.
const GRANULE: usize = MALLOC_ALIGNMENT;
const TAG_SHIFT: u32 = 32;
/// The largest alignment a request may ask for: its offset must fit the lower 32 bits.
const MAXIMUM_ALIGNMENT: usize = 1 << 31;

/// Why a pointer given to `free`/`realloc` cannot be a live block of this heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// Not a pointer `malloc` returned: outside the heap, misaligned, or inside a block.
    InvalidPointer,
    /// The block was freed already.
    DoubleFree,
    /// A block starts here, but its header was overwritten.
    CorruptedHeader,
}

impl BlockError {
    /// glibc's wording where it has one (malloc/malloc.c `malloc_printerr` messages).
    pub fn description(self) -> &'static [u8] {
        match self {
            BlockError::InvalidPointer => b"invalid pointer",
            BlockError::DoubleFree => b"double free detected",
            BlockError::CorruptedHeader => {
                b"corrupted chunk header (overwritten, e.g. by an overflow of the block below)"
            }
        }
    }
}

/// The header's check value: a keyed 64-bit mix (SplitMix64's finaliser) of the
/// secret, the user address, offset, size and state, folded to 32 bits.
fn check(secret: u64, user: usize, offset: usize, total_size: usize, state: usize) -> usize {
    let mut mixed = secret
        ^ (user as u64)
        ^ (total_size as u64).rotate_left(21)
        ^ ((offset as u64) << 40)
        ^ (state as u64).rotate_left(7);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    mixed ^= mixed >> 31;
    ((mixed >> 32) ^ (mixed & 0xffff_ffff)) as usize
}

impl Header {
    fn new(secret: u64, user: usize, offset: usize, total_size: usize, state: usize) -> Header {
        Header {
            tagged_offset: (check(secret, user, offset, total_size, state) << TAG_SHIFT) | offset,
            total_size,
        }
    }

    /// The block's `(offset, total_size)` if the header is valid for `state`.
    fn decode(self, secret: u64, user: usize, state: usize) -> Option<(usize, usize)> {
        let offset = self.tagged_offset & ((1 << TAG_SHIFT) - 1);
        let consistent = offset >= HEADER_SIZE
            && offset.is_multiple_of(MALLOC_ALIGNMENT)
            && self.total_size >= offset
            && self.tagged_offset >> TAG_SHIFT
                == check(secret, user, offset, self.total_size, state);
        consistent.then_some((offset, self.total_size))
    }
}

/// One region the heap claimed, with its block-start bitmaps.
struct Region {
    /// The bitmaps (one bit per [`GRANULE`] from `start`): where live blocks start,
    /// then (`words` later) where freed blocks started. Null while unused.
    starts: AtomicPtr<AtomicU64>,
    words: AtomicUsize,
    start: AtomicUsize,
    /// The lowest address a block's user pointer can have here, and the region's end.
    first_user: AtomicUsize,
    end: AtomicUsize,
}

impl Region {
    const fn new() -> Self {
        Region {
            starts: AtomicPtr::new(core::ptr::null_mut()),
            words: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            first_user: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
        }
    }

    /// Whether `user` can be a block of this region (aligned, inside it).
    fn holds(&self, user: usize) -> bool {
        !self.starts.load(Ordering::Acquire).is_null()
            && user >= self.first_user.load(Ordering::Relaxed)
            && user < self.end.load(Ordering::Relaxed)
    }
}

/// How many separate regions a heap takes (the kernel hands over one or two).
const MAXIMUM_REGIONS: usize = 4;

/// A heap: talc plus the header protocol and the block-start bitmaps above.
pub struct Heap {
    talc: talc::TalcLock<spinning_top::RawSpinlock, Manual>,
    regions: [Region; MAXIMUM_REGIONS],
    /// Serialises `claim`s (the bitmaps are set up before a region is published).
    claiming: AtomicBool,
    secret: AtomicU64,
}

impl Heap {
    pub const fn new() -> Self {
        Heap {
            talc: talc::TalcLock::new(Manual),
            regions: [const { Region::new() }; MAXIMUM_REGIONS],
            claiming: AtomicBool::new(false),
            secret: AtomicU64::new(0),
        }
    }

    /// Gives the allocator the memory `start..start + length`; the first 1/64 of it
    /// becomes the region's block-start bitmaps. `secret` keys the header checks (the
    /// first claim's is kept). Returns false when the region is too small, or the heap
    /// has [`MAXIMUM_REGIONS`] already.
    ///
    /// # Safety
    /// The region is readable and writable, and nothing else uses it for as long as the
    /// heap lives.
    pub unsafe fn claim(&self, start: *mut u8, length: usize, secret: u64) -> bool {
        while self
            .claiming
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the caller's contract, passed on.
        let claimed = unsafe { self.claim_locked(start, length, secret) };
        self.claiming.store(false, Ordering::Release);
        claimed
    }

    /// [`Heap::claim`] with the claim lock held.
    ///
    /// # Safety
    /// As [`Heap::claim`].
    unsafe fn claim_locked(&self, start: *mut u8, length: usize, secret: u64) -> bool {
        let Some(region) = self
            .regions
            .iter()
            .find(|region| region.starts.load(Ordering::Acquire).is_null())
        else {
            return false;
        };
        let region_start = start as usize;
        let bitmap_start = region_start.next_multiple_of(align_of::<AtomicU64>());
        let Some(region_end) = region_start.checked_add(length) else {
            return false;
        };
        let words = length.div_ceil(GRANULE * 64);
        let bitmap_end = bitmap_start + 2 * words * size_of::<AtomicU64>();
        if bitmap_end >= region_end {
            return false;
        }
        // SAFETY: [bitmap_start, bitmap_end) lies inside the caller's region (checked
        // above), aligned for AtomicU64; zeroed before use, and never given to talc.
        unsafe { core::ptr::write_bytes(bitmap_start as *mut u8, 0, bitmap_end - bitmap_start) };
        // SAFETY: the rest of the region, handed over exclusively by the caller.
        let claimed = unsafe {
            self.talc
                .lock()
                .claim(bitmap_end as *mut u8, region_end - bitmap_end)
        }
        .is_some();
        if !claimed {
            return false;
        }
        if self.regions[0].starts.load(Ordering::Acquire).is_null() {
            self.secret.store(secret, Ordering::Relaxed);
        }
        region.start.store(region_start, Ordering::Relaxed);
        region
            .first_user
            .store(bitmap_end + HEADER_SIZE, Ordering::Relaxed);
        region.end.store(region_end, Ordering::Relaxed);
        region.words.store(words, Ordering::Relaxed);
        region
            .starts
            .store(bitmap_start as *mut AtomicU64, Ordering::Release);
        true
    }

    /// The region that can hold a block at `user`.
    fn region_of(&self, user: usize) -> Option<&Region> {
        if !user.is_multiple_of(MALLOC_ALIGNMENT) {
            return None;
        }
        self.regions.iter().find(|region| region.holds(user))
    }

    /// The live-start and freed-start bitmap words for `user` (inside `region`), and
    /// its bit in both.
    fn start_bits(region: &Region, user: usize) -> (&AtomicU64, &AtomicU64, u64) {
        let index = (user - region.start.load(Ordering::Relaxed)) / GRANULE;
        let starts = region.starts.load(Ordering::Acquire);
        let words = region.words.load(Ordering::Relaxed);
        // SAFETY: `user` is inside the region (callers check with `holds`), so the
        // word index is below `words`, each bitmap's length; the bitmaps live as long
        // as the heap.
        let (live, freed) = unsafe { (&*starts.add(index / 64), &*starts.add(words + index / 64)) };
        (live, freed, 1 << (index % 64))
    }

    /// Writes the block header below `user` (its offset in the talc allocation, the
    /// allocation's size and `state`, sealed with the heap's secret).
    ///
    /// # Safety
    /// The 16 bytes below `user` are writable, 16-byte aligned and this heap's to write.
    unsafe fn write_header(
        &self,
        user: NonNull<u8>,
        offset: usize,
        total_size: usize,
        state: usize,
    ) {
        let header = Header::new(
            self.secret.load(Ordering::Relaxed),
            user.as_ptr() as usize,
            offset,
            total_size,
            state,
        );
        // SAFETY: caller's contract.
        unsafe { user.cast::<Header>().sub(1).write(header) };
    }

    /// The `(offset, total_size)` of the live block at `user`, checked; with `claim`,
    /// the block is marked as no longer live (exactly one caller wins that).
    ///
    /// # Safety
    /// None beyond the heap's own invariants: `user` is only read after it is known to
    /// lie inside the heap.
    unsafe fn checked_block(
        &self,
        user: NonNull<u8>,
        claim: bool,
    ) -> Result<(usize, usize), BlockError> {
        let address = user.as_ptr() as usize;
        let region = self.region_of(address).ok_or(BlockError::InvalidPointer)?;
        let secret = self.secret.load(Ordering::Relaxed);
        // SAFETY: user - 16 >= first_user - 16, inside the region (readable).
        let header = unsafe { user.cast::<Header>().sub(1).read() };
        let (word, freed, bit) = Self::start_bits(region, address);
        let live = if claim {
            word.fetch_and(!bit, Ordering::AcqRel) & bit != 0
        } else {
            word.load(Ordering::Acquire) & bit != 0
        };
        if !live {
            return Err(if freed.load(Ordering::Acquire) & bit != 0 {
                BlockError::DoubleFree
            } else {
                BlockError::InvalidPointer
            });
        }
        match header.decode(secret, address, LIVE_TAG) {
            Some(block) => {
                if claim {
                    freed.fetch_or(bit, Ordering::AcqRel);
                }
                Ok(block)
            }
            None => {
                if claim {
                    // Leave the block as it was: the report ends the program anyway.
                    word.fetch_or(bit, Ordering::AcqRel);
                }
                Err(BlockError::CorruptedHeader)
            }
        }
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
        unsafe { self.write_header(user, offset, total_size, LIVE_TAG) };
        // Talc hands out only memory of claimed regions, so one holds the block.
        if let Some(region) = self.region_of(user.as_ptr() as usize) {
            let (word, freed, bit) = Self::start_bits(region, user.as_ptr() as usize);
            freed.fetch_and(!bit, Ordering::AcqRel);
            word.fetch_or(bit, Ordering::AcqRel);
        }
        Some(user)
    }

    /// Gives a block back; an error (nothing released) when `user` is not a live block.
    ///
    /// # Safety
    /// `user` was returned by this heap (a pointer that was not is caught as long as its
    /// 16 bytes below are readable and do not happen to look like a header).
    pub unsafe fn release(&self, user: NonNull<u8>) -> Result<(), BlockError> {
        // SAFETY: caller's contract.
        let (offset, total_size) = unsafe { self.checked_block(user, true) }?;
        // SAFETY: base and layout are those of the talc allocation (recorded in the
        // header, which is ours to overwrite until the block is given back).
        unsafe {
            self.write_header(user, offset, total_size, FREED_TAG);
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
    pub unsafe fn usable_size(&self, user: NonNull<u8>) -> Result<usize, BlockError> {
        // SAFETY: caller's contract.
        let (offset, total_size) = unsafe { self.checked_block(user, false) }?;
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
        let (offset, total_size) = unsafe { self.checked_block(user, false) }?;
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
                unsafe { self.write_header(user, offset, new_total, LIVE_TAG) };
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
/// `malloc_printerr` does: `unik: free(): invalid pointer: 0x…`, status 134 (SIGABRT).
pub fn misuse(function: &[u8], error: BlockError, pointer: *const u8) -> ! {
    let mut hexadecimal = [0u8; 18];
    crate::process::abort_with(&[
        b"unik: ",
        function,
        b"(): ",
        error.description(),
        b": ",
        hex_address(pointer as usize, &mut hexadecimal),
        b"\n",
    ])
}

/// `0x…` for `value` (lowercase, no leading zeros), in `buffer`.
fn hex_address(value: usize, buffer: &mut [u8; 18]) -> &[u8] {
    let digits = (usize::BITS - value.leading_zeros()).div_ceil(4).max(1) as usize;
    buffer[0] = b'0';
    buffer[1] = b'x';
    for index in 0..digits {
        let nibble = (value >> (4 * (digits - 1 - index))) & 0xf;
        buffer[2 + index] = b"0123456789abcdef"[nibble];
    }
    &buffer[..2 + digits]
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
            misuse(b"free", error, pointer);
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
        Err(error) => misuse(b"realloc", error, pointer),
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
            Err(error) => misuse(b"realloc", error, pointer),
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
            Some(block) => match unsafe { HEAP.usable_size(block) } {
                Ok(size) => size,
                Err(error) => misuse(b"malloc_usable_size", error, block.as_ptr()),
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
        assert!(unsafe { heap.claim(buffer.as_mut_ptr(), buffer.len(), 0x5eed) });
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
                assert!(heap.usable_size(block).unwrap() >= size);
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
                assert!(heap.usable_size(block).unwrap() >= 24);
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
    fn foreign_double_and_corrupted_frees_are_told_apart() {
        let mut memory = vec![0u8; 1 << 16];
        let heap = heap_over(&mut memory);
        let block = heap.allocate(64, 16).unwrap();
        let aligned = heap.allocate(64, 256).unwrap();
        let neighbour = heap.allocate(32, 16).unwrap();
        let mut foreign = [0u128; 4];
        // SAFETY: every pointer below is either outside the heap (never read) or
        // inside it with 16 readable bytes beneath.
        unsafe {
            let outside = NonNull::new_unchecked(foreign.as_mut_ptr().add(2).cast::<u8>());
            assert_eq!(heap.release(outside), Err(BlockError::InvalidPointer));
            assert_eq!(heap.release(block.add(1)), Err(BlockError::InvalidPointer));
            // An interior pointer, 16-byte aligned, whose "header" is user data.
            assert_eq!(heap.release(block.add(32)), Err(BlockError::InvalidPointer));
            assert_eq!(
                heap.usable_size(block.add(16)),
                Err(BlockError::InvalidPointer)
            );
            assert_eq!(heap.release(aligned), Ok(()));
            assert_eq!(heap.release(aligned), Err(BlockError::DoubleFree));
            assert_eq!(heap.release(block), Ok(()));
            // talc reuses a plain block's header for its own records: the bitmap
            // still names the second free.
            assert_eq!(heap.release(block), Err(BlockError::DoubleFree));
            // Returned again by malloc, the address is live again.
            let again = heap.allocate(64, 16).unwrap();
            assert_eq!(heap.release(again), Ok(()));
            // An overflow into the next block's header: still a block start, header
            // no longer valid.
            let header = neighbour.as_ptr().sub(HEADER_SIZE);
            header.write_bytes(b'A', 8);
            assert_eq!(heap.release(neighbour), Err(BlockError::CorruptedHeader));
            assert_eq!(
                heap.usable_size(neighbour),
                Err(BlockError::CorruptedHeader)
            );
            assert!(heap.reallocate(neighbour, 8).is_err());
        }
    }

    #[test]
    fn a_second_region_gets_its_own_checks() {
        let mut first = vec![0u8; 1 << 14];
        let mut second = vec![0u8; 1 << 18];
        let heap = heap_over(&mut first);
        // SAFETY: the buffer outlives the heap, and only the heap uses it.
        assert!(unsafe { heap.claim(second.as_mut_ptr(), second.len(), 0) });
        // Too big for the first region: it comes from the second.
        let block = heap.allocate(100_000, 16).unwrap();
        let address = block.as_ptr() as usize;
        assert!(address > second.as_ptr() as usize);
        // SAFETY: live block, then freed once; the interior pointer has 16 readable
        // bytes below it.
        unsafe {
            assert_eq!(heap.release(block.add(64)), Err(BlockError::InvalidPointer));
            assert_eq!(heap.release(block), Ok(()));
            assert_eq!(heap.release(block), Err(BlockError::DoubleFree));
        }
    }

    #[test]
    fn headers_depend_on_the_secret() {
        let live = Header::new(1, 0x1000, 16, 64, LIVE_TAG);
        assert_eq!(live.decode(1, 0x1000, LIVE_TAG), Some((16, 64)));
        assert_eq!(live.decode(2, 0x1000, LIVE_TAG), None);
        assert_eq!(live.decode(1, 0x1010, LIVE_TAG), None);
        assert_eq!(live.decode(1, 0x1000, FREED_TAG), None);
    }

    #[test]
    fn addresses_in_reports() {
        let mut buffer = [0u8; 18];
        assert_eq!(hex_address(0, &mut buffer), b"0x0");
        assert_eq!(hex_address(0x4021_f0, &mut buffer), b"0x4021f0");
        assert_eq!(hex_address(usize::MAX, &mut buffer), b"0xffffffffffffffff");
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
        // A new block, the values copied, the old one released: not Heap::reallocate,
        // which a program that never calls realloc would link only for this (~950 B).
        let Some(grown) = HEAP.allocate(bytes.max(1), MALLOC_ALIGNMENT) else {
            return false;
        };
        if let Some(block) = NonNull::new(self.pointer.cast::<u8>()) {
            // SAFETY: `pointer` is a live block of HEAP owned by this array holding
            // `length` values; `grown` is a new block with room for `capacity` >= length.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    self.pointer,
                    grown.as_ptr().cast::<T>(),
                    self.length,
                );
                if let Err(error) = HEAP.release(block) {
                    misuse(b"free", error, block.as_ptr());
                }
            }
        }
        self.pointer = grown.as_ptr().cast();
        self.capacity = capacity;
        true
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
        assert!(unsafe { HEAP.claim(memory.as_mut_ptr(), memory.len(), 0x5eed) });
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
