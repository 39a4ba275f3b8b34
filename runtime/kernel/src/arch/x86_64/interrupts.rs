//! Hardware interrupts (the LAPIC timer and the LAPIC's spurious vector), and how they
//! enter without touching the interrupted stack's red zone.
//!
//! # Why the entry code moves the frame
//!
//! Code built for the Linux x86_64 ABI (the runtime's Rust and every C program) may keep
//! data in the 128 bytes below RSP without moving RSP (System V x86_64 psABI 3.2.2, "The
//! red zone"). An interrupt delivered on the interrupted stack would have the CPU push
//! its 40-byte frame right there. So every interrupt vector enters on its own Interrupt
//! Stack Table stack (IST 3, Intel SDM vol. 3A 7.14.5), like the exceptions do.
//!
//! The timer interrupt may switch threads, and a switched-out thread's state must stay
//! somewhere private to it: the one IST stack is shared by every interrupt and would be
//! overwritten by the next one. So the common entry code, still with interrupts off:
//!
//! 1. pushes the vector and the 15 general registers on the IST stack, after the CPU's
//!    5-word frame (RIP, CS, RFLAGS, RSP, SS): 21 words in all (`InterruptFrame`);
//! 2. computes `target = (interrupted RSP - 128 - 21 * 8) & !15`: strictly below the
//!    interrupted thread's red zone, 16-byte aligned;
//! 3. copies the 21 words there and continues with RSP = target, on the thread's own
//!    stack: from here on the IST stack is free again;
//! 4. saves the FPU/SSE/AVX state (XSAVE with every XCR0 component, or FXSAVE) in a
//!    64-byte aligned area below the frame, because the Rust handler may use SSE
//!    registers and may switch to a thread that uses them all;
//! 5. calls `unik_x86_64_interrupt(frame)`, which may switch threads; when this thread
//!    runs again the call returns here;
//! 6. restores the FPU state, pops the registers and `iretq`s, which reloads RSP and SS
//!    from the (copied) frame, so it works from any stack.
//!
//! Interrupts stay off from the CPU's delivery (interrupt gates clear IF) to the
//! `iretq` or the thread switch, so the IST stack never holds two frames. A fault while
//! copying (an interrupted stack next to its guard page) is a page fault, reported on the
//! exception stack like any stack overflow.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use super::{apic, descriptors};

/// The vector of the LAPIC timer (above the 32 exception vectors and the legacy PIC's
/// range, which is masked anyway).
pub const TIMER_VECTOR: u8 = 0x30;
/// The vector every device interrupt line arrives on (IOAPIC redirection entries point
/// here; one device handler per line, found by [`DEVICE_LINES`]).
pub const DEVICE_VECTOR_BASE: u8 = 0x40;
/// How many device lines can have a handler at once.
pub const DEVICE_VECTORS: usize = 4;
/// The LAPIC's spurious-interrupt vector (SDM vol. 3A 11.9: the low 4 bits must be 1s
/// on older CPUs; 0xff satisfies every generation).
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// Size of the stack every interrupt enters on (IST 3). It holds one 21-word frame at a
/// time: a page is plenty.
pub const INTERRUPT_STACK_SIZE: u64 = 4096;

/// Whether the entry code saves the FPU state with XSAVE (else FXSAVE). Set once at boot.
#[unsafe(no_mangle)]
static unik_x86_64_fpu_uses_xsave: AtomicBool = AtomicBool::new(false);
/// Bytes the FPU save area needs (XSAVE: CPUID.(EAX=0DH,ECX=0):EBX for the components
/// enabled in XCR0; FXSAVE: 512), plus 64 for the alignment.
#[unsafe(no_mangle)]
static unik_x86_64_fpu_area_size: AtomicU64 = AtomicU64::new(512 + 64);

unsafe extern "C" {
    pub static unik_interrupt_stack_guard: u8;
    pub static unik_interrupt_stack_top: u8;
    static unik_interrupt_timer_entry: u8;
    static unik_interrupt_spurious_entry: u8;
    static unik_interrupt_device_entries: [u8; 16 * DEVICE_VECTORS];
}

core::arch::global_asm!(
    r#"
    .pushsection .bss.unik_interrupt_stack, "aw", @nobits
    .p2align 12
    .globl unik_interrupt_stack_guard
unik_interrupt_stack_guard:
    .skip 4096
    .skip {interrupt_stack_size}
    .globl unik_interrupt_stack_top
unik_interrupt_stack_top:
    .popsection

    .pushsection .text.unik_interrupts, "ax", @progbits
    .code64
    .globl unik_interrupt_spurious_entry
unik_interrupt_spurious_entry:
    /* A spurious LAPIC interrupt needs no EOI and no work (SDM vol. 3A 11.9). */
    iretq

    /* One 16-byte stub per device vector (DEVICE_VECTORS of them): push the vector,
       join the common path. */
    .p2align 4
    .globl unik_interrupt_device_entries
unik_interrupt_device_entries:
    pushq ${device_vector_0}
    jmp unik_interrupt_common
    .p2align 4
    pushq ${device_vector_1}
    jmp unik_interrupt_common
    .p2align 4
    pushq ${device_vector_2}
    jmp unik_interrupt_common
    .p2align 4
    pushq ${device_vector_3}
    jmp unik_interrupt_common

    .globl unik_interrupt_timer_entry
unik_interrupt_timer_entry:
    pushq ${timer_vector}
unik_interrupt_common:
    /* Step 1: the general registers after the vector (see the module documentation). */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    /* Step 2: the interrupted RSP is word 19 of the 21 (15 registers, the vector, RIP,
       CS, RFLAGS, then RSP). */
    movq 152(%rsp), %rdi
    subq $(128 + 168), %rdi
    andq $-16, %rdi
    /* Step 3: copy the 21 words and move onto the thread's stack. */
    movq %rdi, %rbx
    movq %rsp, %rsi
    movl $21, %ecx
    rep movsq
    movq %rbx, %rsp
    /* Step 4: the FPU state, below the frame, 64-byte aligned; a zeroed XSAVE header
       (bytes 512..575), which XRSTOR checks (SDM vol. 1 13.8.1). */
    subq unik_x86_64_fpu_area_size(%rip), %rsp
    andq $-64, %rsp
    cmpb $0, unik_x86_64_fpu_uses_xsave(%rip)
    je 1f
    xorl %eax, %eax
    movq %rax, 512(%rsp)
    movq %rax, 520(%rsp)
    movq %rax, 528(%rsp)
    movq %rax, 536(%rsp)
    movq %rax, 544(%rsp)
    movq %rax, 552(%rsp)
    movq %rax, 560(%rsp)
    movq %rax, 568(%rsp)
    movl $-1, %eax
    movl $-1, %edx
    xsave64 (%rsp)
    jmp 2f
1:
    fxsave64 (%rsp)
2:
    /* Step 5: %rbx (callee-saved) keeps the frame's address across the call. */
    movq %rbx, %rdi
    call unik_x86_64_interrupt
    /* Step 6. */
    cmpb $0, unik_x86_64_fpu_uses_xsave(%rip)
    je 3f
    movl $-1, %eax
    movl $-1, %edx
    xrstor64 (%rsp)
    jmp 4f
3:
    fxrstor64 (%rsp)
4:
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $8, %rsp
    iretq
    .popsection
"#,
    interrupt_stack_size = const INTERRUPT_STACK_SIZE,
    timer_vector = const TIMER_VECTOR,
    device_vector_0 = const DEVICE_VECTOR_BASE,
    device_vector_1 = const DEVICE_VECTOR_BASE + 1,
    device_vector_2 = const DEVICE_VECTOR_BASE + 2,
    device_vector_3 = const DEVICE_VECTOR_BASE + 3,
    options(att_syntax)
);

/// What the entry code leaves on the interrupted thread's stack, lowest address first.
#[repr(C)]
pub struct InterruptFrame {
    general_registers: [u64; 15],
    vector: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

/// Points the interrupt vectors at their entry code, on IST slot `stack_index`.
///
/// # Safety
/// Called once by `descriptors::initialize` before the IDT is loaded; the IST slot must
/// hold the interrupt stack (`unik_interrupt_stack_top`).
pub unsafe fn route(stack_index: u16) {
    let timer = crate::symbol_address!(unik_interrupt_timer_entry);
    let spurious = crate::symbol_address!(unik_interrupt_spurious_entry);
    let devices = crate::symbol_address!(unik_interrupt_device_entries);
    // SAFETY: all are interrupt entry code written for exactly this: the timer and
    // device entries save and restore everything they touch and end in iretq; the
    // spurious entry is a bare iretq. All run on the IST stack the caller set up.
    unsafe {
        descriptors::set_gate(usize::from(TIMER_VECTOR), timer, stack_index);
        descriptors::set_gate(usize::from(SPURIOUS_VECTOR), spurious, stack_index);
        for index in 0..DEVICE_VECTORS {
            // Each stub is 16-byte aligned (`.p2align 4` in the asm above).
            descriptors::set_gate(
                usize::from(DEVICE_VECTOR_BASE) + index,
                devices + 16 * index as u64,
                stack_index,
            );
        }
    }
}

/// Sizes the FPU save area for the state the entry code enabled (entry.rs: XCR0 = x87 |
/// SSE (| AVX) when the CPU has XSAVE).
pub fn initialize_fpu_save_area() {
    use core::arch::x86_64::__cpuid_count;
    // CPUID.1:ECX bit 27 = OSXSAVE: the entry code turned XSAVE on (SDM vol. 1 13.2).
    let has_os_xsave = __cpuid_count(1, 0).ecx & (1 << 27) != 0;
    if has_os_xsave {
        // CPUID.(EAX=0DH,ECX=0):EBX = the XSAVE area size for the features in XCR0.
        let size = u64::from(__cpuid_count(0xd, 0).ebx).max(576);
        unik_x86_64_fpu_area_size.store(size + 64, Ordering::Relaxed);
        unik_x86_64_fpu_uses_xsave.store(true, Ordering::Relaxed);
    }
}

/// What the timer interrupt calls (the scheduler's handler), registered when the
/// scheduler starts: reached through this pointer, the scheduler is linked only into
/// programs that use it (the IDT is in every image).
static TIMER_HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

pub fn set_timer_handler(handler: fn()) {
    // black_box: with whole-program LTO, LLVM would otherwise call the one handler ever
    // stored directly, linking the scheduler into every image.
    TIMER_HANDLER.store(core::hint::black_box(handler as *mut ()), Ordering::Release);
}

/// The handlers of the device vectors (`DEVICE_VECTOR_BASE + index`), null when free.
static DEVICE_HANDLERS: [AtomicPtr<()>; DEVICE_VECTORS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; DEVICE_VECTORS];

/// Claims a free device vector for `handler`; None when all are taken.
pub fn claim_device_vector(handler: fn()) -> Option<u8> {
    DEVICE_HANDLERS
        .iter()
        .enumerate()
        .find_map(|(index, slot)| {
            slot.compare_exchange(
                core::ptr::null_mut(),
                handler as *mut (),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| DEVICE_VECTOR_BASE + index as u8)
        })
}

/// Called by the entry code on the interrupted thread's stack, interrupts off.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_interrupt(frame: &InterruptFrame) {
    let device_vectors =
        u64::from(DEVICE_VECTOR_BASE)..u64::from(DEVICE_VECTOR_BASE) + DEVICE_VECTORS as u64;
    if device_vectors.contains(&frame.vector) {
        let handler = DEVICE_HANDLERS[(frame.vector - u64::from(DEVICE_VECTOR_BASE)) as usize]
            .load(Ordering::Acquire);
        if !handler.is_null() {
            // SAFETY: only `claim_device_vector` stores here, and it stores a `fn()`.
            let handler: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(handler) };
            // The handler quiets its device (level-triggered line) before the EOI, which
            // lets the IOAPIC deliver the line again (SDM vol. 3A 11.8.5).
            handler();
        }
        apic::end_of_interrupt();
    } else if frame.vector == u64::from(TIMER_VECTOR) {
        apic::end_of_interrupt();
        let handler = TIMER_HANDLER.load(Ordering::Acquire);
        if !handler.is_null() {
            // SAFETY: only `set_timer_handler` stores here, and it stores a `fn()`.
            let handler: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(handler) };
            handler();
        }
    }
}

/// Turns interrupts off; returns whether they were on. A compiler barrier too (no
/// `nomem`): memory accesses of the critical section stay inside it.
pub fn disable() -> bool {
    let flags: u64;
    // SAFETY: reads RFLAGS and clears IF; ring 0 may do both.
    unsafe { core::arch::asm!("pushfq", "pop {flags}", "cli", flags = out(reg) flags) };
    // RFLAGS bit 9 = IF (SDM vol. 1 3.4.3).
    flags & (1 << 9) != 0
}

/// Turns interrupts back on if `enabled` (what [`disable`] returned).
pub fn restore(enabled: bool) {
    if enabled {
        enable();
    }
}

/// Turns interrupts on (a compiler barrier, as [`disable`]).
pub fn enable() {
    // SAFETY: ring 0 may set IF; the handlers are installed before the first call.
    unsafe { core::arch::asm!("sti", options(nostack)) };
}

/// Waits for the next interrupt with interrupts on, and returns with them off again.
/// `sti; hlt` is atomic: STI takes effect after the next instruction, so an interrupt
/// that is already pending wakes the HLT instead of being lost (SDM vol. 2, STI). The
/// interrupt may switch threads before this returns: no `nomem`.
pub fn wait_for_interrupt() {
    // SAFETY: halts until an interrupt; its handler runs (maybe other threads too) and
    // execution continues here with the state the entry code restored.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nostack)) };
}
