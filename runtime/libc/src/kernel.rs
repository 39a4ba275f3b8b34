//! The kernel services the libc uses (runtime/README.md, "Interfaces between the
//! crates"), reached through this one module.
//!
//! On the target they are `unik-kernel`'s. In the host unit tests a stand-in takes
//! their place: the kernel's boot code (absolute relocations, a PVH entry point) cannot
//! be linked into a position-independent host test binary, and the tests must not end
//! the process anyway.

#[cfg(not(test))]
pub use unik_kernel::{BootInfo, boot_archive, console, exit, random};

/// The stand-in console.
#[cfg(test)]
#[allow(clippy::items_after_test_module)]
pub mod console {
    use std::io::Write;

    /// The stand-in console: the test process's stderr (the test harness captures it).
    pub fn write(bytes: &[u8]) {
        let _ = std::io::stderr().write_all(bytes);
    }

    pub fn write_err(bytes: &[u8]) {
        let _ = std::io::stderr().write_all(bytes);
    }

    /// No console input in the host tests: always end of file.
    pub fn read(_buffer: &mut [u8]) -> usize {
        0
    }

    pub fn input_pending() -> bool {
        false
    }
}

/// The stand-in `exit`: a test that reaches it fails loudly instead of ending the
/// harness.
#[cfg(test)]
pub fn exit(status: i32) -> ! {
    panic!("the program called exit({status})")
}

/// The stand-in random generator: no random source (what the tests of the fail-closed
/// paths need; nothing host-tested needs random bytes).
#[cfg(test)]
pub mod random {
    #[derive(Debug)]
    pub struct NoEntropy;

    pub fn fill(_buffer: &mut [u8]) -> Result<(), NoEntropy> {
        Err(NoEntropy)
    }
}
