//! `<dirent.h>`: directory streams over directory descriptors.
//!
//! A `DIR *` is the address of a boxed [`DirectoryStream`] that the registry below
//! owns; every call looks the pointer up there first, so a closed or foreign pointer
//! gets EBADF instead of being trusted.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};

use super::descriptors::{AT_FDCWD, Flags, O_CLOEXEC, O_RDONLY};
use super::with;
use crate::errno::{self, EBADF, ENOMEM};
use crate::global::Global;

/// glibc's `struct dirent` on LP64 Linux (x86_64 and aarch64 alike).
#[repr(C)]
pub struct DirectoryEntry {
    inode: u64,
    offset: i64,
    record_length: u16,
    kind: u8,
    name: [u8; 256],
}

pub struct DirectoryStream {
    descriptor: c_int,
    entry: DirectoryEntry,
}

// Boxed so that a stream (and the entry readdir returns) keeps its address while the
// list grows.
#[allow(clippy::vec_box)]
static STREAMS: Global<Vec<Box<DirectoryStream>>> = Global::new(Vec::new());

fn address(stream: &DirectoryStream) -> *const c_void {
    core::ptr::from_ref(stream).cast()
}

/// Runs `body` on the registered stream at `directory`, or fails with EBADF.
fn with_stream<R>(
    directory: *mut c_void,
    failure: R,
    body: impl FnOnce(&mut DirectoryStream) -> R,
) -> R {
    STREAMS.with(|streams| {
        match streams
            .iter_mut()
            .find(|stream| core::ptr::addr_eq(address(stream), directory))
        {
            Some(stream) => body(stream),
            None => {
                errno::set(EBADF);
                failure
            }
        }
    })
}

/// A registered stream on `descriptor`; NULL with ENOMEM when out of memory.
fn register(descriptor: c_int) -> *mut c_void {
    let stream = Box::new(DirectoryStream {
        descriptor,
        entry: DirectoryEntry {
            inode: 0,
            offset: 0,
            record_length: 0,
            kind: 0,
            name: [0; 256],
        },
    });
    STREAMS.with(|streams| {
        if streams.try_reserve(1).is_err() {
            errno::set(ENOMEM);
            return core::ptr::null_mut();
        }
        let pointer = address(&stream).cast_mut();
        streams.push(stream);
        pointer
    })
}

/// POSIX `opendir`.
///
/// # Safety
/// `name` is NUL-terminated.
#[unsafe(export_name = "__unik_opendir")]
pub unsafe extern "C" fn opendir(name: *const c_char) -> *mut c_void {
    if name.is_null() {
        errno::set(errno::EFAULT);
        return core::ptr::null_mut();
    }
    // SAFETY: caller's contract.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    let flags = Flags {
        bits: O_RDONLY | O_CLOEXEC,
        directory: true,
        no_follow: false,
    };
    match with(|system| system.open(AT_FDCWD, name, flags, 0)) {
        Ok(descriptor) => {
            let stream = register(descriptor);
            if stream.is_null() {
                let _ = with(|system| system.close(descriptor));
            }
            stream
        }
        Err(error) => {
            errno::set(error);
            core::ptr::null_mut()
        }
    }
}

/// POSIX `fdopendir`: the descriptor must be an open directory; it now belongs to the
/// stream.
#[unsafe(export_name = "__unik_fdopendir")]
pub extern "C" fn fdopendir(descriptor: c_int) -> *mut c_void {
    let checked = with(|system| {
        let object = system.node_of(descriptor)?;
        match object {
            super::descriptors::Object::Node(number)
                if system
                    .tree
                    .node(number)
                    .is_some_and(|node| node.is_directory()) =>
            {
                Ok(())
            }
            _ => Err(errno::ENOTDIR),
        }
    });
    match checked {
        Ok(()) => register(descriptor),
        Err(error) => {
            errno::set(error);
            core::ptr::null_mut()
        }
    }
}

/// POSIX `readdir`: the next entry (in the stream's own storage, valid until the next
/// call), or NULL at the end (errno untouched) or on error.
#[unsafe(export_name = "__unik_readdir")]
pub extern "C" fn readdir(directory: *mut c_void) -> *mut DirectoryEntry {
    with_stream(directory, core::ptr::null_mut(), |stream| {
        match with(|system| system.next_directory_entry(stream.descriptor)) {
            Ok(Some((inode, kind, name))) => {
                let entry = &mut stream.entry;
                let length = name.len().min(255);
                entry.inode = inode;
                entry.offset += 1;
                entry.record_length = (19 + length + 1).next_multiple_of(8) as u16;
                entry.kind = kind;
                entry.name[..length].copy_from_slice(&name[..length]);
                entry.name[length] = 0;
                core::ptr::from_mut(entry)
            }
            Ok(None) => core::ptr::null_mut(),
            Err(error) => {
                errno::set(error);
                core::ptr::null_mut()
            }
        }
    })
}

#[unsafe(export_name = "__unik_rewinddir")]
pub extern "C" fn rewinddir(directory: *mut c_void) {
    with_stream(directory, (), |stream| {
        stream.entry.offset = 0;
        let _ = with(|system| system.set_directory_offset(stream.descriptor, 0));
    });
}

#[unsafe(export_name = "__unik_dirfd")]
pub extern "C" fn dirfd(directory: *mut c_void) -> c_int {
    with_stream(directory, -1, |stream| stream.descriptor)
}

/// POSIX `closedir`: closes the descriptor and frees the stream.
#[unsafe(export_name = "__unik_closedir")]
pub extern "C" fn closedir(directory: *mut c_void) -> c_int {
    let removed = STREAMS.with(|streams| {
        let index = streams
            .iter()
            .position(|stream| core::ptr::addr_eq(address(stream), directory))?;
        Some(streams.swap_remove(index))
    });
    match removed {
        Some(stream) => match with(|system| system.close(stream.descriptor)) {
            Ok(()) => 0,
            Err(error) => {
                errno::set(error);
                -1
            }
        },
        None => {
            errno::set(EBADF);
            -1
        }
    }
}

crate::weak_c_symbols!(opendir, fdopendir, readdir, rewinddir, dirfd, closedir);

// glibc's readdir64: struct dirent64 is struct dirent on LP64 (Rust std calls it).
core::arch::global_asm!(".weak readdir64", ".set readdir64, __unik_readdir");
