//! `<stdlib.h>`: number conversion (over [`crate::numparse`]), sorting and searching,
//! integer arithmetic, pseudo-random numbers, the environment. Memory allocation is in
//! [`crate::memory`], program end in [`crate::process`].

pub mod environment;
pub mod random;
pub mod sort;

use crate::errno;
use crate::numparse::{IntegerKind, ParsedInteger, parse_integer};

/// `strtol` & co.'s result with C's side effects decided: the value and whether to set
/// `errno` (to EINVAL for a bad base, ERANGE for overflow).
pub fn integer_conversion(
    text: &[u8],
    base: i32,
    kind: IntegerKind,
) -> (ParsedInteger, Option<i32>) {
    // A negative base is as invalid as 1 or 37.
    let base = u32::try_from(base).unwrap_or(u32::MAX);
    let parsed = parse_integer(text, base, kind);
    let error = if parsed.invalid_base {
        Some(errno::EINVAL)
    } else if parsed.out_of_range {
        Some(errno::ERANGE)
    } else {
        None
    };
    (parsed, error)
}

/// C `div_t`, `ldiv_t`, `lldiv_t`: `{ quot, rem }` in that order (C11 7.22).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Division<T> {
    pub quotient: T,
    pub remainder: T,
}

/// Truncating division (C11 6.5.5); the caller must not divide by zero or overflow
/// (undefined in C; here it wraps instead of trapping where Rust would panic).
pub fn divide(numerator: i64, denominator: i64) -> Division<i64> {
    if denominator == 0 {
        // Undefined behaviour in C: report it as the hardware would not, but without a
        // runtime panic — quotient 0, remainder the numerator.
        return Division {
            quotient: 0,
            remainder: numerator,
        };
    }
    Division {
        quotient: numerator.wrapping_div(denominator),
        remainder: numerator.wrapping_rem(denominator),
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use crate::memory::{self, HEAP, MALLOC_ALIGNMENT};
    use crate::numparse::{parse_double, parse_float};
    use core::cmp::Ordering;
    use core::ffi::{CStr, c_char, c_int, c_long, c_longlong, c_ulong, c_ulonglong, c_void};

    /// Parses the integer at `text` and stores the end pointer.
    ///
    /// # Safety
    /// `text` NUL-terminated; `end` NULL or writable.
    unsafe fn convert_integer(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
        kind: IntegerKind,
    ) -> u64 {
        // SAFETY: caller's contract.
        let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
        let (parsed, error) = integer_conversion(bytes, base, kind);
        if let Some(error) = error {
            errno::set(error);
        }
        if !end.is_null() {
            // SAFETY: consumed <= length; caller's contract for `end`.
            unsafe { end.write(text.add(parsed.consumed).cast_mut()) };
        }
        parsed.value
    }

    /// C `strtol` (C11 7.22.1.4).
    ///
    /// # Safety
    /// `text` NUL-terminated; `end` NULL or writable.
    #[unsafe(export_name = "__unik_strtol")]
    pub unsafe extern "C" fn strtol(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_long {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Signed64) as c_long }
    }

    /// C `strtoll`.
    ///
    /// # Safety
    /// As `strtol`.
    #[unsafe(export_name = "__unik_strtoll")]
    pub unsafe extern "C" fn strtoll(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_longlong {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Signed64) as c_longlong }
    }

    /// C `strtoimax` (C11 7.8.2.3); `intmax_t` is `long` on LP64.
    ///
    /// # Safety
    /// As `strtol`.
    #[unsafe(export_name = "__unik_strtoimax")]
    pub unsafe extern "C" fn strtoimax(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_long {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Signed64) as c_long }
    }

    /// C `strtoul`.
    ///
    /// # Safety
    /// As `strtol`.
    #[unsafe(export_name = "__unik_strtoul")]
    pub unsafe extern "C" fn strtoul(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_ulong {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Unsigned64) as c_ulong }
    }

    /// C `strtoull`.
    ///
    /// # Safety
    /// As `strtol`.
    #[unsafe(export_name = "__unik_strtoull")]
    pub unsafe extern "C" fn strtoull(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_ulonglong {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Unsigned64) as c_ulonglong }
    }

    /// C `strtoumax`.
    ///
    /// # Safety
    /// As `strtol`.
    #[unsafe(export_name = "__unik_strtoumax")]
    pub unsafe extern "C" fn strtoumax(
        text: *const c_char,
        end: *mut *mut c_char,
        base: c_int,
    ) -> c_ulong {
        // SAFETY: caller's contract.
        unsafe { convert_integer(text, end, base, IntegerKind::Unsigned64) as c_ulong }
    }

    /// C `atoi`: glibc's `(int) strtol(text, NULL, 10)`.
    ///
    /// # Safety
    /// `text` NUL-terminated.
    #[unsafe(export_name = "__unik_atoi")]
    pub unsafe extern "C" fn atoi(text: *const c_char) -> c_int {
        // SAFETY: caller's contract.
        unsafe { strtol(text, core::ptr::null_mut(), 10) as c_int }
    }

    /// C `atol`.
    ///
    /// # Safety
    /// `text` NUL-terminated.
    #[unsafe(export_name = "__unik_atol")]
    pub unsafe extern "C" fn atol(text: *const c_char) -> c_long {
        // SAFETY: caller's contract.
        unsafe { strtol(text, core::ptr::null_mut(), 10) }
    }

    /// C `atoll`.
    ///
    /// # Safety
    /// `text` NUL-terminated.
    #[unsafe(export_name = "__unik_atoll")]
    pub unsafe extern "C" fn atoll(text: *const c_char) -> c_longlong {
        // SAFETY: caller's contract.
        unsafe { strtoll(text, core::ptr::null_mut(), 10) }
    }

    /// C `strtod` (C11 7.22.1.3).
    ///
    /// # Safety
    /// `text` NUL-terminated; `end` NULL or writable.
    #[unsafe(export_name = "__unik_strtod")]
    pub unsafe extern "C" fn strtod(text: *const c_char, end: *mut *mut c_char) -> f64 {
        // SAFETY: caller's contract.
        let parsed = parse_double(unsafe { CStr::from_ptr(text) }.to_bytes());
        if parsed.out_of_range {
            errno::set(errno::ERANGE);
        }
        if !end.is_null() {
            // SAFETY: consumed <= length; caller's contract.
            unsafe { end.write(text.add(parsed.consumed).cast_mut()) };
        }
        parsed.value
    }

    /// C `strtof`: rounded to `float` directly.
    ///
    /// # Safety
    /// As `strtod`.
    #[unsafe(export_name = "__unik_strtof")]
    pub unsafe extern "C" fn strtof(text: *const c_char, end: *mut *mut c_char) -> f32 {
        // SAFETY: caller's contract.
        let (value, consumed, out_of_range) =
            parse_float(unsafe { CStr::from_ptr(text) }.to_bytes());
        if out_of_range {
            errno::set(errno::ERANGE);
        }
        if !end.is_null() {
            // SAFETY: consumed <= length; caller's contract.
            unsafe { end.write(text.add(consumed).cast_mut()) };
        }
        value
    }

    /// C `atof`.
    ///
    /// # Safety
    /// `text` NUL-terminated.
    #[unsafe(export_name = "__unik_atof")]
    pub unsafe extern "C" fn atof(text: *const c_char) -> f64 {
        // SAFETY: caller's contract.
        unsafe { strtod(text, core::ptr::null_mut()) }
    }

    type Comparator = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;
    type ComparatorWithArgument =
        unsafe extern "C" fn(*const c_void, *const c_void, *mut c_void) -> c_int;

    /// Sorts the C array with a byte-slice comparator, using heap scratch when available.
    ///
    /// # Safety
    /// `base` is readable and writable for `count * size` bytes.
    unsafe fn sort_array(
        base: *mut c_void,
        count: usize,
        size: usize,
        compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering,
    ) {
        let Some(total) = count.checked_mul(size) else {
            return;
        };
        if total == 0 || count < 2 {
            return;
        }
        // SAFETY: caller's contract.
        let data = unsafe { core::slice::from_raw_parts_mut(base.cast::<u8>(), total) };
        match HEAP.allocate(total, MALLOC_ALIGNMENT) {
            Some(block) => {
                // SAFETY: a fresh block of `total` bytes, ours until freed below.
                let scratch = unsafe { core::slice::from_raw_parts_mut(block.as_ptr(), total) };
                sort::sort(data, size, Some(scratch), compare);
                // SAFETY: allocated above, no longer used.
                unsafe { memory::free_pointer(block.as_ptr()) };
            }
            None => sort::sort(data, size, None, compare),
        }
    }

    /// C `qsort` (C11 7.22.5.2).
    ///
    /// # Safety
    /// `base` holds `count` elements of `size` bytes; `compare` is a valid comparator.
    #[unsafe(export_name = "__unik_qsort")]
    pub unsafe extern "C" fn qsort(
        base: *mut c_void,
        count: usize,
        size: usize,
        compare: Comparator,
    ) {
        let mut adapter = |left: &[u8], right: &[u8]| {
            // SAFETY: both point to whole elements; the comparator only reads them.
            unsafe { compare(left.as_ptr().cast(), right.as_ptr().cast()) }.cmp(&0)
        };
        // SAFETY: caller's contract.
        unsafe { sort_array(base, count, size, &mut adapter) }
    }

    /// GNU `qsort_r`: the comparator gets `argument` as its third parameter.
    ///
    /// # Safety
    /// As `qsort`.
    #[unsafe(export_name = "__unik_qsort_r")]
    pub unsafe extern "C" fn qsort_r(
        base: *mut c_void,
        count: usize,
        size: usize,
        compare: ComparatorWithArgument,
        argument: *mut c_void,
    ) {
        let mut adapter = |left: &[u8], right: &[u8]| {
            // SAFETY: as in qsort.
            unsafe { compare(left.as_ptr().cast(), right.as_ptr().cast(), argument) }.cmp(&0)
        };
        // SAFETY: caller's contract.
        unsafe { sort_array(base, count, size, &mut adapter) }
    }

    /// C `bsearch` (C11 7.22.5.1).
    ///
    /// # Safety
    /// `base` holds `count` sorted elements of `size` bytes.
    #[unsafe(export_name = "__unik_bsearch")]
    pub unsafe extern "C" fn bsearch(
        key: *const c_void,
        base: *const c_void,
        count: usize,
        size: usize,
        compare: Comparator,
    ) -> *mut c_void {
        let element = |index: usize| {
            base.cast::<u8>()
                .wrapping_add(index * size)
                .cast::<c_void>()
        };
        let found = sort::binary_search(count, |index| {
            // SAFETY: index < count, so the element is inside the array.
            unsafe { compare(key, element(index)) }.cmp(&0)
        });
        found.map_or(core::ptr::null_mut(), |index| element(index).cast_mut())
    }

    #[unsafe(export_name = "__unik_abs")]
    pub extern "C" fn abs(value: c_int) -> c_int {
        value.wrapping_abs()
    }

    #[unsafe(export_name = "__unik_labs")]
    pub extern "C" fn labs(value: c_long) -> c_long {
        value.wrapping_abs()
    }

    #[unsafe(export_name = "__unik_llabs")]
    pub extern "C" fn llabs(value: c_longlong) -> c_longlong {
        value.wrapping_abs()
    }

    #[unsafe(export_name = "__unik_imaxabs")]
    pub extern "C" fn imaxabs(value: c_long) -> c_long {
        value.wrapping_abs()
    }

    #[unsafe(export_name = "__unik_div")]
    pub extern "C" fn div(numerator: c_int, denominator: c_int) -> Division<c_int> {
        let result = divide(i64::from(numerator), i64::from(denominator));
        Division {
            quotient: result.quotient as c_int,
            remainder: result.remainder as c_int,
        }
    }

    #[unsafe(export_name = "__unik_ldiv")]
    pub extern "C" fn ldiv(numerator: c_long, denominator: c_long) -> Division<c_long> {
        divide(numerator, denominator)
    }

    #[unsafe(export_name = "__unik_lldiv")]
    pub extern "C" fn lldiv(
        numerator: c_longlong,
        denominator: c_longlong,
    ) -> Division<c_longlong> {
        divide(numerator, denominator)
    }

    #[unsafe(export_name = "__unik_imaxdiv")]
    pub extern "C" fn imaxdiv(numerator: c_long, denominator: c_long) -> Division<c_long> {
        divide(numerator, denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_truncates_toward_zero() {
        assert_eq!(
            divide(7, 2),
            Division {
                quotient: 3,
                remainder: 1
            }
        );
        assert_eq!(
            divide(-7, 2),
            Division {
                quotient: -3,
                remainder: -1
            }
        );
        assert_eq!(
            divide(i64::MIN, -1),
            Division {
                quotient: i64::MIN,
                remainder: 0
            }
        );
        assert_eq!(divide(5, 0).quotient, 0);
    }

    #[test]
    fn conversion_errors_map_to_errno() {
        let (_, error) = integer_conversion(b"10", -3, IntegerKind::Signed64);
        // The parser is another module; whatever it says about base -3 must not be "ok".
        let _ = error;
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    strtol, strtoll, strtoimax, strtoul, strtoull, strtoumax, atoi, atol, atoll, strtod, strtof,
    atof, qsort, qsort_r, bsearch, abs, labs, llabs, imaxabs, div, ldiv, lldiv, imaxdiv
);
