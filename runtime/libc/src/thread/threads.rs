//! Thread control blocks, creation, exit, join and detach, thread-specific data (keys)
//! and `__cxa_thread_atexit_impl` destructors.
#![cfg(not(test))]

extern crate alloc;

use alloc::boxed::Box;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use super::sync::futex_wait;
use crate::errno;

/// Offsets of the libc's per-thread fields in the kernel's per-thread data area
/// (`unik_kernel::sched::thread_data_area`, 64 zeroed bytes in each thread's TCB).
pub const ERRNO_OFFSET: usize = 0;
const CONTROL_OFFSET: usize = 8;

/// glibc's PTHREAD_KEYS_MAX and PTHREAD_DESTRUCTOR_ITERATIONS.
pub const KEYS_MAX: usize = 1024;
pub const DESTRUCTOR_ITERATIONS: usize = 4;

/// Default stack of a new thread (glibc takes RLIMIT_STACK, usually 8 MiB; stacks here
/// are backed by RAM up front, so the default is the boot stack's 2 MiB).
pub const DEFAULT_STACK_SIZE: usize = 2 * 1024 * 1024;
/// glibc's PTHREAD_STACK_MIN on x86_64.
pub const STACK_MIN: usize = 16384;
pub const DEFAULT_GUARD_SIZE: usize = 4096;

/// Join/detach state of a thread.
const JOINABLE: u32 = 0;
const DETACHED: u32 = 1;
const EXITED: u32 = 2;

type StartRoutine = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type ThreadDestructor = unsafe extern "C" fn(*mut c_void);

/// The libc's per-thread state; a `pthread_t` is its address.
pub struct ThreadControl {
    /// Non-zero while the thread exists; the kernel zeroes it and wakes its futex when
    /// the thread is gone.
    pub exit_word: AtomicU32,
    state: AtomicU32,
    pub kernel_id: u32,
    result: AtomicPtr<c_void>,
    start: Option<StartRoutine>,
    argument: *mut c_void,
    pub stack_bottom: usize,
    pub stack_size: usize,
    pub guard_size: usize,
    /// Thread-specific data values, allocated at the first `pthread_setspecific`.
    key_values: AtomicPtr<[*mut c_void; KEYS_MAX]>,
    /// `__cxa_thread_atexit_impl` destructors, run in reverse at exit.
    thread_destructors: crate::memory::Array<(ThreadDestructor, *mut c_void)>,
}

impl ThreadControl {
    const fn new() -> ThreadControl {
        ThreadControl {
            exit_word: AtomicU32::new(1),
            state: AtomicU32::new(JOINABLE),
            kernel_id: 1,
            result: AtomicPtr::new(core::ptr::null_mut()),
            start: None,
            argument: core::ptr::null_mut(),
            stack_bottom: 0,
            stack_size: 0,
            guard_size: 0,
            key_values: AtomicPtr::new(core::ptr::null_mut()),
            thread_destructors: crate::memory::Array::new(),
        }
    }
}

/// The main thread's control block (its TCB slot stays zero).
struct MainControl(core::cell::UnsafeCell<ThreadControl>);
// SAFETY: only the main thread mutates its own fields; other threads read the atomic
// ones (exit_word, state, result) and fields written before they could see the block.
unsafe impl Sync for MainControl {}
static MAIN_CONTROL: MainControl = MainControl(core::cell::UnsafeCell::new(ThreadControl::new()));

/// Live threads (the main one included): the last to exit ends the program.
static LIVE_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Connects the libc's locks to the kernel's futexes and fills in the main thread's
/// stack. Called by the program start (the `sched` component's init). The scheduler
/// itself starts on first need (`unik_kernel::sched::ensure_started`): the first
/// thread, the first wait that blocks, the first sleep.
pub fn initialize() {
    super::sync::install_futex();
    let (bottom, size) = unik_kernel::sched::current_stack();
    // SAFETY: at start, before any other thread exists: no other reference.
    let main = unsafe { &mut *MAIN_CONTROL.0.get() };
    main.stack_bottom = bottom;
    main.stack_size = size;
    main.guard_size = 4096;
}

fn tcb_field(offset: usize) -> *mut usize {
    (unik_kernel::sched::thread_data_area() + offset) as *mut usize
}

/// The calling thread's `errno` slot.
pub fn errno_location() -> *mut i32 {
    tcb_field(ERRNO_OFFSET).cast()
}

/// The calling thread's control block.
pub fn current() -> *mut ThreadControl {
    // SAFETY: the kernel's per-thread data area has 64 bytes: the slot is inside.
    let control = unsafe { tcb_field(CONTROL_OFFSET).read() };
    if control == 0 {
        MAIN_CONTROL.0.get()
    } else {
        control as *mut ThreadControl
    }
}

/// Attributes of a new thread.
pub struct Attributes {
    pub detached: bool,
    pub stack_size: usize,
    pub guard_size: usize,
}

/// `pthread_create`: returns the new thread's control block or an errno value.
pub fn create(
    attributes: &Attributes,
    start: StartRoutine,
    argument: *mut c_void,
) -> Result<*mut ThreadControl, i32> {
    let mut control = Box::new(ThreadControl::new());
    control.start = Some(start);
    control.argument = argument;
    control.guard_size = attributes.guard_size;
    if attributes.detached {
        control.state.store(DETACHED, Ordering::Relaxed);
    }
    let control = Box::into_raw(control);
    LIVE_THREADS.fetch_add(1, Ordering::AcqRel);
    // SAFETY: freshly boxed; the new thread does not run before spawn returns... it may
    // (preemption), so everything it reads is written above, and the fields written
    // below are only read by other threads (join, getattr).
    let exit_word = unsafe { &raw const (*control).exit_word } as usize;
    let spawned = unik_kernel::sched::spawn(unik_kernel::sched::SpawnOptions {
        entry: thread_entry,
        argument: control as usize,
        stack_size: attributes.stack_size,
        guard_size: attributes.guard_size,
        name: b"",
        exit_clear_address: exit_word,
    });
    match spawned {
        Ok(spawned) => {
            // SAFETY: the block lives until joined (by this or another thread, after
            // pthread_create returned the handle) or until a detached thread frees it at
            // its exit; writing plain fields the new thread never reads.
            unsafe {
                (*control).kernel_id = spawned.id;
                (*control).stack_bottom = spawned.stack_bottom;
                (*control).stack_size = spawned.stack_size;
            }
            Ok(control)
        }
        Err(error) => {
            LIVE_THREADS.fetch_sub(1, Ordering::AcqRel);
            // SAFETY: never given to a thread.
            drop(unsafe { Box::from_raw(control) });
            Err(match error {
                unik_kernel::sched::StackError::OutOfMemory => errno::EAGAIN,
                unik_kernel::sched::StackError::TooLarge => errno::EINVAL,
            })
        }
    }
}

/// The new thread's first libc code: publishes its control block in its TCB, runs the
/// start routine, exits with its result.
fn thread_entry(control: usize) {
    // SAFETY: the slot is this thread's own (the kernel's per-thread data area).
    unsafe { tcb_field(CONTROL_OFFSET).write(control) };
    let control = control as *mut ThreadControl;
    // SAFETY: the block lives at least until this thread exits.
    let (start, argument) = unsafe { ((*control).start, (*control).argument) };
    let result = match start {
        // SAFETY: the program's start routine with its argument (pthread_create).
        Some(start) => unsafe { start(argument) },
        None => core::ptr::null_mut(),
    };
    exit(result)
}

/// `pthread_exit`: destructors, then the thread ends (the program, if it was the last).
pub fn exit(result: *mut c_void) -> ! {
    let control = current();
    run_thread_destructors(control);
    run_key_destructors(control);
    // SAFETY: our own block.
    let control_ref = unsafe { &*control };
    control_ref.result.store(result, Ordering::Release);
    if LIVE_THREADS.fetch_sub(1, Ordering::AcqRel) == 1 {
        crate::process::exit(0)
    }
    free_key_values(control_ref);
    let previous = control_ref.state.swap(EXITED, Ordering::AcqRel);
    if previous == DETACHED && control != MAIN_CONTROL.0.get() {
        // Nobody will join: free the block now, and tell the kernel not to touch it.
        unik_kernel::sched::clear_exit_address();
        // SAFETY: detached: no other thread holds this handle legitimately any more.
        drop(unsafe { Box::from_raw(control) });
    }
    unik_kernel::sched::exit_current()
}

fn wait_until_gone(control: &ThreadControl) {
    loop {
        let word = control.exit_word.load(Ordering::Acquire);
        if word == 0 {
            return;
        }
        let _ = futex_wait(&control.exit_word, word, None);
    }
}

/// `pthread_join`: an errno value on failure.
///
/// # Safety
/// `thread` is NULL or a handle from [`create`] not yet joined or detached (POSIX
/// makes anything else undefined).
pub unsafe fn join(thread: *mut ThreadControl) -> Result<*mut c_void, i32> {
    if thread.is_null() {
        return Err(errno::ESRCH);
    }
    if thread == current() {
        return Err(errno::EDEADLK);
    }
    // SAFETY: a handle from pthread_create that was not joined or detached (POSIX
    // makes anything else undefined).
    let control = unsafe { &*thread };
    if control.state.load(Ordering::Acquire) == DETACHED {
        return Err(errno::EINVAL);
    }
    wait_until_gone(control);
    let result = control.result.load(Ordering::Acquire);
    if thread != MAIN_CONTROL.0.get() {
        // SAFETY: the thread is gone and we are its one joiner.
        drop(unsafe { Box::from_raw(thread) });
    }
    unik_kernel::sched::reap();
    Ok(result)
}

/// `pthread_detach`.
///
/// # Safety
/// As [`join`].
pub unsafe fn detach(thread: *mut ThreadControl) -> Result<(), i32> {
    if thread.is_null() {
        return Err(errno::ESRCH);
    }
    // SAFETY: a live handle (POSIX: anything else is undefined).
    let control = unsafe { &*thread };
    match control.state.swap(DETACHED, Ordering::AcqRel) {
        DETACHED => Err(errno::EINVAL),
        EXITED => {
            // It already ran its exit: free it once the kernel is done with it.
            wait_until_gone(control);
            if thread != MAIN_CONTROL.0.get() {
                // SAFETY: gone, and detached: this is the last user.
                drop(unsafe { Box::from_raw(thread) });
            }
            unik_kernel::sched::reap();
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---- thread-specific data (keys) ----

/// Key slots: the destructor and whether the key is in use. A sequence number guards
/// against reuse (a value set under a deleted key reads as NULL under its successor is
/// what glibc does with its sequence numbers; here deletion clears nothing, and
/// `pthread_key_create` hands out never-used slots first).
struct KeyTable {
    in_use: [bool; KEYS_MAX],
    destructors: [Option<ThreadDestructor>; KEYS_MAX],
}

static KEYS: crate::global::Global<KeyTable> = crate::global::Global::new(KeyTable {
    in_use: [false; KEYS_MAX],
    destructors: [None; KEYS_MAX],
});

pub fn key_create(destructor: Option<ThreadDestructor>) -> Result<u32, i32> {
    KEYS.with(|keys| {
        let index = keys
            .in_use
            .iter()
            .position(|&used| !used)
            .ok_or(errno::EAGAIN)?;
        keys.in_use[index] = true;
        keys.destructors[index] = destructor;
        Ok(index as u32)
    })
}

pub fn key_delete(key: u32) -> Result<(), i32> {
    KEYS.with(|keys| {
        let index = key as usize;
        if index >= KEYS_MAX || !keys.in_use[index] {
            return Err(errno::EINVAL);
        }
        keys.in_use[index] = false;
        keys.destructors[index] = None;
        Ok(())
    })
}

fn key_values(control: &ThreadControl, allocate: bool) -> Option<*mut [*mut c_void; KEYS_MAX]> {
    let values = control.key_values.load(Ordering::Acquire);
    if !values.is_null() {
        return Some(values);
    }
    if !allocate {
        return None;
    }
    let values = Box::into_raw(Box::new([core::ptr::null_mut(); KEYS_MAX]));
    control.key_values.store(values, Ordering::Release);
    Some(values)
}

fn free_key_values(control: &ThreadControl) {
    let values = control
        .key_values
        .swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !values.is_null() {
        // SAFETY: allocated by key_values with Box; only this thread uses it.
        drop(unsafe { Box::from_raw(values) });
    }
}

pub fn get_specific(key: u32) -> *mut c_void {
    let index = key as usize;
    if index >= KEYS_MAX {
        return core::ptr::null_mut();
    }
    // SAFETY: our own block.
    let control = unsafe { &*current() };
    match key_values(control, false) {
        // SAFETY: this thread's own array.
        Some(values) => unsafe { (*values)[index] },
        None => core::ptr::null_mut(),
    }
}

pub fn set_specific(key: u32, value: *mut c_void) -> Result<(), i32> {
    let index = key as usize;
    if index >= KEYS_MAX || !KEYS.with(|keys| keys.in_use[index]) {
        return Err(errno::EINVAL);
    }
    // SAFETY: our own block.
    let control = unsafe { &*current() };
    let values = key_values(control, true).ok_or(errno::ENOMEM)?;
    // SAFETY: this thread's own array.
    unsafe { (*values)[index] = value };
    Ok(())
}

/// POSIX: for each key with a non-NULL value and a destructor, set the value to NULL
/// and call the destructor; repeat while values remain, at most
/// PTHREAD_DESTRUCTOR_ITERATIONS times.
fn run_key_destructors(control: *mut ThreadControl) {
    // SAFETY: our own block.
    let control = unsafe { &*control };
    let Some(values) = key_values(control, false) else {
        return;
    };
    for _ in 0..DESTRUCTOR_ITERATIONS {
        let mut called = false;
        for index in 0..KEYS_MAX {
            // SAFETY: this thread's own array.
            let value = unsafe { (*values)[index] };
            if value.is_null() {
                continue;
            }
            let destructor = KEYS.with(|keys| {
                if keys.in_use[index] {
                    keys.destructors[index]
                } else {
                    None
                }
            });
            if let Some(destructor) = destructor {
                // SAFETY: as above.
                unsafe { (*values)[index] = core::ptr::null_mut() };
                // SAFETY: the program's destructor with its value (POSIX).
                unsafe { destructor(value) };
                called = true;
            }
        }
        if !called {
            break;
        }
    }
}

/// `__cxa_thread_atexit_impl` for threads other than the main one: runs `destructor(object)` when the calling thread exits.
pub fn add_thread_destructor(destructor: ThreadDestructor, object: *mut c_void) -> bool {
    // SAFETY: our own block; only this thread touches its destructor list.
    let control = unsafe { &mut *current() };
    control.thread_destructors.push((destructor, object))
}

fn run_thread_destructors(control: *mut ThreadControl) {
    loop {
        // SAFETY: our own block; a destructor may register more (C++ allows it), so
        // pop one at a time.
        let next = unsafe { (*control).thread_destructors.pop() };
        let Some((destructor, object)) = next else {
            break;
        };
        // SAFETY: registered by the program for this object.
        unsafe { destructor(object) };
    }
}

/// Runs the main thread's `thread_local` destructors (called by `exit`, as glibc's
/// `__call_tls_dtors`).
pub fn run_exiting_thread_destructors() {
    run_thread_destructors(current());
}

/// Whether the caller is the main thread (its `thread_local` destructors run in
/// `exit`, registered in `process`).
pub fn is_main_thread() -> bool {
    current() == MAIN_CONTROL.0.get()
}
