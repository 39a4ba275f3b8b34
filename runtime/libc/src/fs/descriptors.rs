//! File descriptors over the RAM tree: the descriptor table (lowest free number
//! first, close-on-exec flag per descriptor), open file descriptions shared by `dup`
//! (offset and status flags, open(2) "open file description"), the working directory
//! and the umask. Descriptors 0, 1 and 2 are the console.

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::cpio;
use super::readiness;
use super::tree::{
    Content, Device, Errno, NewNode, ROOT, TYPE_CHARACTER_DEVICE, TYPE_DIRECTORY, TYPE_MASK,
    TYPE_SYMLINK, Tree,
};
use crate::errno::{
    EACCES, EAGAIN, EBADF, EEXIST, EFBIG, EINVAL, EISDIR, EMFILE, ENOENT, ENOMEM, ENOTDIR, EPIPE,
    ESPIPE,
};

/// Linux's open(2) flags (asm-generic/fcntl.h; the same on x86_64 and aarch64 except
/// O_DIRECTORY/O_NOFOLLOW, which aarch64 numbers differently, see [`Flags`]).
pub const O_ACCMODE: i32 = 0o3;
pub const O_RDONLY: i32 = 0;
pub const O_WRONLY: i32 = 1;
pub const O_RDWR: i32 = 2;
pub const O_CREAT: i32 = 0o100;
pub const O_EXCL: i32 = 0o200;
pub const O_TRUNC: i32 = 0o1000;
pub const O_APPEND: i32 = 0o2000;
pub const O_NONBLOCK: i32 = 0o4000;
pub const O_CLOEXEC: i32 = 0o2000000;

/// The flags whose values differ per architecture, as the C layer passes them (it
/// knows the target; the Rust logic stays architecture-neutral).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub bits: i32,
    pub directory: bool,
    pub no_follow: bool,
}

/// "At most 1024 descriptors", Linux's default RLIMIT_NOFILE soft limit.
pub const DESCRIPTOR_LIMIT: usize = 1024;

#[derive(Clone, Copy, Debug)]
pub enum Object {
    /// A console descriptor: 0 reads the console, 1 the console, 2 the error console.
    Console(i32),
    Node(usize),
    /// A pipe (index into the pipe table); the description's access mode says which end.
    Pipe(usize),
    /// An eventfd counter (index into the eventfd table).
    EventFd(usize),
    /// An epoll instance (index into the epoll table).
    Epoll(usize),
    /// One end of a `socketpair`: it reads from pipe `receive` and writes to pipe
    /// `send` (the other end has them the other way round).
    StreamPair {
        receive: usize,
        send: usize,
    },
    /// A socket (index into the `net` component's socket table, reached through
    /// [`super::hooks::sockets`]).
    Socket(usize),
}

#[derive(Debug)]
pub struct Description {
    pub object: Object,
    pub offset: u64,
    /// Access mode and status flags (O_APPEND, O_NONBLOCK) as open(2) numbers them.
    pub status: i32,
    pub references: u32,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub(super) description: usize,
    pub(super) close_on_exec: bool,
}

/// What a read or write on a descriptor must do once the table's lock is released.
pub enum Transfer {
    Done(usize),
    Console(i32),
    /// The object can make no progress now: wait until the readiness change counter
    /// ([`readiness::CHANGES`]) differs from this value (read under the lock, so no
    /// change is missed), then retry.
    Wait(u32),
    /// A socket: the `net` component transfers, without the table's lock.
    Socket {
        index: usize,
        nonblocking: bool,
    },
    /// `/dev/random` or `/dev/urandom`: the bytes come from the random generator,
    /// without the table's lock.
    Random {
        nonblocking: bool,
    },
}

/// Linux's default pipe capacity (pipe(7)) and PIPE_BUF, the size up to which a write
/// is atomic.
pub const PIPE_CAPACITY: usize = 65536;
pub const PIPE_ATOMIC: usize = 4096;

#[derive(Debug, Default)]
pub struct Pipe {
    pub(super) data: VecDeque<u8>,
    pub(super) readers: u32,
    pub(super) writers: u32,
    /// The readiness generation of its last change.
    pub(super) generation: u32,
}

impl Pipe {
    pub(super) fn changed(&mut self) {
        self.generation = readiness::changed();
    }

    /// Readable: data, or no writer left (end of file).
    pub(super) fn read_events(&self) -> u32 {
        let mut events = 0;
        if !self.data.is_empty() {
            events |= readiness::READABLE;
        }
        if self.writers == 0 {
            events |= readiness::POLLHUP;
        }
        events
    }

    /// Writable: room, or no reader left (the write fails with EPIPE at once).
    pub(super) fn write_events(&self) -> u32 {
        let mut events = 0;
        if self.data.len() < PIPE_CAPACITY {
            events |= readiness::WRITABLE;
        }
        if self.readers == 0 {
            events |= readiness::POLLERR;
        }
        events
    }
}

/// The metadata stat(2) and statx(2) report, architecture-neutral (the C layer lays it
/// out as the target's `struct stat`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub device: u64,
    pub inode: u64,
    pub mode: u32,
    pub links: u32,
    pub size: u64,
    pub blocks: u64,
    pub block_size: u32,
    /// A character device's number, Linux's `major << 8 | minor` (the console: 4:64,
    /// like /dev/ttyS0; /dev/null: 1:3 …); 0 for everything else.
    pub device_number: u32,
    pub accessed: [i64; 2],
    pub modified: [i64; 2],
    pub changed: [i64; 2],
}

/// A device number for the RAM file system (Linux gives tmpfs an anonymous 0:N).
const DEVICE: u64 = 0x1a;

pub struct FileSystem {
    pub tree: Tree,
    descriptions: Vec<Option<Description>>,
    slots: Vec<Option<Slot>>,
    pub(super) pipes: Vec<Option<Pipe>>,
    pub(super) eventfds: Vec<Option<super::waitable::EventFd>>,
    pub(super) epolls: Vec<Option<super::waitable::Epoll>>,
    pub working_directory: usize,
    pub umask: u32,
}

impl Default for FileSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl FileSystem {
    pub const fn new() -> Self {
        FileSystem {
            tree: Tree::with_devices(),
            descriptions: Vec::new(),
            slots: Vec::new(),
            pipes: Vec::new(),
            eventfds: Vec::new(),
            epolls: Vec::new(),
            working_directory: ROOT,
            umask: 0o022,
        }
    }

    /// Sets up the console descriptors (0, 1, 2) if not done yet.
    fn ensure_console(&mut self) {
        if self.slots.is_empty() {
            for role in 0..3 {
                self.descriptions.push(Some(Description {
                    object: Object::Console(role),
                    offset: 0,
                    status: if role == 0 { O_RDONLY } else { O_WRONLY },
                    references: 1,
                }));
                self.slots.push(Some(Slot {
                    description: role as usize,
                    close_on_exec: false,
                }));
            }
        }
    }

    /// Copies an archive's entries into the tree (directories made as needed; later
    /// entries replace earlier files, as initramfs unpacking does; hard links kept).
    /// Returns how many entries were read, or the offset of the malformed one, or of
    /// the one there was no memory for. Entries that clash with the tree (a file over
    /// a non-empty directory, a path through a file) are skipped, as Linux does.
    pub fn load_archive(&mut self, archive: &[u8]) -> Result<usize, cpio::Malformed> {
        let mut count = 0;
        let mut hard_links = Vec::new();
        for entry in cpio::entries(archive) {
            let entry = entry?;
            count += 1;
            let path = entry.name.strip_prefix(b"./").unwrap_or(entry.name);
            if path.is_empty() || path == b"." {
                continue;
            }
            if self.load_entry(path, &entry, &mut hard_links) == Err(ENOMEM) {
                return Err(cpio::Malformed {
                    offset: entry.offset,
                    reason: cpio::Reason::OutOfMemory,
                });
            }
        }
        Ok(count)
    }

    /// Loads one entry; `hard_links` maps (inode, device) of the regular files with
    /// several links loaded so far to their node (Linux init/initramfs.c keeps the same
    /// table: a later name of the inode becomes a link to the first, and whichever
    /// entry carries the data fills the shared file).
    fn load_entry(
        &mut self,
        path: &[u8],
        entry: &cpio::Entry<'_>,
        hard_links: &mut Vec<((u32, u32, u32), usize)>,
    ) -> Result<(), Errno> {
        // Missing parents are created (0755), as the kernel's initramfs unpacking does.
        for (index, &byte) in path.iter().enumerate() {
            if byte == b'/' && index > 0 {
                let (directory, name) = self.tree.resolve_parent(ROOT, &path[..index])?;
                if self.tree.lookup(directory, name)?.is_none() {
                    self.tree
                        .create(directory, name, NewNode::Directory, 0o755)?;
                }
            }
        }
        let (directory, name) = self.tree.resolve_parent(ROOT, path)?;
        let existing = self.tree.lookup(directory, name)?;
        let kind = entry.mode & TYPE_MASK;
        if let Some(existing) = existing {
            let is_directory = self
                .tree
                .node(existing)
                .is_some_and(|node| node.is_directory());
            if kind == TYPE_DIRECTORY && is_directory {
                if let Some(node) = self.tree.node_mut(existing) {
                    node.permissions = entry.mode & 0o7777;
                }
                return Ok(());
            }
            self.tree.remove(ROOT, path, is_directory)?;
        }
        let is_regular = kind == super::tree::TYPE_REGULAR;
        let key = (entry.inode, entry.device.0, entry.device.1);
        let earlier_name = hard_links
            .iter()
            .find(|(known, _)| is_regular && entry.links >= 2 && *known == key)
            .map(|&(_, number)| number)
            .filter(|&number| {
                self.tree
                    .node(number)
                    .is_some_and(|node| matches!(node.content, Content::File(_)))
            });
        let number = match earlier_name {
            Some(number) => {
                self.tree.link(directory, name, number)?;
                if entry.data.is_empty() {
                    return Ok(());
                }
                number
            }
            None => {
                let new = match kind {
                    TYPE_DIRECTORY => NewNode::Directory,
                    TYPE_SYMLINK => NewNode::Symlink(entry.data),
                    // Devices, fifos and sockets have no meaning here; they are skipped.
                    _ if is_regular => NewNode::File,
                    _ => return Ok(()),
                };
                let number = self.tree.create(directory, name, new, entry.mode)?;
                if is_regular && entry.links >= 2 {
                    hard_links.try_reserve(1).map_err(|_| ENOMEM)?;
                    hard_links.push((key, number));
                }
                number
            }
        };
        if let Some(node) = self.tree.node_mut(number) {
            if let Content::File(bytes) = &mut node.content {
                *bytes = super::tree::copy(entry.data)?;
            }
            let time = super::tree::Timestamp {
                seconds: i64::from(entry.modified),
                nanoseconds: 0,
            };
            node.modified = time;
            node.changed = time;
            node.accessed = time;
        }
        Ok(())
    }

    /// The directory a `*at` call starts from: `AT_FDCWD` (-100) or a directory descriptor.
    pub fn start_directory(&mut self, descriptor: i32, path: &[u8]) -> Result<usize, Errno> {
        if descriptor == AT_FDCWD || path.first() == Some(&b'/') {
            return Ok(self.working_directory);
        }
        let object = self.description(descriptor)?.object;
        match object {
            Object::Node(number)
                if self
                    .tree
                    .node(number)
                    .is_some_and(|node| node.is_directory()) =>
            {
                Ok(number)
            }
            _ => Err(ENOTDIR),
        }
    }

    pub(super) fn slot(&mut self, descriptor: i32) -> Result<Slot, Errno> {
        self.ensure_console();
        usize::try_from(descriptor)
            .ok()
            .and_then(|index| self.slots.get(index).copied().flatten())
            .ok_or(EBADF)
    }

    pub fn description(&mut self, descriptor: i32) -> Result<&mut Description, Errno> {
        let slot = self.slot(descriptor)?;
        self.descriptions[slot.description].as_mut().ok_or(EBADF)
    }

    pub(super) fn set_slot(&mut self, slot: usize, description: usize, close_on_exec: bool) {
        self.slots[slot] = Some(Slot {
            description,
            close_on_exec,
        });
    }

    /// The object of an open file description (by its index).
    pub(super) fn description_object(&self, description: usize) -> Option<Object> {
        self.descriptions
            .get(description)
            .and_then(Option::as_ref)
            .map(|description| description.object)
    }

    /// The lowest free descriptor at or above `minimum`.
    pub(super) fn free_slot(&mut self, minimum: usize) -> Result<usize, Errno> {
        self.ensure_console();
        let found = (minimum..self.slots.len()).find(|&index| self.slots[index].is_none());
        let index = found.unwrap_or(self.slots.len().max(minimum));
        if index >= DESCRIPTOR_LIMIT {
            return Err(EMFILE);
        }
        if index >= self.slots.len() {
            self.slots
                .try_reserve(index + 1 - self.slots.len())
                .map_err(|_| ENOMEM)?;
            self.slots.resize(index + 1, None);
        }
        Ok(index)
    }

    pub(super) fn new_description(&mut self, description: Description) -> Result<usize, Errno> {
        new_entry(&mut self.descriptions, description)
    }

    /// A descriptor (the lowest free) for `object` in a new open file description.
    pub(super) fn install(
        &mut self,
        object: Object,
        status: i32,
        close_on_exec: bool,
    ) -> Result<i32, Errno> {
        let slot = self.free_slot(0)?;
        let description = self.new_description(Description {
            object,
            offset: 0,
            status,
            references: 1,
        })?;
        self.set_slot(slot, description, close_on_exec);
        Ok(slot as i32)
    }

    /// openat(2).
    pub fn open(
        &mut self,
        directory: i32,
        path: &[u8],
        flags: Flags,
        mode: u32,
    ) -> Result<i32, Errno> {
        let start = self.start_directory(directory, path)?;
        let access = flags.bits & O_ACCMODE;
        if access == O_ACCMODE {
            return Err(EINVAL);
        }
        let writes = access != O_RDONLY;
        let number = if flags.bits & O_CREAT != 0 {
            let (parent, name) = self.tree.resolve_parent(start, path)?;
            let exists_without_link = self.tree.resolve(start, path, !flags.no_follow);
            match self.tree.lookup(parent, name)? {
                Some(_) if flags.bits & O_EXCL != 0 => return Err(EEXIST),
                Some(_) => exists_without_link?,
                // A dangling symbolic link: Linux creates its target; keep it simple
                // and strict instead, as O_CREAT through a dangling link is rare.
                None if path.ends_with(b"/") => return Err(EISDIR),
                None => {
                    self.tree
                        .create(parent, name, NewNode::File, mode & !self.umask & 0o7777)?
                }
            }
        } else {
            self.tree.resolve(start, path, !flags.no_follow)?
        };
        let node = self.tree.node(number).ok_or(ENOENT)?;
        match &node.content {
            Content::Directory(_) if writes || flags.bits & O_CREAT != 0 => return Err(EISDIR),
            Content::Symlink(_) => return Err(crate::errno::ELOOP),
            Content::File(_) | Content::Device(_) if flags.directory => return Err(ENOTDIR),
            _ => {}
        }
        // The permission bits are checked for writes only: the program is root, and
        // root may read anything (but a read-only embedded file stays read-only for
        // O_WRONLY of a 0444 file only when no write bit is set at all).
        if writes && node.permissions & 0o222 == 0 && !node.is_directory() {
            return Err(EACCES);
        }
        if flags.bits & O_TRUNC != 0
            && writes
            && let Some(node) = self.tree.node_mut(number)
            && let Content::File(bytes) = &mut node.content
        {
            bytes.clear();
            bytes.shrink_to_fit();
        }
        let descriptor = self.install(
            Object::Node(number),
            flags.bits & (O_ACCMODE | O_APPEND | O_NONBLOCK),
            flags.bits & O_CLOEXEC != 0,
        )?;
        self.tree.open_node(number);
        Ok(descriptor)
    }

    fn release_description(&mut self, index: usize) {
        let Some(description) = self.descriptions[index].as_mut() else {
            return;
        };
        description.references -= 1;
        if description.references == 0 {
            let object = description.object;
            let status = description.status;
            self.descriptions[index] = None;
            match object {
                Object::Node(number) => self.tree.close_node(number),
                Object::Pipe(index) => self.close_pipe_end(index, status),
                Object::Console(_) => {}
                Object::Socket(index) => {
                    if let Some(sockets) = super::hooks::sockets() {
                        (sockets.close)(index);
                    }
                }
                Object::EventFd(index) => self.eventfds[index] = None,
                Object::Epoll(index) => self.epolls[index] = None,
                Object::StreamPair { receive, send } => {
                    self.close_pipe_end(receive, O_RDONLY);
                    self.close_pipe_end(send, O_WRONLY);
                }
            }
            self.forget_description(index);
        }
    }

    /// close(2).
    pub fn close(&mut self, descriptor: i32) -> Result<(), Errno> {
        let slot = self.slot(descriptor)?;
        self.slots[descriptor as usize] = None;
        self.release_description(slot.description);
        Ok(())
    }

    /// dup(2) (`target` None, lowest free ≥ `minimum`), dup2/dup3 (`target` given).
    pub fn duplicate(
        &mut self,
        descriptor: i32,
        target: Option<i32>,
        minimum: i32,
        close_on_exec: bool,
    ) -> Result<i32, Errno> {
        let slot = self.slot(descriptor)?;
        let index = match target {
            Some(target) => {
                let target = usize::try_from(target)
                    .ok()
                    .filter(|&index| index < DESCRIPTOR_LIMIT)
                    .ok_or(EBADF)?;
                if target == descriptor as usize {
                    return Ok(descriptor);
                }
                if target >= self.slots.len() {
                    self.slots
                        .try_reserve(target + 1 - self.slots.len())
                        .map_err(|_| ENOMEM)?;
                    self.slots.resize(target + 1, None);
                }
                if let Some(old) = self.slots[target].take() {
                    self.release_description(old.description);
                }
                target
            }
            None => self.free_slot(usize::try_from(minimum).map_err(|_| EINVAL)?)?,
        };
        if let Some(description) = self.descriptions[slot.description].as_mut() {
            description.references += 1;
        }
        self.slots[index] = Some(Slot {
            description: slot.description,
            close_on_exec,
        });
        Ok(index as i32)
    }

    pub fn close_on_exec(&mut self, descriptor: i32) -> Result<bool, Errno> {
        Ok(self.slot(descriptor)?.close_on_exec)
    }

    pub fn set_close_on_exec(&mut self, descriptor: i32, value: bool) -> Result<(), Errno> {
        self.slot(descriptor)?;
        if let Some(slot) = self.slots[descriptor as usize].as_mut() {
            slot.close_on_exec = value;
        }
        Ok(())
    }

    /// read(2)/pread(2) (`at` Some: that offset, the description's unchanged).
    pub fn read(
        &mut self,
        descriptor: i32,
        buffer: &mut [u8],
        at: Option<u64>,
    ) -> Result<Transfer, Errno> {
        let description = self.description(descriptor)?;
        if description.status & O_ACCMODE == O_WRONLY {
            return Err(EBADF);
        }
        let nonblocking = description.status & O_NONBLOCK != 0;
        let number = match description.object {
            Object::Console(role) if at.is_none() => return Ok(Transfer::Console(role)),
            Object::Node(number) => number,
            _ if at.is_some() => return Err(ESPIPE),
            Object::Console(_) => return Err(ESPIPE),
            Object::Pipe(index) | Object::StreamPair { receive: index, .. } => {
                return self.read_pipe(index, buffer, nonblocking);
            }
            Object::EventFd(index) => return self.read_eventfd(index, buffer, nonblocking),
            Object::Socket(index) => return Ok(Transfer::Socket { index, nonblocking }),
            Object::Epoll(_) => return Err(EINVAL),
        };
        let offset = at.unwrap_or(description.offset);
        let node = self.tree.node(number).ok_or(EBADF)?;
        let bytes = match &node.content {
            Content::File(bytes) => bytes,
            // Devices keep no offset (Linux's null and zero read_iter ignore it).
            Content::Device(Device::Null) => return Ok(Transfer::Done(0)),
            Content::Device(Device::Zero) => {
                buffer.fill(0);
                return Ok(Transfer::Done(buffer.len()));
            }
            Content::Device(Device::Random | Device::Urandom) => {
                return Ok(Transfer::Random { nonblocking });
            }
            _ => return Err(EISDIR),
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let count = buffer.len().min(bytes.len() - start);
        buffer[..count].copy_from_slice(&bytes[start..start + count]);
        if at.is_none() {
            self.description(descriptor)?.offset = offset + count as u64;
        }
        Ok(Transfer::Done(count))
    }

    /// write(2)/pwrite(2). O_APPEND writes at the end (for pwrite too, as Linux does).
    pub fn write(
        &mut self,
        descriptor: i32,
        data: &[u8],
        at: Option<u64>,
    ) -> Result<Transfer, Errno> {
        let description = self.description(descriptor)?;
        if description.status & O_ACCMODE == O_RDONLY {
            return Err(EBADF);
        }
        let nonblocking = description.status & O_NONBLOCK != 0;
        let number = match description.object {
            Object::Console(role) if at.is_none() => return Ok(Transfer::Console(role)),
            Object::Node(number) => number,
            _ if at.is_some() => return Err(ESPIPE),
            Object::Console(_) => return Err(ESPIPE),
            Object::Pipe(index) | Object::StreamPair { send: index, .. } => {
                return self.write_pipe(index, data, nonblocking);
            }
            Object::EventFd(index) => return self.write_eventfd(index, data, nonblocking),
            Object::Socket(index) => return Ok(Transfer::Socket { index, nonblocking }),
            Object::Epoll(_) => return Err(EINVAL),
        };
        let append = description.status & O_APPEND != 0;
        let current = description.offset;
        let node = self.tree.node_mut(number).ok_or(EBADF)?;
        let bytes = match &mut node.content {
            Content::File(bytes) => bytes,
            // Every device takes and discards what is written (Linux mixes what is
            // written to the random devices into its pool without crediting it; the
            // generator here reseeds from hardware only).
            Content::Device(_) => return Ok(Transfer::Done(data.len())),
            _ => return Err(EISDIR),
        };
        let offset = if append {
            bytes.len() as u64
        } else {
            at.unwrap_or(current)
        };
        let start = usize::try_from(offset).map_err(|_| EFBIG)?;
        let end = start.checked_add(data.len()).ok_or(EFBIG)?;
        if end > bytes.len() {
            // Amortized growth, fallible: a full heap is ENOSPC as on a full tmpfs.
            let wanted = end
                .max(bytes.len().saturating_mul(2))
                .min(end.saturating_add(64 << 20));
            if bytes.try_reserve(wanted - bytes.len()).is_err()
                && bytes.try_reserve_exact(end - bytes.len()).is_err()
            {
                return Err(crate::errno::ENOSPC);
            }
            if start > bytes.len() {
                bytes.resize(start, 0);
            }
            let overlap = bytes.len() - start;
            bytes[start..].copy_from_slice(&data[..overlap]);
            bytes.extend_from_slice(&data[overlap..]);
        } else {
            bytes[start..end].copy_from_slice(data);
        }
        if at.is_none() || append {
            let description = self.description(descriptor)?;
            if at.is_none() {
                description.offset = end as u64;
            }
        }
        Ok(Transfer::Done(data.len()))
    }

    /// pipe2(2): a read end and a write end, lowest free descriptors first.
    pub fn pipe(&mut self, flags: i32) -> Result<(i32, i32), Errno> {
        if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
            return Err(EINVAL);
        }
        let index = self.new_pipe()?;
        let status = flags & O_NONBLOCK;
        let mut ends = [0; 2];
        for (end, access) in [O_RDONLY, O_WRONLY].into_iter().enumerate() {
            let opened = self.install(Object::Pipe(index), access | status, flags & O_CLOEXEC != 0);
            match opened {
                Ok(descriptor) => ends[end] = descriptor,
                Err(error) => {
                    if end == 1 {
                        let _ = self.close(ends[0]);
                    }
                    self.pipes[index] = None;
                    return Err(error);
                }
            }
        }
        Ok((ends[0], ends[1]))
    }

    /// A new pipe with one reader and one writer: its index.
    pub(super) fn new_pipe(&mut self) -> Result<usize, Errno> {
        new_entry(
            &mut self.pipes,
            Pipe {
                data: VecDeque::new(),
                readers: 1,
                writers: 1,
                generation: readiness::changed(),
            },
        )
    }

    /// A new descriptor (lowest free) for socket `index`; `flags` may hold O_NONBLOCK
    /// and O_CLOEXEC (socket(2)'s SOCK_NONBLOCK and SOCK_CLOEXEC have their values).
    pub fn open_socket(&mut self, index: usize, flags: i32) -> Result<i32, Errno> {
        self.install(
            Object::Socket(index),
            O_RDWR | (flags & O_NONBLOCK),
            flags & O_CLOEXEC != 0,
        )
    }

    /// The socket behind a descriptor and whether it is non-blocking (EBADF: closed;
    /// ENOTSOCK: another kind of descriptor).
    pub fn socket_of(&mut self, descriptor: i32) -> Result<(usize, bool), Errno> {
        let description = self.description(descriptor)?;
        match description.object {
            Object::Socket(index) => Ok((index, description.status & O_NONBLOCK != 0)),
            _ => Err(crate::errno::ENOTSOCK),
        }
    }

    /// Sets or clears O_NONBLOCK on the descriptor's description (ioctl FIONBIO).
    pub fn set_nonblocking(&mut self, descriptor: i32, on: bool) -> Result<(), Errno> {
        let description = self.description(descriptor)?;
        if on {
            description.status |= O_NONBLOCK;
        } else {
            description.status &= !O_NONBLOCK;
        }
        Ok(())
    }

    pub(super) fn close_pipe_end(&mut self, index: usize, status: i32) {
        let Some(pipe) = self.pipes[index].as_mut() else {
            return;
        };
        if status & O_ACCMODE == O_RDONLY {
            pipe.readers -= 1;
        } else {
            pipe.writers -= 1;
        }
        pipe.changed();
        if pipe.readers == 0 && pipe.writers == 0 {
            self.pipes[index] = None;
        }
    }

    fn read_pipe(
        &mut self,
        index: usize,
        buffer: &mut [u8],
        nonblocking: bool,
    ) -> Result<Transfer, Errno> {
        let pipe = self.pipes[index].as_mut().ok_or(EBADF)?;
        if pipe.data.is_empty() {
            return match (pipe.writers, nonblocking) {
                // Every write end closed: end of file (pipe(7)).
                (0, _) => Ok(Transfer::Done(0)),
                (_, true) => Err(EAGAIN),
                (_, false) => Ok(Transfer::Wait(readiness::generation())),
            };
        }
        let count = buffer.len().min(pipe.data.len());
        for (slot, byte) in buffer.iter_mut().zip(pipe.data.drain(..count)) {
            *slot = byte;
        }
        pipe.changed();
        Ok(Transfer::Done(count))
    }

    /// Writes what fits now. Up to PIPE_BUF bytes go in at once or not at all (POSIX
    /// atomicity); a blocking caller retries the rest after waiting.
    fn write_pipe(
        &mut self,
        index: usize,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<Transfer, Errno> {
        let pipe = self.pipes[index].as_mut().ok_or(EBADF)?;
        if pipe.readers == 0 {
            // Linux also raises SIGPIPE; there are no signals to raise here.
            return Err(EPIPE);
        }
        let room = PIPE_CAPACITY - pipe.data.len();
        if room == 0 || (data.len() <= PIPE_ATOMIC && room < data.len()) {
            return if nonblocking {
                Err(EAGAIN)
            } else {
                Ok(Transfer::Wait(readiness::generation()))
            };
        }
        let count = room.min(data.len());
        pipe.data.try_reserve(count).map_err(|_| ENOMEM)?;
        pipe.data.extend(&data[..count]);
        pipe.changed();
        Ok(Transfer::Done(count))
    }

    /// lseek(2) with SEEK_SET/CUR/END (0/1/2); SEEK_DATA/SEEK_HOLE (3/4) treat the file
    /// as all data.
    pub fn seek(&mut self, descriptor: i32, offset: i64, whence: i32) -> Result<i64, Errno> {
        let description = self.description(descriptor)?;
        let Object::Node(number) = description.object else {
            return Err(ESPIPE);
        };
        let current = description.offset as i64;
        let node = self.tree.node(number).ok_or(EBADF)?;
        if matches!(node.content, Content::Device(_)) {
            // Linux: null_lseek and zero's set the position to 0, the random devices'
            // noop_llseek keeps it (always 0: their reads do not advance it).
            return Ok(0);
        }
        let size = node.size() as i64;
        let position = match whence {
            0 => Some(offset),
            1 => current.checked_add(offset),
            2 => size.checked_add(offset),
            3 if offset >= size => return Err(crate::errno::ENXIO),
            3 => Some(offset),
            4 if offset >= size => return Err(crate::errno::ENXIO),
            4 => Some(size),
            _ => return Err(EINVAL),
        };
        let position = position.filter(|&position| position >= 0).ok_or(EINVAL)?;
        self.description(descriptor)?.offset = position as u64;
        Ok(position)
    }

    /// ftruncate(2)/truncate(2) of a node.
    pub fn truncate_node(&mut self, number: usize, length: i64) -> Result<(), Errno> {
        let length = usize::try_from(length).map_err(|_| EINVAL)?;
        let node = self.tree.node_mut(number).ok_or(EBADF)?;
        match &mut node.content {
            Content::File(bytes) => {
                if length > bytes.len() {
                    bytes
                        .try_reserve(length - bytes.len())
                        .map_err(|_| crate::errno::ENOSPC)?;
                }
                bytes.resize(length, 0);
                Ok(())
            }
            Content::Directory(_) => Err(EISDIR),
            // do_truncate: anything but a regular file is EINVAL.
            Content::Symlink(_) | Content::Device(_) => Err(EINVAL),
        }
    }

    /// The node behind a descriptor (EBADF for the console where a node is needed).
    pub fn node_of(&mut self, descriptor: i32) -> Result<Object, Errno> {
        Ok(self.description(descriptor)?.object)
    }

    pub fn status_of_object(&self, object: Object) -> Result<Status, Errno> {
        match object {
            Object::EventFd(index) | Object::Epoll(index) => Ok(Status {
                // anon_inode: mode 0600 with no file type, as Linux reports it.
                device: 0xe,
                inode: index as u64 + 1,
                mode: 0o600,
                links: 1,
                block_size: 4096,
                ..Status::default()
            }),
            // sockfs: a socket (S_IFSOCK), mode 0777 as Linux reports it.
            Object::StreamPair { receive: index, .. } | Object::Socket(index) => Ok(Status {
                device: 0x8,
                inode: index as u64 + 1,
                mode: 0o140777,
                links: 1,
                block_size: 4096,
                ..Status::default()
            }),
            Object::Console(_) => Ok(Status {
                // A character device (0o020000), like a serial tty: /dev/ttyS0 is 4:64.
                device: 5,
                inode: 1,
                mode: 0o020620,
                links: 1,
                block_size: 1024,
                device_number: (4 << 8) | 64,
                ..Status::default()
            }),
            Object::Pipe(index) => Ok(Status {
                // pipefs: a FIFO, owner read-write, size 0 (as Linux reports it).
                device: 0xc,
                inode: index as u64 + 1,
                mode: 0o010600,
                links: 1,
                block_size: 4096,
                ..Status::default()
            }),
            Object::Node(number) => {
                let node = self.tree.node(number).ok_or(ENOENT)?;
                let size = node.size();
                Ok(Status {
                    device: DEVICE,
                    inode: number as u64 + 1,
                    mode: node.mode(),
                    links: node.link_count(&self.tree) as u32,
                    size,
                    blocks: size.div_ceil(4096) * 8,
                    block_size: 4096,
                    device_number: match node.content {
                        Content::Device(device) => device.number(),
                        _ => 0,
                    },
                    accessed: [node.accessed.seconds, node.accessed.nanoseconds],
                    modified: [node.modified.seconds, node.modified.nanoseconds],
                    changed: [node.changed.seconds, node.changed.nanoseconds],
                })
            }
        }
    }

    /// Directory entries for getdents64 from the description's offset (an entry
    /// index): each as (inode, offset of the next, type for d_type, name).
    pub fn directory_entries(
        &mut self,
        descriptor: i32,
    ) -> Result<(Vec<DirectoryRecord>, u64), Errno> {
        let description = self.description(descriptor)?;
        let start = description.offset;
        let Object::Node(number) = description.object else {
            return Err(ENOTDIR);
        };
        let list = self.tree.entries(number)?;
        let mut out = Vec::new();
        for (name, child) in list.into_iter().skip(start as usize) {
            out.push((child as u64 + 1, self.entry_type(child), name));
        }
        Ok((out, start))
    }

    /// The directory entry at the description's offset (an index; "." and ".." are
    /// 0 and 1), advancing past it: (inode, d_type, name). None at the end.
    pub fn next_directory_entry(
        &mut self,
        descriptor: i32,
    ) -> Result<Option<DirectoryRecord>, Errno> {
        let description = self.description(descriptor)?;
        let index = description.offset;
        let Object::Node(number) = description.object else {
            return Err(ENOTDIR);
        };
        let Some((name, child)) = self.tree.entry_at(number, index)? else {
            return Ok(None);
        };
        let kind = self.entry_type(child);
        let name = super::tree::copy(name)?;
        self.description(descriptor)?.offset = index + 1;
        Ok(Some((child as u64 + 1, kind, name)))
    }

    /// A directory entry's `d_type` (dirent.h): DT_DIR, DT_LNK, DT_CHR or DT_REG.
    fn entry_type(&self, node: usize) -> u8 {
        match self.tree.node(node).map(|node| node.mode() & TYPE_MASK) {
            Some(TYPE_DIRECTORY) => 4,
            Some(TYPE_SYMLINK) => 10,
            Some(TYPE_CHARACTER_DEVICE) => 2,
            _ => 8,
        }
    }

    pub fn set_directory_offset(&mut self, descriptor: i32, offset: u64) -> Result<(), Errno> {
        self.description(descriptor)?.offset = offset;
        Ok(())
    }
}

/// One directory entry for getdents64/readdir: (inode, d_type, name).
pub type DirectoryRecord = (u64, u8, Vec<u8>);

/// openat(2)'s "relative to the working directory".
pub const AT_FDCWD: i32 = -100;

/// Stores `value` in the first free entry of `table` (growing it when none is free):
/// its index.
pub(super) fn new_entry<T>(table: &mut Vec<Option<T>>, value: T) -> Result<usize, Errno> {
    if let Some(index) = table.iter().position(Option::is_none) {
        table[index] = Some(value);
        return Ok(index);
    }
    table.try_reserve(1).map_err(|_| ENOMEM)?;
    table.push(Some(value));
    Ok(table.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::ENOTEMPTY;

    fn flags(bits: i32) -> Flags {
        Flags {
            bits,
            ..Flags::default()
        }
    }

    fn read_all(system: &mut FileSystem, descriptor: i32) -> Vec<u8> {
        let mut buffer = [0u8; 64];
        match system.read(descriptor, &mut buffer, None).unwrap() {
            Transfer::Done(count) => buffer[..count].to_vec(),
            Transfer::Console(_)
            | Transfer::Wait(_)
            | Transfer::Socket { .. }
            | Transfer::Random { .. } => {
                panic!("not a file")
            }
        }
    }

    #[test]
    fn dev_holds_linuxs_character_devices() {
        // The devices appear with the first path operation.
        let mut system = FileSystem::new();
        let read_write = flags(O_RDWR);
        let null = system.open(AT_FDCWD, b"/dev/null", read_write, 0).unwrap();
        assert_eq!(read_all(&mut system, null), b"");
        assert!(matches!(
            system.write(null, b"gone", None),
            Ok(Transfer::Done(4))
        ));
        assert_eq!(system.seek(null, 100, 0), Ok(0));
        let zero = system.open(AT_FDCWD, b"/dev/zero", read_write, 0).unwrap();
        let mut buffer = [7u8; 10];
        assert!(matches!(
            system.read(zero, &mut buffer, Some(3)),
            Ok(Transfer::Done(10))
        ));
        assert_eq!(buffer, [0; 10]);
        for (path, open_flags, nonblocking) in [
            (&b"/dev/urandom"[..], O_RDONLY, false),
            (b"/dev/random", O_RDONLY | O_NONBLOCK, true),
        ] {
            let random = system.open(AT_FDCWD, path, flags(open_flags), 0).unwrap();
            assert!(
                matches!(
                    system.read(random, &mut buffer, None),
                    Ok(Transfer::Random { nonblocking: found }) if found == nonblocking
                ),
                "{path:?}"
            );
        }
        for (name, device) in Device::ALL {
            let number = system.tree.resolve(ROOT, b"/dev", true).unwrap();
            let node = system.tree.lookup(number, name).unwrap().unwrap();
            let status = system.status_of_object(Object::Node(node)).unwrap();
            assert_eq!(status.mode, 0o020666, "{name:?}");
            assert_eq!((status.size, status.blocks), (0, 0));
            assert_eq!(status.device_number, device.number());
            assert_eq!(system.truncate_node(node, 0), Err(EINVAL));
        }
        assert_eq!(Device::Urandom.number(), (1 << 8) | 9);
        let with_directory = Flags {
            bits: O_RDONLY,
            directory: true,
            no_follow: false,
        };
        assert_eq!(
            system.open(AT_FDCWD, b"/dev/zero", with_directory, 0),
            Err(ENOTDIR)
        );
        let dev = system.open(AT_FDCWD, b"/dev", flags(O_RDONLY), 0).unwrap();
        let (entries, _) = system.directory_entries(dev).unwrap();
        let listed: Vec<(u8, &[u8])> = entries
            .iter()
            .map(|(_, kind, name)| (*kind, name.as_slice()))
            .collect();
        assert_eq!(
            listed,
            [
                (4, &b"."[..]),
                (4, b".."),
                (2, b"null"),
                (2, b"random"),
                (2, b"urandom"),
                (2, b"zero")
            ]
        );
        // An archive's regular file replaces a device (initramfs: later entries win).
        assert_eq!(
            system.load_archive(&linked_entry("dev/null", 9, 1, b"file")),
            Ok(1)
        );
        let file = system
            .open(AT_FDCWD, b"/dev/null", flags(O_RDONLY), 0)
            .unwrap();
        assert_eq!(read_all(&mut system, file), b"file");
    }

    #[test]
    fn pipes_carry_bytes_block_and_report_closed_ends() {
        let mut system = FileSystem::new();
        let (read_end, write_end) = system.pipe(O_NONBLOCK).unwrap();
        assert_eq!((read_end, write_end), (3, 4));
        assert!(matches!(
            system.read(read_end, &mut [0; 4], None),
            Err(EAGAIN)
        ));
        assert!(matches!(
            system.write(write_end, b"ping", None),
            Ok(Transfer::Done(4))
        ));
        assert_eq!(read_all(&mut system, read_end), b"ping");
        assert_eq!(system.seek(read_end, 0, 0), Err(ESPIPE));
        assert!(matches!(
            system.read(write_end, &mut [0; 1], None),
            Err(EBADF)
        ));
        // Full: a large write takes what fits, an atomic one waits for room.
        let big = vec![7u8; PIPE_CAPACITY + 10];
        assert!(matches!(
            system.write(write_end, &big, None),
            Ok(Transfer::Done(PIPE_CAPACITY))
        ));
        assert!(matches!(system.write(write_end, b"x", None), Err(EAGAIN)));
        system.set_close_on_exec(read_end, true).unwrap();
        let (blocking_read, blocking_write) = system.pipe(0).unwrap();
        assert!(matches!(
            system.read(blocking_read, &mut [0; 1], None),
            Ok(Transfer::Wait(_))
        ));
        system.close(blocking_write).unwrap();
        assert!(matches!(
            system.read(blocking_read, &mut [0; 1], None),
            Ok(Transfer::Done(0))
        ));
        system.close(read_end).unwrap();
        assert!(matches!(system.write(write_end, b"x", None), Err(EPIPE)));
        assert_eq!(system.pipe(0x40), Err(EINVAL));
    }

    #[test]
    fn descriptors_share_descriptions_and_start_at_three() {
        let mut system = FileSystem::new();
        let file = system
            .open(AT_FDCWD, b"/a", flags(O_CREAT | O_RDWR), 0o666)
            .unwrap();
        assert_eq!(file, 3);
        assert!(matches!(
            system.write(file, b"hello", None),
            Ok(Transfer::Done(5))
        ));
        let copy = system.duplicate(file, None, 0, false).unwrap();
        assert_eq!(copy, 4);
        assert_eq!(system.seek(copy, 1, 0), Ok(1));
        assert_eq!(read_all(&mut system, file), b"ello");
        system.close(file).unwrap();
        assert_eq!(system.close(file), Err(EBADF));
        assert_eq!(
            system.open(AT_FDCWD, b"/a", flags(O_CREAT | O_EXCL | O_WRONLY), 0),
            Err(EEXIST)
        );
        let append = system
            .open(AT_FDCWD, b"/a", flags(O_WRONLY | O_APPEND), 0)
            .unwrap();
        assert_eq!(append, 3);
        assert!(system.write(append, b"!", None).is_ok());
        assert_eq!(system.seek(copy, 0, 0), Ok(0));
        assert_eq!(read_all(&mut system, copy), b"hello!");
        let node = system.tree.resolve(ROOT, b"/a", true).unwrap();
        assert_eq!(
            system.status_of_object(Object::Node(node)).unwrap().mode,
            0o100644
        );
        assert!(matches!(system.read(1, &mut [0; 4], None), Err(EBADF)));
        assert!(matches!(
            system.write(1, b"x", None),
            Ok(Transfer::Console(1))
        ));
    }

    /// A newc entry with inode `inode` and link count `links`.
    fn linked_entry(name: &str, inode: u32, links: u32, data: &[u8]) -> Vec<u8> {
        let mut bytes = format!(
            "070701{inode:08x}{:08x}{:08x}{:08x}{links:08x}{:08x}{:08x}{}{:08x}{:08x}",
            0o100644,
            0,
            0,
            0,
            data.len(),
            "0".repeat(32),
            name.len() + 1,
            0
        )
        .into_bytes();
        bytes.extend(name.bytes());
        bytes.push(0);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes.extend(data);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    #[test]
    fn hard_links_share_one_file() {
        let mut system = FileSystem::new();
        // As GNU cpio writes them: the data with the last name only.
        let mut archive = linked_entry("a", 5, 2, b"");
        archive.extend(linked_entry("dir/b", 5, 2, b"shared"));
        archive.extend(linked_entry("c", 6, 1, b"solo"));
        // Inode 6 again but with one link: an unrelated file that reuses the number.
        archive.extend(linked_entry("d", 6, 1, b"other"));
        assert_eq!(system.load_archive(&archive), Ok(4));
        let a = system.tree.resolve(ROOT, b"/a", true).unwrap();
        let b = system.tree.resolve(ROOT, b"/dir/b", true).unwrap();
        assert_eq!(a, b);
        assert_eq!(system.tree.node(a).unwrap().links, 2);
        let file = system.open(AT_FDCWD, b"a", flags(O_RDONLY), 0).unwrap();
        assert_eq!(read_all(&mut system, file), b"shared");
        let c = system.tree.resolve(ROOT, b"/c", true).unwrap();
        let d = system.tree.resolve(ROOT, b"/d", true).unwrap();
        assert_ne!(c, d);
        // Removing one name keeps the file under the other.
        system.tree.remove(ROOT, b"/dir/b", false).unwrap();
        let file = system.open(AT_FDCWD, b"a", flags(O_RDONLY), 0).unwrap();
        assert_eq!(read_all(&mut system, file), b"shared");
        assert_eq!(system.tree.node(a).unwrap().links, 1);
    }

    #[test]
    fn archive_loading_and_directory_errors() {
        let mut system = FileSystem::new();
        let mut archive = Vec::new();
        for (name, mode, data) in [
            ("d/e/f", 0o100600u32, &b"deep"[..]),
            ("d", 0o040700, b""),
            ("l", 0o120777, b"d/e/f"),
        ] {
            archive.extend(
                format!(
                    "070701{:08x}{mode:08x}{}{:08x}{}{:08x}{:08x}",
                    0,
                    "0".repeat(32),
                    data.len(),
                    "0".repeat(32),
                    name.len() + 1,
                    0
                )
                .bytes(),
            );
            archive.extend(name.bytes());
            archive.push(0);
            while archive.len() % 4 != 0 {
                archive.push(0);
            }
            archive.extend(data);
            while archive.len() % 4 != 0 {
                archive.push(0);
            }
        }
        assert_eq!(system.load_archive(&archive), Ok(3));
        let file = system.open(AT_FDCWD, b"l", flags(O_RDONLY), 0).unwrap();
        assert_eq!(read_all(&mut system, file), b"deep");
        let directory = system.tree.resolve(ROOT, b"/d", true).unwrap();
        assert_eq!(system.tree.node(directory).unwrap().mode(), 0o040700);
        assert_eq!(
            system.open(AT_FDCWD, b"/d", flags(O_WRONLY), 0),
            Err(EISDIR)
        );
        assert_eq!(
            system.open(
                AT_FDCWD,
                b"/d/e/f",
                Flags {
                    directory: true,
                    ..flags(0)
                },
                0
            ),
            Err(ENOTDIR)
        );
        assert_eq!(system.tree.remove(ROOT, b"/d", true), Err(ENOTEMPTY));
        assert_eq!(
            system.open(AT_FDCWD, b"/nope/x", flags(O_CREAT | O_WRONLY), 0o644),
            Err(ENOENT)
        );
    }
}
