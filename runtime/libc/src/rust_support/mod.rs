//! The rest of the glibc surface Rust std (`x86_64/aarch64-unknown-linux-gnu`) links
//! against (DESIGN.md decision 2), found by linking an empty `fn main() {}` and a
//! threads/collections program against the runtime with `--error-limit=0`:
//! `sysconf`, anonymous `mmap`/`munmap`/`mprotect`, `sigaction`/`signal`/`sigaltstack`,
//! and `dl_iterate_phdr`. The unwinder (`_Unwind_*`) is [`crate::unwind`]; `poll` is
//! the `readiness` component's (`crate::fs::readiness`).
//!
//! The decisions, each taken so that std's start-up and its documented behaviour stay
//! true in a unikernel:
//! - **Signals**: nothing ever raises a signal (no other process, no terminal), and a
//!   CPU fault is the runtime's: it prints a crash report and ends the run with the
//!   signal's status (runtime/README.md, "Exit statuses"). So `sigaction` keeps the
//!   dispositions it is given and reports them back, and for the fault signals
//!   (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) it reports the runtime's own handler
//!   until a program installs another. std then leaves its stack-overflow handler and
//!   alternate signal stack out: the guard pages and the crash report already do that
//!   job.
//! - **mmap** gives anonymous, private, zero-filled memory from the heap (page
//!   aligned), and unmaps whole mappings; files and fixed addresses are refused.

pub mod logic;

#[cfg(not(test))]
mod exports;
