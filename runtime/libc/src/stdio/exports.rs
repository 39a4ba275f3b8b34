//! The C symbols of `<stdio.h>` (and `perror`), over [`super::Stream`].

use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::null_mut;

use super::{Buffering, Console, STDERR, STDIN, STDOUT, Stream, stream_for};
use crate::errno;
use crate::global::Global;

/// C's `EOF`.
const EOF: c_int = -1;

/// A C `FILE *` variable (`stdin`, `stdout`, `stderr`): C may read and, rarely, assign it.
#[repr(transparent)]
pub struct FileVariable(core::cell::UnsafeCell<*const Global<Stream>>);

// SAFETY: single-threaded runtime (crate::global); C treats it as a plain global.
unsafe impl Sync for FileVariable {}

#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static stdin: FileVariable = FileVariable(core::cell::UnsafeCell::new(&STDIN));
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static stdout: FileVariable = FileVariable(core::cell::UnsafeCell::new(&STDOUT));
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static stderr: FileVariable = FileVariable(core::cell::UnsafeCell::new(&STDERR));

/// Runs `body` on the stream behind `file`, or fails with `EBADF`.
fn with_stream<R>(file: *mut c_void, failure: R, body: impl FnOnce(&mut Stream) -> R) -> R {
    match stream_for(file) {
        Some(stream) => stream.with(body),
        None => {
            errno::set(errno::EBADF);
            failure
        }
    }
}

/// The bytes of a C string.
///
/// # Safety
/// `string` is NUL-terminated.
unsafe fn c_string<'a>(string: *const c_char) -> &'a [u8] {
    // SAFETY: caller's contract.
    unsafe { CStr::from_ptr(string) }.to_bytes()
}

fn write_to(file: *mut c_void, bytes: &[u8]) -> bool {
    with_stream(file, false, |stream| stream.write(&mut Console, bytes))
}

fn stdout_file() -> *mut c_void {
    (&raw const STDOUT).cast_mut().cast()
}

fn stdin_file() -> *mut c_void {
    (&raw const STDIN).cast_mut().cast()
}

/// C `fputc`/`putc` (C11 7.21.7.3): the byte written, or EOF.
#[unsafe(export_name = "__unik_fputc")]
pub extern "C" fn fputc(character: c_int, file: *mut c_void) -> c_int {
    let byte = character as u8;
    if write_to(file, &[byte]) {
        c_int::from(byte)
    } else {
        EOF
    }
}

#[unsafe(export_name = "__unik_putc")]
pub extern "C" fn putc(character: c_int, file: *mut c_void) -> c_int {
    fputc(character, file)
}

#[unsafe(export_name = "__unik_putchar")]
pub extern "C" fn putchar(character: c_int) -> c_int {
    fputc(character, stdout_file())
}

/// C `fputs` (C11 7.21.7.4): non-negative on success, EOF on error.
///
/// # Safety
/// `string` is NUL-terminated.
#[unsafe(export_name = "__unik_fputs")]
pub unsafe extern "C" fn fputs(string: *const c_char, file: *mut c_void) -> c_int {
    // SAFETY: caller's contract.
    if write_to(file, unsafe { c_string(string) }) {
        1
    } else {
        EOF
    }
}

/// C `puts` (C11 7.21.7.9): the string and a newline to stdout.
///
/// # Safety
/// `string` is NUL-terminated.
#[unsafe(export_name = "__unik_puts")]
pub unsafe extern "C" fn puts(string: *const c_char) -> c_int {
    // SAFETY: caller's contract.
    let text = unsafe { c_string(string) };
    let ok = with_stream(stdout_file(), false, |stream| {
        stream.write(&mut Console, text) && stream.write(&mut Console, b"\n")
    });
    // glibc returns the number of bytes written, saturated to INT_MAX.
    if ok {
        c_int::try_from(text.len() + 1).unwrap_or(c_int::MAX)
    } else {
        EOF
    }
}

/// The bytes of `count` elements of `size` bytes for fread/fwrite: `None` when there are
/// none, or (errno EINVAL) when the product overflows.
fn element_bytes(size: usize, count: usize) -> Option<usize> {
    let Some(total) = size.checked_mul(count) else {
        errno::set(errno::EINVAL);
        return None;
    };
    (total != 0).then_some(total)
}

/// C `fwrite` (C11 7.21.8.2): the number of whole elements written.
///
/// # Safety
/// `data` is readable for `size * count` bytes.
#[unsafe(export_name = "__unik_fwrite")]
pub unsafe extern "C" fn fwrite(
    data: *const c_void,
    size: usize,
    count: usize,
    file: *mut c_void,
) -> usize {
    let Some(total) = element_bytes(size, count) else {
        return 0;
    };
    // SAFETY: caller's contract.
    let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), total) };
    if write_to(file, bytes) { count } else { 0 }
}

/// C `fread` (C11 7.21.8.1), for stdin: reads up to `size * count` bytes, returns the
/// number of whole elements.
///
/// # Safety
/// `data` is writable for `size * count` bytes.
#[unsafe(export_name = "__unik_fread")]
pub unsafe extern "C" fn fread(
    data: *mut c_void,
    size: usize,
    count: usize,
    file: *mut c_void,
) -> usize {
    let Some(total) = element_bytes(size, count) else {
        return 0;
    };
    // SAFETY: caller's contract.
    let out = unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), total) };
    let read = with_stream(file, 0, |stream| stream.read_bytes(&mut Console, out));
    read / size
}

/// C `fflush` (C11 7.21.5.2); `fflush(NULL)` flushes every stream.
#[unsafe(export_name = "__unik_fflush")]
pub extern "C" fn fflush(file: *mut c_void) -> c_int {
    let ok = if file.is_null() {
        super::flush_all()
    } else {
        with_stream(file, false, |stream| stream.flush(&mut Console))
    };
    if ok { 0 } else { EOF }
}

/// C `fgetc`/`getc` (C11 7.21.7.1): the next byte, or EOF.
#[unsafe(export_name = "__unik_fgetc")]
pub extern "C" fn fgetc(file: *mut c_void) -> c_int {
    with_stream(file, EOF, |stream| {
        stream.read_byte(&mut Console).map_or(EOF, c_int::from)
    })
}

#[unsafe(export_name = "__unik_getc")]
pub extern "C" fn getc(file: *mut c_void) -> c_int {
    fgetc(file)
}

#[unsafe(export_name = "__unik_getchar")]
pub extern "C" fn getchar() -> c_int {
    fgetc(stdin_file())
}

/// C `fgets` (C11 7.21.7.2).
///
/// # Safety
/// `buffer` is writable for `size` bytes.
#[unsafe(export_name = "__unik_fgets")]
pub unsafe extern "C" fn fgets(buffer: *mut c_char, size: c_int, file: *mut c_void) -> *mut c_char {
    let Ok(size) = usize::try_from(size) else {
        return null_mut();
    };
    if buffer.is_null() || size == 0 {
        return null_mut();
    }
    // SAFETY: caller's contract.
    let out = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) };
    if with_stream(file, false, |stream| stream.read_line(&mut Console, out)) {
        buffer
    } else {
        null_mut()
    }
}

/// POSIX `getdelim`: reads through `delimiter` (or to end of file) into `*line`, which
/// it grows with `realloc` as needed (`*size` is its capacity); returns the length
/// without the NUL, or -1 at end of file or on error.
///
/// # Safety
/// `line` and `size` are writable; `*line` is NULL or a `malloc`ed block of `*size` bytes.
#[unsafe(export_name = "__unik_getdelim")]
pub unsafe extern "C" fn getdelim(
    line: *mut *mut c_char,
    size: *mut usize,
    delimiter: c_int,
    file: *mut c_void,
) -> isize {
    if line.is_null() || size.is_null() {
        errno::set(errno::EINVAL);
        return -1;
    }
    let delimiter = delimiter as u8;
    with_stream(file, -1, |stream| {
        let mut length = 0usize;
        while let Some(byte) = stream.read_byte(&mut Console) {
            // Room for this byte and the NUL.
            // SAFETY: caller's contract for `line` and `size`.
            let (buffer, capacity) = unsafe { (*line, *size) };
            if buffer.is_null() || capacity < length + 2 {
                let grown_capacity = (length + 2).max(capacity.saturating_mul(2)).max(120);
                // SAFETY: `*line` is NULL or a malloc block (caller's contract).
                let Some(grown) =
                    (unsafe { crate::memory::reallocate_pointer(buffer.cast(), grown_capacity) })
                else {
                    return -1;
                };
                // SAFETY: caller's contract.
                unsafe {
                    *line = grown.as_ptr().cast();
                    *size = grown_capacity;
                }
            }
            // SAFETY: length + 1 < *size, inside the block.
            unsafe { (*line).add(length).write(byte as c_char) };
            length += 1;
            if byte == delimiter {
                break;
            }
        }
        if length == 0 {
            return -1;
        }
        // SAFETY: length < *size (room was made for the NUL).
        unsafe { (*line).add(length).write(0) };
        isize::try_from(length).unwrap_or(isize::MAX)
    })
}

/// POSIX `getline`: `getdelim` through a newline.
///
/// # Safety
/// As `getdelim`.
#[unsafe(export_name = "__unik_getline")]
pub unsafe extern "C" fn getline(
    line: *mut *mut c_char,
    size: *mut usize,
    file: *mut c_void,
) -> isize {
    // SAFETY: caller's contract.
    unsafe { getdelim(line, size, c_int::from(b'\n'), file) }
}

/// POSIX `getc_unlocked`: one thread, so the same as `getc`.
#[unsafe(export_name = "__unik_getc_unlocked")]
pub extern "C" fn getc_unlocked(file: *mut c_void) -> c_int {
    fgetc(file)
}

/// POSIX `getchar_unlocked`.
#[unsafe(export_name = "__unik_getchar_unlocked")]
pub extern "C" fn getchar_unlocked() -> c_int {
    getchar()
}

/// POSIX `putc_unlocked`.
#[unsafe(export_name = "__unik_putc_unlocked")]
pub extern "C" fn putc_unlocked(character: c_int, file: *mut c_void) -> c_int {
    fputc(character, file)
}

/// POSIX `putchar_unlocked`.
#[unsafe(export_name = "__unik_putchar_unlocked")]
pub extern "C" fn putchar_unlocked(character: c_int) -> c_int {
    putchar(character)
}

/// C `ungetc` (C11 7.21.7.10).
#[unsafe(export_name = "__unik_ungetc")]
pub extern "C" fn ungetc(character: c_int, file: *mut c_void) -> c_int {
    if character == EOF {
        return EOF;
    }
    let byte = character as u8;
    if with_stream(file, false, |stream| stream.unread_byte(byte)) {
        c_int::from(byte)
    } else {
        EOF
    }
}

/// C `setvbuf` (C11 7.21.5.6): the mode is honoured; the stream keeps its own buffer, so
/// a caller-supplied one is not used (C allows any size; glibc also may ignore it).
#[unsafe(export_name = "__unik_setvbuf")]
pub extern "C" fn setvbuf(
    file: *mut c_void,
    _buffer: *mut c_char,
    mode: c_int,
    _size: usize,
) -> c_int {
    let Some(buffering) = Buffering::from_c(mode) else {
        errno::set(errno::EINVAL);
        return EOF;
    };
    if with_stream(file, false, |stream| {
        stream.set_buffering(&mut Console, buffering);
        true
    }) {
        0
    } else {
        EOF
    }
}

/// C `setbuf`: NULL means unbuffered, else fully buffered.
#[unsafe(export_name = "__unik_setbuf")]
pub extern "C" fn setbuf(file: *mut c_void, buffer: *mut c_char) {
    let mode = if buffer.is_null() {
        Buffering::None
    } else {
        Buffering::Full
    };
    setvbuf(file, buffer, mode as c_int, super::stream::BUFFER_SIZE);
}

/// BSD/glibc `setlinebuf`.
#[unsafe(export_name = "__unik_setlinebuf")]
pub extern "C" fn setlinebuf(file: *mut c_void) {
    setvbuf(file, null_mut(), Buffering::Line as c_int, 0);
}

#[unsafe(export_name = "__unik_ferror")]
pub extern "C" fn ferror(file: *mut c_void) -> c_int {
    with_stream(file, 0, |stream| c_int::from(stream.error()))
}

#[unsafe(export_name = "__unik_feof")]
pub extern "C" fn feof(file: *mut c_void) -> c_int {
    with_stream(file, 0, |stream| c_int::from(stream.end_of_file()))
}

#[unsafe(export_name = "__unik_clearerr")]
pub extern "C" fn clearerr(file: *mut c_void) {
    with_stream(file, (), |stream| stream.clear_indicators());
}

/// POSIX `fileno`.
#[unsafe(export_name = "__unik_fileno")]
pub extern "C" fn fileno(file: *mut c_void) -> c_int {
    with_stream(file, -1, |stream| stream.descriptor())
}

/// C `perror` (C11 7.21.10.4): `"s: message\n"` (just the message when `s` is NULL or
/// empty) on stderr.
///
/// # Safety
/// `prefix` is NULL or NUL-terminated.
#[unsafe(export_name = "__unik_perror")]
pub unsafe extern "C" fn perror(prefix: *const c_char) {
    let message = errno::Message::for_number(errno::get());
    let prefix: &[u8] = if prefix.is_null() {
        b""
    } else {
        // SAFETY: caller's contract.
        unsafe { c_string(prefix) }
    };
    STDERR.with(|stream| {
        if !prefix.is_empty() {
            stream.write(&mut Console, prefix);
            stream.write(&mut Console, b": ");
        }
        stream.write(&mut Console, message.bytes());
        stream.write(&mut Console, b"\n");
    });
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    fputc,
    putc,
    putchar,
    fputs,
    puts,
    fwrite,
    fread,
    fflush,
    fgetc,
    getc,
    getchar,
    fgets,
    getdelim,
    getline,
    getc_unlocked,
    getchar_unlocked,
    putc_unlocked,
    putchar_unlocked,
    ungetc,
    setvbuf,
    setbuf,
    setlinebuf,
    ferror,
    feof,
    clearerr,
    fileno,
    perror
);
