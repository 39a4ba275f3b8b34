//! The C symbols of `<arpa/inet.h>` (the `inet` component): byte order and address
//! text ([`super::text`]), no state but `inet_ntoa`'s buffer.

use core::ffi::{CStr, c_char, c_int, c_void};

use super::lookup::{AF_INET, AF_INET6};
use super::text;
use crate::errno::{self, EAFNOSUPPORT, ENOSPC};

#[unsafe(export_name = "__unik_htons")]
pub extern "C" fn htons(value: u16) -> u16 {
    value.to_be()
}

#[unsafe(export_name = "__unik_ntohs")]
pub extern "C" fn ntohs(value: u16) -> u16 {
    u16::from_be(value)
}

#[unsafe(export_name = "__unik_htonl")]
pub extern "C" fn htonl(value: u32) -> u32 {
    value.to_be()
}

#[unsafe(export_name = "__unik_ntohl")]
pub extern "C" fn ntohl(value: u32) -> u32 {
    u32::from_be(value)
}

/// # Safety
/// `text` is NULL or NUL-terminated.
pub(super) unsafe fn bytes<'a>(text: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: caller's contract.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_bytes())
}

/// inet_pton(3): 1, 0 for text that is no address, -1 (EAFNOSUPPORT) for another family.
///
/// # Safety
/// `source` is NUL-terminated; `destination` holds 4 (AF_INET) or 16 (AF_INET6) bytes.
#[unsafe(export_name = "__unik_inet_pton")]
pub unsafe extern "C" fn inet_pton(
    family: c_int,
    source: *const c_char,
    destination: *mut c_void,
) -> c_int {
    // SAFETY: caller's contract.
    let Some(source) = (unsafe { bytes(source) }) else {
        return 0;
    };
    let destination = destination.cast::<u8>();
    match family {
        AF_INET => match text::parse_ipv4(source) {
            Some(address) => {
                // SAFETY: caller's contract: 4 bytes.
                unsafe { core::ptr::copy_nonoverlapping(address.as_ptr(), destination, 4) };
                1
            }
            None => 0,
        },
        AF_INET6 => match text::parse_ipv6(source) {
            Some(address) => {
                // SAFETY: caller's contract: 16 bytes.
                unsafe { core::ptr::copy_nonoverlapping(address.as_ptr(), destination, 16) };
                1
            }
            None => 0,
        },
        _ => {
            errno::set(EAFNOSUPPORT);
            -1
        }
    }
}

/// Copies `text` and a NUL into `destination` of `size` bytes; false if it does not fit.
///
/// # Safety
/// `destination` is writable for `size` bytes.
pub(super) unsafe fn copy_text(text: &[u8], destination: *mut c_char, size: usize) -> bool {
    if text.len() >= size || destination.is_null() {
        return false;
    }
    // SAFETY: caller's contract; `text.len() + 1 <= size`.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), destination.cast::<u8>(), text.len());
        destination.add(text.len()).write(0);
    }
    true
}

/// inet_ntop(3): `destination`, or NULL with EAFNOSUPPORT or ENOSPC.
///
/// # Safety
/// `source` holds the family's address; `destination` is writable for `size` bytes.
#[unsafe(export_name = "__unik_inet_ntop")]
pub unsafe extern "C" fn inet_ntop(
    family: c_int,
    source: *const c_void,
    destination: *mut c_char,
    size: u32,
) -> *const c_char {
    let formatted = match family {
        AF_INET => {
            let mut address = [0u8; 4];
            // SAFETY: caller's contract: 4 bytes.
            unsafe { core::ptr::copy_nonoverlapping(source.cast::<u8>(), address.as_mut_ptr(), 4) };
            text::format_ipv4(address)
        }
        AF_INET6 => {
            let mut address = [0u8; 16];
            // SAFETY: caller's contract: 16 bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(source.cast::<u8>(), address.as_mut_ptr(), 16)
            };
            text::format_ipv6(address)
        }
        _ => {
            errno::set(EAFNOSUPPORT);
            return core::ptr::null();
        }
    };
    // SAFETY: caller's contract.
    if unsafe { copy_text(formatted.as_bytes(), destination, size as usize) } {
        destination
    } else {
        errno::set(ENOSPC);
        core::ptr::null()
    }
}

/// inet_aton(3): 1 and the address (network order), or 0.
///
/// # Safety
/// `text` is NUL-terminated; `address` is NULL or writable for 4 bytes.
#[unsafe(export_name = "__unik_inet_aton")]
pub unsafe extern "C" fn inet_aton(text: *const c_char, address: *mut u32) -> c_int {
    // SAFETY: caller's contract.
    match unsafe { bytes(text) }.and_then(text::parse_aton) {
        Some(bytes) => {
            if !address.is_null() {
                // SAFETY: caller's contract.
                unsafe { address.write_unaligned(u32::from_ne_bytes(bytes)) };
            }
            1
        }
        None => 0,
    }
}

/// inet_addr(3): the address in network order, or INADDR_NONE (all ones).
///
/// # Safety
/// `text` is NUL-terminated.
#[unsafe(export_name = "__unik_inet_addr")]
pub unsafe extern "C" fn inet_addr(text: *const c_char) -> u32 {
    // SAFETY: caller's contract.
    unsafe { bytes(text) }
        .and_then(text::parse_aton)
        .map_or(u32::MAX, u32::from_ne_bytes)
}

/// inet_ntoa's buffer: one per thread in glibc; one for the program here (the function
/// is documented as not reentrant; threads use inet_ntop).
struct NtoaBuffer(core::cell::UnsafeCell<[u8; 16]>);

// SAFETY: inet_ntoa's documented contract: the buffer is overwritten by the next call;
// concurrent calls race exactly as glibc's did before it became thread-local.
unsafe impl Sync for NtoaBuffer {}

static NTOA: NtoaBuffer = NtoaBuffer(core::cell::UnsafeCell::new([0; 16]));

/// inet_ntoa(3): `a.b.c.d` in a static buffer.
#[unsafe(export_name = "__unik_inet_ntoa")]
pub extern "C" fn inet_ntoa(address: u32) -> *mut c_char {
    let formatted = text::format_ipv4(address.to_ne_bytes());
    let buffer = NTOA.0.get().cast::<u8>();
    let length = formatted.as_bytes().len();
    // SAFETY: at most 15 bytes and the NUL fit the 16-byte buffer (see NtoaBuffer).
    unsafe {
        core::ptr::copy_nonoverlapping(formatted.as_bytes().as_ptr(), buffer, length);
        buffer.add(length).write(0);
    }
    buffer.cast()
}

crate::weak_c_symbols!(
    htons, ntohs, htonl, ntohl, inet_pton, inet_ntop, inet_aton, inet_addr, inet_ntoa
);
