//! The aarch64 side of the threads-and-time interface (`crate::sched`, `crate::time`;
//! contracts in `runtime/kernel/README.md`, "Arch interface for threads and time").
//!
//! State: the clocks are real (the generic timer's virtual counter, CNTVCT_EL0 at
//! CNTFRQ_EL0), and so are the thread pointer (TPIDR_EL0) and the interrupt mask
//! (DAIF.I). The timer interrupt is not wired yet (GIC distributor/CPU interface or
//! redistributor set-up, the IRQ vector moving the frame like x86_64's
//! interrupts.rs, CNTV_CTL/CVAL programming), nor the context switch (x19-x30, SP,
//! d8-d15, FPCR; q0-q31/FPSR/FPCR in the IRQ path), thread TLS (variant I: TCB of 16
//! bytes then the block, TPIDR_EL0 = TCB) and runtime page mapping for thread stacks.
//! Until they are, [`initialize_timer`] fails, the scheduler stays off, and the
//! program runs single-threaded: `pthread_create` fails with EAGAIN, sleeps poll the
//! counter. The functions below that only a started scheduler calls are therefore
//! never reached on aarch64; they fail safely instead of pretending.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Where thread stacks would be mapped (unused until the scheduler runs here).
pub const STACK_REGION: core::ops::Range<u64> = 0x100_0000_0000..0x200_0000_0000;

/// Why a mapping failed (the same variants as x86_64's; none produced yet).
#[derive(Debug)]
#[allow(dead_code)]
pub enum MappingError {
    OutOfMemory,
    AlreadyMapped,
}

#[derive(Clone, Copy)]
#[allow(dead_code)] // The same variants as x86_64's.
pub enum PageAccess {
    ReadWrite,
    Device,
}

fn counter_frequency() -> u64 {
    let frequency: u64;
    // SAFETY: CNTFRQ_EL0 is readable at EL1.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) frequency, options(nomem, nostack)) };
    frequency.max(1)
}

/// Nanoseconds since the counter started (boot, on QEMU virt).
pub fn monotonic_nanoseconds() -> u64 {
    let ticks = super::cpu::virtual_counter();
    (u128::from(ticks) * 1_000_000_000 / u128::from(counter_frequency())) as u64
}

/// Wall-clock time at boot: the PL031 RTC is not read yet, so the epoch.
pub fn boot_wall_clock_nanoseconds() -> u64 {
    0
}

/// The timer interrupt is not wired on aarch64 yet: the scheduler stays off.
///
/// # Safety
/// None needed; `unsafe` to match the interface.
pub unsafe fn initialize_timer() -> Result<(), &'static str> {
    Err("aarch64: the timer interrupt (generic timer + GIC) is not wired yet")
}

pub fn set_timer(_deadline: Option<u64>) {}

pub fn disable_interrupts() -> bool {
    let flags: u64;
    // SAFETY: reads DAIF and masks IRQs (DAIF.I, bit 7); EL1 may do both.
    unsafe {
        core::arch::asm!("mrs {}, daif", "msr daifset, #2", out(reg) flags, options(nostack))
    };
    flags & (1 << 7) == 0
}

pub fn enable_interrupts() {
    // IRQs stay masked until the GIC is set up (nothing would handle one).
}

pub fn restore_interrupts(_enabled: bool) {}

pub fn wait_for_interrupt() {
    // SAFETY: waits for an event or interrupt; no memory is touched.
    unsafe { core::arch::asm!("wfi", options(nostack)) };
}

static CPU_LOCAL: AtomicUsize = AtomicUsize::new(0);

/// # Safety
/// `block` lives for the rest of the run.
pub unsafe fn set_cpu_local(block: usize) {
    CPU_LOCAL.store(block, Ordering::Relaxed);
}

pub fn cpu_local() -> usize {
    CPU_LOCAL.load(Ordering::Relaxed)
}

pub fn thread_pointer() -> usize {
    let value: usize;
    // SAFETY: reads TPIDR_EL0.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) value, options(nomem, nostack)) };
    value
}

pub fn set_thread_pointer(thread_pointer: usize) {
    // SAFETY: only the scheduler calls this, with a thread's TCB.
    unsafe { super::cpu::set_thread_pointer(thread_pointer as u64) };
}

/// # Safety
/// Never called: the scheduler does not start on aarch64 yet.
pub unsafe fn switch(_from: *mut usize, _to: usize) {
    crate::boot_failure(format_args!("aarch64: thread switch without a scheduler"))
}

/// # Safety
/// Never called: the scheduler does not start on aarch64 yet.
pub unsafe fn prepare_stack(
    stack_top: usize,
    _start: unsafe extern "C" fn(usize) -> !,
    _argument: usize,
) -> usize {
    stack_top
}

/// # Safety
/// As x86_64's: never called here (stacks need the scheduler).
pub unsafe fn map_page(
    _virtual: u64,
    _physical: u64,
    _access: PageAccess,
) -> Result<(), MappingError> {
    Err(MappingError::OutOfMemory)
}

/// # Safety
/// As x86_64's.
pub unsafe fn unmap_page(_virtual: u64) {}

pub fn is_mapped(_address: u64) -> bool {
    false
}

/// No thread TLS yet: `None` makes `spawn` fail.
pub fn tls_layout() -> Option<(usize, usize)> {
    None
}

/// # Safety
/// Never called (tls_layout is None).
pub unsafe fn initialize_tls(allocation: *mut u8) -> usize {
    allocation as usize
}

pub fn boot_stack() -> (usize, usize) {
    let stack = super::image::boot_stack();
    (stack.start as usize, stack.end as usize)
}

/// The libc's per-thread words: the 512 zeroed bytes below the thread pointer
/// (runtime/README.md, "Thread pointer (aarch64)"); 64 bytes from here belong to the
/// libc.
pub fn thread_data_area() -> usize {
    thread_pointer() - 512
}
