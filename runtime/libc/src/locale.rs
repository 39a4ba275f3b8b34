//! `<locale.h>`: only the "C" (= "POSIX") locale exists (C11 7.11).

/// glibc's `LC_*` category numbers.
pub const LC_ALL: i32 = 6;
pub const LAST_CATEGORY: i32 = 12;

/// Which locale names `setlocale` accepts: "C", "POSIX", and "" (the environment's
/// choice, which is always "C" here).
pub fn is_supported(name: &[u8]) -> bool {
    matches!(name, b"" | b"C" | b"POSIX" | b"C.UTF-8" | b"C.utf8")
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::{CStr, c_char, c_int};

    /// C `setlocale` (C11 7.11.1.1): queries and "C"-like names give "C"; anything else
    /// is not available (NULL), as on a glibc system without that locale installed.
    ///
    /// # Safety
    /// `name` is NULL or NUL-terminated.
    #[unsafe(export_name = "__unik_setlocale")]
    pub unsafe extern "C" fn setlocale(category: c_int, name: *const c_char) -> *mut c_char {
        if !(0..=LAST_CATEGORY).contains(&category) {
            crate::errno::set(crate::errno::EINVAL);
            return core::ptr::null_mut();
        }
        // SAFETY: caller's contract.
        if name.is_null() || is_supported(unsafe { CStr::from_ptr(name) }.to_bytes()) {
            c"C".as_ptr().cast_mut()
        } else {
            core::ptr::null_mut()
        }
    }

    /// glibc's `struct lconv` (locale/locale.h), field for field.
    #[repr(C)]
    pub struct Conventions {
        decimal_point: *const c_char,
        thousands_sep: *const c_char,
        grouping: *const c_char,
        int_curr_symbol: *const c_char,
        currency_symbol: *const c_char,
        mon_decimal_point: *const c_char,
        mon_thousands_sep: *const c_char,
        mon_grouping: *const c_char,
        positive_sign: *const c_char,
        negative_sign: *const c_char,
        int_frac_digits: c_char,
        frac_digits: c_char,
        p_cs_precedes: c_char,
        p_sep_by_space: c_char,
        n_cs_precedes: c_char,
        n_sep_by_space: c_char,
        p_sign_posn: c_char,
        n_sign_posn: c_char,
        int_p_cs_precedes: c_char,
        int_p_sep_by_space: c_char,
        int_n_cs_precedes: c_char,
        int_n_sep_by_space: c_char,
        int_p_sign_posn: c_char,
        int_n_sign_posn: c_char,
    }

    // SAFETY: immutable; points only to string literals.
    unsafe impl Sync for Conventions {}

    /// `CHAR_MAX` (char is signed on x86_64): "not available" in `lconv` (C11 7.11.2.1).
    const NOT_AVAILABLE: c_char = c_char::MAX;

    /// The "C" locale's conventions (C11 7.11.2.1p3).
    static C_CONVENTIONS: Conventions = Conventions {
        decimal_point: c".".as_ptr(),
        thousands_sep: c"".as_ptr(),
        grouping: c"".as_ptr(),
        int_curr_symbol: c"".as_ptr(),
        currency_symbol: c"".as_ptr(),
        mon_decimal_point: c"".as_ptr(),
        mon_thousands_sep: c"".as_ptr(),
        mon_grouping: c"".as_ptr(),
        positive_sign: c"".as_ptr(),
        negative_sign: c"".as_ptr(),
        int_frac_digits: NOT_AVAILABLE,
        frac_digits: NOT_AVAILABLE,
        p_cs_precedes: NOT_AVAILABLE,
        p_sep_by_space: NOT_AVAILABLE,
        n_cs_precedes: NOT_AVAILABLE,
        n_sep_by_space: NOT_AVAILABLE,
        p_sign_posn: NOT_AVAILABLE,
        n_sign_posn: NOT_AVAILABLE,
        int_p_cs_precedes: NOT_AVAILABLE,
        int_p_sep_by_space: NOT_AVAILABLE,
        int_n_cs_precedes: NOT_AVAILABLE,
        int_n_sep_by_space: NOT_AVAILABLE,
        int_p_sign_posn: NOT_AVAILABLE,
        int_n_sign_posn: NOT_AVAILABLE,
    };

    /// C `localeconv` (C11 7.11.2.1). The caller must not modify the result (C says so);
    /// it lives in read-only memory.
    #[unsafe(export_name = "__unik_localeconv")]
    pub extern "C" fn localeconv() -> *const Conventions {
        &C_CONVENTIONS
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_c_locales() {
        assert!(super::is_supported(b"C"));
        assert!(super::is_supported(b""));
        assert!(!super::is_supported(b"de_DE.UTF-8"));
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(setlocale, localeconv);
