//! The main thread's thread-local storage, AArch64 "variant I" (Drepper, "ELF Handling
//! For Thread-Local Storage", 3.4.1; Arm AAELF64 "Thread Local Storage"), and the
//! stack-protector canary:
//!
//! ```text
//!   reserved (512 bytes, zeroed)   thread pointer (TPIDR_EL0)
//!   | libc per-thread fields      | TCB: 16 bytes | pad | .tdata copy | .tbss zeroes |
//! ```
//!
//! The static linker resolves each TLS variable to a positive offset from the thread
//! pointer: `align_up(16, p_align) + (value - p_vaddr)` (lld's `getTlsTpOffset`). The
//! 16-byte TCB is glibc's `tcbhead_t` on AArch64 (dtv pointer, private pointer),
//! zeroed. glibc keeps `struct pthread` just below the thread pointer; the 512 zeroed
//! bytes there are the room the libc may use for its own per-thread fields, as it may
//! use the bytes after 0x48 on x86_64.
//!
//! The stack protector on aarch64-linux-gnu reads the canary from the global
//! `__stack_chk_guard`, not from the TCB (GCC and clang's default for this target).

use core::sync::atomic::{AtomicU64, Ordering};

use super::{cpu, image};
use crate::memory::{BootAllocator, align_up};

/// The TCB at the thread pointer: two words (AAELF64; lld assumes the same).
pub const THREAD_CONTROL_BLOCK_SIZE: u64 = 16;
/// Zeroed bytes reserved below the thread pointer for the libc's per-thread fields.
pub const RESERVED_BELOW_THREAD_POINTER: u64 = 512;

/// The stack-protector canary that `-fstack-protector` code compares against (random
/// per boot, low byte zero). An atomic has the layout of the plain `uintptr_t` C code
/// reads; it is written once, at boot, before any C code runs.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)] // The name is the ABI's.
pub static __stack_chk_guard: AtomicU64 = AtomicU64::new(0);

/// Why the TLS block could not be set up.
pub enum TlsError {
    OutOfMemory { size: u64 },
    BadTemplate { memory_size: u64, alignment: u64 },
}

/// Sets the canary ([`crate::random::stack_guard`]).
pub fn initialize_stack_guard() {
    __stack_chk_guard.store(crate::random::stack_guard(), Ordering::Relaxed);
}

/// Allocates the main thread's TLS block from `allocator`, fills it from the PT_TLS
/// template, zeroes the TCB and the reserved bytes, and points TPIDR_EL0 at it.
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
    // Where the block starts, relative to the thread pointer: exactly what the linker
    // adds to each variable's offset.
    let block_offset =
        align_up(THREAD_CONTROL_BLOCK_SIZE, template.alignment).ok_or_else(bad_template)?;
    // The thread pointer must satisfy the template's alignment (the block's offset is
    // computed from it) and the TCB's (16).
    let thread_pointer_alignment = template.alignment.max(16);
    let total = RESERVED_BELOW_THREAD_POINTER
        .checked_add(block_offset)
        .and_then(|size| size.checked_add(template.memory_size))
        .and_then(|size| size.checked_add(thread_pointer_alignment))
        .ok_or_else(bad_template)?;
    let allocation = allocator
        .allocate(total)
        .ok_or(TlsError::OutOfMemory { size: total })?;
    let thread_pointer = align_up(
        allocation + RESERVED_BELOW_THREAD_POINTER,
        thread_pointer_alignment,
    )
    .ok_or(TlsError::OutOfMemory { size: total })?;
    let zeroed_start = thread_pointer - RESERVED_BELOW_THREAD_POINTER;
    let block_start = thread_pointer + block_offset;

    // SAFETY: [zeroed_start, block_start + memory_size) lies inside the fresh
    // allocation (sized above), mapped read-write (caller's contract) and used by
    // nothing else.
    unsafe {
        core::ptr::write_bytes(
            zeroed_start as *mut u8,
            0,
            (RESERVED_BELOW_THREAD_POINTER + block_offset + template.memory_size) as usize,
        );
        core::ptr::copy_nonoverlapping(
            template.initialized.as_ptr(),
            block_start as *mut u8,
            template.initialized.len(),
        );
    }
    // SAFETY: the TCB and TLS block are set up and stay allocated for the whole run.
    unsafe { cpu::set_thread_pointer(thread_pointer) };
    Ok(())
}
