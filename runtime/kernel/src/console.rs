//! The console: stdout and stdin on the first serial port, stderr on the second when
//! the machine has one (runtime/README.md, "Interfaces between the crates").
//!
//! Bytes go out exactly as given: no newline translation, so a program's output is
//! byte-for-byte what it wrote.

use core::sync::atomic::{AtomicPtr, Ordering};

use crate::arch::serial;

/// A second place the console's bytes go (the framebuffer console): `(bytes, is_stderr)`.
pub type Mirror = fn(&[u8], bool);

/// The installed mirror (null: none). A function pointer behind a pointer-sized atomic:
/// only code that installs a mirror refers to one, so images without it carry none.
static MIRROR: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Sends everything written from now on to `mirror` too.
pub fn set_mirror(mirror: Mirror) {
    // Opaque to the optimizer: with the whole runtime in view, LLVM would otherwise
    // see the one value ever stored and call it directly from `write`, which would
    // link the mirror into every image.
    let pointer = core::hint::black_box(mirror as *mut ());
    MIRROR.store(pointer, Ordering::Release);
}

// Not inlined: every console write calls it, and most images have no mirror.
#[inline(never)]
fn mirror(bytes: &[u8], error: bool) {
    let pointer = MIRROR.load(Ordering::Acquire);
    if !pointer.is_null() {
        // SAFETY: a non-null value was stored by `set_mirror` from a `Mirror`.
        let mirror = unsafe { core::mem::transmute::<*mut (), Mirror>(pointer) };
        mirror(bytes, error);
    }
}

/// Writes bytes to the console (stdout: COM1) exactly as given (no newline translation).
// Not inlined (nor `write_err`): one copy of the mirror call, not one per caller.
#[inline(never)]
pub fn write(bytes: &[u8]) {
    serial::write(serial::Channel::Output, bytes);
    mirror(bytes, false);
}

/// Writes to the error console (stderr: COM2 at 0x2f8 when the machine has one,
/// detected at boot with the 16550 scratch register; COM1 otherwise).
/// Crash reports and every runtime message use this channel.
#[inline(never)]
pub fn write_err(bytes: &[u8]) {
    serial::write(serial::Channel::Error, bytes);
    mirror(bytes, true);
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
