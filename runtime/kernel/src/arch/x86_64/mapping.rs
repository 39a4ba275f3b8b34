//! Changes to the live page tables after boot: 4 KiB pages mapped and unmapped one at a
//! time (thread stacks with their guard pages, the xAPIC's registers).
//!
//! The tables are the identity-mapped ones `paging::build` made (virtual = physical for
//! every table frame), so the boot's table walk (`page_walk::entry`) edits them in place. New
//! table frames come from the runtime's heap (page aligned, identity mapped RW) and are
//! never freed: a table, once needed, stays for the run. One lock serialises edits; it
//! spins with interrupts on (never taken from an interrupt handler), so a preempted
//! holder gets the CPU back at the next slice.
//!
//! Formats: Intel SDM vol. 3A 5.5 "4-Level Paging"; TLB rules: 5.10.4.1 (INVLPG after
//! removing or changing a translation; a new one needs no flush).

extern crate alloc;

use core::sync::atomic::{AtomicBool, Ordering};

use ::x86_64::VirtAddr;
use ::x86_64::registers::control::Cr3;

use super::cpu;
use super::page_walk::{
    self, CACHE_DISABLE, EXECUTE_DISABLE, PRESENT, WRITABLE, WRITE_THROUGH, WalkError,
};
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

/// A page-table frame from the runtime's heap: page aligned, identity mapped (the heap
/// is), never freed and so never handed out twice.
fn heap_frame() -> Option<u64> {
    let layout =
        core::alloc::Layout::from_size_align(PAGE_SIZE as usize, PAGE_SIZE as usize).ok()?;
    // SAFETY: a non-zero-sized layout.
    let block = unsafe { alloc::alloc::alloc(layout) };
    (!block.is_null()).then_some(block as u64)
}

/// The live level-4 table's address (identity mapped: `paging::build`).
fn root() -> u64 {
    Cr3::read().0.start_address().as_u64()
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
    let mut flags = PRESENT | WRITABLE;
    if cpu::has_execute_disable() {
        flags |= EXECUTE_DISABLE;
    }
    if matches!(access, PageAccess::Device) {
        flags |= CACHE_DISABLE | WRITE_THROUGH;
    }
    let _guard = LockGuard::take();
    // SAFETY: we hold the lock; the live tables and the heap's frames are identity
    // mapped.
    let entry = unsafe { page_walk::entry(root(), virtual_address, 1, &mut heap_frame) }.map_err(
        |error| match error {
            WalkError::NoTable => MappingError::OutOfMemory,
            WalkError::InsideLargePage => MappingError::AlreadyMapped,
        },
    )?;
    // SAFETY: the entry lies in a live, identity-mapped table; the caller's contract
    // covers the new translation. A not-present entry becoming present needs no TLB
    // flush (SDM 5.10.4.1).
    unsafe {
        if entry.read_volatile() & PRESENT != 0 {
            return Err(MappingError::AlreadyMapped);
        }
        entry.write_volatile((physical_address & !(PAGE_SIZE - 1)) | flags);
    }
    Ok(())
}

/// Removes the mapping of the 4 KiB page at `virtual_address` (nothing when unmapped).
///
/// # Safety
/// Nothing may access the page through this address afterwards.
pub unsafe fn unmap_page(virtual_address: u64) {
    let _guard = LockGuard::take();
    // SAFETY: we hold the lock; without `new_table` the walk adds no table.
    if let Ok(entry) = unsafe { page_walk::entry(root(), virtual_address, 1, &mut || None) } {
        // SAFETY: the entry lies in a live, identity-mapped table; the caller's contract.
        unsafe {
            if entry.read_volatile() & PRESENT != 0 {
                entry.write_volatile(0);
                // One CPU: INVLPG on it is the whole shootdown.
                ::x86_64::instructions::tlb::flush(VirtAddr::new_truncate(virtual_address));
            }
        }
    }
}

/// Whether `address` is mapped (for the crash report's stack walk, which must not fault).
/// False while another edit holds the lock: the report may come from a fault inside an
/// edit, and must not wait for it.
pub fn is_mapped(address: u64) -> bool {
    if LOCK
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    let _guard = LockGuard;
    // SAFETY: we hold the lock; the walk only reads identity-mapped tables.
    unsafe { page_walk::is_mapped(root(), address) }
}
