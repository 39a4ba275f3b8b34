//! aarch64 (QEMU `virt`): ELF entry at EL2 or EL1, device tree, PL011 console,
//! semihosting / PSCI exit, exceptions, translation tables and the main thread's TLS.

mod aslr;
mod boot;
mod cpu;
mod device_tree;
mod entry;
mod exceptions;
mod exit;
mod image;
mod page_walk;
mod paging;
pub mod serial;
pub mod threading;
mod tls;

pub use exit::{exit, reboot};

/// No loader hands an aarch64 image a framebuffer (the console is the UART).
pub fn framebuffer() -> Option<crate::framebuffer::Framebuffer> {
    None
}
