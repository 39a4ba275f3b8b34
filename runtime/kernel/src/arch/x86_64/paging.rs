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

use ::x86_64::registers::control::{Cr3, Cr3Flags};
use ::x86_64::structures::paging::mapper::MapToError;
use ::x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageSize, PageTable,
    PageTableFlags as PageTableEntryFlags, PhysFrame, Size2MiB, Size4KiB,
};
use ::x86_64::{PhysAddr, VirtAddr};

use super::entry::BOOTSTRAP_MAP_END;
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

/// Hands the early allocator's pages to the mapper as page-table frames. Only frames
/// the bootstrap identity map covers: the mapper writes them before the switch.
struct TableFrames<'allocator> {
    allocator: &'allocator mut BootAllocator,
}

// SAFETY: each frame comes from the early allocator, which never hands out a page
// twice, and lies in RAM that nothing else uses.
unsafe impl FrameAllocator<Size4KiB> for TableFrames<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let address = self.allocator.allocate(PAGE_SIZE)?;
        if address + PAGE_SIZE > BOOTSTRAP_MAP_END {
            return None;
        }
        PhysFrame::from_start_address(PhysAddr::new(address)).ok()
    }
}

/// Builds the final tables.
struct Builder<'allocator> {
    mapper: OffsetPageTable<'static>,
    frames: TableFrames<'allocator>,
    level_4_frame: PhysFrame,
    execute_disable: bool,
}

impl<S: PageSize> From<MapToError<S>> for PagingError {
    fn from(error: MapToError<S>) -> Self {
        match error {
            MapToError::FrameAllocationFailed => Self::OutOfTableFrames,
            MapToError::ParentEntryHugePage => Self::Overlap { address: 0 },
            MapToError::PageAlreadyMapped(frame) => Self::Overlap {
                address: frame.start_address().as_u64(),
            },
        }
    }
}

impl Builder<'_> {
    fn entry_flags(&self, access: Access) -> PageTableEntryFlags {
        let mut flags = PageTableEntryFlags::PRESENT;
        if matches!(access, Access::Write) {
            flags |= PageTableEntryFlags::WRITABLE;
        }
        // Without EFER.NXE bit 63 is reserved: setting it would fault on every access.
        if self.execute_disable && !matches!(access, Access::Execute) {
            flags |= PageTableEntryFlags::NO_EXECUTE;
        }
        flags
    }

    /// Maps the whole pages of the physical `range` at `offset` bytes above it (0: an
    /// identity map); with `large_pages`, 2 MiB pages where the range allows (fewer
    /// tables, fewer TLB misses for the heap).
    fn map(
        &mut self,
        range: PhysicalRange,
        offset: u64,
        access: Access,
        large_pages: bool,
    ) -> Result<(), PagingError> {
        let flags = self.entry_flags(access);
        // Intermediate entries allow everything; the last level decides (SDM 5.6.1:
        // access rights combine with AND for write, OR for execute-disable).
        let parent_flags = PageTableEntryFlags::PRESENT | PageTableEntryFlags::WRITABLE;
        let range = range.page_aligned_inside();
        let mut address = range.start;
        while address < range.end {
            let large_fits =
                address.is_multiple_of(Size2MiB::SIZE) && range.end - address >= Size2MiB::SIZE;
            if large_pages && large_fits {
                let page = Page::<Size2MiB>::containing_address(VirtAddr::new_truncate(
                    address.wrapping_add(offset),
                ));
                let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(address));
                // SAFETY: a mapping of RAM for this address space; the tables
                // are not active yet, so nothing observes the change (flush ignored).
                unsafe {
                    self.mapper
                        .map_to_with_table_flags(
                            page,
                            frame,
                            flags,
                            parent_flags,
                            &mut self.frames,
                        )?
                        .ignore();
                }
                address += Size2MiB::SIZE;
            } else {
                let page = Page::<Size4KiB>::containing_address(VirtAddr::new_truncate(
                    address.wrapping_add(offset),
                ));
                let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(address));
                // SAFETY: as above.
                unsafe {
                    self.mapper
                        .map_to_with_table_flags(
                            page,
                            frame,
                            flags,
                            parent_flags,
                            &mut self.frames,
                        )?
                        .ignore();
                }
                address += Size4KiB::SIZE;
            }
        }
        Ok(())
    }

    /// Removes the 4 KiB mapping of one page (a guard page).
    fn unmap_page(&mut self, address: u64) {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new_truncate(address));
        // The page was mapped with 4 KiB pages just before (the image never uses large
        // pages), so this succeeds; if not, the page is not mapped, which is the goal.
        if let Ok((_, flush)) = self.mapper.unmap(page) {
            flush.ignore();
        }
    }
}

/// The address space the program runs in, ready to be loaded into CR3.
pub struct AddressSpace {
    level_4_frame: PhysFrame,
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
    let mut frames = TableFrames { allocator };
    let level_4_frame = frames
        .allocate_frame()
        .ok_or(PagingError::OutOfTableFrames)?;
    let level_4_address = level_4_frame.start_address().as_u64();
    // SAFETY: the frame is a fresh page of unused RAM, identity mapped by the bootstrap
    // map; zeroed before being viewed as a page table, and owned by the tables from now
    // on (never freed).
    let level_4_table = unsafe {
        core::ptr::write_bytes(level_4_address as *mut u8, 0, PAGE_SIZE as usize);
        &mut *(level_4_address as *mut PageTable)
    };
    // SAFETY: with the identity map, a physical address is its own virtual address
    // (offset 0) for every frame the builder allocates (all below BOOTSTRAP_MAP_END).
    let mapper = unsafe { OffsetPageTable::new(level_4_table, VirtAddr::zero()) };
    let mut builder = Builder {
        mapper,
        frames,
        level_4_frame,
        execute_disable: cpu::has_execute_disable(),
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
    Ok(AddressSpace {
        level_4_frame: builder.level_4_frame,
    })
}

impl AddressSpace {
    /// Switches to these tables.
    ///
    /// # Safety
    /// The tables must map everything in use from here on: the running code, the boot
    /// and exception stacks, the descriptor tables, and the boot data (all are part of
    /// the image or the boot data `build` mapped).
    pub unsafe fn activate(&self) {
        // SAFETY: the caller's contract; loading CR3 also flushes the old translations.
        unsafe { Cr3::write(self.level_4_frame, Cr3Flags::empty()) };
    }
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
