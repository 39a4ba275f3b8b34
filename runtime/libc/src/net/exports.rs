//! The C symbols of the `net` component: <sys/socket.h>, the socket options, and the
//! socket side of read/write/close/ioctl. Layouts are glibc's (the same on x86_64 and
//! aarch64): `struct sockaddr_in` is 16 bytes (family, port and address in network
//! order, 8 zero bytes), `struct msghdr` 56, `struct timeval` two longs.

use core::ffi::{c_int, c_void};

use super::stack::{self, Address, Errno, Kind};
use super::{blocking, with_stack};
use crate::errno::{
    self, EAFNOSUPPORT, EAGAIN, EFAULT, EINVAL, ENOPROTOOPT, ENOTTY, EPROTONOSUPPORT,
};

crate::weak_c_symbols!(
    socket,
    bind,
    listen,
    accept,
    accept4,
    connect,
    send,
    recv,
    sendto,
    recvfrom,
    sendmsg,
    recvmsg,
    shutdown,
    setsockopt,
    getsockopt,
    getsockname,
    getpeername,
);

pub static SOCKET_HOOKS: crate::fs::hooks::SocketHooks = crate::fs::hooks::SocketHooks {
    read: |index, buffer, nonblocking| {
        receive(index, buffer, nonblocking, 0).map(|(count, _)| count)
    },
    write: |index, data, nonblocking| transmit(index, data, nonblocking, None, 0),
    close: |index| {
        let _ = with_stack(|stack| {
            stack.close(index);
            Ok(())
        });
    },
    readiness: |index| {
        let events = with_stack(|stack| Ok(stack.readiness(index))).unwrap_or(stack::POLLERR);
        (events, super::last_change())
    },
    drain: super::drain,
};

const AF_INET: u16 = 2;
const SOCK_TYPE_MASK: c_int = 0xf;
const SOCK_NONBLOCK: c_int = 0o4000;
const SOCK_CLOEXEC: c_int = 0o2000000;
const IPPROTO_IP: c_int = 0;
const IPPROTO_TCP: c_int = 6;
const IPPROTO_UDP: c_int = 17;
const SOL_SOCKET: c_int = 1;
const MSG_PEEK: c_int = 0x2;
const MSG_DONTWAIT: c_int = 0x40;
const MSG_WAITALL: c_int = 0x100;
const SOCKADDR_IN_SIZE: u32 = 16;

fn value<T: From<i8>>(result: Result<T, Errno>) -> T {
    result.unwrap_or_else(|error| {
        errno::set(error);
        T::from(-1)
    })
}

fn status(result: Result<(), Errno>) -> c_int {
    value(result.map(|()| 0))
}

/// The socket behind a descriptor and whether it is non-blocking.
fn socket_of(descriptor: c_int) -> Result<(usize, bool), Errno> {
    crate::fs::with(|system| system.socket_of(descriptor))
}

/// Reads a `struct sockaddr_in`.
///
/// # Safety
/// `address` is NULL or readable for `length` bytes.
unsafe fn read_address(address: *const c_void, length: u32) -> Result<Address, Errno> {
    if address.is_null() {
        return Err(EFAULT);
    }
    if length < 2 {
        return Err(EINVAL);
    }
    // SAFETY: at least the two family bytes are readable (caller's contract).
    let family = unsafe { address.cast::<u16>().read_unaligned() };
    if family != AF_INET {
        return Err(EAFNOSUPPORT);
    }
    if length < SOCKADDR_IN_SIZE {
        return Err(EINVAL);
    }
    // SAFETY: 16 bytes are readable (checked above, caller's contract).
    let bytes = unsafe { address.cast::<[u8; 16]>().read_unaligned() };
    Ok(Address {
        port: u16::from_be_bytes([bytes[2], bytes[3]]),
        ip: [bytes[4], bytes[5], bytes[6], bytes[7]],
    })
}

/// Writes a `struct sockaddr_in` (cut to `*length`, which becomes its full size).
///
/// # Safety
/// `address` NULL, or writable for `*length` bytes with `length` valid.
unsafe fn write_address(
    address: *mut c_void,
    length: *mut u32,
    value: Address,
) -> Result<(), Errno> {
    if address.is_null() || length.is_null() {
        return Ok(());
    }
    let mut bytes = [0u8; 16];
    bytes[..2].copy_from_slice(&AF_INET.to_ne_bytes());
    bytes[2..4].copy_from_slice(&value.port.to_be_bytes());
    bytes[4..8].copy_from_slice(&value.ip);
    // SAFETY: caller's contract.
    let room = unsafe { length.read() } as usize;
    // SAFETY: caller's contract: `room` bytes are writable.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), address.cast::<u8>(), room.min(16));
        length.write(SOCKADDR_IN_SIZE);
    }
    Ok(())
}

fn receive(
    index: usize,
    buffer: &mut [u8],
    nonblocking: bool,
    flags: c_int,
) -> Result<(usize, Option<Address>), Errno> {
    let timeout = with_stack(|stack| Ok(stack.options(index)?.receive_timeout))?;
    let nonblocking = nonblocking || flags & MSG_DONTWAIT != 0;
    let peek = flags & MSG_PEEK != 0;
    let mut received = 0;
    let mut from = None;
    loop {
        let (count, sender) = match blocking(nonblocking, timeout, |stack| {
            stack.receive(index, &mut buffer[received..], peek)
        }) {
            Ok(result) => result,
            Err(_) if received > 0 => return Ok((received, from)),
            Err(error) => return Err(error),
        };
        received += count;
        from = from.or(sender);
        // MSG_WAITALL on a stream: until the buffer is full or the stream ends.
        let stream = with_stack(|stack| stack.kind(index))? == Kind::Stream;
        if flags & MSG_WAITALL == 0 || !stream || count == 0 || received == buffer.len() || peek {
            return Ok((received, from));
        }
    }
}

fn transmit(
    index: usize,
    data: &[u8],
    nonblocking: bool,
    to: Option<Address>,
    flags: c_int,
) -> Result<usize, Errno> {
    let (timeout, kind) =
        with_stack(|stack| Ok((stack.options(index)?.send_timeout, stack.kind(index)?)))?;
    let nonblocking = nonblocking || flags & MSG_DONTWAIT != 0;
    if kind == Kind::Datagram {
        // A first datagram may go out before DHCP's lease: it waits for it.
        return match super::once_configured(nonblocking, |stack| stack.send(index, data, to)) {
            Err(EAGAIN) => blocking(nonblocking, timeout, |stack| stack.send(index, data, to)),
            other => other,
        };
    }
    // A blocking stream send returns once every byte is queued (send(2)).
    let mut sent = 0;
    loop {
        match blocking(nonblocking, timeout, |stack| {
            stack.send(index, &data[sent..], None)
        }) {
            Ok(count) => sent += count,
            Err(_) if sent > 0 => return Ok(sent),
            Err(error) => return Err(error),
        }
        if sent == data.len() || nonblocking {
            return Ok(sent);
        }
    }
}

/// A descriptor for socket `index` (the socket is closed again when none is free).
fn open_descriptor(index: usize, flags: c_int) -> Result<c_int, Errno> {
    crate::fs::with(|system| system.open_socket(index, flags)).inspect_err(|_| {
        let _ = with_stack(|stack| {
            stack.close(index);
            Ok(())
        });
    })
}

#[unsafe(export_name = "__unik_socket")]
pub extern "C" fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int {
    value((|| {
        stack::check_family(domain)?;
        if kind & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let socket_kind = match (kind & SOCK_TYPE_MASK, protocol) {
            (stack::SOCK_STREAM, 0 | IPPROTO_TCP) => Kind::Stream,
            (stack::SOCK_DGRAM, 0 | IPPROTO_UDP) => Kind::Datagram,
            (stack::SOCK_STREAM | stack::SOCK_DGRAM, _) => return Err(EPROTONOSUPPORT),
            _ => return Err(EINVAL),
        };
        let index = with_stack(|stack| stack.open(socket_kind))?;
        open_descriptor(index, kind & (SOCK_NONBLOCK | SOCK_CLOEXEC))
    })())
}

/// # Safety
/// `address` is readable for `length` bytes.
#[unsafe(export_name = "__unik_bind")]
pub unsafe extern "C" fn bind(descriptor: c_int, address: *const c_void, length: u32) -> c_int {
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        // SAFETY: caller's contract.
        let address = unsafe { read_address(address, length) }?;
        with_stack(|stack| stack.bind(index, address))
    })())
}

#[unsafe(export_name = "__unik_listen")]
pub extern "C" fn listen(descriptor: c_int, backlog: c_int) -> c_int {
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        with_stack(|stack| stack.listen(index, backlog))
    })())
}

/// # Safety
/// `address` NULL or writable for `*length` bytes.
#[unsafe(export_name = "__unik_accept4")]
pub unsafe extern "C" fn accept4(
    descriptor: c_int,
    address: *mut c_void,
    length: *mut u32,
    flags: c_int,
) -> c_int {
    value((|| {
        if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let (index, nonblocking) = socket_of(descriptor)?;
        if !with_stack(|stack| stack.is_listening(index))? {
            return Err(EINVAL);
        }
        let timeout = with_stack(|stack| Ok(stack.options(index)?.receive_timeout))?;
        let (accepted, peer) = blocking(nonblocking, timeout, |stack| stack.accept(index))?;
        let new = open_descriptor(accepted, flags)?;
        // SAFETY: caller's contract.
        unsafe { write_address(address, length, peer) }?;
        Ok(new)
    })())
}

/// # Safety
/// As accept4.
#[unsafe(export_name = "__unik_accept")]
pub unsafe extern "C" fn accept(
    descriptor: c_int,
    address: *mut c_void,
    length: *mut u32,
) -> c_int {
    // SAFETY: caller's contract.
    unsafe { accept4(descriptor, address, length, 0) }
}

/// # Safety
/// `address` is readable for `length` bytes.
#[unsafe(export_name = "__unik_connect")]
pub unsafe extern "C" fn connect(descriptor: c_int, address: *const c_void, length: u32) -> c_int {
    status((|| {
        let (index, nonblocking) = socket_of(descriptor)?;
        // SAFETY: caller's contract.
        let address = unsafe { read_address(address, length) }?;
        super::connect(index, nonblocking, address)
    })())
}

/// # Safety
/// `data` readable for `length` bytes; `address` readable for `address_length`.
#[unsafe(export_name = "__unik_sendto")]
pub unsafe extern "C" fn sendto(
    descriptor: c_int,
    data: *const c_void,
    length: usize,
    flags: c_int,
    address: *const c_void,
    address_length: u32,
) -> isize {
    value((|| {
        let (index, nonblocking) = socket_of(descriptor)?;
        let to = if address.is_null() {
            None
        } else {
            // SAFETY: caller's contract.
            Some(unsafe { read_address(address, address_length) }?)
        };
        let data = if length == 0 {
            &[][..]
        } else if data.is_null() {
            return Err(EFAULT);
        } else {
            // SAFETY: caller's contract.
            unsafe { core::slice::from_raw_parts(data.cast::<u8>(), length) }
        };
        transmit(index, data, nonblocking, to, flags).map(|count| count as isize)
    })())
}

/// # Safety
/// `data` readable for `length` bytes.
#[unsafe(export_name = "__unik_send")]
pub unsafe extern "C" fn send(
    descriptor: c_int,
    data: *const c_void,
    length: usize,
    flags: c_int,
) -> isize {
    // SAFETY: caller's contract.
    unsafe { sendto(descriptor, data, length, flags, core::ptr::null(), 0) }
}

/// # Safety
/// `buffer` writable for `length` bytes; `address` NULL or writable for
/// `*address_length`.
#[unsafe(export_name = "__unik_recvfrom")]
pub unsafe extern "C" fn recvfrom(
    descriptor: c_int,
    buffer: *mut c_void,
    length: usize,
    flags: c_int,
    address: *mut c_void,
    address_length: *mut u32,
) -> isize {
    value((|| {
        let (index, nonblocking) = socket_of(descriptor)?;
        let buffer = if length == 0 {
            &mut [][..]
        } else if buffer.is_null() {
            return Err(EFAULT);
        } else {
            // SAFETY: caller's contract.
            unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) }
        };
        let (count, from) = receive(index, buffer, nonblocking, flags)?;
        if let Some(from) = from {
            // SAFETY: caller's contract.
            unsafe { write_address(address, address_length, from) }?;
        }
        Ok(count as isize)
    })())
}

/// # Safety
/// `buffer` writable for `length` bytes.
#[unsafe(export_name = "__unik_recv")]
pub unsafe extern "C" fn recv(
    descriptor: c_int,
    buffer: *mut c_void,
    length: usize,
    flags: c_int,
) -> isize {
    // SAFETY: caller's contract.
    unsafe {
        recvfrom(
            descriptor,
            buffer,
            length,
            flags,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    }
}

/// glibc's `struct msghdr`.
#[repr(C)]
pub struct MessageHeader {
    name: *mut c_void,
    name_length: u32,
    io_vectors: *mut IoVector,
    io_vector_count: usize,
    control: *mut c_void,
    control_length: usize,
    flags: c_int,
}

#[repr(C)]
pub struct IoVector {
    base: *mut c_void,
    length: usize,
}

/// # Safety
/// `message` points at a valid msghdr whose vectors are readable.
#[unsafe(export_name = "__unik_sendmsg")]
pub unsafe extern "C" fn sendmsg(
    descriptor: c_int,
    message: *const MessageHeader,
    flags: c_int,
) -> isize {
    value((|| {
        if message.is_null() {
            return Err(EFAULT);
        }
        // SAFETY: caller's contract.
        let message = unsafe { &*message };
        // One datagram (or one stream write) of the gathered bytes.
        let mut data = alloc::vec::Vec::new();
        for position in 0..message.io_vector_count {
            // SAFETY: caller's contract: io_vector_count vectors.
            let vector = unsafe { &*message.io_vectors.add(position) };
            if vector.length > 0 {
                // SAFETY: each vector's base is readable for its length.
                data.extend_from_slice(unsafe {
                    core::slice::from_raw_parts(vector.base.cast::<u8>(), vector.length)
                });
            }
        }
        // SAFETY: the message's name, as sendto's address.
        Ok(unsafe {
            sendto(
                descriptor,
                data.as_ptr().cast(),
                data.len(),
                flags,
                message.name,
                message.name_length,
            )
        })
    })())
}

/// # Safety
/// `message` points at a valid msghdr whose vectors are writable.
#[unsafe(export_name = "__unik_recvmsg")]
pub unsafe extern "C" fn recvmsg(
    descriptor: c_int,
    message: *mut MessageHeader,
    flags: c_int,
) -> isize {
    value((|| {
        if message.is_null() {
            return Err(EFAULT);
        }
        // SAFETY: caller's contract.
        let message = unsafe { &mut *message };
        let total: usize = (0..message.io_vector_count)
            // SAFETY: caller's contract: io_vector_count vectors.
            .map(|position| unsafe { (*message.io_vectors.add(position)).length })
            .sum();
        let mut data = alloc::vec![0u8; total];
        let (index, nonblocking) = socket_of(descriptor)?;
        let (count, from) = receive(index, &mut data, nonblocking, flags)?;
        let mut copied = 0;
        for position in 0..message.io_vector_count {
            // SAFETY: as above.
            let vector = unsafe { &*message.io_vectors.add(position) };
            let take = vector.length.min(count - copied);
            if take > 0 {
                // SAFETY: each vector's base is writable for its length.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        data.as_ptr().add(copied),
                        vector.base.cast::<u8>(),
                        take,
                    )
                };
            }
            copied += take;
        }
        if let Some(from) = from
            && !message.name.is_null()
        {
            // SAFETY: the message's name buffer, name_length bytes.
            unsafe { write_address(message.name, &raw mut message.name_length, from) }?;
        } else {
            message.name_length = 0;
        }
        message.control_length = 0;
        message.flags = 0;
        Ok(count as isize)
    })())
}

#[unsafe(export_name = "__unik_shutdown")]
pub extern "C" fn shutdown(descriptor: c_int, how: c_int) -> c_int {
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        with_stack(|stack| stack.shutdown(index, how))
    })())
}

fn read_int(value: *const c_void, length: u32) -> Result<c_int, Errno> {
    if value.is_null() {
        return Err(EFAULT);
    }
    if (length as usize) < core::mem::size_of::<c_int>() {
        return Err(EINVAL);
    }
    // SAFETY: checked non-null and long enough; the caller's buffer.
    Ok(unsafe { value.cast::<c_int>().read_unaligned() })
}

/// `struct timeval` as nanoseconds (0: no timeout).
fn read_timeval(value: *const c_void, length: u32) -> Result<u64, Errno> {
    if value.is_null() {
        return Err(EFAULT);
    }
    if (length as usize) < 16 {
        return Err(EINVAL);
    }
    // SAFETY: checked non-null and 16 bytes long; the caller's buffer.
    let [seconds, microseconds] = unsafe { value.cast::<[i64; 2]>().read_unaligned() };
    if seconds < 0 || !(0..1_000_000).contains(&microseconds) {
        return Err(crate::errno::EDOM);
    }
    Ok((seconds as u64).saturating_mul(1_000_000_000) + microseconds as u64 * 1000)
}

/// SO_* option numbers (asm-generic/socket.h: the same on x86_64 and aarch64).
mod option {
    pub const SO_REUSEADDR: i32 = 2;
    pub const SO_TYPE: i32 = 3;
    pub const SO_ERROR: i32 = 4;
    pub const SO_BROADCAST: i32 = 6;
    pub const SO_SNDBUF: i32 = 7;
    pub const SO_RCVBUF: i32 = 8;
    pub const SO_KEEPALIVE: i32 = 9;
    pub const SO_LINGER: i32 = 13;
    pub const SO_REUSEPORT: i32 = 15;
    pub const SO_RCVTIMEO: i32 = 20;
    pub const SO_SNDTIMEO: i32 = 21;
    pub const SO_ACCEPTCONN: i32 = 30;
    pub const TCP_NODELAY: i32 = 1;
    pub const TCP_KEEPIDLE: i32 = 4;
    pub const TCP_KEEPINTVL: i32 = 5;
    pub const TCP_KEEPCNT: i32 = 6;
    pub const IP_TOS: i32 = 1;
    pub const IP_TTL: i32 = 2;
}

/// # Safety
/// `value` readable for `length` bytes.
#[unsafe(export_name = "__unik_setsockopt")]
pub unsafe extern "C" fn setsockopt(
    descriptor: c_int,
    level: c_int,
    name: c_int,
    value: *const c_void,
    length: u32,
) -> c_int {
    use option::*;
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        with_stack(|stack| {
            let options = stack.options(index)?;
            match (level, name) {
                (SOL_SOCKET, SO_REUSEADDR) => options.reuse_address = read_int(value, length)? != 0,
                (SOL_SOCKET, SO_REUSEPORT) => options.reuse_port = read_int(value, length)? != 0,
                (SOL_SOCKET, SO_KEEPALIVE) => options.keep_alive = read_int(value, length)? != 0,
                (SOL_SOCKET, SO_BROADCAST) => options.broadcast = read_int(value, length)? != 0,
                // Linux doubles the value (room for its bookkeeping) and reports that.
                (SOL_SOCKET, SO_RCVBUF) => {
                    options.receive_buffer =
                        (read_int(value, length)?.max(1152) as u32).saturating_mul(2)
                }
                (SOL_SOCKET, SO_SNDBUF) => {
                    options.send_buffer =
                        (read_int(value, length)?.max(2304) as u32).saturating_mul(2)
                }
                (SOL_SOCKET, SO_RCVTIMEO) => options.receive_timeout = read_timeval(value, length)?,
                (SOL_SOCKET, SO_SNDTIMEO) => options.send_timeout = read_timeval(value, length)?,
                // Accepted; close always finishes gracefully in the background.
                (SOL_SOCKET, SO_LINGER) => {}
                (IPPROTO_TCP, TCP_NODELAY) => options.no_delay = read_int(value, length)? != 0,
                (IPPROTO_TCP, TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT) => {
                    read_int(value, length)?;
                }
                (IPPROTO_IP, IP_TOS | IP_TTL) => {
                    read_int(value, length)?;
                }
                _ => return Err(ENOPROTOOPT),
            }
            stack.apply_options(index)
        })
    })())
}

/// # Safety
/// `value` writable for `*length` bytes, `length` valid.
#[unsafe(export_name = "__unik_getsockopt")]
pub unsafe extern "C" fn getsockopt(
    descriptor: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    length: *mut u32,
) -> c_int {
    use option::*;
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        if value.is_null() || length.is_null() {
            return Err(EFAULT);
        }
        enum Answer {
            Int(c_int),
            Time(u64),
        }
        let answer = with_stack(|stack| {
            let listening = stack.is_listening(index)?;
            let kind = stack.kind(index)?;
            if (level, name) == (SOL_SOCKET, SO_ERROR) {
                return Ok(Answer::Int(stack.take_error(index)?));
            }
            let options = stack.options(index)?;
            Ok(match (level, name) {
                (SOL_SOCKET, SO_REUSEADDR) => Answer::Int(options.reuse_address.into()),
                (SOL_SOCKET, SO_REUSEPORT) => Answer::Int(options.reuse_port.into()),
                (SOL_SOCKET, SO_KEEPALIVE) => Answer::Int(options.keep_alive.into()),
                (SOL_SOCKET, SO_BROADCAST) => Answer::Int(options.broadcast.into()),
                (SOL_SOCKET, SO_RCVBUF) => Answer::Int(options.receive_buffer as c_int),
                (SOL_SOCKET, SO_SNDBUF) => Answer::Int(options.send_buffer as c_int),
                (SOL_SOCKET, SO_RCVTIMEO) => Answer::Time(options.receive_timeout),
                (SOL_SOCKET, SO_SNDTIMEO) => Answer::Time(options.send_timeout),
                (SOL_SOCKET, SO_TYPE) => Answer::Int(match kind {
                    Kind::Stream => stack::SOCK_STREAM,
                    Kind::Datagram => stack::SOCK_DGRAM,
                }),
                (SOL_SOCKET, SO_ACCEPTCONN) => Answer::Int(listening.into()),
                (IPPROTO_TCP, TCP_NODELAY) => Answer::Int(options.no_delay.into()),
                _ => return Err(ENOPROTOOPT),
            })
        })?;
        // SAFETY: caller's contract.
        let room = unsafe { length.read() } as usize;
        let (bytes, size): ([u8; 16], usize) = match answer {
            Answer::Int(number) => {
                let mut bytes = [0; 16];
                bytes[..4].copy_from_slice(&number.to_ne_bytes());
                (bytes, 4)
            }
            Answer::Time(nanoseconds) => {
                let mut bytes = [0; 16];
                bytes[..8].copy_from_slice(&((nanoseconds / 1_000_000_000) as i64).to_ne_bytes());
                bytes[8..]
                    .copy_from_slice(&((nanoseconds % 1_000_000_000 / 1000) as i64).to_ne_bytes());
                (bytes, 16)
            }
        };
        let written = room.min(size);
        // SAFETY: caller's contract: `room` bytes writable.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), value.cast::<u8>(), written);
            length.write(written as u32);
        }
        Ok(())
    })())
}

/// getsockname/getpeername: one of the socket's addresses into the caller's buffer.
///
/// # Safety
/// `address` NULL or writable for `*length` bytes.
unsafe fn socket_name(
    descriptor: c_int,
    address: *mut c_void,
    length: *mut u32,
    which: fn(&mut stack::Stack<super::device::Nic>, usize) -> Result<Address, Errno>,
) -> c_int {
    status((|| {
        let (index, _) = socket_of(descriptor)?;
        if address.is_null() || length.is_null() {
            return Err(EFAULT);
        }
        let name = with_stack(|stack| which(stack, index))?;
        // SAFETY: caller's contract.
        unsafe { write_address(address, length, name) }
    })())
}

/// # Safety
/// `address` NULL or writable for `*length` bytes.
#[unsafe(export_name = "__unik_getsockname")]
pub unsafe extern "C" fn getsockname(
    descriptor: c_int,
    address: *mut c_void,
    length: *mut u32,
) -> c_int {
    // SAFETY: caller's contract.
    unsafe { socket_name(descriptor, address, length, stack::Stack::local_address) }
}

/// # Safety
/// `address` NULL or writable for `*length` bytes.
#[unsafe(export_name = "__unik_getpeername")]
pub unsafe extern "C" fn getpeername(
    descriptor: c_int,
    address: *mut c_void,
    length: *mut u32,
) -> c_int {
    // SAFETY: caller's contract.
    unsafe { socket_name(descriptor, address, length, stack::Stack::peer_address) }
}

/// ioctl(2) on a socket (the C layer's variadic `ioctl` calls this for every
/// descriptor): FIONBIO and FIONREAD; ENOTTY otherwise.
///
/// # Safety
/// `argument` points at an int for both requests.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __unik_net_ioctl(
    descriptor: c_int,
    request: u64,
    argument: *mut c_void,
) -> c_int {
    const FIONREAD: u64 = 0x541b;
    const FIONBIO: u64 = 0x5421;
    status((|| {
        match request {
            FIONBIO => {
                let on = read_int(argument, 4)? != 0;
                crate::fs::with(|system| system.set_nonblocking(descriptor, on))
            }
            FIONREAD => {
                let (index, _) = socket_of(descriptor)?;
                if argument.is_null() {
                    return Err(EFAULT);
                }
                let pending = with_stack(|stack| stack.pending(index))?;
                // SAFETY: caller's contract: an int.
                unsafe {
                    argument
                        .cast::<c_int>()
                        .write_unaligned(pending.min(c_int::MAX as usize) as c_int)
                };
                Ok(())
            }
            _ => {
                socket_of(descriptor)?;
                Err(ENOTTY)
            }
        }
    })())
}

/// Keeps EAGAIN's name in use for readers: a non-blocking call that would wait fails
/// with it (EWOULDBLOCK is the same number).
const _: c_int = EAGAIN;

extern crate alloc;
