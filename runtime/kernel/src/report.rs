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
        &self.bytes[..self.length]
    }
}

impl<const N: usize> Default for Buffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Sink for Buffer<N> {
    fn bytes(&mut self, bytes: &[u8]) {
        let room = N - self.length;
        let taken = bytes.len().min(room);
        self.bytes[self.length..self.length + taken].copy_from_slice(&bytes[..taken]);
        self.length += taken;
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

    /// An unsigned number in decimal (`{}`).
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
    fn hex_fixed(&mut self, value: u64, digits: usize) -> &mut Self {
        let mut buffer = Digits::new();
        self.bytes(buffer.hex(value, digits));
        self
    }

    /// An address range as `0xstart-0xend`.
    fn range(&mut self, start: u64, end: u64) -> &mut Self {
        self.hex(start).text("-").hex(end)
    }

    /// A byte count in the unit that reads best (`512 KiB`, `127 MiB`): see
    /// [`byte_size`].
    fn byte_size(&mut self, bytes: u64) -> &mut Self {
        let (value, unit) = byte_size(bytes);
        self.decimal(value).text(" ").text(unit)
    }
}

impl<S: Sink + ?Sized> Write for S {}

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
pub fn backtrace_frame(out: &mut impl Write, index: usize, address: u64) {
    out.text("    #").decimal(index as u64);
    out.text(if index < 10 { "  " } else { " " });
    out.hex_fixed(address, 16).text("\n");
}

/// How often the backtrace frame above repeated (deep recursion), when it did.
pub fn frame_repeats(out: &mut impl Write, repeats: usize) {
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
