//! The Rust side of `syscall(2)` (the variadic entry is `c/syscall.c`, which maps the
//! architecture's numbers to [`Operation`]s): futex, gettid, clock_gettime,
//! sched_getaffinity, sched_yield, getpid, nanosleep, clock_nanosleep, getrandom, statx. What
//! Rust std and
//! C programs call through `syscall()` directly. Failures return -1 with `errno` set,
//! as glibc's `syscall` does.
#![cfg(not(test))]

use core::ffi::{c_int, c_long};
use core::sync::atomic::AtomicU32;

use crate::errno::{self, EAGAIN, EINVAL, ENOSYS, ETIMEDOUT};
use crate::time::Timespec;

/// Operation codes shared with `c/syscall.c`.
#[repr(i32)]
enum Operation {
    Futex = 1,
    Gettid = 2,
    ClockGettime = 3,
    SchedGetaffinity = 4,
    SchedYield = 5,
    Getpid = 6,
    Nanosleep = 7,
    ClockNanosleep = 8,
    Getrandom = 9,
    Statx = 10,
}

// futex(2) operations and flags (Linux uapi linux/futex.h).
const FUTEX_WAIT: c_long = 0;
const FUTEX_WAKE: c_long = 1;
const FUTEX_WAIT_BITSET: c_long = 9;
const FUTEX_WAKE_BITSET: c_long = 10;
const FUTEX_PRIVATE_FLAG: c_long = 128;
const FUTEX_CLOCK_REALTIME: c_long = 256;

fn failure(error: c_int) -> c_long {
    errno::set(error);
    -1
}

/// futex(uaddr, op, val, timeout, uaddr2, val3).
fn futex(
    address: c_long,
    operation: c_long,
    value: c_long,
    timeout: c_long,
    bitset: c_long,
) -> c_long {
    if address == 0 || address % 4 != 0 {
        return failure(EINVAL);
    }
    let command = operation & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = operation & FUTEX_CLOCK_REALTIME != 0;
    match command {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if command == FUTEX_WAIT {
                u32::MAX
            } else {
                bitset as u32
            };
            // SAFETY: the caller passes a timespec or NULL (futex(2)).
            let deadline = match unsafe { (timeout as *const Timespec).as_ref() } {
                None => None,
                Some(time) => {
                    let Some(nanoseconds) = time.to_nanoseconds() else {
                        return failure(EINVAL);
                    };
                    // FUTEX_WAIT: relative on CLOCK_MONOTONIC; FUTEX_WAIT_BITSET:
                    // absolute, on CLOCK_REALTIME with the flag (futex(2)).
                    Some(if command == FUTEX_WAIT {
                        unik_kernel::time::monotonic_nanoseconds().saturating_add(nanoseconds)
                    } else if realtime {
                        unik_kernel::time::monotonic_from_realtime(nanoseconds)
                    } else {
                        nanoseconds
                    })
                }
            };
            // SAFETY: an aligned, live 32-bit word of the caller (futex(2)).
            let word = unsafe { &*(address as *const AtomicU32) };
            use unik_kernel::sched::futex::{FutexError, wait};
            match wait(word, value as u32, deadline, bitset) {
                Ok(()) => 0,
                Err(FutexError::WouldBlock) => failure(EAGAIN),
                Err(FutexError::TimedOut) => failure(ETIMEDOUT),
                Err(FutexError::InvalidArgument) => failure(EINVAL),
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if command == FUTEX_WAKE {
                u32::MAX
            } else {
                bitset as u32
            };
            if bitset == 0 {
                return failure(EINVAL);
            }
            let count = usize::try_from(value).unwrap_or(0);
            unik_kernel::sched::futex::wake(address as usize, count, bitset) as c_long
        }
        _ => failure(ENOSYS),
    }
}

#[unsafe(no_mangle)]
extern "C" fn __unik_syscall_dispatch(
    operation: c_int,
    a0: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
) -> c_long {
    match operation {
        x if x == Operation::Futex as c_int => futex(a0, a1, a2, a3, a5),
        x if x == Operation::Gettid as c_int => c_long::from(unik_kernel::sched::current_id()),
        x if x == Operation::Getpid as c_int => 1,
        x if x == Operation::ClockGettime as c_int => {
            // SAFETY: syscall(2)'s contract: a timespec pointer or NULL.
            c_long::from(unsafe { crate::time::read_clock_into(a0 as c_int, a1 as *mut Timespec) })
        }
        x if x == Operation::SchedYield as c_int => {
            unik_kernel::sched::yield_now();
            0
        }
        x if x == Operation::SchedGetaffinity as c_int => {
            // One CPU: bit 0. The raw system call returns the size of the kernel's mask
            // it wrote (8 bytes here).
            let size = a1 as usize;
            let mask = a2 as *mut u8;
            if size < 8 || mask.is_null() {
                return failure(EINVAL);
            }
            // SAFETY: the caller's buffer of `size` bytes (sched_getaffinity(2)).
            unsafe {
                core::ptr::write_bytes(mask, 0, size);
                *mask = 1;
            }
            8
        }
        x if x == Operation::Nanosleep as c_int => {
            // SAFETY: the caller's timespec or NULL.
            match unsafe { (a0 as *const Timespec).as_ref() }.and_then(Timespec::to_nanoseconds) {
                Some(duration) => {
                    unik_kernel::time::sleep(duration);
                    0
                }
                None => failure(EINVAL),
            }
        }
        x if x == Operation::ClockNanosleep as c_int => {
            // SAFETY: syscall(2)'s contract: a timespec pointer or NULL.
            let status = unsafe {
                crate::time::clock_nanosleep_status(a0 as c_int, a1 as c_int, a2 as *const Timespec)
            };
            if status == 0 { 0 } else { failure(status) }
        }
        x if x == Operation::Getrandom as c_int => {
            // getrandom(buffer, length, flags): src/entropy.rs (EAGAIN, never blocking,
            // without a hardware random source).
            // SAFETY: getrandom(2)'s contract: a buffer of `length` writable bytes.
            unsafe {
                crate::entropy::getrandom_into(a0 as *mut u8, a1 as usize, a2 as u32) as c_long
            }
        }
        x if x == Operation::Statx as c_int => match crate::fs::hooks::installed() {
            // statx(directory, path, flags, mask, record): the files component's
            // (fs/statx.rs); an image without files has no files to describe.
            Some(hooks) => {
                // SAFETY: statx(2)'s contract: a NUL-terminated path (NULL gives EFAULT)
                // and a writable struct statx (NULL gives EFAULT).
                let result = unsafe {
                    (hooks.statx)(
                        a0 as c_int,
                        a1 as *const core::ffi::c_char,
                        a2 as c_int,
                        a3 as u32,
                        a4 as *mut u8,
                    )
                };
                match result {
                    Ok(()) => 0,
                    Err(error) => failure(error),
                }
            }
            None => failure(ENOSYS),
        },
        _ => failure(ENOSYS),
    }
}
