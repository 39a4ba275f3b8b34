//! Hexadecimal floating forms (C99 7.20.1.3p3, p8): `hh[.hh][p[±]dd]` after the `0x`,
//! "the result is correctly rounded" (to nearest, ties to even), including subnormal
//! results.

use super::float::BinaryFloat;

/// Significant hex digits kept exactly; 16 digits are 61 to 64 bits, more than any
/// format's precision plus a rounding bit, and the rest only matters through `sticky`.
const KEPT_HEX_DIGITS: u32 = 16;

/// Parses the part after `0x` (which starts with a hex digit, or a point and a hex
/// digit): (value, length, out of range).
pub(super) fn parse<F: BinaryFloat>(text: &[u8]) -> (F, usize, bool) {
    let mut position = 0;
    let mut significand: u64 = 0;
    let mut kept_digits = 0;
    // value = (significand + a nonzero fraction of one unit when `sticky`) × 2^binary_exponent
    let mut sticky = false;
    let mut binary_exponent: i64 = 0;
    let mut seen_point = false;
    loop {
        match text.get(position) {
            Some(b'.') if !seen_point => seen_point = true,
            Some(&byte) if byte.is_ascii_hexdigit() => {
                let digit = u64::from(hex_digit_value(byte));
                if significand == 0 && digit == 0 {
                    // Leading zeros: only their place value counts.
                    if seen_point {
                        binary_exponent -= 4;
                    }
                } else if kept_digits < KEPT_HEX_DIGITS {
                    significand = significand << 4 | digit;
                    kept_digits += 1;
                    if seen_point {
                        binary_exponent -= 4;
                    }
                } else {
                    sticky |= digit != 0;
                    if !seen_point {
                        binary_exponent += 4;
                    }
                }
            }
            _ => break,
        }
        position += 1;
        // Saturate long runs: far beyond any format's range either way.
        binary_exponent = binary_exponent.clamp(-1_000_000_000_000_000, 1_000_000_000_000_000);
    }

    // "a binary exponent part" (p3): p or P, optional sign, decimal digits; without a
    // digit it is not part of the subject sequence.
    if matches!(text.get(position), Some(b'p' | b'P')) {
        let (sign_length, negative) = match text.get(position + 1) {
            Some(b'-') => (1, true),
            Some(b'+') => (1, false),
            _ => (0, false),
        };
        let digits_start = position + 1 + sign_length;
        let digits = text
            .get(digits_start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits > 0 {
            let magnitude = text[digits_start..digits_start + digits]
                .iter()
                .fold(0i64, |value, &digit| {
                    (value * 10 + i64::from(digit - b'0')).min(1_000_000_000_000_000)
                });
            binary_exponent += if negative { -magnitude } else { magnitude };
            position = digits_start + digits;
        }
    }

    let (value, out_of_range) = round::<F>(significand, binary_exponent, sticky);
    (value, position, out_of_range)
}

fn hex_digit_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte - b'A' + 10,
    }
}

/// The result of rounding `significand` at the bit of weight 2^`lowest_kept` when the
/// significand's units have weight 2^`binary_exponent`: (kept bits, inexact).
fn round_at(significand: u64, binary_exponent: i64, sticky: bool, lowest_kept: i64) -> (u64, bool) {
    let shift = lowest_kept - binary_exponent;
    if shift <= 0 {
        // Exact; `kept` < 2^p since the callers keep p bits below the top bit.
        let kept = u32::try_from(-shift)
            .ok()
            .and_then(|left| significand.checked_shl(left));
        return (kept.unwrap_or(0), sticky);
    }
    if shift > 64 {
        // Everything is below half a unit of the kept bit: rounds to zero.
        return (0, true);
    }
    let wide = u128::from(significand);
    let kept = (wide >> shift) as u64;
    let remainder = wide & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let round_up = remainder > half || (remainder == half && (sticky || kept & 1 == 1));
    (kept + u64::from(round_up), remainder != 0 || sticky)
}

/// Rounds (`significand` + sticky) × 2^`binary_exponent` to the format: (value, out of
/// range), out of range meaning overflow, or a tiny inexact result (tininess after
/// rounding, as glibc decides on x86_64; see `float::decimal_out_of_range`).
fn round<F: BinaryFloat>(significand: u64, binary_exponent: i64, sticky: bool) -> (F, bool) {
    if significand == 0 {
        return (F::ZERO, false);
    }
    let precision = i64::from(F::PRECISION);
    let minimum_exponent = i64::from(F::MINIMUM_EXPONENT);
    let maximum_exponent = i64::from(F::MAXIMUM_EXPONENT);
    let top_bit = i64::from(63 - significand.leading_zeros());
    // The value lies in [2^exponent, 2^(exponent+1)).
    let exponent = top_bit + binary_exponent;
    if exponent > maximum_exponent {
        return (F::INFINITY, true);
    }
    // Keep p bits, but none below the least subnormal's weight 2^(emin − p + 1).
    let lowest_kept = (exponent - (precision - 1)).max(minimum_exponent - (precision - 1));
    let (mut kept, inexact) = round_at(significand, binary_exponent, sticky, lowest_kept);
    let mut lowest_kept = lowest_kept;
    if kept == 1 << precision {
        // Rounding carried into a new bit: 2^p × 2^lowest = 2^(p−1) × 2^(lowest+1).
        kept >>= 1;
        lowest_kept += 1;
    }
    let tiny = if exponent < minimum_exponent {
        // After rounding to p bits with an unbounded exponent, is it still below 2^emin?
        let (unbounded, _) = round_at(
            significand,
            binary_exponent,
            sticky,
            exponent - (precision - 1),
        );
        !(exponent == minimum_exponent - 1 && unbounded == 1 << precision)
    } else {
        false
    };
    let out_of_range = tiny && inexact;
    if kept == 0 {
        return (F::ZERO, out_of_range);
    }
    let implicit_bit = 1u64 << (precision - 1);
    if kept < implicit_bit {
        // Subnormal: biased exponent 0, the kept bits are the fraction.
        return (F::from_bits(kept), out_of_range);
    }
    let result_exponent = lowest_kept + precision - 1;
    if result_exponent > maximum_exponent {
        return (F::INFINITY, true);
    }
    let biased = u64::try_from(result_exponent + maximum_exponent).unwrap_or(0);
    (
        F::from_bits(biased << (precision - 1) | (kept - implicit_bit)),
        out_of_range,
    )
}
