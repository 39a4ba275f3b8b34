//! Thread stacks: heap memory mapped at a second, private virtual address with an
//! unmapped guard below, so that an overflow faults (and the crash report names the
//! thread) instead of silently overwriting the heap.
//!
//! The stacks' virtual addresses come from the arch's `STACK_REGION`, in slots of
//! (guard + stack) bytes; a freed slot is reused by a stack of the same shape, so
//! programs that create and join threads forever reuse the same page tables.

extern crate alloc;

use alloc::vec::Vec;
use core::alloc::Layout;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::threading as arch;
use crate::memory::{PAGE_SIZE, align_up};

/// The guard below the stacks the kernel makes for itself.
pub const GUARD_SIZE: usize = PAGE_SIZE as usize;

/// Why a thread could not get its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// No memory for the stack, its TLS block or its page tables.
    OutOfMemory,
    /// The stack region is exhausted, or the size does not fit the address space.
    TooLarge,
}

/// The next never-used virtual address of the stack region.
static NEXT_SLOT: AtomicU64 = AtomicU64::new(arch::STACK_REGION.start);
/// Freed slots `(start, guard, stack size)`, reused for equal shapes.
static FREE_SLOTS_LOCK: AtomicBool = AtomicBool::new(false);
static FREE_SLOTS: SlotList = SlotList(core::cell::UnsafeCell::new(Vec::new()));

pub struct SlotList(core::cell::UnsafeCell<Vec<(u64, u64, u64)>>);

// SAFETY: only touched while FREE_SLOTS_LOCK is held (`with_free_slots`).
unsafe impl Sync for SlotList {}

fn with_free_slots<R>(body: impl FnOnce(&mut Vec<(u64, u64, u64)>) -> R) -> R {
    while FREE_SLOTS_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held: this is the only reference.
    let result = body(unsafe { &mut *FREE_SLOTS.0.get() });
    FREE_SLOTS_LOCK.store(false, Ordering::Release);
    result
}

/// Stacks of ended threads kept mapped for the next threads of the same shape: creating
/// and joining threads in a loop then costs no allocation and no page-table edits (glibc
/// caches stacks the same way).
const CACHED_STACKS: usize = 8;
static STACK_CACHE_LOCK: AtomicBool = AtomicBool::new(false);
static STACK_CACHE: StackCache = StackCache(core::cell::UnsafeCell::new(Vec::new()));

struct StackCache(core::cell::UnsafeCell<Vec<ThreadStack>>);

// SAFETY: only touched while STACK_CACHE_LOCK is held (`with_stack_cache`).
unsafe impl Sync for StackCache {}

fn with_stack_cache<R>(body: impl FnOnce(&mut Vec<ThreadStack>) -> R) -> R {
    while STACK_CACHE_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held: this is the only reference.
    let result = body(unsafe { &mut *STACK_CACHE.0.get() });
    STACK_CACHE_LOCK.store(false, Ordering::Release);
    result
}

/// Gives a stack whose thread has ended back: cached for reuse, or unmapped and freed.
/// Interrupts must be on (it may call the allocator).
pub fn release(stack: ThreadStack) {
    let rejected = with_stack_cache(|cache| {
        if cache.len() < CACHED_STACKS {
            // Reserved when the cache was made (see `allocate`): no allocation here.
            cache.push(stack);
            None
        } else {
            Some(stack)
        }
    });
    drop(rejected);
}

/// A mapped thread stack.
pub struct ThreadStack {
    /// Start of the slot: the guard's first byte.
    slot_start: u64,
    guard_size: u64,
    stack_size: u64,
    memory: *mut u8,
}

impl ThreadStack {
    /// Allocates and maps a stack of at least `stack_size` bytes above an unmapped guard
    /// of at least `guard_size` bytes (both rounded up to pages; the guard to one page
    /// at least).
    pub fn allocate(stack_size: usize, guard_size: usize) -> Result<ThreadStack, StackError> {
        let round = |size: usize| {
            align_up(size as u64, PAGE_SIZE)
                .filter(|&size| size < (arch::STACK_REGION.end - arch::STACK_REGION.start) / 4)
                .ok_or(StackError::TooLarge)
        };
        let stack_size = round(stack_size.max(PAGE_SIZE as usize))?;
        let guard_size = round(guard_size.max(PAGE_SIZE as usize))?;
        let cached = with_stack_cache(|cache| {
            if cache.capacity() < CACHED_STACKS {
                // Allocating inside the spin lock is fine (the heap has its own lock);
                // reserving now keeps `release` allocation-free.
                cache.reserve_exact(CACHED_STACKS - cache.len());
            }
            let index = cache.iter().position(|stack| {
                stack.guard_size == guard_size && stack.stack_size == stack_size
            })?;
            Some(cache.swap_remove(index))
        });
        if let Some(stack) = cached {
            return Ok(stack);
        }
        let layout = Layout::from_size_align(stack_size as usize, PAGE_SIZE as usize)
            .map_err(|_| StackError::TooLarge)?;
        // SAFETY: non-zero size.
        let memory = unsafe { alloc::alloc::alloc(layout) };
        if memory.is_null() {
            return Err(StackError::OutOfMemory);
        }
        let slot_start = match with_free_slots(|slots| {
            let index = slots
                .iter()
                .position(|&(_, guard, size)| guard == guard_size && size == stack_size)?;
            Some(slots.swap_remove(index).0)
        }) {
            Some(start) => start,
            None => {
                let total = guard_size + stack_size;
                let start = NEXT_SLOT.fetch_add(total, Ordering::Relaxed);
                if start + total > arch::STACK_REGION.end {
                    // SAFETY: allocated above with this layout, never used.
                    unsafe { alloc::alloc::dealloc(memory, layout) };
                    return Err(StackError::TooLarge);
                }
                start
            }
        };
        let stack = ThreadStack {
            slot_start,
            guard_size,
            stack_size,
            memory,
        };
        let mut offset = 0;
        while offset < stack_size {
            // SAFETY: the slot is ours (fresh or returned by a freed stack, whose pages
            // were unmapped); the physical page is our own heap block's.
            let mapped = unsafe {
                arch::map_page(
                    slot_start + guard_size + offset,
                    memory as u64 + offset,
                    arch::PageAccess::ReadWrite,
                )
            };
            if let Err(error) = mapped {
                // Unmaps what was mapped and frees the memory (Drop).
                drop(stack);
                return Err(match error {
                    arch::MappingError::OutOfMemory => StackError::OutOfMemory,
                    arch::MappingError::AlreadyMapped => StackError::TooLarge,
                });
            }
            offset += PAGE_SIZE;
        }
        Ok(stack)
    }

    /// The stack's top (its highest address + 1), 16-byte aligned.
    pub fn top(&self) -> usize {
        (self.slot_start + self.guard_size + self.stack_size) as usize
    }

    /// The lowest usable address.
    pub fn bottom(&self) -> usize {
        (self.slot_start + self.guard_size) as usize
    }

    pub fn size(&self) -> usize {
        self.stack_size as usize
    }

    pub fn guard_contains(&self, address: u64) -> bool {
        self.slot_start <= address && address < self.slot_start + self.guard_size
    }
}

impl Drop for ThreadStack {
    fn drop(&mut self) {
        let mut offset = 0;
        while offset < self.stack_size {
            // SAFETY: the thread that used the stack is gone (the scheduler drops a stack
            // only when reaping a dead thread, or on a failed spawn, where some pages
            // are not mapped yet: unmapping those does nothing).
            unsafe { arch::unmap_page(self.slot_start + self.guard_size + offset) };
            offset += PAGE_SIZE;
        }
        with_free_slots(|slots| slots.push((self.slot_start, self.guard_size, self.stack_size)));
        if let Ok(layout) = Layout::from_size_align(self.stack_size as usize, PAGE_SIZE as usize) {
            // SAFETY: `memory` came from alloc with exactly this layout (allocate).
            unsafe { alloc::alloc::dealloc(self.memory, layout) };
        }
    }
}

/// Whether `address` is inside the stack region (mapped or not).
pub fn is_in_stack_region(address: u64) -> bool {
    arch::STACK_REGION.contains(&address)
}
