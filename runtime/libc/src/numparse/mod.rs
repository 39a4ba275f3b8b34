//! Number parsing for `strtol` & co. and `strtod` & co.: pure, safe Rust over byte slices,
//! with glibc's results (values, end positions and `ERANGE` decisions) in the C locale.
//! Nothing here allocates.
//!
//! Layout: `integer` is the `strtol` family; `float` scans the `strtod` syntax and
//! converts decimal forms with `core`'s correctly rounded parser; `hex_float` rounds
//! hexadecimal forms itself; `exact_decimal` answers the exactness questions that
//! decide `ERANGE` on underflow.
//!
//! Known difference from glibc 2.36: when a result is subnormal, glibc's
//! `round_and_return` drops the first bit below the 53 (24) it computed, so for inputs
//! whose binary expansion ends with exactly that bit it can round the wrong way and
//! miss `ERANGE` (e.g. `0x1.00000000000018p-1023`, or its exact decimal). These parsers
//! round correctly there, as C99 7.20.1.3p5/p8 require; see the tests.

#![deny(unsafe_code)]

mod exact_decimal;
mod float;
mod hex_float;
mod integer;

#[cfg(test)]
mod tests;

/// Result of parsing an integer prefix of a byte string (C `strto*` semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedInteger {
    /// The value, saturated to the type's range on overflow (as C requires).
    pub value: u64,
    /// How many bytes were consumed (0 when no conversion could be performed).
    pub consumed: usize,
    /// True when the value was out of range (the caller sets errno = ERANGE).
    pub out_of_range: bool,
    /// True when `base` was invalid (the caller sets errno = EINVAL).
    pub invalid_base: bool,
}

/// The C integer type being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerKind {
    /// `long` / `long long` (64-bit, signed)
    Signed64,
    /// `unsigned long` / `unsigned long long` (64-bit; a leading '-' negates modulo 2^64, as C says)
    Unsigned64,
    /// `int` via `atoi`-style callers that want 32-bit saturation; a negative value is
    /// returned sign-extended to 64 bits.
    Signed32,
}

/// Parses like `strtol`/`strtoul`/`strtoll`/`strtoull`: leading white space, sign,
/// `0x`/`0` prefixes per `base` (0, or 2..=36).
pub fn parse_integer(text: &[u8], base: u32, kind: IntegerKind) -> ParsedInteger {
    integer::parse(text, base, kind)
}

/// Result of parsing a floating-point prefix (C `strtod` semantics).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParsedFloat {
    pub value: f64,
    pub consumed: usize,
    /// Overflow to ±HUGE_VAL or underflow to a denormal/zero: caller sets errno = ERANGE.
    pub out_of_range: bool,
}

/// Parses like `strtod`: decimal and hexadecimal forms, `inf`/`infinity`/`nan`/`nan(...)`,
/// correctly rounded (round-half-even), as glibc does.
///
/// `out_of_range` follows glibc: set on overflow to infinity, and on underflow, i.e.
/// when the result is tiny (below `DBL_MIN`, tininess detected after rounding as on
/// x86_64) and inexact; an exactly representable subnormal is not an error.
pub fn parse_double(text: &[u8]) -> ParsedFloat {
    let (value, consumed, out_of_range) = float::parse::<f64>(text);
    ParsedFloat {
        value,
        consumed,
        out_of_range,
    }
}

/// Parses like `strtof`: correctly rounded to `f32` directly (not via f64).
/// Returns the value, the bytes consumed and the `ERANGE` flag, as [`parse_double`].
pub fn parse_float(text: &[u8]) -> (f32, usize, bool) {
    float::parse::<f32>(text)
}

/// The length of the leading white space, as `isspace` in the C locale defines it
/// (C99 7.4.1.10: space, \t, \n, \v, \f, \r).
fn skip_white_space(text: &[u8]) -> usize {
    text.iter()
        .take_while(|&&byte| matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count()
}
