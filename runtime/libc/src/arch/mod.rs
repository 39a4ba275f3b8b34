//! The libc's architecture-specific code, chosen once here (STYLE.md rule 1):
//! `setjmp`/`longjmp`, which must save and restore the callee-saved registers
//! and the stack pointer, something only assembly can do.
//!
//! `jmp_buf` has glibc's size on both targets (sysroot/include/setjmp.h), so C code
//! that embeds one in a structure keeps glibc's layout; what is stored inside is
//! ours (glibc mangles the saved pointers; nothing outside these functions reads
//! them). There are no signal masks in a unikernel, so `sigsetjmp` saves none and
//! `siglongjmp` is `longjmp`. `longjmp(env, 0)` makes `setjmp` return 1
//! (C11 7.13.2.1).

#[cfg(all(not(test), target_arch = "x86_64"))]
mod x86_64;

#[cfg(all(not(test), target_arch = "aarch64"))]
mod aarch64;
