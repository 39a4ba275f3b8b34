//! The main thread's thread-local storage, x86_64 "variant II" (Drepper, "ELF Handling
//! For Thread-Local Storage", 3.4.6; System V x86_64 psABI 3.4 / "Thread-Local Storage"):
//!
//! ```text
//!   block start                         thread pointer (FS base)
//!   | .tdata copy | .tbss zeroes | pad |  TCB: self pointer, ..., canary at +0x28, ...
//! ```
//!
//! The static linker resolves each TLS variable to a negative offset from the thread
//! pointer: `value - align_up(p_memsz, p_align)`. The TCB's first word points to itself
//! (code reads `%fs:0` to get the thread pointer), and `%fs:0x28` holds the stack
//! protector canary that `-fstack-protector` code checks (glibc's `tcbhead_t` layout).

use ::x86_64::VirtAddr;
use ::x86_64::registers::model_specific::FsBase;

use super::image;
use crate::memory::{BootAllocator, align_up};

/// Bytes reserved for the thread control block after the TLS block. glibc's
/// `tcbhead_t` uses the first 0x48 bytes (self pointers, dtv, stack guard at 0x28,
/// pointer guard at 0x30, ...); the rest is zeroed room for the libc's own per-thread
/// fields.
pub const THREAD_CONTROL_BLOCK_SIZE: u64 = 512;
const STACK_GUARD_OFFSET: u64 = 0x28;
const POINTER_GUARD_OFFSET: u64 = 0x30;

/// Why the TLS block could not be set up.
pub enum TlsError {
    OutOfMemory { size: u64 },
    BadTemplate { memory_size: u64, alignment: u64 },
}

/// Allocates the main thread's TLS block from `allocator`, fills it from the PT_TLS
/// template, sets the TCB up and points FS at it.
///
/// # Safety
/// The memory `allocator` hands out must be mapped read-write and unused; called once.
pub unsafe fn initialize(allocator: &mut BootAllocator) -> Result<(), TlsError> {
    let template = image::tls_template();
    let bad_template = || TlsError::BadTemplate {
        memory_size: template.memory_size,
        alignment: template.alignment,
    };
    if !template.alignment.is_power_of_two()
        || template.initialized.len() as u64 > template.memory_size
    {
        return Err(bad_template());
    }
    // Exactly what the linker subtracts from each variable's offset (lld's
    // getTlsTpOffset): the template size rounded up to the PT_TLS alignment.
    let block_size = align_up(template.memory_size, template.alignment).ok_or_else(bad_template)?;
    // The thread pointer itself must satisfy the template's alignment (the block ends
    // there) and the TCB's (16, for the SSE-friendly libc fields after it).
    let thread_pointer_alignment = template.alignment.max(16);
    let total = block_size
        .checked_add(THREAD_CONTROL_BLOCK_SIZE)
        .and_then(|size| size.checked_add(thread_pointer_alignment))
        .ok_or_else(bad_template)?;
    let allocation = allocator
        .allocate(total)
        .ok_or(TlsError::OutOfMemory { size: total })?;
    let thread_pointer = align_up(allocation + block_size, thread_pointer_alignment)
        .ok_or(TlsError::OutOfMemory { size: total })?;
    let block_start = thread_pointer - block_size;

    // SAFETY: [block_start, thread_pointer + TCB size) lies inside the fresh allocation,
    // mapped read-write (caller's contract) and used by nothing else.
    unsafe {
        core::ptr::write_bytes(
            block_start as *mut u8,
            0,
            (block_size + THREAD_CONTROL_BLOCK_SIZE) as usize,
        );
        core::ptr::copy_nonoverlapping(
            template.initialized.as_ptr(),
            block_start as *mut u8,
            template.initialized.len(),
        );
        let control_block = thread_pointer as *mut u64;
        control_block.write(thread_pointer);
        control_block
            .byte_add(STACK_GUARD_OFFSET as usize)
            .write(crate::random::stack_guard());
        control_block
            .byte_add(POINTER_GUARD_OFFSET as usize)
            .write(crate::random::pointer_guard());
    }
    // SAFETY: the TLS block and TCB are set up and stay allocated for the whole run.
    FsBase::write(VirtAddr::new_truncate(thread_pointer));
    Ok(())
}
