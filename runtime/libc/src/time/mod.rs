//! `<time.h>` and `<sys/time.h>`: clocks and sleeps over the kernel's clocks, and the
//! calendar conversions (UTC only: the runtime has no time zone database, so
//! `localtime` is `gmtime` with the zone named "UTC", as glibc with `TZ=UTC`).
//!
//! The calendar logic is safe Rust over [`Tm`], unit-tested on the host against known
//! values; glibc's behaviour is the reference (field normalisation in `mktime`, `%Z` is
//! "GMT" after `gmtime` and "UTC" after `localtime`, the C locale's `%c`/`%x`/`%X`).

pub mod calendar;
pub mod format;

#[cfg(not(test))]
mod exports;
#[cfg(not(test))]
pub use exports::{clock_nanosleep_status, read_clock_into};

/// Clock ids (Linux uapi `time.h`).
pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
pub const CLOCK_MONOTONIC_RAW: i32 = 4;
pub const CLOCK_REALTIME_COARSE: i32 = 5;
pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
pub const CLOCK_BOOTTIME: i32 = 7;
/// `clock_nanosleep` flag: the time is absolute.
pub const TIMER_ABSTIME: i32 = 1;

/// `struct timespec` (LP64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub seconds: i64,
    pub nanoseconds: i64,
}

impl Timespec {
    pub fn from_nanoseconds(nanoseconds: u64) -> Timespec {
        Timespec {
            seconds: (nanoseconds / 1_000_000_000) as i64,
            nanoseconds: (nanoseconds % 1_000_000_000) as i64,
        }
    }

    /// Nanoseconds, or `None` for an invalid value (negative, nanoseconds out of range:
    /// EINVAL); saturates far in the future.
    pub fn to_nanoseconds(&self) -> Option<u64> {
        if self.seconds < 0 || !(0..1_000_000_000).contains(&self.nanoseconds) {
            return None;
        }
        Some(
            (self.seconds as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(self.nanoseconds as u64),
        )
    }
}

/// `struct tm` (glibc LP64: nine ints, then `tm_gmtoff` and `tm_zone`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub second: i32,
    pub minute: i32,
    pub hour: i32,
    pub day_of_month: i32,
    pub month: i32,
    /// Years since 1900.
    pub year: i32,
    pub day_of_week: i32,
    pub day_of_year: i32,
    pub is_dst: i32,
    pub gmt_offset: i64,
    pub zone: *const u8,
}

impl Tm {
    /// All fields zero and no zone name: a fresh `struct tm`.
    pub const ZERO: Tm = Tm {
        second: 0,
        minute: 0,
        hour: 0,
        day_of_month: 0,
        month: 0,
        year: 0,
        day_of_week: 0,
        day_of_year: 0,
        is_dst: 0,
        gmt_offset: 0,
        zone: core::ptr::null(),
    };
}

impl Default for Tm {
    fn default() -> Tm {
        Tm::ZERO
    }
}

/// The zone names `tm_zone` points at.
pub static ZONE_GMT: [u8; 4] = *b"GMT\0";
pub static ZONE_UTC: [u8; 4] = *b"UTC\0";
