//! POSIX numbered arguments (`%2$s %1$d`, `%1$*2$d`): XSH `fprintf`, "Conversions can be
//! applied to the nth argument after the format in the argument list".
//!
//! A `va_list` can only be read in order, so the types of all numbered arguments are
//! collected from the whole format first (as glibc's `printf_positional` does), and
//! argument N is then read by rewinding the caller's list ([`Arguments::restart`]) and
//! stepping over arguments 1..N with their types. Formats are short, so the quadratic
//! walk costs nothing worth a table of saved values.

use super::specification::{self, ArgumentReference, Conversion, LengthModifier, ParseOutcome};
use super::{Arguments, IntegerSize};

/// The most numbered arguments one format may use. POSIX requires at least
/// `NL_ARGMAX` = 9; glibc allows more, which no real format needs.
pub(super) const MAXIMUM_POSITIONS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgumentType {
    /// Not referred to by the format; read as an `int` when stepped over, as glibc does.
    Unreferenced,
    Int,
    Long,
    Double,
    LongDouble,
    Pointer,
}

/// How a format uses its arguments.
// The type table is 257 bytes on the stack for one call; there is no allocator to box it.
#[allow(clippy::large_enum_variant)]
pub(super) enum Usage {
    /// Only unnumbered conversions (or none): read the arguments in order.
    Sequential,
    /// Only numbered conversions, with the type of each argument.
    Numbered(ArgumentTypes),
    /// Both kinds (undefined in POSIX), or a number beyond [`MAXIMUM_POSITIONS`].
    Unsupported,
}

pub(super) struct ArgumentTypes([ArgumentType; MAXIMUM_POSITIONS + 1]);

/// Scans `format` for numbered conversions. Stops at the first malformed specification;
/// the rendering reports it when it gets there.
pub(super) fn scan(format: &[u8]) -> Usage {
    // The common case costs one byte search: no `$`, no numbered argument.
    if !format.contains(&b'$') {
        return Usage::Sequential;
    }
    let mut types = ArgumentTypes([ArgumentType::Unreferenced; MAXIMUM_POSITIONS + 1]);
    let mut numbered = false;
    let mut unnumbered = false;
    let mut rest = format;
    while let Some(percent) = rest.iter().position(|&byte| byte == b'%' || byte == 0) {
        if rest[percent] == 0 {
            break;
        }
        let after_percent = &rest[percent + 1..];
        let ParseOutcome::Complete {
            specification,
            references,
            length,
        } = specification::parse(after_percent)
        else {
            break;
        };
        let value_type = value_type(specification.conversion, specification.length);
        let uses = [
            references
                .width
                .map(|reference| (reference, ArgumentType::Int)),
            references
                .precision
                .map(|reference| (reference, ArgumentType::Int)),
            value_type.map(|value_type| (references.value, value_type)),
        ];
        for (reference, argument_type) in uses.into_iter().flatten() {
            match reference {
                ArgumentReference::Next => unnumbered = true,
                ArgumentReference::Position(position) => {
                    numbered = true;
                    let Some(slot) = types.0.get_mut(position) else {
                        return Usage::Unsupported;
                    };
                    *slot = argument_type;
                }
            }
        }
        rest = &after_percent[length..];
    }
    match (numbered, unnumbered) {
        (false, _) => Usage::Sequential,
        (true, false) => Usage::Numbered(types),
        (true, true) => Usage::Unsupported,
    }
}

/// The type of the value a conversion reads, if it reads one.
fn value_type(conversion: Conversion, length: LengthModifier) -> Option<ArgumentType> {
    let integer = || match length {
        LengthModifier::None | LengthModifier::Char | LengthModifier::Short => ArgumentType::Int,
        _ => ArgumentType::Long,
    };
    Some(match conversion {
        Conversion::SignedDecimal | Conversion::Unsigned { .. } => integer(),
        // `%c` reads an int, `%lc` a wint_t (also int-sized).
        Conversion::Character => ArgumentType::Int,
        Conversion::Pointer | Conversion::String | Conversion::WideString | Conversion::Count => {
            ArgumentType::Pointer
        }
        Conversion::DecimalFloat { .. } | Conversion::HexFloat { .. } => match length {
            LengthModifier::LongLong | LengthModifier::LongDouble => ArgumentType::LongDouble,
            _ => ArgumentType::Double,
        },
        Conversion::Percent | Conversion::ErrorMessage | Conversion::Unknown(_) => return None,
    })
}

/// The caller's arguments seen through argument numbers: each read goes to the
/// argument chosen with [`NumberedArguments::select`].
pub(super) struct NumberedArguments<'a> {
    inner: &'a mut dyn Arguments,
    types: ArgumentTypes,
    selected: usize,
}

impl<'a> NumberedArguments<'a> {
    pub(super) fn new(inner: &'a mut dyn Arguments, types: ArgumentTypes) -> Self {
        NumberedArguments {
            inner,
            types,
            selected: 1,
        }
    }

    /// Chooses argument `position` (≥ 1) for the next read.
    pub(super) fn select(&mut self, position: usize) {
        self.selected = position;
    }

    /// Rewinds and steps over the arguments before the selected one.
    fn seek(&mut self) {
        self.inner.restart();
        for position in 1..self.selected {
            match self
                .types
                .0
                .get(position)
                .copied()
                .unwrap_or(ArgumentType::Unreferenced)
            {
                ArgumentType::Unreferenced | ArgumentType::Int => {
                    self.inner.integer(IntegerSize::Int);
                }
                ArgumentType::Long => {
                    self.inner.integer(IntegerSize::Long);
                }
                ArgumentType::Double => {
                    self.inner.double();
                }
                ArgumentType::LongDouble => {
                    self.inner.long_double();
                }
                ArgumentType::Pointer => {
                    self.inner.pointer();
                }
            }
        }
    }
}

impl Arguments for NumberedArguments<'_> {
    fn integer(&mut self, size: IntegerSize) -> u64 {
        self.seek();
        self.inner.integer(size)
    }
    fn double(&mut self) -> f64 {
        self.seek();
        self.inner.double()
    }
    fn long_double(&mut self) -> f64 {
        self.seek();
        self.inner.long_double()
    }
    fn pointer(&mut self) -> usize {
        self.seek();
        self.inner.pointer()
    }
    fn string(&mut self, address: usize, limit: Option<usize>) -> &[u8] {
        self.inner.string(address, limit)
    }
    fn store_count(&mut self, address: usize, width_bytes: usize, count: i64) {
        self.inner.store_count(address, width_bytes, count);
    }
    fn error_message(&mut self) -> Option<&[u8]> {
        self.inner.error_message()
    }
    fn wide_character(&mut self, address: usize, index: usize) -> Option<u32> {
        self.inner.wide_character(address, index)
    }
}
