//! Process-wide mutable state of the libc (the `stdout` buffer, `environ`, the atexit
//! list, `strtok`'s position, …) lives in [`Global`] cells.
//!
//! The runtime runs one thread today, and the libc is not re-entered from interrupt
//! handlers, so a cell needs no lock: [`Global::with`] hands out the one `&mut` at a
//! time. This is the single place the threads work turns into a lock.

use core::cell::{Cell, UnsafeCell};

/// A value shared by the whole program, accessed one closure at a time.
pub struct Global<T> {
    value: UnsafeCell<T>,
    /// Set while a closure holds the value, so that re-entry (a bug) is caught instead of
    /// creating two `&mut`.
    borrowed: Cell<bool>,
}

// SAFETY: the runtime is single-threaded (see the module documentation), so no two
// threads ever reach the cell; `borrowed` rules out aliasing within the one thread.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Global {
            value: UnsafeCell::new(value),
            borrowed: Cell::new(false),
        }
    }

    /// Runs `body` with exclusive access to the value.
    ///
    /// Panics (a runtime bug, reported by the panic handler) on re-entry.
    pub fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        assert!(!self.borrowed.replace(true), "libc global state re-entered");
        // SAFETY: `borrowed` was false, so no other reference to the value exists, and
        // one thread runs (module documentation); the reference dies before `borrowed`
        // is cleared below.
        let result = body(unsafe { &mut *self.value.get() });
        self.borrowed.set(false);
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
