//! POSIX threads over the kernel's threads and futexes (glibc's LP64 ABI: `pthread_t`
//! is an address, the object types have glibc's sizes, and their static initializers
//! are all zeroes as glibc's are).
//!
//! - **Per-thread data**: each thread has a `ThreadControl` (heap; the main thread's is
//!   a static). The kernel's per-thread data area (64 zeroed bytes of the TCB,
//!   `unik_kernel::sched::thread_data_area`) holds `errno` at +0 and the control
//!   block's address at +8 (zero for the main thread).
//! - **Locks** follow Drepper's "Futexes Are Tricky" (mutex 0 = free, 1 = locked, 2 =
//!   locked with waiters); condition variables are a futex sequence counter read before
//!   the mutex is released, so a signal between the release and the wait is never lost.
//! - **Exit and join**: the kernel zeroes and futex-wakes the control block's
//!   `exit_word` when the thread is gone (Linux's CLONE_CHILD_CLEARTID); `pthread_join`
//!   waits for that, then frees the block. The last thread to exit ends the program
//!   with `exit(0)` (POSIX: the process ends when its last thread does).

pub mod sync;
pub mod threads;

#[cfg(not(test))]
mod exports;

#[cfg(not(test))]
pub use threads::initialize;
