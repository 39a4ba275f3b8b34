//! Integer conversions `%d %i %u %o %x %X %b %B` and non-null `%p` (C99 7.19.6.1p6, p8).

use super::output::{CountingSink, Piece, write_field};
use super::specification::Specification;

/// `%d`/`%i`: the sign comes from the value, or from the `+` and space flags.
pub(super) fn write_signed(out: &mut CountingSink<'_>, specification: &Specification, value: i64) {
    let sign = specification.sign_prefix(value < 0);
    write_number(out, specification, sign, value.unsigned_abs(), 10, false);
}

/// `%u %o %x %X %b %B`: unsigned, so the `+` and space flags do not apply (glibc clears
/// them for unsigned conversions).
pub(super) fn write_unsigned(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    value: u64,
    base: u32,
    uppercase: bool,
) {
    write_number(out, specification, b"", value, base, uppercase);
}

/// `%p` of a non-null pointer: glibc prints it as `%#lx` but, unlike `%x`, keeps the
/// `+` and space flags.
pub(super) fn write_pointer(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    address: u64,
) {
    let mut as_hex = *specification;
    as_hex.alternate_form = true;
    let sign = specification.sign_prefix(false);
    write_number(out, &as_hex, sign, address, 16, false);
}

fn write_number(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    sign: &[u8],
    magnitude: u64,
    base: u32,
    uppercase: bool,
) {
    let mut buffer = [0u8; 64];
    // C99 7.19.6.1p8: "The result of converting a zero value with a precision of zero is
    // no characters."
    let digits: &[u8] = if magnitude == 0 && specification.precision == Some(0) {
        &[]
    } else {
        digits_in_base(magnitude, base, uppercase, &mut buffer)
    };
    let mut leading_zeros = specification
        .precision
        .unwrap_or(1)
        .saturating_sub(digits.len());
    // C99 7.19.6.1p6, `#`: for `o` "it increases the precision, if and only if necessary,
    // to force the first digit of the result to be a zero".
    if specification.alternate_form
        && base == 8
        && leading_zeros == 0
        && digits.first() != Some(&b'0')
    {
        leading_zeros = 1;
    }
    // `#` with `x X` (and glibc's `b B`): a `0x` prefix for nonzero values.
    let base_prefix: &[u8] = match (specification.alternate_form && magnitude != 0, base) {
        (true, 16) if uppercase => b"0X",
        (true, 16) => b"0x",
        (true, 2) if uppercase => b"0B",
        (true, 2) => b"0b",
        _ => b"",
    };
    // C99 7.19.6.1p6, `0`: "If a precision is specified, the 0 flag is ignored" for
    // integer conversions.
    let zero_fill = specification.zero_pad && specification.precision.is_none();
    write_field(
        out,
        specification,
        zero_fill,
        &[Piece::Bytes(sign), Piece::Bytes(base_prefix)],
        &[Piece::Repeat(b'0', leading_zeros), Piece::Bytes(digits)],
    );
}

/// Writes the digits of `value` in `base` (2..=16) at the end of `buffer`.
fn digits_in_base(mut value: u64, base: u32, uppercase: bool, buffer: &mut [u8; 64]) -> &[u8] {
    let alphabet: &[u8; 16] = if uppercase {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let base = u64::from(base);
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = alphabet[(value % base) as usize];
        value /= base;
        if value == 0 {
            break;
        }
    }
    &buffer[start..]
}
