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
    /// statx(2) for `syscall(SYS_statx, …)` (see fs/statx.rs for the contract).
    pub statx: unsafe fn(i32, *const core::ffi::c_char, i32, u32, *mut u8) -> Result<(), i32>,
}

static INSTALLED: Global<Option<&'static FileHooks>> = Global::new(None);

/// The installed hooks (None: the program has no files; the console only).
pub fn installed() -> Option<&'static FileHooks> {
    INSTALLED.with(|hooks| *hooks)
}

pub fn install(hooks: &'static FileHooks) {
    INSTALLED.with(|installed| *installed = Some(hooks));
}

/// The `net` component's socket operations, for the descriptor layer (read/write/close
/// of a socket descriptor) and for poll/select (readiness).
pub struct SocketHooks {
    /// recv(2) with no flags: bytes read (0 at end of stream) or an errno value.
    pub read: fn(usize, &mut [u8], bool) -> Result<usize, i32>,
    /// send(2) with no flags: bytes sent or an errno value.
    pub write: fn(usize, &[u8], bool) -> Result<usize, i32>,
    /// The last descriptor of the socket was closed.
    pub close: fn(usize),
    /// Linux poll(2) bits the socket has now (POLLIN, POLLOUT, POLLERR, POLLHUP,
    /// POLLRDHUP) and the generation of its last change (`readiness::changed`'s
    /// numbering: the stack's, so other sockets' changes over-report, never miss).
    pub readiness: fn(usize) -> (u32, u32),
    /// At exit: lets queued data reach the peers (bounded wait).
    pub drain: fn(),
}

static SOCKETS: Global<Option<&'static SocketHooks>> = Global::new(None);

/// The installed socket hooks (None: the program has no sockets).
pub fn sockets() -> Option<&'static SocketHooks> {
    SOCKETS.with(|hooks| *hooks)
}

pub fn install_sockets(hooks: &'static SocketHooks) {
    SOCKETS.with(|installed| *installed = Some(hooks));
}
