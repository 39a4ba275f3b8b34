//! `errno` and the error messages of `strerror`/`perror`.
//!
//! The values are Linux's (the glibc ABI on x86_64 and aarch64); the texts are glibc's,
//! byte for byte, so programs print what they print on Linux.
//!
//! `errno` lives in this one place: [`location`] is the calling thread's slot.

use core::ffi::CStr;

mod table;
use table::MESSAGES;
pub use table::*;

/// POSIX's name for Linux's `EOPNOTSUPP` (glibc bits/errno.h).
pub const ENOTSUP: i32 = EOPNOTSUPP;

/// Sets `errno` (what the C library does on failure).
pub fn set(value: i32) {
    // SAFETY: `location` is the calling thread's own, aligned errno slot.
    unsafe { location().write(value) }
}

/// The current `errno`.
pub fn get() -> i32 {
    // SAFETY: as in `set`.
    unsafe { location().read() }
}

/// Where `errno` is stored, for C's `errno` macro (`(*__errno_location())`): a slot in
/// the calling thread's TCB (`thread::threads::ERRNO_OFFSET`), so each thread has its
/// own.
#[cfg(not(test))]
pub fn location() -> *mut i32 {
    crate::thread::threads::errno_location()
}

/// The host tests' stand-in: one slot per test thread.
#[cfg(test)]
pub fn location() -> *mut i32 {
    std::thread_local!(static SLOT: core::cell::Cell<i32> = const { core::cell::Cell::new(0) });
    SLOT.with(|slot| slot.as_ptr())
}

/// Room for the longest message built on the fly: "Unknown error -2147483648".
pub const MESSAGE_BUFFER_SIZE: usize = 32;

/// glibc's text for `number`: a fixed message, or "Unknown error N" (the form glibc's
/// `strerror` uses for every value it has no message for, negative ones included).
pub enum Message {
    Known(&'static CStr),
    Unknown([u8; MESSAGE_BUFFER_SIZE], usize),
}

impl Message {
    pub fn for_number(number: i32) -> Message {
        if let Some(message) = usize::try_from(number)
            .ok()
            .and_then(|index| MESSAGES.get(index))
        {
            return Message::Known(message);
        }
        let mut text = [0u8; MESSAGE_BUFFER_SIZE];
        let prefix = b"Unknown error ";
        text[..prefix.len()].copy_from_slice(prefix);
        let length = prefix.len() + write_decimal(&mut text[prefix.len()..], i64::from(number));
        Message::Unknown(text, length)
    }

    /// The message without its NUL terminator.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Message::Known(text) => text.to_bytes(),
            Message::Unknown(text, length) => &text[..*length],
        }
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Message::Known(_))
    }
}

/// Writes `value` in decimal at the start of `out` (which must hold 20 bytes); returns
/// the number of bytes written.
pub fn write_decimal(out: &mut [u8], value: i64) -> usize {
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut magnitude = value.unsigned_abs();
    loop {
        digits[count] = b'0' + (magnitude % 10) as u8;
        count += 1;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    let mut written = 0;
    if value < 0 {
        out[0] = b'-';
        written = 1;
    }
    for digit in digits[..count].iter().rev() {
        out[written] = *digit;
        written += 1;
    }
    written
}

/// XSI `strerror_r` (glibc's `__xpg_strerror_r`): copies the message into `out` with a
/// NUL, truncating if needed. Returns 0, `EINVAL` for an unknown number (the buffer still
/// gets "Unknown error N", as glibc does), or `ERANGE` when `out` was too small.
pub fn copy_message_xsi(number: i32, out: &mut [u8]) -> i32 {
    let message = Message::for_number(number);
    let text = message.bytes();
    let status = if !message.is_known() { EINVAL } else { 0 };
    if out.is_empty() {
        return ERANGE;
    }
    let copied = text.len().min(out.len() - 1);
    out[..copied].copy_from_slice(&text[..copied]);
    out[copied] = 0;
    if copied < text.len() { ERANGE } else { status }
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::c_char;

    /// The address of the calling thread's `errno` (glibc ABI).
    #[unsafe(export_name = "__unik___errno_location")]
    pub extern "C" fn __errno_location() -> *mut i32 {
        location()
    }

    /// Where `strerror` builds "Unknown error N" (glibc uses a per-thread buffer; one
    /// thread today).
    static UNKNOWN_MESSAGE: crate::global::StaticBuffer<MESSAGE_BUFFER_SIZE> =
        crate::global::StaticBuffer::new();

    /// C `strerror` (C11 7.24.6.2).
    #[unsafe(export_name = "__unik_strerror")]
    pub extern "C" fn strerror(number: i32) -> *mut c_char {
        match Message::for_number(number) {
            Message::Known(text) => text.as_ptr().cast_mut(),
            Message::Unknown(text, length) => {
                UNKNOWN_MESSAGE.store_c_string(&text[..length]).cast()
            }
        }
    }

    /// XSI `strerror_r`, which `<string.h>` selects unless `_GNU_SOURCE` is defined.
    ///
    /// # Safety
    /// `buffer` writable for `size` bytes.
    #[unsafe(export_name = "__unik___xpg_strerror_r")]
    pub unsafe extern "C" fn __xpg_strerror_r(
        number: i32,
        buffer: *mut c_char,
        size: usize,
    ) -> i32 {
        if buffer.is_null() {
            return ERANGE;
        }
        // SAFETY: the caller gives `size` writable bytes at `buffer`.
        let out = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) };
        copy_message_xsi(number, out)
    }

    /// GNU `strerror_r`: returns the static message, or builds "Unknown error N" in
    /// `buffer` (truncated to `size`) and returns `buffer`.
    ///
    /// # Safety
    /// `buffer` writable for `size` bytes.
    #[unsafe(export_name = "__unik_strerror_r")]
    pub unsafe extern "C" fn strerror_r(
        number: i32,
        buffer: *mut c_char,
        size: usize,
    ) -> *mut c_char {
        match Message::for_number(number) {
            Message::Known(text) => text.as_ptr().cast_mut(),
            Message::Unknown(..) => {
                if !buffer.is_null() && size > 0 {
                    // SAFETY: as for __xpg_strerror_r.
                    let out = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) };
                    copy_message_xsi(number, out);
                }
                buffer
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn strerror(number: i32) -> *const core::ffi::c_char;
    }

    fn host_message(number: i32) -> Vec<u8> {
        // SAFETY: glibc's strerror returns a valid C string.
        unsafe { CStr::from_ptr(strerror(number)) }
            .to_bytes()
            .to_vec()
    }

    #[test]
    fn messages_equal_the_host_glibc() {
        for number in [
            -5,
            -1,
            0,
            1,
            2,
            11,
            12,
            22,
            34,
            35,
            95,
            110,
            133,
            134,
            999,
            i32::MAX,
            i32::MIN,
        ] {
            assert_eq!(
                Message::for_number(number).bytes(),
                host_message(number).as_slice(),
                "{number}"
            );
        }
    }

    #[test]
    fn xsi_strerror_r_truncates_and_reports() {
        let mut buffer = [0xffu8; 8];
        assert_eq!(copy_message_xsi(ENOENT, &mut buffer), ERANGE);
        assert_eq!(&buffer, b"No such\0");
        let mut large = [0u8; 64];
        assert_eq!(copy_message_xsi(ENOENT, &mut large), 0);
        assert_eq!(copy_message_xsi(999, &mut large), EINVAL);
        assert!(large.starts_with(b"Unknown error 999\0"));
        assert_eq!(copy_message_xsi(1, &mut []), ERANGE);
    }

    #[test]
    fn values_are_linux() {
        assert_eq!(
            (EPERM, ENOMEM, EINVAL, ERANGE, EAGAIN, EWOULDBLOCK),
            (1, 12, 22, 34, 11, 11)
        );
        assert_eq!((ENOSYS, ETIMEDOUT, EHWPOISON), (38, 110, 133));
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(__errno_location, strerror, __xpg_strerror_r, strerror_r);
