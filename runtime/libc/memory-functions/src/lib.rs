//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, `strlen` and `memchr`: the C
//! functions the compiler itself emits calls to (for struct copies, zeroing, loops it
//! recognises, and library calls it rewrites).
//!
//! This crate is `#![no_builtins]`, so LLVM's loop-idiom recognition cannot turn the
//! copy loops below back into calls to `memcpy` — which would be these very functions,
//! recursing forever. Keep it to exactly these functions: everything else in the libc
//! may use builtins freely.
//!
//! The exports are C symbols in the shipped archive (weak, see the end of the file). For
//! the libc's host unit tests (feature `host-test`, enabled only through the libc's
//! dev-dependencies) they are ordinary Rust functions, so they do not replace the host
//! glibc's.
#![no_std]
#![no_builtins]

use core::ptr;

/// Bytes per machine word: copies move this much per step once the destination is aligned.
const WORD: usize = size_of::<usize>();

/// Copies `count` bytes from `source` to `destination`, lowest address first.
///
/// # Safety
/// `source` must be readable and `destination` writable for `count` bytes; if they
/// overlap, `destination` must not be above `source`.
unsafe fn copy_forward(destination: *mut u8, source: *const u8, count: usize) {
    let mut offset = 0;
    // Byte steps until the destination is word aligned, so the word stores never split
    // a cache line; loads may still be unaligned, which x86_64 and AArch64 handle in
    // hardware.
    let head = destination.align_offset(WORD).min(count);
    while offset < head {
        // SAFETY: offset < count, within both buffers (function contract).
        unsafe { *destination.add(offset) = *source.add(offset) };
        offset += 1;
    }
    while count - offset >= WORD {
        // SAFETY: a whole word lies within both buffers; the load is unaligned-tolerant
        // and a forward word step never reads bytes this step has already overwritten
        // (destination <= source).
        unsafe {
            let word = ptr::read_unaligned(source.add(offset).cast::<usize>());
            ptr::write_unaligned(destination.add(offset).cast::<usize>(), word);
        }
        offset += WORD;
    }
    while offset < count {
        // SAFETY: offset < count.
        unsafe { *destination.add(offset) = *source.add(offset) };
        offset += 1;
    }
}

/// Copies `count` bytes from `source` to `destination`, highest address first.
///
/// # Safety
/// `source` must be readable and `destination` writable for `count` bytes; if they
/// overlap, `destination` must not be below `source`.
unsafe fn copy_backward(destination: *mut u8, source: *const u8, count: usize) {
    let mut remaining = count;
    // Byte steps until the end of the destination is word aligned.
    let tail = (destination as usize).wrapping_add(count) % WORD;
    let tail = tail.min(count);
    let stop = count - tail;
    while remaining > stop {
        remaining -= 1;
        // SAFETY: remaining < count.
        unsafe { *destination.add(remaining) = *source.add(remaining) };
    }
    while remaining >= WORD {
        remaining -= WORD;
        // SAFETY: the word at `remaining` lies within both buffers; reading the whole
        // word before writing it keeps overlapping moves correct.
        unsafe {
            let word = ptr::read_unaligned(source.add(remaining).cast::<usize>());
            ptr::write_unaligned(destination.add(remaining).cast::<usize>(), word);
        }
    }
    while remaining > 0 {
        remaining -= 1;
        // SAFETY: remaining < count.
        unsafe { *destination.add(remaining) = *source.add(remaining) };
    }
}

/// C `memcpy` (C11 7.24.2.1).
///
/// # Safety
/// `source` readable and `destination` writable for `count` bytes, not overlapping.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_memcpy"))]
pub unsafe extern "C" fn memcpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // SAFETY: the caller's contract is copy_forward's (no overlap at all).
    unsafe { copy_forward(destination, source, count) };
    destination
}

/// C `memmove` (C11 7.24.2.2): like `memcpy`, but the buffers may overlap.
///
/// # Safety
/// `source` readable and `destination` writable for `count` bytes.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_memmove"))]
pub unsafe extern "C" fn memmove(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    // Compare as integers: the two pointers may belong to different objects.
    let destination_address = destination as usize;
    let source_address = source as usize;
    if destination_address.wrapping_sub(source_address) >= count {
        // Destination below the source, or no overlap: a forward copy never reads a byte
        // it has already overwritten.
        // SAFETY: caller's contract; overlap only with destination < source.
        unsafe { copy_forward(destination, source, count) };
    } else {
        // SAFETY: caller's contract; here source < destination < source + count.
        unsafe { copy_backward(destination, source, count) };
    }
    destination
}

/// C `memset` (C11 7.24.6.1): stores `(unsigned char) value` in `count` bytes.
///
/// # Safety
/// `destination` writable for `count` bytes.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_memset"))]
pub unsafe extern "C" fn memset(destination: *mut u8, value: i32, count: usize) -> *mut u8 {
    let byte = value as u8;
    // The byte repeated in every lane of a word.
    let pattern = usize::from_ne_bytes([byte; WORD]);
    let mut offset = 0;
    let head = destination.align_offset(WORD).min(count);
    while offset < head {
        // SAFETY: offset < count.
        unsafe { *destination.add(offset) = byte };
        offset += 1;
    }
    while count - offset >= WORD {
        // SAFETY: the word lies within the buffer, and is aligned (head loop).
        unsafe { ptr::write(destination.add(offset).cast::<usize>(), pattern) };
        offset += WORD;
    }
    while offset < count {
        // SAFETY: offset < count.
        unsafe { *destination.add(offset) = byte };
        offset += 1;
    }
    destination
}

/// C `memcmp` (C11 7.24.4.1): compares as `unsigned char`; returns <0, 0 or >0.
///
/// # Safety
/// Both buffers readable for `count` bytes.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_memcmp"))]
pub unsafe extern "C" fn memcmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    let mut offset = 0;
    // Skip equal words quickly; the first differing word is then resolved bytewise.
    while count - offset >= WORD {
        // SAFETY: the word lies within both buffers.
        let (left_word, right_word) = unsafe {
            (
                ptr::read_unaligned(left.add(offset).cast::<usize>()),
                ptr::read_unaligned(right.add(offset).cast::<usize>()),
            )
        };
        if left_word != right_word {
            break;
        }
        offset += WORD;
    }
    while offset < count {
        // SAFETY: offset < count.
        let (left_byte, right_byte) = unsafe { (*left.add(offset), *right.add(offset)) };
        if left_byte != right_byte {
            return i32::from(left_byte) - i32::from(right_byte);
        }
        offset += 1;
    }
    0
}

/// BSD `bcmp`: zero when equal, non-zero otherwise (LLVM emits it for `memcmp(...) == 0`).
///
/// # Safety
/// Both buffers readable for `count` bytes.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_bcmp"))]
pub unsafe extern "C" fn bcmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(left, right, count) }
}

/// C `strlen` (C11 7.24.6.3). Byte at a time: a word-wide scan would read past the
/// terminating NUL, outside the object.
///
/// # Safety
/// `string` points to a NUL-terminated byte string.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_strlen"))]
pub unsafe extern "C" fn strlen(string: *const u8) -> usize {
    let mut length = 0;
    // SAFETY: every byte up to and including the NUL is part of the string.
    while unsafe { *string.add(length) } != 0 {
        length += 1;
    }
    length
}

/// C `memchr` (C11 7.24.5.1): reads sequentially and stops at the first match, as the
/// standard requires (callers may pass a count larger than the object when the byte is
/// known to occur). Here because LLVM rewrites some `strchr` calls into `memchr`.
///
/// # Safety
/// `memory` is readable up to the first match or for `count` bytes.
#[cfg_attr(not(feature = "host-test"), unsafe(export_name = "__unik_memchr"))]
pub unsafe extern "C" fn memchr(memory: *const u8, character: i32, count: usize) -> *mut u8 {
    let byte = character as u8;
    let mut index = 0;
    while index < count {
        // SAFETY: every byte before a match is readable (function contract).
        let candidate = unsafe { memory.add(index) };
        // SAFETY: as above.
        if unsafe { *candidate } == byte {
            return candidate.cast_mut();
        }
        index += 1;
    }
    core::ptr::null_mut()
}

// The C names are weak aliases of the exports above, so that a program defining its own
// `memcpy` links (its definition wins), as with glibc's archive. Target-independent ELF
// assembler directives.
#[cfg(not(feature = "host-test"))]
core::arch::global_asm!(
    ".weak memcpy",
    ".set memcpy, __unik_memcpy",
    ".weak memmove",
    ".set memmove, __unik_memmove",
    ".weak memset",
    ".set memset, __unik_memset",
    ".weak memcmp",
    ".set memcmp, __unik_memcmp",
    ".weak bcmp",
    ".set bcmp, __unik_bcmp",
    ".weak strlen",
    ".set strlen, __unik_strlen",
    ".weak memchr",
    ".set memchr, __unik_memchr",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_moves_every_alignment_and_overlap() {
        for length in 0..40 {
            for source_offset in 0..9 {
                for destination_offset in 0..9 {
                    let mut buffer: [u8; 64] = core::array::from_fn(|index| index as u8);
                    let mut expected = buffer;
                    expected.copy_within(source_offset..source_offset + length, destination_offset);
                    // SAFETY: both ranges lie inside `buffer`.
                    unsafe {
                        let base = buffer.as_mut_ptr();
                        memmove(
                            base.add(destination_offset),
                            base.add(source_offset),
                            length,
                        );
                    }
                    assert_eq!(
                        buffer, expected,
                        "{length} {source_offset} {destination_offset}"
                    );
                }
            }
        }
    }

    #[test]
    fn sets_and_compares() {
        let mut buffer = [0u8; 50];
        // SAFETY: inside the buffer.
        unsafe { memset(buffer.as_mut_ptr().add(3), 0x1ab, 40) };
        assert!(buffer[3..43].iter().all(|&byte| byte == 0xab));
        assert_eq!(buffer[2], 0);
        assert_eq!(buffer[43], 0);
        let mut other = buffer;
        // SAFETY: equal-length buffers.
        unsafe {
            assert_eq!(memcmp(buffer.as_ptr(), other.as_ptr(), 50), 0);
            other[30] = 0xff;
            assert!(memcmp(buffer.as_ptr(), other.as_ptr(), 50) < 0);
            assert!(memcmp(other.as_ptr(), buffer.as_ptr(), 50) > 0);
            assert_eq!(memcmp(other.as_ptr(), buffer.as_ptr(), 30), 0);
            assert_eq!(strlen(c"hello".as_ptr().cast()), 5);
            let text = b"find the x here";
            assert_eq!(
                memchr(text.as_ptr(), i32::from(b'x'), usize::MAX),
                text.as_ptr().add(9).cast_mut()
            );
            assert!(memchr(text.as_ptr(), i32::from(b'z'), text.len()).is_null());
            assert!(memchr(text.as_ptr(), i32::from(b'f'), 0).is_null());
        }
    }
}
