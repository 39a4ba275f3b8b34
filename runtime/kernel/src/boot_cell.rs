//! A static that the boot path fills in once, before anything else can read it.

use core::cell::UnsafeCell;

/// Storage for a value set up during boot (descriptor tables, the boot information).
///
/// The kernel runs on one CPU with interrupts off; the boot path is the only writer and
/// writes before handing out shared references. This type writes that rule down
/// instead of using `static mut`.
pub struct BootCell<T>(UnsafeCell<T>);

// SAFETY: only the single boot CPU touches a BootCell, and `get_mut`'s contract makes
// the boot path the only writer, before any reader exists.
unsafe impl<T> Sync for BootCell<T> {}

impl<T> BootCell<T> {
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// A mutable reference to the value.
    ///
    /// # Safety
    /// No other reference to the value may exist while the returned one is used: only
    /// the boot path calls this, once per cell, before handing out shared references.
    #[allow(clippy::mut_from_ref)] // That is the point of the cell; see the contract.
    pub unsafe fn get_mut(&'static self) -> &'static mut T {
        // SAFETY: exclusive access is the caller's contract.
        unsafe { &mut *self.0.get() }
    }

    /// A shared reference to the value.
    ///
    /// # Safety
    /// No mutable reference may be live (the boot path has finished writing it).
    pub unsafe fn get(&'static self) -> &'static T {
        // SAFETY: no writer is active (caller's contract).
        unsafe { &*self.0.get() }
    }

    /// The address of the value, for the hardware (descriptor table registers).
    // Only the x86_64 backend has such registers.
    #[allow(dead_code)]
    pub const fn as_ptr(&'static self) -> *mut T {
        self.0.get()
    }
}
