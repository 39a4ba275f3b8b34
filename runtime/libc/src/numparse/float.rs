//! `strtod`/`strtof` (C99 7.20.1.3): the subject sequence, special values, and decimal
//! conversion.
//!
//! Decimal forms are converted by `core`'s `FromStr` for `f64`/`f32`, which is correctly
//! rounded (ties to even) for any number of digits and does not allocate (Eisel-Lemire
//! with a big-decimal fallback that keeps a truncation flag). The C syntax accepted here
//! (`digits[.digits][e[±]digits]`, at least one digit) is a subset of what it accepts,
//! so the subject sequence is handed over in place. What `core` does not report — whether
//! the result was inexact — is answered by [`super::exact_decimal`] in the rare cases
//! where glibc's `ERANGE` depends on it.

use core::cmp::Ordering;
use core::fmt::Write;
use core::str::FromStr;

use super::exact_decimal::{DecimalText, ThresholdDigits};
use super::hex_float;
use super::{IntegerKind, parse_integer, skip_white_space};

/// An IEEE 754 binary format this module can produce.
pub(super) trait BinaryFloat: Copy + PartialEq + PartialOrd + FromStr {
    /// Significand precision p, with the implicit bit (binary64: 53).
    const PRECISION: u32;
    /// The exponent of the least normal number, emin (binary64: −1022).
    const MINIMUM_EXPONENT: i32;
    /// The exponent of the largest finite number, emax (binary64: 1023).
    const MAXIMUM_EXPONENT: i32;
    const ZERO: Self;
    const INFINITY: Self;
    const MINIMUM_POSITIVE: Self;
    /// glibc's default NaN (quiet, positive, zero payload).
    const NAN: Self;

    fn from_bits(bits: u64) -> Self;
    fn to_bits(self) -> u64;
    fn negate(self) -> Self;
    /// Formats the exact decimal expansion, `d.ddd…e±N`.
    fn write_exact(self, writer: &mut dyn Write) -> core::fmt::Result;
}

macro_rules! binary_float {
    ($type:ty, $bits:ty, $precision:expr, $minimum_exponent:expr, $maximum_exponent:expr, $exact_digits:expr) => {
        impl BinaryFloat for $type {
            const PRECISION: u32 = $precision;
            const MINIMUM_EXPONENT: i32 = $minimum_exponent;
            const MAXIMUM_EXPONENT: i32 = $maximum_exponent;
            const ZERO: Self = 0.0;
            const INFINITY: Self = <$type>::INFINITY;
            const MINIMUM_POSITIVE: Self = <$type>::MIN_POSITIVE;
            const NAN: Self = <$type>::from_bits(
                1 << ($precision - 2)
                    | ((1 << (<$bits>::BITS - $precision)) - 1) << ($precision - 1),
            );

            fn from_bits(bits: u64) -> Self {
                // The callers only build bit patterns of this format's width.
                <$type>::from_bits(bits as $bits)
            }
            fn to_bits(self) -> u64 {
                u64::from(<$type>::to_bits(self))
            }
            fn negate(self) -> Self {
                -self
            }
            fn write_exact(self, writer: &mut dyn Write) -> core::fmt::Result {
                write!(writer, "{:.*e}", $exact_digits, self)
            }
        }
    };
}

// binary64: p = 53, emin = −1022, emax = 1023; the least subnormal 2^−1074 has 751
// significant decimal digits and no value needs more than 767.
binary_float!(f64, u64, 53, -1022, 1023, 767);
// binary32: p = 24, emin = −126, emax = 127; 2^−149 has 105 significant digits and no
// value needs more than 112.
binary_float!(f32, u32, 24, -126, 127, 112);

/// Parses a `strtod`-style prefix of `text`: (value, bytes consumed, out of range).
pub(super) fn parse<F: BinaryFloat>(text: &[u8]) -> (F, usize, bool) {
    let mut position = skip_white_space(text);
    let negative = match text.get(position) {
        Some(b'-') => {
            position += 1;
            true
        }
        Some(b'+') => {
            position += 1;
            false
        }
        _ => false,
    };
    let subject = &text[position..];
    let Some((magnitude, length, out_of_range)) = parse_unsigned::<F>(subject) else {
        // p7: no conversion; the end pointer is the start of the string.
        return (F::ZERO, 0, false);
    };
    let value = if negative {
        magnitude.negate()
    } else {
        magnitude
    };
    (value, position + length, out_of_range)
}

/// Parses an unsigned subject sequence: (value, length, out of range), or `None`.
fn parse_unsigned<F: BinaryFloat>(subject: &[u8]) -> Option<(F, usize, bool)> {
    // p3: "INF or INFINITY, ignoring case"; "NAN or NAN(n-char-sequence_opt)".
    if starts_with_ignoring_case(subject, b"inf") {
        let length = if starts_with_ignoring_case(subject, b"infinity") {
            8
        } else {
            3
        };
        return Some((F::INFINITY, length, false));
    }
    if starts_with_ignoring_case(subject, b"nan") {
        return Some(parse_nan::<F>(subject));
    }
    if subject.first() == Some(&b'0')
        && matches!(subject.get(1), Some(b'x' | b'X'))
        && starts_with_hex_digits(&subject[2..])
    {
        let (value, length, out_of_range) = hex_float::parse::<F>(&subject[2..]);
        return Some((value, 2 + length, out_of_range));
    }
    parse_decimal::<F>(subject)
}

/// `0x` starts a hexadecimal form only when a digit follows, possibly after the point;
/// otherwise the subject is the decimal "0" and the end pointer is left on the 'x'.
fn starts_with_hex_digits(text: &[u8]) -> bool {
    match text {
        [first, ..] if first.is_ascii_hexdigit() => true,
        [b'.', second, ..] => second.is_ascii_hexdigit(),
        _ => false,
    }
}

fn starts_with_ignoring_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `nan` or `nan(n-char-sequence)`: glibc reads the sequence with `strtoull(…, 0)` and,
/// when all of it is a number, puts it in the NaN's payload (the fraction bits below the
/// quiet bit); a zero payload leaves the default NaN.
fn parse_nan<F: BinaryFloat>(subject: &[u8]) -> (F, usize, bool) {
    let after_nan = &subject[3..];
    let sequence_length = after_nan
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_')
        .count();
    let closed =
        after_nan.first() == Some(&b'(') && after_nan.get(1 + sequence_length) == Some(&b')');
    if !closed {
        return (F::NAN, 3, false);
    }
    let sequence = &after_nan[1..1 + sequence_length];
    let mut value = F::NAN;
    let parsed = parse_integer(sequence, 0, IntegerKind::Unsigned64);
    if parsed.consumed == sequence.len() {
        let payload_mask = (1u64 << (F::PRECISION - 2)) - 1;
        let payload = parsed.value & payload_mask;
        if payload != 0 {
            value = F::from_bits(F::NAN.to_bits() | payload);
        }
    }
    // glibc's inner strtoull leaves its ERANGE in errno for an oversized payload.
    (value, 3 + sequence_length + 2, parsed.out_of_range)
}

/// The decimal form (p3): a nonempty sequence of digits optionally containing a point,
/// then an optional exponent part.
fn parse_decimal<F: BinaryFloat>(subject: &[u8]) -> Option<(F, usize, bool)> {
    let integer_digits = count_digits(subject);
    let mut mantissa_end = integer_digits;
    let mut fraction_digits = 0;
    if subject.get(mantissa_end) == Some(&b'.') {
        fraction_digits = count_digits(&subject[mantissa_end + 1..]);
        mantissa_end += 1 + fraction_digits;
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return None;
    }
    // An exponent part counts only with at least one digit ("1e", "1e+" end before 'e').
    let mut end = mantissa_end;
    let mut exponent: i64 = 0;
    if matches!(subject.get(end), Some(b'e' | b'E')) {
        let (sign_length, negative) = match subject.get(end + 1) {
            Some(b'-') => (1, true),
            Some(b'+') => (1, false),
            _ => (0, false),
        };
        let digits_start = end + 1 + sign_length;
        let exponent_digits = count_digits(&subject[digits_start.min(subject.len())..]);
        if exponent_digits > 0 {
            end = digits_start + exponent_digits;
            // Saturate: beyond ±10^15 every nonzero mantissa overflows or underflows
            // however long it is.
            let magnitude = subject[digits_start..end]
                .iter()
                .fold(0i64, |value, &digit| {
                    (value * 10 + i64::from(digit - b'0')).min(1_000_000_000_000_000)
                });
            exponent = if negative { -magnitude } else { magnitude };
        }
    }

    let text = core::str::from_utf8(&subject[..end]).ok()?;
    // `core` accepts every string this scanner produces; `None` would only mean that
    // reasoning is wrong, and then no conversion is reported rather than a wrong value.
    let value = F::from_str(text).ok()?;
    let decimal = DecimalText {
        mantissa: &subject[..mantissa_end],
        exponent,
    };
    Some((value, end, decimal_out_of_range(value, &decimal)))
}

fn count_digits(text: &[u8]) -> usize {
    text.iter().take_while(|byte| byte.is_ascii_digit()).count()
}

/// glibc's `ERANGE` rule for a correctly rounded decimal conversion `value` of `decimal`:
/// overflow to infinity, or a tiny and inexact result. Tininess is detected after
/// rounding (IEEE 754-2008 7.5, as x86_64 does and glibc's `round_and_return` follows):
/// a value just below the least normal number that rounds to it with an unbounded
/// exponent range is not tiny.
fn decimal_out_of_range<F: BinaryFloat>(value: F, decimal: &DecimalText<'_>) -> bool {
    if value == F::INFINITY {
        return true;
    }
    if value == F::ZERO {
        return !decimal.is_zero();
    }
    if value < F::MINIMUM_POSITIVE {
        return decimal.compare_with_value(value) != Ordering::Equal;
    }
    if value == F::MINIMUM_POSITIVE {
        // Tiny after rounding exactly when below 2^emin − 2^(emin−p−1), the midpoint
        // between the least normal and its predecessor at full precision; such inputs
        // are inexact since that bound is not representable.
        let threshold = ThresholdDigits::below_least_normal::<F>();
        return decimal.compare(threshold.digits(), threshold.exponent()) == Ordering::Less;
    }
    false
}
