//! The C symbols of the descriptor layer (`<fcntl.h>`, `<unistd.h>`, `<sys/stat.h>`,
//! `<sys/uio.h>`, `<stdlib.h>`'s `realpath`). `open`, `fcntl` and the `stat` family
//! are in `c/files.c` (variadic, or laid out per architecture) over the
//! `__unik_files_*` entry points here.

extern crate alloc;

use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int, c_uint, c_void};

use super::descriptors::{AT_FDCWD, Flags, Object, Status, Transfer};
use super::tree::{Content, Errno, NewNode, PATH_MAX, Timestamp};
use super::with;
use crate::errno::{self, EACCES, EBADF, EFAULT, EINVAL, ENOENT, ERANGE};

/// `AT_REMOVEDIR` (Linux fcntl.h).
const AT_REMOVEDIR: c_int = 0x200;
use super::statx::AT_SYMLINK_NOFOLLOW;

/// The `files` component's init function (runtime/components.toml).
#[unsafe(no_mangle)]
extern "C" fn __unik_init_files() {
    super::initialize(crate::kernel::boot_archive());
}

/// 0, or -1 with `errno` set.
fn status(result: Result<(), Errno>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(error) => {
            errno::set(error);
            -1
        }
    }
}

fn value<T: From<i8>>(result: Result<T, Errno>) -> T {
    result.unwrap_or_else(|error| {
        errno::set(error);
        T::from(-1)
    })
}

/// The bytes of a C path.
///
/// # Safety
/// `path` is NULL or NUL-terminated.
unsafe fn path<'a>(path: *const c_char) -> Result<&'a [u8], Errno> {
    if path.is_null() {
        return Err(EFAULT);
    }
    // SAFETY: caller's contract.
    Ok(unsafe { CStr::from_ptr(path) }.to_bytes())
}

/// # Safety
/// `path` is NUL-terminated.
#[unsafe(export_name = "__unik_files_openat")]
pub unsafe extern "C" fn files_openat(
    directory: c_int,
    name: *const c_char,
    bits: c_int,
    is_directory: c_int,
    no_follow: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: caller's contract.
    let result = unsafe { path(name) }.and_then(|name| {
        let flags = Flags {
            bits,
            directory: is_directory != 0,
            no_follow: no_follow != 0,
        };
        with(|system| system.open(directory, name, flags, mode))
    });
    value(result)
}

#[unsafe(export_name = "__unik_close")]
pub extern "C" fn close(descriptor: c_int) -> c_int {
    status(with(|system| system.close(descriptor)))
}

/// POSIX `pread`.
///
/// # Safety
/// `data` is writable for `count` bytes.
#[unsafe(export_name = "__unik_pread")]
pub unsafe extern "C" fn pread(
    descriptor: c_int,
    data: *mut c_void,
    count: usize,
    offset: i64,
) -> isize {
    positioned(count, offset, |count, offset| {
        // SAFETY: caller's contract.
        let buffer = unsafe { core::slice::from_raw_parts_mut(data.cast::<u8>(), count) };
        match with(|system| system.read(descriptor, buffer, Some(offset)))? {
            Transfer::Done(count) => Ok(count as isize),
            Transfer::Random { nonblocking } => {
                super::random_read(buffer, nonblocking).map(|count| count as isize)
            }
            // pread/pwrite never reach the console or a pipe (ESPIPE first).
            Transfer::Console(_) | Transfer::Wait(_) | Transfer::Socket { .. } => Ok(-1),
        }
    })
}

/// POSIX `pwrite`.
///
/// # Safety
/// `data` is readable for `count` bytes.
#[unsafe(export_name = "__unik_pwrite")]
pub unsafe extern "C" fn pwrite(
    descriptor: c_int,
    data: *const c_void,
    count: usize,
    offset: i64,
) -> isize {
    positioned(count, offset, |count, offset| {
        // SAFETY: caller's contract.
        let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), count) };
        match with(|system| system.write(descriptor, bytes, Some(offset)))? {
            Transfer::Done(count) => Ok(count as isize),
            // pread/pwrite never reach the console or a pipe (ESPIPE first).
            Transfer::Console(_)
            | Transfer::Wait(_)
            | Transfer::Socket { .. }
            | Transfer::Random { .. } => Ok(-1),
        }
    })
}

/// What pread and pwrite share: EINVAL for a negative offset, the count capped at
/// `isize::MAX`, nothing done for a count of 0, errno set from `transfer`'s error.
fn positioned(
    count: usize,
    offset: i64,
    transfer: impl FnOnce(usize, u64) -> Result<isize, Errno>,
) -> isize {
    if offset < 0 {
        errno::set(EINVAL);
        return -1;
    }
    let count = count.min(isize::MAX as usize);
    if count == 0 {
        return 0;
    }
    value(transfer(count, offset as u64))
}

#[unsafe(export_name = "__unik_lseek")]
pub extern "C" fn lseek(descriptor: c_int, offset: i64, whence: c_int) -> i64 {
    value(with(|system| system.seek(descriptor, offset, whence)))
}

/// The metadata behind `stat`, `lstat`, `fstat` and `fstatat` (c/files.c lays it out):
/// `path` NULL (or empty with AT_EMPTY_PATH) means the descriptor itself.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is writable.
#[unsafe(export_name = "__unik_files_status")]
pub unsafe extern "C" fn files_status(
    directory: c_int,
    name: *const c_char,
    flags: c_int,
    out: *mut Status,
) -> c_int {
    let result = if name.is_null() {
        super::statx::status_at(directory, None, flags)
    } else {
        // SAFETY: caller's contract: NUL-terminated.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        super::statx::status_at(directory, Some(name), flags)
    };
    match result {
        Ok(found) => {
            // SAFETY: caller's contract.
            unsafe { out.write(found) };
            0
        }
        Err(error) => {
            errno::set(error);
            -1
        }
    }
}

/// POSIX `faccessat`. The program runs as root: read and write are always allowed
/// (Linux's CAP_DAC_OVERRIDE), execute needs an execute bit or a directory.
///
/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_faccessat")]
pub unsafe extern "C" fn faccessat(
    directory: c_int,
    name: *const c_char,
    mode: c_int,
    flags: c_int,
) -> c_int {
    if mode & !7 != 0 {
        errno::set(EINVAL);
        return -1;
    }
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.start_directory(directory, name)?;
        let number = system
            .tree
            .resolve(start, name, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        let node = system.tree.node(number).ok_or(ENOENT)?;
        if mode & 1 != 0 && !node.is_directory() && node.permissions & 0o111 == 0 {
            return Err(EACCES);
        }
        Ok(())
    }))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_access")]
pub unsafe extern "C" fn access(name: *const c_char, mode: c_int) -> c_int {
    // SAFETY: caller's contract.
    unsafe { faccessat(AT_FDCWD, name, mode, 0) }
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_unlinkat")]
pub unsafe extern "C" fn unlinkat(directory: c_int, name: *const c_char, flags: c_int) -> c_int {
    if flags & !AT_REMOVEDIR != 0 {
        errno::set(EINVAL);
        return -1;
    }
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.start_directory(directory, name)?;
        system.tree.remove(start, name, flags & AT_REMOVEDIR != 0)
    }))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_unlink")]
pub unsafe extern "C" fn unlink(name: *const c_char) -> c_int {
    // SAFETY: caller's contract.
    unsafe { unlinkat(AT_FDCWD, name, 0) }
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_rmdir")]
pub unsafe extern "C" fn rmdir(name: *const c_char) -> c_int {
    // SAFETY: caller's contract.
    unsafe { unlinkat(AT_FDCWD, name, AT_REMOVEDIR) }
}

/// # Safety
/// Both names are NUL-terminated.
#[unsafe(export_name = "__unik_renameat")]
pub unsafe extern "C" fn renameat(
    old_directory: c_int,
    old_name: *const c_char,
    new_directory: c_int,
    new_name: *const c_char,
) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let (old_name, new_name) = unsafe { (path(old_name)?, path(new_name)?) };
        let old_start = system.start_directory(old_directory, old_name)?;
        let new_start = system.start_directory(new_directory, new_name)?;
        system.tree.rename(old_start, old_name, new_start, new_name)
    }))
}

/// C `rename` (also `<stdio.h>`).
///
/// # Safety
/// Both names are NUL-terminated.
#[unsafe(export_name = "__unik_rename")]
pub unsafe extern "C" fn rename(old_name: *const c_char, new_name: *const c_char) -> c_int {
    // SAFETY: caller's contract.
    unsafe { renameat(AT_FDCWD, old_name, AT_FDCWD, new_name) }
}

/// C `remove` (C11 7.21.4.1): unlink, or rmdir for a directory, as glibc does.
///
/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_remove")]
pub unsafe extern "C" fn remove(name: *const c_char) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.working_directory;
        match system.tree.remove(start, name, false) {
            // glibc's remove() tries rmdir after unlink's EISDIR and leaves that errno
            // in place even when rmdir succeeds.
            Err(errno::EISDIR) => system
                .tree
                .remove(start, name, true)
                .inspect(|()| errno::set(errno::EISDIR)),
            other => other,
        }
    }))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_mkdirat")]
pub unsafe extern "C" fn mkdirat(directory: c_int, name: *const c_char, mode: c_uint) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.start_directory(directory, name)?;
        let (parent, last) = system.tree.resolve_parent(start, name)?;
        let permissions = mode & !system.umask & 0o7777;
        system
            .tree
            .create(parent, last, NewNode::Directory, permissions)
            .map(|_| ())
    }))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_mkdir")]
pub unsafe extern "C" fn mkdir(name: *const c_char, mode: c_uint) -> c_int {
    // SAFETY: caller's contract.
    unsafe { mkdirat(AT_FDCWD, name, mode) }
}

/// # Safety
/// Both strings are NUL-terminated.
#[unsafe(export_name = "__unik_symlinkat")]
pub unsafe extern "C" fn symlinkat(
    target: *const c_char,
    directory: c_int,
    name: *const c_char,
) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let (target, name) = unsafe { (path(target)?, path(name)?) };
        if target.is_empty() {
            return Err(ENOENT);
        }
        let start = system.start_directory(directory, name)?;
        let (parent, last) = system.tree.resolve_parent(start, name)?;
        system
            .tree
            .create(parent, last, NewNode::Symlink(target), 0o777)
            .map(|_| ())
    }))
}

/// # Safety
/// Both strings are NUL-terminated.
#[unsafe(export_name = "__unik_symlink")]
pub unsafe extern "C" fn symlink(target: *const c_char, name: *const c_char) -> c_int {
    // SAFETY: caller's contract.
    unsafe { symlinkat(target, AT_FDCWD, name) }
}

/// POSIX `readlinkat`: the target, not NUL-terminated, truncated to `size`.
///
/// # Safety
/// `name` is NUL-terminated; `buffer` is writable for `size` bytes.
#[unsafe(export_name = "__unik_readlinkat")]
pub unsafe extern "C" fn readlinkat(
    directory: c_int,
    name: *const c_char,
    buffer: *mut c_char,
    size: usize,
) -> isize {
    if size == 0 {
        errno::set(EINVAL);
        return -1;
    }
    let result = with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.start_directory(directory, name)?;
        let number = system.tree.resolve(start, name, false)?;
        match &system.tree.node(number).ok_or(ENOENT)?.content {
            Content::Symlink(target) => {
                let count = target.len().min(size);
                // SAFETY: caller's contract.
                let out = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), count) };
                out.copy_from_slice(&target[..count]);
                Ok(count as isize)
            }
            _ => Err(EINVAL),
        }
    });
    value(result)
}

/// # Safety
/// `name` is NUL-terminated; `buffer` is writable for `size` bytes.
#[unsafe(export_name = "__unik_readlink")]
pub unsafe extern "C" fn readlink(name: *const c_char, buffer: *mut c_char, size: usize) -> isize {
    // SAFETY: caller's contract.
    unsafe { readlinkat(AT_FDCWD, name, buffer, size) }
}

/// POSIX `getcwd`; a NULL buffer gets a `malloc`ed one (glibc's extension).
///
/// # Safety
/// `buffer` is NULL or writable for `size` bytes.
#[unsafe(export_name = "__unik_getcwd")]
pub unsafe extern "C" fn getcwd(buffer: *mut c_char, size: usize) -> *mut c_char {
    let path = with(|system| system.tree.path_of(system.working_directory));
    // SAFETY: caller's contract.
    unsafe { return_path(path, buffer, size, true) }
}

/// Copies a path with its NUL into `buffer` (or a `malloc`ed block when NULL and
/// allowed); NULL with ERANGE when it does not fit.
///
/// # Safety
/// `buffer` is NULL or writable for `size` bytes.
unsafe fn return_path(
    path: Result<Vec<u8>, Errno>,
    buffer: *mut c_char,
    size: usize,
    sized: bool,
) -> *mut c_char {
    let path = match path {
        Ok(path) => path,
        Err(error) => {
            errno::set(error);
            return core::ptr::null_mut();
        }
    };
    let needed = path.len() + 1;
    let (target, capacity) = if buffer.is_null() {
        let capacity = if sized && size > 0 { size } else { needed };
        let Some(block) = crate::memory::allocate_or_set_errno(capacity, 16) else {
            return core::ptr::null_mut();
        };
        (block.as_ptr().cast::<c_char>(), capacity)
    } else if sized {
        if size == 0 {
            errno::set(EINVAL);
            return core::ptr::null_mut();
        }
        (buffer, size)
    } else {
        (buffer, PATH_MAX)
    };
    if needed > capacity {
        errno::set(ERANGE);
        if buffer.is_null() {
            // SAFETY: `target` was allocated just above from the heap.
            unsafe { crate::memory::free_pointer(target.cast()) };
        }
        return core::ptr::null_mut();
    }
    // SAFETY: `target` is writable for `capacity >= needed` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(target.cast::<u8>(), needed) };
    out[..path.len()].copy_from_slice(&path);
    out[path.len()] = 0;
    target
}

/// POSIX `realpath`: the canonical absolute path (every link followed), into
/// `resolved` (PATH_MAX bytes) or a `malloc`ed block when NULL.
///
/// # Safety
/// `name` is NUL-terminated; `resolved` is NULL or writable for PATH_MAX bytes.
#[unsafe(export_name = "__unik_realpath")]
pub unsafe extern "C" fn realpath(name: *const c_char, resolved: *mut c_char) -> *mut c_char {
    let path = with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.working_directory;
        let number = system.tree.resolve(start, name, true)?;
        system.tree.path_of(number)
    });
    // SAFETY: caller's contract.
    unsafe { return_path(path, resolved, 0, false) }
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_chdir")]
pub unsafe extern "C" fn chdir(name: *const c_char) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let number = system.tree.resolve(system.working_directory, name, true)?;
        if !system.tree.node(number).ok_or(ENOENT)?.is_directory() {
            return Err(errno::ENOTDIR);
        }
        system.working_directory = number;
        Ok(())
    }))
}

#[unsafe(export_name = "__unik_fchdir")]
pub extern "C" fn fchdir(descriptor: c_int) -> c_int {
    status(with(|system| match system.node_of(descriptor)? {
        Object::Node(number)
            if system
                .tree
                .node(number)
                .is_some_and(|node| node.is_directory()) =>
        {
            system.working_directory = number;
            Ok(())
        }
        _ => Err(errno::ENOTDIR),
    }))
}

#[unsafe(export_name = "__unik_dup")]
pub extern "C" fn dup(descriptor: c_int) -> c_int {
    value(with(|system| system.duplicate(descriptor, None, 0, false)))
}

#[unsafe(export_name = "__unik_dup2")]
pub extern "C" fn dup2(descriptor: c_int, target: c_int) -> c_int {
    value(with(|system| {
        system.duplicate(descriptor, Some(target), 0, false)
    }))
}

/// Linux `dup3`: like dup2 but EINVAL when both are the same; O_CLOEXEC is the only flag.
#[unsafe(export_name = "__unik_dup3")]
pub extern "C" fn dup3(descriptor: c_int, target: c_int, flags: c_int) -> c_int {
    if descriptor == target || flags & !super::descriptors::O_CLOEXEC != 0 {
        errno::set(EINVAL);
        return -1;
    }
    let close_on_exec = flags != 0;
    value(with(|system| {
        system.duplicate(descriptor, Some(target), 0, close_on_exec)
    }))
}

/// `fcntl`'s commands on descriptors (c/files.c fetches the variadic argument and adds
/// the architecture's O_LARGEFILE to F_GETFL, as a 64-bit Linux kernel reports it).
#[unsafe(export_name = "__unik_files_fcntl")]
pub extern "C" fn files_fcntl(descriptor: c_int, command: c_int, argument: i64) -> c_int {
    use super::descriptors::{O_ACCMODE, O_APPEND, O_NONBLOCK};
    const F_DUPFD: c_int = 0;
    const F_GETFD: c_int = 1;
    const F_SETFD: c_int = 2;
    const F_GETFL: c_int = 3;
    const F_SETFL: c_int = 4;
    const F_DUPFD_CLOEXEC: c_int = 1030;
    const FD_CLOEXEC: i64 = 1;
    value(with(|system| match command {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let minimum = i32::try_from(argument).map_err(|_| EINVAL)?;
            system.duplicate(descriptor, None, minimum, command == F_DUPFD_CLOEXEC)
        }
        F_GETFD => Ok(c_int::from(system.close_on_exec(descriptor)?)),
        F_SETFD => system
            .set_close_on_exec(descriptor, argument & FD_CLOEXEC != 0)
            .map(|()| 0),
        F_GETFL => Ok(system.description(descriptor)?.status),
        F_SETFL => {
            // Only O_APPEND and O_NONBLOCK can change (fcntl(2)); the access mode stays.
            let description = system.description(descriptor)?;
            let changeable = O_APPEND | O_NONBLOCK;
            description.status =
                (description.status & (O_ACCMODE | !changeable)) | (argument as c_int & changeable);
            Ok(0)
        }
        _ => Err(EINVAL),
    }))
}

fn truncate_descriptor(descriptor: c_int, length: i64) -> Result<(), Errno> {
    with(|system| {
        let description = system.description(descriptor)?;
        if description.status & super::descriptors::O_ACCMODE == super::descriptors::O_RDONLY {
            return Err(EINVAL);
        }
        match description.object {
            Object::Node(number) => system.truncate_node(number, length),
            _ => Err(EINVAL),
        }
    })
}

#[unsafe(export_name = "__unik_ftruncate")]
pub extern "C" fn ftruncate(descriptor: c_int, length: i64) -> c_int {
    status(truncate_descriptor(descriptor, length))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_truncate")]
pub unsafe extern "C" fn truncate(name: *const c_char, length: i64) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let number = system.tree.resolve(system.working_directory, name, true)?;
        system.truncate_node(number, length)
    }))
}

/// `fsync`/`fdatasync`: RAM is the storage, so there is nothing to write back; the
/// descriptor is still checked (EBADF, and EINVAL for the console as for a tty).
#[unsafe(export_name = "__unik_fsync")]
pub extern "C" fn fsync(descriptor: c_int) -> c_int {
    status(with(|system| match system.node_of(descriptor)? {
        Object::Node(_) => Ok(()),
        _ => Err(EINVAL),
    }))
}

#[unsafe(export_name = "__unik_fdatasync")]
pub extern "C" fn fdatasync(descriptor: c_int) -> c_int {
    fsync(descriptor)
}

#[unsafe(export_name = "__unik_umask")]
pub extern "C" fn umask(mask: c_uint) -> c_uint {
    with(|system| core::mem::replace(&mut system.umask, mask & 0o777))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_fchmodat")]
pub unsafe extern "C" fn fchmodat(
    directory: c_int,
    name: *const c_char,
    mode: c_uint,
    flags: c_int,
) -> c_int {
    status(with(|system| {
        // SAFETY: caller's contract.
        let name = unsafe { path(name) }?;
        let start = system.start_directory(directory, name)?;
        let number = system
            .tree
            .resolve(start, name, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        let node = system.tree.node_mut(number).ok_or(ENOENT)?;
        if matches!(node.content, Content::Symlink(_)) {
            // Linux: the mode of a symbolic link cannot be changed.
            return Err(errno::EOPNOTSUPP);
        }
        node.permissions = mode & 0o7777;
        Ok(())
    }))
}

/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_chmod")]
pub unsafe extern "C" fn chmod(name: *const c_char, mode: c_uint) -> c_int {
    // SAFETY: caller's contract.
    unsafe { fchmodat(AT_FDCWD, name, mode, 0) }
}

#[unsafe(export_name = "__unik_fchmod")]
pub extern "C" fn fchmod(descriptor: c_int, mode: c_uint) -> c_int {
    status(with(|system| match system.node_of(descriptor)? {
        Object::Node(number) => {
            system.tree.node_mut(number).ok_or(EBADF)?.permissions = mode & 0o7777;
            Ok(())
        }
        _ => Ok(()),
    }))
}

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TimeSpec {
    seconds: i64,
    nanoseconds: i64,
}

/// `UTIME_NOW`/`UTIME_OMIT` (Linux stat.h).
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

/// POSIX `utimensat`: access and modification times; NULL `times` (or UTIME_NOW) set
/// them to the current time — which the RAM file system does not keep a clock for, so
/// "now" is the realtime clock when the program links the clocks, else left as is.
///
/// # Safety
/// `name` is NULL (futimens) or NUL-terminated; `times` is NULL or two timespecs.
#[unsafe(export_name = "__unik_utimensat")]
pub unsafe extern "C" fn utimensat(
    directory: c_int,
    name: *const c_char,
    times: *const TimeSpec,
    flags: c_int,
) -> c_int {
    let requested = if times.is_null() {
        None
    } else {
        // SAFETY: caller's contract.
        Some(unsafe { [times.read(), times.add(1).read()] })
    };
    if let Some(requested) = requested
        && requested.iter().any(|time| {
            !(0..1_000_000_000).contains(&time.nanoseconds)
                && time.nanoseconds != UTIME_NOW
                && time.nanoseconds != UTIME_OMIT
        })
    {
        errno::set(EINVAL);
        return -1;
    }
    status(with(|system| {
        let number = if name.is_null() {
            match system.node_of(directory)? {
                Object::Node(number) => number,
                _ => return Ok(()),
            }
        } else {
            // SAFETY: caller's contract.
            let name = unsafe { path(name) }?;
            let start = system.start_directory(directory, name)?;
            system
                .tree
                .resolve(start, name, flags & AT_SYMLINK_NOFOLLOW == 0)?
        };
        let node = system.tree.node_mut(number).ok_or(ENOENT)?;
        if let Some([accessed, modified]) = requested {
            for (time, slot) in [
                (accessed, &mut node.accessed),
                (modified, &mut node.modified),
            ] {
                if time.nanoseconds != UTIME_OMIT && time.nanoseconds != UTIME_NOW {
                    *slot = Timestamp {
                        seconds: time.seconds,
                        nanoseconds: time.nanoseconds,
                    };
                }
            }
        }
        Ok(())
    }))
}

#[unsafe(export_name = "__unik_futimens")]
pub extern "C" fn futimens(descriptor: c_int, times: *const TimeSpec) -> c_int {
    // SAFETY: a NULL name selects the descriptor; `times` is the caller's.
    unsafe { utimensat(descriptor, core::ptr::null(), times, 0) }
}

/// Linux `getdents64`: `struct linux_dirent64` records (d_ino u64, d_off i64, d_reclen
/// u16, d_type u8, the NUL-terminated name, padded to 8 bytes). d_off is the index of
/// the next entry, which lseek(fd, d_off, SEEK_SET) returns to.
///
/// # Safety
/// `buffer` is writable for `size` bytes.
#[unsafe(export_name = "__unik_getdents64")]
pub unsafe extern "C" fn getdents64(descriptor: c_int, buffer: *mut c_void, size: usize) -> isize {
    let result = with(|system| {
        let (entries, start) = system.directory_entries(descriptor)?;
        // SAFETY: caller's contract.
        let out = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) };
        let mut used = 0;
        let mut consumed = 0u64;
        for (inode, kind, name) in &entries {
            let length = (19 + name.len() + 1).next_multiple_of(8);
            if used + length > out.len() {
                if consumed == 0 {
                    return Err(EINVAL);
                }
                break;
            }
            consumed += 1;
            let record = &mut out[used..used + length];
            record.fill(0);
            record[0..8].copy_from_slice(&inode.to_ne_bytes());
            record[8..16].copy_from_slice(&((start + consumed) as i64).to_ne_bytes());
            record[16..18].copy_from_slice(&(length as u16).to_ne_bytes());
            record[18] = *kind;
            record[19..19 + name.len()].copy_from_slice(name);
            used += length;
        }
        system.set_directory_offset(descriptor, start + consumed)?;
        Ok(used as isize)
    });
    value(result)
}

/// POSIX `pipe2` (Linux): O_CLOEXEC and O_NONBLOCK; the ends are in-memory pipes
/// between the program's threads.
///
/// # Safety
/// `ends` is writable for two ints.
#[unsafe(export_name = "__unik_pipe2")]
pub unsafe extern "C" fn pipe2(ends: *mut c_int, flags: c_int) -> c_int {
    if ends.is_null() {
        errno::set(EFAULT);
        return -1;
    }
    status(with(|system| system.pipe(flags)).map(|(read, write)| {
        // SAFETY: caller's contract.
        unsafe { ends.cast::<[c_int; 2]>().write_unaligned([read, write]) };
    }))
}

/// # Safety
/// `ends` is writable for two ints.
#[unsafe(export_name = "__unik_pipe")]
pub unsafe extern "C" fn pipe(ends: *mut c_int) -> c_int {
    // SAFETY: caller's contract.
    unsafe { pipe2(ends, 0) }
}

// glibc's large-file names, the same functions on LP64 (off64_t is off_t): Rust std on
// *-linux-gnu calls these. (open64 and the stat64 family are in c/files.c.)
core::arch::global_asm!(
    ".weak lseek64",
    ".set lseek64, __unik_lseek",
    ".weak pread64",
    ".set pread64, __unik_pread",
    ".weak pwrite64",
    ".set pwrite64, __unik_pwrite",
    ".weak ftruncate64",
    ".set ftruncate64, __unik_ftruncate",
    ".weak truncate64",
    ".set truncate64, __unik_truncate",
);

crate::weak_c_symbols!(
    pipe, pipe2, close, pread, pwrite, lseek, faccessat, access, unlinkat, unlink, rmdir, renameat,
    rename, remove, mkdirat, mkdir, symlinkat, symlink, readlinkat, readlink, getcwd, realpath,
    chdir, fchdir, dup, dup2, dup3, ftruncate, truncate, fsync, fdatasync, umask, fchmodat, chmod,
    fchmod, utimensat, futimens, getdents64
);
