//! TLS blocks of the threads after the first (the main thread's is `tls.rs`'s): the
//! same variant II layout (Drepper, "ELF Handling For Thread-Local Storage" 3.4.6), in
//! memory the scheduler allocates.
//!
//! ```text
//!   allocation start ... | .tdata copy | .tbss zeroes | TCB (THREAD_CONTROL_BLOCK_SIZE)
//!                                                      ^ thread pointer (FS base)
//! ```
//!
//! The TCB gets its self pointer, and the main thread's stack-protector canary
//! (`%fs:0x28`) and pointer guard (`%fs:0x30`): glibc shares both between the threads of
//! a process, and code compiled in one thread checks canaries set in another.

use super::image;
use super::tls::THREAD_CONTROL_BLOCK_SIZE;
use crate::memory::align_up;

const STACK_GUARD_OFFSET: usize = 0x28;
const POINTER_GUARD_OFFSET: usize = 0x30;

/// Size and alignment of a thread's TLS allocation (TLS block + TCB).
pub fn layout() -> Option<(usize, usize)> {
    let template = image::tls_template();
    if !template.alignment.is_power_of_two() {
        return None;
    }
    let block_size = align_up(template.memory_size, template.alignment)?;
    let alignment = template.alignment.max(16);
    // The allocation itself is aligned to `alignment`, and the block starts at a
    // multiple of it before the thread pointer: round the block up to it.
    let block_size = align_up(block_size, alignment)?;
    let size = block_size.checked_add(THREAD_CONTROL_BLOCK_SIZE)?;
    Some((
        usize::try_from(size).ok()?,
        usize::try_from(alignment).ok()?,
    ))
}

/// Fills a TLS allocation of [`layout`]'s size and alignment; returns the thread pointer.
///
/// # Safety
/// `allocation` points at writable memory of that size and alignment, used by nothing
/// else; the calling thread's TCB is set up (its canary and guard are copied).
pub unsafe fn initialize(allocation: *mut u8) -> usize {
    let template = image::tls_template();
    let (size, _) = layout().unwrap_or((0, 16));
    let thread_pointer_offset = size - THREAD_CONTROL_BLOCK_SIZE as usize;
    let tls_size = align_up(template.memory_size, template.alignment).unwrap_or(0) as usize;
    let thread_pointer = allocation as usize + thread_pointer_offset;
    let block_start = thread_pointer - tls_size;
    let (stack_guard, pointer_guard): (u64, u64);
    // SAFETY: the caller's TCB exists (FS base points at it): two aligned loads.
    unsafe {
        core::arch::asm!(
            "mov {stack_guard}, fs:[0x28]",
            "mov {pointer_guard}, fs:[0x30]",
            stack_guard = out(reg) stack_guard,
            pointer_guard = out(reg) pointer_guard,
            options(nostack, readonly, preserves_flags),
        );
    }
    // SAFETY: [allocation, allocation + size) is the caller's writable allocation;
    // block_start >= allocation because size covers the rounded block and the TCB.
    unsafe {
        core::ptr::write_bytes(allocation, 0, size);
        core::ptr::copy_nonoverlapping(
            template.initialized.as_ptr(),
            block_start as *mut u8,
            template.initialized.len(),
        );
        let control_block = thread_pointer as *mut u8;
        control_block.cast::<usize>().write(thread_pointer);
        control_block
            .add(STACK_GUARD_OFFSET)
            .cast::<u64>()
            .write(stack_guard);
        control_block
            .add(POINTER_GUARD_OFFSET)
            .cast::<u64>()
            .write(pointer_guard);
    }
    thread_pointer
}
