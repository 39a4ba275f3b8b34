//! unik libc: the C library surface of the library OS (glibc LP64 ABI subset; see
//! ../README.md and ../../sysroot/include for the headers that describe it).
//!
//! Layout: logic lives in safe functions that are unit-tested on the host; the C
//! symbols are thin `extern "C"` wrappers in each module's `exports` submodule, compiled
//! only for the real target (`cfg(not(test))`) so that a host test binary keeps the
//! host glibc's `malloc`, `strlen` and friends. `memcpy` & co. live in the
//! `#![no_builtins]` crate `unik-libc-memory-functions`. The variadic functions (printf
//! family) are a thin C layer in `c/`, built by `build.rs`.
#![cfg_attr(not(test), no_std)]

/// Makes each listed C name a *weak* alias of the Rust export `__unik_<name>`.
///
/// The archive holds the libc as one object (LTO, one codegen unit), so with strong
/// symbols a program that defines a function of its own with a libc name (`strlcpy`,
/// `getline`, its own `malloc`) would fail to link with "duplicate symbol" — where with
/// glibc's one-function-per-member archive the program's definition simply wins. Weak
/// definitions give that behaviour back. The directives are target-independent ELF
/// assembler (`.weak`, `.set`, `.type`), valid on x86_64 and aarch64.
#[cfg(not(test))]
macro_rules! weak_c_symbols {
    ($($name:ident),* $(,)?) => {
        core::arch::global_asm!($(
            concat!(".weak ", stringify!($name)),
            concat!(".set ", stringify!($name), ", __unik_", stringify!($name)),
        )*);
    };
}
#[cfg(not(test))]
pub(crate) use weak_c_symbols;

pub mod format;
pub mod numparse;

pub mod arch;
pub mod auxv;
pub mod ctype;
pub mod cxx_abi;
pub mod entropy;
pub mod entropy_device;
pub mod errno;
#[cfg(not(test))]
pub mod framebuffer_console;
pub mod fs;
pub mod global;
pub mod kernel;
pub mod locale;
pub mod math;
pub mod memory;
pub mod net;
pub mod netdb;
pub mod process;
pub mod reboot;
pub mod rust_support;
pub mod scanf;
pub mod stand_ins;
pub mod start;
pub mod stdio;
pub mod stdlib;
pub mod string;
pub mod syscall;
pub mod temporary_names;
pub mod thread;
pub mod time;
pub mod unistd;
pub mod unwind;

#[cfg(not(test))]
pub use start::start;

/// Keeps the memory functions' crate linked (its symbols are only referenced from C and
/// from compiler-generated calls).
pub use unik_libc_memory_functions as memory_functions;
