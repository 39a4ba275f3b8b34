//! `strtol` & co. (C99 7.20.1.4), with glibc's handling of a bare `0x`.

use super::{IntegerKind, ParsedInteger, skip_white_space};

pub(super) fn parse(text: &[u8], base: u32, kind: IntegerKind) -> ParsedInteger {
    let no_conversion = ParsedInteger {
        value: 0,
        consumed: 0,
        out_of_range: false,
        invalid_base: false,
    };
    // C99 7.20.1.4p3: "the value of base shall be zero or between 2 and 36".
    if base == 1 || base > 36 {
        return ParsedInteger {
            invalid_base: true,
            ..no_conversion
        };
    }
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

    // p3: base 16 allows a 0x/0X prefix; base 0 takes it as hexadecimal, a leading 0 as
    // octal, anything else as decimal.
    let mut base = base;
    let mut zero_before_x = None;
    let starts_with_zero = text.get(position) == Some(&b'0');
    let followed_by_x = matches!(text.get(position + 1), Some(b'x' | b'X'));
    if starts_with_zero && followed_by_x && (base == 0 || base == 16) {
        zero_before_x = Some(position);
        base = 16;
        position += 2;
    } else if base == 0 {
        base = if starts_with_zero { 8 } else { 10 };
    }

    let digits_start = position;
    let mut magnitude: u64 = 0;
    let mut overflowed = false;
    while let Some(digit) = text.get(position).and_then(|&byte| digit_value(byte, base)) {
        // All digits are consumed even past overflow (p5: "the expected form").
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|value| value.checked_add(u64::from(digit)))
        {
            Some(value) => magnitude = value,
            None => overflowed = true,
        }
        position += 1;
    }
    if position == digits_start {
        // glibc: "0x" not followed by a hexadecimal digit is the number 0 written as "0",
        // so the end pointer is left on the 'x'.
        return match zero_before_x {
            Some(zero) => ParsedInteger {
                consumed: zero + 1,
                ..no_conversion
            },
            None => no_conversion,
        };
    }

    // p8: out-of-range values become LONG_MIN, LONG_MAX or ULONG_MAX with ERANGE.
    let (value, out_of_range) = match kind {
        IntegerKind::Unsigned64 if overflowed => (u64::MAX, true),
        // p5: "If the subject sequence begins with a minus sign, the value resulting from
        // the conversion is negated (in the return type)".
        IntegerKind::Unsigned64 if negative => (magnitude.wrapping_neg(), false),
        IntegerKind::Unsigned64 => (magnitude, false),
        IntegerKind::Signed64 => signed(magnitude, overflowed, negative, i64::MIN, i64::MAX),
        IntegerKind::Signed32 => signed(
            magnitude,
            overflowed,
            negative,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
        ),
    };
    ParsedInteger {
        value,
        consumed: position,
        out_of_range,
        invalid_base: false,
    }
}

/// Applies the sign and saturates to `[minimum, maximum]`; negative values are returned
/// in two's complement.
fn signed(
    magnitude: u64,
    overflowed: bool,
    negative: bool,
    minimum: i64,
    maximum: i64,
) -> (u64, bool) {
    if negative {
        if overflowed || magnitude > minimum.unsigned_abs() {
            (minimum as u64, true)
        } else {
            ((magnitude as i64).wrapping_neg() as u64, false)
        }
    } else if overflowed || magnitude > maximum as u64 {
        (maximum as u64, true)
    } else {
        (magnitude, false)
    }
}

/// The value of `byte` as a digit in `base` (p3: letters a–z and A–Z are 10–35).
fn digit_value(byte: u8, base: u32) -> Option<u32> {
    let value = match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'z' => byte - b'a' + 10,
        b'A'..=b'Z' => byte - b'A' + 10,
        _ => return None,
    };
    Some(u32::from(value)).filter(|&value| value < base)
}
