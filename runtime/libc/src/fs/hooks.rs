//! How the always-linked console code (`read`/`write` in `unistd`, the stdio streams'
//! device) reaches the file system when — and only when — the program links it.
//!
//! The `files` component's init function installs [`FileHooks`]; until then (and in
//! images without files) every descriptor operation stays the console-only path, so a
//! hello-world image carries none of the file system (sysroot/MANIFEST.md: components
//! are linked only when used; the same pattern as the libc's locks reaching the
//! scheduler through a pointer).

use core::ffi::c_void;

use crate::global::Global;
use crate::stdio::Stream;

/// The file system's entry points for the console code.
pub struct FileHooks {
    /// read(2) on any descriptor: bytes read or an errno value.
    pub read: fn(i32, &mut [u8]) -> Result<usize, i32>,
    /// write(2) on any descriptor: bytes written or an errno value.
    pub write: fn(i32, &[u8]) -> Result<usize, i32>,
    /// Writes all of the bytes to a descriptor (looping over partial writes).
    pub write_all: fn(i32, &[u8]) -> Result<(), i32>,
    /// lseek(2).
    pub seek: fn(i32, i64, i32) -> Result<i64, i32>,
    /// isatty(3): Ok(true) for a terminal, Err(EBADF) for a closed descriptor.
    pub is_terminal: fn(i32) -> Result<bool, i32>,
    /// The stream behind a `FILE *` that is not one of the three standard ones.
    pub stream_for: fn(*const c_void) -> Option<&'static Global<Stream>>,
    /// Flushes every open file stream (exit, `fflush(NULL)`).
    pub flush_streams: fn() -> bool,
}

static INSTALLED: Global<Option<&'static FileHooks>> = Global::new(None);

/// The installed hooks (None: the program has no files; the console only).
pub fn installed() -> Option<&'static FileHooks> {
    INSTALLED.with(|hooks| *hooks)
}

pub fn install(hooks: &'static FileHooks) {
    INSTALLED.with(|installed| *installed = Some(hooks));
}
