//! The objects that exist to be waited for — eventfd counters, epoll instances,
//! `socketpair` streams — and the readiness of every descriptor ([`super::readiness`]).
//!
//! - **eventfd** (eventfd(2)): a 64-bit counter; a read takes it (or 1 with
//!   EFD_SEMAPHORE) and waits while it is 0, a write adds and waits while the sum would
//!   pass 0xffff_ffff_ffff_fffe.
//! - **socketpair** (AF_UNIX, SOCK_STREAM): two pipes, one per direction; each end
//!   reads one and writes the other. Closing an end is end of file for the other's
//!   reads and EPIPE for its writes, and reports POLLRDHUP | POLLHUP there, as Linux's
//!   `unix_poll` does.
//! - **epoll** (epoll(7)): an interest list of (descriptor, open file description)
//!   with the events and data to report. Level-triggered entries are reported while
//!   their events hold; edge-triggered ones (EPOLLET) when their object's generation
//!   moved since the last report; EPOLLONESHOT disables an entry after one report until
//!   EPOLL_CTL_MOD. An entry goes when its open file description is released (the last
//!   descriptor closed), as in Linux.

extern crate alloc;

use alloc::vec::Vec;

use super::descriptors::{FileSystem, O_CLOEXEC, O_NONBLOCK, O_RDWR, Object, Transfer, new_entry};
use super::readiness::{
    self, POLLERR, POLLHUP, POLLNVAL, POLLRDHUP, READABLE, Readiness, WRITABLE,
};
use super::tree::{Content, Device, Errno};
use crate::errno::{EAGAIN, EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOMEM, EPERM};

/// eventfd(2) flags (the same values as O_CLOEXEC and O_NONBLOCK on Linux).
pub const EFD_SEMAPHORE: i32 = 1;
pub const EFD_CLOEXEC: i32 = O_CLOEXEC;
pub const EFD_NONBLOCK: i32 = O_NONBLOCK;

/// The largest value an eventfd counter holds (eventfd(2)).
pub const EVENTFD_MAXIMUM: u64 = 0xffff_ffff_ffff_fffe;

/// socket(2)'s type flags (the same values as O_NONBLOCK and O_CLOEXEC on Linux).
pub const SOCK_NONBLOCK: i32 = O_NONBLOCK;
pub const SOCK_CLOEXEC: i32 = O_CLOEXEC;

/// epoll_ctl(2) operations and the epoll flags beyond the poll bits
/// (uapi linux/eventpoll.h).
pub const EPOLL_CTL_ADD: i32 = 1;
pub const EPOLL_CTL_DEL: i32 = 2;
pub const EPOLL_CTL_MOD: i32 = 3;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

/// How deep epoll instances inside epoll instances are followed (Linux: 5).
const NESTING_LIMIT: u32 = 4;

#[derive(Debug)]
pub struct EventFd {
    count: u64,
    semaphore: bool,
    generation: u32,
}

impl EventFd {
    fn events(&self) -> u32 {
        let mut events = 0;
        if self.count > 0 {
            events |= READABLE;
        }
        if self.count < EVENTFD_MAXIMUM {
            events |= WRITABLE;
        }
        events
    }
}

/// One entry of an epoll interest list.
#[derive(Clone, Copy, Debug)]
struct Interest {
    descriptor: i32,
    /// The open file description it was added with (an entry belongs to the pair).
    description: usize,
    events: u32,
    data: u64,
    /// The generation last reported (edge-triggered entries report a new one only).
    reported: Option<u32>,
    /// A one-shot entry after its report.
    disabled: bool,
}

#[derive(Debug, Default)]
pub struct Epoll {
    interests: Vec<Interest>,
    /// Where the next scan starts, so that a full result does not starve later entries.
    next: usize,
}

impl FileSystem {
    /// eventfd(2).
    pub fn eventfd(&mut self, initial: u32, flags: i32) -> Result<i32, Errno> {
        if flags & !(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK) != 0 {
            return Err(EINVAL);
        }
        let index = new_entry(
            &mut self.eventfds,
            EventFd {
                count: u64::from(initial),
                semaphore: flags & EFD_SEMAPHORE != 0,
                generation: readiness::changed(),
            },
        )?;
        let installed = self.install(
            Object::EventFd(index),
            O_RDWR | (flags & O_NONBLOCK),
            flags & EFD_CLOEXEC != 0,
        );
        if installed.is_err() {
            self.eventfds[index] = None;
        }
        installed
    }

    pub(super) fn read_eventfd(
        &mut self,
        index: usize,
        buffer: &mut [u8],
        nonblocking: bool,
    ) -> Result<Transfer, Errno> {
        if buffer.len() < 8 {
            return Err(EINVAL);
        }
        let counter = self.eventfds[index].as_mut().ok_or(EBADF)?;
        if counter.count == 0 {
            return if nonblocking {
                Err(EAGAIN)
            } else {
                Ok(Transfer::Wait(readiness::generation()))
            };
        }
        let value = if counter.semaphore { 1 } else { counter.count };
        counter.count -= value;
        counter.generation = readiness::changed();
        buffer[..8].copy_from_slice(&value.to_ne_bytes());
        Ok(Transfer::Done(8))
    }

    pub(super) fn write_eventfd(
        &mut self,
        index: usize,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<Transfer, Errno> {
        let Some(bytes) = data.get(..8) else {
            return Err(EINVAL);
        };
        let mut value = [0u8; 8];
        value.copy_from_slice(bytes);
        let value = u64::from_ne_bytes(value);
        if value == u64::MAX {
            return Err(EINVAL);
        }
        let counter = self.eventfds[index].as_mut().ok_or(EBADF)?;
        if value > EVENTFD_MAXIMUM - counter.count {
            return if nonblocking {
                Err(EAGAIN)
            } else {
                Ok(Transfer::Wait(readiness::generation()))
            };
        }
        counter.count += value;
        counter.generation = readiness::changed();
        Ok(Transfer::Done(8))
    }

    /// socketpair(2) for AF_UNIX SOCK_STREAM: `flags` are SOCK_NONBLOCK and SOCK_CLOEXEC.
    pub fn socketpair(&mut self, flags: i32) -> Result<(i32, i32), Errno> {
        if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let forward = self.new_pipe()?;
        let backward = match self.new_pipe() {
            Ok(index) => index,
            Err(error) => {
                self.pipes[forward] = None;
                return Err(error);
            }
        };
        let status = O_RDWR | (flags & O_NONBLOCK);
        let close_on_exec = flags & SOCK_CLOEXEC != 0;
        let first = self.install(
            Object::StreamPair {
                receive: forward,
                send: backward,
            },
            status,
            close_on_exec,
        );
        let first = match first {
            Ok(descriptor) => descriptor,
            Err(error) => {
                self.pipes[forward] = None;
                self.pipes[backward] = None;
                return Err(error);
            }
        };
        let second = self.install(
            Object::StreamPair {
                receive: backward,
                send: forward,
            },
            status,
            close_on_exec,
        );
        match second {
            Ok(descriptor) => Ok((first, descriptor)),
            Err(error) => {
                let _ = self.close(first);
                self.pipes[forward] = None;
                self.pipes[backward] = None;
                Err(error)
            }
        }
    }

    /// The readiness of a descriptor's object (POLLNVAL for a closed descriptor).
    pub fn readiness(&mut self, descriptor: i32) -> Readiness {
        match self.description(descriptor) {
            Ok(description) => {
                let object = description.object;
                let access = description.status & super::descriptors::O_ACCMODE;
                self.object_readiness(object, access, 0)
            }
            Err(_) => Readiness {
                events: POLLNVAL,
                generation: 0,
            },
        }
    }

    fn object_readiness(&mut self, object: Object, access: i32, depth: u32) -> Readiness {
        use super::descriptors::O_RDONLY;
        let pipe_readiness = |pipe: Option<&super::descriptors::Pipe>, reading: bool| match pipe {
            Some(pipe) => Readiness {
                events: if reading {
                    pipe.read_events()
                } else {
                    pipe.write_events()
                },
                generation: pipe.generation,
            },
            None => Readiness {
                events: POLLERR,
                generation: 0,
            },
        };
        match object {
            Object::Console(0) => Readiness {
                events: if crate::kernel::console::input_pending() {
                    READABLE
                } else {
                    0
                },
                generation: 0,
            },
            Object::Console(_) => Readiness {
                events: WRITABLE,
                generation: 0,
            },
            // The random devices are readable once the generator has a source (Linux's
            // random_poll: once the pool is seeded), which without one is never.
            Object::Node(number) if self.is_random_device(number) => Readiness {
                events: if crate::kernel::random::fill(&mut []).is_ok() {
                    READABLE | WRITABLE
                } else {
                    WRITABLE
                },
                generation: 0,
            },
            // Regular files, directories, /dev/null and /dev/zero are always ready
            // (poll(2)).
            Object::Node(_) => Readiness {
                events: READABLE | WRITABLE,
                generation: 0,
            },
            Object::Pipe(index) => pipe_readiness(self.pipes[index].as_ref(), access == O_RDONLY),
            Object::StreamPair { receive, send } => {
                let incoming = pipe_readiness(self.pipes[receive].as_ref(), true);
                let outgoing = pipe_readiness(self.pipes[send].as_ref(), false);
                let mut events = incoming.events & READABLE;
                if incoming.events & POLLHUP != 0 {
                    // The peer is gone: reads see end of file; writes fail with EPIPE
                    // but are reported writable (Linux's unix_poll).
                    events |= READABLE | POLLRDHUP | POLLHUP | WRITABLE;
                } else {
                    events |= outgoing.events & WRITABLE;
                }
                Readiness {
                    events,
                    generation: incoming.generation ^ outgoing.generation.rotate_left(16),
                }
            }
            Object::Socket(index) => match super::hooks::sockets() {
                Some(sockets) => {
                    let (events, generation) = (sockets.readiness)(index);
                    Readiness { events, generation }
                }
                None => Readiness {
                    events: POLLERR,
                    generation: 0,
                },
            },
            Object::EventFd(index) => match self.eventfds[index].as_ref() {
                Some(counter) => Readiness {
                    events: counter.events(),
                    generation: counter.generation,
                },
                None => Readiness::default(),
            },
            Object::Epoll(index) => {
                if depth >= NESTING_LIMIT {
                    return Readiness::default();
                }
                let interests = match self.epolls[index].as_ref() {
                    Some(epoll) => epoll.interests.clone(),
                    None => return Readiness::default(),
                };
                let mut events = 0;
                let mut generation = 0u32;
                for interest in interests.iter().filter(|interest| !interest.disabled) {
                    let state = self.interest_readiness(interest, depth + 1);
                    generation = generation.rotate_left(5) ^ state.generation;
                    if ready_events(interest, state) != 0 {
                        events = READABLE;
                    }
                }
                Readiness { events, generation }
            }
        }
    }

    fn interest_readiness(&mut self, interest: &Interest, depth: u32) -> Readiness {
        let current = self
            .slot(interest.descriptor)
            .ok()
            .filter(|slot| slot.description == interest.description);
        match current.and_then(|_| self.description(interest.descriptor).ok()) {
            Some(description) => {
                let object = description.object;
                let access = description.status & super::descriptors::O_ACCMODE;
                self.object_readiness(object, access, depth)
            }
            None => Readiness::default(),
        }
    }

    /// epoll_create1(2).
    pub fn epoll_create(&mut self, flags: i32) -> Result<i32, Errno> {
        if flags & !O_CLOEXEC != 0 {
            return Err(EINVAL);
        }
        let index = new_entry(&mut self.epolls, Epoll::default())?;
        let installed = self.install(Object::Epoll(index), O_RDWR, flags & O_CLOEXEC != 0);
        if installed.is_err() {
            self.epolls[index] = None;
        }
        installed
    }

    fn epoll_index(&mut self, descriptor: i32) -> Result<usize, Errno> {
        match self.description(descriptor)?.object {
            Object::Epoll(index) => Ok(index),
            _ => Err(EINVAL),
        }
    }

    /// Whether node `number` is `/dev/random` or `/dev/urandom`.
    fn is_random_device(&self, number: usize) -> bool {
        self.tree.node(number).is_some_and(|node| {
            matches!(
                node.content,
                Content::Device(Device::Random | Device::Urandom)
            )
        })
    }

    /// epoll_ctl(2): `event` is (events, data), ignored for EPOLL_CTL_DEL.
    pub fn epoll_control(
        &mut self,
        epoll: i32,
        operation: i32,
        descriptor: i32,
        event: (u32, u64),
    ) -> Result<(), Errno> {
        let index = self.epoll_index(epoll)?;
        let slot = self.slot(descriptor)?;
        let object = self.description(descriptor)?.object;
        match object {
            // Regular files, directories, /dev/null and /dev/zero cannot be watched
            // (epoll_ctl(2): EPERM, they have no poll operation); the random devices can.
            Object::Node(number) if !self.is_random_device(number) => return Err(EPERM),
            Object::Epoll(_) if descriptor == epoll => return Err(EINVAL),
            Object::Epoll(inner)
                if operation == EPOLL_CTL_ADD && self.contains(inner, index, 0) =>
            {
                return Err(ELOOP);
            }
            _ => {}
        }
        let (events, data) = event;
        let epoll_state = self.epolls[index].as_mut().ok_or(EBADF)?;
        let position = epoll_state.interests.iter().position(|interest| {
            interest.descriptor == descriptor && interest.description == slot.description
        });
        match (operation, position) {
            (EPOLL_CTL_ADD, Some(_)) => Err(EEXIST),
            (EPOLL_CTL_ADD, None) => {
                epoll_state.interests.try_reserve(1).map_err(|_| ENOMEM)?;
                epoll_state.interests.push(Interest {
                    descriptor,
                    description: slot.description,
                    events,
                    data,
                    reported: None,
                    disabled: false,
                });
                Ok(())
            }
            (EPOLL_CTL_MOD, Some(position)) => {
                // EPOLLEXCLUSIVE is only allowed with EPOLL_CTL_ADD (epoll_ctl(2)).
                if events & EPOLLEXCLUSIVE != 0
                    || epoll_state.interests[position].events & EPOLLEXCLUSIVE != 0
                {
                    return Err(EINVAL);
                }
                let interest = &mut epoll_state.interests[position];
                interest.events = events;
                interest.data = data;
                interest.reported = None;
                interest.disabled = false;
                Ok(())
            }
            (EPOLL_CTL_DEL, Some(position)) => {
                epoll_state.interests.remove(position);
                Ok(())
            }
            (EPOLL_CTL_MOD | EPOLL_CTL_DEL, None) => Err(ENOENT),
            _ => Err(EINVAL),
        }
    }

    /// Whether epoll instance `inner` watches `outer` (directly or through others).
    fn contains(&self, inner: usize, outer: usize, depth: u32) -> bool {
        if inner == outer {
            return true;
        }
        if depth >= NESTING_LIMIT {
            return true;
        }
        let Some(epoll) = self.epolls[inner].as_ref() else {
            return false;
        };
        epoll.interests.iter().any(
            |interest| match self.description_object(interest.description) {
                Some(Object::Epoll(next)) => self.contains(next, outer, depth + 1),
                _ => false,
            },
        )
    }

    /// The ready entries of an epoll instance, at most `limit`, as (events, data);
    /// records what was reported (edge-triggered and one-shot entries).
    pub fn epoll_collect(&mut self, epoll: i32, limit: usize) -> Result<Vec<(u32, u64)>, Errno> {
        let index = self.epoll_index(epoll)?;
        let (mut interests, start) = match self.epolls[index].as_mut() {
            Some(state) => (core::mem::take(&mut state.interests), state.next),
            None => return Err(EBADF),
        };
        let mut ready = Vec::new();
        let count = interests.len();
        let mut next = start;
        for offset in 0..count {
            if ready.len() >= limit {
                break;
            }
            let position = (start + offset) % count;
            let interest = interests[position];
            next = position + 1;
            if interest.disabled {
                continue;
            }
            let state = self.interest_readiness(&interest, 1);
            let events = ready_events(&interest, state);
            if events == 0 {
                continue;
            }
            if interest.events & EPOLLET != 0 && interest.reported == Some(state.generation) {
                continue;
            }
            if ready.try_reserve(1).is_err() {
                break;
            }
            ready.push((events, interest.data));
            let entry = &mut interests[position];
            entry.reported = Some(state.generation);
            if interest.events & EPOLLONESHOT != 0 {
                entry.disabled = true;
            }
        }
        if let Some(state) = self.epolls[index].as_mut() {
            state.interests = interests;
            state.next = if count == 0 { 0 } else { next % count };
        }
        Ok(ready)
    }

    /// Whether an epoll instance watches standard input for input (which has no
    /// receive interrupt: its waiters look again from time to time).
    pub fn epoll_watches_console_input(&mut self, epoll: i32) -> bool {
        let Ok(index) = self.epoll_index(epoll) else {
            return false;
        };
        let Some(state) = self.epolls[index].as_ref() else {
            return false;
        };
        state.interests.iter().any(|interest| {
            interest.events & readiness::POLLIN != 0
                && matches!(
                    self.description_object(interest.description),
                    Some(Object::Console(0))
                )
        })
    }

    /// Drops the epoll entries of an open file description that was released.
    pub(super) fn forget_description(&mut self, description: usize) {
        for epoll in self.epolls.iter_mut().flatten() {
            epoll
                .interests
                .retain(|interest| interest.description != description);
        }
    }
}

/// The events an epoll entry reports for its object's state: the requested ones that
/// hold, plus POLLERR and POLLHUP (always reported).
fn ready_events(interest: &Interest, state: Readiness) -> u32 {
    let wanted = interest.events & !(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP);
    readiness::reported(state.events, wanted) & !POLLNVAL
}

#[cfg(test)]
mod tests {
    use super::super::readiness::{POLLIN, POLLOUT};
    use super::*;
    use crate::errno::EPIPE;

    fn write(system: &mut FileSystem, descriptor: i32, bytes: &[u8]) -> Result<usize, Errno> {
        match system.write(descriptor, bytes, None)? {
            Transfer::Done(count) => Ok(count),
            _ => Err(EAGAIN),
        }
    }

    fn read(system: &mut FileSystem, descriptor: i32, buffer: &mut [u8]) -> Result<usize, Errno> {
        match system.read(descriptor, buffer, None)? {
            Transfer::Done(count) => Ok(count),
            _ => Err(EAGAIN),
        }
    }

    #[test]
    fn eventfd_counts_and_semaphores() {
        let mut system = FileSystem::new();
        let counter = system.eventfd(3, EFD_NONBLOCK).unwrap();
        assert_eq!(system.readiness(counter).events, READABLE | WRITABLE);
        assert_eq!(write(&mut system, counter, &4u64.to_ne_bytes()), Ok(8));
        let mut value = [0u8; 8];
        assert_eq!(read(&mut system, counter, &mut value), Ok(8));
        assert_eq!(u64::from_ne_bytes(value), 7);
        assert_eq!(read(&mut system, counter, &mut value), Err(EAGAIN));
        assert_eq!(system.readiness(counter).events, WRITABLE);
        assert_eq!(read(&mut system, counter, &mut [0; 4]), Err(EINVAL));
        assert_eq!(
            write(&mut system, counter, &u64::MAX.to_ne_bytes()),
            Err(EINVAL)
        );
        assert_eq!(
            write(&mut system, counter, &EVENTFD_MAXIMUM.to_ne_bytes()),
            Ok(8)
        );
        assert_eq!(system.readiness(counter).events, READABLE);
        assert_eq!(
            write(&mut system, counter, &1u64.to_ne_bytes()),
            Err(EAGAIN)
        );

        let semaphore = system.eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK).unwrap();
        for _ in 0..2 {
            assert_eq!(read(&mut system, semaphore, &mut value), Ok(8));
            assert_eq!(u64::from_ne_bytes(value), 1);
        }
        assert_eq!(read(&mut system, semaphore, &mut value), Err(EAGAIN));
        assert_eq!(system.eventfd(0, 0x40), Err(EINVAL));
        let blocking = system.eventfd(0, 0).unwrap();
        assert!(matches!(
            system.read(blocking, &mut value, None),
            Ok(Transfer::Wait(_))
        ));
    }

    #[test]
    fn only_the_random_devices_can_be_watched_and_fail_closed_unreadable() {
        use super::super::descriptors::{AT_FDCWD, Flags};
        let mut system = FileSystem::new();
        let epoll = system.epoll_create(0).unwrap();
        let open = |system: &mut FileSystem, path: &[u8]| {
            system.open(AT_FDCWD, path, Flags::default(), 0).unwrap()
        };
        let null = open(&mut system, b"/dev/null");
        assert_eq!(system.readiness(null).events, READABLE | WRITABLE);
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, null, (POLLIN, 0)),
            Err(EPERM)
        );
        let random = open(&mut system, b"/dev/urandom");
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, random, (POLLIN, 0)),
            Ok(())
        );
        // The host tests' generator has no source: never readable, as Linux's before
        // its pool is seeded.
        assert_eq!(system.readiness(random).events, WRITABLE);
    }

    #[test]
    fn socketpair_is_two_way_and_reports_the_peer_closing() {
        let mut system = FileSystem::new();
        let (left, right) = system.socketpair(SOCK_NONBLOCK).unwrap();
        assert_eq!(system.readiness(left).events, WRITABLE);
        assert_eq!(write(&mut system, left, b"ping"), Ok(4));
        assert_eq!(write(&mut system, right, b"pong!"), Ok(5));
        let mut buffer = [0u8; 8];
        assert_eq!(read(&mut system, right, &mut buffer), Ok(4));
        assert_eq!(&buffer[..4], b"ping");
        assert_eq!(read(&mut system, left, &mut buffer), Ok(5));
        assert_eq!(read(&mut system, left, &mut buffer), Err(EAGAIN));
        system.close(right).unwrap();
        let events = system.readiness(left).events;
        assert_eq!(events, READABLE | WRITABLE | POLLRDHUP | POLLHUP);
        assert_eq!(read(&mut system, left, &mut buffer), Ok(0));
        assert_eq!(write(&mut system, left, b"x"), Err(EPIPE));
        assert_eq!(system.socketpair(0x40), Err(EINVAL));
    }

    #[test]
    fn epoll_level_edge_and_one_shot() {
        let mut system = FileSystem::new();
        let epoll = system.epoll_create(0).unwrap();
        let (read_end, write_end) = system.pipe(O_NONBLOCK).unwrap();
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, read_end, (POLLIN, 1)),
            Ok(())
        );
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, read_end, (POLLIN, 1)),
            Err(EEXIST)
        );
        assert_eq!(system.epoll_collect(epoll, 8), Ok(Vec::new()));
        write(&mut system, write_end, b"abc").unwrap();
        // Level-triggered: reported while data is there.
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLIN, 1)]));
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLIN, 1)]));
        assert_eq!(system.readiness(epoll).events, READABLE);
        // Edge-triggered: once per change.
        system
            .epoll_control(epoll, EPOLL_CTL_MOD, read_end, (POLLIN | EPOLLET, 2))
            .unwrap();
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLIN, 2)]));
        assert_eq!(system.epoll_collect(epoll, 8), Ok(Vec::new()));
        write(&mut system, write_end, b"d").unwrap();
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLIN, 2)]));
        // One-shot: disabled after one report until modified.
        system
            .epoll_control(epoll, EPOLL_CTL_MOD, read_end, (POLLIN | EPOLLONESHOT, 3))
            .unwrap();
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLIN, 3)]));
        assert_eq!(system.epoll_collect(epoll, 8), Ok(Vec::new()));
        // The write end: writable, and POLLERR once the reader is gone.
        system
            .epoll_control(epoll, EPOLL_CTL_ADD, write_end, (POLLOUT, 4))
            .unwrap();
        assert_eq!(system.epoll_collect(epoll, 8), Ok(vec![(POLLOUT, 4)]));
        system.close(read_end).unwrap();
        assert_eq!(
            system.epoll_collect(epoll, 8),
            Ok(vec![(POLLOUT | POLLERR, 4)])
        );
        // Closing the last descriptor of a description removes its entries.
        system.close(write_end).unwrap();
        assert_eq!(system.epoll_collect(epoll, 8), Ok(Vec::new()));
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_DEL, write_end, (0, 0)),
            Err(EBADF)
        );
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, epoll, (POLLIN, 0)),
            Err(EINVAL)
        );
        assert_eq!(
            system.epoll_control(read_end + 7, EPOLL_CTL_ADD, 1, (POLLIN, 0)),
            Err(EBADF)
        );
        assert_eq!(
            system.epoll_control(1, EPOLL_CTL_ADD, 1, (POLLIN, 0)),
            Err(EINVAL)
        );
    }

    #[test]
    fn epoll_rotates_so_a_full_result_starves_nobody() {
        let mut system = FileSystem::new();
        let epoll = system.epoll_create(O_CLOEXEC).unwrap();
        let counters: Vec<i32> = (0..3).map(|_| system.eventfd(1, 0).unwrap()).collect();
        for (data, &counter) in counters.iter().enumerate() {
            system
                .epoll_control(epoll, EPOLL_CTL_ADD, counter, (POLLIN, data as u64))
                .unwrap();
        }
        assert_eq!(
            system.epoll_collect(epoll, 2),
            Ok(vec![(POLLIN, 0), (POLLIN, 1)])
        );
        assert_eq!(
            system.epoll_collect(epoll, 2),
            Ok(vec![(POLLIN, 2), (POLLIN, 0)])
        );
        let inner = system.epoll_create(0).unwrap();
        system
            .epoll_control(inner, EPOLL_CTL_ADD, epoll, (POLLIN, 9))
            .unwrap();
        assert_eq!(
            system.epoll_control(epoll, EPOLL_CTL_ADD, inner, (POLLIN, 9)),
            Err(ELOOP)
        );
        assert_eq!(system.epoll_collect(inner, 4), Ok(vec![(POLLIN, 9)]));
        assert_eq!(system.close_on_exec(epoll), Ok(true));
    }
}
