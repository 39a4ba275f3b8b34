//! The printf family's Rust half: byte sinks for each destination, and
//! [`crate::format::Arguments`] over a C `va_list`. The variadic entry points themselves
//! are C (`c/stdio.c`): they `va_copy` their list and pass its address here; the
//! `__unik_va_*` fetchers there take the next argument of a given C type.

use crate::format::Sink;
use crate::memory::Array;

/// Counts bytes and stores at most `capacity` of them at `buffer` (`sprintf`,
/// `snprintf`); the NUL is the caller's.
pub struct BoundedBuffer<'a> {
    buffer: &'a mut [u8],
    stored: usize,
}

impl<'a> BoundedBuffer<'a> {
    pub fn new(buffer: &'a mut [u8]) -> Self {
        BoundedBuffer { buffer, stored: 0 }
    }

    /// Terminates the stored text with a NUL in the byte reserved for it: `slot` is the
    /// buffer of `capacity + 1` bytes.
    pub fn stored(&self) -> usize {
        self.stored
    }
}

impl Sink for BoundedBuffer<'_> {
    fn write(&mut self, bytes: &[u8]) {
        let room = self.buffer.len() - self.stored;
        let take = bytes.len().min(room);
        self.buffer[self.stored..self.stored + take].copy_from_slice(&bytes[..take]);
        self.stored += take;
    }
}

/// Collects everything on the heap (`asprintf`); remembers running out of memory.
pub struct GrowingBuffer {
    pub bytes: Array<u8>,
    pub out_of_memory: bool,
}

impl Sink for GrowingBuffer {
    fn write(&mut self, bytes: &[u8]) {
        if self.out_of_memory || !self.bytes.reserve(bytes.len()) {
            self.out_of_memory = true;
            return;
        }
        for &byte in bytes {
            self.bytes.push(byte);
        }
    }
}

/// Writes through a stream or descriptor callback, remembering failure.
pub struct Forwarder<F: FnMut(&[u8]) -> bool> {
    pub write: F,
    pub failed: bool,
}

impl<F: FnMut(&[u8]) -> bool> Sink for Forwarder<F> {
    fn write(&mut self, bytes: &[u8]) {
        if !(self.write)(bytes) {
            self.failed = true;
        }
    }
}

/// The printf functions return an `int`: a count above `INT_MAX` is `EOVERFLOW`
/// (POSIX printf, ERRORS).
pub fn count_to_c(count: usize) -> i32 {
    match i32::try_from(count) {
        Ok(count) => count,
        Err(_) => {
            crate::errno::set(crate::errno::EOVERFLOW);
            -1
        }
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use crate::format::{Arguments, IntegerSize, format};
    use crate::stdio::{Console, Device, stream_for};
    use core::ffi::{CStr, c_char, c_int, c_void};

    unsafe extern "C" {
        // c/stdio.c: each takes the next argument of its type from the `va_list` at `list`.
        fn __unik_va_int(list: *mut c_void) -> c_int;
        fn __unik_va_long(list: *mut c_void) -> i64;
        fn __unik_va_double(list: *mut c_void) -> f64;
        fn __unik_va_long_double(list: *mut c_void) -> f64;
        fn __unik_va_pointer(list: *mut c_void) -> usize;
    }

    /// The arguments of one printf call: the address of its (copied) `va_list`.
    struct VariadicArguments {
        list: *mut c_void,
    }

    impl Arguments for VariadicArguments {
        fn integer(&mut self, size: IntegerSize) -> u64 {
            // SAFETY: the format string asked for this type next; the C caller promised
            // (C11 7.21.6.1p9) that the arguments match it.
            unsafe {
                match size {
                    // Sign-extended: the engine truncates for unsigned and narrow types.
                    IntegerSize::Int => i64::from(__unik_va_int(self.list)) as u64,
                    IntegerSize::Long => __unik_va_long(self.list) as u64,
                }
            }
        }

        fn double(&mut self) -> f64 {
            // SAFETY: as for integer.
            unsafe { __unik_va_double(self.list) }
        }

        fn long_double(&mut self) -> f64 {
            // SAFETY: as for integer.
            unsafe { __unik_va_long_double(self.list) }
        }

        fn pointer(&mut self) -> usize {
            // SAFETY: as for integer.
            unsafe { __unik_va_pointer(self.list) }
        }

        fn string(&mut self, address: usize, limit: Option<usize>) -> &[u8] {
            if address == 0 {
                // glibc prints "(null)" for a NULL %s; the engine decides, given nothing.
                return b"";
            }
            let start = address as *const u8;
            match limit {
                // With a precision the array need not be NUL-terminated (C11 7.21.6.1p8):
                // look no further than `limit` bytes.
                Some(limit) => {
                    let mut length = 0;
                    // SAFETY: the caller passed an array of at least `limit` bytes or a
                    // shorter NUL-terminated string; reading stops at either.
                    while length < limit && unsafe { *start.add(length) } != 0 {
                        length += 1;
                    }
                    // SAFETY: the `length` bytes just read.
                    unsafe { core::slice::from_raw_parts(start, length) }
                }
                // SAFETY: without a precision, %s takes a NUL-terminated string.
                None => unsafe { CStr::from_ptr(start.cast()) }.to_bytes(),
            }
        }

        fn store_count(&mut self, address: usize, width_bytes: usize, count: i64) {
            if address == 0 {
                return;
            }
            // SAFETY: %n's argument points to an object of the width its length modifier
            // names (C11 7.21.6.1p8); the engine passes that width.
            unsafe {
                match width_bytes {
                    1 => (address as *mut i8).write_unaligned(count as i8),
                    2 => (address as *mut i16).write_unaligned(count as i16),
                    4 => (address as *mut i32).write_unaligned(count as i32),
                    _ => (address as *mut i64).write_unaligned(count),
                }
            }
        }
    }

    /// # Safety
    /// `format_string` is NUL-terminated.
    unsafe fn format_bytes<'a>(format_string: *const c_char) -> &'a [u8] {
        // SAFETY: caller's contract.
        unsafe { CStr::from_ptr(format_string) }.to_bytes()
    }

    /// `vfprintf` behind C's `printf`, `fprintf`, `vprintf`, `vfprintf`.
    ///
    /// # Safety
    /// `format_string` is NUL-terminated; `list` is the address of a `va_list` whose
    /// arguments match it.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn __unik_vfprintf(
        file: *mut c_void,
        format_string: *const c_char,
        list: *mut c_void,
    ) -> c_int {
        let Some(stream) = stream_for(file) else {
            crate::errno::set(crate::errno::EBADF);
            return -1;
        };
        let mut arguments = VariadicArguments { list };
        stream.with(|stream| {
            let mut sink = Forwarder {
                write: |bytes: &[u8]| stream.write(&mut Console, bytes),
                failed: false,
            };
            // SAFETY: caller's contract.
            let count = format(
                &mut sink,
                unsafe { format_bytes(format_string) },
                &mut arguments,
            );
            if sink.failed { -1 } else { count_to_c(count) }
        })
    }

    /// `vsnprintf` behind `sprintf`, `snprintf`, `vsprintf`, `vsnprintf`: stores at most
    /// `size - 1` bytes and a NUL (nothing when `size` is 0); returns the full length.
    /// `vsprintf` passes `SIZE_MAX`.
    ///
    /// # Safety
    /// `buffer` is writable for `size` bytes (or for the whole output when `size` is
    /// `SIZE_MAX`); otherwise as `__unik_vfprintf`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn __unik_vsnprintf(
        buffer: *mut c_char,
        size: usize,
        format_string: *const c_char,
        list: *mut c_void,
    ) -> c_int {
        let mut arguments = VariadicArguments { list };
        // SAFETY: caller's contract.
        let format_text = unsafe { format_bytes(format_string) };
        if buffer.is_null() || size == 0 {
            return count_to_c(format(
                &mut BoundedBuffer::new(&mut []),
                format_text,
                &mut arguments,
            ));
        }
        if size > isize::MAX as usize {
            // vsprintf: no bound is known, only the caller's promise that the output
            // fits; a slice over "all of memory" would be undefined, so write through
            // the pointer instead.
            let mut sink = UnboundedBuffer {
                start: buffer.cast(),
                stored: 0,
            };
            let count = format(&mut sink, format_text, &mut arguments);
            // SAFETY: the output and its NUL fit (caller's contract).
            unsafe { buffer.add(sink.stored).write(0) };
            return count_to_c(count);
        }
        // SAFETY: the caller gives `size` writable bytes; the last is for the NUL.
        let slice = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size - 1) };
        let mut sink = BoundedBuffer::new(slice);
        let count = format(&mut sink, format_text, &mut arguments);
        // SAFETY: stored <= size - 1, inside the buffer.
        unsafe { buffer.add(sink.stored()).write(0) };
        count_to_c(count)
    }

    /// `vsprintf`'s destination: the caller promises room for the whole output.
    struct UnboundedBuffer {
        start: *mut u8,
        stored: usize,
    }

    impl Sink for UnboundedBuffer {
        fn write(&mut self, bytes: &[u8]) {
            // SAFETY: vsprintf's contract: the buffer holds the whole output.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    self.start.add(self.stored),
                    bytes.len(),
                )
            };
            self.stored += bytes.len();
        }
    }

    /// `vdprintf` behind `dprintf` and `vdprintf` (POSIX): straight to a descriptor.
    ///
    /// # Safety
    /// As `__unik_vfprintf`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn __unik_vdprintf(
        descriptor: c_int,
        format_string: *const c_char,
        list: *mut c_void,
    ) -> c_int {
        if !matches!(descriptor, 1 | 2) {
            crate::errno::set(crate::errno::EBADF);
            return -1;
        }
        let mut arguments = VariadicArguments { list };
        // Buffered per call so each call is few console writes.
        let mut pending = [0u8; 256];
        let mut used = 0;
        let mut sink = Forwarder {
            write: |bytes: &[u8]| {
                if used + bytes.len() > pending.len() {
                    Console.write(descriptor, &pending[..used]);
                    used = 0;
                    if bytes.len() > pending.len() {
                        return Console.write(descriptor, bytes);
                    }
                }
                pending[used..used + bytes.len()].copy_from_slice(bytes);
                used += bytes.len();
                true
            },
            failed: false,
        };
        // SAFETY: caller's contract.
        let count = format(
            &mut sink,
            unsafe { format_bytes(format_string) },
            &mut arguments,
        );
        let failed = sink.failed;
        if used > 0 {
            Console.write(descriptor, &pending[..used]);
        }
        if failed { -1 } else { count_to_c(count) }
    }

    /// `vasprintf` behind `asprintf` and `vasprintf` (GNU): a `malloc`ed string in
    /// `*result`; -1 (with `*result` unspecified — we leave it alone) when out of memory.
    ///
    /// # Safety
    /// `result` is writable; otherwise as `__unik_vfprintf`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn __unik_vasprintf(
        result: *mut *mut c_char,
        format_string: *const c_char,
        list: *mut c_void,
    ) -> c_int {
        let mut arguments = VariadicArguments { list };
        let mut sink = GrowingBuffer {
            bytes: Array::new(),
            out_of_memory: false,
        };
        // SAFETY: caller's contract.
        let count = format(
            &mut sink,
            unsafe { format_bytes(format_string) },
            &mut arguments,
        );
        if sink.out_of_memory || !sink.bytes.push(0) {
            // SAFETY: the array's block (if any) is ours.
            unsafe { crate::memory::free_pointer(sink.bytes.as_mut_ptr()) };
            crate::errno::set(crate::errno::ENOMEM);
            return -1;
        }
        // SAFETY: caller's contract; the block is a HEAP block the caller frees with free().
        unsafe { result.write(sink.bytes.as_mut_ptr().cast()) };
        count_to_c(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_buffer_truncates_but_counts() {
        let mut storage = [0u8; 4];
        let mut sink = BoundedBuffer::new(&mut storage[..3]);
        sink.write(b"ab");
        sink.write(b"cdef");
        assert_eq!(sink.stored(), 3);
        assert_eq!(&storage[..3], b"abc");
    }

    #[test]
    fn growing_buffer_collects() {
        crate::memory::claim_test_heap();
        let mut sink = GrowingBuffer {
            bytes: Array::new(),
            out_of_memory: false,
        };
        for _ in 0..100 {
            sink.write(b"0123456789");
        }
        assert_eq!(sink.bytes.len(), 1000);
        assert_eq!(&sink.bytes.as_slice()[990..], b"0123456789");
    }

    #[test]
    fn counts_above_int_max_overflow() {
        assert_eq!(count_to_c(5), 5);
        assert_eq!(count_to_c(1 << 31), -1);
    }
}
