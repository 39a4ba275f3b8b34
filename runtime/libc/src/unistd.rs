//! The `<unistd.h>` subset on the console descriptors: `write(1|2)`, `read(0)`,
//! `isatty`, `getpid`, and `<sys/uio.h>`'s `readv`/`writev` over them (Rust std writes
//! stderr with `writev`). With files linked they reach every descriptor through
//! crate::fs::hooks. (`_exit` is in [`crate::process`].)

/// The three console descriptors; every other one is `EBADF`.
pub fn is_console(descriptor: i32) -> bool {
    (0..=2).contains(&descriptor)
}

/// Linux's `IOV_MAX`: a longer list is `EINVAL`.
pub const IO_VECTOR_MAX: usize = 1024;

/// The loop of `readv`/`writev` (POSIX): `transfer(index)` moves buffer `index`
/// (of `lengths`) and returns the bytes moved; the call stops after the first short
/// transfer, and an error after some bytes moved ends it with the count so far (the
/// error then comes again on the next call).
pub fn each_buffer(
    lengths: impl IntoIterator<Item = usize>,
    mut transfer: impl FnMut(usize) -> Result<usize, i32>,
) -> Result<usize, i32> {
    let mut total = 0usize;
    for (index, length) in lengths.into_iter().enumerate() {
        if length == 0 {
            continue;
        }
        match transfer(index) {
            Ok(count) => {
                total += count;
                if count < length {
                    break;
                }
            }
            Err(error) if total == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(total)
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

    /// One `struct iovec` (POSIX sys/uio.h; the same layout on every LP64 target).
    #[repr(C)]
    pub struct IoVector {
        base: *mut c_void,
        length: usize,
    }

    /// The iovec list of `readv`/`writev`: `EINVAL` beyond [`IO_VECTOR_MAX`] or for a
    /// total beyond `ssize_t`, `EFAULT` for a NULL list.
    ///
    /// # Safety
    /// `list` is NULL or points to `count` iovecs.
    unsafe fn io_vectors<'a>(list: *const IoVector, count: c_int) -> Result<&'a [IoVector], i32> {
        let Ok(count) = usize::try_from(count) else {
            return Err(errno::EINVAL);
        };
        if count > IO_VECTOR_MAX {
            return Err(errno::EINVAL);
        }
        if count == 0 {
            return Ok(&[]);
        }
        if list.is_null() {
            return Err(errno::EFAULT);
        }
        // SAFETY: caller's contract.
        let list = unsafe { core::slice::from_raw_parts(list, count) };
        let mut total = 0usize;
        for vector in list {
            total = total
                .checked_add(vector.length)
                .filter(|&total| total <= isize::MAX as usize)
                .ok_or(errno::EINVAL)?;
        }
        Ok(list)
    }

    /// A `read`/`write` result as `Result` (errno already set by them on failure).
    fn as_result(count: isize) -> Result<usize, i32> {
        usize::try_from(count).map_err(|_| errno::get())
    }

    /// readv/writev: `transfer` (read or write) over each iovec in order
    /// ([`each_buffer`]), as one result (-1 with errno on failure).
    ///
    /// # Safety
    /// `list` points to `count` iovecs describing buffers `transfer` may use.
    unsafe fn vectored(
        descriptor: c_int,
        list: *const IoVector,
        count: c_int,
        transfer: unsafe extern "C" fn(c_int, *mut c_void, usize) -> isize,
    ) -> isize {
        // SAFETY: caller's contract.
        let result = unsafe { io_vectors(list, count) }.and_then(|list| {
            each_buffer(list.iter().map(|vector| vector.length), |index| {
                let vector = &list[index];
                // SAFETY: caller's contract: each iovec describes a usable buffer.
                as_result(unsafe { transfer(descriptor, vector.base, vector.length) })
            })
        });
        transfer_result(result)
    }

    /// [`write`] with the buffer type [`vectored`] passes.
    ///
    /// # Safety
    /// `data` is readable for `count` bytes.
    unsafe extern "C" fn write_buffer(descriptor: c_int, data: *mut c_void, count: usize) -> isize {
        // SAFETY: caller's contract.
        unsafe { write(descriptor, data, count) }
    }

    /// POSIX `readv`: fills the buffers in order through [`read`], stopping at a short
    /// read.
    ///
    /// # Safety
    /// `list` points to `count` iovecs describing writable buffers.
    #[unsafe(export_name = "__unik_readv")]
    pub unsafe extern "C" fn readv(
        descriptor: c_int,
        list: *const IoVector,
        count: c_int,
    ) -> isize {
        // SAFETY: caller's contract.
        unsafe { vectored(descriptor, list, count, read) }
    }

    /// POSIX `writev`: writes the buffers in order through [`write`], stopping at a
    /// short write.
    ///
    /// # Safety
    /// `list` points to `count` iovecs describing readable buffers.
    #[unsafe(export_name = "__unik_writev")]
    pub unsafe extern "C" fn writev(
        descriptor: c_int,
        list: *const IoVector,
        count: c_int,
    ) -> isize {
        // SAFETY: caller's contract.
        unsafe { vectored(descriptor, list, count, write_buffer) }
    }

    /// POSIX `getpid`: the one program is process 1.
    #[unsafe(export_name = "__unik_getpid")]
    pub extern "C" fn getpid() -> c_int {
        1
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(write, read, isatty, getpid, readv, writev);

#[cfg(test)]
mod tests {
    use super::each_buffer;

    #[test]
    fn vectored_transfers_stop_at_a_short_one_and_keep_the_count_on_a_later_error() {
        // Every buffer moved whole; empty ones are skipped without a call.
        let mut calls = Vec::new();
        let result = each_buffer([3, 0, 2], |index| {
            calls.push(index);
            Ok([3, 0, 2][index])
        });
        assert_eq!(result, Ok(5));
        assert_eq!(calls, [0, 2]);
        // A short transfer ends the call.
        let mut calls = Vec::new();
        let result = each_buffer([3, 4, 2], |index| {
            calls.push(index);
            Ok([3, 1, 2][index])
        });
        assert_eq!(result, Ok(4));
        assert_eq!(calls, [0, 1]);
        // An error first is the call's error; after some bytes, the count so far.
        assert_eq!(each_buffer([3, 4], |_| Err(9)), Err(9));
        assert_eq!(
            each_buffer([3, 4], |index| if index == 0 { Ok(3) } else { Err(5) }),
            Ok(3)
        );
        assert_eq!(each_buffer([], |_| Ok(1)), Ok(0));
    }
}
