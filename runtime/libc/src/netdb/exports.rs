//! The C symbols of `<netdb.h>` (the `netdb` component): getaddrinfo and friends.
//! The structures have glibc's LP64 layouts, the same on x86_64 and aarch64.

extern crate alloc;

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicI32, Ordering};

use super::inet::{bytes, copy_text};
use super::lookup::{
    self, AF_INET, AF_INET6, Address, EAI_FAMILY, EAI_MEMORY, EAI_NONAME, EAI_OVERFLOW, Found,
    Hints, NI_NAMEREQD, NI_NUMERICHOST,
};
use super::text;

/// `struct addrinfo`.
#[repr(C)]
pub struct AddressInfo {
    flags: c_int,
    family: c_int,
    socket_type: c_int,
    protocol: c_int,
    address_length: u32,
    address: *mut u8,
    canonical_name: *mut c_char,
    next: *mut AddressInfo,
}

/// One allocation per result: the addrinfo and the socket address it points to
/// (`struct sockaddr_in` or `sockaddr_in6`, 28 bytes at most).
#[repr(C)]
struct AddressBlock {
    info: AddressInfo,
    storage: [u8; 28],
}

/// `struct sockaddr_in` / `sockaddr_in6` bytes for an address and port.
fn socket_address(address: Address, port: u16, out: &mut [u8; 28]) -> u32 {
    *out = [0; 28];
    let port = port.to_be_bytes();
    match address {
        Address::V4(bytes) => {
            out[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&port);
            out[4..8].copy_from_slice(&bytes);
            16
        }
        Address::V6(bytes) => {
            out[..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&port);
            out[8..24].copy_from_slice(&bytes);
            28
        }
    }
}

/// Resolves a name that is neither numeric nor `localhost` through the network
/// component's DNS client.
fn resolve_name(name: &[u8]) -> Result<alloc::vec::Vec<[u8; 4]>, i32> {
    use crate::net::stack::ResolveError;
    let mut addresses = [[0u8; 4]; 8];
    match crate::net::resolve(name, &mut addresses) {
        Ok(count) => Ok(addresses[..count].to_vec()),
        Err(ResolveError::NoServer | ResolveError::Busy) => Err(lookup::EAI_AGAIN),
        Err(ResolveError::BadName | ResolveError::NotFound | ResolveError::Pending) => {
            Err(EAI_NONAME)
        }
        Err(ResolveError::NoNetwork) => Err(lookup::EAI_FAIL),
    }
}

/// Frees a list built by [`getaddrinfo`].
///
/// # Safety
/// `list` is NULL or a list getaddrinfo returned, not yet freed.
#[unsafe(export_name = "__unik_freeaddrinfo")]
pub unsafe extern "C" fn freeaddrinfo(mut list: *mut AddressInfo) {
    while !list.is_null() {
        // SAFETY: caller's contract: a live block of ours.
        let (next, name) = unsafe { ((*list).next, (*list).canonical_name) };
        // SAFETY: both came from the heap (getaddrinfo) and are freed once.
        unsafe {
            crate::memory::free_pointer(name.cast());
            crate::memory::free_pointer(list.cast());
        }
        list = next;
    }
}

/// Builds the C list for `found`; NULL when memory ran out (what was built is freed).
fn build_list(found: &[Found], canonical: Option<&[u8]>) -> *mut AddressInfo {
    let mut head: *mut AddressInfo = core::ptr::null_mut();
    let mut tail: *mut *mut AddressInfo = &mut head;
    for (index, entry) in found.iter().enumerate() {
        let Some(block) = crate::memory::allocate_zeroed(1, size_of::<AddressBlock>()) else {
            // SAFETY: the list built so far is ours.
            unsafe { freeaddrinfo(head) };
            return core::ptr::null_mut();
        };
        let block = block.as_ptr().cast::<AddressBlock>();
        let mut storage = [0u8; 28];
        let length = socket_address(entry.address, entry.port, &mut storage);
        let mut name: *mut c_char = core::ptr::null_mut();
        if let (0, Some(canonical)) = (index, canonical) {
            match crate::memory::allocate_zeroed(1, canonical.len() + 1) {
                Some(copy) => {
                    // SAFETY: a fresh block of len + 1 zeroed bytes.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            canonical.as_ptr(),
                            copy.as_ptr(),
                            canonical.len(),
                        )
                    };
                    name = copy.as_ptr().cast();
                }
                None => {
                    // SAFETY: the block and the list so far are ours.
                    unsafe {
                        crate::memory::free_pointer(block.cast());
                        freeaddrinfo(head);
                    }
                    return core::ptr::null_mut();
                }
            }
        }
        // SAFETY: `block` is a fresh, suitably aligned allocation of an AddressBlock;
        // `tail` points at `head` or at the previous block's `next`.
        unsafe {
            (*block).storage = storage;
            (*block).info = AddressInfo {
                flags: 0,
                family: match entry.address {
                    Address::V4(_) => AF_INET,
                    Address::V6(_) => AF_INET6,
                },
                socket_type: entry.socket_type,
                protocol: entry.protocol,
                address_length: length,
                address: (&raw mut (*block).storage).cast(),
                canonical_name: name,
                next: core::ptr::null_mut(),
            };
            *tail = &raw mut (*block).info;
            tail = &raw mut (*block).info.next;
        }
    }
    head
}

/// getaddrinfo(3) (lookup.rs says which hosts and services).
///
/// # Safety
/// `host` and `service` are NULL or NUL-terminated; `hints` is NULL or an addrinfo;
/// `result` is writable.
#[unsafe(export_name = "__unik_getaddrinfo")]
pub unsafe extern "C" fn getaddrinfo(
    host: *const c_char,
    service: *const c_char,
    hints: *const AddressInfo,
    result: *mut *mut AddressInfo,
) -> c_int {
    // SAFETY: caller's contract.
    let hints = match unsafe { hints.as_ref() } {
        Some(hints) => Hints {
            flags: hints.flags,
            family: hints.family,
            socket_type: hints.socket_type,
            protocol: hints.protocol,
        },
        None => Hints::default(),
    };
    // SAFETY: caller's contract.
    let (host, service) = unsafe { (bytes(host), bytes(service)) };
    let found = match lookup::resolve(host, service, hints, &mut resolve_name) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let canonical = (hints.flags & lookup::AI_CANONNAME != 0)
        .then_some(host)
        .flatten();
    let list = build_list(&found, canonical);
    if list.is_null() {
        return EAI_MEMORY;
    }
    // SAFETY: caller's contract.
    unsafe { result.write(list) };
    0
}

/// gai_strerror(3).
#[unsafe(export_name = "__unik_gai_strerror")]
pub extern "C" fn gai_strerror(code: c_int) -> *const c_char {
    lookup::error_text(code).as_ptr().cast()
}

/// getnameinfo(3), numeric: there is no reverse DNS and no /etc/services, so hosts are
/// written as addresses (`localhost` for 127.0.0.1 and ::1, as the hosts file of a
/// Linux system says, unless NI_NUMERICHOST) and services as port numbers;
/// NI_NAMEREQD fails with EAI_NONAME for any other address.
///
/// # Safety
/// `address` points to `length` bytes; `host`/`service` are NULL or writable for
/// their lengths.
#[unsafe(export_name = "__unik_getnameinfo")]
pub unsafe extern "C" fn getnameinfo(
    address: *const u8,
    length: u32,
    host: *mut c_char,
    host_length: u32,
    service: *mut c_char,
    service_length: u32,
    flags: c_int,
) -> c_int {
    if address.is_null() || length < 2 {
        return EAI_FAMILY;
    }
    // SAFETY: caller's contract: at least `length` (≥ 2) bytes.
    let family = c_int::from(u16::from_ne_bytes(unsafe { [*address, *address.add(1)] }));
    let (needed,) = match family {
        AF_INET => (16,),
        AF_INET6 => (28,),
        _ => return EAI_FAMILY,
    };
    if length < needed {
        return EAI_FAMILY;
    }
    // SAFETY: `needed` bytes are there (checked above).
    let bytes = unsafe { core::slice::from_raw_parts(address, needed as usize) };
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let parsed = if family == AF_INET {
        Address::V4([bytes[4], bytes[5], bytes[6], bytes[7]])
    } else {
        let mut v6 = [0u8; 16];
        v6.copy_from_slice(&bytes[8..24]);
        Address::V6(v6)
    };
    if !host.is_null() && host_length > 0 {
        let loopback = matches!(parsed, Address::V4([127, 0, 0, 1]))
            || parsed == Address::V6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let name = if loopback && flags & NI_NUMERICHOST == 0 {
            Some(&b"localhost"[..])
        } else if flags & NI_NAMEREQD != 0 {
            return EAI_NONAME;
        } else {
            None
        };
        let formatted = match parsed {
            Address::V4(v4) => text::format_ipv4(v4),
            Address::V6(v6) => text::format_ipv6(v6),
        };
        let written = name.unwrap_or(formatted.as_bytes());
        // SAFETY: caller's contract.
        if !unsafe { copy_text(written, host, host_length as usize) } {
            return EAI_OVERFLOW;
        }
    }
    if !service.is_null() && service_length > 0 {
        let mut digits = [0u8; 24];
        let count = crate::errno::write_decimal(&mut digits, i64::from(port));
        // SAFETY: caller's contract.
        if !unsafe { copy_text(&digits[..count], service, service_length as usize) } {
            return EAI_OVERFLOW;
        }
    }
    0
}

/// `struct hostent`.
#[repr(C)]
pub struct HostEntry {
    name: *mut c_char,
    aliases: *mut *mut c_char,
    address_type: c_int,
    length: c_int,
    addresses: *mut *mut c_char,
}

/// gethostbyname's static result (POSIX: overwritten by the next call; threads use
/// getaddrinfo).
struct HostStorage {
    entry: HostEntry,
    name: [u8; 256],
    addresses: [[u8; 4]; 8],
    address_pointers: [*mut c_char; 9],
    alias_pointers: [*mut c_char; 1],
}

struct HostCell(core::cell::UnsafeCell<HostStorage>);

// SAFETY: gethostbyname's documented contract (not reentrant): callers do not call it
// from two threads at once; the storage is only touched inside it.
unsafe impl Sync for HostCell {}

static HOST: HostCell = HostCell(core::cell::UnsafeCell::new(HostStorage {
    entry: HostEntry {
        name: core::ptr::null_mut(),
        aliases: core::ptr::null_mut(),
        address_type: 0,
        length: 0,
        addresses: core::ptr::null_mut(),
    },
    name: [0; 256],
    addresses: [[0; 4]; 8],
    address_pointers: [core::ptr::null_mut(); 9],
    alias_pointers: [core::ptr::null_mut(); 1],
}));

/// `h_errno` (one for the program).
static HOST_ERROR: AtomicI32 = AtomicI32::new(0);

/// h_errno values (glibc netdb.h).
const HOST_NOT_FOUND: i32 = 1;
const TRY_AGAIN: i32 = 2;
const NO_RECOVERY: i32 = 3;

#[unsafe(export_name = "__unik___h_errno_location")]
pub extern "C" fn h_errno_location() -> *mut c_int {
    HOST_ERROR.as_ptr()
}

/// gethostbyname(3): IPv4 addresses of a name (numeric, `localhost`, or DNS).
///
/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_gethostbyname")]
pub unsafe extern "C" fn gethostbyname(name: *const c_char) -> *mut HostEntry {
    // SAFETY: caller's contract.
    let Some(name) = (unsafe { bytes(name) }) else {
        HOST_ERROR.store(HOST_NOT_FOUND, Ordering::Relaxed);
        return core::ptr::null_mut();
    };
    let hints = Hints {
        family: AF_INET,
        socket_type: lookup::SOCK_STREAM,
        ..Hints::default()
    };
    let found = match lookup::resolve(Some(name), None, hints, &mut resolve_name) {
        Ok(found) => found,
        Err(code) => {
            let error = match code {
                lookup::EAI_AGAIN => TRY_AGAIN,
                lookup::EAI_FAIL => NO_RECOVERY,
                _ => HOST_NOT_FOUND,
            };
            HOST_ERROR.store(error, Ordering::Relaxed);
            return core::ptr::null_mut();
        }
    };
    let storage = HOST.0.get();
    // SAFETY: see HostCell: only this function touches the storage, one call at a time;
    // the pointers stored point into the same static.
    unsafe {
        let storage = &mut *storage;
        let length = name.len().min(255);
        storage.name = [0; 256];
        storage.name[..length].copy_from_slice(&name[..length]);
        storage.address_pointers = [core::ptr::null_mut(); 9];
        for (index, entry) in found.iter().take(8).enumerate() {
            if let Address::V4(bytes) = entry.address {
                storage.addresses[index] = bytes;
                storage.address_pointers[index] = storage.addresses[index].as_mut_ptr().cast();
            }
        }
        storage.alias_pointers = [core::ptr::null_mut()];
        storage.entry = HostEntry {
            name: storage.name.as_mut_ptr().cast(),
            aliases: storage.alias_pointers.as_mut_ptr(),
            address_type: AF_INET,
            length: 4,
            addresses: storage.address_pointers.as_mut_ptr(),
        };
        &raw mut storage.entry
    }
}

/// res_init(3): re-reads the resolver configuration. Here it is the network's (DHCP
/// or `unik.dns=`), always current, so there is nothing to reload (Rust std calls it
/// after a lookup fails with EAI_AGAIN).
#[unsafe(export_name = "__unik___res_init")]
pub extern "C" fn res_init() -> c_int {
    0
}

crate::weak_c_symbols!(
    freeaddrinfo,
    getaddrinfo,
    gai_strerror,
    getnameinfo,
    gethostbyname
);
core::arch::global_asm!(
    ".weak __h_errno_location",
    ".set __h_errno_location, __unik___h_errno_location",
    ".weak __res_init",
    ".set __res_init, __unik___res_init",
    ".weak res_init",
    ".set res_init, __unik___res_init",
);
