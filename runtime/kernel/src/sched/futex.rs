//! Futexes: wait while a 32-bit word holds an expected value, wake waiters of a word.
//! The semantics of Linux's futex(2) FUTEX_WAIT / FUTEX_WAKE / FUTEX_WAIT_BITSET /
//! FUTEX_WAKE_BITSET for one address space (private and shared are the same here).
//!
//! No lost wakeups: the value check and the blocking happen in one critical section
//! (interrupts off), and a wake takes the same critical section, so a waker that changed
//! the word before waking either runs before the check (the waiter sees the new value
//! and does not block) or after the waiter is queued (and wakes it).
//!
//! Waiters are found by scanning the threads (no table): a program has few threads, and
//! the scan has no allocation, which the critical section forbids.

use core::sync::atomic::{AtomicU32, Ordering};

use super::{InterruptsOff, SCHEDULER, State, Wait, WakeReason, block_current, thread_mut};

/// FUTEX_BITSET_MATCH_ANY: a wait or wake that matches every other.
pub const BITSET_MATCH_ANY: u32 = u32::MAX;

/// Why a wait returned without being woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutexError {
    /// The word did not hold the expected value (EAGAIN).
    WouldBlock,
    /// The deadline passed (ETIMEDOUT).
    TimedOut,
    /// A zero bitset (EINVAL).
    InvalidArgument,
}

/// Blocks while `*word == expected`, until a wake with an overlapping bitset or until
/// monotonic time `deadline` (nanoseconds).
pub fn wait(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> Result<(), FutexError> {
    if bitset == 0 {
        return Err(FutexError::InvalidArgument);
    }
    if !super::is_initialized() {
        // One thread: nobody can change the word or wake us.
        if word.load(Ordering::Acquire) != expected {
            return Err(FutexError::WouldBlock);
        }
        if deadline
            .is_some_and(|deadline| deadline <= crate::arch::threading::monotonic_nanoseconds())
        {
            return Err(FutexError::TimedOut);
        }
        // A wait that must block starts the scheduler: a timed one then sleeps, an
        // untimed one is the deadlock the idle thread reports. Without a scheduler
        // (no timer), a timed wait spins and an untimed one returns.
        if super::ensure_started().is_err() {
            return match deadline {
                Some(deadline) => {
                    super::sleep_until(deadline);
                    Err(FutexError::TimedOut)
                }
                None => Err(FutexError::WouldBlock),
            };
        }
    }
    let interrupts_off = InterruptsOff::new();
    if word.load(Ordering::Acquire) != expected {
        return Err(FutexError::WouldBlock);
    }
    if deadline.is_some_and(|deadline| deadline <= crate::arch::threading::monotonic_nanoseconds())
    {
        return Err(FutexError::TimedOut);
    }
    let address = core::ptr::from_ref(word) as usize;
    match block_current(&interrupts_off, Wait::Futex { address, bitset }, deadline) {
        WakeReason::Woken => Ok(()),
        WakeReason::TimedOut => Err(FutexError::TimedOut),
    }
}

/// Wakes up to `count` waiters of the word at `address` whose bitset overlaps `bitset`,
/// longest waiter first. Returns how many were woken.
pub fn wake(address: usize, count: usize, bitset: u32) -> usize {
    if !super::is_initialized() || bitset == 0 {
        return 0;
    }
    let interrupts_off = InterruptsOff::new();
    let woken = wake_locked(&interrupts_off, address, count, bitset);
    if woken > 0 {
        // The woken threads run after the waker's slice; the timer must know them.
        super::program_timer(
            &interrupts_off,
            crate::arch::threading::monotonic_nanoseconds(),
        );
    }
    woken
}

/// [`wake`] inside the caller's critical section.
pub(super) fn wake_locked(
    interrupts_off: &InterruptsOff,
    address: usize,
    count: usize,
    bitset: u32,
) -> usize {
    SCHEDULER.with(interrupts_off, |scheduler| {
        let mut woken = 0;
        while woken < count {
            // The longest waiter: the smallest wait sequence among the matching ones.
            let mut chosen = core::ptr::null_mut();
            let mut chosen_sequence = u64::MAX;
            let mut thread = scheduler.all_head;
            while !thread.is_null() {
                // SAFETY: interrupts off; threads in the list are live.
                let entry = unsafe { thread_mut(interrupts_off, thread) };
                if entry.state == State::Blocked
                    && let Wait::Futex {
                        address: waited,
                        bitset: wait_bitset,
                    } = entry.wait
                    && waited == address
                    && wait_bitset & bitset != 0
                    && entry.wait_sequence < chosen_sequence
                {
                    chosen = thread;
                    chosen_sequence = entry.wait_sequence;
                }
                thread = entry.all_next;
            }
            if chosen.is_null() {
                break;
            }
            super::wake_thread(scheduler, interrupts_off, chosen, WakeReason::Woken);
            woken += 1;
        }
        woken
    })
}
