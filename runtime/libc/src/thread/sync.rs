//! The futex-based lock the libc itself uses ([`Lock`]), and the futex calls the pthread
//! objects share. On the host (unit tests) the futex is a spin with `yield`.

use core::sync::atomic::{AtomicU32, Ordering};

/// A timed wait's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// Waits while `*word == expected` (until `deadline`, monotonic ns). `Ok` when woken or
/// the value differed.
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Option<u64>) -> Result<(), TimedOut> {
    futex_wait_bitset(word, expected, deadline, u32::MAX)
}

/// The kernel's futex calls, installed when the scheduler starts ([`install_futex`]).
/// Reached through these pointers, the scheduler is linked only into programs that use
/// threads or clocks; without it there is one thread, no lock is ever contended, and a
/// wait returns at once.
#[cfg(not(test))]
mod kernel_futex {
    use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

    pub type Wait = fn(&AtomicU32, u32, Option<u64>, u32) -> Result<(), super::TimedOut>;
    pub type Wake = fn(usize, usize, u32) -> usize;

    static WAIT: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
    static WAKE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

    pub fn install(wait: Wait, wake: Wake) {
        // black_box: with whole-program LTO, LLVM would otherwise see that only these
        // functions are ever stored, call them directly from the locks, and link the
        // scheduler into every image again.
        WAIT.store(core::hint::black_box(wait as *mut ()), Ordering::Release);
        WAKE.store(core::hint::black_box(wake as *mut ()), Ordering::Release);
    }

    pub fn wait() -> Option<Wait> {
        let pointer = WAIT.load(Ordering::Acquire);
        // SAFETY: only `install` stores here, and it stores a `Wait`.
        (!pointer.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), Wait>(pointer) })
    }

    pub fn wake() -> Option<Wake> {
        let pointer = WAKE.load(Ordering::Acquire);
        // SAFETY: only `install` stores here, and it stores a `Wake`.
        (!pointer.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), Wake>(pointer) })
    }
}

/// Connects the locks to the kernel's futexes (called by `threads::initialize`).
#[cfg(not(test))]
pub fn install_futex() {
    fn wait(
        word: &AtomicU32,
        expected: u32,
        deadline: Option<u64>,
        bitset: u32,
    ) -> Result<(), TimedOut> {
        use unik_kernel::sched::futex::{FutexError, wait};
        match wait(word, expected, deadline, bitset) {
            Ok(()) | Err(FutexError::WouldBlock) | Err(FutexError::InvalidArgument) => Ok(()),
            Err(FutexError::TimedOut) => Err(TimedOut),
        }
    }
    kernel_futex::install(wait, unik_kernel::sched::futex::wake);
}

#[cfg(not(test))]
pub fn futex_wait_bitset(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> Result<(), TimedOut> {
    match kernel_futex::wait() {
        Some(wait) => wait(word, expected, deadline, bitset),
        None => Ok(()),
    }
}

#[cfg(test)]
pub fn futex_wait_bitset(
    word: &AtomicU32,
    expected: u32,
    _deadline: Option<u64>,
    _bitset: u32,
) -> Result<(), TimedOut> {
    if word.load(Ordering::Acquire) == expected {
        std::thread::yield_now();
    }
    Ok(())
}

/// Wakes up to `count` waiters of `word`.
pub fn futex_wake(word: &AtomicU32, count: usize) -> usize {
    futex_wake_bitset(core::ptr::from_ref(word) as usize, count, u32::MAX)
}

#[cfg(not(test))]
pub fn futex_wake_bitset(address: usize, count: usize, bitset: u32) -> usize {
    kernel_futex::wake().map_or(0, |wake| wake(address, count, bitset))
}

#[cfg(test)]
pub fn futex_wake_bitset(_address: usize, _count: usize, _bitset: u32) -> usize {
    0
}

/// A mutual-exclusion lock on one futex word: 0 free, 1 locked, 2 locked with waiters
/// (Drepper, "Futexes Are Tricky", mutex #3).
pub struct Lock {
    word: AtomicU32,
}

impl Lock {
    pub const fn new() -> Lock {
        Lock {
            word: AtomicU32::new(0),
        }
    }

    pub fn word(&self) -> &AtomicU32 {
        &self.word
    }

    /// Takes the lock; false when `deadline` passed first.
    pub fn lock_until(&self, deadline: Option<u64>) -> bool {
        lock_word(&self.word, deadline)
    }

    pub fn lock(&self) {
        lock_word(&self.word, None);
    }

    pub fn try_lock(&self) -> bool {
        self.word
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    pub fn unlock(&self) {
        unlock_word(&self.word);
    }
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

/// Drepper's mutex #3 lock on a word; false when `deadline` passed.
pub fn lock_word(word: &AtomicU32, deadline: Option<u64>) -> bool {
    if word
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        return true;
    }
    loop {
        // Mark contended; if it was free, we own it (as contended: the unlock wakes,
        // maybe needlessly, which is harmless).
        if word.swap(2, Ordering::Acquire) == 0 {
            return true;
        }
        if futex_wait(word, 2, deadline).is_err() {
            // Timed out: one last try, so a timeout never hides a free lock.
            return word.swap(2, Ordering::Acquire) == 0;
        }
    }
}

/// Releases a word locked by [`lock_word`], waking one waiter if there may be any.
pub fn unlock_word(word: &AtomicU32) {
    if word.swap(0, Ordering::Release) == 2 {
        futex_wake(word, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_counts_exactly_across_threads() {
        static LOCK: Lock = Lock::new();
        static mut COUNTER: u64 = 0;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..10_000 {
                        LOCK.lock();
                        // SAFETY: the lock serialises every access.
                        unsafe { COUNTER += 1 };
                        LOCK.unlock();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        LOCK.lock();
        // SAFETY: under the lock, all writers joined.
        assert_eq!(unsafe { COUNTER }, 40_000);
        LOCK.unlock();
    }

    #[test]
    fn try_lock_fails_while_held() {
        let lock = Lock::new();
        assert!(lock.try_lock());
        assert!(!lock.try_lock());
        lock.unlock();
        assert!(lock.try_lock());
        lock.unlock();
    }
}
