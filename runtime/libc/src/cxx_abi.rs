//! The parts of the Itanium C++ ABI that C++ programs need even without a C++ library,
//! as they need `__cxa_atexit` ([`crate::process`]): guarded initialization of
//! function-local statics (section 3.3.2, `__cxa_guard_acquire`/`release`/`abort`),
//! `thread_local` destructors (`__cxa_thread_atexit`) and `__cxa_pure_virtual`.
//!
//! The guard is a 64-bit object: its first byte is non-zero once the static is
//! initialized (the compiler tests it inline before calling acquire); this library uses
//! the second byte for "initialization in progress". One thread today: the threads work
//! adds waiting for another thread's initialization here.

/// What `__cxa_guard_acquire` must do for a guard whose first two bytes are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// Already initialized: return 0.
    Done,
    /// The caller initializes: mark in progress, return 1.
    Initialize,
    /// The static's initializer re-entered its own initialization: undefined in C++
    /// (libstdc++ throws `recursive_init_error`); this ends the program.
    Recursive,
}

pub fn acquire(initialized: u8, in_progress: u8) -> Acquire {
    if initialized != 0 {
        Acquire::Done
    } else if in_progress != 0 {
        Acquire::Recursive
    } else {
        Acquire::Initialize
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;

    /// # Safety
    /// `guard` points to a compiler-emitted 64-bit guard object.
    #[unsafe(export_name = "__unik___cxa_guard_acquire")]
    pub unsafe extern "C" fn __cxa_guard_acquire(guard: *mut u8) -> i32 {
        // SAFETY: caller's contract: at least 8 writable bytes.
        let (initialized, in_progress) = unsafe { (guard.read(), guard.add(1).read()) };
        match acquire(initialized, in_progress) {
            Acquire::Done => 0,
            Acquire::Initialize => {
                // SAFETY: as above.
                unsafe { guard.add(1).write(1) };
                1
            }
            Acquire::Recursive => crate::process::abort_with(&[
                b"unik: recursive initialization of a function-local static\n",
            ]),
        }
    }

    /// # Safety
    /// As `__cxa_guard_acquire`.
    #[unsafe(export_name = "__unik___cxa_guard_release")]
    pub unsafe extern "C" fn __cxa_guard_release(guard: *mut u8) {
        // SAFETY: caller's contract.
        unsafe {
            guard.add(1).write(0);
            guard.write(1);
        }
    }

    /// The C++ ABI's `__cxa_thread_atexit` (normally libc++abi/libsupc++ forwarding to
    /// glibc's `__cxa_thread_atexit_impl`): the destructor of a `thread_local` object.
    #[unsafe(export_name = "__unik___cxa_thread_atexit")]
    pub extern "C" fn __cxa_thread_atexit(
        function: Option<unsafe extern "C" fn(*mut core::ffi::c_void)>,
        object: *mut core::ffi::c_void,
        _dso: *mut core::ffi::c_void,
    ) -> i32 {
        use crate::process::{Handler, register_thread_destructor};
        match function {
            Some(function)
                if register_thread_destructor(Handler::WithArgument(function, object)) =>
            {
                0
            }
            _ => -1,
        }
    }

    /// Called through the vtable slot of a pure virtual function (a call during
    /// construction or destruction): a program error, reported as libstdc++ does.
    #[unsafe(export_name = "__unik___cxa_pure_virtual")]
    pub extern "C" fn __cxa_pure_virtual() -> ! {
        crate::process::abort_with(&[b"unik: pure virtual method called\n"])
    }

    /// The initializer threw: the static stays uninitialized.
    ///
    /// # Safety
    /// As `__cxa_guard_acquire`.
    #[unsafe(export_name = "__unik___cxa_guard_abort")]
    pub unsafe extern "C" fn __cxa_guard_abort(guard: *mut u8) {
        // SAFETY: caller's contract.
        unsafe { guard.add(1).write(0) };
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    __cxa_guard_acquire,
    __cxa_guard_release,
    __cxa_guard_abort,
    __cxa_pure_virtual,
    __cxa_thread_atexit
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_states() {
        assert_eq!(acquire(0, 0), Acquire::Initialize);
        assert_eq!(acquire(1, 0), Acquire::Done);
        assert_eq!(acquire(0, 1), Acquire::Recursive);
    }
}
