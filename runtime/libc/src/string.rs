//! `<string.h>` and `<strings.h>` (C11 7.24, POSIX, and the GNU/BSD extensions glibc
//! has). `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen` are in the
//! `#![no_builtins]` crate (see lib.rs); the searching and comparing logic here is safe
//! code over byte slices, unit-tested on the host.

/// The bytes of `haystack` at which `needle` first occurs. An empty needle is found at 0
/// (C11 7.24.5.7).
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if needle.len() > haystack.len() {
        return None;
    }
    let last_start = haystack.len() - needle.len();
    let mut start = 0;
    while start <= last_start {
        // Jump to the next occurrence of the first byte, then compare the rest.
        let offset = haystack[start..=last_start]
            .iter()
            .position(|&byte| byte == first)?;
        start += offset;
        if haystack[start + 1..start + needle.len()] == *rest {
            return Some(start);
        }
        start += 1;
    }
    None
}

/// Like [`find`], ASCII letters compared without case (glibc `strcasestr`, "C" locale).
pub fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return if needle.is_empty() { Some(0) } else { None };
    }
    (0..=haystack.len() - needle.len())
        .find(|&start| haystack[start..start + needle.len()].eq_ignore_ascii_case(needle))
}

/// A set of bytes, for `strspn`, `strcspn`, `strpbrk`, `strtok`, `strsep`.
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub fn new(members: &[u8]) -> Self {
        let mut bits = [0u64; 4];
        for &byte in members {
            bits[usize::from(byte >> 6)] |= 1 << (byte & 63);
        }
        ByteSet(bits)
    }

    pub fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// Length of the prefix of `string` whose bytes are (`inside`) or are not in `set`.
pub fn span(string: &[u8], set: &[u8], inside: bool) -> usize {
    let set = ByteSet::new(set);
    string
        .iter()
        .position(|&byte| set.contains(byte) != inside)
        .unwrap_or(string.len())
}

/// `strcmp` on the bytes up to (not including) the NULs, as `unsigned char`. Each slice
/// may be followed by its NUL or be cut at `limit` (`strncmp`).
pub fn compare(left: &[u8], right: &[u8]) -> i32 {
    for (index, &left_byte) in left.iter().enumerate() {
        let right_byte = right.get(index).copied().unwrap_or(0);
        if left_byte != right_byte {
            return i32::from(left_byte) - i32::from(right_byte);
        }
    }
    match right.get(left.len()) {
        Some(&right_byte) => -i32::from(right_byte),
        None => 0,
    }
}

/// `strcasecmp`: compares lowered ASCII letters ("C" locale), like glibc.
pub fn compare_ignoring_case(left: &[u8], right: &[u8]) -> i32 {
    let lower = |byte: u8| i32::from(byte.to_ascii_lowercase());
    for (index, &left_byte) in left.iter().enumerate() {
        let right_byte = right.get(index).copied().unwrap_or(0);
        if lower(left_byte) != lower(right_byte) {
            return lower(left_byte) - lower(right_byte);
        }
    }
    match right.get(left.len()) {
        Some(&right_byte) => -lower(right_byte),
        None => 0,
    }
}

/// One `strtok_r` step over `string` (the rest of the text): skips leading delimiters,
/// then returns `(token_start, token_end, next_start)` — `token_end` is where the NUL
/// goes (or the end of the text); None when only delimiters remain.
pub fn next_token(string: &[u8], delimiters: &[u8]) -> Option<(usize, usize, usize)> {
    let start = span(string, delimiters, true);
    if start == string.len() {
        return None;
    }
    let end = start + span(&string[start..], delimiters, false);
    let next = if end < string.len() { end + 1 } else { end };
    Some((start, end, next))
}

/// `strlcpy`/`strlcat`'s copy: at most `capacity - 1` bytes and a NUL (nothing when the
/// capacity is 0); returns the bytes copied.
pub fn copy_truncating(source: &[u8], destination: &mut [u8]) -> usize {
    let Some(room) = destination.len().checked_sub(1) else {
        return 0;
    };
    let copied = source.len().min(room);
    destination[..copied].copy_from_slice(&source[..copied]);
    destination[copied] = 0;
    copied
}

/// glibc's descriptions of the Linux signals 1..=31 (`strsignal`, string/strsignal.c
/// and the sigabbrev tables), indexed by signal number.
const SIGNAL_DESCRIPTIONS: [&[u8]; 32] = [
    b"",
    b"Hangup",
    b"Interrupt",
    b"Quit",
    b"Illegal instruction",
    b"Trace/breakpoint trap",
    b"Aborted",
    b"Bus error",
    b"Floating point exception",
    b"Killed",
    b"User defined signal 1",
    b"Segmentation fault",
    b"User defined signal 2",
    b"Broken pipe",
    b"Alarm clock",
    b"Terminated",
    b"Stack fault",
    b"Child exited",
    b"Continued",
    b"Stopped (signal)",
    b"Stopped",
    b"Stopped (tty input)",
    b"Stopped (tty output)",
    b"Urgent I/O condition",
    b"CPU time limit exceeded",
    b"File size limit exceeded",
    b"Virtual timer expired",
    b"Profiling timer expired",
    b"Window changed",
    b"I/O possible",
    b"Power failure",
    b"Bad system call",
];

/// glibc's first real-time signal as applications see it (SIGRTMIN: 32 and 33 are
/// reserved by glibc's threads).
const FIRST_REAL_TIME_SIGNAL: i32 = 34;
const LAST_REAL_TIME_SIGNAL: i32 = 64;

/// `strsignal`'s text for `number` into `out`: glibc's description, "Real-time signal N"
/// (N counted from SIGRTMIN) or "Unknown signal N". Returns the length.
pub fn signal_description(number: i32, out: &mut [u8; 32]) -> usize {
    let mut used = 0;
    let mut push = |bytes: &[u8], used: &mut usize| {
        out[*used..*used + bytes.len()].copy_from_slice(bytes);
        *used += bytes.len();
    };
    let mut digits = [0u8; 20];
    match number {
        1..=31 => push(SIGNAL_DESCRIPTIONS[number as usize], &mut used),
        FIRST_REAL_TIME_SIGNAL..=LAST_REAL_TIME_SIGNAL => {
            push(b"Real-time signal ", &mut used);
            let length = crate::errno::write_decimal(
                &mut digits,
                i64::from(number - FIRST_REAL_TIME_SIGNAL),
            );
            push(&digits[..length], &mut used);
        }
        _ => {
            push(b"Unknown signal ", &mut used);
            let length = crate::errno::write_decimal(&mut digits, i64::from(number));
            push(&digits[..length], &mut used);
        }
    }
    used
}

/// POSIX `ffs`: the 1-based index of the lowest set bit, 0 for 0.
pub fn first_set_bit(value: u64) -> i32 {
    if value == 0 {
        0
    } else {
        value.trailing_zeros() as i32 + 1
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use crate::memory;
    use core::ffi::{c_char, c_int, c_void};
    use core::ptr::null_mut;
    use core::slice;
    use unik_libc_memory_functions::strlen;

    /// The bytes of a C string, without its NUL.
    ///
    /// # Safety
    /// `string` is NUL-terminated.
    unsafe fn bytes<'a>(string: *const c_char) -> &'a [u8] {
        // SAFETY: caller's contract: strlen bytes are readable.
        unsafe { slice::from_raw_parts(string.cast::<u8>(), strlen(string.cast())) }
    }

    /// The bytes of a C string up to its NUL or `limit`, whichever comes first.
    ///
    /// # Safety
    /// `string` is readable up to its NUL or for `limit` bytes.
    unsafe fn bytes_limited<'a>(string: *const c_char, limit: usize) -> &'a [u8] {
        let mut length = 0;
        // SAFETY: caller's contract; reading stops at the NUL or the limit.
        while length < limit && unsafe { *string.add(length) } != 0 {
            length += 1;
        }
        // SAFETY: the bytes just read.
        unsafe { slice::from_raw_parts(string.cast::<u8>(), length) }
    }

    /// # Safety
    /// `memory` readable for `count` bytes.
    unsafe fn region<'a>(memory: *const c_void, count: usize) -> &'a [u8] {
        if count == 0 {
            return &[];
        }
        // SAFETY: caller's contract.
        unsafe { slice::from_raw_parts(memory.cast::<u8>(), count) }
    }

    /// GNU `memrchr`: the last occurrence.
    ///
    /// # Safety
    /// `memory` readable for `count` bytes.
    #[unsafe(export_name = "__unik_memrchr")]
    pub unsafe extern "C" fn memrchr(
        memory: *const c_void,
        character: c_int,
        count: usize,
    ) -> *mut c_void {
        let byte = character as u8;
        // SAFETY: caller's contract.
        match unsafe { region(memory, count) }
            .iter()
            .rposition(|&candidate| candidate == byte)
        {
            // SAFETY: inside the region.
            Some(index) => unsafe { memory.cast::<u8>().add(index) }.cast_mut().cast(),
            None => null_mut(),
        }
    }

    /// GNU `memmem`.
    ///
    /// # Safety
    /// Both regions readable for their lengths.
    #[unsafe(export_name = "__unik_memmem")]
    pub unsafe extern "C" fn memmem(
        haystack: *const c_void,
        haystack_length: usize,
        needle: *const c_void,
        needle_length: usize,
    ) -> *mut c_void {
        // SAFETY: caller's contract.
        let (haystack_bytes, needle_bytes) = unsafe {
            (
                region(haystack, haystack_length),
                region(needle, needle_length),
            )
        };
        match find(haystack_bytes, needle_bytes) {
            // SAFETY: inside the haystack (or at its start for an empty needle).
            Some(index) => unsafe { haystack.cast::<u8>().add(index) }
                .cast_mut()
                .cast(),
            None => null_mut(),
        }
    }

    /// GNU `mempcpy`: `memcpy` returning the end of the copy.
    ///
    /// # Safety
    /// As `memcpy`.
    #[unsafe(export_name = "__unik_mempcpy")]
    pub unsafe extern "C" fn mempcpy(
        destination: *mut c_void,
        source: *const c_void,
        count: usize,
    ) -> *mut c_void {
        // SAFETY: caller's contract.
        unsafe {
            core::ptr::copy_nonoverlapping(source.cast::<u8>(), destination.cast::<u8>(), count);
            destination.cast::<u8>().add(count).cast()
        }
    }

    /// BSD `bzero`.
    ///
    /// # Safety
    /// `memory` writable for `count` bytes.
    #[unsafe(export_name = "__unik_bzero")]
    pub unsafe extern "C" fn bzero(memory: *mut c_void, count: usize) {
        // SAFETY: caller's contract.
        unsafe { memory.cast::<u8>().write_bytes(0, count) };
    }

    /// `explicit_bzero`: zeroing the compiler may not remove as a dead store.
    ///
    /// # Safety
    /// `memory` writable for `count` bytes.
    #[unsafe(export_name = "__unik_explicit_bzero")]
    pub unsafe extern "C" fn explicit_bzero(memory: *mut c_void, count: usize) {
        for index in 0..count {
            // SAFETY: caller's contract; volatile so the stores stay.
            unsafe { memory.cast::<u8>().add(index).write_volatile(0) };
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    /// POSIX `strnlen`.
    ///
    /// # Safety
    /// `string` readable up to its NUL or `limit` bytes.
    #[unsafe(export_name = "__unik_strnlen")]
    pub unsafe extern "C" fn strnlen(string: *const c_char, limit: usize) -> usize {
        // SAFETY: caller's contract.
        unsafe { bytes_limited(string, limit) }.len()
    }

    /// C `strcmp` (C11 7.24.4.2).
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strcmp")]
    pub unsafe extern "C" fn strcmp(left: *const c_char, right: *const c_char) -> c_int {
        // SAFETY: caller's contract.
        unsafe { compare(bytes(left), bytes(right)) }
    }

    /// C `strncmp` (C11 7.24.4.4).
    ///
    /// # Safety
    /// Both readable up to their NUL or `limit` bytes.
    #[unsafe(export_name = "__unik_strncmp")]
    pub unsafe extern "C" fn strncmp(
        left: *const c_char,
        right: *const c_char,
        limit: usize,
    ) -> c_int {
        // SAFETY: caller's contract.
        let (left, right) = unsafe { (bytes_limited(left, limit), bytes_limited(right, limit)) };
        compare(left, right)
    }

    /// C `strcoll` (C11 7.24.4.3): in the "C" locale, `strcmp`.
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strcoll")]
    pub unsafe extern "C" fn strcoll(left: *const c_char, right: *const c_char) -> c_int {
        // SAFETY: caller's contract.
        unsafe { strcmp(left, right) }
    }

    /// C `strxfrm` (C11 7.24.4.5): in the "C" locale, a copy; returns the full length.
    ///
    /// # Safety
    /// `source` NUL-terminated; `destination` writable for `size` bytes.
    #[unsafe(export_name = "__unik_strxfrm")]
    pub unsafe extern "C" fn strxfrm(
        destination: *mut c_char,
        source: *const c_char,
        size: usize,
    ) -> usize {
        // SAFETY: caller's contract.
        let source = unsafe { bytes(source) };
        if source.len() < size {
            // SAFETY: length + 1 <= size bytes fit.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    source.as_ptr(),
                    destination.cast::<u8>(),
                    source.len() + 1,
                )
            };
        }
        source.len()
    }

    /// POSIX `stpcpy`: returns the address of the copied NUL.
    ///
    /// # Safety
    /// `source` NUL-terminated; `destination` large enough; no overlap.
    #[unsafe(export_name = "__unik_stpcpy")]
    pub unsafe extern "C" fn stpcpy(
        destination: *mut c_char,
        source: *const c_char,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe {
            let length = strlen(source.cast());
            core::ptr::copy_nonoverlapping(source, destination, length + 1);
            destination.add(length)
        }
    }

    /// C `strcpy` (C11 7.24.2.3).
    ///
    /// # Safety
    /// As `stpcpy`.
    #[unsafe(export_name = "__unik_strcpy")]
    pub unsafe extern "C" fn strcpy(
        destination: *mut c_char,
        source: *const c_char,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe { stpcpy(destination, source) };
        destination
    }

    /// POSIX `stpncpy`: copies at most `count` bytes, pads with NULs to `count`; returns
    /// the address of the first NUL written (or `destination + count`).
    ///
    /// # Safety
    /// `source` readable up to NUL or `count`; `destination` writable for `count`.
    #[unsafe(export_name = "__unik_stpncpy")]
    pub unsafe extern "C" fn stpncpy(
        destination: *mut c_char,
        source: *const c_char,
        count: usize,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe {
            let source = bytes_limited(source, count);
            core::ptr::copy_nonoverlapping(source.as_ptr(), destination.cast::<u8>(), source.len());
            destination
                .add(source.len())
                .cast::<u8>()
                .write_bytes(0, count - source.len());
            destination.add(source.len())
        }
    }

    /// C `strncpy` (C11 7.24.2.4).
    ///
    /// # Safety
    /// As `stpncpy`.
    #[unsafe(export_name = "__unik_strncpy")]
    pub unsafe extern "C" fn strncpy(
        destination: *mut c_char,
        source: *const c_char,
        count: usize,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe { stpncpy(destination, source, count) };
        destination
    }

    /// C `strcat` (C11 7.24.3.1).
    ///
    /// # Safety
    /// Both NUL-terminated; `destination` has room; no overlap.
    #[unsafe(export_name = "__unik_strcat")]
    pub unsafe extern "C" fn strcat(
        destination: *mut c_char,
        source: *const c_char,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe { stpcpy(destination.add(strlen(destination.cast())), source) };
        destination
    }

    /// C `strncat` (C11 7.24.3.2): appends at most `count` bytes and always a NUL.
    ///
    /// # Safety
    /// As `strcat`, with `source` readable up to NUL or `count`.
    #[unsafe(export_name = "__unik_strncat")]
    pub unsafe extern "C" fn strncat(
        destination: *mut c_char,
        source: *const c_char,
        count: usize,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        unsafe {
            let end = destination.add(strlen(destination.cast()));
            let source = bytes_limited(source, count);
            core::ptr::copy_nonoverlapping(source.as_ptr(), end.cast::<u8>(), source.len());
            end.add(source.len()).write(0);
        }
        destination
    }

    /// BSD `strlcpy`: returns the length of `source`.
    ///
    /// # Safety
    /// `source` NUL-terminated; `destination` writable for `size` bytes; no overlap.
    #[unsafe(export_name = "__unik_strlcpy")]
    pub unsafe extern "C" fn strlcpy(
        destination: *mut c_char,
        source: *const c_char,
        size: usize,
    ) -> usize {
        // SAFETY: caller's contract.
        let source = unsafe { bytes(source) };
        if size > 0 {
            // SAFETY: caller's contract.
            let out = unsafe { slice::from_raw_parts_mut(destination.cast::<u8>(), size) };
            copy_truncating(source, out);
        }
        source.len()
    }

    /// BSD `strlcat`: returns the length it tried to create.
    ///
    /// # Safety
    /// `source` NUL-terminated; `destination` a string within its `size` bytes.
    #[unsafe(export_name = "__unik_strlcat")]
    pub unsafe extern "C" fn strlcat(
        destination: *mut c_char,
        source: *const c_char,
        size: usize,
    ) -> usize {
        // SAFETY: caller's contract.
        let (existing, source) = unsafe { (bytes_limited(destination, size).len(), bytes(source)) };
        if existing == size {
            return size + source.len();
        }
        // SAFETY: existing < size, so the tail is inside the buffer.
        let out = unsafe {
            slice::from_raw_parts_mut(destination.cast::<u8>().add(existing), size - existing)
        };
        copy_truncating(source, out);
        existing + source.len()
    }

    /// C `strchr` (C11 7.24.5.2): the terminating NUL itself can be found.
    ///
    /// # Safety
    /// `string` NUL-terminated.
    #[unsafe(export_name = "__unik_strchr")]
    pub unsafe extern "C" fn strchr(string: *const c_char, character: c_int) -> *mut c_char {
        // SAFETY: caller's contract.
        let found = unsafe { strchrnul(string, character) };
        // SAFETY: `found` points into the string.
        if unsafe { *found } as u8 == character as u8 {
            found
        } else {
            null_mut()
        }
    }

    /// GNU `strchrnul`: the match or the terminating NUL.
    ///
    /// # Safety
    /// `string` NUL-terminated.
    #[unsafe(export_name = "__unik_strchrnul")]
    pub unsafe extern "C" fn strchrnul(string: *const c_char, character: c_int) -> *mut c_char {
        let byte = character as u8;
        // SAFETY: caller's contract.
        let text = unsafe { bytes(string) };
        let index = text
            .iter()
            .position(|&candidate| candidate == byte)
            .unwrap_or(text.len());
        // SAFETY: index <= length: inside the string or at its NUL.
        unsafe { string.add(index) }.cast_mut()
    }

    /// C `strrchr` (C11 7.24.5.5).
    ///
    /// # Safety
    /// `string` NUL-terminated.
    #[unsafe(export_name = "__unik_strrchr")]
    pub unsafe extern "C" fn strrchr(string: *const c_char, character: c_int) -> *mut c_char {
        let byte = character as u8;
        // SAFETY: caller's contract.
        let text = unsafe { bytes(string) };
        let index = if byte == 0 {
            Some(text.len())
        } else {
            text.iter().rposition(|&candidate| candidate == byte)
        };
        // SAFETY: inside the string or at its NUL.
        index.map_or(null_mut(), |index| unsafe { string.add(index) }.cast_mut())
    }

    /// C `strstr` (C11 7.24.5.7).
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strstr")]
    pub unsafe extern "C" fn strstr(haystack: *const c_char, needle: *const c_char) -> *mut c_char {
        // SAFETY: caller's contract.
        let found = unsafe { find(bytes(haystack), bytes(needle)) };
        found.map_or(null_mut(), |index| {
            // SAFETY: inside the haystack.
            unsafe { haystack.add(index) }.cast_mut()
        })
    }

    /// GNU `strcasestr`.
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strcasestr")]
    pub unsafe extern "C" fn strcasestr(
        haystack: *const c_char,
        needle: *const c_char,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        let found = unsafe { find_ignoring_case(bytes(haystack), bytes(needle)) };
        found.map_or(null_mut(), |index| {
            // SAFETY: inside the haystack.
            unsafe { haystack.add(index) }.cast_mut()
        })
    }

    /// C `strspn` (C11 7.24.5.6).
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strspn")]
    pub unsafe extern "C" fn strspn(string: *const c_char, accept: *const c_char) -> usize {
        // SAFETY: caller's contract.
        unsafe { span(bytes(string), bytes(accept), true) }
    }

    /// C `strcspn` (C11 7.24.5.3).
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strcspn")]
    pub unsafe extern "C" fn strcspn(string: *const c_char, reject: *const c_char) -> usize {
        // SAFETY: caller's contract.
        unsafe { span(bytes(string), bytes(reject), false) }
    }

    /// C `strpbrk` (C11 7.24.5.4).
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strpbrk")]
    pub unsafe extern "C" fn strpbrk(string: *const c_char, accept: *const c_char) -> *mut c_char {
        // SAFETY: caller's contract.
        let text = unsafe { bytes(string) };
        // SAFETY: caller's contract.
        let index = span(text, unsafe { bytes(accept) }, false);
        if index < text.len() {
            // SAFETY: inside the string.
            unsafe { string.add(index) }.cast_mut()
        } else {
            null_mut()
        }
    }

    /// POSIX `strtok_r`.
    ///
    /// # Safety
    /// `string` (or `*state`) NUL-terminated and writable; `delimiters` NUL-terminated.
    #[unsafe(export_name = "__unik_strtok_r")]
    pub unsafe extern "C" fn strtok_r(
        string: *mut c_char,
        delimiters: *const c_char,
        state: *mut *mut c_char,
    ) -> *mut c_char {
        let start = if string.is_null() {
            // SAFETY: caller's contract: `state` holds the previous call's position.
            unsafe { *state }
        } else {
            string
        };
        if start.is_null() {
            return null_mut();
        }
        // SAFETY: caller's contract.
        let (text, delimiters) = unsafe { (bytes(start), bytes(delimiters)) };
        match next_token(text, delimiters) {
            Some((token_start, token_end, next)) => {
                // SAFETY: all offsets are within the string or at its NUL.
                unsafe {
                    if token_end < text.len() {
                        start.add(token_end).write(0);
                    }
                    *state = start.add(next);
                    start.add(token_start)
                }
            }
            None => {
                // SAFETY: caller's contract; at the NUL.
                unsafe { *state = start.add(text.len()) };
                null_mut()
            }
        }
    }

    static TOKEN_STATE: crate::global::Global<usize> = crate::global::Global::new(0);

    /// C `strtok` (C11 7.24.5.8): `strtok_r` with hidden state.
    ///
    /// # Safety
    /// As `strtok_r`.
    #[unsafe(export_name = "__unik_strtok")]
    pub unsafe extern "C" fn strtok(string: *mut c_char, delimiters: *const c_char) -> *mut c_char {
        let mut state = TOKEN_STATE.with(|state| *state) as *mut c_char;
        // SAFETY: caller's contract.
        let token = unsafe { strtok_r(string, delimiters, &mut state) };
        TOKEN_STATE.with(|saved| *saved = state as usize);
        token
    }

    /// BSD `strsep`.
    ///
    /// # Safety
    /// `*string` NULL or NUL-terminated and writable; `delimiters` NUL-terminated.
    #[unsafe(export_name = "__unik_strsep")]
    pub unsafe extern "C" fn strsep(
        string: *mut *mut c_char,
        delimiters: *const c_char,
    ) -> *mut c_char {
        // SAFETY: caller's contract.
        let start = unsafe { *string };
        if start.is_null() {
            return null_mut();
        }
        // SAFETY: caller's contract.
        let (text, delimiters) = unsafe { (bytes(start), bytes(delimiters)) };
        let end = span(text, delimiters, false);
        // SAFETY: end is within the string or at its NUL.
        unsafe {
            if end < text.len() {
                start.add(end).write(0);
                *string = start.add(end + 1);
            } else {
                *string = null_mut();
            }
        }
        start
    }

    /// Copies `text` and a NUL into a new heap block (NULL with ENOMEM).
    fn duplicate(text: &[u8]) -> *mut c_char {
        let Some(length) = text.len().checked_add(1) else {
            return null_mut();
        };
        match memory::allocate_or_set_errno(length, 1) {
            Some(block) => {
                // SAFETY: the block has length bytes.
                unsafe {
                    core::ptr::copy_nonoverlapping(text.as_ptr(), block.as_ptr(), text.len());
                    block.as_ptr().add(text.len()).write(0);
                }
                block.as_ptr().cast()
            }
            None => null_mut(),
        }
    }

    /// POSIX `strdup`.
    ///
    /// # Safety
    /// `string` NUL-terminated.
    #[unsafe(export_name = "__unik_strdup")]
    pub unsafe extern "C" fn strdup(string: *const c_char) -> *mut c_char {
        // SAFETY: caller's contract.
        duplicate(unsafe { bytes(string) })
    }

    /// POSIX `strndup`.
    ///
    /// # Safety
    /// `string` readable up to its NUL or `limit` bytes.
    #[unsafe(export_name = "__unik_strndup")]
    pub unsafe extern "C" fn strndup(string: *const c_char, limit: usize) -> *mut c_char {
        // SAFETY: caller's contract.
        duplicate(unsafe { bytes_limited(string, limit) })
    }

    /// POSIX `strcasecmp`.
    ///
    /// # Safety
    /// Both NUL-terminated.
    #[unsafe(export_name = "__unik_strcasecmp")]
    pub unsafe extern "C" fn strcasecmp(left: *const c_char, right: *const c_char) -> c_int {
        // SAFETY: caller's contract.
        unsafe { compare_ignoring_case(bytes(left), bytes(right)) }
    }

    /// POSIX `strncasecmp`.
    ///
    /// # Safety
    /// Both readable up to NUL or `limit`.
    #[unsafe(export_name = "__unik_strncasecmp")]
    pub unsafe extern "C" fn strncasecmp(
        left: *const c_char,
        right: *const c_char,
        limit: usize,
    ) -> c_int {
        // SAFETY: caller's contract.
        unsafe { compare_ignoring_case(bytes_limited(left, limit), bytes_limited(right, limit)) }
    }

    static SIGNAL_TEXT: crate::global::StaticBuffer<33> = crate::global::StaticBuffer::new();

    /// POSIX `strsignal`: the text lives until the next call (as glibc's may).
    #[unsafe(export_name = "__unik_strsignal")]
    pub extern "C" fn strsignal(number: c_int) -> *mut c_char {
        let mut text = [0u8; 32];
        let length = signal_description(number, &mut text);
        SIGNAL_TEXT.store_c_string(&text[..length]).cast()
    }

    /// POSIX `ffs`.
    #[unsafe(export_name = "__unik_ffs")]
    pub extern "C" fn ffs(value: c_int) -> c_int {
        first_set_bit(u64::from(value as u32))
    }

    /// GNU `ffsl`.
    #[unsafe(export_name = "__unik_ffsl")]
    pub extern "C" fn ffsl(value: i64) -> c_int {
        first_set_bit(value as u64)
    }

    /// GNU `ffsll`.
    #[unsafe(export_name = "__unik_ffsll")]
    pub extern "C" fn ffsll(value: i64) -> c_int {
        first_set_bit(value as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substrings() {
        assert_eq!(find(b"hello world", b"world"), Some(6));
        assert_eq!(find(b"hello", b""), Some(0));
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"aaab", b"aab"), Some(1));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find(b"abcab", b"ab"), Some(0));
        assert_eq!(find(b"xxab", b"ab"), Some(2));
        assert_eq!(find_ignoring_case(b"Hello World", b"wORLD"), Some(6));
        assert_eq!(find_ignoring_case(b"", b""), Some(0));
        assert_eq!(find_ignoring_case(b"a", b"ab"), None);
    }

    #[test]
    fn compares_like_glibc() {
        assert_eq!(compare(b"abc", b"abc"), 0);
        assert!(compare(b"abc", b"abd") < 0);
        assert!(compare(b"ab", b"abc") < 0);
        assert!(compare(b"abc", b"ab") > 0);
        assert!(compare(b"\xff", b"a") > 0, "bytes compare as unsigned char");
        assert_eq!(compare_ignoring_case(b"HeLLo", b"hello"), 0);
        assert!(compare_ignoring_case(b"a", b"B") < 0);
        assert!(
            compare_ignoring_case(b"_", b"a") < 0,
            "glibc lowers before comparing"
        );
    }

    #[test]
    fn spans_and_tokens() {
        assert_eq!(span(b"  x", b" ", true), 2);
        assert_eq!(span(b"abc,d", b",;", false), 3);
        assert_eq!(span(b"abc", b",", false), 3);
        assert_eq!(next_token(b",,a,b", b","), Some((2, 3, 4)));
        assert_eq!(next_token(b"b", b","), Some((0, 1, 1)));
        assert_eq!(next_token(b",,", b","), None);
        assert_eq!(next_token(b"", b","), None);
    }

    #[test]
    fn signal_descriptions_equal_the_host_glibc() {
        unsafe extern "C" {
            fn strsignal(number: i32) -> *const core::ffi::c_char;
        }
        for number in -3..70 {
            let mut text = [0u8; 32];
            let length = signal_description(number, &mut text);
            // SAFETY: glibc returns a C string.
            let host = unsafe { core::ffi::CStr::from_ptr(strsignal(number)) };
            assert_eq!(&text[..length], host.to_bytes(), "signal {number}");
        }
    }

    #[test]
    fn truncating_copies_and_bits() {
        let mut out = [0xffu8; 4];
        assert_eq!(copy_truncating(b"hello", &mut out), 3);
        assert_eq!(&out, b"hel\0");
        assert_eq!(copy_truncating(b"hello", &mut []), 0);
        assert_eq!(first_set_bit(0), 0);
        assert_eq!(first_set_bit(1), 1);
        assert_eq!(first_set_bit(0x8000_0000), 32);
        assert_eq!(first_set_bit(1 << 63), 64);
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    memrchr,
    memmem,
    mempcpy,
    bzero,
    explicit_bzero,
    strnlen,
    strcmp,
    strncmp,
    strcoll,
    strxfrm,
    stpcpy,
    strcpy,
    stpncpy,
    strncpy,
    strcat,
    strncat,
    strlcpy,
    strlcat,
    strchr,
    strchrnul,
    strrchr,
    strstr,
    strcasestr,
    strspn,
    strcspn,
    strpbrk,
    strtok_r,
    strtok,
    strsep,
    strdup,
    strndup,
    strcasecmp,
    strncasecmp,
    strsignal,
    ffs,
    ffsl,
    ffsll
);
