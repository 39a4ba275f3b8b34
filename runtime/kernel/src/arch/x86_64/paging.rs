//! The final page tables, built from the image's sections so each part has only the
//! access it needs (DESIGN.md decision 6): the image at its run addresses (a random
//! base with ASLR, aslr.rs; the link address without), everything else an identity map
//! (virtual = physical):
//!
//! | range | access |
//! |---|---|
//! | below the image (page 0, firmware area) | unmapped: a NULL or low pointer faults |
//! | .text | read + execute |
//! | .rodata, notes, unwind and constructor tables, TLS template | read only, no execute |
//! | .data, .bss | read + write, no execute |
//! | one page under each stack | unmapped: an overflow faults instead of corrupting |
//! | boot data after the image, the heap | read + write, no execute (2 MiB pages where aligned) |
//! | the initrd (boot archive), if any | read only, no execute |
//!
//! CR0.WP is on (entry code), so writes to read-only pages fault in ring 0 too.
//! Formats: Intel SDM vol. 3A 5.5 "4-Level Paging and 5-Level Paging".

use ::x86_64::PhysAddr;
use ::x86_64::registers::control::{Cr3, Cr3Flags};
use ::x86_64::structures::paging::PhysFrame;

use super::entry::BOOTSTRAP_MAP_END;
use super::page_walk::{
    self, EXECUTE_DISABLE, PAGE_SIZE_BIT, PRESENT, WRITABLE, WalkError, level_size,
};
use super::{cpu, image};
use crate::memory::{BootAllocator, MemoryPlan, PAGE_SIZE, PhysicalRange};

/// What a range of the address space may be used for.
#[derive(Clone, Copy)]
enum Access {
    /// Code: readable and executable, never writable.
    Execute,
    /// Constants: readable only.
    Read,
    /// Data: readable and writable, never executable.
    Write,
}

/// Why the page tables could not be built.
pub enum PagingError {
    /// The early allocator ran out of memory (or out of the bootstrap map) for tables.
    OutOfTableFrames,
    /// A range was mapped twice: overlapping sections, a bug in the linker script.
    Overlap { address: u64 },
}

/// Builds the final tables.
struct Builder<'allocator> {
    /// The level-4 table's (physical = identity-mapped) address.
    root: u64,
    allocator: &'allocator mut BootAllocator,
    execute_disable: bool,
    /// The largest leaf level the identity map may use: 3 (1 GiB pages) when the CPU
    /// has them, else 2 (2 MiB).
    largest_level: u32,
}

impl Builder<'_> {
    /// The entry for `address` at `level`, new tables from the early allocator: only
    /// frames the bootstrap identity map covers, as the builder writes them before the
    /// switch.
    fn entry(&mut self, address: u64, level: u32) -> Result<*mut u64, PagingError> {
        let allocator = &mut *self.allocator;
        let mut new_table = || {
            let frame = allocator.allocate(PAGE_SIZE)?;
            (frame + PAGE_SIZE <= BOOTSTRAP_MAP_END).then_some(frame)
        };
        // SAFETY: the tables are the builder's own, in boot data the bootstrap map
        // identity maps; the early allocator never hands out a page twice.
        unsafe { page_walk::entry(self.root, address, level, &mut new_table) }.map_err(|error| {
            match error {
                WalkError::NoTable => PagingError::OutOfTableFrames,
                WalkError::InsideLargePage => PagingError::Overlap { address },
            }
        })
    }

    /// Maps the whole pages of the physical `range` at `offset` bytes above it (0: an
    /// identity map); with `large_pages`, 2 MiB or 1 GiB pages where the range allows
    /// (fewer tables, a shorter loop, fewer TLB misses for the heap).
    fn map(
        &mut self,
        range: PhysicalRange,
        offset: u64,
        access: Access,
        large_pages: bool,
    ) -> Result<(), PagingError> {
        let mut flags = PRESENT;
        if matches!(access, Access::Write) {
            flags |= WRITABLE;
        }
        // Without EFER.NXE bit 63 is reserved: setting it would fault on every access.
        if self.execute_disable && !matches!(access, Access::Execute) {
            flags |= EXECUTE_DISABLE;
        }
        let range = range.page_aligned_inside();
        let mut address = range.start;
        while address < range.end {
            let mut level = if large_pages { self.largest_level } else { 1 };
            while level > 1
                && !(address.is_multiple_of(level_size(level))
                    && range.end - address >= level_size(level))
            {
                level -= 1;
            }
            let virtual_address = address.wrapping_add(offset);
            let entry = self.entry(virtual_address, level)?;
            // SAFETY: the entry lies in one of the builder's identity-mapped tables; the
            // tables are not active yet, so nothing observes the change (no flush).
            unsafe {
                if entry.read_volatile() & PRESENT != 0 {
                    return Err(PagingError::Overlap {
                        address: virtual_address,
                    });
                }
                let size_bit = if level > 1 { PAGE_SIZE_BIT } else { 0 };
                entry.write_volatile(address | flags | size_bit);
            }
            address += level_size(level);
        }
        Ok(())
    }

    /// Removes the 4 KiB mapping of one page (a guard page). The image never uses large
    /// pages, so the page has its own entry; if not, the page is not mapped, which is
    /// the goal.
    fn unmap_page(&mut self, address: u64) {
        // SAFETY: as in `entry`; without `new_table` the walk adds no table.
        if let Ok(entry) = unsafe { page_walk::entry(self.root, address, 1, &mut || None) } {
            // SAFETY: as in `map`.
            unsafe { entry.write_volatile(0) };
        }
    }
}

/// The address space the program runs in, ready to be loaded into CR3.
pub struct AddressSpace {
    root: u64,
}

/// Builds the final page tables from the image's sections and the memory plan. The
/// image is mapped only at its run addresses, `image_offset` bytes above its physical
/// place (ASLR, aslr.rs); everything else is identity mapped. The tables themselves
/// come from `allocator` (the boot data after the image, mapped RW).
///
/// # Safety
/// The bootstrap identity map must be active (the builder writes the new tables
/// through it), and `plan` must describe RAM that nothing else uses.
pub unsafe fn build(
    plan: &MemoryPlan,
    allocator: &mut BootAllocator,
    image_offset: u64,
) -> Result<AddressSpace, PagingError> {
    let root = match allocator.allocate(PAGE_SIZE) {
        Some(root) if root + PAGE_SIZE <= BOOTSTRAP_MAP_END => root,
        _ => return Err(PagingError::OutOfTableFrames),
    };
    // SAFETY: the frame is a fresh page of unused RAM, identity mapped by the bootstrap
    // map, zeroed before being used as a table and owned by the tables from now on.
    unsafe { core::ptr::write_bytes(root as *mut u8, 0, PAGE_SIZE as usize) };
    let mut builder = Builder {
        root,
        allocator,
        execute_disable: cpu::has_execute_disable(),
        largest_level: if cpu::has_1_gib_pages() { 3 } else { 2 },
    };

    // The image's ranges are run addresses; the read-only range also holds the words
    // the relocation wrote (RELRO).
    for (range, access) in [
        (image::text(), Access::Execute),
        (image::rodata(), Access::Read),
        (image::data(), Access::Write),
    ] {
        let physical = crate::aslr::physical(range, image_offset);
        builder.map(physical, image_offset, access, false)?;
    }
    for guard in image::guard_pages() {
        builder.unmap_page(guard.start);
    }
    // Boot data (these very tables, the command line, the TLS block) and the heap.
    builder.map(plan.after_image, 0, Access::Write, true)?;
    if plan.heap != plan.after_image {
        builder.map(plan.heap, 0, Access::Write, true)?;
    }
    // The boot archive: read by the files component, never written or executed.
    builder.map(plan.initrd, 0, Access::Read, true)?;
    Ok(AddressSpace { root })
}

impl AddressSpace {
    /// Switches to these tables.
    ///
    /// # Safety
    /// The tables must map everything in use from here on: the running code, the boot
    /// and exception stacks, the descriptor tables, and the boot data (all are part of
    /// the image or the boot data `build` mapped).
    pub unsafe fn activate(&self) {
        let frame = PhysFrame::containing_address(PhysAddr::new(self.root));
        // SAFETY: the caller's contract; loading CR3 also flushes the old translations.
        unsafe { Cr3::write(frame, Cr3Flags::empty()) };
    }
}

/// Runs `read` with the entry code's identity map of the first GiB (its level-3 table,
/// `unik_boot_pdpt`: 2 MiB pages, read-write-execute) in place of the live tables'
/// identity map (level-4 entry 0), interrupts off: for reading firmware tables in low
/// memory, which the final tables leave unmapped (acpi.rs, when the exit path first
/// needs them). The rest stays: the image at its run addresses, the threads' stacks.
/// RAM above the first GiB is out of reach meanwhile.
///
/// # Safety
/// `read` may touch only the first GiB, the image and the current stack.
pub unsafe fn with_bootstrap_identity_map<T>(read: impl FnOnce() -> T) -> T {
    ::x86_64::instructions::interrupts::without_interrupts(|| {
        let (frame, flags) = Cr3::read();
        let entry = frame.start_address().as_u64() as *mut u64;
        // The entry code wrote the table at its physical address, where it still is.
        let bootstrap =
            crate::symbol_address!(super::entry::unik_boot_pdpt) - crate::aslr::image_offset();
        // SAFETY: the level-4 table is boot data below BOOTSTRAP_MAP_END (`build`),
        // identity mapped by both the live and the bootstrap entry 0, so it stays
        // writable across the swap; the bootstrap table maps the first GiB as the entry
        // code left it; reloading CR3 drops the old translations. Interrupts are off,
        // so nothing else runs inside the window, and `read` keeps to what both maps
        // reach (the caller's contract).
        unsafe {
            let saved = entry.read_volatile();
            entry.write_volatile(bootstrap | PRESENT | WRITABLE);
            Cr3::write(frame, flags);
            let result = read();
            entry.write_volatile(saved);
            Cr3::write(frame, flags);
            result
        }
    })
}

/// Why the live tables fail the W^X check.
pub enum WriteExecuteError {
    /// A translation is writable and executable.
    Page { address: u64, size: u64 },
    /// CR0.WP is off: ring 0 could write read-only pages.
    WriteProtectOff,
}

/// The boot-time W^X self-check: walks the live tables (from CR3) and fails when any
/// translation is writable and executable, or when CR0.WP does not make read-only
/// pages read-only for the kernel too.
pub fn verify_write_xor_execute() -> Result<(), WriteExecuteError> {
    use ::x86_64::registers::control::{Cr0, Cr0Flags};
    if !Cr0::read().contains(Cr0Flags::WRITE_PROTECT) {
        return Err(WriteExecuteError::WriteProtectOff);
    }
    let (frame, _) = Cr3::read();
    let read = |table: u64, index: usize| {
        // SAFETY: every table frame is identity mapped (boot data, mapped read-write by
        // `build`, or a runtime table frame from the identity-mapped heap) and holds
        // 512 entries; the read has no side effect.
        unsafe { ((table as usize + index * 8) as *const u64).read_volatile() }
    };
    match super::page_walk::find_writable_executable(
        frame.start_address().as_u64(),
        cpu::has_execute_disable(),
        &read,
    ) {
        Some(found) => Err(WriteExecuteError::Page {
            address: found.address,
            size: found.size,
        }),
        None => Ok(()),
    }
}

/// Whether reading 8 bytes at `address` is safe under the final tables: used by the
/// crash report's backtrace, which must never fault. Only the boot stack qualifies
/// (frame pointers live there), which keeps the check simple and exact.
pub fn is_readable_stack_word(address: u64) -> bool {
    let stack = image::boot_stack();
    let in_boot_stack =
        stack.start <= address && address.checked_add(8).is_some_and(|end| end <= stack.end);
    // Threads' stacks: inside the stack region and mapped (an aligned word never
    // crosses a page).
    address.is_multiple_of(8) && (in_boot_stack || crate::sched::is_thread_stack_address(address))
}
