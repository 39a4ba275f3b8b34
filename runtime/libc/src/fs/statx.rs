//! statx(2), which Rust std's `fs::metadata` and friends call through `syscall()`
//! (with stat64 only as the fallback for kernels without it), and the lookup that
//! `stat`, `lstat`, `fstat` and `fstatat` share with it.
//!
//! The record is Linux's `struct statx` (include/uapi/linux/stat.h): the same 256-byte
//! layout on every architecture.

use core::ffi::c_int;

use super::descriptors::{Object, Status};
use super::tree::Errno;
use super::with;
use crate::errno::{EFAULT, EINVAL, ENOENT};

/// `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`, `AT_NO_AUTOMOUNT` and the
/// `AT_STATX_SYNC_TYPE` field (Linux fcntl.h).
pub(super) const AT_SYMLINK_NOFOLLOW: c_int = 0x100;
pub(super) const AT_EMPTY_PATH: c_int = 0x1000;
const AT_NO_AUTOMOUNT: c_int = 0x800;
const AT_STATX_SYNC_TYPE: c_int = 0x6000;
/// `STATX_BASIC_STATS`: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size,
/// blocks — all a RAM file system has (no birth time: STATX_BTIME stays clear, as on
/// tmpfs before Linux 5.x gave it one, so std's `created()` reports Unsupported).
pub const STATX_BASIC_STATS: u32 = 0x7ff;
/// `STATX__RESERVED`: a mask with it set is invalid.
const STATX_RESERVED: u32 = 0x8000_0000;
/// `sizeof(struct statx)`.
pub const RECORD_SIZE: usize = 256;

/// What `name` names, relative to `directory` (`AT_FDCWD` or a descriptor): the
/// descriptor itself when `name` is None, or empty with `AT_EMPTY_PATH`; a symbolic
/// link itself with `AT_SYMLINK_NOFOLLOW`.
pub fn status_at(directory: c_int, name: Option<&[u8]>, flags: c_int) -> Result<Status, Errno> {
    with(|system| {
        let object = match name {
            None => system.node_of(directory)?,
            Some(name) if name.is_empty() && flags & AT_EMPTY_PATH != 0 => {
                system.node_of(directory)?
            }
            // An empty path names nothing, whatever `directory` is (Linux checks the
            // path before the descriptor: ENOENT, not ENOTDIR for a file's).
            Some([]) => return Err(ENOENT),
            Some(name) => {
                let start = system.start_directory(directory, name)?;
                Object::Node(
                    system
                        .tree
                        .resolve(start, name, flags & AT_SYMLINK_NOFOLLOW == 0)?,
                )
            }
        };
        system.status_of_object(object)
    })
}

/// statx(directory, name, flags, mask, out) as Linux answers it: EINVAL for unknown
/// flags, a reserved mask bit or both sync types at once; EFAULT for a NULL name or
/// record (Rust std probes for statx with a NULL name and takes EFAULT as "present").
/// The mask asks; the record's `stx_mask` says what was filled, whatever was asked.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or points to `RECORD_SIZE` writable
/// bytes.
pub unsafe fn statx(
    directory: c_int,
    name: *const core::ffi::c_char,
    flags: c_int,
    mask: u32,
    out: *mut u8,
) -> Result<(), Errno> {
    let known = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE;
    if flags & !known != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(EINVAL);
    }
    if mask & STATX_RESERVED != 0 {
        return Err(EINVAL);
    }
    if name.is_null() || out.is_null() {
        return Err(EFAULT);
    }
    // SAFETY: caller's contract: NUL-terminated.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    let found = status_at(directory, Some(name), flags)?;
    let filled = record(&found);
    // SAFETY: caller's contract: RECORD_SIZE writable bytes.
    unsafe { core::ptr::copy_nonoverlapping(filled.as_ptr(), out, RECORD_SIZE) };
    Ok(())
}

/// Linux's `struct statx` for `status`, byte for byte (little-endian, as both targets).
pub fn record(status: &Status) -> [u8; RECORD_SIZE] {
    let mut bytes = [0u8; RECORD_SIZE];
    let mut put = |offset: usize, value: &[u8]| {
        bytes[offset..offset + value.len()].copy_from_slice(value);
    };
    put(0, &STATX_BASIC_STATS.to_le_bytes()); // stx_mask
    put(4, &status.block_size.to_le_bytes()); // stx_blksize
    // stx_attributes (8) stays 0: no compressed, immutable, append-only … files.
    put(16, &status.links.to_le_bytes()); // stx_nlink
    // stx_uid (20) and stx_gid (24) are 0: the program runs as root.
    put(28, &(status.mode as u16).to_le_bytes()); // stx_mode
    put(32, &status.inode.to_le_bytes()); // stx_ino
    put(40, &status.size.to_le_bytes()); // stx_size
    put(48, &status.blocks.to_le_bytes()); // stx_blocks
    // stx_attributes_mask (56) is 0: no attribute is supported.
    // struct statx_timestamp { s64 tv_sec; u32 tv_nsec; s32 reserved }: atime at 64,
    // btime at 80 (not filled), ctime at 96, mtime at 112.
    for (offset, [seconds, nanoseconds]) in [
        (64, status.accessed),
        (96, status.changed),
        (112, status.modified),
    ] {
        put(offset, &seconds.to_le_bytes());
        put(offset + 8, &(nanoseconds as u32).to_le_bytes());
    }
    // stx_rdev_major/minor (128, 132): a character device's (the console 4:64,
    // /dev/null 1:3 …).
    put(128, &(status.device_number >> 8).to_le_bytes());
    put(132, &(status.device_number & 0xff).to_le_bytes());
    // stx_dev_major/minor (136, 140): Linux's encoding of the 64-bit dev_t.
    let major = ((status.device >> 8) & 0xfff) | ((status.device >> 32) & !0xfff);
    let minor = (status.device & 0xff) | ((status.device >> 12) & !0xff);
    put(136, &(major as u32).to_le_bytes());
    put(140, &(minor as u32).to_le_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8], offset: usize) -> u32 {
        u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
    }

    fn double(bytes: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap())
    }

    #[test]
    fn the_record_has_linuxs_layout() {
        let status = Status {
            device: 0x1a,
            inode: 77,
            mode: 0o100644,
            links: 2,
            size: 12345,
            blocks: 32,
            block_size: 4096,
            device_number: 0,
            accessed: [1_700_000_000, 5],
            modified: [1_700_000_001, 6],
            changed: [1_700_000_002, 7],
        };
        let bytes = record(&status);
        assert_eq!(word(&bytes, 0), STATX_BASIC_STATS);
        assert_eq!(word(&bytes, 4), 4096);
        assert_eq!(word(&bytes, 16), 2);
        assert_eq!(u16::from_le_bytes([bytes[28], bytes[29]]), 0o100644);
        assert_eq!(double(&bytes, 32), 77);
        assert_eq!(double(&bytes, 40), 12345);
        assert_eq!(double(&bytes, 48), 32);
        assert_eq!(double(&bytes, 64), 1_700_000_000);
        assert_eq!(word(&bytes, 72), 5);
        assert_eq!(double(&bytes, 80), 0, "no birth time");
        assert_eq!(double(&bytes, 96), 1_700_000_002);
        assert_eq!(word(&bytes, 104), 7);
        assert_eq!(double(&bytes, 112), 1_700_000_001);
        assert_eq!(word(&bytes, 120), 6);
        assert_eq!((word(&bytes, 128), word(&bytes, 132)), (0, 0));
        assert_eq!((word(&bytes, 136), word(&bytes, 140)), (0, 0x1a));
        assert!(bytes[144..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn a_terminal_is_the_serial_line_and_large_device_numbers_split_like_linux() {
        // makedev(0x12345, 0x6789a) as glibc's <sys/sysmacros.h> builds it.
        let status = Status {
            device: 0x0001_2000_6783_459a,
            device_number: (4 << 8) | 64,
            ..Status::default()
        };
        let bytes = record(&status);
        assert_eq!((word(&bytes, 128), word(&bytes, 132)), (4, 64));
        assert_eq!((word(&bytes, 136), word(&bytes, 140)), (0x12345, 0x6789a));
    }
}
