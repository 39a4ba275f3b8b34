//! `<ctype.h>` in the "C" locale (C11 7.4; POSIX locale definition), plus the glibc
//! table accessors that objects compiled against glibc's headers use.

/// Character classes as glibc's `__ctype_b` bits on a little-endian machine
/// (ctype/ctype.h: `_ISbit(bit)` swaps the bytes of `1 << bit`).
pub mod class {
    pub const UPPER: u16 = 1 << 8;
    pub const LOWER: u16 = 1 << 9;
    pub const ALPHA: u16 = 1 << 10;
    pub const DIGIT: u16 = 1 << 11;
    pub const HEX_DIGIT: u16 = 1 << 12;
    pub const SPACE: u16 = 1 << 13;
    pub const PRINT: u16 = 1 << 14;
    pub const GRAPH: u16 = 1 << 15;
    pub const BLANK: u16 = 1 << 0;
    pub const CONTROL: u16 = 1 << 1;
    pub const PUNCTUATION: u16 = 1 << 2;
    pub const ALPHANUMERIC: u16 = 1 << 3;
}

/// The classes of one byte in the "C" locale: ASCII only; bytes 128..=255 have none.
pub const fn classes(byte: u8) -> u16 {
    use class::*;
    let mut bits = 0;
    let upper = byte.is_ascii_uppercase();
    let lower = byte.is_ascii_lowercase();
    let digit = byte.is_ascii_digit();
    if upper {
        bits |= UPPER | ALPHA | ALPHANUMERIC;
    }
    if lower {
        bits |= LOWER | ALPHA | ALPHANUMERIC;
    }
    if digit {
        bits |= DIGIT | ALPHANUMERIC;
    }
    if byte.is_ascii_hexdigit() {
        bits |= HEX_DIGIT;
    }
    // space, \t \n \v \f \r
    if matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        bits |= SPACE;
    }
    if matches!(byte, b' ' | b'\t') {
        bits |= BLANK;
    }
    if byte < 0x20 || byte == 0x7f {
        bits |= CONTROL;
    }
    if byte >= 0x20 && byte < 0x7f {
        bits |= PRINT;
    }
    if byte > 0x20 && byte < 0x7f {
        bits |= GRAPH;
        if !upper && !lower && !digit {
            bits |= PUNCTUATION;
        }
    }
    bits
}

/// glibc's tables cover -128..=255 (signed `char` values and EOF = -1) and are indexed
/// through a pointer to entry 128.
const TABLE_LENGTH: usize = 384;
const TABLE_OFFSET: usize = 128;

const fn class_table() -> [u16; TABLE_LENGTH] {
    let mut table = [0u16; TABLE_LENGTH];
    let mut value = 0;
    while value < 256 {
        table[TABLE_OFFSET + value] = classes(value as u8);
        value += 1;
    }
    table
}

const fn case_table(upper: bool) -> [i32; TABLE_LENGTH] {
    let mut table = [0i32; TABLE_LENGTH];
    let mut index = 0;
    while index < TABLE_LENGTH {
        // Negative indices are signed chars: glibc maps them as the byte they alias
        // (-128 is 128), and bytes above 127 map to themselves in the "C" locale; EOF (-1)
        // maps to EOF.
        let value = index as i32 - TABLE_OFFSET as i32;
        let byte = value as u8;
        table[index] = if value == -1 {
            -1
        } else {
            (if upper {
                byte.to_ascii_uppercase()
            } else {
                byte.to_ascii_lowercase()
            }) as i32
        };
        index += 1;
    }
    table
}

pub static CLASS_TABLE: [u16; TABLE_LENGTH] = class_table();
pub static UPPER_TABLE: [i32; TABLE_LENGTH] = case_table(true);
pub static LOWER_TABLE: [i32; TABLE_LENGTH] = case_table(false);

/// The classes of a `<ctype.h>` argument: an `unsigned char` value or EOF (anything else
/// is undefined in C; here it has no class).
pub fn classes_of(character: i32) -> u16 {
    u8::try_from(character).map_or(0, classes)
}

pub fn to_upper(character: i32) -> i32 {
    u8::try_from(character).map_or(character, |byte| i32::from(byte.to_ascii_uppercase()))
}

pub fn to_lower(character: i32) -> i32 {
    u8::try_from(character).map_or(character, |byte| i32::from(byte.to_ascii_lowercase()))
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::c_int;

    macro_rules! classifier {
        ($($name:ident => $mask:expr),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(character: c_int) -> c_int {
                c_int::from(classes_of(character) & $mask != 0)
            }
        )*};
    }

    classifier! {
        isalnum => class::ALPHANUMERIC,
        isalpha => class::ALPHA,
        isblank => class::BLANK,
        iscntrl => class::CONTROL,
        isdigit => class::DIGIT,
        isgraph => class::GRAPH,
        islower => class::LOWER,
        isprint => class::PRINT,
        ispunct => class::PUNCTUATION,
        isspace => class::SPACE,
        isupper => class::UPPER,
        isxdigit => class::HEX_DIGIT,
    }

    /// XSI `isascii`.
    #[unsafe(export_name = "__unik_isascii")]
    pub extern "C" fn isascii(character: c_int) -> c_int {
        c_int::from(character & !0x7f == 0)
    }

    /// XSI `toascii`.
    #[unsafe(export_name = "__unik_toascii")]
    pub extern "C" fn toascii(character: c_int) -> c_int {
        character & 0x7f
    }

    #[unsafe(export_name = "__unik_toupper")]
    pub extern "C" fn toupper(character: c_int) -> c_int {
        to_upper(character)
    }

    #[unsafe(export_name = "__unik_tolower")]
    pub extern "C" fn tolower(character: c_int) -> c_int {
        to_lower(character)
    }

    /// A `const T *` C global pointing into a table (what `__ctype_b_loc` returns the
    /// address of).
    #[repr(transparent)]
    pub struct TablePointer<T: 'static>(*const T);

    // SAFETY: never written; points to immutable statics.
    unsafe impl<T> Sync for TablePointer<T> {}

    static CLASS_POINTER: TablePointer<u16> =
        TablePointer(CLASS_TABLE.as_ptr().wrapping_add(TABLE_OFFSET));
    static UPPER_POINTER: TablePointer<i32> =
        TablePointer(UPPER_TABLE.as_ptr().wrapping_add(TABLE_OFFSET));
    static LOWER_POINTER: TablePointer<i32> =
        TablePointer(LOWER_TABLE.as_ptr().wrapping_add(TABLE_OFFSET));

    /// glibc: `const unsigned short **__ctype_b_loc(void)`, the class table (per thread
    /// in glibc; the "C" locale's table never changes here).
    #[unsafe(export_name = "__unik___ctype_b_loc")]
    pub extern "C" fn __ctype_b_loc() -> *const TablePointer<u16> {
        &CLASS_POINTER
    }

    /// glibc: `const int32_t **__ctype_toupper_loc(void)`.
    #[unsafe(export_name = "__unik___ctype_toupper_loc")]
    pub extern "C" fn __ctype_toupper_loc() -> *const TablePointer<i32> {
        &UPPER_POINTER
    }

    /// glibc: `const int32_t **__ctype_tolower_loc(void)`.
    #[unsafe(export_name = "__unik___ctype_tolower_loc")]
    pub extern "C" fn __ctype_tolower_loc() -> *const TablePointer<i32> {
        &LOWER_POINTER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn __ctype_b_loc() -> *const *const u16;
        fn __ctype_toupper_loc() -> *const *const i32;
    }

    /// The host glibc runs in the "C" locale unless setlocale is called: its tables must
    /// equal ours for every index, EOF and negative chars included.
    #[test]
    fn tables_equal_the_host_glibc() {
        // SAFETY: glibc's accessors return valid pointers to tables over -128..=255.
        unsafe {
            let classes = *__ctype_b_loc();
            let upper = *__ctype_toupper_loc();
            for value in -128i32..256 {
                let index = (value + TABLE_OFFSET as i32) as usize;
                assert_eq!(
                    CLASS_TABLE[index],
                    *classes.offset(value as isize),
                    "class of {value}"
                );
                assert_eq!(
                    UPPER_TABLE[index],
                    *upper.offset(value as isize),
                    "upper of {value}"
                );
            }
        }
        assert_eq!(to_lower(i32::from(b'Q')), i32::from(b'q'));
        assert_eq!(to_upper(-1), -1);
        assert_eq!(classes_of(-1), 0);
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    isalnum,
    isalpha,
    isblank,
    iscntrl,
    isdigit,
    isgraph,
    islower,
    isprint,
    ispunct,
    isspace,
    isupper,
    isxdigit,
    isascii,
    toascii,
    toupper,
    tolower,
    __ctype_b_loc,
    __ctype_toupper_loc,
    __ctype_tolower_loc
);
