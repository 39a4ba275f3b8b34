//! The one place that picks the architecture backend (house style: nothing else in the
//! kernel tests `target_arch`). Each backend provides:
//!
//! - `serial`: `Channel`, `write(Channel, &[u8])`, `read(&mut [u8]) -> usize` for the
//!   console;
//! - `exit(u8) -> !`: ends the virtual machine with that status;
//! - `reboot() -> !`: resets the machine (reboot(2)'s RB_AUTOBOOT);
//! - `framebuffer()`: the screen the loader set up, if any (the framebuffer console's);
//! - its boot entry, which ends in `crate::finish_boot`.
//!
//! Host unit tests (`cargo test`) get a stand-in backend: the boot code cannot link
//! into a host program, and the logic under test (command line, memory plan) does not
//! need it.

#[cfg(all(target_arch = "x86_64", not(test)))]
mod x86_64;

#[cfg(all(target_arch = "x86_64", not(test)))]
pub use self::x86_64::{exit, framebuffer, reboot, serial, threading};

#[cfg(all(target_arch = "aarch64", not(test)))]
mod aarch64;

#[cfg(all(target_arch = "aarch64", not(test)))]
pub use self::aarch64::{exit, framebuffer, reboot, serial, threading};

#[cfg(test)]
mod host_test;

// The aarch64 device tree reader has no CPU-specific code: its unit tests run on the
// host like the arch-neutral modules'.
#[cfg(test)]
#[path = "aarch64/device_tree.rs"]
mod device_tree;

#[cfg(test)]
pub use self::host_test::{exit, reboot, serial};

// The boot-time W^X checks' table walks are pure logic too.
#[cfg(test)]
#[path = "aarch64/page_walk.rs"]
mod aarch64_page_walk;
#[cfg(test)]
#[path = "x86_64/page_walk.rs"]
mod x86_64_page_walk;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", test)))]
compile_error!("unik-kernel has no backend for this architecture (x86_64 and aarch64 only)");
