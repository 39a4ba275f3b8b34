//! The archive the sysroot ships as `libunik.a`: the kernel and the libc, glued.
//!
//! The kernel's boot path ends in [`unik_main`], which hands over to the libc's
//! program start (argv, constructors, `main`, `exit`).
#![no_std]

use unik_kernel::BootInfo;

/// Called by the kernel once the machine is set up (see `unik_kernel::boot`).
#[unsafe(no_mangle)]
pub fn unik_main(boot: &'static BootInfo) -> ! {
    unik_libc::start(boot)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    unik_kernel::runtime_panic(info)
}
