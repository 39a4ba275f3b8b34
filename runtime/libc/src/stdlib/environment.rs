//! The environment: `environ`/`__environ`, `getenv`, `setenv`, `unsetenv`, `putenv`,
//! `clearenv` (POSIX.1-2017 XBD 8, XSH setenv/unsetenv/putenv).
//!
//! `__environ` is the C-visible `char **`, NULL-terminated. The libc keeps its own copy
//! of the pointer array on the heap and points `__environ` at it; when a program assigns
//! its own array to `environ`, the next change copies that array first (as glibc does),
//! so the program's array is never written.

use core::ffi::{CStr, c_char};
use core::ptr::null_mut;

use crate::errno;
use crate::global::Global;
use crate::memory::{self, Array};

/// The C variable `__environ` (and `environ`, an alias): a `char **` C may read and assign.
#[repr(transparent)]
pub struct CPointerVariable(core::cell::UnsafeCell<*mut *mut c_char>);

// SAFETY: single-threaded runtime (see crate::global); C accesses it as a plain global.
unsafe impl Sync for CPointerVariable {}

impl CPointerVariable {
    fn get(&self) -> *mut *mut c_char {
        // SAFETY: a plain load of a pointer-sized global; one thread.
        unsafe { *self.0.get() }
    }

    fn set(&self, value: *mut *mut c_char) {
        // SAFETY: a plain store; one thread, no reference to the cell is held.
        unsafe { *self.0.get() = value }
    }
}

#[cfg_attr(not(test), unsafe(no_mangle))]
#[allow(non_upper_case_globals)]
pub static __environ: CPointerVariable = CPointerVariable(core::cell::UnsafeCell::new(null_mut()));

// glibc's `environ` is an alias of `__environ`; an assembler `.set` gives the one storage
// both names (target-independent directives, valid on x86_64 and aarch64).
#[cfg(not(test))]
core::arch::global_asm!(
    ".globl environ",
    ".type environ, @object",
    ".set environ, __environ"
);

/// The libc's own NULL-terminated pointer array (see the module documentation).
static OWNED: Global<Array<*mut c_char>> = Global::new(Array::new());

/// The bytes of one `NAME=value` entry.
///
/// # Safety
/// `entry` points to a NUL-terminated string that lives for the rest of the program.
unsafe fn entry_bytes(entry: *const c_char) -> &'static [u8] {
    // SAFETY: caller's contract.
    unsafe { CStr::from_ptr(entry) }.to_bytes()
}

/// True when `entry` (`NAME=value`) defines `name`.
pub fn defines(entry: &[u8], name: &[u8]) -> bool {
    entry.len() > name.len() && entry.starts_with(name) && entry[name.len()] == b'='
}

/// A valid name for setenv/unsetenv: non-empty, no `=` (else EINVAL).
pub fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty() && !name.contains(&b'=')
}

/// Calls `visit` with each entry pointer of the current `__environ` until it says stop.
fn for_each_entry(mut visit: impl FnMut(*mut c_char) -> bool) {
    let mut cursor = __environ.get();
    if cursor.is_null() {
        return;
    }
    loop {
        // SAFETY: `__environ` is a NULL-terminated array of pointers (the C contract of
        // `environ`), and `cursor` has not passed its terminator.
        let entry = unsafe { *cursor };
        if entry.is_null() || !visit(entry) {
            return;
        }
        // SAFETY: not past the terminator (entry was non-NULL).
        cursor = unsafe { cursor.add(1) };
    }
}

/// The current `__environ` (what `main` gets as `envp`).
pub fn current() -> *mut *mut c_char {
    __environ.get()
}

/// Makes `__environ` an (empty) array if it is NULL; false when out of memory.
pub fn ensure_initialized() -> bool {
    !__environ.get().is_null() || clear() == 0
}

/// The value of `name`, as a pointer into its entry.
pub fn lookup(name: &[u8]) -> Option<*mut c_char> {
    let mut found = None;
    for_each_entry(|entry| {
        // SAFETY: environment strings live for the rest of the program.
        if defines(unsafe { entry_bytes(entry) }, name) {
            // SAFETY: the entry is longer than `name` (defines checked), so `name.len() + 1`
            // is within it or at its NUL.
            found = Some(unsafe { entry.add(name.len() + 1) });
            return false;
        }
        true
    });
    found
}

/// Runs `change` on the libc's own array (without its NULL terminator), after adopting
/// the current `__environ` into it if the program replaced it; then re-terminates the
/// array and points `__environ` at it. False when out of memory (nothing changed).
fn modify(change: impl FnOnce(&mut Array<*mut c_char>) -> bool) -> bool {
    OWNED.with(|owned| {
        let current = __environ.get();
        if owned.is_empty() || current != owned.as_mut_ptr() {
            let mut adopted = Array::new();
            let mut complete = true;
            for_each_entry(|entry| {
                complete = adopted.push(entry);
                complete
            });
            if !complete {
                return false;
            }
            *owned = adopted;
        } else {
            owned.pop(); // the NULL terminator
        }
        let changed = change(owned);
        if !owned.push(null_mut()) {
            // Cannot happen: the terminator's slot existed before `change`, and changes
            // that add reserve room for the terminator first.
            return false;
        }
        __environ.set(owned.as_mut_ptr());
        changed
    })
}

/// Sets an entry pointer for `name`: replaces the existing definitions' first one
/// (removing any others) or appends it.
fn install(owned: &mut Array<*mut c_char>, name: &[u8], entry: *mut c_char) -> bool {
    if !owned.reserve(2) {
        return false;
    }
    let mut replaced = false;
    let mut index = 0;
    while index < owned.len() {
        // SAFETY: environment strings live for the rest of the program.
        if defines(unsafe { entry_bytes(owned.as_slice()[index]) }, name) {
            if replaced {
                owned.remove(index);
                continue;
            }
            owned.as_mut_slice()[index] = entry;
            replaced = true;
        }
        index += 1;
    }
    replaced || owned.push(entry)
}

/// Adds `NAME=value` from the command line at program start. False when out of memory.
///
/// # Safety
/// `entry` is a NUL-terminated string that lives for the rest of the program.
pub unsafe fn add_at_start(entry: *mut c_char) -> bool {
    // SAFETY: caller's contract.
    let bytes = unsafe { entry_bytes(entry) };
    let name_length = bytes
        .iter()
        .position(|&byte| byte == b'=')
        .unwrap_or(bytes.len());
    modify(|owned| install(owned, &bytes[..name_length], entry))
}

/// POSIX `setenv`: 0, or -1 with errno (EINVAL for a bad name, ENOMEM).
pub fn set(name: &[u8], value: &[u8], overwrite: bool) -> i32 {
    if !is_valid_name(name) {
        errno::set(errno::EINVAL);
        return -1;
    }
    if !overwrite && lookup(name).is_some() {
        return 0;
    }
    // The new entry, `NAME=value\0`; never freed: the program may still hold pointers
    // from getenv into an old one (glibc keeps them too).
    let Some(length) = name
        .len()
        .checked_add(value.len())
        .and_then(|length| length.checked_add(2))
    else {
        errno::set(errno::ENOMEM);
        return -1;
    };
    let Some(block) = memory::allocate_or_set_errno(length, 1) else {
        return -1;
    };
    // SAFETY: the block holds `length` writable bytes.
    let entry = unsafe { core::slice::from_raw_parts_mut(block.as_ptr(), length) };
    entry[..name.len()].copy_from_slice(name);
    entry[name.len()] = b'=';
    entry[name.len() + 1..length - 1].copy_from_slice(value);
    entry[length - 1] = 0;
    if modify(|owned| install(owned, name, block.as_ptr().cast())) {
        0
    } else {
        // SAFETY: the block is ours and was not installed.
        unsafe { memory::free_pointer(block.as_ptr()) };
        errno::set(errno::ENOMEM);
        -1
    }
}

/// POSIX `unsetenv`: removes every definition of `name`.
pub fn unset(name: &[u8]) -> i32 {
    if !is_valid_name(name) {
        errno::set(errno::EINVAL);
        return -1;
    }
    if lookup(name).is_none() {
        return 0;
    }
    let removed = modify(|owned| {
        let mut index = 0;
        while index < owned.len() {
            // SAFETY: environment strings live for the rest of the program.
            if defines(unsafe { entry_bytes(owned.as_slice()[index]) }, name) {
                owned.remove(index);
            } else {
                index += 1;
            }
        }
        true
    });
    if removed {
        0
    } else {
        errno::set(errno::ENOMEM);
        -1
    }
}

/// POSIX `putenv`: the string itself becomes the entry (the caller's later changes to it
/// change the environment). Without `=`, glibc removes the name.
///
/// # Safety
/// `string` is NUL-terminated and lives for the rest of the program.
pub unsafe fn put(string: *mut c_char) -> i32 {
    // SAFETY: caller's contract.
    let bytes = unsafe { entry_bytes(string) };
    match bytes.iter().position(|&byte| byte == b'=') {
        None => unset(bytes),
        Some(0) => {
            errno::set(errno::EINVAL);
            -1
        }
        Some(equals) => {
            if modify(|owned| install(owned, &bytes[..equals], string)) {
                0
            } else {
                errno::set(errno::ENOMEM);
                -1
            }
        }
    }
}

/// glibc `clearenv`: empties the environment.
pub fn clear() -> i32 {
    if modify(|owned| {
        while owned.pop().is_some() {}
        true
    }) {
        0
    } else {
        errno::set(errno::ENOMEM);
        -1
    }
}

#[cfg(not(test))]
mod exports {
    use super::*;

    /// The bytes of a C string argument.
    ///
    /// # Safety
    /// `string` is NUL-terminated.
    unsafe fn argument<'a>(string: *const c_char) -> &'a [u8] {
        // SAFETY: caller's contract.
        unsafe { CStr::from_ptr(string) }.to_bytes()
    }

    /// C `getenv` (C11 7.22.4.6).
    ///
    /// # Safety
    /// `name` is a NUL-terminated string.
    #[unsafe(export_name = "__unik_getenv")]
    pub unsafe extern "C" fn getenv(name: *const c_char) -> *mut c_char {
        if name.is_null() {
            return null_mut();
        }
        // SAFETY: caller's contract.
        lookup(unsafe { argument(name) }).unwrap_or(null_mut())
    }

    /// POSIX `setenv`.
    ///
    /// # Safety
    /// `name` and `value` are NUL-terminated strings.
    #[unsafe(export_name = "__unik_setenv")]
    pub unsafe extern "C" fn setenv(
        name: *const c_char,
        value: *const c_char,
        overwrite: i32,
    ) -> i32 {
        if name.is_null() || value.is_null() {
            errno::set(errno::EINVAL);
            return -1;
        }
        // SAFETY: caller's contract.
        unsafe { set(argument(name), argument(value), overwrite != 0) }
    }

    /// POSIX `unsetenv`.
    ///
    /// # Safety
    /// `name` is a NUL-terminated string.
    #[unsafe(export_name = "__unik_unsetenv")]
    pub unsafe extern "C" fn unsetenv(name: *const c_char) -> i32 {
        if name.is_null() {
            errno::set(errno::EINVAL);
            return -1;
        }
        // SAFETY: caller's contract.
        unset(unsafe { argument(name) })
    }

    /// POSIX `putenv`.
    ///
    /// # Safety
    /// `string` is NUL-terminated and outlives its use in the environment.
    #[unsafe(export_name = "__unik_putenv")]
    pub unsafe extern "C" fn putenv(string: *mut c_char) -> i32 {
        if string.is_null() {
            errno::set(errno::EINVAL);
            return -1;
        }
        // SAFETY: caller's contract.
        unsafe { put(string) }
    }

    /// glibc `clearenv`.
    #[unsafe(export_name = "__unik_clearenv")]
    pub extern "C" fn clearenv() -> i32 {
        clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test drives the process-wide environment, so that no two tests race on it.
    #[test]
    fn set_get_unset_put_clear() {
        let _serial = crate::global::serialize_test();
        memory::claim_test_heap();
        let value = |name: &[u8]| {
            // SAFETY: entries are NUL-terminated strings that stay alive.
            lookup(name).map(|pointer| unsafe { CStr::from_ptr(pointer) }.to_bytes().to_vec())
        };
        // SAFETY: static C strings.
        unsafe {
            assert!(add_at_start(c"HOME=/root".as_ptr().cast_mut()));
            assert!(add_at_start(c"TERM=dumb".as_ptr().cast_mut()));
        }
        assert_eq!(value(b"HOME").as_deref(), Some(&b"/root"[..]));
        assert_eq!(value(b"HOM"), None);
        assert_eq!(set(b"HOME", b"/x", false), 0);
        assert_eq!(value(b"HOME").as_deref(), Some(&b"/root"[..]));
        assert_eq!(set(b"HOME", b"/x", true), 0);
        assert_eq!(value(b"HOME").as_deref(), Some(&b"/x"[..]));
        assert_eq!(set(b"NEW", b"", true), 0);
        assert_eq!(value(b"NEW").as_deref(), Some(&b""[..]));
        assert_eq!(set(b"A=B", b"1", true), -1);
        assert_eq!(errno::get(), errno::EINVAL);
        assert_eq!(set(b"", b"1", true), -1);
        assert_eq!(unset(b"HOME"), 0);
        assert_eq!(value(b"HOME"), None);
        assert_eq!(value(b"TERM").as_deref(), Some(&b"dumb"[..]));
        // SAFETY: static C strings.
        unsafe {
            assert_eq!(put(c"P=q".as_ptr().cast_mut()), 0);
            assert_eq!(value(b"P").as_deref(), Some(&b"q"[..]));
            assert_eq!(put(c"P".as_ptr().cast_mut()), 0);
        }
        assert_eq!(value(b"P"), None);
        // A program-supplied array is adopted, never written.
        let mut own = [c"X=1".as_ptr().cast_mut(), null_mut()];
        __environ.set(own.as_mut_ptr());
        assert_eq!(value(b"X").as_deref(), Some(&b"1"[..]));
        assert_eq!(value(b"TERM"), None);
        assert_eq!(set(b"Y", b"2", true), 0);
        assert_eq!(own[1], null_mut());
        assert_eq!(value(b"X").as_deref(), Some(&b"1"[..]));
        assert_eq!(value(b"Y").as_deref(), Some(&b"2"[..]));
        assert_eq!(clear(), 0);
        assert_eq!(value(b"X"), None);
        // SAFETY: __environ is a valid NULL-terminated array.
        assert!(unsafe { *__environ.get() }.is_null());
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(getenv, setenv, unsetenv, putenv, clearenv);
