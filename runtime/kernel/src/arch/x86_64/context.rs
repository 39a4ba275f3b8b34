//! Thread switching, the per-CPU pointer and the thread pointer.
//!
//! A switched-out thread is one stack pointer: `unik_x86_64_switch` pushes the System V
//! callee-saved registers (RBX, RBP, R12-R15) and the callee-saved parts of the FPU
//! state (x87 control word and MXCSR control bits: psABI 3.2.3 "Parameter Passing",
//! table 3.4), stores RSP, loads the other thread's RSP and pops the same. Everything
//! else is caller-saved, so a voluntary switch (a call) needs no more. A preempted thread
//! had its whole register and FPU state saved by the interrupt entry (interrupts.rs)
//! before the handler called into the scheduler, so it too is resumed by this switch,
//! inside the handler.
//!
//! Per-CPU data: GS base (IA32_GS_BASE) points at the CPU's block, whose first word is
//! its own address, so `mov %gs:0` reads it in one instruction (the runtime and the
//! programs never use GS). Thread pointer: FS base (IA32_FS_BASE), switched per thread.

use ::x86_64::VirtAddr;
use ::x86_64::registers::model_specific::{FsBase, GsBase};

core::arch::global_asm!(
    r#"
    .pushsection .text.unik_switch, "ax", @progbits
    .code64
    /* unik_x86_64_switch(from: *mut usize (rdi), to: usize (rsi)) */
    .globl unik_x86_64_switch
    .type unik_x86_64_switch, @function
unik_x86_64_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $16, %rsp
    fnstcw (%rsp)
    stmxcsr 8(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    fldcw (%rsp)
    ldmxcsr 8(%rsp)
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size unik_x86_64_switch, . - unik_x86_64_switch

    /* The first code of every new thread: `ret` of the switch lands here with the
       start argument in r12 and the Rust start function in r13. A zero frame pointer
       ends backtraces here. */
    .globl unik_x86_64_thread_trampoline
unik_x86_64_thread_trampoline:
    xorl %ebp, %ebp
    movq %r12, %rdi
    andq $-16, %rsp
    call *%r13
    ud2
    .popsection
"#,
    options(att_syntax)
);

unsafe extern "C" {
    fn unik_x86_64_switch(from: *mut usize, to: usize);
    static unik_x86_64_thread_trampoline: u8;
}

/// Saves the running thread's state, storing its stack pointer in `*from`, and resumes
/// the thread whose saved stack pointer is `to`. Returns when something switches back.
///
/// # Safety
/// Interrupts off. `to` is a stack pointer saved by this function or made by
/// [`prepare_stack`], of a thread that is not running; `from` stays valid until the
/// thread is resumed.
pub unsafe fn switch(from: *mut usize, to: usize) {
    // SAFETY: the caller's contract is the assembly's.
    unsafe { unik_x86_64_switch(from, to) }
}

/// Lays out a new thread's stack so that switching to it calls `start(argument)` with
/// interrupts off. Returns the saved stack pointer.
///
/// # Safety
/// `stack_top` is the 16-byte aligned top of a mapped, writable stack with at least
/// 128 bytes free below it, used by nothing else.
pub unsafe fn prepare_stack(
    stack_top: usize,
    start: unsafe extern "C" fn(usize) -> !,
    argument: usize,
) -> usize {
    let trampoline = crate::symbol_address!(unik_x86_64_thread_trampoline) as usize;
    // From the saved stack pointer upwards, what the switch pops: x87 control word and
    // MXCSR (the psABI's initial values 0x37f and 0x1f80), r15, r14, r13 (start), r12
    // (argument), rbx, rbp, then the return address (the trampoline).
    let words: [usize; 10] = [
        0x37f,
        0x1f80,
        0,
        0,
        start as usize,
        argument,
        0,
        0,
        trampoline,
        0,
    ];
    let saved = stack_top - words.len() * 8;
    // SAFETY: the caller guarantees the words below stack_top are this stack's, unused.
    unsafe {
        core::ptr::copy_nonoverlapping(words.as_ptr(), saved as *mut usize, words.len());
    }
    saved
}

/// Points GS base at this CPU's data block (its first word must be its own address).
///
/// # Safety
/// `block` lives for the rest of the run and begins with its own address.
pub unsafe fn set_cpu_local(block: usize) {
    GsBase::write(VirtAddr::new_truncate(block as u64));
}

/// This CPU's data block (what [`set_cpu_local`] stored).
pub fn cpu_local() -> usize {
    let block: usize;
    // SAFETY: reads the block's first word through GS, set at boot before any caller.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) block, options(nostack, readonly, preserves_flags))
    };
    block
}

/// Sets the thread pointer (FS base) for the thread about to run.
pub fn set_thread_pointer(thread_pointer: usize) {
    FsBase::write(VirtAddr::new_truncate(thread_pointer as u64));
}

/// The running thread's thread pointer: the TCB's first word is its own address
/// (psABI TLS; tls.rs and thread_tls.rs set it), one load instead of an MSR read.
pub fn thread_pointer() -> usize {
    let thread_pointer: usize;
    // SAFETY: every thread's FS base points at its TCB, set up before it runs.
    unsafe {
        core::arch::asm!("mov {}, fs:[0]", out(reg) thread_pointer, options(nostack, readonly, preserves_flags))
    };
    thread_pointer
}
