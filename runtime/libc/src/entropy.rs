//! `getrandom` and `getentropy` (glibc's <sys/random.h>), the `getrandom` system call
//! and the `/dev/urandom` and `/dev/random` devices: all served by the kernel's one
//! generator (`unik_kernel::random`: ChaCha20 seeded from the CPU's hardware source).
//!
//! Failing closed: on a CPU without a hardware random source (and without a virtio-rng
//! device, `crate::entropy_device`) the generator is never seeded, and every request
//! fails with **EAGAIN** — what Linux's `getrandom` returns
//! with GRND_NONBLOCK while its pool is not initialised, and here the pool never will
//! be. Blocking (what Linux does without GRND_NONBLOCK) would hang the program forever,
//! so every flag gets the non-blocking answer. EAGAIN, and not ENOSYS or EPERM, also
//! keeps Rust std from falling back to reading `/dev/urandom`: std panics with
//! "failed to generate random data: Resource temporarily unavailable (os error 11)".

use crate::errno::EINVAL;
#[cfg(not(test))]
use crate::errno::{self, EAGAIN, EFAULT, EIO};

/// Linux's getrandom flags (uapi linux/random.h).
const GRND_NONBLOCK: u32 = 0x1;
const GRND_RANDOM: u32 = 0x2;
const GRND_INSECURE: u32 = 0x4;

/// The most one `getrandom` call returns (Linux: 32 MiB - 1, getrandom(2)).
pub const GETRANDOM_MAXIMUM: usize = (32 << 20) - 1;
/// The most `getentropy` accepts (POSIX 2024, glibc: 256).
pub const GETENTROPY_MAXIMUM: usize = 256;

/// Checks `getrandom`'s flags and length the way Linux does; the number of bytes to
/// produce, or the errno.
pub fn getrandom_length(length: usize, flags: u32) -> Result<usize, i32> {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(EINVAL);
    }
    Ok(length.min(GETRANDOM_MAXIMUM))
}

/// Fills `buffer` from the generator; EAGAIN without a random source.
#[cfg(not(test))]
pub fn fill(buffer: &mut [u8]) -> Result<(), i32> {
    crate::kernel::random::fill(buffer).map_err(|_| EAGAIN)
}

/// `getrandom(2)` for C callers and the system call: bytes written, or -1 with errno.
///
/// # Safety
/// `buffer` is valid for `length` writable bytes (or `length` is 0).
#[cfg(not(test))]
pub unsafe fn getrandom_into(buffer: *mut u8, length: usize, flags: u32) -> isize {
    let length = match getrandom_length(length, flags) {
        Ok(length) => length,
        Err(error) => {
            errno::set(error);
            return -1;
        }
    };
    if length == 0 {
        return 0;
    }
    if buffer.is_null() {
        errno::set(EFAULT);
        return -1;
    }
    // SAFETY: the caller's buffer of at least `length` bytes.
    let bytes = unsafe { core::slice::from_raw_parts_mut(buffer, length) };
    match fill(bytes) {
        Ok(()) => length as isize,
        Err(error) => {
            errno::set(error);
            -1
        }
    }
}

#[cfg(not(test))]
mod exports {
    use core::ffi::{c_int, c_uint, c_void};

    use super::*;

    /// glibc `getrandom` (<sys/random.h>).
    ///
    /// # Safety
    /// `buffer` is valid for `length` writable bytes.
    #[unsafe(export_name = "__unik_getrandom")]
    pub unsafe extern "C" fn getrandom(buffer: *mut c_void, length: usize, flags: c_uint) -> isize {
        // SAFETY: the caller's contract.
        unsafe { getrandom_into(buffer.cast(), length, flags) }
    }

    /// glibc `getentropy` (<unistd.h>, <sys/random.h>): all `length` bytes (at most
    /// 256, else EIO as glibc) or -1 with errno.
    ///
    /// # Safety
    /// `buffer` is valid for `length` writable bytes.
    #[unsafe(export_name = "__unik_getentropy")]
    pub unsafe extern "C" fn getentropy(buffer: *mut c_void, length: usize) -> c_int {
        if length > GETENTROPY_MAXIMUM {
            errno::set(EIO);
            return -1;
        }
        // SAFETY: the caller's contract.
        if unsafe { getrandom_into(buffer.cast(), length, 0) } < 0 {
            return -1;
        }
        0
    }

    crate::weak_c_symbols!(getrandom, getentropy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_lengths_as_linux() {
        assert_eq!(getrandom_length(16, 0), Ok(16));
        assert_eq!(getrandom_length(16, GRND_NONBLOCK | GRND_RANDOM), Ok(16));
        assert_eq!(getrandom_length(16, GRND_INSECURE), Ok(16));
        assert_eq!(
            getrandom_length(16, GRND_RANDOM | GRND_INSECURE),
            Err(EINVAL)
        );
        assert_eq!(getrandom_length(16, 0x8), Err(EINVAL));
        assert_eq!(getrandom_length(usize::MAX, 0), Ok(GETRANDOM_MAXIMUM));
    }
}
