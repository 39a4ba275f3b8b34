//! Process-wide mutable state of the libc (the `stdout` buffer, `environ`, the atexit
//! list, `strtok`'s position, …) lives in [`Global`] cells.
//!
//! Threads share them, so [`Global::with`] takes the cell's lock (a futex mutex,
//! `thread::sync::Lock`) around the closure, and catches re-entry by the same thread
//! (a bug: it would deadlock) with the owner's thread id. The libc is never entered
//! from interrupt handlers.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::thread::sync::Lock;

/// A value shared by the whole program, accessed one closure at a time.
pub struct Global<T> {
    value: UnsafeCell<T>,
    lock: Lock,
    /// The thread inside `with` (0: none), so that re-entry is caught instead of
    /// deadlocking.
    owner: AtomicU64,
}

// SAFETY: every access to the value goes through `with`, which holds the lock: one
// thread at a time, and `owner` rules out aliasing within a thread.
unsafe impl<T> Sync for Global<T> {}

/// A non-zero identity of the calling thread.
#[cfg(not(test))]
fn thread_identity() -> u64 {
    unik_kernel::sched::thread_pointer() as u64
}

#[cfg(test)]
fn thread_identity() -> u64 {
    std::thread_local!(static MARKER: u8 = const { 0 });
    MARKER.with(|marker| core::ptr::from_ref(marker) as u64)
}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Global {
            value: UnsafeCell::new(value),
            lock: Lock::new(),
            owner: AtomicU64::new(0),
        }
    }

    /// Runs `body` with exclusive access to the value.
    ///
    /// Panics (a runtime bug, reported by the panic handler) on re-entry.
    pub fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        let me = thread_identity();
        assert!(
            self.owner.load(Ordering::Relaxed) != me,
            "libc global state re-entered"
        );
        self.lock.lock();
        self.owner.store(me, Ordering::Relaxed);
        // SAFETY: the lock is held, so no other thread holds a reference, and this
        // thread was not inside (checked above); the reference dies before the unlock.
        let result = body(unsafe { &mut *self.value.get() });
        self.owner.store(0, Ordering::Relaxed);
        self.lock.unlock();
        result
    }

    /// The value's address, for C symbols that are themselves the storage (`environ`).
    pub const fn as_ptr(&self) -> *mut T {
        self.value.get()
    }
}

/// A static byte buffer whose contents a C function returns by pointer (glibc's
/// `strerror` "Unknown error N" text, `asctime`-style results).
pub struct StaticBuffer<const SIZE: usize> {
    bytes: Global<[u8; SIZE]>,
}

impl<const SIZE: usize> StaticBuffer<SIZE> {
    pub const fn new() -> Self {
        StaticBuffer {
            bytes: Global::new([0; SIZE]),
        }
    }

    /// Stores `text` (truncated to fit) followed by a NUL; returns the buffer's address.
    pub fn store_c_string(&self, text: &[u8]) -> *mut u8 {
        self.bytes.with(|bytes| {
            let length = text.len().min(SIZE - 1);
            bytes[..length].copy_from_slice(&text[..length]);
            bytes[length] = 0;
            bytes.as_mut_ptr()
        })
    }
}

impl<const SIZE: usize> Default for StaticBuffer<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

/// Host tests that touch process-wide state (the environment, stdio, the atexit list)
/// hold this guard, so the test harness's threads take turns.
#[cfg(test)]
pub fn serialize_test() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A C data symbol that holds an address and is never written (e.g. `__dso_handle`).
#[repr(transparent)]
pub struct Address(*const core::ffi::c_void);

// SAFETY: never written after link time.
unsafe impl Sync for Address {}

impl Address {
    pub const NULL: Address = Address(core::ptr::null());
}

/// A C data symbol of a plain type that C reads and may assign (`environ`,
/// `program_invocation_name`): the storage is the symbol itself.
#[repr(transparent)]
pub struct CVariable<T: Copy>(UnsafeCell<T>);

// SAFETY: single-threaded runtime (module documentation); accesses are plain loads and
// stores of a `Copy` value, never references held across calls.
unsafe impl<T: Copy> Sync for CVariable<T> {}

impl<T: Copy> CVariable<T> {
    pub const fn new(value: T) -> Self {
        CVariable(UnsafeCell::new(value))
    }

    pub fn get(&self) -> T {
        // SAFETY: a plain load; one thread, and no reference into the cell is held.
        unsafe { *self.0.get() }
    }

    pub fn set(&self, value: T) {
        // SAFETY: a plain store; as for get.
        unsafe { *self.0.get() = value }
    }
}
