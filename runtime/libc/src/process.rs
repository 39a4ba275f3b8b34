//! Process end: `atexit`/`__cxa_atexit` handlers, `exit`, `_Exit`, `abort`, and the
//! failure reports (`__assert_fail`, `__stack_chk_fail`) — runtime/README.md, "Program
//! start and exit", step 4, and C11 7.22.4.

use core::ffi::c_void;

use crate::global::Global;
use crate::memory::Array;

/// The status a shell reports for SIGABRT (128 + 6): `abort()`'s status.
pub const ABORT_STATUS: i32 = 134;

/// One registered exit handler.
#[derive(Clone, Copy)]
pub enum Handler {
    /// `atexit(function)`.
    Plain(extern "C" fn()),
    /// `__cxa_atexit(function, argument, dso)` (C++ destructors of static objects).
    WithArgument(unsafe extern "C" fn(*mut c_void), *mut c_void),
}

/// The handlers, in registration order; run from the end. Handlers registered while
/// `exit` runs them are run too (C11 leaves it undefined; glibc does this).
static HANDLERS: Global<Array<Handler>> = Global::new(Array::new());

/// The destructors of the main thread's `thread_local` objects
/// (`__cxa_thread_atexit_impl`, used by C++ and by Rust's std): glibc runs them in
/// `exit` before the atexit handlers. Per thread once threads exist.
static THREAD_HANDLERS: Global<Array<Handler>> = Global::new(Array::new());

/// Registers a handler; false when out of memory (the count is otherwise unbounded).
pub fn register(handler: Handler) -> bool {
    HANDLERS.with(|handlers| handlers.push(handler))
}

/// Registers a `thread_local` destructor of the main thread; false when out of memory.
pub fn register_thread_destructor(handler: Handler) -> bool {
    // A thread other than the main one runs its destructors at its own exit.
    #[cfg(not(test))]
    if !crate::thread::threads::is_main_thread()
        && let Handler::WithArgument(function, object) = handler
    {
        return crate::thread::threads::add_thread_destructor(function, object);
    }
    THREAD_HANDLERS.with(|handlers| handlers.push(handler))
}

/// Runs and removes every registered handler, last registered first: the thread's
/// `thread_local` destructors, then the atexit handlers.
pub fn run_handlers() {
    drain(&THREAD_HANDLERS);
    drain(&HANDLERS);
}

fn drain(list: &Global<Array<Handler>>) {
    // The cell is released before each call, so a handler may register another one.
    while let Some(handler) = list.with(|handlers| handlers.pop()) {
        match handler {
            Handler::Plain(function) => function(),
            // SAFETY: the program registered this function for this argument.
            Handler::WithArgument(function, argument) => unsafe { function(argument) },
        }
    }
}

/// A destructor in `.fini_array`.
#[cfg(not(test))]
type Destructor = Option<unsafe extern "C" fn()>;

#[cfg(not(test))]
unsafe extern "C" {
    // Linker-script symbols around the destructor array (sysroot/link/<target>.ld).
    static __fini_array_start: [Destructor; 0];
    static __fini_array_end: [Destructor; 0];
}

/// Runs `.fini_array` from the last entry to the first (the ELF gABI order).
#[cfg(not(test))]
fn run_destructors() {
    let start = unik_kernel::symbol_address!(__fini_array_start) as *const Destructor;
    let mut cursor = unik_kernel::symbol_address!(__fini_array_end) as *const Destructor;
    while cursor > start {
        // SAFETY: the linker script brackets the array with these two symbols, so the
        // entry below `cursor` is inside it.
        let entry = unsafe {
            cursor = cursor.sub(1);
            cursor.read()
        };
        if let Some(destructor) = entry.filter(|function| *function as usize != usize::MAX) {
            // SAFETY: the linker collected this pointer from a destructor section.
            unsafe { destructor() };
        }
    }
}

/// C `exit` (C11 7.22.4.4): handlers in reverse order, `.fini_array` in reverse, stdio
/// flushed, then the VM ends with `status`.
#[cfg(not(test))]
pub fn exit(status: i32) -> ! {
    // The exiting thread's `thread_local` destructors first, as glibc's
    // __call_tls_dtors.
    crate::thread::threads::run_exiting_thread_destructors();
    run_handlers();
    run_destructors();
    crate::stdio::flush_all();
    // Data the program sent on sockets still goes out, as from an exiting Linux process.
    if let Some(sockets) = crate::fs::hooks::sockets() {
        (sockets.drain)();
    }
    crate::kernel::exit(status)
}

/// Writes a runtime message to the error console.
pub fn report(parts: &[&[u8]]) {
    for part in parts {
        crate::kernel::console::write_err(part);
    }
}

/// glibc's assertion message: `prog: file:line: func: Assertion `expr' failed.`
/// (the function part is left out when unknown), into `out`; returns the length used.
pub fn assertion_message(
    program: &[u8],
    expression: &[u8],
    file: &[u8],
    line: u32,
    function: Option<&[u8]>,
    out: &mut [u8],
) -> usize {
    let mut number = [0u8; 20];
    let number_length = crate::errno::write_decimal(&mut number, i64::from(line));
    let mut parts: [&[u8]; 11] = [b""; 11];
    parts[0] = program;
    parts[1] = if program.is_empty() { b"" } else { b": " };
    parts[2] = file;
    parts[3] = b":";
    parts[4] = &number[..number_length];
    parts[5] = b": ";
    if let Some(function) = function {
        parts[6] = function;
        parts[7] = b": ";
    }
    parts[8] = b"Assertion `";
    parts[9] = expression;
    parts[10] = b"' failed.\n";
    let mut used = 0;
    for part in parts {
        let take = part.len().min(out.len() - used);
        out[used..used + take].copy_from_slice(&part[..take]);
        used += take;
    }
    used
}

/// Names `__unik_missing_function` has warned about (the stubs' string addresses: one
/// string per stubbed function). Past the table's end every call warns again, which
/// only costs repetition.
static WARNED_MISSING: Global<([usize; 64], usize)> = Global::new(([0; 64], 0));

/// Whether the stub for the function whose name is at `name_address` warns now: the
/// first call for each name does.
pub fn first_missing_call(name_address: usize) -> bool {
    WARNED_MISSING.with(|(table, used)| {
        if table[..*used].contains(&name_address) {
            return false;
        }
        if *used < table.len() {
            table[*used] = name_address;
            *used += 1;
        }
        true
    })
}

/// Reports `parts` on the error console and ends the program like `abort()` (status 134).
pub fn abort_with(parts: &[&[u8]]) -> ! {
    report(parts);
    crate::kernel::exit(ABORT_STATUS)
}

#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::{CStr, c_char};

    /// What `unikcc --stub-missing` links for a function no component provides: warns
    /// once per function on the error console, then fails the call as Linux does for
    /// an unimplemented system call (-1, errno ENOSYS). The stubs tail-call this, so
    /// their caller receives the -1.
    ///
    /// # Safety
    /// `name` is a NUL-terminated string that lives for ever (the stub's own).
    #[unsafe(export_name = "__unik_missing_function")]
    pub unsafe extern "C" fn missing_function(name: *const c_char) -> core::ffi::c_long {
        if !name.is_null() && first_missing_call(name as usize) {
            // SAFETY: caller's contract.
            let text = unsafe { CStr::from_ptr(name) }.to_bytes();
            report(&[
                b"unik: warning: ",
                text,
                b" is not available in a unikernel (stubbed: returns -1, errno ENOSYS)\n",
            ]);
        }
        crate::errno::set(crate::errno::ENOSYS);
        -1
    }

    /// C `atexit` (C11 7.22.4.2): 0 on success, non-zero when out of memory.
    #[unsafe(export_name = "__unik_atexit")]
    pub extern "C" fn atexit(function: Option<extern "C" fn()>) -> i32 {
        match function {
            Some(function) if register(Handler::Plain(function)) => 0,
            _ => -1,
        }
    }

    /// The Itanium C++ ABI's `__cxa_atexit` (3.3.5.3); the DSO handle is irrelevant in a
    /// single static image.
    #[unsafe(export_name = "__unik___cxa_atexit")]
    pub extern "C" fn __cxa_atexit(
        function: Option<unsafe extern "C" fn(*mut c_void)>,
        argument: *mut c_void,
        _dso: *mut c_void,
    ) -> i32 {
        match function {
            Some(function) if register(Handler::WithArgument(function, argument)) => 0,
            _ => -1,
        }
    }

    /// glibc's `__cxa_thread_atexit_impl`: registers a destructor for a `thread_local`
    /// object of the calling thread (the main thread today).
    #[unsafe(export_name = "__unik___cxa_thread_atexit_impl")]
    pub extern "C" fn __cxa_thread_atexit_impl(
        function: Option<unsafe extern "C" fn(*mut c_void)>,
        object: *mut c_void,
        _dso: *mut c_void,
    ) -> i32 {
        match function {
            Some(function)
                if register_thread_destructor(Handler::WithArgument(function, object)) =>
            {
                0
            }
            _ => -1,
        }
    }

    /// The DSO handle `__cxa_atexit` callers pass (normally from crtbegin.o).
    #[unsafe(export_name = "__unik___dso_handle")]
    #[allow(non_upper_case_globals)]
    pub static __dso_handle: crate::global::Address = crate::global::Address::NULL;

    #[unsafe(export_name = "__unik_exit")]
    pub extern "C" fn exit(status: i32) -> ! {
        super::exit(status)
    }

    /// C `_Exit` (C11 7.22.4.5): no handlers, no flushing.
    #[unsafe(export_name = "__unik__Exit")]
    #[allow(non_snake_case)] // the C name
    pub extern "C" fn _Exit(status: i32) -> ! {
        crate::kernel::exit(status)
    }

    /// POSIX `_exit`: as `_Exit`.
    #[unsafe(export_name = "__unik__exit")]
    pub extern "C" fn _exit(status: i32) -> ! {
        crate::kernel::exit(status)
    }

    /// C `abort` (C11 7.22.4.1): reports and ends with SIGABRT's status, without
    /// flushing stdio (as glibc since 2.27).
    #[unsafe(export_name = "__unik_abort")]
    pub extern "C" fn abort() -> ! {
        report(&[b"unik: abort() called\n"]);
        crate::kernel::exit(ABORT_STATUS)
    }

    /// Called by code built with `-fstack-protector` when a canary was overwritten.
    #[unsafe(export_name = "__unik___stack_chk_fail")]
    pub extern "C" fn __stack_chk_fail() -> ! {
        report(&[b"unik: stack smashing detected\n"]);
        crate::kernel::exit(ABORT_STATUS)
    }

    /// glibc's `assert` failure (what `<assert.h>`'s macro calls).
    ///
    /// # Safety
    /// The strings are NUL-terminated (`function` may be NULL).
    #[unsafe(export_name = "__unik___assert_fail")]
    pub unsafe extern "C" fn __assert_fail(
        expression: *const c_char,
        file: *const c_char,
        line: u32,
        function: *const c_char,
    ) -> ! {
        let text = |string: *const c_char| -> &[u8] {
            if string.is_null() {
                b""
            } else {
                // SAFETY: caller's contract.
                unsafe { CStr::from_ptr(string) }.to_bytes()
            }
        };
        let function = (!function.is_null()).then(|| text(function));
        crate::stdio::flush_all();
        let mut message = [0u8; 1024];
        let length = assertion_message(
            crate::start::program_name(),
            text(expression),
            text(file),
            line,
            function,
            &mut message,
        );
        report(&[&message[..length]]);
        abort()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_function_warns_once_per_name() {
        let _serial = crate::global::serialize_test();
        let (first, second) = (0x1000_usize, 0x2000_usize);
        assert!(first_missing_call(first));
        assert!(!first_missing_call(first));
        assert!(first_missing_call(second));
        assert!(!first_missing_call(second));
    }
    use core::sync::atomic::{AtomicUsize, Ordering};

    static ORDER: Global<Vec<u8>> = Global::new(Vec::new());
    static LATE: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn first() {
        ORDER.with(|order| order.push(1));
    }
    extern "C" fn second() {
        ORDER.with(|order| order.push(2));
        register(Handler::Plain(late));
    }
    extern "C" fn late() {
        LATE.fetch_add(1, Ordering::Relaxed);
    }
    unsafe extern "C" fn with_argument(argument: *mut c_void) {
        ORDER.with(|order| order.push(argument as usize as u8));
    }

    #[test]
    fn handlers_run_in_reverse_registration_order() {
        let _serial = crate::global::serialize_test();
        crate::memory::claim_test_heap();
        assert!(register(Handler::Plain(first)));
        assert!(register(Handler::WithArgument(
            with_argument,
            7 as *mut c_void
        )));
        for _ in 0..100 {
            assert!(register(Handler::WithArgument(
                with_argument,
                9 as *mut c_void
            )));
        }
        assert!(register(Handler::Plain(second)));
        assert!(register_thread_destructor(Handler::WithArgument(
            with_argument,
            5 as *mut c_void
        )));
        run_handlers();
        let order = ORDER.with(|order| order.clone());
        assert_eq!(order.len(), 104);
        // thread_local destructors first, then the atexit handlers in reverse.
        assert_eq!(order[0], 5);
        assert_eq!(order[1], 2);
        assert!(order[2..102].iter().all(|&value| value == 9));
        assert_eq!(&order[102..], [7, 1]);
        assert_eq!(LATE.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn assertion_message_is_glibcs() {
        let mut out = [0u8; 200];
        let length = assertion_message(b"t", b"x == 1", b"t.c", 12, Some(b"main"), &mut out);
        assert_eq!(
            &out[..length],
            b"t: t.c:12: main: Assertion `x == 1' failed.\n"
        );
        let length = assertion_message(b"t", b"0", b"a.c", 3, None, &mut out);
        assert_eq!(&out[..length], b"t: a.c:3: Assertion `0' failed.\n");
        let mut small = [0u8; 10];
        assert_eq!(
            assertion_message(b"t", b"0", b"a.c", 3, None, &mut small),
            10
        );
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    __dso_handle,
    atexit,
    __cxa_atexit,
    exit,
    _Exit,
    _exit,
    abort,
    __stack_chk_fail,
    __assert_fail
);
