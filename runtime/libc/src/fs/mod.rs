//! Files: a RAM file system holding the tree embedded in the image (and the
//! `--initrd` archive), the descriptor layer over it, `FILE` streams on files and
//! directory streams. The `files` component (runtime/components.toml).
//!
//! - [`cpio`]: the newc archive reader (the embedded tree's and the initrd's format);
//! - [`gzip`]: gzip members around an initrd's archive;
//! - [`tree`]: the nodes and every path operation, with Linux's errno values;
//! - [`descriptors`]: descriptor table, open file descriptions, working directory;
//! - [`hooks`]: how the always-linked console code reaches this module;
//! - `exports`: the C symbols (the variadic and layout-dependent ones are in
//!   `c/files.c`).
//!
//! All state is one [`Global`] (one lock): file operations are short copies, and the
//! console is written only after the lock is released.

extern crate alloc;

pub mod cpio;
pub mod descriptors;
pub mod gzip;
pub mod hooks;
pub mod readiness;
pub mod statx;
pub mod tree;
pub mod waitable;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::c_void;

use crate::global::Global;
use crate::stdio::{Buffering, Buffers, Stream};
use descriptors::{FileSystem, Transfer};
use tree::Errno;

/// The whole file system.
pub static FILE_SYSTEM: Global<FileSystem> = Global::new(FileSystem::new());

/// Runs `body` on the file system; if it changed an object's state (the readiness
/// generation moved), wakes every thread waiting for a change once the lock is released.
///
/// Every state change wakes here, whatever the operation: a read or write of a pipe, but
/// also a close or dup2 that drops a pipe's last write end (end of file for a reader
/// blocked on it) or last read end (EPIPE for a blocked writer), and eventfd or
/// socketpair changes. A change that bumped the generation without a wake would leave a
/// thread that blocked before it asleep for good.
pub fn with<R>(body: impl FnOnce(&mut FileSystem) -> R) -> R {
    let before = readiness::generation();
    let result = FILE_SYSTEM.with(body);
    if readiness::generation() != before {
        readiness::wake_waiters();
    }
    result
}

/// Does the console part of a transfer the table decided on, without the lock.
fn console_read(role: i32, buffer: &mut [u8]) -> Result<usize, Errno> {
    match role {
        0 => Ok(crate::kernel::console::read(buffer)),
        _ => Err(crate::errno::EBADF),
    }
}

fn console_write(role: i32, bytes: &[u8]) -> Result<usize, Errno> {
    match role {
        1 => crate::kernel::console::write(bytes),
        2 => crate::kernel::console::write_err(bytes),
        _ => return Err(crate::errno::EBADF),
    }
    Ok(bytes.len())
}

/// Blocks until an object changed since `seen` (another thread read, wrote or closed).
/// Without the scheduler there is no other thread, and the wait returns at once.
fn wait_for_pipes(seen: u32) {
    crate::thread::sync::futex_wait(&readiness::CHANGES, seen, None).ok();
}

fn socket_read(index: usize, buffer: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
    match hooks::sockets() {
        Some(sockets) => (sockets.read)(index, buffer, nonblocking),
        None => Err(crate::errno::EBADF),
    }
}

fn socket_write(index: usize, bytes: &[u8], nonblocking: bool) -> Result<usize, Errno> {
    match hooks::sockets() {
        Some(sockets) => (sockets.write)(index, bytes, nonblocking),
        None => Err(crate::errno::EBADF),
    }
}

/// A read of `/dev/random` or `/dev/urandom`: the random generator's bytes. Without a
/// random source it fails closed: EAGAIN on a non-blocking descriptor (what Linux
/// returns before its pool is seeded), else EIO — Linux would block until the pool is
/// seeded, which here is never, and a hang tells the program nothing.
pub(super) fn random_read(buffer: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
    match crate::kernel::random::fill(buffer) {
        Ok(()) => Ok(buffer.len()),
        Err(_) if nonblocking => Err(crate::errno::EAGAIN),
        Err(_) => Err(crate::errno::EIO),
    }
}

/// read(2) on any descriptor; blocks on an empty pipe whose write end is open.
pub fn read(descriptor: i32, buffer: &mut [u8]) -> Result<usize, Errno> {
    loop {
        match with(|system| system.read(descriptor, buffer, None))? {
            Transfer::Done(count) => return Ok(count),
            Transfer::Console(role) => return console_read(role, buffer),
            Transfer::Wait(seen) => wait_for_pipes(seen),
            Transfer::Socket { index, nonblocking } => {
                return socket_read(index, buffer, nonblocking);
            }
            Transfer::Random { nonblocking } => return random_read(buffer, nonblocking),
        }
    }
}

/// write(2) on any descriptor. On a blocking pipe it returns once every byte is in
/// (write(2): "blocks until all data is written"), waiting for readers as needed.
pub fn write(descriptor: i32, bytes: &[u8]) -> Result<usize, Errno> {
    let mut written = 0;
    loop {
        match with(|system| system.write(descriptor, &bytes[written..], None)) {
            Ok(Transfer::Done(count)) => {
                written += count;
                if written == bytes.len() || count == 0 {
                    return Ok(written);
                }
            }
            Ok(Transfer::Console(role)) => return console_write(role, bytes),
            Ok(Transfer::Wait(seen)) => wait_for_pipes(seen),
            Ok(Transfer::Socket { index, nonblocking }) => {
                return socket_write(index, bytes, nonblocking);
            }
            // Writes to the random devices are discarded by the table itself.
            Ok(Transfer::Random { .. }) => return Ok(bytes.len()),
            // A non-blocking pipe that filled up after part of the data went in.
            Err(_) if written > 0 => return Ok(written),
            Err(error) => return Err(error),
        }
    }
}

#[cfg_attr(test, allow(dead_code))]
fn write_all(descriptor: i32, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let written = write(descriptor, bytes)?;
        bytes = &bytes[written..];
    }
    Ok(())
}

#[cfg_attr(test, allow(dead_code))]
fn seek(descriptor: i32, offset: i64, whence: i32) -> Result<i64, Errno> {
    with(|system| system.seek(descriptor, offset, whence))
}

fn is_terminal(descriptor: i32) -> Result<bool, Errno> {
    with(|system| {
        let object = system.node_of(descriptor)?;
        Ok(matches!(object, descriptors::Object::Console(_)))
    })
}

// ---- FILE streams on files ----

/// A `FILE` on a file: the stream and whether it is open. Streams are allocated on
/// first need and reused after `fclose` (never freed: a `FILE *` the program still
/// holds after `fclose` then points at a closed stream, which is rejected with
/// EBADF, instead of at freed memory).
struct PooledStream {
    stream: &'static Global<Stream>,
    open: bool,
}

static STREAMS: Global<Vec<PooledStream>> = Global::new(Vec::new());

/// The open file stream at `file`, if it is one.
pub fn stream_for(file: *const c_void) -> Option<&'static Global<Stream>> {
    STREAMS.with(|streams| {
        streams
            .iter()
            .find(|pooled| {
                pooled.open && core::ptr::addr_eq(pooled.stream as *const Global<Stream>, file)
            })
            .map(|pooled| pooled.stream)
    })
}

/// A stream on `descriptor` (fully buffered: a file is not a terminal, C11 7.21.3p7),
/// or ENOMEM.
pub fn new_stream(descriptor: i32) -> Result<&'static Global<Stream>, Errno> {
    let buffering = if is_terminal(descriptor).unwrap_or(false) {
        Buffering::Line
    } else {
        Buffering::Full
    };
    let reused = STREAMS.with(|streams| {
        streams
            .iter_mut()
            .find(|pooled| !pooled.open)
            .map(|pooled| {
                pooled.open = true;
                pooled.stream
            })
    });
    let stream = match reused {
        Some(stream) => stream,
        None => {
            let buffers: &'static Buffers = Box::leak(Box::new(Buffers::new()));
            let stream: &'static Global<Stream> = Box::leak(Box::new(Global::new(Stream::new(
                descriptor, buffering, buffers,
            ))));
            STREAMS.with(|streams| {
                streams.try_reserve(1).map_err(|_| crate::errno::ENOMEM)?;
                streams.push(PooledStream { stream, open: true });
                Ok::<(), Errno>(())
            })?;
            stream
        }
    };
    stream.with(|stream| stream.reset(descriptor, buffering));
    Ok(stream)
}

/// Marks a pooled stream closed (after its descriptor was closed).
pub fn release_stream(file: *const c_void) {
    STREAMS.with(|streams| {
        if let Some(pooled) = streams
            .iter_mut()
            .find(|pooled| core::ptr::addr_eq(pooled.stream as *const Global<Stream>, file))
        {
            pooled.open = false;
        }
    });
}

#[cfg_attr(test, allow(dead_code))]
fn flush_streams() -> bool {
    let open: Vec<&'static Global<Stream>> = STREAMS.with(|streams| {
        streams
            .iter()
            .filter(|pooled| pooled.open)
            .map(|pooled| pooled.stream)
            .collect()
    });
    // Every stream is flushed, even after one fails.
    let mut ok = true;
    for stream in open {
        ok &= stream.with(|stream| stream.flush(&mut crate::stdio::Console));
    }
    ok
}

#[cfg_attr(test, allow(dead_code))]
static HOOKS: hooks::FileHooks = hooks::FileHooks {
    read,
    write,
    write_all,
    seek,
    is_terminal,
    stream_for,
    flush_streams,
    statx: statx::statx,
};

/// The embedded tree: the `.unik_fs` section between the linker-script symbols
/// `__unik_fs_start` and `__unik_fs_end` (sysroot/link/*.ld), written by
/// `unikcc --fs DIR`; empty without it.
#[cfg(not(test))]
fn embedded_archive() -> &'static [u8] {
    unsafe extern "C" {
        static __unik_fs_start: u8;
        static __unik_fs_end: u8;
    }
    let start = unik_kernel::symbol_address!(__unik_fs_start);
    let end = unik_kernel::symbol_address!(__unik_fs_end);
    let length = end.saturating_sub(start) as usize;
    // SAFETY: the linker script defines both symbols around the read-only `.unik_fs`
    // section, which is mapped for the whole run and never written.
    unsafe { core::slice::from_raw_parts(start as *const u8, length) }
}

/// The `files` component's init function: makes `/dev` (null, zero, random, urandom),
/// loads the embedded tree, then the boot
/// archive (`unik run --initrd`) over it into the RAM file system, and routes the
/// console code's descriptor operations here.
///
/// The layering is Linux's initramfs unpacking at `/`: entries are applied in order,
/// and an initrd entry replaces an embedded file, link or empty directory of the same
/// path; directories merge (the initrd's mode wins). A gzip-compressed initrd is
/// inflated first (into the heap, freed after loading). A malformed archive ends the
/// run before `main` with a message naming the archive, the byte offset and the
/// damage: a partial tree would make the program fail later for a reason it cannot
/// see.
#[cfg(not(test))]
pub fn initialize(initrd: &[u8]) {
    let embedded = embedded_archive();
    if !embedded.is_empty()
        && let Err(malformed) = with(|system| system.load_archive(embedded))
    {
        archive_failure("embedded file tree", "", malformed);
    }
    if gzip::is_gzip(initrd) {
        let inflated = gzip::decompress_all(initrd).unwrap_or_else(|damaged| {
            fatal(&[
                b"initrd: bad gzip stream at byte ",
                decimal(damaged.offset).as_bytes(),
                b": ",
                damaged.reason.describe().as_bytes(),
            ])
        });
        if let Err(malformed) = with(|system| system.load_archive(&inflated)) {
            archive_failure("initrd", " (inside the gzip stream)", malformed);
        }
    } else if !initrd.is_empty()
        && let Err(malformed) = with(|system| system.load_archive(initrd))
    {
        archive_failure("initrd", "", malformed);
    }
    hooks::install(&HOOKS);
}

/// Ends the run for an archive that could not be loaded: damage, or no memory.
#[cfg(not(test))]
fn archive_failure(what: &str, inside: &str, malformed: cpio::Malformed) -> ! {
    let problem: &[u8] = match malformed.reason {
        cpio::Reason::OutOfMemory => b": cannot unpack the cpio entry at byte ",
        _ => b": malformed cpio archive at byte ",
    };
    fatal(&[
        what.as_bytes(),
        problem,
        decimal(malformed.offset).as_bytes(),
        inside.as_bytes(),
        b": ",
        malformed.reason.describe().as_bytes(),
    ])
}

/// A number in decimal, without allocating (this runs when memory may be out).
#[cfg(not(test))]
fn decimal(value: usize) -> Decimal {
    let mut digits = [0u8; 24];
    let length = crate::errno::write_decimal(&mut digits, value as i64);
    Decimal { digits, length }
}

#[cfg(not(test))]
struct Decimal {
    digits: [u8; 24],
    length: usize,
}

#[cfg(not(test))]
impl Decimal {
    fn as_bytes(&self) -> &[u8] {
        &self.digits[..self.length]
    }
}

/// `unik: fatal: <parts>` and a newline on stderr, then exit status 1. Written piece
/// by piece: no allocation.
#[cfg(not(test))]
fn fatal(parts: &[&[u8]]) -> ! {
    crate::kernel::console::write_err(b"unik: fatal: ");
    for part in parts {
        crate::kernel::console::write_err(part);
    }
    crate::kernel::console::write_err(b"\n");
    crate::kernel::exit(1)
}

#[cfg(not(test))]
mod directories;
#[cfg(not(test))]
mod exports;
#[cfg(not(test))]
mod streams;
#[cfg(not(test))]
mod wait_exports;
