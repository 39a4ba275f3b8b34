//! The clock source (the time-stamp counter) and the wall clock at boot (the CMOS RTC).
//!
//! TSC frequency, in order of trust:
//! 1. CPUID leaf 0x15 with a crystal frequency (ECX != 0): TSC = crystal × EBX / EAX
//!    (Intel SDM vol. 2, CPUID, "Time Stamp Counter and Nominal Core Crystal Clock").
//!    Hypervisors that set it (KVM with a fixed TSC) make it exact.
//! 2. The hypervisor's timing leaf 0x40000010 (EAX = TSC frequency in kHz), which
//!    QEMU/KVM (`vmware-cpuid-freq`), VMware and others publish when the hypervisor
//!    leaves (CPUID.1:ECX bit 31, leaf 0x40000000's EAX ≥ 0x40000010) reach it.
//! 3. Calibration against the PIT (8254, 1.193182 MHz), channel 0 in mode 2, polled
//!    with the latch command: needs no IRQ and no port 0x61 (QEMU microvm has no PC
//!    speaker port). Under TCG the TSC follows the host's, which only a measurement
//!    reveals; CPUID 0x16 would state a nominal figure that is not the rate rdtsc runs at.
//!    Five windows of 1 ms, each started and ended on a PIT count change (the only
//!    error is the latency of one port read at each end, about 0.1 %), and their
//!    median (a window the host preempted the emulator in is an outlier).
//! 4. CPUID leaf 0x16 (base frequency in MHz) when there is no PIT.
//! 5. The RTC's seconds edge (one second of waiting) as the last resort.

use core::arch::x86_64::{__cpuid, __cpuid_count, _rdtsc};
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use ::x86_64::instructions::port::Port;

/// Whether the clock was measured: [`UNMEASURED`], [`MEASURING`] or [`MEASURED`].
static STATE: AtomicU8 = AtomicU8::new(UNMEASURED);
const UNMEASURED: u8 = 0;
const MEASURING: u8 = 1;
const MEASURED: u8 = 2;

/// TSC ticks per second, set once.
static TSC_FREQUENCY: AtomicU64 = AtomicU64::new(0);
/// The TSC value at monotonic time 0 (when the clock was measured).
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// ns = ticks × this >> 32 (a 32.32 fixed-point factor).
static NANOSECONDS_PER_TICK_32_32: AtomicU64 = AtomicU64::new(0);
/// Wall-clock time at monotonic time 0, in nanoseconds since the Unix epoch.
static BOOT_WALL_CLOCK: AtomicU64 = AtomicU64::new(0);

/// Where the TSC frequency came from.
#[derive(Clone, Copy)]
pub enum FrequencySource {
    CpuidCrystal,
    Hypervisor,
    Pit,
    CpuidBase,
    RealTimeClock,
}

fn read_tsc() -> u64 {
    // SAFETY: RDTSC is available in ring 0 on every x86_64 CPU.
    unsafe { _rdtsc() }
}

/// Measures the clock on its first use (a clock read, a timed wait, the scheduler's
/// start), not at every boot: the PIT measurement takes 5 ms, and a program that never
/// reads a clock never pays for it. Monotonic time 0 is that moment. The first caller
/// measures; a concurrent one (impossible before the scheduler runs, whose start
/// measures first) waits for it.
pub fn ensure_initialized() {
    if STATE.load(Ordering::Acquire) == MEASURED {
        return;
    }
    measure_once();
}

#[cold]
fn measure_once() {
    match STATE.compare_exchange(UNMEASURED, MEASURING, Ordering::Acquire, Ordering::Acquire) {
        Ok(_) => {
            initialize();
            STATE.store(MEASURED, Ordering::Release);
        }
        Err(_) => {
            while STATE.load(Ordering::Acquire) != MEASURED {
                core::hint::spin_loop();
            }
        }
    }
}

/// Measures the TSC frequency and reads the RTC.
fn initialize() -> (u64, FrequencySource) {
    let (frequency, source) = if let Some(frequency) = cpuid_crystal_frequency() {
        (frequency, FrequencySource::CpuidCrystal)
    } else if let Some(frequency) = hypervisor_frequency() {
        (frequency, FrequencySource::Hypervisor)
    } else if let Some(frequency) = calibrate_with_pit() {
        (frequency, FrequencySource::Pit)
    } else if let Some(frequency) = cpuid_base_frequency() {
        (frequency, FrequencySource::CpuidBase)
    } else {
        (calibrate_with_rtc(), FrequencySource::RealTimeClock)
    };
    TSC_FREQUENCY.store(frequency, Ordering::Relaxed);
    let factor = ((1_000_000_000u128 << 32) / u128::from(frequency)) as u64;
    NANOSECONDS_PER_TICK_32_32.store(factor, Ordering::Relaxed);
    let wall_clock = read_rtc_seconds().map_or(0, |seconds| seconds * 1_000_000_000);
    TSC_AT_BOOT.store(read_tsc(), Ordering::Relaxed);
    BOOT_WALL_CLOCK.store(wall_clock, Ordering::Relaxed);
    (frequency, source)
}

pub fn tsc_frequency() -> u64 {
    ensure_initialized();
    TSC_FREQUENCY.load(Ordering::Relaxed)
}

/// Nanoseconds since the clock's first use.
pub fn monotonic_nanoseconds() -> u64 {
    ensure_initialized();
    let ticks = read_tsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    ticks_to_nanoseconds(ticks)
}

fn ticks_to_nanoseconds(ticks: u64) -> u64 {
    ((u128::from(ticks) * u128::from(NANOSECONDS_PER_TICK_32_32.load(Ordering::Relaxed))) >> 32)
        as u64
}

/// The TSC value at `nanoseconds` of monotonic time (for the TSC-deadline timer).
pub fn tsc_at(nanoseconds: u64) -> u64 {
    ensure_initialized();
    let ticks = u128::from(nanoseconds) * u128::from(tsc_frequency()) / 1_000_000_000;
    TSC_AT_BOOT
        .load(Ordering::Relaxed)
        .wrapping_add(u64::try_from(ticks).unwrap_or(u64::MAX))
}

/// Wall-clock time at monotonic time 0 in nanoseconds since the Unix epoch (0 when the
/// machine has no readable RTC).
pub fn boot_wall_clock_nanoseconds() -> u64 {
    ensure_initialized();
    BOOT_WALL_CLOCK.load(Ordering::Relaxed)
}

fn cpuid_crystal_frequency() -> Option<u64> {
    if __cpuid(0).eax < 0x15 {
        return None;
    }
    let leaf = __cpuid_count(0x15, 0);
    let (denominator, numerator, crystal) = (leaf.eax, leaf.ebx, leaf.ecx);
    if denominator == 0 || numerator == 0 || crystal == 0 {
        return None;
    }
    Some(u64::from(crystal) * u64::from(numerator) / u64::from(denominator))
}

/// The hypervisor leaves' TSC frequency (leaf 0x40000010, EAX in kHz; the "timing
/// information" leaf of the VMware/KVM convention), when a hypervisor publishes it.
fn hypervisor_frequency() -> Option<u64> {
    // CPUID.1:ECX bit 31: running under a hypervisor (leaves 0x4000_00xx are its own).
    if __cpuid(1).ecx & (1 << 31) == 0 || __cpuid(0x4000_0000).eax < 0x4000_0010 {
        return None;
    }
    let kilohertz = __cpuid(0x4000_0010).eax;
    (kilohertz != 0).then(|| u64::from(kilohertz) * 1_000)
}

fn cpuid_base_frequency() -> Option<u64> {
    if __cpuid(0).eax < 0x16 {
        return None;
    }
    let megahertz = __cpuid_count(0x16, 0).eax & 0xffff;
    (megahertz != 0).then(|| u64::from(megahertz) * 1_000_000)
}

/// The PIT's input clock (Intel 8254 data sheet; the IBM PC's 14.31818 MHz / 12).
const PIT_FREQUENCY: u64 = 1_193_182;
const PIT_CHANNEL_0: u16 = 0x40;
const PIT_COMMAND: u16 = 0x43;

fn read_pit_counter() -> u16 {
    let mut command = Port::<u8>::new(PIT_COMMAND);
    let mut channel = Port::<u8>::new(PIT_CHANNEL_0);
    // SAFETY: the 8254's ports; the latch command (channel 0, counter latch: 0x00)
    // freezes the count for the two reads, low byte first.
    unsafe {
        command.write(0x00);
        let low = channel.read();
        let high = channel.read();
        u16::from_le_bytes([low, high])
    }
}

/// TSC ticks per second measured against the PIT, or `None` when there is no PIT: the
/// median of five 1 ms windows. A window starts and ends on a count change; the host
/// may preempt the emulator between a PIT read and the TSC read after it, which spoils
/// that one window, and the median leaves it out.
fn calibrate_with_pit() -> Option<u64> {
    let mut command = Port::<u8>::new(PIT_COMMAND);
    let mut channel = Port::<u8>::new(PIT_CHANNEL_0);
    // SAFETY: 8254 programming: channel 0, low/high byte access, mode 2 (rate
    // generator), binary (0x34); reload value 0 means 65536. The legacy PIC masks IRQ 0
    // (apic.rs), so the channel's output raises no interrupt.
    unsafe {
        command.write(0x34);
        channel.write(0);
        channel.write(0);
    }
    let mut frequencies = [0u64; 5];
    for frequency in &mut frequencies {
        *frequency = pit_window()?;
    }
    frequencies.sort_unstable();
    Some(frequencies[frequencies.len() / 2]).filter(|&hertz| hertz > 0)
}

/// One window of ~1 ms (1193 PIT ticks): TSC ticks per second over it.
fn pit_window() -> Option<u64> {
    const TARGET: u64 = PIT_FREQUENCY / 1000;
    // Waits for the count to change; `None` when it never does (an absent PIT reads
    // 0xffff forever, a present one moves within a few port reads).
    let next_change = |previous: u16| -> Option<(u16, u64)> {
        for _ in 0..100_000 {
            let current = read_pit_counter();
            if current != previous {
                return Some((current, read_tsc()));
            }
        }
        None
    };
    let (mut previous, start) = next_change(read_pit_counter())?;
    let mut elapsed: u64 = 0;
    let mut end = start;
    while elapsed < TARGET {
        let (current, at) = next_change(previous)?;
        // The counter counts down and wraps from 1 to 65536 (read as 0).
        elapsed += u64::from(previous.wrapping_sub(current));
        previous = current;
        end = at;
    }
    let ticks = end.wrapping_sub(start);
    u64::try_from(u128::from(ticks) * u128::from(PIT_FREQUENCY) / u128::from(elapsed)).ok()
}

/// TSC ticks between two edges of the RTC's seconds counter.
fn calibrate_with_rtc() -> u64 {
    let wait_for_edge = || {
        let first = read_cmos(0x00);
        while read_cmos(0x00) == first {
            core::hint::spin_loop();
        }
        read_tsc()
    };
    let start = wait_for_edge();
    let end = wait_for_edge();
    end.wrapping_sub(start).max(1)
}

const CMOS_INDEX: u16 = 0x70;
const CMOS_DATA: u16 = 0x71;

fn read_cmos(register: u8) -> u8 {
    let mut index = Port::<u8>::new(CMOS_INDEX);
    let mut data = Port::<u8>::new(CMOS_DATA);
    // SAFETY: the CMOS index/data ports; bit 7 of the index keeps NMIs enabled (clear).
    unsafe {
        index.write(register & 0x7f);
        data.read()
    }
}

/// The RTC's date and time, read twice until two reads agree (the RTC may update
/// between the bytes; MC146818 data sheet: "update in progress" is register A bit 7).
fn read_rtc_seconds() -> Option<u64> {
    let read_all = || {
        while read_cmos(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [
            read_cmos(0x00),
            read_cmos(0x02),
            read_cmos(0x04),
            read_cmos(0x07),
            read_cmos(0x08),
            read_cmos(0x09),
            read_cmos(0x32),
        ]
    };
    let mut values = read_all();
    for _ in 0..8 {
        let again = read_all();
        if again == values {
            break;
        }
        values = again;
    }
    let status_b = read_cmos(0x0b);
    // Register B bit 2: binary (else BCD); bit 1: 24-hour (else 12-hour with bit 7 of
    // the hour = PM).
    let binary = status_b & 0x04 != 0;
    let twenty_four_hour = status_b & 0x02 != 0;
    let decode = |value: u8| -> u64 {
        if binary {
            u64::from(value)
        } else {
            u64::from(value >> 4) * 10 + u64::from(value & 0x0f)
        }
    };
    let [second, minute, hour_raw, day, month, year, century] = values;
    let second = decode(second);
    let minute = decode(minute);
    let mut hour = decode(hour_raw & 0x7f);
    if !twenty_four_hour {
        hour %= 12;
        if hour_raw & 0x80 != 0 {
            hour += 12;
        }
    }
    let day = decode(day);
    let month = decode(month);
    // QEMU's RTC keeps the century in register 0x32 (the ACPI FADT's default); without a
    // plausible one, years 00-69 are 20xx.
    let century = match decode(century) {
        century @ 19..=21 => century,
        _ if decode(year) < 70 => 20,
        _ => 19,
    };
    let year = century * 100 + decode(year);
    if second > 60 || minute > 59 || hour > 23 || !(1..=31).contains(&day) {
        return None;
    }
    if !(1..=12).contains(&month) || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year ≥ 1970): Howard Hinnant's
/// `days_from_civil` algorithm ("chrono-Compatible Low-Level Date Algorithms").
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
