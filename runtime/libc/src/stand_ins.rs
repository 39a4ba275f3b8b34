//! The `stand-ins` component: what the file functions answer in an image that has no
//! file system, for the references Rust std makes from paths such an image never
//! takes (driver/src/link/liveness.rs, `INCIDENTAL`). The link binds a function to
//! its stand-in here (`--defsym open64=__unik_absent_open64`) only when nothing else
//! the program keeps calls it and its own component (`files`; `readiness` for `poll`)
//! is not linked anyway; then std's start-up check of descriptors 0-2, its backtrace
//! printer and its in-image symbolizer run against these instead of carrying the file
//! system.
//!
//! Without files the world is small and the answers are exact: descriptors 0, 1 and 2
//! are the console and always open, no other descriptor exists (`EBADF`), no path
//! exists (`ENOENT`), and the working directory is `/` (only `chdir`, which is files',
//! could change it). What the console model cannot answer (closing or `fstat` of a
//! console descriptor, waiting in `poll`) fails with `ENOSYS`: none of std's paths
//! bound here ever asks it.
//!
//! `__unik_absent_symbolize` stands in for std's in-image backtrace symbolizer in every
//! std program (driver/src/link/symbolizer.rs): it finds nothing, as the symbolizer
//! does in a unik image.

use crate::unistd::is_console;

/// Linux poll(2) bits.
pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLNVAL: i16 = 0x20;

/// The `revents` of one pollfd without files: the console's readiness for 0-2
/// (stdin readable with input pending, stdout and stderr always writable, as files'
/// readiness reports them), `POLLNVAL` for any other descriptor, nothing for a
/// negative one (poll(2) ignores it).
pub fn console_events(descriptor: i32, events: i16, input_pending: bool) -> i16 {
    if descriptor < 0 {
        return 0;
    }
    if !is_console(descriptor) {
        return POLLNVAL;
    }
    let ready = match descriptor {
        0 if input_pending => POLLIN,
        0 => 0,
        _ => POLLOUT,
    };
    ready & events
}

/// The working directory's name for `getcwd` into a `size`-byte buffer: `/` and its
/// NUL, `EINVAL` for a zero size, `ERANGE` when it does not fit (getcwd(3)).
pub fn working_directory(size: usize) -> Result<&'static [u8], i32> {
    const ROOT: &[u8] = b"/\0";
    match size {
        0 => Err(crate::errno::EINVAL),
        size if size < ROOT.len() => Err(crate::errno::ERANGE),
        _ => Ok(ROOT),
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use crate::errno::{self, EBADF, EFAULT, EMFILE, ENOENT, ENOSYS, ESPIPE};
    use core::ffi::{c_char, c_int, c_void};

    /// -1 with errno.
    fn fail(error: i32) -> c_int {
        errno::set(error);
        -1
    }

    /// `ENOENT` for a path (`EFAULT` for NULL): no path exists without files.
    fn no_path(path: *const c_char) -> c_int {
        fail(if path.is_null() { EFAULT } else { ENOENT })
    }

    /// `EBADF` for a descriptor other than the console's, else `console`.
    fn on_console(descriptor: c_int, console: i32) -> c_int {
        fail(if is_console(descriptor) {
            console
        } else {
            EBADF
        })
    }

    /// One `struct pollfd` (Linux, every target).
    #[repr(C)]
    pub struct PollDescriptor {
        descriptor: c_int,
        events: i16,
        revents: i16,
    }

    /// poll(2) without files: the console's readiness ([`console_events`]); it does
    /// not wait (`ENOSYS` when nothing is ready and the timeout is not 0: std's check
    /// polls with 0).
    ///
    /// # Safety
    /// `list` points to `count` writable pollfds.
    #[unsafe(export_name = "__unik_absent_poll")]
    pub unsafe extern "C" fn poll(list: *mut PollDescriptor, count: u64, timeout: c_int) -> c_int {
        if count == 0 {
            return if timeout == 0 { 0 } else { fail(ENOSYS) };
        }
        if list.is_null() {
            return fail(EFAULT);
        }
        let Ok(count) = usize::try_from(count) else {
            return fail(errno::EINVAL);
        };
        // SAFETY: caller's contract.
        let list = unsafe { core::slice::from_raw_parts_mut(list, count) };
        let pending = crate::kernel::console::input_pending();
        let mut ready = 0;
        for entry in list.iter_mut() {
            entry.revents = console_events(entry.descriptor, entry.events, pending);
            ready += c_int::from(entry.revents != 0);
        }
        if ready == 0 && timeout != 0 {
            return fail(ENOSYS);
        }
        ready
    }

    /// fcntl(2) without files (called as the variadic C function: the third argument,
    /// which these commands do not read, is passed in a register on both targets'
    /// ABIs). `F_GETFD` on the console: 0 (not close-on-exec); other commands on
    /// it: `EINVAL`.
    #[unsafe(export_name = "__unik_absent_fcntl")]
    pub extern "C" fn fcntl(descriptor: c_int, command: c_int) -> c_int {
        const F_GETFD: c_int = 1;
        match (is_console(descriptor), command) {
            (true, F_GETFD) => 0,
            (true, _) => fail(errno::EINVAL),
            (false, _) => fail(EBADF),
        }
    }

    /// open64 without files (variadic in C: the mode is not read): no path exists.
    #[unsafe(export_name = "__unik_absent_open64")]
    pub extern "C" fn open64(path: *const c_char, _flags: c_int) -> c_int {
        no_path(path)
    }

    /// dup(2) without files: no descriptor can be added to the console's three.
    #[unsafe(export_name = "__unik_absent_dup")]
    pub extern "C" fn dup(descriptor: c_int) -> c_int {
        on_console(descriptor, EMFILE)
    }

    /// close(2) without files.
    #[unsafe(export_name = "__unik_absent_close")]
    pub extern "C" fn close(descriptor: c_int) -> c_int {
        on_console(descriptor, ENOSYS)
    }

    /// fstat64 without files.
    #[unsafe(export_name = "__unik_absent_fstat64")]
    pub extern "C" fn fstat64(descriptor: c_int, _status: *mut c_void) -> c_int {
        on_console(descriptor, ENOSYS)
    }

    /// lseek64 without files: the console is not seekable.
    #[unsafe(export_name = "__unik_absent_lseek64")]
    pub extern "C" fn lseek64(descriptor: c_int, _offset: i64, _whence: c_int) -> i64 {
        i64::from(on_console(descriptor, ESPIPE))
    }

    /// stat64 without files: no path exists.
    #[unsafe(export_name = "__unik_absent_stat64")]
    pub extern "C" fn stat64(path: *const c_char, _status: *mut c_void) -> c_int {
        no_path(path)
    }

    /// readlink(2) without files: no path exists.
    #[unsafe(export_name = "__unik_absent_readlink")]
    pub extern "C" fn readlink(path: *const c_char, _buffer: *mut c_char, _size: usize) -> isize {
        no_path(path) as isize
    }

    /// realpath(3) without files: no path exists.
    #[unsafe(export_name = "__unik_absent_realpath")]
    pub extern "C" fn realpath(path: *const c_char, _resolved: *mut c_char) -> *mut c_char {
        no_path(path);
        core::ptr::null_mut()
    }

    /// std's symbolizer entry (`Cache::with_global`, called with a closure, returning
    /// nothing; driver/src/link/symbolizer.rs): returns without calling the closure,
    /// so no frame gets a name here (`unik run` names them on the host). Declared
    /// without parameters: the caller's arguments stay unread in their registers.
    #[unsafe(export_name = "__unik_absent_symbolize")]
    pub extern "C" fn symbolize() {}

    /// getcwd(3) without files: `/` ([`working_directory`]); a NULL buffer gets a
    /// `malloc`ed one (the glibc extension files' getcwd has too).
    ///
    /// # Safety
    /// `buffer` is NULL or writable for `size` bytes.
    #[unsafe(export_name = "__unik_absent_getcwd")]
    pub unsafe extern "C" fn getcwd(buffer: *mut c_char, size: usize) -> *mut c_char {
        let (target, size) = if buffer.is_null() {
            let size = if size == 0 { 2 } else { size };
            let Some(block) = crate::memory::allocate_or_set_errno(size, 16) else {
                return core::ptr::null_mut();
            };
            (block.as_ptr().cast::<c_char>(), size)
        } else {
            (buffer, size)
        };
        match working_directory(size) {
            Ok(name) => {
                // SAFETY: `target` is writable for `size` >= name.len() bytes (caller's
                // contract, or the block just allocated).
                unsafe { core::ptr::copy_nonoverlapping(name.as_ptr().cast(), target, name.len()) };
                target
            }
            Err(error) => {
                errno::set(error);
                core::ptr::null_mut()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_sees_the_console_and_no_other_descriptor() {
        let all = POLLIN | POLLOUT;
        assert_eq!(console_events(0, all, false), 0);
        assert_eq!(console_events(0, all, true), POLLIN);
        assert_eq!(console_events(1, all, false), POLLOUT);
        assert_eq!(console_events(2, POLLIN, false), 0);
        // std's start-up check asks for no events: open descriptors report nothing.
        for descriptor in 0..3 {
            assert_eq!(console_events(descriptor, 0, true), 0);
        }
        assert_eq!(console_events(3, 0, false), POLLNVAL);
        assert_eq!(console_events(-1, all, true), 0);
    }

    #[test]
    fn the_working_directory_is_the_root() {
        assert_eq!(working_directory(2), Ok(&b"/\0"[..]));
        assert_eq!(working_directory(4096), Ok(&b"/\0"[..]));
        assert_eq!(working_directory(1), Err(crate::errno::ERANGE));
        assert_eq!(working_directory(0), Err(crate::errno::EINVAL));
    }
}
