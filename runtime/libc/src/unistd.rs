//! The `<unistd.h>` subset on the console descriptors: `write(1|2)`, `read(0)`,
//! `isatty`, `getpid`. (`_exit` is in [`crate::process`].)

/// The three console descriptors; every other one is `EBADF`.
pub fn is_console(descriptor: i32) -> bool {
    (0..=2).contains(&descriptor)
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use crate::errno;
    use crate::stdio::{Console, Device};
    use core::ffi::{c_int, c_void};

    /// A byte count, or -1 with errno.
    fn transfer_result(result: Result<usize, i32>) -> isize {
        match result {
            Ok(count) => count as isize,
            Err(error) => {
                errno::set(error);
                -1
            }
        }
    }

    /// POSIX `write`: descriptors 1 (console) and 2 (error console), unbuffered; with
    /// files linked, any descriptor (crate::fs::hooks).
    ///
    /// # Safety
    /// `data` is readable for `count` bytes.
    #[unsafe(export_name = "__unik_write")]
    pub unsafe extern "C" fn write(descriptor: c_int, data: *const c_void, count: usize) -> isize {
        if let Some(hooks) = crate::fs::hooks::installed() {
            let count = count.min(isize::MAX as usize);
            // SAFETY: caller's contract.
            let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), count) };
            return transfer_result((hooks.write)(descriptor, bytes));
        }
        if !matches!(descriptor, 1 | 2) {
            errno::set(errno::EBADF);
            return -1;
        }
        if count == 0 {
            return 0;
        }
        // Larger than ssize_t can report: POSIX allows a partial write.
        let count = count.min(isize::MAX as usize);
        // SAFETY: caller's contract.
        let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), count) };
        if Console.write(descriptor, bytes) {
            count as isize
        } else {
            errno::set(errno::EIO);
            -1
        }
    }

    /// POSIX `read`: descriptor 0 reads the console, blocking for at least one byte.
    ///
    /// # Safety
    /// `data` is writable for `count` bytes.
    #[unsafe(export_name = "__unik_read")]
    pub unsafe extern "C" fn read(descriptor: c_int, data: *mut c_void, count: usize) -> isize {
        if let Some(hooks) = crate::fs::hooks::installed() {
            let count = count.min(isize::MAX as usize);
            // SAFETY: caller's contract.
            let buffer = unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), count) };
            return transfer_result((hooks.read)(descriptor, buffer));
        }
        if descriptor != 0 {
            errno::set(errno::EBADF);
            return -1;
        }
        if count == 0 {
            return 0;
        }
        let count = count.min(isize::MAX as usize);
        // SAFETY: caller's contract.
        let buffer = unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), count) };
        crate::kernel::console::read(buffer) as isize
    }

    /// POSIX `isatty`: the console descriptors are terminals (a serial line).
    #[unsafe(export_name = "__unik_isatty")]
    pub extern "C" fn isatty(descriptor: c_int) -> c_int {
        if let Some(hooks) = crate::fs::hooks::installed() {
            return match (hooks.is_terminal)(descriptor) {
                Ok(true) => 1,
                Ok(false) => {
                    errno::set(errno::ENOTTY);
                    0
                }
                Err(error) => {
                    errno::set(error);
                    0
                }
            };
        }
        if is_console(descriptor) {
            1
        } else {
            errno::set(errno::EBADF);
            0
        }
    }

    /// POSIX `getpid`: the one program is process 1.
    #[unsafe(export_name = "__unik_getpid")]
    pub extern "C" fn getpid() -> c_int {
        1
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(write, read, isatty, getpid);
