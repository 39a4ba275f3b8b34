//! Readiness: what a descriptor's object can do now without blocking, and how a thread
//! waits for that to change (poll(2), select(2), epoll(7), blocking reads and writes).
//!
//! Every object reports its state as a [`Readiness`]: the poll(2) event bits that hold
//! now and a *generation* that changes whenever the object's state changes (data
//! arrived, room freed, an end closed). Level-triggered waits look at the bits; epoll's
//! edge-triggered mode reports an object again only when its generation moved.
//!
//! Waiting is one counter for the whole program ([`CHANGES`]): whoever changes an
//! object's state bumps it and wakes every waiter ([`notify`]); a waiter reads the
//! counter *before* it looks at the objects, and then blocks only while the counter
//! still holds that value ([`wait`], a futex wait: the scheduler halts the CPU, nothing
//! spins). So a change between the look and the block is never missed. One counter
//! wakes every waiter on every change; programs have few threads, and each woken
//! thread only rechecks its own descriptors.

use core::sync::atomic::{AtomicU32, Ordering};

/// poll(2) event bits (Linux uapi asm-generic/poll.h); epoll's EPOLLIN… have the same
/// values (uapi linux/eventpoll.h).
pub const POLLIN: u32 = 0x001;
pub const POLLPRI: u32 = 0x002;
pub const POLLOUT: u32 = 0x004;
pub const POLLERR: u32 = 0x008;
pub const POLLHUP: u32 = 0x010;
pub const POLLNVAL: u32 = 0x020;
pub const POLLRDNORM: u32 = 0x040;
pub const POLLRDBAND: u32 = 0x080;
pub const POLLWRNORM: u32 = 0x100;
pub const POLLWRBAND: u32 = 0x200;
pub const POLLRDHUP: u32 = 0x2000;

/// Readable as poll(2) reports it (the normal-data bit comes with it).
pub const READABLE: u32 = POLLIN | POLLRDNORM;
/// Writable as poll(2) reports it.
pub const WRITABLE: u32 = POLLOUT | POLLWRNORM;

/// An object's state: the events that hold now and the generation of that state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub events: u32,
    pub generation: u32,
}

/// Counts state changes of every object that can be waited for.
pub static CHANGES: AtomicU32 = AtomicU32::new(0);

/// The current value of the change counter: read it before looking at objects, then
/// [`wait`] with it; an object stores it (after [`changed`]) as its generation.
pub fn generation() -> u32 {
    CHANGES.load(Ordering::Acquire)
}

/// Records a state change (call with or without locks held) and returns the new
/// generation. Waiters are woken by [`wake_waiters`] (or [`notify`]).
pub fn changed() -> u32 {
    CHANGES.fetch_add(1, Ordering::AcqRel).wrapping_add(1)
}

/// Wakes every thread blocked in [`wait`].
pub fn wake_waiters() {
    #[cfg(not(test))]
    crate::thread::sync::futex_wake(&CHANGES, usize::MAX);
}

/// [`changed`] and [`wake_waiters`]: what an object outside the descriptor table's
/// lock (a network stack's receive path) calls after its state changed.
pub fn notify() {
    changed();
    wake_waiters();
}

/// Blocks until the change counter differs from `seen` or monotonic time reaches
/// `deadline` (nanoseconds). Returns at once if it already differs.
#[cfg(not(test))]
pub fn wait(seen: u32, deadline: Option<u64>) {
    crate::thread::sync::futex_wait(&CHANGES, seen, deadline).ok();
}

/// What poll(2) reports for one descriptor asked for `requested`: the requested bits
/// that hold, plus POLLERR, POLLHUP and POLLNVAL, which are always reported.
pub fn reported(events: u32, requested: u32) -> u32 {
    events & (requested | POLLERR | POLLHUP | POLLNVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_reports_requested_bits_and_always_errors() {
        assert_eq!(reported(READABLE | WRITABLE, POLLIN), POLLIN);
        assert_eq!(reported(READABLE | POLLHUP, POLLOUT), POLLHUP);
        assert_eq!(reported(POLLERR | WRITABLE, 0), POLLERR);
        assert_eq!(reported(POLLNVAL, 0), POLLNVAL);
        assert_eq!(reported(POLLRDHUP | READABLE, POLLRDHUP), POLLRDHUP);
    }

    #[test]
    fn generations_move_on_every_change() {
        let before = generation();
        let after = changed();
        assert_ne!(before, after);
        assert_eq!(generation(), after);
    }
}
