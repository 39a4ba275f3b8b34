//! The scanf family's Rust back ends: `__unik_vsscanf` and `__unik_vfscanf`, called by
//! the variadic C entry points (`c/scanf.c`) with the address of their copied
//! `va_list`; each converted value is stored through the next pointer argument.

use core::ffi::{CStr, c_char, c_int, c_void};

use super::{Bytes, FloatSize, Input, Size, Store, Value, scan};
use crate::stdio::{Console, Stream, stream_for};

unsafe extern "C" {
    // c/variadic.c: the next argument as a pointer.
    fn __unik_va_pointer(list: *mut c_void) -> usize;
    // c/scanf.c: stores a double as the target's `long double`.
    fn __unik_store_long_double(destination: *mut c_void, value: f64);
}

/// Stores through the pointers of a `va_list`.
struct Pointers {
    list: *mut c_void,
}

impl Store for Pointers {
    fn store(&mut self, value: Value<'_>) {
        // SAFETY: the format asked for a value of this type to be stored; C11
        // 7.21.6.2p10 makes the caller pass a pointer to a matching object next (and,
        // for %s, %c and %[, one large enough for the field).
        unsafe {
            let destination = __unik_va_pointer(self.list) as *mut c_void;
            match value {
                Value::Integer(value, Size::Char) => destination.cast::<u8>().write(value as u8),
                Value::Integer(value, Size::Short) => {
                    destination.cast::<u16>().write_unaligned(value as u16)
                }
                Value::Integer(value, Size::Int) => {
                    destination.cast::<u32>().write_unaligned(value as u32)
                }
                Value::Integer(value, Size::Long) | Value::Pointer(value) => {
                    destination.cast::<u64>().write_unaligned(value)
                }
                Value::Float(_, single, FloatSize::Float) => {
                    destination.cast::<f32>().write_unaligned(single)
                }
                Value::Float(value, _, FloatSize::Double) => {
                    destination.cast::<f64>().write_unaligned(value)
                }
                Value::Float(value, _, FloatSize::LongDouble) => {
                    __unik_store_long_double(destination, value)
                }
                Value::Text(bytes, terminate) => {
                    let out = destination.cast::<u8>();
                    core::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len());
                    if terminate {
                        out.add(bytes.len()).write(0);
                    }
                }
            }
        }
    }
}

/// A stream as scanf input: the look-ahead byte goes back with `ungetc` at the end.
struct StreamInput<'a> {
    stream: &'a mut Stream,
    look_ahead: Option<Option<u8>>,
}

impl Input for StreamInput<'_> {
    fn peek(&mut self) -> Option<u8> {
        if self.look_ahead.is_none() {
            self.look_ahead = Some(self.stream.read_byte(&mut Console));
        }
        self.look_ahead.flatten()
    }
    fn advance(&mut self) {
        self.look_ahead = None;
    }
}

impl Drop for StreamInput<'_> {
    fn drop(&mut self) {
        if let Some(Some(byte)) = self.look_ahead {
            self.stream.unread_byte(byte);
        }
    }
}

/// `vsscanf`'s back end.
///
/// # Safety
/// `input` and `format` are NUL-terminated; `list` is the address of a `va_list`
/// whose pointers match the format.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __unik_vsscanf(
    input: *const c_char,
    format: *const c_char,
    list: *mut c_void,
) -> c_int {
    // SAFETY: caller's contract.
    let (input, format) = unsafe {
        (
            CStr::from_ptr(input).to_bytes(),
            CStr::from_ptr(format).to_bytes(),
        )
    };
    let mut bytes = Bytes {
        bytes: input,
        position: 0,
    };
    scan(format, &mut bytes, &mut Pointers { list })
}

/// `vfscanf`'s back end (`scanf` passes `stdin`).
///
/// # Safety
/// `format` is NUL-terminated; `list` as for [`__unik_vsscanf`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __unik_vfscanf(
    file: *mut c_void,
    format: *const c_char,
    list: *mut c_void,
) -> c_int {
    // SAFETY: caller's contract.
    let format = unsafe { CStr::from_ptr(format) }.to_bytes();
    let Some(stream) = stream_for(file) else {
        crate::errno::set(crate::errno::EBADF);
        return -1;
    };
    stream.with(|stream| {
        let mut input = StreamInput {
            stream,
            look_ahead: None,
        };
        scan(format, &mut input, &mut Pointers { list })
    })
}
