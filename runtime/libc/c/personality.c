/* unik libc: a weak `rust_eh_personality`.
 *
 * Debian's aarch64 compiler_builtins is compiled with unwinding, so its unwind tables
 * name Rust's personality routine. The runtime is built with panic=abort: nothing
 * unwinds through those frames and the routine is never called; it only has to exist
 * for the link. Weak, so that a Rust std program's real personality routine wins. */
__attribute__((weak, noreturn)) void rust_eh_personality(void) { __builtin_trap(); }
