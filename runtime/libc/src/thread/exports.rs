//! The `pthread_*` C functions, `sched_yield`, `__cxa_thread_atexit_impl`.
//!
//! Object layouts are glibc's sizes and alignments on LP64 (`sysroot/include/
//! bits/pthreadtypes.h` declares them opaque, like glibc): the fields below are this
//! library's own use of those bytes. Zeroed memory is a valid default object of every
//! kind, as with glibc's static initializers; the recursive/error-checking mutex
//! initializers put the kind at glibc's offset 16.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::sync::atomic::{AtomicU32, Ordering};

use super::sync::{futex_wait, futex_wake, lock_word, unlock_word};
use super::threads::{self, Attributes, ThreadControl};
use crate::errno::{EBUSY, EDEADLK, EINVAL, EPERM, ERANGE, ETIMEDOUT};
use crate::time::Timespec;

type PthreadT = usize;

// ---- time helpers ----

/// A monotonic deadline from an absolute `timespec` on `clock` (0 realtime, 1 monotonic).
fn deadline_from(absolute: *const Timespec, clock: c_int) -> Result<u64, c_int> {
    // SAFETY: the caller passes a valid timespec (POSIX); NULL is rejected.
    let time = unsafe { absolute.as_ref() }.ok_or(EINVAL)?;
    let nanoseconds = time.to_nanoseconds().ok_or(EINVAL)?;
    Ok(if clock == crate::time::CLOCK_REALTIME {
        unik_kernel::time::monotonic_from_realtime(nanoseconds)
    } else {
        nanoseconds
    })
}

/// The `sched` component's init function (runtime/components.toml): connects the
/// libc's locks to the scheduler, which starts when first needed.
#[unsafe(no_mangle)]
extern "C" fn __unik_init_sched() {
    threads::initialize();
}

// ---- attributes ----

#[repr(C)]
struct ThreadAttributes {
    stack_size: usize,
    guard_size: usize,
    detach_state: c_int,
    /// Set by pthread_attr_init: tells an initialised object from zeroes.
    initialized: c_int,
    stack_address: usize,
    _reserved: [usize; 3],
}
const _: () = assert!(core::mem::size_of::<ThreadAttributes>() == 56);

const PTHREAD_CREATE_DETACHED: c_int = 1;
const ATTRIBUTES_MAGIC: c_int = 0x756e_696b;

#[unsafe(export_name = "__unik_pthread_attr_init")]
extern "C" fn pthread_attr_init(attributes: *mut ThreadAttributes) -> c_int {
    // SAFETY: the caller's object (POSIX).
    unsafe {
        attributes.write(ThreadAttributes {
            stack_size: threads::DEFAULT_STACK_SIZE,
            guard_size: threads::DEFAULT_GUARD_SIZE,
            detach_state: 0,
            initialized: ATTRIBUTES_MAGIC,
            stack_address: 0,
            _reserved: [0; 3],
        })
    };
    0
}

#[unsafe(export_name = "__unik_pthread_attr_destroy")]
extern "C" fn pthread_attr_destroy(_attributes: *mut ThreadAttributes) -> c_int {
    0
}

macro_rules! attribute_accessors {
    ($set:ident, $get:ident, $field:ident, $type:ty, $check:expr) => {
        #[unsafe(export_name = concat!("__unik_", stringify!($set)))]
        extern "C" fn $set(attributes: *mut ThreadAttributes, value: $type) -> c_int {
            let check: fn($type) -> bool = $check;
            if !check(value) {
                return EINVAL;
            }
            // SAFETY: the caller's initialised object (POSIX).
            unsafe { (*attributes).$field = value as _ };
            0
        }
        #[unsafe(export_name = concat!("__unik_", stringify!($get)))]
        extern "C" fn $get(attributes: *const ThreadAttributes, value: *mut $type) -> c_int {
            // SAFETY: the caller's objects (POSIX).
            unsafe { *value = (*attributes).$field as _ };
            0
        }
    };
}
attribute_accessors!(
    pthread_attr_setstacksize,
    pthread_attr_getstacksize,
    stack_size,
    usize,
    |size| size >= threads::STACK_MIN
);
attribute_accessors!(
    pthread_attr_setguardsize,
    pthread_attr_getguardsize,
    guard_size,
    usize,
    |_| true
);
attribute_accessors!(
    pthread_attr_setdetachstate,
    pthread_attr_getdetachstate,
    detach_state,
    c_int,
    |state| state == 0 || state == PTHREAD_CREATE_DETACHED
);

#[unsafe(export_name = "__unik_pthread_attr_getstack")]
extern "C" fn pthread_attr_getstack(
    attributes: *const ThreadAttributes,
    address: *mut *mut c_void,
    size: *mut usize,
) -> c_int {
    // SAFETY: the caller's objects (POSIX).
    unsafe {
        *address = (*attributes).stack_address as *mut c_void;
        *size = (*attributes).stack_size;
    }
    0
}

fn attributes_of(attributes: *const ThreadAttributes) -> Attributes {
    // SAFETY: NULL or the caller's object (POSIX).
    match unsafe { attributes.as_ref() } {
        Some(attributes) if attributes.initialized == ATTRIBUTES_MAGIC => Attributes {
            detached: attributes.detach_state == PTHREAD_CREATE_DETACHED,
            stack_size: attributes.stack_size,
            guard_size: attributes.guard_size,
        },
        _ => Attributes {
            detached: false,
            stack_size: threads::DEFAULT_STACK_SIZE,
            guard_size: threads::DEFAULT_GUARD_SIZE,
        },
    }
}

/// GNU `pthread_getattr_np`: the thread's actual stack (Rust std reads it for its guard).
#[unsafe(export_name = "__unik_pthread_getattr_np")]
extern "C" fn pthread_getattr_np(thread: PthreadT, attributes: *mut ThreadAttributes) -> c_int {
    // SAFETY: a live handle (GNU: anything else is undefined).
    let control = unsafe { &*(thread as *const ThreadControl) };
    pthread_attr_init(attributes);
    // SAFETY: just initialised, the caller's object.
    unsafe {
        (*attributes).stack_address = control.stack_bottom;
        (*attributes).stack_size = control.stack_size;
        (*attributes).guard_size = control.guard_size;
    }
    0
}

// ---- threads ----

#[unsafe(export_name = "__unik_pthread_create")]
extern "C" fn pthread_create(
    thread: *mut PthreadT,
    attributes: *const ThreadAttributes,
    start: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>,
    argument: *mut c_void,
) -> c_int {
    let Some(start) = start else {
        return EINVAL;
    };
    match threads::create(&attributes_of(attributes), start, argument) {
        Ok(control) => {
            // SAFETY: the caller's pthread_t (POSIX).
            unsafe { *thread = control as PthreadT };
            0
        }
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_join")]
extern "C" fn pthread_join(thread: PthreadT, result: *mut *mut c_void) -> c_int {
    // SAFETY: the program's handle (POSIX: a joinable thread's).
    match unsafe { threads::join(thread as *mut ThreadControl) } {
        Ok(value) => {
            if !result.is_null() {
                // SAFETY: the caller's pointer (POSIX).
                unsafe { *result = value };
            }
            0
        }
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_detach")]
extern "C" fn pthread_detach(thread: PthreadT) -> c_int {
    // SAFETY: the program's handle (POSIX: a joinable thread's).
    match unsafe { threads::detach(thread as *mut ThreadControl) } {
        Ok(()) => 0,
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_exit")]
extern "C" fn pthread_exit(result: *mut c_void) -> ! {
    threads::exit(result)
}

#[unsafe(export_name = "__unik_pthread_self")]
extern "C" fn pthread_self() -> PthreadT {
    threads::current() as PthreadT
}

#[unsafe(export_name = "__unik_pthread_equal")]
extern "C" fn pthread_equal(first: PthreadT, second: PthreadT) -> c_int {
    c_int::from(first == second)
}

#[unsafe(export_name = "__unik_sched_yield")]
extern "C" fn sched_yield() -> c_int {
    unik_kernel::sched::yield_now();
    0
}

#[unsafe(export_name = "__unik_gettid")]
extern "C" fn gettid() -> c_int {
    unik_kernel::sched::current_id() as c_int
}

#[unsafe(export_name = "__unik_pthread_setname_np")]
extern "C" fn pthread_setname_np(thread: PthreadT, name: *const c_char) -> c_int {
    // SAFETY: a NUL-terminated string (GNU).
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    if name.len() > 15 {
        return ERANGE;
    }
    // SAFETY: a live handle.
    let id = unsafe { (*(thread as *const ThreadControl)).kernel_id };
    if unik_kernel::sched::set_name(id, name) {
        0
    } else {
        crate::errno::ESRCH
    }
}

#[unsafe(export_name = "__unik_pthread_getname_np")]
extern "C" fn pthread_getname_np(thread: PthreadT, buffer: *mut c_char, length: usize) -> c_int {
    // SAFETY: a live handle.
    let id = unsafe { (*(thread as *const ThreadControl)).kernel_id };
    let mut name = [0u8; 16];
    let Some(name_length) = unik_kernel::sched::name(id, &mut name) else {
        return crate::errno::ESRCH;
    };
    if length <= name_length {
        return ERANGE;
    }
    // SAFETY: the caller's buffer holds `length` > name_length bytes.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr(), buffer.cast(), name_length);
        *buffer.add(name_length) = 0;
    }
    0
}

// ---- keys ----

#[unsafe(export_name = "__unik_pthread_key_create")]
extern "C" fn pthread_key_create(
    key: *mut c_uint,
    destructor: Option<unsafe extern "C" fn(*mut c_void)>,
) -> c_int {
    match threads::key_create(destructor) {
        Ok(index) => {
            // SAFETY: the caller's key (POSIX).
            unsafe { *key = index };
            0
        }
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_key_delete")]
extern "C" fn pthread_key_delete(key: c_uint) -> c_int {
    threads::key_delete(key).err().unwrap_or(0)
}

#[unsafe(export_name = "__unik_pthread_getspecific")]
extern "C" fn pthread_getspecific(key: c_uint) -> *mut c_void {
    threads::get_specific(key)
}

#[unsafe(export_name = "__unik_pthread_setspecific")]
extern "C" fn pthread_setspecific(key: c_uint, value: *const c_void) -> c_int {
    threads::set_specific(key, value.cast_mut())
        .err()
        .unwrap_or(0)
}

// ---- once ----

/// `pthread_once`: 0 never run, 1 running, 2 done (futex-waited while 1).
#[unsafe(export_name = "__unik_pthread_once")]
extern "C" fn pthread_once(once: *mut AtomicU32, routine: Option<extern "C" fn()>) -> c_int {
    // SAFETY: the caller's pthread_once_t (an int, zero-initialised by PTHREAD_ONCE_INIT).
    let once = unsafe { &*once };
    loop {
        match once.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                if let Some(routine) = routine {
                    routine();
                }
                once.store(2, Ordering::Release);
                futex_wake(once, usize::MAX);
                return 0;
            }
            Err(2) => return 0,
            Err(_) => {
                let _ = futex_wait(once, 1, None);
            }
        }
    }
}

// ---- mutexes ----

#[repr(C)]
struct Mutex {
    lock: AtomicU32,
    /// Recursion depth of a recursive mutex.
    count: c_uint,
    /// Kernel thread id of the owner (recursive and error-checking kinds).
    owner: c_int,
    users: c_uint,
    /// glibc's __kind at offset 16: 0 normal, 1 recursive, 2 error-checking, 3 adaptive.
    kind: c_int,
    _spins: i16,
    _elision: i16,
    _list: [usize; 2],
}
const _: () = assert!(core::mem::size_of::<Mutex>() == 40);

const MUTEX_RECURSIVE: c_int = 1;
const MUTEX_ERRORCHECK: c_int = 2;

#[unsafe(export_name = "__unik_pthread_mutexattr_init")]
extern "C" fn pthread_mutexattr_init(attributes: *mut c_int) -> c_int {
    // SAFETY: the caller's pthread_mutexattr_t (4 bytes on glibc).
    unsafe { *attributes = 0 };
    0
}

#[unsafe(export_name = "__unik_pthread_mutexattr_destroy")]
extern "C" fn pthread_mutexattr_destroy(_attributes: *mut c_int) -> c_int {
    0
}

#[unsafe(export_name = "__unik_pthread_mutexattr_settype")]
extern "C" fn pthread_mutexattr_settype(attributes: *mut c_int, kind: c_int) -> c_int {
    if !(0..=3).contains(&kind) {
        return EINVAL;
    }
    // SAFETY: the caller's object.
    unsafe { *attributes = kind };
    0
}

#[unsafe(export_name = "__unik_pthread_mutexattr_gettype")]
extern "C" fn pthread_mutexattr_gettype(attributes: *const c_int, kind: *mut c_int) -> c_int {
    // SAFETY: the caller's objects.
    unsafe { *kind = *attributes };
    0
}

#[unsafe(export_name = "__unik_pthread_mutex_init")]
extern "C" fn pthread_mutex_init(mutex: *mut Mutex, attributes: *const c_int) -> c_int {
    // SAFETY: NULL or the caller's attribute object.
    let kind = unsafe { attributes.as_ref() }.copied().unwrap_or(0);
    // SAFETY: the caller's mutex object.
    unsafe {
        mutex.write(Mutex {
            lock: AtomicU32::new(0),
            count: 0,
            owner: 0,
            users: 0,
            kind,
            _spins: 0,
            _elision: 0,
            _list: [0; 2],
        })
    };
    0
}

#[unsafe(export_name = "__unik_pthread_mutex_destroy")]
extern "C" fn pthread_mutex_destroy(mutex: *mut Mutex) -> c_int {
    // SAFETY: the caller's mutex.
    if unsafe { &*mutex }.lock.load(Ordering::Relaxed) != 0 {
        return EBUSY;
    }
    0
}

fn current_id() -> c_int {
    unik_kernel::sched::current_id() as c_int
}

/// Locks `mutex` (until `deadline`): 0 or an errno value.
fn mutex_lock(mutex: *mut Mutex, deadline: Option<u64>, try_only: bool) -> c_int {
    // SAFETY: the caller's mutex object; the lock word is atomic, the other fields are
    // written only by the owner.
    let mutex = unsafe { &mut *mutex };
    let kind = mutex.kind & 3;
    let me = current_id();
    if (kind == MUTEX_RECURSIVE || kind == MUTEX_ERRORCHECK)
        && mutex.owner == me
        && mutex.lock.load(Ordering::Relaxed) != 0
    {
        if kind == MUTEX_ERRORCHECK {
            return if try_only { EBUSY } else { EDEADLK };
        }
        mutex.count = match mutex.count.checked_add(1) {
            Some(count) => count,
            None => return crate::errno::EAGAIN,
        };
        return 0;
    }
    let acquired = if try_only {
        mutex
            .lock
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    } else {
        lock_word(&mutex.lock, deadline)
    };
    if !acquired {
        return if try_only { EBUSY } else { ETIMEDOUT };
    }
    mutex.owner = me;
    mutex.count = 1;
    0
}

#[unsafe(export_name = "__unik_pthread_mutex_lock")]
extern "C" fn pthread_mutex_lock(mutex: *mut Mutex) -> c_int {
    mutex_lock(mutex, None, false)
}

#[unsafe(export_name = "__unik_pthread_mutex_trylock")]
extern "C" fn pthread_mutex_trylock(mutex: *mut Mutex) -> c_int {
    mutex_lock(mutex, None, true)
}

#[unsafe(export_name = "__unik_pthread_mutex_timedlock")]
extern "C" fn pthread_mutex_timedlock(mutex: *mut Mutex, absolute: *const Timespec) -> c_int {
    match deadline_from(absolute, crate::time::CLOCK_REALTIME) {
        Ok(deadline) => mutex_lock(mutex, Some(deadline), false),
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_mutex_unlock")]
extern "C" fn pthread_mutex_unlock(mutex: *mut Mutex) -> c_int {
    // SAFETY: the caller's mutex object.
    let mutex = unsafe { &mut *mutex };
    let kind = mutex.kind & 3;
    if kind == MUTEX_RECURSIVE || kind == MUTEX_ERRORCHECK {
        if mutex.owner != current_id() || mutex.lock.load(Ordering::Relaxed) == 0 {
            return EPERM;
        }
        if kind == MUTEX_RECURSIVE && mutex.count > 1 {
            mutex.count -= 1;
            return 0;
        }
    }
    mutex.owner = 0;
    mutex.count = 0;
    unlock_word(&mutex.lock);
    0
}

// ---- condition variables ----

#[repr(C)]
struct Condition {
    /// Bumped by every signal and broadcast; waiters sleep on it.
    sequence: AtomicU32,
    /// The clock of timed waits: 0 CLOCK_REALTIME (the default), 1 CLOCK_MONOTONIC.
    clock: c_int,
    _reserved: [u64; 5],
}
const _: () = assert!(core::mem::size_of::<Condition>() == 48);

#[unsafe(export_name = "__unik_pthread_condattr_init")]
extern "C" fn pthread_condattr_init(attributes: *mut c_int) -> c_int {
    // SAFETY: the caller's pthread_condattr_t (4 bytes).
    unsafe { *attributes = 0 };
    0
}

#[unsafe(export_name = "__unik_pthread_condattr_destroy")]
extern "C" fn pthread_condattr_destroy(_attributes: *mut c_int) -> c_int {
    0
}

#[unsafe(export_name = "__unik_pthread_condattr_setclock")]
extern "C" fn pthread_condattr_setclock(attributes: *mut c_int, clock: c_int) -> c_int {
    if clock != crate::time::CLOCK_REALTIME && clock != crate::time::CLOCK_MONOTONIC {
        return EINVAL;
    }
    // SAFETY: the caller's object.
    unsafe { *attributes = clock };
    0
}

#[unsafe(export_name = "__unik_pthread_condattr_getclock")]
extern "C" fn pthread_condattr_getclock(attributes: *const c_int, clock: *mut c_int) -> c_int {
    // SAFETY: the caller's objects.
    unsafe { *clock = *attributes };
    0
}

#[unsafe(export_name = "__unik_pthread_cond_init")]
extern "C" fn pthread_cond_init(condition: *mut Condition, attributes: *const c_int) -> c_int {
    // SAFETY: NULL or the caller's attribute object.
    let clock = unsafe { attributes.as_ref() }.copied().unwrap_or(0);
    // SAFETY: the caller's object.
    unsafe {
        condition.write(Condition {
            sequence: AtomicU32::new(0),
            clock,
            _reserved: [0; 5],
        })
    };
    0
}

#[unsafe(export_name = "__unik_pthread_cond_destroy")]
extern "C" fn pthread_cond_destroy(_condition: *mut Condition) -> c_int {
    0
}

fn condition_wait(condition: *mut Condition, mutex: *mut Mutex, deadline: Option<u64>) -> c_int {
    // SAFETY: the caller's objects (POSIX).
    let condition_ref = unsafe { &*condition };
    // Read before the release: a signal after the release changes it, and the futex
    // wait then returns at once (no lost wakeup).
    let sequence = condition_ref.sequence.load(Ordering::Acquire);
    // SAFETY: the caller's mutex, which it holds.
    let (kind, count) = unsafe { ((*mutex).kind & 3, (*mutex).count) };
    // A recursive mutex is released completely and taken back at its depth (glibc).
    // SAFETY: as above.
    unsafe {
        if kind == MUTEX_ERRORCHECK && (*mutex).owner != current_id() {
            return EPERM;
        }
        (*mutex).count = 1;
    }
    pthread_mutex_unlock(mutex);
    let timed_out = futex_wait(&condition_ref.sequence, sequence, deadline).is_err();
    // SAFETY: as above: the mutex object outlives the wait.
    let mutex_ref = unsafe { &mut *mutex };
    // Contended lock: other waiters may sleep on the mutex now (Drepper's requeue-less
    // condvar marks it 2 so that unlock wakes them).
    while mutex_ref.lock.swap(2, Ordering::Acquire) != 0 {
        let _ = futex_wait(&mutex_ref.lock, 2, None);
    }
    mutex_ref.owner = current_id();
    mutex_ref.count = count.max(1);
    if timed_out { ETIMEDOUT } else { 0 }
}

#[unsafe(export_name = "__unik_pthread_cond_wait")]
extern "C" fn pthread_cond_wait(condition: *mut Condition, mutex: *mut Mutex) -> c_int {
    condition_wait(condition, mutex, None)
}

#[unsafe(export_name = "__unik_pthread_cond_timedwait")]
extern "C" fn pthread_cond_timedwait(
    condition: *mut Condition,
    mutex: *mut Mutex,
    absolute: *const Timespec,
) -> c_int {
    // SAFETY: the caller's object.
    let clock = unsafe { (*condition).clock };
    match deadline_from(absolute, clock) {
        Ok(deadline) => condition_wait(condition, mutex, Some(deadline)),
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_cond_signal")]
extern "C" fn pthread_cond_signal(condition: *mut Condition) -> c_int {
    // SAFETY: the caller's object.
    let condition = unsafe { &*condition };
    condition.sequence.fetch_add(1, Ordering::Release);
    futex_wake(&condition.sequence, 1);
    0
}

#[unsafe(export_name = "__unik_pthread_cond_broadcast")]
extern "C" fn pthread_cond_broadcast(condition: *mut Condition) -> c_int {
    // SAFETY: the caller's object.
    let condition = unsafe { &*condition };
    condition.sequence.fetch_add(1, Ordering::Release);
    futex_wake(&condition.sequence, usize::MAX);
    0
}

// ---- read-write locks ----

#[repr(C)]
struct ReadWriteLock {
    /// Readers holding it, or WRITER.
    state: AtomicU32,
    /// Bumped at every release; blocked lockers sleep on it.
    sequence: AtomicU32,
    writer: c_int,
    _reserved: [u32; 11],
}
const _: () = assert!(core::mem::size_of::<ReadWriteLock>() == 56);
const WRITER: u32 = u32::MAX;

#[unsafe(export_name = "__unik_pthread_rwlock_init")]
extern "C" fn pthread_rwlock_init(lock: *mut ReadWriteLock, _attributes: *const c_void) -> c_int {
    // SAFETY: the caller's object.
    unsafe {
        lock.write(ReadWriteLock {
            state: AtomicU32::new(0),
            sequence: AtomicU32::new(0),
            writer: 0,
            _reserved: [0; 11],
        })
    };
    0
}

#[unsafe(export_name = "__unik_pthread_rwlock_destroy")]
extern "C" fn pthread_rwlock_destroy(_lock: *mut ReadWriteLock) -> c_int {
    0
}

fn rwlock_acquire(
    lock: *mut ReadWriteLock,
    write: bool,
    deadline: Option<u64>,
    try_only: bool,
) -> c_int {
    // SAFETY: the caller's object.
    let lock = unsafe { &*lock };
    loop {
        let sequence = lock.sequence.load(Ordering::Acquire);
        let state = lock.state.load(Ordering::Acquire);
        let wanted = if write {
            (state == 0).then_some(WRITER)
        } else {
            (state < WRITER - 1).then_some(state + 1)
        };
        if let Some(new_state) = wanted {
            if lock
                .state
                .compare_exchange(state, new_state, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return 0;
            }
            continue;
        }
        if try_only {
            return EBUSY;
        }
        if write && state == WRITER && lock.writer == current_id() {
            return EDEADLK;
        }
        if futex_wait(&lock.sequence, sequence, deadline).is_err() {
            return ETIMEDOUT;
        }
    }
}

macro_rules! rwlock_entry {
    ($name:ident, $write:expr, $try:expr) => {
        #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
        extern "C" fn $name(lock: *mut ReadWriteLock) -> c_int {
            let status = rwlock_acquire(lock, $write, None, $try);
            if status == 0 && $write {
                // SAFETY: we hold it for writing.
                unsafe { (*lock).writer = current_id() };
            }
            status
        }
    };
}
rwlock_entry!(pthread_rwlock_rdlock, false, false);
rwlock_entry!(pthread_rwlock_tryrdlock, false, true);
rwlock_entry!(pthread_rwlock_wrlock, true, false);
rwlock_entry!(pthread_rwlock_trywrlock, true, true);

#[unsafe(export_name = "__unik_pthread_rwlock_timedrdlock")]
extern "C" fn pthread_rwlock_timedrdlock(
    lock: *mut ReadWriteLock,
    absolute: *const Timespec,
) -> c_int {
    match deadline_from(absolute, crate::time::CLOCK_REALTIME) {
        Ok(deadline) => rwlock_acquire(lock, false, Some(deadline), false),
        Err(error) => error,
    }
}

#[unsafe(export_name = "__unik_pthread_rwlock_timedwrlock")]
extern "C" fn pthread_rwlock_timedwrlock(
    lock: *mut ReadWriteLock,
    absolute: *const Timespec,
) -> c_int {
    let status = match deadline_from(absolute, crate::time::CLOCK_REALTIME) {
        Ok(deadline) => rwlock_acquire(lock, true, Some(deadline), false),
        Err(error) => error,
    };
    if status == 0 {
        // SAFETY: we hold it for writing.
        unsafe { (*lock).writer = current_id() };
    }
    status
}

#[unsafe(export_name = "__unik_pthread_rwlock_unlock")]
extern "C" fn pthread_rwlock_unlock(lock: *mut ReadWriteLock) -> c_int {
    // SAFETY: the caller's object.
    let lock = unsafe { &mut *lock };
    let state = lock.state.load(Ordering::Acquire);
    if state == 0 {
        return EPERM;
    }
    if state == WRITER {
        lock.writer = 0;
        lock.state.store(0, Ordering::Release);
    } else {
        lock.state.fetch_sub(1, Ordering::Release);
    }
    lock.sequence.fetch_add(1, Ordering::Release);
    futex_wake(&lock.sequence, usize::MAX);
    0
}

// ---- spin locks ----

#[unsafe(export_name = "__unik_pthread_spin_init")]
extern "C" fn pthread_spin_init(lock: *mut AtomicU32, _shared: c_int) -> c_int {
    // SAFETY: the caller's pthread_spinlock_t (an int).
    unsafe { (*lock).store(0, Ordering::Relaxed) };
    0
}

#[unsafe(export_name = "__unik_pthread_spin_destroy")]
extern "C" fn pthread_spin_destroy(_lock: *mut AtomicU32) -> c_int {
    0
}

#[unsafe(export_name = "__unik_pthread_spin_lock")]
extern "C" fn pthread_spin_lock(lock: *mut AtomicU32) -> c_int {
    // SAFETY: the caller's object.
    let lock = unsafe { &*lock };
    let mut spins = 0u32;
    while lock
        .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        spins += 1;
        // One CPU: the holder runs only when we give the CPU up.
        if spins.is_multiple_of(64) {
            unik_kernel::sched::yield_now();
        } else {
            core::hint::spin_loop();
        }
    }
    0
}

#[unsafe(export_name = "__unik_pthread_spin_trylock")]
extern "C" fn pthread_spin_trylock(lock: *mut AtomicU32) -> c_int {
    // SAFETY: the caller's object.
    let lock = unsafe { &*lock };
    match lock.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed) {
        Ok(_) => 0,
        Err(_) => EBUSY,
    }
}

#[unsafe(export_name = "__unik_pthread_spin_unlock")]
extern "C" fn pthread_spin_unlock(lock: *mut AtomicU32) -> c_int {
    // SAFETY: the caller's object.
    unsafe { (*lock).store(0, Ordering::Release) };
    0
}

// ---- barriers ----

#[repr(C)]
struct Barrier {
    lock: AtomicU32,
    count: c_uint,
    arrived: c_uint,
    generation: AtomicU32,
    _reserved: [u64; 2],
}
const _: () = assert!(core::mem::size_of::<Barrier>() == 32);

/// PTHREAD_BARRIER_SERIAL_THREAD.
const BARRIER_SERIAL_THREAD: c_int = -1;

#[unsafe(export_name = "__unik_pthread_barrier_init")]
extern "C" fn pthread_barrier_init(
    barrier: *mut Barrier,
    _attributes: *const c_void,
    count: c_uint,
) -> c_int {
    if count == 0 {
        return EINVAL;
    }
    // SAFETY: the caller's object.
    unsafe {
        barrier.write(Barrier {
            lock: AtomicU32::new(0),
            count,
            arrived: 0,
            generation: AtomicU32::new(0),
            _reserved: [0; 2],
        })
    };
    0
}

#[unsafe(export_name = "__unik_pthread_barrier_destroy")]
extern "C" fn pthread_barrier_destroy(_barrier: *mut Barrier) -> c_int {
    0
}

#[unsafe(export_name = "__unik_pthread_barrier_wait")]
extern "C" fn pthread_barrier_wait(barrier: *mut Barrier) -> c_int {
    // SAFETY: the caller's object; count/arrived change only under `lock`.
    let barrier = unsafe { &mut *barrier };
    lock_word(&barrier.lock, None);
    barrier.arrived += 1;
    if barrier.arrived >= barrier.count {
        barrier.arrived = 0;
        barrier.generation.fetch_add(1, Ordering::Release);
        unlock_word(&barrier.lock);
        futex_wake(&barrier.generation, usize::MAX);
        return BARRIER_SERIAL_THREAD;
    }
    let generation = barrier.generation.load(Ordering::Acquire);
    unlock_word(&barrier.lock);
    while barrier.generation.load(Ordering::Acquire) == generation {
        let _ = futex_wait(&barrier.generation, generation, None);
    }
    0
}

// ---- misc ----

#[unsafe(export_name = "__unik_pthread_attr_setstack")]
extern "C" fn pthread_attr_setstack(
    _attributes: *mut ThreadAttributes,
    _address: *mut c_void,
    _size: usize,
) -> c_int {
    // Stacks are the runtime's own (mapped with a guard page); a caller-provided one
    // is refused rather than silently ignored.
    EINVAL
}

#[unsafe(export_name = "__unik_pthread_sigmask")]
extern "C" fn pthread_sigmask(_how: c_int, _set: *const c_void, _old: *mut c_void) -> c_int {
    // No signals are ever delivered (runtime/README.md): every mask is equivalent.
    0
}

/// GNU `sched_getaffinity`: one CPU (bit 0).
#[unsafe(export_name = "__unik_sched_getaffinity")]
extern "C" fn sched_getaffinity(_pid: c_int, size: usize, set: *mut u8) -> c_int {
    if set.is_null() || size == 0 {
        crate::errno::set(EINVAL);
        return -1;
    }
    // SAFETY: the caller's cpu_set_t of `size` bytes.
    unsafe {
        core::ptr::write_bytes(set, 0, size);
        *set = 1;
    }
    0
}

/// glibc's `CPU_COUNT` helper: the bits set in the first `size` bytes.
#[unsafe(export_name = "__unik___sched_cpucount")]
extern "C" fn __sched_cpucount(size: usize, set: *const u8) -> c_int {
    // SAFETY: the caller's cpu_set_t of `size` bytes.
    let bytes = unsafe { core::slice::from_raw_parts(set, size) };
    bytes.iter().map(|byte| byte.count_ones() as c_int).sum()
}

crate::weak_c_symbols!(
    sched_getaffinity,
    __sched_cpucount,
    pthread_attr_init,
    pthread_attr_destroy,
    pthread_attr_setstacksize,
    pthread_attr_getstacksize,
    pthread_attr_setguardsize,
    pthread_attr_getguardsize,
    pthread_attr_setdetachstate,
    pthread_attr_getdetachstate,
    pthread_attr_getstack,
    pthread_attr_setstack,
    pthread_getattr_np,
    pthread_create,
    pthread_join,
    pthread_detach,
    pthread_exit,
    pthread_self,
    pthread_equal,
    sched_yield,
    gettid,
    pthread_setname_np,
    pthread_getname_np,
    pthread_key_create,
    pthread_key_delete,
    pthread_getspecific,
    pthread_setspecific,
    pthread_once,
    pthread_mutexattr_init,
    pthread_mutexattr_destroy,
    pthread_mutexattr_settype,
    pthread_mutexattr_gettype,
    pthread_mutex_init,
    pthread_mutex_destroy,
    pthread_mutex_lock,
    pthread_mutex_trylock,
    pthread_mutex_timedlock,
    pthread_mutex_unlock,
    pthread_condattr_init,
    pthread_condattr_destroy,
    pthread_condattr_setclock,
    pthread_condattr_getclock,
    pthread_cond_init,
    pthread_cond_destroy,
    pthread_cond_wait,
    pthread_cond_timedwait,
    pthread_cond_signal,
    pthread_cond_broadcast,
    pthread_rwlock_init,
    pthread_rwlock_destroy,
    pthread_rwlock_rdlock,
    pthread_rwlock_tryrdlock,
    pthread_rwlock_wrlock,
    pthread_rwlock_trywrlock,
    pthread_rwlock_timedrdlock,
    pthread_rwlock_timedwrlock,
    pthread_rwlock_unlock,
    pthread_spin_init,
    pthread_spin_destroy,
    pthread_spin_lock,
    pthread_spin_trylock,
    pthread_spin_unlock,
    pthread_barrier_init,
    pthread_barrier_destroy,
    pthread_barrier_wait,
    pthread_sigmask,
);
