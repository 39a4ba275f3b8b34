//! The scanf engine (C11 7.21.6.2): safe Rust over an [`Input`] of bytes with one byte
//! of look-ahead, storing each converted value through a [`Store`]. The C entry points
//! (`sscanf`, `fscanf`, `scanf` and their `v` forms) are in `c/scanf.c`; the back ends
//! that fetch the destination pointers from the `va_list` are in `exports`.
//!
//! Numbers are converted as glibc does: the longest prefix of the input that can start
//! a number of the conversion's syntax is read (at most the field width), then
//! converted with the `strto*` parsers (`crate::numparse`).

extern crate alloc;

use alloc::vec::Vec;

use crate::numparse::{self, IntegerKind};

/// Bytes to scan, with one byte of look-ahead.
pub trait Input {
    /// The next byte, without consuming it; None at end of input.
    fn peek(&mut self) -> Option<u8>;
    /// Consumes the byte `peek` returned.
    fn advance(&mut self);
}

/// A string as input (`sscanf`).
pub struct Bytes<'a> {
    pub bytes: &'a [u8],
    pub position: usize,
}

impl Input for Bytes<'_> {
    fn peek(&mut self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }
    fn advance(&mut self) {
        self.position += 1;
    }
}

/// The integer sizes of the length modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// hh
    Char,
    /// h
    Short,
    Int,
    /// l, ll, j, z, t, q (all 64-bit on LP64)
    Long,
}

/// The floating types: `float`, `double` (l), `long double` (L).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatSize {
    Float,
    Double,
    LongDouble,
}

/// One converted value for the destination the next argument points to.
#[derive(Debug, PartialEq)]
pub enum Value<'a> {
    Integer(u64, Size),
    Float(f64, f32, FloatSize),
    /// Characters (%c: no NUL) or a string (%s, %[: NUL added).
    Text(&'a [u8], bool),
    Pointer(u64),
}

/// Where converted values go (the C layer's pointers; a recorder in tests).
pub trait Store {
    fn store(&mut self, value: Value<'_>);
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The scanner's position in the input.
struct Reader<'a> {
    input: &'a mut dyn Input,
    consumed: usize,
}

impl Reader<'_> {
    fn peek(&mut self) -> Option<u8> {
        self.input.peek()
    }
    fn take(&mut self) -> Option<u8> {
        let byte = self.input.peek()?;
        self.input.advance();
        self.consumed += 1;
        Some(byte)
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.take();
        }
    }
}

/// Collects at most `width` bytes while `accept(collected so far, next)` says so.
fn collect(
    reader: &mut Reader<'_>,
    width: usize,
    mut accept: impl FnMut(&[u8], u8) -> bool,
) -> Vec<u8> {
    let mut text = Vec::new();
    while text.len() < width {
        match reader.peek() {
            Some(byte) if accept(&text, byte) => {
                text.push(byte);
                reader.take();
            }
            _ => break,
        }
    }
    text
}

/// Is `candidate` the start of an integer in `base` (0: C's prefixes decide)?
fn is_integer_prefix(candidate: &[u8], base: u32) -> bool {
    let rest = match candidate.split_first() {
        Some((b'+' | b'-', tail)) => tail,
        _ => candidate,
    };
    let hexadecimal_prefix = rest.len() >= 2 && rest[0] == b'0' && matches!(rest[1], b'x' | b'X');
    let (digits, base) = match base {
        0 | 16 if hexadecimal_prefix => (&rest[2..], 16),
        0 if rest.first() == Some(&b'0') => (&rest[1..], 8),
        0 => (rest, 10),
        base => (rest, base),
    };
    digits.iter().all(|&byte| (byte as char).is_digit(base))
}

/// Is `candidate` the start of a `strtod` number (decimal or hexadecimal, with an
/// exponent; inf, infinity, nan, nan(chars))?
fn is_float_prefix(candidate: &[u8]) -> bool {
    let rest = match candidate.split_first() {
        Some((b'+' | b'-', tail)) => tail,
        _ => candidate,
    };
    let lower: Vec<u8> = rest.iter().map(u8::to_ascii_lowercase).collect();
    if b"infinity".starts_with(&lower) || b"nan".starts_with(&lower) {
        return true;
    }
    if let Some(inner) = lower.strip_prefix(b"nan(") {
        let name = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_';
        return match inner.iter().position(|&byte| byte == b')') {
            Some(at) => at + 1 == inner.len() && inner[..at].iter().all(name),
            None => inner.iter().all(name),
        };
    }
    let hexadecimal = lower.starts_with(b"0x");
    let (digits, exponent_letter) = if hexadecimal {
        (&lower[2..], b'p')
    } else {
        (&lower[..], b'e')
    };
    let mut seen_digit = hexadecimal;
    let mut seen_point = false;
    for (index, &byte) in digits.iter().enumerate() {
        if (hexadecimal && byte.is_ascii_hexdigit()) || byte.is_ascii_digit() {
            seen_digit = true;
        } else if byte == b'.' && !seen_point {
            seen_point = true;
        } else if byte == exponent_letter && seen_digit {
            let exponent = &digits[index + 1..];
            let exponent = match exponent.split_first() {
                Some((b'+' | b'-', tail)) => tail,
                _ => exponent,
            };
            return exponent.iter().all(u8::is_ascii_digit);
        } else {
            return false;
        }
    }
    true
}

/// Whether `text + byte` keeps the prefix property `accept` checks.
fn extends(text: &[u8], byte: u8, accept: impl Fn(&[u8]) -> bool) -> bool {
    let mut candidate = Vec::with_capacity(text.len() + 1);
    candidate.extend_from_slice(text);
    candidate.push(byte);
    accept(&candidate)
}

/// A parsed `%[...]` set: which bytes it accepts.
fn parse_set(format: &[u8], mut index: usize) -> Option<([bool; 256], usize)> {
    let mut set = [false; 256];
    let negate = format.get(index) == Some(&b'^');
    if negate {
        index += 1;
    }
    let start = index;
    loop {
        let byte = *format.get(index)?;
        if byte == b']' && index > start {
            break;
        }
        // A range a-z (glibc); '-' first or last is literal.
        if format.get(index + 1) == Some(&b'-')
            && let Some(&end) = format.get(index + 2)
            && end != b']'
        {
            for member in byte.min(end)..=byte.max(end) {
                set[member as usize] = true;
            }
            index += 3;
            continue;
        }
        set[byte as usize] = true;
        index += 1;
    }
    if negate {
        for member in set.iter_mut() {
            *member = !*member;
        }
    }
    Some((set, index + 1))
}

/// Scans `input` per `format`, storing through `store`. Returns the number of
/// assigned conversions, or -1 (EOF) when the input ended before the first
/// conversion (C11 7.21.6.2p16).
pub fn scan(format: &[u8], input: &mut dyn Input, store: &mut dyn Store) -> i32 {
    let mut reader = Reader { input, consumed: 0 };
    let mut assigned = 0;
    let mut converted_any = false;
    let mut index = 0;
    let input_failure =
        |converted_any: bool, assigned: i32| if converted_any { assigned } else { -1 };
    while index < format.len() {
        let byte = format[index];
        if is_space(byte) {
            reader.skip_space();
            index += 1;
            continue;
        }
        if byte != b'%' {
            match reader.peek() {
                Some(next) if next == byte => {
                    reader.take();
                    index += 1;
                    continue;
                }
                Some(_) => return assigned,
                None => return input_failure(converted_any, assigned),
            }
        }
        index += 1;
        let suppress = format.get(index) == Some(&b'*');
        if suppress {
            index += 1;
        }
        let mut width = 0usize;
        while let Some(digit) = format.get(index).filter(|byte| byte.is_ascii_digit()) {
            width = width
                .saturating_mul(10)
                .saturating_add(usize::from(digit - b'0'));
            index += 1;
        }
        let mut size = Size::Int;
        let mut float_size = FloatSize::Float;
        loop {
            match format.get(index) {
                Some(b'h') if size == Size::Short => size = Size::Char,
                Some(b'h') => size = Size::Short,
                Some(b'l') => {
                    size = Size::Long;
                    float_size = FloatSize::Double;
                }
                Some(b'j' | b'z' | b't' | b'q') => size = Size::Long,
                Some(b'L') => {
                    size = Size::Long;
                    float_size = FloatSize::LongDouble;
                }
                _ => break,
            }
            index += 1;
        }
        let Some(&conversion) = format.get(index) else {
            return assigned;
        };
        index += 1;
        if !matches!(conversion, b'c' | b'[' | b'n') {
            reader.skip_space();
        }
        let field = if width == 0 { usize::MAX } else { width };
        match conversion {
            b'%' => match reader.peek() {
                Some(b'%') => {
                    reader.take();
                }
                Some(_) => return assigned,
                None => return input_failure(converted_any, assigned),
            },
            b'n' => {
                if !suppress {
                    store.store(Value::Integer(reader.consumed as u64, size));
                }
            }
            b'd' | b'i' | b'u' | b'o' | b'x' | b'X' | b'p' => {
                let base = match conversion {
                    b'd' | b'u' => 10,
                    b'i' => 0,
                    b'o' => 8,
                    _ => 16,
                };
                if reader.peek().is_none() {
                    return input_failure(converted_any, assigned);
                }
                let text = collect(&mut reader, field, |text, byte| {
                    extends(text, byte, |candidate| is_integer_prefix(candidate, base))
                });
                let kind = if conversion == b'd' || conversion == b'i' {
                    IntegerKind::Signed64
                } else {
                    IntegerKind::Unsigned64
                };
                let parsed = numparse::parse_integer(&text, base, kind);
                if parsed.consumed == 0 {
                    return assigned;
                }
                converted_any = true;
                if !suppress {
                    if conversion == b'p' {
                        store.store(Value::Pointer(parsed.value));
                    } else {
                        store.store(Value::Integer(parsed.value, size));
                    }
                    assigned += 1;
                }
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' => {
                if reader.peek().is_none() {
                    return input_failure(converted_any, assigned);
                }
                let text = collect(&mut reader, field, |text, byte| {
                    extends(text, byte, is_float_prefix)
                });
                let parsed = numparse::parse_double(&text);
                if parsed.consumed == 0 {
                    return assigned;
                }
                converted_any = true;
                if !suppress {
                    let single = numparse::parse_float(&text).0;
                    store.store(Value::Float(parsed.value, single, float_size));
                    assigned += 1;
                }
            }
            b's' => {
                if reader.peek().is_none() {
                    return input_failure(converted_any, assigned);
                }
                let text = collect(&mut reader, field, |_, byte| !is_space(byte));
                converted_any = true;
                if !suppress {
                    store.store(Value::Text(&text, true));
                    assigned += 1;
                }
            }
            b'c' => {
                let count = if width == 0 { 1 } else { width };
                let text = collect(&mut reader, count, |_, _| true);
                if text.is_empty() {
                    return input_failure(converted_any, assigned);
                }
                converted_any = true;
                // Input that ends inside the field still assigns what was read (glibc).
                if !suppress {
                    store.store(Value::Text(&text, false));
                    assigned += 1;
                }
            }
            b'[' => {
                let Some((set, next)) = parse_set(format, index) else {
                    return assigned;
                };
                index = next;
                if reader.peek().is_none() {
                    return input_failure(converted_any, assigned);
                }
                let text = collect(&mut reader, field, |_, byte| set[byte as usize]);
                if text.is_empty() {
                    return assigned;
                }
                converted_any = true;
                if !suppress {
                    store.store(Value::Text(&text, true));
                    assigned += 1;
                }
            }
            // An unknown conversion: a matching failure, as glibc treats it.
            _ => return assigned,
        }
    }
    assigned
}

#[cfg(not(test))]
mod exports;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Store for Recorder {
        fn store(&mut self, value: Value<'_>) {
            self.0.push(match value {
                Value::Integer(value, size) => format!("{size:?} {}", value as i64),
                Value::Float(value, single, FloatSize::Float) => {
                    format!("float {single} ({value})")
                }
                Value::Float(value, _, size) => format!("{size:?} {value}"),
                Value::Text(bytes, terminated) => format!(
                    "{}{}",
                    String::from_utf8_lossy(bytes),
                    if terminated { "\\0" } else { "" }
                ),
                Value::Pointer(value) => format!("pointer {value:#x}"),
            });
        }
    }

    fn scanned(format: &str, input: &str) -> (i32, Vec<String>, usize) {
        let mut bytes = Bytes {
            bytes: input.as_bytes(),
            position: 0,
        };
        let mut recorder = Recorder::default();
        let count = scan(format.as_bytes(), &mut bytes, &mut recorder);
        (count, recorder.0, bytes.position)
    }

    #[test]
    fn integers_with_bases_widths_and_sizes() {
        assert_eq!(
            scanned("%d %i %i %i", "-12 0x1f 017 +9"),
            (
                4,
                vec![
                    "Int -12".into(),
                    "Int 31".into(),
                    "Int 15".into(),
                    "Int 9".into()
                ],
                15
            )
        );
        assert_eq!(
            scanned("%3d%d", "12345"),
            (2, vec!["Int 123".into(), "Int 45".into()], 5)
        );
        assert_eq!(
            scanned("%hhx %lo %zu", "ff 777 18446744073709551615").1,
            ["Char 255", "Long 511", "Long -1"]
        );
        assert_eq!(scanned("%x", "0xg").0, 1);
        assert_eq!(scanned("%d", "abc"), (0, vec![], 0));
        assert_eq!(scanned("%d", "   "), (-1, vec![], 3));
        assert_eq!(scanned("%*d %d%n", "1 2").1, ["Int 2", "Int 3"]);
    }

    #[test]
    fn floats_strings_characters_and_sets() {
        assert_eq!(
            scanned("%f %lf %Lg", "1.5 -2e3 0x1p4").1,
            ["float 1.5 (1.5)", "Double -2000", "LongDouble 16"]
        );
        assert_eq!(scanned("%lf%lf", "inf nan").1, ["Double inf", "Double NaN"]);
        assert_eq!(scanned("%4lf%s", "3.14159").1, ["Double 3.14", "159\\0"]);
        assert_eq!(
            scanned("%s %3c|%[a-c]%[^\n]", "word xyz|abcabd rest\n").1,
            ["word\\0", "xyz", "abcab\\0", "d rest\\0"]
        );
        assert_eq!(scanned("%[]x]", "]x]y").1, ["]x]\\0"]);
        assert_eq!(scanned("a%%b %d", "a%b 7").1, ["Int 7"]);
        assert_eq!(scanned("%c", ""), (-1, vec![], 0));
        assert_eq!(scanned("x%d", "y1"), (0, vec![], 0));
        assert_eq!(scanned("%d,%d", "1,"), (1, vec!["Int 1".into()], 2));
    }
}
