//! Exact comparisons between a decimal subject sequence and binary values, for the
//! `ERANGE` decisions on underflow (is the result exact? is the input below the
//! tininess bound?). Numbers are compared as digit strings: a decimal `0.D × 10^E` with
//! D free of leading and trailing zeros is ordered by E, then by D. Every binary value
//! has a finite decimal expansion, printed exactly by `core::fmt` with enough digits.

use core::cmp::Ordering;
use core::fmt::Write;

use super::float::BinaryFloat;

/// Room for the exact expansion of any binary64 value in `{:e}` form (767 digits after
/// the point, the leading digit, the point, `e-324`) and for the tininess bound's 770
/// digits.
const DIGIT_BUFFER_SIZE: usize = 800;

/// A decimal subject sequence: `mantissa` is `digits[.digits]` (at least one digit),
/// `exponent` the value of the exponent part (saturated).
pub(super) struct DecimalText<'a> {
    pub(super) mantissa: &'a [u8],
    pub(super) exponent: i64,
}

impl DecimalText<'_> {
    /// The digits without the point.
    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.mantissa.iter().copied().filter(u8::is_ascii_digit)
    }

    pub(super) fn is_zero(&self) -> bool {
        self.digits().all(|digit| digit == b'0')
    }

    /// E in value = 0.D × 10^E (for a nonzero value).
    fn decimal_exponent(&self) -> i64 {
        let integer_digits = self
            .mantissa
            .iter()
            .position(|&byte| byte == b'.')
            .unwrap_or(self.mantissa.len());
        let leading_zeros = self.digits().take_while(|&digit| digit == b'0').count();
        (integer_digits as i64 - leading_zeros as i64).saturating_add(self.exponent)
    }

    /// Orders this (nonzero) decimal against the positive number 0.`digits` × 10^`exponent`,
    /// `digits` starting with a nonzero digit and without trailing zeros.
    pub(super) fn compare(&self, digits: &[u8], exponent: i64) -> Ordering {
        let by_exponent = self.decimal_exponent().cmp(&exponent);
        if by_exponent != Ordering::Equal {
            return by_exponent;
        }
        let mut ours = self.digits().skip_while(|&digit| digit == b'0');
        for &theirs in digits {
            match ours.next() {
                // Ours ended; theirs still has a nonzero digit to come.
                None => return Ordering::Less,
                Some(digit) if digit != theirs => return digit.cmp(&theirs),
                Some(_) => {}
            }
        }
        if ours.any(|digit| digit != b'0') {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }

    /// Orders this (nonzero) decimal against a positive finite `value`.
    pub(super) fn compare_with_value<F: BinaryFloat>(&self, value: F) -> Ordering {
        let mut buffer = [0u8; DIGIT_BUFFER_SIZE];
        let mut writer = DigitWriter {
            buffer: &mut buffer,
            length: 0,
        };
        if value.write_exact(&mut writer).is_err() {
            // The buffer holds every binary64 expansion; should that ever fail, claim
            // inexact, the answer that only adds an `ERANGE`.
            return Ordering::Less;
        }
        let length = writer.length;
        let text = &buffer[..length];
        // `d.ddd…e±N`: digits d ddd…, value = 0.dddd… × 10^(N+1).
        let marker = text.iter().position(|&byte| byte == b'e').unwrap_or(length);
        let exponent_text = &text[marker + 1..];
        let (negative, exponent_digits) = match exponent_text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, exponent_text),
        };
        let magnitude = exponent_digits
            .iter()
            .fold(0i64, |value, &digit| value * 10 + i64::from(digit - b'0'));
        let exponent = if negative { -magnitude } else { magnitude } + 1;
        let mut digits = [0u8; DIGIT_BUFFER_SIZE];
        let mut count = 0;
        for &byte in text[..marker].iter().filter(|byte| byte.is_ascii_digit()) {
            digits[count] = byte;
            count += 1;
        }
        let significant = digits[..count]
            .iter()
            .rposition(|&digit| digit != b'0')
            .map_or(0, |last| last + 1);
        self.compare(&digits[..significant], exponent)
    }
}

struct DigitWriter<'a> {
    buffer: &'a mut [u8],
    length: usize,
}

impl Write for DigitWriter<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.length + text.len();
        self.buffer
            .get_mut(self.length..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(text.as_bytes());
        self.length = end;
        Ok(())
    }
}

/// The decimal digits of the tininess bound 2^emin − 2^(emin−p−1) of a binary format.
pub(super) struct ThresholdDigits {
    digits: [u8; DIGIT_BUFFER_SIZE],
    length: usize,
    exponent: i64,
}

/// Limbs for (2^54 − 1)·5^1076 < 2^2553, base 2^32.
const LIMBS: usize = 81;

impl ThresholdDigits {
    /// 2^emin − 2^(emin−p−1) = (2^(p+1) − 1) · 2^(emin−p−1)
    ///                       = (2^(p+1) − 1) · 5^(p+1−emin) · 10^−(p+1−emin),
    /// so its digits are those of the integer (2^(p+1) − 1) · 5^(p+1−emin).
    pub(super) fn below_least_normal<F: BinaryFloat>() -> Self {
        let power = u32::try_from(i64::from(F::PRECISION) + 1 - i64::from(F::MINIMUM_EXPONENT))
            .unwrap_or(0);
        let multiplier = (1u64 << (F::PRECISION + 1)) - 1;
        let mut threshold = ThresholdDigits {
            digits: [0; DIGIT_BUFFER_SIZE],
            length: 0,
            exponent: 0,
        };
        let length =
            decimal_digits_of_multiple_of_power_of_five(multiplier, power, &mut threshold.digits);
        threshold.length = length;
        threshold.exponent = length as i64 - i64::from(power);
        threshold
    }

    pub(super) fn digits(&self) -> &[u8] {
        let significant = self.digits[..self.length]
            .iter()
            .rposition(|&digit| digit != b'0')
            .map_or(0, |last| last + 1);
        &self.digits[..significant]
    }

    pub(super) fn exponent(&self) -> i64 {
        self.exponent
    }
}

/// Writes the decimal digits of `multiplier · 5^power` to `output` (most significant
/// first) and returns their count. Schoolbook arithmetic on base-2^32 limbs; the binary32
/// and binary64 bounds need 12 and 81 limbs.
fn decimal_digits_of_multiple_of_power_of_five(
    multiplier: u64,
    power: u32,
    output: &mut [u8; DIGIT_BUFFER_SIZE],
) -> usize {
    let mut limbs = [0u32; LIMBS];
    limbs[0] = multiplier as u32;
    limbs[1] = (multiplier >> 32) as u32;
    let mut used = 2;
    // Multiply by 5^13 (< 2^32) as long as possible, then by the remaining power.
    let mut remaining = power;
    while remaining > 0 {
        let step = remaining.min(13);
        remaining -= step;
        let factor = 5u64.pow(step);
        let mut carry = 0u64;
        for limb in &mut limbs[..used] {
            let product = u64::from(*limb) * factor + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 && used < LIMBS {
            limbs[used] = carry as u32;
            used += 1;
        }
    }
    // Peel off nine decimal digits at a time, least significant first.
    let mut chunks = [0u32; DIGIT_BUFFER_SIZE / 9 + 1];
    let mut chunk_count = 0;
    while used > 0 && chunk_count < chunks.len() {
        let mut remainder = 0u64;
        for limb in limbs[..used].iter_mut().rev() {
            let current = (remainder << 32) | u64::from(*limb);
            *limb = (current / 1_000_000_000) as u32;
            remainder = current % 1_000_000_000;
        }
        chunks[chunk_count] = remainder as u32;
        chunk_count += 1;
        while used > 0 && limbs[used - 1] == 0 {
            used -= 1;
        }
    }
    let mut length = 0;
    for (index, &chunk) in chunks[..chunk_count].iter().rev().enumerate() {
        let mut text = [0u8; 9];
        let mut value = chunk;
        for digit in text.iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
        // The most significant chunk has no leading zeros.
        let start = if index == 0 {
            text.iter().position(|&digit| digit != b'0').unwrap_or(8)
        } else {
            0
        };
        for &digit in &text[start..] {
            if length < output.len() {
                output[length] = digit;
                length += 1;
            }
        }
    }
    length
}
