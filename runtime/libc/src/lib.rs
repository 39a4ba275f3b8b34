//! unik libc: the C library surface. (skeleton; see ../README.md)
#![cfg_attr(not(test), no_std)]

pub mod format;
pub mod numparse;

use unik_kernel::BootInfo;

pub fn start(_boot: &'static BootInfo) -> ! {
    unik_kernel::exit(0)
}
