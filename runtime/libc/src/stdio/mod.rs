//! `<stdio.h>` on the console: `stdin`, `stdout` (line buffered) and `stderr`
//! (unbuffered), the character and line functions, and the printf family's back end.
//!
//! A `FILE *` handed to C is the address of one of the three stream cells below; C never
//! looks inside (the header keeps `FILE` opaque). A pointer that is none of them is
//! rejected with `EBADF` instead of being trusted.

pub mod printf;
pub mod stream;

use core::ffi::c_void;

use crate::global::Global;
pub use stream::{Buffering, Buffers, Device, Stream};

static STDIN_BUFFERS: Buffers = Buffers::new();
static STDOUT_BUFFERS: Buffers = Buffers::new();
static STDERR_BUFFERS: Buffers = Buffers::new();

pub static STDIN: Global<Stream> = Global::new(Stream::new(0, Buffering::Line, &STDIN_BUFFERS));
pub static STDOUT: Global<Stream> = Global::new(Stream::new(1, Buffering::Line, &STDOUT_BUFFERS));
pub static STDERR: Global<Stream> = Global::new(Stream::new(2, Buffering::None, &STDERR_BUFFERS));

/// The console as a [`Device`]: descriptor 1 is the console, 2 the error console
/// (runtime/README.md, "Interfaces between the crates"), 0 reads the console.
pub struct Console;

impl Device for Console {
    fn write(&mut self, descriptor: i32, bytes: &[u8]) -> bool {
        // With files linked, descriptors go through the file system's table (which
        // sends 0, 1 and 2 back here unless the program redirected them).
        if let Some(hooks) = crate::fs::hooks::installed() {
            return (hooks.write_all)(descriptor, bytes).is_ok();
        }
        match descriptor {
            1 => crate::kernel::console::write(bytes),
            2 => crate::kernel::console::write_err(bytes),
            _ => return false,
        }
        true
    }

    fn read(&mut self, descriptor: i32, buffer: &mut [u8]) -> usize {
        // Output the program has prompted with shows before it blocks for input (glibc
        // flushes line-buffered stdout when reading stdin).
        if descriptor == 0 {
            STDOUT.with(|stream| stream.flush(&mut Console));
        }
        if let Some(hooks) = crate::fs::hooks::installed() {
            return (hooks.read)(descriptor, buffer).unwrap_or(0);
        }
        if descriptor != 0 {
            return 0;
        }
        crate::kernel::console::read(buffer)
    }

    fn seek(&mut self, descriptor: i32, offset: i64, whence: i32) -> Option<i64> {
        let Some(hooks) = crate::fs::hooks::installed() else {
            crate::errno::set(crate::errno::ESPIPE);
            return None;
        };
        (hooks.seek)(descriptor, offset, whence)
            .map_err(crate::errno::set)
            .ok()
    }
}

/// The stream behind a C `FILE *`, if it is one of ours.
pub fn stream_for(file: *const c_void) -> Option<&'static Global<Stream>> {
    [&STDIN, &STDOUT, &STDERR]
        .into_iter()
        .find(|stream| core::ptr::addr_eq(*stream as *const Global<Stream>, file))
        .or_else(|| crate::fs::hooks::installed().and_then(|hooks| (hooks.stream_for)(file)))
}

/// Flushes `stdout` and `stderr` (exit, abort paths that flush, `fflush(NULL)`).
pub fn flush_all() -> bool {
    let out = STDOUT.with(|stream| stream.flush(&mut Console));
    let error = STDERR.with(|stream| stream.flush(&mut Console));
    let files = crate::fs::hooks::installed().is_none_or(|hooks| (hooks.flush_streams)());
    out && error && files
}

#[cfg(not(test))]
mod exports;
