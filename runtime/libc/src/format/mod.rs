//! The printf engine: C99 `printf` format strings rendered into a byte sink.
//! Pure, safe Rust; the varargs come through [`Arguments`], implemented over a C
//! `va_list` by the stdio module (and over a vector in the host tests).
//!
//! The output is byte-for-byte what glibc prints in the C locale (C99 7.19.6.1 plus the
//! glibc behaviours C leaves open: `(nil)`, `(null)`, `-nan`, unknown conversions echoed).
//! Nothing here allocates: every conversion is rendered into small stack buffers and
//! written to the sink piecewise, so the same code runs in the `#![no_std]` runtime.
//!
//! Layout: `specification` parses one conversion specification, `positional` serves
//! POSIX numbered arguments (`%2$s`), `integer` renders `d i u o x X b B p`,
//! `decimal_float` renders `f F e E g G`, `hex_float` renders `a A`, and `output`
//! holds the padding and counting helpers they share.
//!
//! Known differences from glibc: `long double` arguments arrive as the nearest `f64`
//! ([`Arguments::long_double`]), so `%Lf` prints that value's digits and `%La` uses the
//! binary64 layout (`0x1p+0`) where glibc on x86_64 prints the 80-bit one (`0x8p-3`).
//! Formats that mix numbered and unnumbered conversions (undefined in POSIX) are
//! refused. Locale-dependent output is the C locale's.

#![deny(unsafe_code)]

mod decimal_float;
mod hex_float;
mod integer;
mod output;
mod positional;
mod specification;

#[cfg(test)]
mod tests;

use output::{CountingSink, Piece, write_padded};
use positional::NumberedArguments;
use specification::{ArgumentReference, Conversion, LengthModifier, ParseOutcome, Specification};

/// Where formatted bytes go. Implementations count, truncate or buffer as they need.
pub trait Sink {
    fn write(&mut self, bytes: &[u8]);
}

/// The size of an integer argument, from the length modifier (`hh h l ll z j t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerSize {
    /// `int` (no modifier), also `hh` and `h` (promoted to int in varargs).
    Int,
    /// `long` (`l`), `long long` (`ll`), `size_t` (`z`), `intmax_t` (`j`), `ptrdiff_t` (`t`):
    /// all 64-bit on LP64.
    Long,
}

/// The next variadic argument, as the conversion asks for it.
pub trait Arguments {
    /// Fetches an integer argument of this size, sign- or zero-extended to 64 bits as the
    /// engine will reinterpret it (the engine truncates for `hh`/`h`).
    fn integer(&mut self, size: IntegerSize) -> u64;
    /// Fetches a `double` argument (`%f %e %g %a` without `L`).
    fn double(&mut self) -> f64;
    /// Fetches a `long double` argument (`L` modifier), converted to the nearest `f64`.
    fn long_double(&mut self) -> f64;
    /// Fetches a pointer argument (`%p`, `%s`, `%n`) as an address.
    fn pointer(&mut self) -> usize;
    /// Reads the NUL-terminated string at `address` (for `%s`), at most `limit` bytes when
    /// a precision is given. Returns the bytes without the NUL.
    fn string(&mut self, address: usize, limit: Option<usize>) -> &[u8];
    /// Stores `count` through the `%n` pointer at `address`, as the given C type width in bytes.
    fn store_count(&mut self, address: usize, width_bytes: usize, count: i64);
    /// The text of the current `errno` (`strerror(errno)`), for glibc's `%m` extension.
    /// `None` (the default) means the caller cannot provide it; the engine then echoes
    /// `%m` like any conversion it does not know.
    fn error_message(&mut self) -> Option<&[u8]> {
        None
    }
    /// Reads the `index`-th `wchar_t` (32-bit on LP64 Linux) of the wide string at
    /// `address`, for `%ls`; the engine stops at the first 0 and never reads past the
    /// precision. `None` (the default) means the caller cannot read wide strings, and
    /// `%ls` fails with [`FormatError::Unsupported`].
    fn wide_character(&mut self, _address: usize, _index: usize) -> Option<u32> {
        None
    }
    /// Rewinds to the first variadic argument (a `va_copy` of the original `va_list`), for
    /// POSIX numbered arguments (`%2$s %1$d`). Returns false (the default) when the caller
    /// cannot; formats with numbered arguments then fail with
    /// [`FormatError::Unsupported`].
    fn restart(&mut self) -> bool {
        false
    }
}

/// Why a format could not be rendered completely. glibc's `printf` returns -1 in these
/// cases with the `errno` given for each variant; the bytes before the failing conversion
/// have already been written to the sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The format ends inside a conversion specification (`"abc%"`, `"%l"`): `EINVAL`.
    IncompleteSpecification { written: usize },
    /// A width or precision does not fit in an `int`: `EOVERFLOW`.
    WidthOrPrecisionOverflow { written: usize },
    /// `%lc` or `%ls` of a character that has no encoding in the C locale (above 0x7f):
    /// `EILSEQ`.
    UnencodableWideCharacter { written: usize },
    /// Numbered arguments (`%1$d`) when [`Arguments::restart`] is not provided, mixed with
    /// unnumbered ones (undefined in POSIX) or numbered beyond 256; or `%ls` when
    /// [`Arguments::wide_character`] is not provided. The caller should report `EINVAL`.
    Unsupported { written: usize },
}

impl FormatError {
    /// The bytes written to the sink before the failure.
    pub fn written(self) -> usize {
        match self {
            FormatError::IncompleteSpecification { written }
            | FormatError::WidthOrPrecisionOverflow { written }
            | FormatError::UnencodableWideCharacter { written }
            | FormatError::Unsupported { written } => written,
        }
    }
}

/// Renders `format` with `arguments` into `out`; returns the number of bytes produced.
///
/// On a format glibc would reject (see [`FormatError`]) this stops at the failing
/// conversion and returns the bytes produced until then; use [`try_format`] to learn
/// about the failure (printf must then return -1).
pub fn format(out: &mut dyn Sink, format: &[u8], arguments: &mut dyn Arguments) -> usize {
    match try_format(out, format, arguments) {
        Ok(written) => written,
        Err(error) => error.written(),
    }
}

/// Renders `format` with `arguments` into `out`, reporting formats glibc rejects.
pub fn try_format(
    out: &mut dyn Sink,
    format: &[u8],
    arguments: &mut dyn Arguments,
) -> Result<usize, FormatError> {
    let mut out = CountingSink::new(out);
    let mut source = match positional::scan(format) {
        positional::Usage::Sequential => ArgumentSource::Sequential(arguments),
        positional::Usage::Numbered(types) => {
            if !arguments.restart() {
                return Err(FormatError::Unsupported { written: 0 });
            }
            ArgumentSource::Numbered(NumberedArguments::new(arguments, types))
        }
        positional::Usage::Unsupported => return Err(FormatError::Unsupported { written: 0 }),
    };
    let mut rest = format;
    loop {
        // A C format string ends at its NUL; callers pass the bytes before it, but a
        // slice that still carries one must not print past it.
        let literal_end = rest.iter().position(|&byte| byte == b'%' || byte == 0);
        let Some(percent) = literal_end else {
            out.write(rest);
            return Ok(out.count());
        };
        out.write(&rest[..percent]);
        if rest[percent] == 0 {
            return Ok(out.count());
        }
        let after_percent = &rest[percent + 1..];
        let (mut specification, references, length) = match specification::parse(after_percent) {
            ParseOutcome::Complete {
                specification,
                references,
                length,
            } => (specification, references, length),
            // glibc's numbered-argument path copies an unfinished trailing specification
            // as text; its ordinary path fails the call.
            ParseOutcome::Incomplete if matches!(source, ArgumentSource::Numbered(_)) => {
                let unfinished = &rest[percent..];
                let end = unfinished.iter().position(|&byte| byte == 0);
                out.write(&unfinished[..end.unwrap_or(unfinished.len())]);
                return Ok(out.count());
            }
            ParseOutcome::Incomplete => {
                return Err(FormatError::IncompleteSpecification {
                    written: out.count(),
                });
            }
            ParseOutcome::Overflow => {
                return Err(FormatError::WidthOrPrecisionOverflow {
                    written: out.count(),
                });
            }
        };
        // `*` arguments come before the value (C99 7.19.6.1p5).
        if let Some(reference) = references.width {
            let raw = source.select(reference).integer(IntegerSize::Int);
            if !specification::apply_width_argument(&mut specification, raw) {
                return Err(FormatError::WidthOrPrecisionOverflow {
                    written: out.count(),
                });
            }
        }
        if let Some(reference) = references.precision {
            let raw = source.select(reference).integer(IntegerSize::Int);
            specification::apply_precision_argument(&mut specification, raw);
        }
        convert(&mut out, &specification, source.select(references.value))?;
        rest = &after_percent[length..];
    }
}

/// Where arguments are read from: in order, or by number.
// The numbered variant carries its 257-byte type table on the stack for one call;
// there is no allocator to box it.
#[allow(clippy::large_enum_variant)]
enum ArgumentSource<'a> {
    Sequential(&'a mut dyn Arguments),
    Numbered(NumberedArguments<'a>),
}

impl ArgumentSource<'_> {
    /// The arguments, positioned for reading what `reference` designates. `scan` has
    /// ensured that a format's references are all of the source's kind.
    fn select(&mut self, reference: ArgumentReference) -> &mut dyn Arguments {
        match self {
            ArgumentSource::Sequential(arguments) => &mut **arguments,
            ArgumentSource::Numbered(numbered) => {
                if let ArgumentReference::Position(position) = reference {
                    numbered.select(position);
                }
                numbered
            }
        }
    }
}

/// Performs one conversion.
fn convert(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    arguments: &mut dyn Arguments,
) -> Result<(), FormatError> {
    match specification.conversion {
        Conversion::Percent => out.write(b"%"),
        Conversion::SignedDecimal => {
            let value = fetch_signed(specification.length, arguments);
            integer::write_signed(out, specification, value);
        }
        Conversion::Unsigned { base, uppercase } => {
            let value = fetch_unsigned(specification.length, arguments);
            integer::write_unsigned(out, specification, value, base, uppercase);
        }
        Conversion::Pointer => {
            let address = arguments.pointer();
            if address == 0 {
                // glibc prints "(nil)" as a string whose precision is at least 5, so a
                // smaller precision never cuts it.
                write_padded(out, specification, &[Piece::Bytes(b"(nil)")]);
            } else {
                integer::write_pointer(out, specification, address as u64);
            }
        }
        Conversion::Character => {
            let character = if specification.length == LengthModifier::Long {
                // `%lc`: a wint_t, converted to a multibyte character as wcrtomb does in
                // the C locale, where only ASCII has an encoding.
                let wide = arguments.integer(IntegerSize::Int) as u32;
                u8::try_from(wide).ok().filter(u8::is_ascii).ok_or(
                    FormatError::UnencodableWideCharacter {
                        written: out.count(),
                    },
                )?
            } else {
                // C99 7.19.6.1p8: the int argument is converted to unsigned char.
                arguments.integer(IntegerSize::Int) as u8
            };
            write_padded(out, specification, &[Piece::Bytes(&[character])]);
        }
        conversion @ (Conversion::String | Conversion::WideString) => {
            let address = arguments.pointer();
            if address == 0 {
                write_padded(
                    out,
                    specification,
                    &[Piece::Bytes(null_string_text(specification))],
                );
            } else if conversion == Conversion::WideString {
                write_wide_string(out, specification, address, arguments)?;
            } else {
                let text = arguments.string(address, specification.precision);
                let text = match specification.precision {
                    Some(precision) if precision < text.len() => &text[..precision],
                    _ => text,
                };
                write_padded(out, specification, &[Piece::Bytes(text)]);
            }
        }
        Conversion::Count => {
            let address = arguments.pointer();
            let width_bytes = match specification.length {
                LengthModifier::Char => 1,
                LengthModifier::Short => 2,
                LengthModifier::None => 4,
                _ => 8,
            };
            let count = i64::try_from(out.count()).unwrap_or(i64::MAX);
            arguments.store_count(address, width_bytes, count);
        }
        Conversion::DecimalFloat { style, uppercase } => {
            let value = fetch_float(specification.length, arguments);
            decimal_float::write(out, specification, value, style, uppercase);
        }
        Conversion::HexFloat { uppercase } => {
            let value = fetch_float(specification.length, arguments);
            hex_float::write(out, specification, value, uppercase);
        }
        Conversion::ErrorMessage => match arguments.error_message() {
            Some(message) => write_padded(out, specification, &[Piece::Bytes(message)]),
            None => specification::write_unknown(out, specification, b'm'),
        },
        Conversion::Unknown(byte) => specification::write_unknown(out, specification, byte),
    }
    Ok(())
}

/// glibc writes "(null)" for a null `%s` (and `%ls`) when the precision leaves room for
/// all of it, and nothing otherwise.
fn null_string_text(specification: &Specification) -> &'static [u8] {
    match specification.precision {
        Some(precision) if precision < 6 => b"",
        _ => b"(null)",
    }
}

/// `%ls` (C99 7.19.6.1p8): the wide characters are converted as by `wcrtomb`, and the
/// precision limits the bytes written. In the C locale only ASCII has an encoding (one
/// byte each); glibc fails the whole call on any other character it must convert.
fn write_wide_string(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    address: usize,
    arguments: &mut dyn Arguments,
) -> Result<(), FormatError> {
    let limit = specification.precision.unwrap_or(usize::MAX);
    // First pass: validate and measure, so the field can be padded before the text.
    let mut length = 0;
    while length < limit {
        match arguments.wide_character(address, length) {
            None => {
                return Err(FormatError::Unsupported {
                    written: out.count(),
                });
            }
            Some(0) => break,
            Some(character) if character < 0x80 => length += 1,
            Some(_) => {
                return Err(FormatError::UnencodableWideCharacter {
                    written: out.count(),
                });
            }
        }
    }
    let padding = specification.width.saturating_sub(length);
    if !specification.left_justify {
        out.write_repeated(b' ', padding);
    }
    let mut chunk = [0u8; 64];
    let mut start = 0;
    while start < length {
        let chunk_length = (length - start).min(chunk.len());
        for (offset, byte) in chunk[..chunk_length].iter_mut().enumerate() {
            // Validated ASCII above; the callback is asked for the same indices again.
            let character = arguments
                .wide_character(address, start + offset)
                .unwrap_or(0);
            *byte = u8::try_from(character).unwrap_or(b'?');
        }
        out.write(&chunk[..chunk_length]);
        start += chunk_length;
    }
    if specification.left_justify {
        out.write_repeated(b' ', padding);
    }
    Ok(())
}

/// Fetches a signed integer argument and narrows it to the modifier's C type.
fn fetch_signed(length: LengthModifier, arguments: &mut dyn Arguments) -> i64 {
    let raw = arguments.integer(integer_size(length));
    // The truncating casts are the C conversions to the narrower type (C99 6.3.1.3).
    match length {
        LengthModifier::Char => i64::from(raw as i8),
        LengthModifier::Short => i64::from(raw as i16),
        LengthModifier::None => i64::from(raw as i32),
        _ => raw as i64,
    }
}

/// Fetches an unsigned integer argument and narrows it to the modifier's C type.
fn fetch_unsigned(length: LengthModifier, arguments: &mut dyn Arguments) -> u64 {
    let raw = arguments.integer(integer_size(length));
    match length {
        LengthModifier::Char => u64::from(raw as u8),
        LengthModifier::Short => u64::from(raw as u16),
        LengthModifier::None => u64::from(raw as u32),
        _ => raw,
    }
}

fn integer_size(length: LengthModifier) -> IntegerSize {
    match length {
        LengthModifier::None | LengthModifier::Char | LengthModifier::Short => IntegerSize::Int,
        _ => IntegerSize::Long,
    }
}

/// glibc reads a `long double` for `L`, and also for `ll` and `q`, which share its flag.
fn fetch_float(length: LengthModifier, arguments: &mut dyn Arguments) -> f64 {
    match length {
        LengthModifier::LongLong | LengthModifier::LongDouble => arguments.long_double(),
        _ => arguments.double(),
    }
}
