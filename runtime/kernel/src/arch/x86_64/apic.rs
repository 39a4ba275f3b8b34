//! The local APIC: its timer is the one interrupt source of the scheduler (preemption
//! slices and timed waits, programmed one-shot: the kernel is tickless).
//!
//! x2APIC (MSRs) when CPUID has it, else xAPIC (memory-mapped at the IA32_APIC_BASE
//! address, mapped uncached at boot). TSC-deadline mode when CPUID.1:ECX bit 24 says so,
//! else one-shot mode with the LAPIC timer's rate measured against the TSC.
//! Spec: Intel SDM vol. 3A chapter 11 "Advanced Programmable Interrupt Controller",
//! 11.5.4 "APIC Timer", 11.12 "Extended XAPIC (x2APIC)".

use core::arch::x86_64::__cpuid;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ::x86_64::instructions::port::Port;
use ::x86_64::registers::model_specific::Msr;

use super::clock;
use super::interrupts::{SPURIOUS_VECTOR, TIMER_VECTOR};
use super::mapping::{self, PageAccess};

const IA32_APIC_BASE: u32 = 0x1b;
const IA32_TSC_DEADLINE: u32 = 0x6e0;
/// IA32_APIC_BASE bits: global enable (11), x2APIC mode (10).
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const APIC_X2APIC_ENABLE: u64 = 1 << 10;

/// Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16.
mod register {
    pub const END_OF_INTERRUPT: u32 = 0x0b0;
    pub const SPURIOUS_VECTOR: u32 = 0x0f0;
    pub const LVT_TIMER: u32 = 0x320;
    pub const TIMER_INITIAL_COUNT: u32 = 0x380;
    pub const TIMER_CURRENT_COUNT: u32 = 0x390;
    pub const TIMER_DIVIDE: u32 = 0x3e0;
}

/// LVT timer modes (bits 17-18).
const TIMER_MODE_ONE_SHOT: u32 = 0;
const TIMER_MODE_TSC_DEADLINE: u32 = 2 << 17;

static X2APIC: AtomicBool = AtomicBool::new(false);
static TSC_DEADLINE: AtomicBool = AtomicBool::new(false);
/// The xAPIC register page (identity mapped), when not in x2APIC mode.
static XAPIC_BASE: AtomicU64 = AtomicU64::new(0);
/// LAPIC timer ticks per second (divide by 1), for one-shot mode.
static TIMER_FREQUENCY: AtomicU64 = AtomicU64::new(0);

fn write_register(offset: u32, value: u32) {
    if X2APIC.load(Ordering::Relaxed) {
        let mut msr = Msr::new(0x800 + offset / 16);
        // SAFETY: an x2APIC register MSR that exists (SDM table 11-6), in x2APIC mode.
        unsafe { msr.write(u64::from(value)) };
    } else {
        let address = XAPIC_BASE.load(Ordering::Relaxed) + u64::from(offset);
        // SAFETY: the xAPIC page is mapped uncached (initialize); 32-bit aligned access
        // to a defined register (SDM 11.4.1).
        unsafe { core::ptr::write_volatile(address as *mut u32, value) };
    }
}

fn read_register(offset: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) {
        let msr = Msr::new(0x800 + offset / 16);
        // SAFETY: as in write_register.
        unsafe { msr.read() as u32 }
    } else {
        let address = XAPIC_BASE.load(Ordering::Relaxed) + u64::from(offset);
        // SAFETY: as in write_register.
        unsafe { core::ptr::read_volatile(address as *const u32) }
    }
}

/// Why the timer could not be set up.
pub enum ApicError {
    /// CPUID.1:EDX bit 9: no local APIC.
    NoApic,
    /// The xAPIC page could not be mapped.
    Mapping,
}

/// Masks the legacy 8259 PICs (their IRQ 0 would arrive on vector 8, the double fault's,
/// if a firmware left them unmasked), enables the LAPIC and measures its timer.
///
/// # Safety
/// Called once at boot with interrupts off, after the IDT routes the timer and spurious
/// vectors and after the heap exists (the xAPIC page may need a page table).
pub unsafe fn initialize() -> Result<(), ApicError> {
    // SAFETY: OCW1 of both 8259s (data ports 0x21, 0xa1): mask every line. On a machine
    // without them the writes go nowhere.
    unsafe {
        Port::<u8>::new(0x21).write(0xff);
        Port::<u8>::new(0xa1).write(0xff);
    }
    let features = __cpuid(1);
    if features.edx & (1 << 9) == 0 {
        return Err(ApicError::NoApic);
    }
    let has_x2apic = features.ecx & (1 << 21) != 0;
    TSC_DEADLINE.store(features.ecx & (1 << 24) != 0, Ordering::Relaxed);
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists when CPUID says there is an APIC.
    let base = unsafe { base_msr.read() };
    if has_x2apic {
        // SAFETY: enabling x2APIC mode from xAPIC mode (SDM 11.12.5: set EN and EXTD).
        unsafe { base_msr.write(base | APIC_GLOBAL_ENABLE | APIC_X2APIC_ENABLE) };
        X2APIC.store(true, Ordering::Relaxed);
    } else {
        let page = base & 0x000f_ffff_ffff_f000;
        // SAFETY: the APIC's register page, device memory nothing else maps.
        unsafe { mapping::map_page(page, page, PageAccess::Device) }
            .map_err(|_| ApicError::Mapping)?;
        XAPIC_BASE.store(page, Ordering::Relaxed);
        // SAFETY: global enable in the base MSR, base address unchanged.
        unsafe { base_msr.write(base | APIC_GLOBAL_ENABLE) };
    }
    // Software enable (bit 8) with the spurious vector.
    write_register(
        register::SPURIOUS_VECTOR,
        0x100 | u32::from(SPURIOUS_VECTOR),
    );
    // Divide by 1 (divide configuration 0b1011).
    write_register(register::TIMER_DIVIDE, 0b1011);
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        write_register(
            register::LVT_TIMER,
            TIMER_MODE_TSC_DEADLINE | u32::from(TIMER_VECTOR),
        );
    } else {
        measure_timer_frequency();
        write_register(
            register::LVT_TIMER,
            TIMER_MODE_ONE_SHOT | u32::from(TIMER_VECTOR),
        );
    }
    Ok(())
}

/// Counts the LAPIC timer down for 2 ms of TSC time (masked, so no interrupt; at QEMU's 1 GHz
/// with divide 1, 2 ms is 2 million counts, a few counts of error at either end).
fn measure_timer_frequency() {
    // Masked (bit 16), one-shot.
    write_register(register::LVT_TIMER, 1 << 16 | u32::from(TIMER_VECTOR));
    write_register(register::TIMER_INITIAL_COUNT, u32::MAX);
    let start = clock::monotonic_nanoseconds();
    while clock::monotonic_nanoseconds() - start < 2_000_000 {
        core::hint::spin_loop();
    }
    let elapsed = clock::monotonic_nanoseconds() - start;
    let counted = u64::from(u32::MAX - read_register(register::TIMER_CURRENT_COUNT));
    write_register(register::TIMER_INITIAL_COUNT, 0);
    let frequency = (u128::from(counted) * 1_000_000_000 / u128::from(elapsed.max(1))) as u64;
    TIMER_FREQUENCY.store(frequency.max(1), Ordering::Relaxed);
}

/// Programs one timer interrupt at monotonic time `deadline` (nanoseconds), or none.
/// Replaces any earlier programming. Interrupts must be off.
pub fn set_timer(deadline: Option<u64>) {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        // Writing 0 disarms the timer (SDM 11.5.4.1).
        let value = deadline.map_or(0, |nanoseconds| clock::tsc_at(nanoseconds).max(1));
        let mut msr = Msr::new(IA32_TSC_DEADLINE);
        // SAFETY: the TSC-deadline MSR exists (CPUID said so) and the LVT is in
        // TSC-deadline mode.
        unsafe { msr.write(value) };
        return;
    }
    let count = match deadline {
        None => 0,
        Some(deadline) => {
            let delay = deadline.saturating_sub(clock::monotonic_nanoseconds());
            let ticks = u128::from(delay) * u128::from(TIMER_FREQUENCY.load(Ordering::Relaxed))
                / 1_000_000_000;
            // At least one tick (0 would disarm); a delay beyond 32 bits of ticks fires
            // early and the scheduler programs the rest.
            u32::try_from(ticks).unwrap_or(u32::MAX).max(1)
        }
    };
    write_register(register::TIMER_INITIAL_COUNT, count);
}

/// Signals the end of the interrupt being handled (SDM 11.8.5).
pub fn end_of_interrupt() {
    write_register(register::END_OF_INTERRUPT, 0);
}
