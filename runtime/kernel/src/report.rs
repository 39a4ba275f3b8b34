//! Messages on the error console without `core::fmt`: text, decimal and hexadecimal
//! numbers and byte sizes written piece by piece.
//!
//! `core::fmt` costs a plain C image about 6.5 KB of code (its padding, integer
//! and `Display` machinery) and, under QEMU's TCG, the translation of every
//! instruction of it that runs (an exit line alone went through ~150). The kernel's
//! always-linked messages (the boot log, boot failures, the exit status, crash
//! reports, runtime panics) use this writer instead:
//!
//! ```ignore
//! ErrorConsole.text("unik: heap ").hex(start).text(" (").byte_size(length).text(")\n");
//! ```

use crate::memory::PhysicalRange;

/// Where a message's bytes go.
pub trait Sink {
    fn bytes(&mut self, bytes: &[u8]);
}

/// The error console ([`crate::console::write_err`]).
pub struct ErrorConsole;

impl Sink for ErrorConsole {
    fn bytes(&mut self, bytes: &[u8]) {
        crate::console::write_err(bytes);
    }
}

/// A fixed buffer that keeps what fits and drops the rest (for a line that must go out
/// in one piece, e.g. the exit status line).
pub struct Buffer<const N: usize> {
    bytes: [u8; N],
    length: usize,
}

impl<const N: usize> Buffer<N> {
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            length: 0,
        }
    }

    /// What was written (and fitted).
    pub fn as_bytes(&self) -> &[u8] {
        // Never more than N: `bytes` keeps it so (and `get` keeps a bounds-check panic,
        // with its `core::fmt` arguments, out of the image).
        self.bytes.get(..self.length).unwrap_or(&[])
    }
}

impl<const N: usize> Default for Buffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Sink for Buffer<N> {
    fn bytes(&mut self, bytes: &[u8]) {
        if let Some(free) = self.bytes.get_mut(self.length..) {
            let taken = bytes.len().min(free.len());
            free[..taken].copy_from_slice(&bytes[..taken]);
            self.length += taken;
        }
    }
}

#[cfg(test)]
impl Sink for std::string::String {
    fn bytes(&mut self, bytes: &[u8]) {
        self.push_str(core::str::from_utf8(bytes).expect("reports are UTF-8"));
    }
}

/// The writer's pieces, on every [`Sink`]; each returns the sink so calls chain.
pub trait Write: Sink {
    /// Text as given.
    fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes());
        self
    }

    /// Bytes as given (a thread's name).
    fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes(bytes);
        self
    }

    /// An unsigned number in decimal (`{}`). Out of line, as `hex_fixed`: a call site
    /// is then a call, not the digits buffer's set-up and two calls.
    #[inline(never)]
    fn decimal(&mut self, value: u64) -> &mut Self {
        let mut digits = Digits::new();
        self.bytes(digits.decimal(value));
        self
    }

    /// A signed number in decimal (`{}`).
    fn signed(&mut self, value: i64) -> &mut Self {
        if value < 0 {
            self.bytes(b"-");
        }
        self.decimal(value.unsigned_abs())
    }

    /// `0x` and the number in lower-case hexadecimal without leading zeros (`{:#x}`).
    fn hex(&mut self, value: u64) -> &mut Self {
        self.hex_fixed(value, 1)
    }

    /// `0x` and the number in lower-case hexadecimal, zero-padded to at least `digits`
    /// digits (`{:#018x}` is `hex_fixed(value, 16)`).
    #[inline(never)]
    fn hex_fixed(&mut self, value: u64, digits: usize) -> &mut Self {
        let mut buffer = Digits::new();
        self.bytes(buffer.hex(value, digits));
        self
    }

    /// An address range as `0xstart-0xend`.
    fn range(&mut self, start: u64, end: u64) -> &mut Self {
        self.hex(start).text("-").hex(end)
    }

    /// `template` with each [`HEX`] byte replaced by the next of `values` as [`Write::hex`]
    /// writes it, each [`DECIMAL`] byte by the next as [`Write::decimal`] does, and each
    /// [`HEX_16`] / [`HEX_8`] byte by the next as `hex_fixed(value, 16 / 8)` (0 when
    /// `values` runs out). One call per message instead of one per piece: for the long
    /// lists of error messages that a boot almost never writes.
    #[inline(never)]
    fn template(&mut self, template: &str, values: &[u64]) -> &mut Self {
        let mut values = values.iter().copied();
        let mut rest = template.as_bytes();
        while let Some(at) = rest.iter().position(|&byte| (HEX..=HEX_8).contains(&byte)) {
            let (text, marker) = rest.split_at(at);
            self.bytes(text);
            let value = values.next().unwrap_or(0);
            match marker.first() {
                Some(&DECIMAL) => self.decimal(value),
                Some(&HEX_16) => self.hex_fixed(value, 16),
                Some(&HEX_8) => self.hex_fixed(value, 8),
                _ => self.hex(value),
            };
            rest = marker.get(1..).unwrap_or(&[]);
        }
        self.bytes(rest);
        self
    }

    /// A byte count in the unit that reads best (`512 KiB`, `127 MiB`): see
    /// [`byte_size`].
    fn byte_size(&mut self, bytes: u64) -> &mut Self {
        let (value, unit) = byte_size(bytes);
        self.decimal(value).text(" ").text(unit)
    }
}

impl<S: Sink + ?Sized> Write for S {}

/// In a [`Write::template`]: the next value in hexadecimal (`\x01` in a literal).
pub const HEX: u8 = 0x01;
/// In a [`Write::template`]: the next value in decimal (`\x02` in a literal).
pub const DECIMAL: u8 = 0x02;
/// In a [`Write::template`]: the next value in hexadecimal, 16 digits (`\x03`).
pub const HEX_16: u8 = 0x03;
/// In a [`Write::template`]: the next value in hexadecimal, 8 digits (`\x04`).
pub const HEX_8: u8 = 0x04;

/// A crash report's `  in thread ID (NAME)` line; `name` ends at its first NUL (no
/// parentheses for an empty one).
pub fn thread_line(out: &mut impl Write, id: u64, name: &[u8]) {
    let length = name
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(name.len());
    out.text("  in thread ").decimal(id);
    if length > 0 {
        out.text(" (").raw(&name[..length]).text(")");
    }
    out.text("\n");
}

/// A crash report's backtrace line: `    #N  0x<16 digits>` (`#N` padded to 3 columns).
fn backtrace_frame(out: &mut impl Write, index: usize, address: u64) {
    out.text("    #").decimal(index as u64);
    out.text(if index < 10 { "  " } else { " " });
    out.hex_fixed(address, 16).text("\n");
}

/// How often the backtrace frame above repeated (deep recursion), when it did.
fn frame_repeats(out: &mut impl Write, repeats: usize) {
    match repeats {
        0 => {}
        1 => {
            out.text("        (the frame above once more)\n");
        }
        _ => {
            out.text("        (the frame above ")
                .decimal(repeats as u64)
                .text(" more times)\n");
        }
    }
}

/// How many return addresses a backtrace prints at most.
const BACKTRACE_LIMIT: usize = 32;

/// A crash report's backtrace: `pc` (frame #0), then the return addresses of the
/// frame-record chain from `frame_pointer` (x86_64 `rbp`, AArch64 `x29` (AAPCS64
/// 6.2.3): each record is {caller's frame pointer, return address}). Best effort: it
/// stops where `read_word` cannot read a record, at a return address outside `text`
/// or at a record that is not above the last (no chain: code built without frame
/// pointers shows only `pc`); a return address repeated by deep recursion is printed
/// once with a count.
pub fn backtrace(
    out: &mut impl Write,
    pc: u64,
    mut frame_pointer: u64,
    text: PhysicalRange,
    read_word: impl Fn(u64) -> Option<u64>,
) {
    out.text("  backtrace:\n");
    backtrace_frame(out, 0, pc);
    let mut previous_address = pc;
    let mut repeats = 0;
    for index in 1..=BACKTRACE_LIMIT {
        let (Some(caller_frame_pointer), Some(return_address)) = (
            read_word(frame_pointer),
            read_word(frame_pointer.wrapping_add(8)),
        ) else {
            break;
        };
        if !text.contains(return_address) {
            break;
        }
        if return_address == previous_address {
            repeats += 1;
        } else {
            frame_repeats(out, repeats);
            repeats = 0;
            backtrace_frame(out, index, return_address);
            previous_address = return_address;
        }
        if caller_frame_pointer <= frame_pointer {
            break;
        }
        frame_pointer = caller_frame_pointer;
    }
    frame_repeats(out, repeats);
}

/// Room for the longest number: `0x` and 16 hexadecimal digits, or 20 decimal ones.
struct Digits {
    bytes: [u8; DIGITS],
}

const DIGITS: usize = 20;

impl Digits {
    const fn new() -> Self {
        Self { bytes: [0; DIGITS] }
    }

    fn decimal(&mut self, mut value: u64) -> &[u8] {
        let mut length = 0;
        for slot in self.bytes.iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
            length += 1;
            if value == 0 {
                break;
            }
        }
        self.bytes.split_at(DIGITS - length).1
    }

    fn hex(&mut self, value: u64, digits: usize) -> &[u8] {
        let significant = (64 - value.leading_zeros() as usize).div_ceil(4);
        let length = significant.max(digits).clamp(1, 16);
        let (prefix, number) = self.bytes.split_at_mut(DIGITS - length);
        for (index, slot) in number.iter_mut().rev().enumerate() {
            *slot = b"0123456789abcdef"[((value >> (4 * index)) & 0xf) as usize];
        }
        let start = prefix.len() - 2;
        prefix[start..].copy_from_slice(b"0x");
        &self.bytes[start..]
    }
}

/// A byte count as a number and the unit that reads best: the largest unit that
/// divides it exactly, or, when that leaves at least 10 * 1024 of it, the truncated
/// larger unit ("126 MiB" rather than "129916 KiB").
pub fn byte_size(bytes: u64) -> (u64, &'static str) {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024 && value.is_multiple_of(1024) && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    while value >= 10 * 1024 && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    (value, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::{Buffer, Write};

    fn written(write: impl FnOnce(&mut String)) -> String {
        let mut text = String::new();
        write(&mut text);
        text
    }

    #[test]
    fn numbers_read_as_core_fmt_writes_them() {
        for value in [0, 1, 9, 10, 99, 100, 4096, 1 << 32, u64::MAX - 1, u64::MAX] {
            let decimal = written(|s| {
                s.decimal(value);
            });
            assert_eq!(decimal, format!("{value}"));
            let hex = written(|s| {
                s.hex(value);
            });
            assert_eq!(hex, format!("{value:#x}"));
            let register = written(|s| {
                s.hex_fixed(value, 16);
            });
            assert_eq!(register, format!("{value:#018x}"));
            let word = written(|s| {
                s.hex_fixed(value, 8);
            });
            assert_eq!(word, format!("{value:#010x}"));
            let unpadded = written(|s| {
                s.hex_fixed(value, 0);
            });
            assert_eq!(unpadded, format!("{value:#x}"));
        }
        for value in [0, 1, -1, 42, -42, i64::MIN, i64::MAX] {
            let signed = written(|s| {
                s.signed(value);
            });
            assert_eq!(signed, format!("{value}"));
        }
    }

    #[test]
    fn pieces_chain() {
        let text = written(|s| {
            s.text("exit ")
                .decimal(255)
                .text(" at ")
                .hex(0x1000)
                .text("\n");
        });
        assert_eq!(text, "exit 255 at 0x1000\n");
    }

    #[test]
    fn templates_fill_in_their_values() {
        let text = written(|s| {
            s.template("tag at \x01 (type \x02, size \x02) ends", &[0x1000, 6, 24]);
        });
        assert_eq!(text, "tag at 0x1000 (type 6, size 24) ends");
        assert_eq!(
            written(|s| {
                s.template("\x02\x01", &[7]);
            }),
            "70x0"
        );
        assert_eq!(
            written(|s| {
                s.template("plain", &[]);
            }),
            "plain"
        );
    }

    #[test]
    fn crash_report_lines() {
        let text = written(|s| {
            super::thread_line(s, 3, b"worker\0\0");
            super::thread_line(s, 1, b"");
            super::backtrace_frame(s, 0, 0x1234);
            super::backtrace_frame(s, 12, u64::MAX);
            super::frame_repeats(s, 0);
            super::frame_repeats(s, 1);
            super::frame_repeats(s, 40);
        });
        assert_eq!(
            text,
            "  in thread 3 (worker)\n  in thread 1\n    #0  0x0000000000001234\n    \
             #12 0xffffffffffffffff\n        (the frame above once more)\n        \
             (the frame above 40 more times)\n"
        );
    }

    #[test]
    fn a_backtrace_follows_the_frame_records() {
        use std::collections::HashMap;
        let text = crate::memory::PhysicalRange {
            start: 0x1000,
            end: 0x2000,
        };
        // Records at 0x100 -> 0x200 -> 0x300 (recursion: the same return address
        // twice) -> 0x400, whose return address is outside the text.
        let stack = HashMap::from([
            (0x100, 0x200),
            (0x108, 0x1100),
            (0x200, 0x300),
            (0x208, 0x1200),
            (0x300, 0x380),
            (0x308, 0x1200),
            (0x380, 0x400),
            (0x388, 0x1300),
            (0x400, 0x500),
            (0x408, 0x9999),
        ]);
        let text_of = |frame_pointer| {
            written(|s| {
                super::backtrace(s, 0x1050, frame_pointer, text, |address| {
                    stack.get(&address).copied()
                })
            })
        };
        assert_eq!(
            text_of(0x100),
            "  backtrace:\n    #0  0x0000000000001050\n    #1  0x0000000000001100\n    \
             #2  0x0000000000001200\n        (the frame above once more)\n    \
             #4  0x0000000000001300\n"
        );
        // No readable record: only the faulting address.
        assert_eq!(text_of(0x700), "  backtrace:\n    #0  0x0000000000001050\n");
        // A record pointing down (not a chain) ends the walk after its frame.
        let looping = HashMap::from([(0x100, 0x80), (0x108, 0x1100)]);
        let text = written(|s| {
            super::backtrace(s, 0x1050, 0x100, text, |address| {
                looping.get(&address).copied()
            })
        });
        assert_eq!(
            text,
            "  backtrace:\n    #0  0x0000000000001050\n    #1  0x0000000000001100\n"
        );
    }

    #[test]
    fn sizes_read_well() {
        let size = |bytes| {
            written(|s| {
                s.byte_size(bytes);
            })
        };
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1024), "1 KiB");
        assert_eq!(size(0x9fc00), "639 KiB");
        assert_eq!(size(127 * 1024 * 1024), "127 MiB");
        assert_eq!(size(0x8000000 - 0x325000), "124 MiB");
        assert_eq!(size(4 << 30), "4 GiB");
        assert_eq!(size(10 * 1024 - 1), "10239 bytes");
        assert_eq!(size(10 * 1024 + 1), "10 KiB");
        assert_eq!(size(u64::MAX), "16777215 TiB");
    }

    #[test]
    fn a_buffer_keeps_what_fits() {
        let mut buffer = Buffer::<7>::new();
        buffer.text("exit ").decimal(255).text("\n");
        assert_eq!(buffer.as_bytes(), b"exit 25");
        let mut buffer = Buffer::<16>::new();
        buffer.text("exit ").decimal(7).text("\n\0");
        assert_eq!(buffer.as_bytes(), b"exit 7\n\0");
    }
}
