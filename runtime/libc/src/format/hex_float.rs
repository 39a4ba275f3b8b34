//! Hexadecimal floating-point conversions `%a %A` (C99 7.19.6.1p8), laid out as glibc's
//! `printf_fphex` does for IEEE binary64: a normal number is `0x1.hhhp±d`, a subnormal
//! `0x0.hhhp-1022` (not renormalised), zero `0x0p+0`. Without a precision the 13 hex
//! digits of the fraction are printed without their trailing zeros; with one, the
//! fraction is rounded to nearest, ties to even, and a carry out of the fraction
//! increments the leading digit (`%.0a` of 1.5 is `0x2p+0`), again as glibc does.

use super::decimal_float::sign_of_finite;
use super::output::{CountingSink, Piece, write_field};
use super::specification::{Specification, decimal_digits};

/// binary64 (IEEE 754-2008 3.4): 52 fraction bits, exponent bias 1023.
const FRACTION_BITS: u32 = 52;
const FRACTION_HEX_DIGITS: usize = 13;
const EXPONENT_BIAS: i32 = 1023;

pub(super) fn write(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    value: f64,
    uppercase: bool,
) {
    let Some(sign) = sign_of_finite(out, specification, value, uppercase) else {
        return;
    };
    let bits = value.to_bits();
    let biased_exponent = ((bits >> FRACTION_BITS) & 0x7ff) as i32;
    let mut fraction = bits & ((1u64 << FRACTION_BITS) - 1);
    let (mut leading_digit, exponent) = match (biased_exponent, fraction) {
        (0, 0) => (0u8, 0i32),
        (0, _) => (0, 1 - EXPONENT_BIAS),
        _ => (1, biased_exponent - EXPONENT_BIAS),
    };

    let digit_count = match specification.precision {
        None => {
            // Shortest exact form: drop the trailing zero digits.
            if fraction == 0 {
                0
            } else {
                FRACTION_HEX_DIGITS - (fraction.trailing_zeros() / 4) as usize
            }
        }
        Some(precision) if precision >= FRACTION_HEX_DIGITS => FRACTION_HEX_DIGITS,
        Some(precision) => {
            let dropped_bits = FRACTION_BITS - 4 * precision as u32;
            let kept = fraction >> dropped_bits;
            let remainder = fraction & ((1u64 << dropped_bits) - 1);
            let half = 1u64 << (dropped_bits - 1);
            // The last printed digit decides ties; with no fraction digits it is the
            // leading digit.
            let last_digit_odd = if precision == 0 {
                leading_digit & 1 == 1
            } else {
                kept & 1 == 1
            };
            let round_up = remainder > half || (remainder == half && last_digit_odd);
            let mut rounded = kept + u64::from(round_up);
            if rounded >> (4 * precision) != 0 {
                rounded = 0;
                leading_digit += 1;
            }
            fraction = rounded << dropped_bits;
            precision
        }
    };
    let trailing_zeros = specification
        .precision
        .map_or(0, |precision| precision.saturating_sub(FRACTION_HEX_DIGITS));

    let alphabet: &[u8; 16] = if uppercase {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut fraction_digits = [0u8; FRACTION_HEX_DIGITS];
    for (index, digit) in fraction_digits.iter_mut().enumerate() {
        let shift = FRACTION_BITS - 4 * (index as u32 + 1);
        *digit = alphabet[((fraction >> shift) & 0xf) as usize];
    }
    let leading = [b'0' + leading_digit];
    let prefix: &[u8] = if uppercase { b"0X" } else { b"0x" };
    let point: &[u8] = if digit_count > 0 || trailing_zeros > 0 || specification.alternate_form {
        b"."
    } else {
        b""
    };
    let mut suffix = [0u8; 24];
    suffix[0] = if uppercase { b'P' } else { b'p' };
    suffix[1] = if exponent < 0 { b'-' } else { b'+' };
    let mut exponent_digits = [0u8; 20];
    let exponent_digits = decimal_digits(exponent.unsigned_abs() as usize, &mut exponent_digits);
    suffix[2..2 + exponent_digits.len()].copy_from_slice(exponent_digits);
    let suffix = &suffix[..2 + exponent_digits.len()];

    // The `0` flag pads between "0x" and the digits, like the prefix of `%#x`.
    write_field(
        out,
        specification,
        specification.zero_pad,
        &[Piece::Bytes(sign), Piece::Bytes(prefix)],
        &[
            Piece::Bytes(&leading),
            Piece::Bytes(point),
            Piece::Bytes(&fraction_digits[..digit_count]),
            Piece::Repeat(b'0', trailing_zeros),
            Piece::Bytes(suffix),
        ],
    );
}
