//! The one place that picks the architecture backend (house style: nothing else in the
//! kernel tests `target_arch`). Each backend provides:
//!
//! - `serial`: `write(Channel, &[u8])`, `read(&mut [u8]) -> usize` for the console;
//! - `exit(u8) -> !`: ends the virtual machine with that status;
//! - its boot entry, which ends in `crate::finish_boot`.

#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "x86_64")]
pub use self::x86_64::{exit, serial};

#[cfg(not(target_arch = "x86_64"))]
compile_error!("unik-kernel has no backend for this architecture yet (x86_64 only)");
