//! Number parsing for `strtol` & co. and `strtod` & co.: pure, safe Rust over byte slices.
//! (Interface skeleton; the parsers are being written.)

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
    /// `int` via `atoi`-style callers that want 32-bit saturation
    Signed32,
}

/// Parses like `strtol`/`strtoul`/`strtoll`/`strtoull`: leading white space, sign,
/// `0x`/`0` prefixes per `base` (0, or 2..=36).
pub fn parse_integer(_text: &[u8], _base: u32, _kind: IntegerKind) -> ParsedInteger {
    ParsedInteger { value: 0, consumed: 0, out_of_range: false, invalid_base: false }
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
pub fn parse_double(_text: &[u8]) -> ParsedFloat {
    ParsedFloat { value: 0.0, consumed: 0, out_of_range: false }
}

/// Parses like `strtof`: correctly rounded to `f32` directly (not via f64).
pub fn parse_float(_text: &[u8]) -> (f32, usize, bool) {
    (0.0, 0, false)
}
