//! Clocks for the libc's `clock_gettime` family and sleeps (arch independent; the arch
//! provides a monotonic nanosecond counter and the wall-clock time at boot).
//!
//! - monotonic (also MONOTONIC_RAW and BOOTTIME: the machine never suspends and the
//!   counter is never slewed): nanoseconds since boot;
//! - realtime: the RTC's wall-clock time at boot plus the monotonic time. The runtime
//!   has no way to set the clock, so realtime = boot epoch + monotonic exactly, and a
//!   realtime deadline converts to a monotonic one without races.

use crate::arch::threading as arch;

/// Nanoseconds since boot.
pub fn monotonic_nanoseconds() -> u64 {
    arch::monotonic_nanoseconds()
}

/// Nanoseconds since the Unix epoch (UTC).
pub fn realtime_nanoseconds() -> u64 {
    arch::boot_wall_clock_nanoseconds() + arch::monotonic_nanoseconds()
}

/// The monotonic time at which realtime reaches `realtime` (0 when already past).
pub fn monotonic_from_realtime(realtime: u64) -> u64 {
    realtime.saturating_sub(arch::boot_wall_clock_nanoseconds())
}

/// Sleeps for at least `nanoseconds`.
pub fn sleep(nanoseconds: u64) {
    crate::sched::sleep_until(monotonic_nanoseconds().saturating_add(nanoseconds));
}

/// Sleeps until monotonic time `deadline`.
pub fn sleep_until(deadline: u64) {
    crate::sched::sleep_until(deadline);
}

/// CPU time of the calling thread.
pub fn thread_cpu_nanoseconds() -> u64 {
    crate::sched::thread_cpu_nanoseconds()
}

/// CPU time of the whole program (all threads).
pub fn process_cpu_nanoseconds() -> u64 {
    crate::sched::process_cpu_nanoseconds()
}
