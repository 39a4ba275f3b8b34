//! The console: stdout and stdin on the first serial port, stderr on the second when
//! the machine has one (runtime/README.md, "Interfaces between the crates").
//!
//! Bytes go out exactly as given: no newline translation, so a program's output is
//! byte-for-byte what it wrote.

use crate::arch::serial;

/// Writes bytes to the console (stdout: COM1) exactly as given (no newline translation).
pub fn write(bytes: &[u8]) {
    serial::write(serial::Channel::Output, bytes);
}

/// Writes to the error console (stderr: COM2 at 0x2f8 when the machine has one,
/// detected at boot with the 16550 scratch register; COM1 otherwise).
/// Crash reports and every runtime message use this channel.
pub fn write_err(bytes: &[u8]) {
    serial::write(serial::Channel::Error, bytes);
}

/// Whether [`read`] would return at once with a byte (poll(2) on standard input).
pub fn input_pending() -> bool {
    serial::input_pending()
}

/// Blocks until at least one byte arrives; returns how many were stored (0 only if buf
/// is empty, or if the machine has no console input device at all: then there is never
/// anything to read, and 0 reads as end of input).
pub fn read(buf: &mut [u8]) -> usize {
    serial::read(buf)
}
