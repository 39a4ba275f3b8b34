//! Formatted messages on the error console.

use core::fmt;

/// `core::fmt` sink that writes to the error console ([`crate::console::write_err`]).
pub struct ErrorConsole;

impl fmt::Write for ErrorConsole {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        crate::console::write_err(text.as_bytes());
        Ok(())
    }
}

/// A byte count in the unit that reads best (`512 KiB`, `127 MiB`), for the boot log.
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        let mut value = self.0;
        let mut unit = 0;
        while value >= 1024 && value.is_multiple_of(1024) && unit + 1 < UNITS.len() {
            value /= 1024;
            unit += 1;
        }
        // Not a whole number of the next unit: show the truncated larger unit when it is
        // at least 10 of them, which keeps "126 MiB" instead of "129916 KiB".
        while value >= 10 * 1024 && unit + 1 < UNITS.len() {
            value /= 1024;
            unit += 1;
        }
        write!(formatter, "{value} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSize;

    #[test]
    fn sizes_read_well() {
        assert_eq!(format!("{}", ByteSize(0)), "0 bytes");
        assert_eq!(format!("{}", ByteSize(1024)), "1 KiB");
        assert_eq!(format!("{}", ByteSize(0x9fc00)), "639 KiB");
        assert_eq!(format!("{}", ByteSize(127 * 1024 * 1024)), "127 MiB");
        assert_eq!(format!("{}", ByteSize(0x8000000 - 0x325000)), "124 MiB");
        assert_eq!(format!("{}", ByteSize(4 << 30)), "4 GiB");
    }
}
