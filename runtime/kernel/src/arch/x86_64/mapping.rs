//! Changes to the live page tables after boot: 4 KiB pages mapped and unmapped one at a
//! time (thread stacks with their guard pages, the xAPIC's registers).
//!
//! The tables are the identity-mapped ones `paging::build` made (virtual = physical for
//! every table frame), so an `OffsetPageTable` with offset 0 edits them in place. New
//! table frames come from the runtime's heap (page aligned, identity mapped RW) and are
//! never freed: a table, once needed, stays for the run. One lock serialises edits; it
//! spins with interrupts on (never taken from an interrupt handler), so a preempted
//! holder gets the CPU back at the next slice.
//!
//! Formats: Intel SDM vol. 3A 5.5 "4-Level Paging"; TLB rules: 5.10.4.1 (INVLPG after
//! removing or changing a translation; a new one needs no flush).

extern crate alloc;

use core::sync::atomic::{AtomicBool, Ordering};

use ::x86_64::registers::control::Cr3;
use ::x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size4KiB,
};
use ::x86_64::{PhysAddr, VirtAddr};

use super::cpu;
use crate::memory::PAGE_SIZE;

/// How a page may be accessed.
#[derive(Clone, Copy)]
pub enum PageAccess {
    /// Ordinary memory: read + write, no execute.
    ReadWrite,
    /// Device registers: read + write, no execute, uncached (PCD | PWT).
    Device,
}

/// Why a mapping failed.
#[derive(Debug)]
pub enum MappingError {
    /// No memory left for a page table.
    OutOfMemory,
    /// The page was already mapped, or lies inside a 2 MiB mapping.
    AlreadyMapped,
}

static LOCK: AtomicBool = AtomicBool::new(false);

struct LockGuard;

impl LockGuard {
    fn take() -> LockGuard {
        while LOCK
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        LockGuard
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        LOCK.store(false, Ordering::Release);
    }
}

/// Page-table frames from the runtime's heap.
struct HeapFrames;

// SAFETY: each frame is a fresh, page-aligned heap block of one page, zeroed, identity
// mapped (the heap is), never freed and so never handed out twice.
unsafe impl FrameAllocator<Size4KiB> for HeapFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        let layout =
            core::alloc::Layout::from_size_align(PAGE_SIZE as usize, PAGE_SIZE as usize).ok()?;
        // SAFETY: a non-zero-sized layout.
        let block = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if block.is_null() {
            return None;
        }
        PhysFrame::from_start_address(PhysAddr::new(block as u64)).ok()
    }
}

/// The live tables, for editing under the lock.
///
/// # Safety
/// The caller holds [`LOCK`]; the tables are identity mapped (boot's `paging::build`).
unsafe fn live_tables() -> OffsetPageTable<'static> {
    let (level_4_frame, _) = Cr3::read();
    let address = level_4_frame.start_address().as_u64();
    // SAFETY: CR3 points at the identity-mapped level-4 table; the lock makes this the
    // only reference used to edit it.
    unsafe { OffsetPageTable::new(&mut *(address as *mut PageTable), VirtAddr::zero()) }
}

/// Maps the 4 KiB page at `virtual_address` to `physical_address`.
///
/// # Safety
/// The physical page must be memory (or device registers) that the new alias may access
/// for as long as the mapping exists, and `virtual_address` must be an address nothing
/// else uses.
pub unsafe fn map_page(
    virtual_address: u64,
    physical_address: u64,
    access: PageAccess,
) -> Result<(), MappingError> {
    let mut flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
    if cpu::has_execute_disable() {
        flags |= PageTableFlags::NO_EXECUTE;
    }
    if matches!(access, PageAccess::Device) {
        flags |= PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH;
    }
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new_truncate(virtual_address));
    let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(physical_address));
    let _guard = LockGuard::take();
    // SAFETY: we hold the lock.
    let mut tables = unsafe { live_tables() };
    let parent_flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
    // SAFETY: the caller's contract; a not-present entry becoming present needs no TLB
    // flush (SDM 5.10.4.1), so the flush is ignored.
    match unsafe {
        tables.map_to_with_table_flags(page, frame, flags, parent_flags, &mut HeapFrames)
    } {
        Ok(flush) => {
            flush.ignore();
            Ok(())
        }
        Err(::x86_64::structures::paging::mapper::MapToError::FrameAllocationFailed) => {
            Err(MappingError::OutOfMemory)
        }
        Err(_) => Err(MappingError::AlreadyMapped),
    }
}

/// Removes the mapping of the 4 KiB page at `virtual_address` (nothing when unmapped).
///
/// # Safety
/// Nothing may access the page through this address afterwards.
pub unsafe fn unmap_page(virtual_address: u64) {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new_truncate(virtual_address));
    let _guard = LockGuard::take();
    // SAFETY: we hold the lock.
    let mut tables = unsafe { live_tables() };
    if let Ok((_, flush)) = tables.unmap(page) {
        // One CPU: INVLPG on it is the whole shootdown.
        flush.flush();
    }
}

/// Whether `address` is mapped (for the crash report's stack walk, which must not fault).
/// False while another edit holds the lock: the report may come from a fault inside an
/// edit, and must not wait for it.
pub fn is_mapped(address: u64) -> bool {
    use ::x86_64::structures::paging::Translate;
    if LOCK
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    let _guard = LockGuard;
    // SAFETY: we hold the lock; translate only reads.
    let tables = unsafe { live_tables() };
    tables
        .translate_addr(VirtAddr::new_truncate(address))
        .is_some()
}
