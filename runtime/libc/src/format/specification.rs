//! Parsing one conversion specification (C99 7.19.6.1p4): flags, field width,
//! precision, length modifier and conversion specifier, with glibc's extensions
//! (`'` and `I` flags, `q` and `Z` modifiers, `%b %B %C %S %m`).

use super::output::CountingSink;

/// The length modifier. glibc keeps one "long double" flag for `L`, `ll` and `q`, so
/// `%Ld` prints a `long long` and `%llf` reads a `long double`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LengthModifier {
    None,
    /// `hh`
    Char,
    /// `h`
    Short,
    /// `l`
    Long,
    /// `ll`, `q`
    LongLong,
    /// `L`
    LongDouble,
    /// `z`, `Z`
    Size,
    /// `j`
    IntMax,
    /// `t`
    PointerDifference,
}

/// How `%f`-family conversions lay out their digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FloatStyle {
    /// `%f`: `[-]ddd.ddd`
    Fixed,
    /// `%e`: `[-]d.ddde±dd`
    Exponent,
    /// `%g`: whichever of the two C99 7.19.6.1p8 chooses, trailing zeros removed.
    General,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Conversion {
    /// `%%`
    Percent,
    /// `%d`, `%i`
    SignedDecimal,
    /// `%u`, `%o`, `%x`, `%X`, `%b`, `%B`
    Unsigned { base: u32, uppercase: bool },
    /// `%p`
    Pointer,
    /// `%c` (and `%lc`, `%C` with the `l` modifier)
    Character,
    /// `%s` (and `%ls` with the `l` modifier)
    String,
    /// `%S`
    WideString,
    /// `%n`
    Count,
    /// `%f %F %e %E %g %G`
    DecimalFloat { style: FloatStyle, uppercase: bool },
    /// `%a %A`
    HexFloat { uppercase: bool },
    /// `%m` (glibc): `strerror(errno)`
    ErrorMessage,
    /// Anything else: echoed back as glibc's `printf_unknown` does.
    Unknown(u8),
}

/// One parsed conversion specification, with `*` widths and precisions already fetched.
#[derive(Clone, Copy, Debug)]
pub(super) struct Specification {
    pub(super) left_justify: bool,
    pub(super) force_sign: bool,
    pub(super) space_for_sign: bool,
    pub(super) alternate_form: bool,
    /// The `0` flag, cleared by a `-` flag (C99 7.19.6.1p6) but not by a negative `*`
    /// width; renderers test `left_justify` first.
    pub(super) zero_pad: bool,
    /// The `'` flag: thousands grouping, which the C locale does not do.
    pub(super) grouping: bool,
    /// glibc's `I` flag: locale digits, which the C locale does not have.
    pub(super) locale_digits: bool,
    pub(super) width: usize,
    pub(super) precision: Option<usize>,
    pub(super) length: LengthModifier,
    pub(super) conversion: Conversion,
}

impl Specification {
    /// What stands before a number's digits: `-` when it is negative, else what the `+`
    /// or space flag asks for.
    pub(super) fn sign_prefix(&self, negative: bool) -> &'static [u8] {
        if negative {
            b"-"
        } else if self.force_sign {
            b"+"
        } else if self.space_for_sign {
            b" "
        } else {
            b""
        }
    }
}

/// Where a `*` width or precision, or the converted value, comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ArgumentReference {
    /// The next argument in order.
    Next,
    /// Argument number N, counting from 1 (POSIX `%N$`, `*N$`).
    Position(usize),
}

/// The arguments a specification refers to, fetched by the caller.
#[derive(Clone, Copy, Debug)]
pub(super) struct ArgumentReferences {
    /// `*` or `*N$` width.
    pub(super) width: Option<ArgumentReference>,
    /// `.*` or `.*N$` precision.
    pub(super) precision: Option<ArgumentReference>,
    /// The converted value (for conversions that take one).
    pub(super) value: ArgumentReference,
}

pub(super) enum ParseOutcome {
    /// `length` bytes after the `%` were consumed. `*` fields are still to be applied
    /// (see [`apply_width_argument`] and [`apply_precision_argument`]).
    Complete {
        specification: Specification,
        references: ArgumentReferences,
        length: usize,
    },
    /// The format ended before the conversion specifier.
    Incomplete,
    /// A width or precision above `INT_MAX`.
    Overflow,
}

/// The largest width or precision: both are `int` in glibc.
const MAXIMUM_FIELD: usize = i32::MAX as usize;

/// Parses the specification that starts right after a `%`. Fetches nothing: the
/// arguments it needs are described in the returned [`ArgumentReferences`].
pub(super) fn parse(text: &[u8]) -> ParseOutcome {
    let mut specification = Specification {
        left_justify: false,
        force_sign: false,
        space_for_sign: false,
        alternate_form: false,
        zero_pad: false,
        grouping: false,
        locale_digits: false,
        width: 0,
        precision: None,
        length: LengthModifier::None,
        conversion: Conversion::Percent,
    };
    let mut references = ArgumentReferences {
        width: None,
        precision: None,
        value: ArgumentReference::Next,
    };
    let mut position = 0;
    let peek = |position: usize| text.get(position).copied().unwrap_or(0);

    // `N$` (POSIX, N ≥ 1): the value is argument N. "%0$" is not one; glibc then reads
    // the 0 as a flag.
    if let Some((argument, after)) = read_position(text, position) {
        references.value = ArgumentReference::Position(argument);
        position = after;
    }

    loop {
        match peek(position) {
            b'-' => {
                specification.left_justify = true;
                specification.zero_pad = false;
            }
            b'+' => specification.force_sign = true,
            b' ' => specification.space_for_sign = true,
            b'#' => specification.alternate_form = true,
            b'0' => specification.zero_pad = !specification.left_justify,
            b'\'' => specification.grouping = true,
            b'I' => specification.locale_digits = true,
            _ => break,
        }
        position += 1;
    }

    if peek(position) == b'*' {
        position += 1;
        let (reference, after) = read_reference(text, position);
        references.width = Some(reference);
        position = after;
    } else if let Some((width, after_digits)) = read_decimal(text, position) {
        let Some(width) = width.filter(|&width| width <= MAXIMUM_FIELD) else {
            return ParseOutcome::Overflow;
        };
        specification.width = width;
        position = after_digits;
    }

    if peek(position) == b'.' {
        position += 1;
        if peek(position) == b'*' {
            position += 1;
            let (reference, after) = read_reference(text, position);
            references.precision = Some(reference);
            position = after;
        } else if let Some((precision, after_digits)) = read_decimal(text, position) {
            let Some(precision) = precision.filter(|&precision| precision <= MAXIMUM_FIELD) else {
                return ParseOutcome::Overflow;
            };
            specification.precision = Some(precision);
            position = after_digits;
        } else {
            // C99 7.19.6.1p4: "if only the period is specified, the precision is taken as zero".
            specification.precision = Some(0);
        }
    }

    let (length, modifier_bytes) = match (peek(position), peek(position + 1)) {
        (b'h', b'h') => (LengthModifier::Char, 2),
        (b'h', _) => (LengthModifier::Short, 1),
        (b'l', b'l') => (LengthModifier::LongLong, 2),
        (b'l', _) => (LengthModifier::Long, 1),
        (b'q', _) => (LengthModifier::LongLong, 1),
        (b'L', _) => (LengthModifier::LongDouble, 1),
        (b'z' | b'Z', _) => (LengthModifier::Size, 1),
        (b'j', _) => (LengthModifier::IntMax, 1),
        (b't', _) => (LengthModifier::PointerDifference, 1),
        _ => (LengthModifier::None, 0),
    };
    specification.length = length;
    position += modifier_bytes;

    let conversion_byte = peek(position);
    specification.conversion = match conversion_byte {
        0 => return ParseOutcome::Incomplete,
        b'%' => Conversion::Percent,
        b'd' | b'i' => Conversion::SignedDecimal,
        b'u' => Conversion::Unsigned {
            base: 10,
            uppercase: false,
        },
        b'o' => Conversion::Unsigned {
            base: 8,
            uppercase: false,
        },
        b'x' => Conversion::Unsigned {
            base: 16,
            uppercase: false,
        },
        b'X' => Conversion::Unsigned {
            base: 16,
            uppercase: true,
        },
        b'b' => Conversion::Unsigned {
            base: 2,
            uppercase: false,
        },
        b'B' => Conversion::Unsigned {
            base: 2,
            uppercase: true,
        },
        b'p' => Conversion::Pointer,
        b'c' => Conversion::Character,
        b'C' => {
            specification.length = LengthModifier::Long;
            Conversion::Character
        }
        b's' if specification.length == LengthModifier::Long => Conversion::WideString,
        b's' => Conversion::String,
        b'S' => Conversion::WideString,
        b'n' => Conversion::Count,
        b'f' => float(FloatStyle::Fixed, false),
        b'F' => float(FloatStyle::Fixed, true),
        b'e' => float(FloatStyle::Exponent, false),
        b'E' => float(FloatStyle::Exponent, true),
        b'g' => float(FloatStyle::General, false),
        b'G' => float(FloatStyle::General, true),
        b'a' => Conversion::HexFloat { uppercase: false },
        b'A' => Conversion::HexFloat { uppercase: true },
        b'm' => Conversion::ErrorMessage,
        other => Conversion::Unknown(other),
    };
    ParseOutcome::Complete {
        specification,
        references,
        length: position + 1,
    }
}

/// Applies a `*` width argument. C99 7.19.6.1p5: "A negative field width argument is
/// taken as a - flag followed by a positive field width." (glibc keeps its record of
/// the `0` flag here, which shows only in the echo of an unknown conversion; `-` still
/// wins when padding.) Returns false when the width does not fit an `int` (INT_MIN).
pub(super) fn apply_width_argument(specification: &mut Specification, raw: u64) -> bool {
    // The argument is an `int`: the low 32 bits.
    let width = raw as u32 as i32;
    if width < 0 {
        specification.left_justify = true;
    }
    match usize::try_from(width.unsigned_abs()) {
        Ok(width) if width <= MAXIMUM_FIELD => {
            specification.width = width;
            true
        }
        _ => false,
    }
}

/// Applies a `*` precision argument: "A negative precision argument is taken as if the
/// precision were omitted."
pub(super) fn apply_precision_argument(specification: &mut Specification, raw: u64) {
    specification.precision = usize::try_from(raw as u32 as i32).ok();
}

/// Where the argument of a `*` (just read) comes from: `N$` at `position` names one,
/// otherwise it is the next; with the position after what was read.
fn read_reference(text: &[u8], position: usize) -> (ArgumentReference, usize) {
    match read_position(text, position) {
        Some((argument, after)) => (ArgumentReference::Position(argument), after),
        None => (ArgumentReference::Next, position),
    }
}

/// Reads `N$` with N ≥ 1 at `position`: (N, position after the `$`).
fn read_position(text: &[u8], position: usize) -> Option<(usize, usize)> {
    let (number, after_digits) = read_decimal(text, position)?;
    if text.get(after_digits) != Some(&b'$') {
        return None;
    }
    // An overflowing number is kept as an impossible position (rejected by the caller).
    let number = number.unwrap_or(usize::MAX);
    (number >= 1).then_some((number, after_digits + 1))
}

fn float(style: FloatStyle, uppercase: bool) -> Conversion {
    Conversion::DecimalFloat { style, uppercase }
}

/// Reads the decimal digits at `position`: `None` when there are none, otherwise the
/// value (`None` when it does not fit a `usize`) and the position after the digits.
fn read_decimal(text: &[u8], position: usize) -> Option<(Option<usize>, usize)> {
    let digits = text
        .get(position..)?
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let value = text[position..position + digits]
        .iter()
        .try_fold(0usize, |value, &digit| {
            value
                .checked_mul(10)?
                .checked_add(usize::from(digit - b'0'))
        });
    Some((value, position + digits))
}

/// Echoes an unknown conversion the way glibc's `printf_unknown` does: `%`, the flags
/// in glibc's order, the width and precision (after `*` arguments were applied), and
/// the specifier; the length modifier is dropped. `%%` with flags or width prints `%`.
pub(super) fn write_unknown(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    conversion_byte: u8,
) {
    let mut buffer = [0u8; 48];
    let mut length = 0;
    let mut push = |byte: u8| {
        buffer[length] = byte;
        length += 1;
    };
    push(b'%');
    if specification.alternate_form {
        push(b'#');
    }
    if specification.grouping {
        push(b'\'');
    }
    if specification.force_sign {
        push(b'+');
    } else if specification.space_for_sign {
        push(b' ');
    }
    if specification.left_justify {
        push(b'-');
    }
    if specification.zero_pad {
        push(b'0');
    }
    if specification.locale_digits {
        push(b'I');
    }
    let mut number = [0u8; 20];
    if specification.width != 0 {
        for &digit in decimal_digits(specification.width, &mut number) {
            push(digit);
        }
    }
    if let Some(precision) = specification.precision {
        push(b'.');
        for &digit in decimal_digits(precision, &mut number) {
            push(digit);
        }
    }
    push(conversion_byte);
    out.write(&buffer[..length]);
}

/// The decimal digits of `value`, written at the end of `buffer`.
pub(super) fn decimal_digits(mut value: usize, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buffer[start..]
}
