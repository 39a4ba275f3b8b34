//! `FILE` streams on files: `fopen`, `fdopen`, `freopen`, `fclose`, positioning
//! (`fseek`, `ftell`, `rewind`, `fgetpos`, `fsetpos`) and `tmpfile`. The character,
//! block and line functions are stdio's own (`crate::stdio`): they find these streams
//! through [`super::stream_for`].

use core::ffi::{CStr, c_char, c_int, c_void};

use super::descriptors::{
    AT_FDCWD, Flags, O_APPEND, O_CLOEXEC, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
};
use super::tree::Errno;
use super::with;
use crate::errno::{self, EBADF, EINVAL};
use crate::global::Global;
use crate::stdio::{Console, STDERR, STDIN, STDOUT, Stream};

const EOF: c_int = -1;

/// The open(2) flags of an `fopen` mode (C11 7.21.5.3 plus glibc's 'x' and 'e').
pub fn mode_flags(mode: &[u8]) -> Result<i32, Errno> {
    let (&first, rest) = mode.split_first().ok_or(EINVAL)?;
    let mut flags = match first {
        b'r' => O_RDONLY,
        b'w' => O_WRONLY | O_CREAT | O_TRUNC,
        b'a' => O_WRONLY | O_CREAT | O_APPEND,
        _ => return Err(EINVAL),
    };
    for &modifier in rest {
        match modifier {
            b'+' => flags = (flags & !(O_WRONLY | O_RDONLY)) | O_RDWR,
            b'x' => flags |= O_EXCL,
            b'e' => flags |= O_CLOEXEC,
            // 'b' is binary (no difference on POSIX); glibc stops at ','.
            b',' => break,
            _ => {}
        }
    }
    Ok(flags)
}

fn stream_pointer(stream: &'static Global<Stream>) -> *mut c_void {
    core::ptr::from_ref(stream).cast_mut().cast()
}

/// Opens `name` as a new stream.
fn open(name: &[u8], mode: &[u8]) -> Result<*mut c_void, Errno> {
    let bits = mode_flags(mode)?;
    let descriptor = with(|system| {
        system.open(
            AT_FDCWD,
            name,
            Flags {
                bits,
                ..Flags::default()
            },
            0o666,
        )
    })?;
    match super::new_stream(descriptor) {
        Ok(stream) => Ok(stream_pointer(stream)),
        Err(error) => {
            let _ = with(|system| system.close(descriptor));
            Err(error)
        }
    }
}

fn null_with(error: Errno) -> *mut c_void {
    errno::set(error);
    core::ptr::null_mut()
}

/// # Safety
/// Both strings are NUL-terminated (or NULL: EFAULT).
unsafe fn strings<'a>(
    first: *const c_char,
    second: *const c_char,
) -> Result<(&'a [u8], &'a [u8]), Errno> {
    if first.is_null() || second.is_null() {
        return Err(errno::EFAULT);
    }
    // SAFETY: caller's contract.
    unsafe {
        Ok((
            CStr::from_ptr(first).to_bytes(),
            CStr::from_ptr(second).to_bytes(),
        ))
    }
}

/// C `fopen` (C11 7.21.5.3).
///
/// # Safety
/// Both strings are NUL-terminated.
#[unsafe(export_name = "__unik_fopen")]
pub unsafe extern "C" fn fopen(name: *const c_char, mode: *const c_char) -> *mut c_void {
    // SAFETY: caller's contract.
    match unsafe { strings(name, mode) }.and_then(|(name, mode)| open(name, mode)) {
        Ok(stream) => stream,
        Err(error) => null_with(error),
    }
}

/// POSIX `fdopen`: a stream on an open descriptor (the mode must not ask for more
/// access than the descriptor has).
///
/// # Safety
/// `mode` is NUL-terminated.
#[unsafe(export_name = "__unik_fdopen")]
pub unsafe extern "C" fn fdopen(descriptor: c_int, mode: *const c_char) -> *mut c_void {
    if mode.is_null() {
        return null_with(errno::EFAULT);
    }
    // SAFETY: caller's contract.
    let mode = unsafe { CStr::from_ptr(mode) }.to_bytes();
    let result = mode_flags(mode).and_then(|bits| {
        let status = with(|system| {
            system
                .description(descriptor)
                .map(|description| description.status)
        })?;
        let has = status & 3;
        let wants = bits & 3;
        if has != O_RDWR && wants != has {
            return Err(EINVAL);
        }
        super::new_stream(descriptor)
    });
    match result {
        Ok(stream) => stream_pointer(stream),
        Err(error) => null_with(error),
    }
}

/// Flushes and closes the stream's descriptor; frees a file stream for reuse.
fn close_stream(file: *mut c_void, stream: &'static Global<Stream>) -> c_int {
    let (flushed, descriptor) =
        stream.with(|stream| (stream.flush(&mut Console), stream.descriptor()));
    let closed = with(|system| system.close(descriptor));
    if !is_standard(file) {
        super::release_stream(file);
    }
    match (flushed, closed) {
        (true, Ok(())) => 0,
        (_, Err(error)) => {
            errno::set(error);
            EOF
        }
        (false, Ok(())) => EOF,
    }
}

fn is_standard(file: *const c_void) -> bool {
    [&STDIN, &STDOUT, &STDERR]
        .into_iter()
        .any(|stream| core::ptr::addr_eq(stream as *const Global<Stream>, file))
}

/// C `fclose` (C11 7.21.5.1).
#[unsafe(export_name = "__unik_fclose")]
pub extern "C" fn fclose(file: *mut c_void) -> c_int {
    match crate::stdio::stream_for(file) {
        Some(stream) => close_stream(file, stream),
        None => {
            errno::set(EBADF);
            EOF
        }
    }
}

/// C `freopen` (C11 7.21.5.4): the same `FILE *` on a newly opened file (for the
/// standard streams too: `freopen("out.txt", "w", stdout)` redirects descriptor 1,
/// because the new descriptor is moved onto the old one's number).
///
/// # Safety
/// `name` is NULL or NUL-terminated; `mode` is NUL-terminated.
#[unsafe(export_name = "__unik_freopen")]
pub unsafe extern "C" fn freopen(
    name: *const c_char,
    mode: *const c_char,
    file: *mut c_void,
) -> *mut c_void {
    let Some(stream) = crate::stdio::stream_for(file) else {
        return null_with(EBADF);
    };
    if name.is_null() || mode.is_null() {
        // Changing the mode of the same file: not supported by the RAM file system's
        // descriptors beyond what the original open allows (glibc may fail too).
        return null_with(EINVAL);
    }
    // SAFETY: caller's contract.
    let (name, mode) = match unsafe { strings(name, mode) } {
        Ok(pair) => pair,
        Err(error) => return null_with(error),
    };
    let result = mode_flags(mode).and_then(|bits| {
        let old = stream.with(|stream| {
            stream.flush(&mut Console);
            stream.descriptor()
        });
        let new = with(|system| {
            system.open(
                AT_FDCWD,
                name,
                Flags {
                    bits,
                    ..Flags::default()
                },
                0o666,
            )
        })?;
        with(|system| {
            system.duplicate(new, Some(old), 0, bits & O_CLOEXEC != 0)?;
            system.close(new)
        })?;
        stream.with(|stream| stream.reset(old, crate::stdio::Buffering::Full));
        Ok(())
    });
    match result {
        Ok(()) => file,
        Err(error) => null_with(error),
    }
}

/// C `fseek`/`fseeko`.
#[unsafe(export_name = "__unik_fseeko")]
pub extern "C" fn fseeko(file: *mut c_void, offset: i64, whence: c_int) -> c_int {
    if !(0..=2).contains(&whence) {
        errno::set(EINVAL);
        return -1;
    }
    let Some(stream) = crate::stdio::stream_for(file) else {
        errno::set(EBADF);
        return -1;
    };
    // On failure the device's lseek has set errno (ESPIPE, EINVAL).
    if stream.with(|stream| stream.seek(&mut Console, offset, whence)) {
        0
    } else {
        -1
    }
}

#[unsafe(export_name = "__unik_fseek")]
pub extern "C" fn fseek(file: *mut c_void, offset: i64, whence: c_int) -> c_int {
    fseeko(file, offset, whence)
}

/// C `ftell`/`ftello`.
#[unsafe(export_name = "__unik_ftello")]
pub extern "C" fn ftello(file: *mut c_void) -> i64 {
    let Some(stream) = crate::stdio::stream_for(file) else {
        errno::set(EBADF);
        return -1;
    };
    stream
        .with(|stream| stream.position(&mut Console))
        .unwrap_or_else(|| {
            errno::set(errno::ESPIPE);
            -1
        })
}

#[unsafe(export_name = "__unik_ftell")]
pub extern "C" fn ftell(file: *mut c_void) -> i64 {
    ftello(file)
}

/// C `rewind` (C11 7.21.9.5): to the start, and the error indicator cleared.
#[unsafe(export_name = "__unik_rewind")]
pub extern "C" fn rewind(file: *mut c_void) {
    fseeko(file, 0, 0);
    if let Some(stream) = crate::stdio::stream_for(file) {
        stream.with(Stream::clear_indicators);
    }
}

/// glibc's `fpos_t` on LP64: the offset first, then a 8-byte conversion state (16
/// bytes in all).
#[repr(C)]
pub struct Position {
    offset: i64,
    state: [u64; 1],
}

/// # Safety
/// `position` is writable.
#[unsafe(export_name = "__unik_fgetpos")]
pub unsafe extern "C" fn fgetpos(file: *mut c_void, position: *mut Position) -> c_int {
    let offset = ftello(file);
    if offset < 0 {
        return -1;
    }
    // SAFETY: caller's contract.
    unsafe { position.write(Position { offset, state: [0] }) };
    0
}

/// # Safety
/// `position` was filled by `fgetpos`.
#[unsafe(export_name = "__unik_fsetpos")]
pub unsafe extern "C" fn fsetpos(file: *mut c_void, position: *const Position) -> c_int {
    // SAFETY: caller's contract.
    let offset = unsafe { (*position).offset };
    fseeko(file, offset, 0)
}

/// C `tmpfile` (C11 7.21.4.3): a new file opened "w+", with no name (created, then
/// unlinked at once; it lives until closed).
#[unsafe(export_name = "__unik_tmpfile")]
pub extern "C" fn tmpfile() -> *mut c_void {
    let result = with(|system| {
        let flags = Flags {
            bits: O_RDWR | O_CREAT | O_EXCL,
            ..Flags::default()
        };
        let mut name = *b"/.unik-tmpfile-0000000000";
        let mut counter = 0u32;
        loop {
            let mut value = counter;
            for digit in name[15..].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
            match system.open(AT_FDCWD, &name, flags, 0o600) {
                Ok(descriptor) => {
                    system.tree.remove(super::tree::ROOT, &name, false)?;
                    return Ok(descriptor);
                }
                Err(errno::EEXIST) if counter < u32::MAX => counter += 1,
                Err(error) => return Err(error),
            }
        }
    });
    match result.and_then(|descriptor| {
        super::new_stream(descriptor).inspect_err(|_| {
            let _ = with(|system| system.close(descriptor));
        })
    }) {
        Ok(stream) => stream_pointer(stream),
        Err(error) => null_with(error),
    }
}

crate::weak_c_symbols!(
    fopen, fdopen, fclose, freopen, fseeko, fseek, ftello, ftell, rewind, fgetpos, fsetpos, tmpfile
);
