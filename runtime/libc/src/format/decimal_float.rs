//! Decimal floating-point conversions `%f %F %e %E %g %G` (C99 7.19.6.1p8).
//!
//! The digits come from `core::fmt`, whose `{:.N}` and `{:.Ne}` for `f64` are exact: they
//! print the binary value's decimal expansion rounded at the requested digit, ties to
//! even (Grisu with a fallback to the exact Dragon4 algorithm), which is what glibc
//! prints in the default rounding mode. `core` formats into its own stack buffer and
//! pads long precisions with zero runs, so nothing allocates; here the text lands in a
//! stack buffer through [`BufferWriter`], with the precision capped where every further
//! digit is known to be zero (those zeros are then written as runs).

use core::fmt::Write;

use super::output::{CountingSink, Piece, write_field};
use super::specification::{FloatStyle, Specification};

/// An `f64` has at most 1074 fraction bits (2^-1074 is the least subnormal), hence at
/// most 1074 nonzero decimals after the point: `%f` digits past that are zeros.
const FIXED_PRECISION_CAP: usize = 1074;
/// At most 309 integer digits (`DBL_MAX` < 10^309), the point, the capped fraction.
const FIXED_BUFFER_SIZE: usize = 309 + 1 + FIXED_PRECISION_CAP;
/// An `f64`'s exact decimal expansion has at most 767 significant digits, so `%e` digits
/// past 767 after the point are zeros.
const EXPONENT_PRECISION_CAP: usize = 767;
/// The leading digit, the point, the capped digits, `e-324`.
const EXPONENT_BUFFER_SIZE: usize = 2 + EXPONENT_PRECISION_CAP + 5;

/// A `core::fmt::Write` into a byte slice; fails (instead of growing) when full.
struct BufferWriter<'a> {
    buffer: &'a mut [u8],
    length: usize,
}

impl Write for BufferWriter<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.length + text.len();
        let destination = self
            .buffer
            .get_mut(self.length..end)
            .ok_or(core::fmt::Error)?;
        destination.copy_from_slice(text.as_bytes());
        self.length = end;
        Ok(())
    }
}

/// Formats with `core::fmt` into `buffer`, returning the text. The buffer sizes above
/// bound every output, so the error branch only guards against that reasoning being
/// wrong: it yields the text that fit rather than panicking.
fn render<'buffer>(
    buffer: &'buffer mut [u8],
    arguments: core::fmt::Arguments<'_>,
) -> &'buffer [u8] {
    let mut writer = BufferWriter { buffer, length: 0 };
    let result = writer.write_fmt(arguments);
    debug_assert!(result.is_ok(), "float rendering buffer too small");
    let length = writer.length;
    &writer.buffer[..length]
}

/// The sign prefix of a float conversion (`%f %e %g %a` and their capitals), or `None`
/// after writing an infinity or NaN whole. The sign bit decides, so -0.0 prints "-0" and a
/// negative NaN "-nan" as in glibc.
pub(super) fn sign_of_finite(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    value: f64,
    uppercase: bool,
) -> Option<&'static [u8]> {
    let sign = specification.sign_prefix(value.is_sign_negative());
    if value.is_finite() {
        return Some(sign);
    }
    let text: &[u8] = match (value.is_nan(), uppercase) {
        (true, false) => b"nan",
        (true, true) => b"NAN",
        (false, false) => b"inf",
        (false, true) => b"INF",
    };
    // glibc pads infinities and NaNs with spaces even with the `0` flag.
    write_field(
        out,
        specification,
        false,
        &[Piece::Bytes(sign)],
        &[Piece::Bytes(text)],
    );
    None
}

pub(super) fn write(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    value: f64,
    style: FloatStyle,
    uppercase: bool,
) {
    let Some(sign) = sign_of_finite(out, specification, value, uppercase) else {
        return;
    };
    let magnitude = value.abs();
    match style {
        FloatStyle::Fixed => write_fixed(out, specification, sign, magnitude),
        FloatStyle::Exponent => write_exponent(out, specification, sign, magnitude, uppercase),
        FloatStyle::General => write_general(out, specification, sign, magnitude, uppercase),
    }
}

/// `%f`: "[-]ddd.ddd, where the number of digits after the decimal-point character is
/// equal to the precision specification" (default 6; no point for 0 unless `#`).
fn write_fixed(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    sign: &[u8],
    magnitude: f64,
) {
    let precision = specification.precision.unwrap_or(6);
    let rendered_precision = precision.min(FIXED_PRECISION_CAP);
    let mut buffer = [0u8; FIXED_BUFFER_SIZE];
    let text = render(
        &mut buffer,
        format_args!("{magnitude:.rendered_precision$}"),
    );
    let point: &[u8] = if precision == 0 && specification.alternate_form {
        b"."
    } else {
        b""
    };
    write_field(
        out,
        specification,
        specification.zero_pad,
        &[Piece::Bytes(sign)],
        &[
            Piece::Bytes(text),
            Piece::Bytes(point),
            Piece::Repeat(b'0', precision - rendered_precision),
        ],
    );
}

/// The significant digits of a value rounded to `digit_count` digits, and its decimal
/// exponent: value ≈ d.ddd × 10^exponent.
struct Significand<'a> {
    /// The rendered digits, without the point (at most `EXPONENT_PRECISION_CAP + 1`).
    digits: &'a [u8],
    /// Zeros that follow `digits` up to `digit_count`.
    trailing_zeros: usize,
    exponent: i32,
}

impl<'a> Significand<'a> {
    /// The first digit and the rest (`core` always renders at least one digit; an empty
    /// rendering would give two empty parts rather than a panic).
    fn split_leading_digit(&self) -> (&'a [u8], &'a [u8]) {
        self.digits.split_at(self.digits.len().min(1))
    }
}

/// Rounds `magnitude` to `digit_count` (≥ 1) significant digits with `{:.Ne}`.
fn significand(
    buffer: &mut [u8; EXPONENT_BUFFER_SIZE],
    magnitude: f64,
    digit_count: usize,
) -> Significand<'_> {
    let rendered_precision = (digit_count - 1).min(EXPONENT_PRECISION_CAP);
    let text_length = render(buffer, format_args!("{magnitude:.rendered_precision$e}")).len();
    // `core` writes "d.ddde-N" or "deN".
    let exponent_marker = buffer[..text_length]
        .iter()
        .position(|&byte| byte == b'e')
        .unwrap_or(text_length);
    let exponent = parse_exponent(&buffer[exponent_marker + 1..text_length]);
    // Drop the point by moving the leading digit next to the others.
    let digits_start = if exponent_marker > 1 {
        buffer[1] = buffer[0];
        1
    } else {
        0
    };
    Significand {
        digits: &buffer[digits_start..exponent_marker],
        trailing_zeros: digit_count - 1 - rendered_precision,
        exponent,
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .fold(0i32, |value, &digit| value * 10 + i32::from(digit - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// `e±dd`: "The exponent always contains at least two digits".
fn exponent_suffix(exponent: i32, uppercase: bool, buffer: &mut [u8; 8]) -> &[u8] {
    buffer[0] = if uppercase { b'E' } else { b'e' };
    buffer[1] = if exponent < 0 { b'-' } else { b'+' };
    let mut digits = [0u8; 20];
    let digits =
        super::specification::decimal_digits(exponent.unsigned_abs() as usize, &mut digits);
    let mut length = 2;
    if digits.len() < 2 {
        buffer[length] = b'0';
        length += 1;
    }
    buffer[length..length + digits.len()].copy_from_slice(digits);
    &buffer[..length + digits.len()]
}

/// `%e`: "[-]d.ddde±dd, where there is one digit before the decimal-point character
/// and the number of digits after it is equal to the precision" (default 6).
fn write_exponent(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    sign: &[u8],
    magnitude: f64,
    uppercase: bool,
) {
    let precision = specification.precision.unwrap_or(6);
    let mut buffer = [0u8; EXPONENT_BUFFER_SIZE];
    let significand = significand(&mut buffer, magnitude, precision.saturating_add(1));
    let mut suffix = [0u8; 8];
    let suffix = exponent_suffix(significand.exponent, uppercase, &mut suffix);
    let point: &[u8] = if precision > 0 || specification.alternate_form {
        b"."
    } else {
        b""
    };
    let (leading, fraction) = significand.split_leading_digit();
    write_field(
        out,
        specification,
        specification.zero_pad,
        &[Piece::Bytes(sign)],
        &[
            Piece::Bytes(leading),
            Piece::Bytes(point),
            Piece::Bytes(fraction),
            Piece::Repeat(b'0', significand.trailing_zeros),
            Piece::Bytes(suffix),
        ],
    );
}

/// `%g` (C99 7.19.6.1p8): with P the precision (6 if omitted, 1 if zero) and X the
/// exponent `%e` would print, "if P > X ≥ −4, the conversion is with style f and
/// precision P − (X + 1). Otherwise, the conversion is with style e and precision
/// P − 1." Without `#`, trailing zeros of the fraction are removed, and the point with
/// them when nothing follows it. Rounding at the same digit gives the same digits in
/// both styles, so one rendering serves both.
fn write_general(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    sign: &[u8],
    magnitude: f64,
    uppercase: bool,
) {
    let digit_count = match specification.precision {
        None => 6,
        Some(0) => 1,
        Some(precision) => precision,
    };
    let mut buffer = [0u8; EXPONENT_BUFFER_SIZE];
    let significand = significand(&mut buffer, magnitude, digit_count);
    let exponent = significand.exponent;
    let keep_zeros = specification.alternate_form;
    let mut suffix = [0u8; 8];

    let fixed_style = i64::from(exponent) >= -4 && (digit_count as i64) > i64::from(exponent);
    if keep_zeros
        && !fixed_style
        && carried_out_of_fixed_range(&significand, magnitude, digit_count)
    {
        // glibc quirk, kept for identical output: when rounding to P digits carries a
        // value from the `f` range (X = P − 1) into the `e` range (X = P), as for
        // `%#g` of 999999.5, glibc has already chosen the `f` layout's digit budget and
        // prints "1.e+06" where C99 would print "1.00000e+06".
        let suffix = exponent_suffix(exponent, uppercase, &mut suffix);
        write_field(
            out,
            specification,
            specification.zero_pad,
            &[Piece::Bytes(sign)],
            &[Piece::Bytes(b"1."), Piece::Bytes(suffix)],
        );
        return;
    }
    let (integer_part, zeros_after_point, fraction, suffix): (&[u8], usize, &[u8], &[u8]) =
        if fixed_style && exponent >= 0 {
            // `exponent` < digit_count ≤ rendered digits + trailing zeros, and
            // exponent ≤ 308 < EXPONENT_PRECISION_CAP, so the split is in `digits`.
            let split = (exponent as usize + 1).min(significand.digits.len());
            let (integer_part, fraction) = significand.digits.split_at(split);
            (integer_part, 0, fraction, b"")
        } else if fixed_style {
            (
                b"0",
                exponent.unsigned_abs() as usize - 1,
                significand.digits,
                b"",
            )
        } else {
            let (leading, fraction) = significand.split_leading_digit();
            (
                leading,
                0,
                fraction,
                exponent_suffix(exponent, uppercase, &mut suffix),
            )
        };
    let (fraction, trailing_zeros) = if keep_zeros {
        (fraction, significand.trailing_zeros)
    } else {
        let kept = fraction
            .iter()
            .rposition(|&digit| digit != b'0')
            .map_or(0, |last| last + 1);
        (&fraction[..kept], 0)
    };
    let has_fraction = !fraction.is_empty() || trailing_zeros > 0;
    let point: &[u8] = if has_fraction || keep_zeros {
        b"."
    } else {
        b""
    };
    // A fraction reduced to nothing drops its leading zeros too (only possible for 0,
    // whose exponent is 0, so `zeros_after_point` is then 0 anyway).
    let zeros_after_point = if has_fraction { zeros_after_point } else { 0 };
    write_field(
        out,
        specification,
        specification.zero_pad,
        &[Piece::Bytes(sign)],
        &[
            Piece::Bytes(integer_part),
            Piece::Bytes(point),
            Piece::Repeat(b'0', zeros_after_point),
            Piece::Bytes(fraction),
            Piece::Repeat(b'0', trailing_zeros),
            Piece::Bytes(suffix),
        ],
    );
}

/// Whether rounding to `digit_count` digits produced 10^P from a value below it, i.e. the
/// significand is 1 followed by zeros with exponent P while the exact value has
/// exponent P − 1. The exact exponent comes from a rendering with every significant
/// digit, which cannot carry.
fn carried_out_of_fixed_range(
    significand: &Significand<'_>,
    magnitude: f64,
    digit_count: usize,
) -> bool {
    let exponent_is_precision = usize::try_from(significand.exponent) == Ok(digit_count);
    let is_power_of_ten = significand.digits.first() == Some(&b'1')
        && significand.digits[1..].iter().all(|&digit| digit == b'0');
    if !exponent_is_precision || !is_power_of_ten {
        return false;
    }
    let mut buffer = [0u8; EXPONENT_BUFFER_SIZE];
    significand_exact_exponent(&mut buffer, magnitude) < significand.exponent
}

/// The decimal exponent of the exact value of `magnitude`.
fn significand_exact_exponent(buffer: &mut [u8; EXPONENT_BUFFER_SIZE], magnitude: f64) -> i32 {
    significand(buffer, magnitude, EXPONENT_PRECISION_CAP + 1).exponent
}
