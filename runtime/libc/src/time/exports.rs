//! The `<time.h>`, `<sys/time.h>` and sleep functions of `<unistd.h>`.

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};

use super::calendar::{broken_down, seconds_from};
use super::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_THREAD_CPUTIME_ID,
    TIMER_ABSTIME, Timespec, Tm, ZONE_GMT, ZONE_UTC,
};
use crate::errno::{self, EINVAL, EOVERFLOW};
use crate::global::Global;
use unik_kernel::time as clock;

/// The clock's current value in nanoseconds, or `None` for an unknown clock.
pub fn read_clock(clock_id: c_int) -> Option<u64> {
    Some(match clock_id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => clock::realtime_nanoseconds(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            clock::monotonic_nanoseconds()
        }
        CLOCK_PROCESS_CPUTIME_ID => clock::process_cpu_nanoseconds(),
        CLOCK_THREAD_CPUTIME_ID => clock::thread_cpu_nanoseconds(),
        _ => return None,
    })
}

#[unsafe(export_name = "__unik_clock_gettime")]
extern "C" fn clock_gettime(clock_id: c_int, time: *mut Timespec) -> c_int {
    // SAFETY: the caller's timespec (POSIX).
    unsafe { read_clock_into(clock_id, time) }
}

/// `clock_gettime`'s body, for `syscall(SYS_clock_gettime, …)` too: 0, or -1 with
/// `errno` set.
///
/// # Safety
/// `time` is NULL or points at a writable `struct timespec`.
#[inline(always)]
pub unsafe fn read_clock_into(clock_id: c_int, time: *mut Timespec) -> c_int {
    let Some(nanoseconds) = read_clock(clock_id) else {
        errno::set(EINVAL);
        return -1;
    };
    // SAFETY: the caller's timespec (POSIX).
    match unsafe { time.as_mut() } {
        Some(time) => *time = Timespec::from_nanoseconds(nanoseconds),
        None => {
            errno::set(errno::EFAULT);
            return -1;
        }
    }
    0
}

#[unsafe(export_name = "__unik_clock_getres")]
extern "C" fn clock_getres(clock_id: c_int, resolution: *mut Timespec) -> c_int {
    let value = match clock_id {
        // The coarse clocks read the same counter; Linux reports its tick (4 ms with
        // HZ=250) for them, which programs use to pick a clock: keep that.
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => 4_000_000,
        _ if read_clock(clock_id).is_some() => 1,
        _ => {
            errno::set(EINVAL);
            return -1;
        }
    };
    // SAFETY: NULL or the caller's timespec.
    if let Some(resolution) = unsafe { resolution.as_mut() } {
        *resolution = Timespec::from_nanoseconds(value);
    }
    0
}

/// `struct timeval`.
#[repr(C)]
pub struct Timeval {
    seconds: i64,
    microseconds: i64,
}

#[unsafe(export_name = "__unik_gettimeofday")]
extern "C" fn gettimeofday(time: *mut Timeval, _zone: *mut c_void) -> c_int {
    let now = clock::realtime_nanoseconds();
    // SAFETY: NULL or the caller's timeval.
    if let Some(time) = unsafe { time.as_mut() } {
        time.seconds = (now / 1_000_000_000) as i64;
        time.microseconds = (now % 1_000_000_000 / 1000) as i64;
    }
    0
}

#[unsafe(export_name = "__unik_time")]
extern "C" fn time(result: *mut i64) -> i64 {
    let seconds = (clock::realtime_nanoseconds() / 1_000_000_000) as i64;
    // SAFETY: NULL or the caller's time_t.
    if let Some(result) = unsafe { result.as_mut() } {
        *result = seconds;
    }
    seconds
}

/// `clock`: processor time in CLOCKS_PER_SEC (1 000 000, as POSIX requires) units.
#[unsafe(export_name = "__unik_clock")]
extern "C" fn clock() -> c_long {
    (clock::process_cpu_nanoseconds() / 1000) as c_long
}

/// Sleeps until `deadline` (monotonic). Never interrupted: no signals exist.
fn sleep_until(deadline: u64) {
    clock::sleep_until(deadline);
}

#[unsafe(export_name = "__unik_nanosleep")]
extern "C" fn nanosleep(request: *const Timespec, _remaining: *mut Timespec) -> c_int {
    // SAFETY: NULL or the caller's timespec.
    let Some(duration) = unsafe { request.as_ref() }.and_then(Timespec::to_nanoseconds) else {
        errno::set(EINVAL);
        return -1;
    };
    sleep_until(clock::monotonic_nanoseconds().saturating_add(duration));
    0
}

#[unsafe(export_name = "__unik_clock_nanosleep")]
extern "C" fn clock_nanosleep(
    clock_id: c_int,
    flags: c_int,
    request: *const Timespec,
    _remaining: *mut Timespec,
) -> c_int {
    // SAFETY: the caller's timespec (POSIX).
    unsafe { clock_nanosleep_status(clock_id, flags, request) }
}

/// `clock_nanosleep` without the unused `remaining`: 0 or an errno value.
///
/// # Safety
/// `request` is NULL or points at a `struct timespec`.
pub unsafe fn clock_nanosleep_status(
    clock_id: c_int,
    flags: c_int,
    request: *const Timespec,
) -> c_int {
    // SAFETY: NULL or the caller's timespec.
    let Some(time) = unsafe { request.as_ref() }.and_then(Timespec::to_nanoseconds) else {
        return EINVAL;
    };
    let deadline = if flags & TIMER_ABSTIME != 0 {
        match clock_id {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE => clock::monotonic_from_realtime(time),
            CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => time,
            // Linux: sleeping on the calling thread's own CPU clock is EINVAL.
            CLOCK_THREAD_CPUTIME_ID => return EINVAL,
            CLOCK_PROCESS_CPUTIME_ID => return errno::ENOTSUP,
            _ => return EINVAL,
        }
    } else {
        if read_clock(clock_id).is_none() || clock_id == CLOCK_THREAD_CPUTIME_ID {
            return EINVAL;
        }
        clock::monotonic_nanoseconds().saturating_add(time)
    };
    sleep_until(deadline);
    0
}

#[unsafe(export_name = "__unik_usleep")]
extern "C" fn usleep(microseconds: c_uint) -> c_int {
    sleep_until(clock::monotonic_nanoseconds() + u64::from(microseconds) * 1000);
    0
}

#[unsafe(export_name = "__unik_sleep")]
extern "C" fn sleep(seconds: c_uint) -> c_uint {
    sleep_until(clock::monotonic_nanoseconds() + u64::from(seconds) * 1_000_000_000);
    0
}

/// `pause`: waits for a signal, and a unikernel delivers none, so it blocks the
/// calling thread for good (Linux's behaviour for a process that gets no signal). The
/// scheduler still sees it: when every thread waits like this, the run is reported
/// and ended instead of hanging. Rust's std calls it in a thread that loses the race to
/// `exit`.
#[unsafe(export_name = "__unik_pause")]
extern "C" fn pause() -> c_int {
    static NEVER_WOKEN: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    loop {
        // Only a spurious return gets here; wait again.
        let _ = unik_kernel::sched::futex::wait(&NEVER_WOKEN, 0, None, u32::MAX);
    }
}

/// The static `struct tm` and `asctime` buffer of the non-reentrant functions (glibc
/// shares one `tm` between gmtime and localtime).
static STATIC_TM: Global<Tm> = Global::new(Tm::ZERO);
static STATIC_ASCTIME: Global<[u8; 64]> = Global::new([0; 64]);

fn convert(time: *const i64, result: *mut Tm, zone: *const u8) -> *mut Tm {
    // SAFETY: the caller's time_t (POSIX).
    let Some(&seconds) = (unsafe { time.as_ref() }) else {
        errno::set(errno::EFAULT);
        return core::ptr::null_mut();
    };
    match broken_down(seconds, zone) {
        Some(tm) => {
            // SAFETY: the caller's (or the static) struct tm.
            unsafe { result.write(tm) };
            result
        }
        None => {
            errno::set(EOVERFLOW);
            core::ptr::null_mut()
        }
    }
}

#[unsafe(export_name = "__unik_gmtime_r")]
extern "C" fn gmtime_r(time: *const i64, result: *mut Tm) -> *mut Tm {
    convert(time, result, ZONE_GMT.as_ptr())
}

#[unsafe(export_name = "__unik_localtime_r")]
extern "C" fn localtime_r(time: *const i64, result: *mut Tm) -> *mut Tm {
    convert(time, result, ZONE_UTC.as_ptr())
}

#[unsafe(export_name = "__unik_gmtime")]
extern "C" fn gmtime(time: *const i64) -> *mut Tm {
    convert(time, STATIC_TM.as_ptr(), ZONE_GMT.as_ptr())
}

#[unsafe(export_name = "__unik_localtime")]
extern "C" fn localtime(time: *const i64) -> *mut Tm {
    convert(time, STATIC_TM.as_ptr(), ZONE_UTC.as_ptr())
}

fn make_time(tm: *mut Tm, zone: *const u8) -> i64 {
    // SAFETY: the caller's struct tm (POSIX).
    let Some(tm) = (unsafe { tm.as_mut() }) else {
        errno::set(errno::EFAULT);
        return -1;
    };
    seconds_from(tm, zone).unwrap_or_else(|| {
        errno::set(EOVERFLOW);
        -1
    })
}

#[unsafe(export_name = "__unik_mktime")]
extern "C" fn mktime(tm: *mut Tm) -> i64 {
    make_time(tm, ZONE_UTC.as_ptr())
}

#[unsafe(export_name = "__unik_timegm")]
extern "C" fn timegm(tm: *mut Tm) -> i64 {
    make_time(tm, ZONE_GMT.as_ptr())
}

#[unsafe(export_name = "__unik_difftime")]
extern "C" fn difftime(end: i64, start: i64) -> f64 {
    end as f64 - start as f64
}

#[unsafe(export_name = "__unik_strftime")]
extern "C" fn strftime(
    buffer: *mut c_char,
    size: usize,
    format: *const c_char,
    tm: *const Tm,
) -> usize {
    if buffer.is_null() || format.is_null() || size == 0 {
        return 0;
    }
    // SAFETY: the caller's objects (C11 7.27.3.5): a buffer of `size` bytes, a C string
    // and a struct tm.
    let (buffer, format, tm) = unsafe {
        (
            core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size),
            core::ffi::CStr::from_ptr(format).to_bytes(),
            &*tm,
        )
    };
    super::format::strftime(buffer, format, tm)
}

#[unsafe(export_name = "__unik_asctime_r")]
extern "C" fn asctime_r(tm: *const Tm, buffer: *mut c_char) -> *mut c_char {
    let mut text = [0u8; 64];
    // SAFETY: the caller's struct tm.
    let length = super::format::asctime(&mut text, unsafe { &*tm });
    // POSIX: the buffer holds at least 26 bytes; glibc writes what the year needs.
    // SAFETY: the caller's buffer (POSIX).
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast(), length + 1) };
    buffer
}

#[unsafe(export_name = "__unik_asctime")]
extern "C" fn asctime(tm: *const Tm) -> *mut c_char {
    asctime_r(tm, STATIC_ASCTIME.as_ptr().cast())
}

#[unsafe(export_name = "__unik_ctime_r")]
extern "C" fn ctime_r(time: *const i64, buffer: *mut c_char) -> *mut c_char {
    let mut tm = Tm::default();
    if localtime_r(time, &mut tm).is_null() {
        return core::ptr::null_mut();
    }
    asctime_r(&tm, buffer)
}

#[unsafe(export_name = "__unik_ctime")]
extern "C" fn ctime(time: *const i64) -> *mut c_char {
    let tm = localtime(time);
    if tm.is_null() {
        return core::ptr::null_mut();
    }
    asctime(tm)
}

/// `tzset`: the zone is always UTC.
#[unsafe(export_name = "__unik_tzset")]
extern "C" fn tzset() {}

crate::weak_c_symbols!(
    clock_gettime,
    clock_getres,
    gettimeofday,
    time,
    clock,
    nanosleep,
    clock_nanosleep,
    usleep,
    pause,
    sleep,
    gmtime_r,
    localtime_r,
    gmtime,
    localtime,
    mktime,
    timegm,
    difftime,
    strftime,
    asctime_r,
    asctime,
    ctime_r,
    ctime,
    tzset,
);
