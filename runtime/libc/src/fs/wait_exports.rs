//! The C symbols of the `readiness` component (runtime/components.toml): `poll`,
//! `ppoll`, `select`, `pselect`, the epoll family, `eventfd` and `socketpair`.
//! `epoll_ctl`/`epoll_wait`/`epoll_pwait` are in `c/readiness.c`, which knows the
//! target's `struct epoll_event` layout (packed on x86_64).
//!
//! Every wait is [`wait_for`]: read the change counter, look at the descriptors, and
//! block until the counter moves or the deadline passes (readiness.rs). Standard input
//! has no receive interrupt, so a wait that watches it also wakes every
//! [`CONSOLE_INTERVAL`] to look at the UART. Signal masks are accepted and ignored:
//! nothing delivers signals in a unikernel, so no wait ends with EINTR.

use core::ffi::{c_int, c_void};

use super::descriptors::{FileSystem, Object};
use super::readiness::{
    self, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND,
    POLLWRNORM,
};
use super::tree::Errno;
use super::with;
use crate::errno::{self, EAFNOSUPPORT, EBADF, EFAULT, EINVAL, EOPNOTSUPP, EPROTONOSUPPORT};
use crate::time::Timespec;

/// How often a wait that watches standard input looks at the UART.
const CONSOLE_INTERVAL: u64 = 10_000_000;

/// The deadline of a timeout `nanoseconds` from now (None: wait forever). A zero
/// timeout (a check that never waits, as Rust std's start makes on descriptors 0-2) is
/// [`IMMEDIATE`], without reading the clock: the first clock read measures it.
fn deadline_after(nanoseconds: Option<u64>) -> Option<u64> {
    nanoseconds.map(|nanoseconds| match nanoseconds {
        0 => IMMEDIATE,
        _ => unik_kernel::time::monotonic_nanoseconds().saturating_add(nanoseconds),
    })
}

/// Monotonic time 0: a deadline that has always passed.
const IMMEDIATE: u64 = 0;

/// Nanoseconds from now to `deadline` (0 once it passed).
fn time_left(deadline: u64) -> u64 {
    match deadline {
        IMMEDIATE => 0,
        _ => deadline.saturating_sub(unik_kernel::time::monotonic_nanoseconds()),
    }
}

fn milliseconds(timeout: c_int) -> Option<u64> {
    u64::try_from(timeout).ok().map(|value| value * 1_000_000)
}

/// Looks with `check` until it finds something or the deadline passes (None then).
/// `check` sets its flag when it watches standard input for input.
fn wait_for<T>(
    deadline: Option<u64>,
    mut check: impl FnMut(&mut FileSystem, &mut bool) -> Result<Option<T>, Errno>,
) -> Result<Option<T>, Errno> {
    loop {
        let seen = readiness::generation();
        let mut console = false;
        if let Some(found) = with(|system| check(system, &mut console))? {
            return Ok(Some(found));
        }
        if deadline == Some(IMMEDIATE) {
            return Ok(None);
        }
        let now = unik_kernel::time::monotonic_nanoseconds();
        if deadline.is_some_and(|deadline| now >= deadline) {
            return Ok(None);
        }
        let wake = if console {
            let next = now.saturating_add(CONSOLE_INTERVAL);
            Some(deadline.map_or(next, |deadline| deadline.min(next)))
        } else {
            deadline
        };
        readiness::wait(seen, wake);
    }
}

fn is_console_input(system: &mut FileSystem, descriptor: i32) -> bool {
    matches!(system.node_of(descriptor), Ok(Object::Console(0)))
}

fn fail(error: Errno) -> c_int {
    errno::set(error);
    -1
}

/// `struct pollfd`.
#[repr(C)]
pub struct PollDescriptor {
    descriptor: c_int,
    events: i16,
    returned_events: i16,
}

/// # Safety
/// `descriptors` points to `count` `struct pollfd` (or `count` is 0).
unsafe fn poll_until(descriptors: *mut PollDescriptor, count: u64, deadline: Option<u64>) -> c_int {
    let Ok(count) = usize::try_from(count) else {
        return fail(EINVAL);
    };
    if count > super::descriptors::DESCRIPTOR_LIMIT {
        return fail(EINVAL);
    }
    if count > 0 && descriptors.is_null() {
        return fail(EFAULT);
    }
    let entries = if count == 0 {
        &mut [][..]
    } else {
        // SAFETY: caller's contract.
        unsafe { core::slice::from_raw_parts_mut(descriptors, count) }
    };
    let result = wait_for(deadline, |system, console| {
        let mut ready = 0;
        for entry in entries.iter_mut() {
            if entry.descriptor < 0 {
                entry.returned_events = 0;
                continue;
            }
            let requested = u32::from(entry.events as u16);
            let events = readiness::reported(system.readiness(entry.descriptor).events, requested);
            entry.returned_events = events as u16 as i16;
            if events != 0 {
                ready += 1;
            } else if requested & POLLIN != 0 && is_console_input(system, entry.descriptor) {
                *console = true;
            }
        }
        Ok((ready > 0).then_some(ready))
    });
    match result {
        Ok(found) => found.unwrap_or(0),
        Err(error) => fail(error),
    }
}

/// poll(2).
///
/// # Safety
/// `descriptors` points to `count` `struct pollfd`.
#[unsafe(export_name = "__unik_poll")]
pub unsafe extern "C" fn poll(
    descriptors: *mut PollDescriptor,
    count: u64,
    timeout_milliseconds: c_int,
) -> c_int {
    // SAFETY: caller's contract.
    unsafe {
        poll_until(
            descriptors,
            count,
            deadline_after(milliseconds(timeout_milliseconds)),
        )
    }
}

/// The nanoseconds of a relative timeout (None: NULL, wait forever), or EINVAL.
///
/// # Safety
/// `timeout` is NULL or points to a `struct timespec`.
unsafe fn timespec_timeout(timeout: *const Timespec) -> Result<Option<u64>, Errno> {
    // SAFETY: caller's contract.
    match unsafe { timeout.as_ref() } {
        None => Ok(None),
        Some(time) => time.to_nanoseconds().map(Some).ok_or(EINVAL),
    }
}

/// ppoll(2) (Linux); the signal mask is accepted and has no effect.
///
/// # Safety
/// `descriptors` points to `count` `struct pollfd`; `timeout` is NULL or a timespec.
#[unsafe(export_name = "__unik_ppoll")]
pub unsafe extern "C" fn ppoll(
    descriptors: *mut PollDescriptor,
    count: u64,
    timeout: *const Timespec,
    _signal_mask: *const c_void,
) -> c_int {
    // SAFETY: caller's contract.
    match unsafe { timespec_timeout(timeout) } {
        // SAFETY: caller's contract.
        Ok(timeout) => unsafe { poll_until(descriptors, count, deadline_after(timeout)) },
        Err(error) => fail(error),
    }
}

/// `fd_set`: 1024 bits in 64-bit words (glibc's layout).
const SET_WORDS: usize = 16;
const SET_SIZE: c_int = 1024;
type DescriptorSet = [u64; SET_WORDS];

/// What select(2) counts as readable, writable and exceptional (Linux's
/// POLLIN_SET, POLLOUT_SET and POLLEX_SET, fs/select.c).
const SELECT_READ: u32 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const SELECT_WRITE: u32 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const SELECT_EXCEPT: u32 = POLLPRI;

/// # Safety
/// Each set is NULL or points to an `fd_set`.
unsafe fn select_until(
    count: c_int,
    sets: [*mut DescriptorSet; 3],
    deadline: Option<u64>,
) -> Result<c_int, Errno> {
    if !(0..=SET_SIZE).contains(&count) {
        return Err(EINVAL);
    }
    let count = count as usize;
    // SAFETY: caller's contract.
    let wanted: [DescriptorSet; 3] =
        sets.map(|set| unsafe { set.as_ref() }.copied().unwrap_or([0; SET_WORDS]));
    let is_set =
        |set: &DescriptorSet, descriptor: usize| set[descriptor / 64] >> (descriptor % 64) & 1 != 0;
    let conditions = [SELECT_READ, SELECT_WRITE, SELECT_EXCEPT];
    let found = wait_for(deadline, |system, console| {
        let mut result = [[0u64; SET_WORDS]; 3];
        let mut ready = 0;
        for descriptor in 0..count {
            let asked: [bool; 3] = core::array::from_fn(|which| is_set(&wanted[which], descriptor));
            if !asked.contains(&true) {
                continue;
            }
            let events = system.readiness(descriptor as i32).events;
            if events & POLLNVAL != 0 {
                return Err(EBADF);
            }
            for which in 0..3 {
                if asked[which] && events & conditions[which] != 0 {
                    result[which][descriptor / 64] |= 1 << (descriptor % 64);
                    ready += 1;
                }
            }
            if asked[0] && events & SELECT_READ == 0 && is_console_input(system, descriptor as i32)
            {
                *console = true;
            }
        }
        Ok((ready > 0).then_some((ready, result)))
    })?;
    let (ready, result) = found.unwrap_or((0, [[0; SET_WORDS]; 3]));
    for (set, bits) in sets.into_iter().zip(result) {
        // SAFETY: caller's contract; the result keeps only bits of the first `count`.
        if let Some(set) = unsafe { set.as_mut() } {
            *set = bits;
        }
    }
    Ok(ready)
}

/// `struct timeval`.
#[repr(C)]
pub struct Timeval {
    seconds: i64,
    microseconds: i64,
}

/// select(2); like Linux, it stores the time not slept in `*timeout`.
///
/// # Safety
/// The sets are NULL or `fd_set`s; `timeout` is NULL or a timeval.
#[unsafe(export_name = "__unik_select")]
pub unsafe extern "C" fn select(
    count: c_int,
    read_set: *mut DescriptorSet,
    write_set: *mut DescriptorSet,
    except_set: *mut DescriptorSet,
    timeout: *mut Timeval,
) -> c_int {
    // SAFETY: caller's contract.
    let relative = match unsafe { timeout.as_ref() } {
        None => None,
        Some(time) if time.seconds < 0 || !(0..1_000_000).contains(&time.microseconds) => {
            return fail(EINVAL);
        }
        Some(time) => Some(
            (time.seconds as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(time.microseconds as u64 * 1000),
        ),
    };
    let deadline = deadline_after(relative);
    // SAFETY: caller's contract.
    let result = unsafe { select_until(count, [read_set, write_set, except_set], deadline) };
    // SAFETY: caller's contract.
    if let (Some(deadline), Some(time)) = (deadline, unsafe { timeout.as_mut() }) {
        let left = time_left(deadline);
        time.seconds = (left / 1_000_000_000) as i64;
        time.microseconds = (left % 1_000_000_000 / 1000) as i64;
    }
    result.unwrap_or_else(fail)
}

/// pselect(2); the signal mask is accepted and has no effect.
///
/// # Safety
/// The sets are NULL or `fd_set`s; `timeout` is NULL or a timespec.
#[unsafe(export_name = "__unik_pselect")]
pub unsafe extern "C" fn pselect(
    count: c_int,
    read_set: *mut DescriptorSet,
    write_set: *mut DescriptorSet,
    except_set: *mut DescriptorSet,
    timeout: *const Timespec,
    _signal_mask: *const c_void,
) -> c_int {
    // SAFETY: caller's contract.
    let result = unsafe { timespec_timeout(timeout) }.and_then(|relative| {
        // SAFETY: caller's contract.
        unsafe {
            select_until(
                count,
                [read_set, write_set, except_set],
                deadline_after(relative),
            )
        }
    });
    result.unwrap_or_else(fail)
}

/// epoll_create(2): `size` only has to be positive.
#[unsafe(export_name = "__unik_epoll_create")]
pub extern "C" fn epoll_create(size: c_int) -> c_int {
    if size <= 0 {
        return fail(EINVAL);
    }
    epoll_create1(0)
}

/// epoll_create1(2): EPOLL_CLOEXEC.
#[unsafe(export_name = "__unik_epoll_create1")]
pub extern "C" fn epoll_create1(flags: c_int) -> c_int {
    with(|system| system.epoll_create(flags)).unwrap_or_else(fail)
}

/// epoll_ctl(2) with the event already read out of the target's `struct epoll_event`
/// (`c/readiness.c`).
#[unsafe(no_mangle)]
pub extern "C" fn __unik_epoll_control(
    epoll: c_int,
    operation: c_int,
    descriptor: c_int,
    events: u32,
    data: u64,
) -> c_int {
    match with(|system| system.epoll_control(epoll, operation, descriptor, (events, data))) {
        Ok(()) => 0,
        Err(error) => fail(error),
    }
}

/// epoll_wait(2), writing each ready entry's events and data at `stride`-byte steps
/// into `out` (the data at `data_offset`): the C layer passes its `struct epoll_event`
/// layout.
///
/// # Safety
/// `out` is writable for `limit` entries of `stride` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __unik_epoll_wait(
    epoll: c_int,
    out: *mut u8,
    limit: c_int,
    timeout_milliseconds: c_int,
    stride: usize,
    data_offset: usize,
) -> c_int {
    let Some(limit) = usize::try_from(limit).ok().filter(|&limit| limit > 0) else {
        return fail(EINVAL);
    };
    if out.is_null() {
        return fail(EFAULT);
    }
    let deadline = deadline_after(milliseconds(timeout_milliseconds));
    let result = wait_for(deadline, |system, console| {
        let ready = system.epoll_collect(epoll, limit)?;
        if ready.is_empty() {
            *console = system.epoll_watches_console_input(epoll);
            return Ok(None);
        }
        Ok(Some(ready))
    });
    match result {
        Ok(None) => 0,
        Ok(Some(ready)) => {
            for (index, (events, data)) in ready.iter().enumerate() {
                // SAFETY: caller's contract: `limit` entries, and `ready` has at most
                // `limit`; the fields are written unaligned (x86_64 packs them).
                unsafe {
                    let entry = out.add(index * stride);
                    entry.cast::<u32>().write_unaligned(*events);
                    entry.add(data_offset).cast::<u64>().write_unaligned(*data);
                }
            }
            ready.len() as c_int
        }
        Err(error) => fail(error),
    }
}

/// eventfd(2): EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC.
#[unsafe(export_name = "__unik_eventfd")]
pub extern "C" fn eventfd(initial: u32, flags: c_int) -> c_int {
    with(|system| system.eventfd(initial, flags)).unwrap_or_else(fail)
}

/// glibc's eventfd_read: 0, or -1 with errno from the read.
///
/// # Safety
/// `value` is writable.
#[unsafe(export_name = "__unik_eventfd_read")]
pub unsafe extern "C" fn eventfd_read(descriptor: c_int, value: *mut u64) -> c_int {
    if value.is_null() {
        return fail(EFAULT);
    }
    let mut bytes = [0u8; 8];
    match super::read(descriptor, &mut bytes) {
        Ok(8) => {
            // SAFETY: caller's contract.
            unsafe { value.write_unaligned(u64::from_ne_bytes(bytes)) };
            0
        }
        Ok(_) => fail(EINVAL),
        Err(error) => fail(error),
    }
}

/// glibc's eventfd_write: 0, or -1 with errno from the write.
#[unsafe(export_name = "__unik_eventfd_write")]
pub extern "C" fn eventfd_write(descriptor: c_int, value: u64) -> c_int {
    match super::write(descriptor, &value.to_ne_bytes()) {
        Ok(8) => 0,
        Ok(_) => fail(EINVAL),
        Err(error) => fail(error),
    }
}

/// socket(2) domains and types (Linux's values).
const AF_UNIX: c_int = 1;
const SOCK_STREAM: c_int = 1;
const SOCK_TYPE_MASK: c_int = 0xf;

/// socketpair(2): AF_UNIX SOCK_STREAM pairs (with SOCK_NONBLOCK, SOCK_CLOEXEC)
/// between the program's threads. Datagram and sequenced-packet pairs are not there
/// (EOPNOTSUPP); other domains have no pairs (EOPNOTSUPP, as Linux says for AF_INET;
/// EAFNOSUPPORT for a domain it does not know).
///
/// # Safety
/// `ends` is writable for two ints.
#[unsafe(export_name = "__unik_socketpair")]
pub unsafe extern "C" fn socketpair(
    domain: c_int,
    kind: c_int,
    protocol: c_int,
    ends: *mut c_int,
) -> c_int {
    match domain {
        AF_UNIX => {}
        // AF_INET and AF_INET6 exist but have no pairs.
        2 | 10 => return fail(EOPNOTSUPP),
        _ => return fail(EAFNOSUPPORT),
    }
    if protocol != 0 && protocol != AF_UNIX {
        return fail(EPROTONOSUPPORT);
    }
    if kind & SOCK_TYPE_MASK != SOCK_STREAM {
        return fail(EOPNOTSUPP);
    }
    if ends.is_null() {
        return fail(EFAULT);
    }
    match with(|system| system.socketpair(kind & !SOCK_TYPE_MASK)) {
        Ok((first, second)) => {
            // SAFETY: caller's contract.
            unsafe { ends.cast::<[c_int; 2]>().write_unaligned([first, second]) };
            0
        }
        Err(error) => fail(error),
    }
}

crate::weak_c_symbols!(
    poll,
    ppoll,
    select,
    pselect,
    epoll_create,
    epoll_create1,
    eventfd,
    eventfd_read,
    eventfd_write,
    socketpair
);
