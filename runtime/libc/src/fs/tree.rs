//! The writable RAM file system: one tree of nodes (regular files, directories,
//! symbolic links, the character devices of `/dev`) that the embedded archive is copied into at start and that the
//! program then changes freely.
//!
//! Every operation is safe Rust returning `Err(errno)` with the value Linux gives for
//! the same case (path resolution: path_resolution(7); the per-call cases from the
//! Linux man pages of open(2), mkdir(2), rmdir(2), unlink(2), rename(2)), so it is
//! unit-tested on the host.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::errno::{
    EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY, EPERM,
};

/// An errno value (Linux numbering).
pub type Errno = i32;

/// The node number of `/`.
pub const ROOT: usize = 0;

/// Linux's limit on symbolic links followed in one resolution (path_resolution(7)).
const MAXIMUM_LINKS_FOLLOWED: u32 = 40;
/// Linux's `NAME_MAX` and `PATH_MAX`.
pub const NAME_MAX: usize = 255;
pub const PATH_MAX: usize = 4096;

/// File type bits of `st_mode` (Linux `S_IFMT` values).
pub const TYPE_MASK: u32 = 0o170000;
pub const TYPE_REGULAR: u32 = 0o100000;
pub const TYPE_DIRECTORY: u32 = 0o040000;
pub const TYPE_SYMLINK: u32 = 0o120000;
pub const TYPE_CHARACTER_DEVICE: u32 = 0o020000;

/// The character devices every Linux system has in `/dev`, with Linux's numbers
/// (Documentation/admin-guide/devices.txt, major 1 "Memory devices").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/null` (1:3): reads end at once, writes are discarded.
    Null,
    /// `/dev/zero` (1:5): reads give zero bytes, writes are discarded.
    Zero,
    /// `/dev/random` (1:8) and `/dev/urandom` (1:9): both read the random generator
    /// (as on Linux since 5.6, where they differ only before the pool is seeded).
    Random,
    Urandom,
}

impl Device {
    /// Each device with its name in `/dev`.
    pub const ALL: [(&'static [u8], Device); 4] = [
        (b"null", Device::Null),
        (b"zero", Device::Zero),
        (b"random", Device::Random),
        (b"urandom", Device::Urandom),
    ];

    /// The device number, Linux's `major << 8 | minor` (the encoding of dev_t for
    /// majors below 4096 and minors below 256).
    pub fn number(self) -> u32 {
        let minor = match self {
            Device::Null => 3,
            Device::Zero => 5,
            Device::Random => 8,
            Device::Urandom => 9,
        };
        (1 << 8) | minor
    }
}

/// A timestamp: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanoseconds: i64,
}

#[derive(Debug)]
pub enum Content {
    File(Vec<u8>),
    /// Entries by name; "." and ".." are implicit.
    Directory(BTreeMap<Vec<u8>, usize>),
    Symlink(Vec<u8>),
    Device(Device),
}

#[derive(Debug)]
pub struct Node {
    pub content: Content,
    /// Permission bits (the type is implied by `content`).
    pub permissions: u32,
    /// Directory entries naming this node (a directory's parent link counts once).
    pub links: u32,
    /// Open file descriptions referring to this node: an unlinked file lives on
    /// until the last one is closed (unlink(2)).
    pub open_count: u32,
    /// A directory's parent (the root is its own).
    pub parent: usize,
    pub accessed: Timestamp,
    pub modified: Timestamp,
    pub changed: Timestamp,
}

impl Node {
    pub fn mode(&self) -> u32 {
        let kind = match self.content {
            Content::File(_) => TYPE_REGULAR,
            Content::Directory(_) => TYPE_DIRECTORY,
            Content::Symlink(_) => TYPE_SYMLINK,
            Content::Device(_) => TYPE_CHARACTER_DEVICE,
        };
        kind | (self.permissions & 0o7777)
    }

    pub fn is_directory(&self) -> bool {
        matches!(self.content, Content::Directory(_))
    }

    pub fn size(&self) -> u64 {
        match &self.content {
            Content::File(bytes) | Content::Symlink(bytes) => bytes.len() as u64,
            // Linux tmpfs reports entries * 20 (BOGO_DIRENT_SIZE) + 2 * 20 for "." and "..".
            Content::Directory(entries) => (entries.len() as u64 + 2) * 20,
            Content::Device(_) => 0,
        }
    }

    /// `st_nlink`: a directory counts ".", its parent's entry and each subdirectory's "..".
    pub fn link_count(&self, tree: &Tree) -> u64 {
        match &self.content {
            Content::Directory(entries) => {
                2 + entries
                    .values()
                    .filter(|&&child| tree.node(child).is_some_and(Node::is_directory))
                    .count() as u64
            }
            _ => u64::from(self.links),
        }
    }
}

/// The kind of node a create operation makes.
pub enum NewNode<'a> {
    File,
    Directory,
    Symlink(&'a [u8]),
    Device(Device),
}

/// The whole tree. Node numbers index `nodes`; a freed slot is reused.
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<Option<Node>>,
    free: Vec<usize>,
    /// `/dev` is still to be made (see [`Tree::with_devices`]).
    devices_pending: bool,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    /// A tree holding only an empty `/` (mode 0755, as the rootfs Linux starts with).
    pub const fn new() -> Self {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            devices_pending: false,
        }
    }

    /// A tree whose `/` comes with `/dev` (0755) holding the character devices of
    /// [`Device::ALL`] (0666, as udev makes them). Both are made on the tree's first
    /// use (the first path operation, or loading an archive: before its entries, so an
    /// embedded tree or an initrd can put its own files there, initramfs order), not
    /// at program start: a program that only writes to its console never builds them.
    pub const fn with_devices() -> Self {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            devices_pending: true,
        }
    }

    /// Makes `/` (and `/dev`, see [`Tree::with_devices`]) if not done yet. Running out
    /// of memory while making `/dev` leaves it to the next call.
    pub fn ensure_root(&mut self) {
        if self.nodes.is_empty() {
            self.push_root();
        }
        if self.devices_pending {
            // Cleared first: making the nodes comes back here.
            self.devices_pending = false;
            if self.create_devices().is_err() {
                self.devices_pending = true;
            }
        }
    }

    fn create_devices(&mut self) -> Result<(), Errno> {
        let directory = match self.lookup(ROOT, b"dev")? {
            Some(directory) => directory,
            None => self.create(ROOT, b"dev", NewNode::Directory, 0o755)?,
        };
        for (name, device) in Device::ALL {
            if self.lookup(directory, name)?.is_none() {
                self.create(directory, name, NewNode::Device(device), 0o666)?;
            }
        }
        Ok(())
    }

    fn push_root(&mut self) {
        self.nodes.push(Some(Node {
            content: Content::Directory(BTreeMap::new()),
            permissions: 0o755,
            links: 1,
            open_count: 0,
            parent: ROOT,
            accessed: Timestamp::default(),
            modified: Timestamp::default(),
            changed: Timestamp::default(),
        }));
    }

    pub fn node(&self, number: usize) -> Option<&Node> {
        self.nodes.get(number).and_then(Option::as_ref)
    }

    pub fn node_mut(&mut self, number: usize) -> Option<&mut Node> {
        self.ensure_root();
        self.nodes.get_mut(number).and_then(Option::as_mut)
    }

    fn directory(&self, number: usize) -> Result<&BTreeMap<Vec<u8>, usize>, Errno> {
        match self.node(number).map(|node| &node.content) {
            Some(Content::Directory(entries)) => Ok(entries),
            Some(_) => Err(ENOTDIR),
            None => Err(ENOENT),
        }
    }

    fn directory_mut(&mut self, number: usize) -> Result<&mut BTreeMap<Vec<u8>, usize>, Errno> {
        match self.node_mut(number).map(|node| &mut node.content) {
            Some(Content::Directory(entries)) => Ok(entries),
            Some(_) => Err(ENOTDIR),
            None => Err(ENOENT),
        }
    }

    /// Resolves `path` from directory `start` (path_resolution(7)). `follow_last`: a
    /// symbolic link in the last component is followed (stat, open) or not (lstat).
    pub fn resolve(
        &mut self,
        start: usize,
        path: &[u8],
        follow_last: bool,
    ) -> Result<usize, Errno> {
        self.ensure_root();
        let mut followed = 0;
        self.walk(start, path, follow_last, &mut followed)
    }

    fn walk(
        &self,
        start: usize,
        path: &[u8],
        follow_last: bool,
        followed: &mut u32,
    ) -> Result<usize, Errno> {
        if path.is_empty() {
            return Err(ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut current = if path[0] == b'/' { ROOT } else { start };
        let trailing_slash = path.ends_with(b"/");
        let components: Vec<&[u8]> = path
            .split(|&byte| byte == b'/')
            .filter(|part| !part.is_empty())
            .collect();
        for (index, component) in components.iter().enumerate() {
            let last = index + 1 == components.len();
            let entries = self.directory(current)?;
            match *component {
                b"." => continue,
                b".." => {
                    current = self.node(current).map_or(ROOT, |node| node.parent);
                    continue;
                }
                _ => {}
            }
            if component.len() > NAME_MAX {
                return Err(ENAMETOOLONG);
            }
            let child = *entries.get(*component).ok_or(ENOENT)?;
            if let Some(Content::Symlink(target)) = self.node(child).map(|node| &node.content)
                && (!last || follow_last || trailing_slash)
            {
                *followed += 1;
                if *followed > MAXIMUM_LINKS_FOLLOWED {
                    return Err(ELOOP);
                }
                current = self.walk(current, target, true, followed)?;
            } else {
                current = child;
            }
        }
        if trailing_slash && !self.node(current).is_some_and(Node::is_directory) {
            return Err(ENOTDIR);
        }
        Ok(current)
    }

    /// The directory that would hold `path`'s last component, and that component
    /// ("." for `/` and for paths ending in "."; trailing slashes are dropped).
    pub fn resolve_parent<'p>(
        &mut self,
        start: usize,
        path: &'p [u8],
    ) -> Result<(usize, &'p [u8]), Errno> {
        self.ensure_root();
        if path.is_empty() {
            return Err(ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut end = path.len();
        while end > 1 && path[end - 1] == b'/' {
            end -= 1;
        }
        let trimmed = &path[..end];
        let (directory, name) = match trimmed.iter().rposition(|&byte| byte == b'/') {
            Some(0) => (ROOT, &trimmed[1..]),
            Some(slash) => {
                let mut followed = 0;
                (
                    self.walk(start, &trimmed[..slash], true, &mut followed)?,
                    &trimmed[slash + 1..],
                )
            }
            None => (start, trimmed),
        };
        self.directory(directory)?;
        if name.len() > NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        Ok((directory, if name.is_empty() { b"." } else { name }))
    }

    /// Looks `name` up in `directory` (".." and "." included).
    pub fn lookup(&self, directory: usize, name: &[u8]) -> Result<Option<usize>, Errno> {
        let entries = self.directory(directory)?;
        Ok(match name {
            b"." => Some(directory),
            b".." => Some(self.node(directory).map_or(ROOT, |node| node.parent)),
            _ => entries.get(name).copied(),
        })
    }

    /// Creates `name` in `directory`; EEXIST when the name is taken.
    pub fn create(
        &mut self,
        directory: usize,
        name: &[u8],
        kind: NewNode<'_>,
        permissions: u32,
    ) -> Result<usize, Errno> {
        if self.lookup(directory, name)?.is_some() {
            return Err(EEXIST);
        }
        let content = match kind {
            NewNode::File => Content::File(Vec::new()),
            NewNode::Directory => Content::Directory(BTreeMap::new()),
            NewNode::Symlink(target) => Content::Symlink(copy(target)?),
            NewNode::Device(device) => Content::Device(device),
        };
        let node = Node {
            content,
            permissions: permissions & 0o7777,
            links: 1,
            open_count: 0,
            parent: directory,
            accessed: Timestamp::default(),
            modified: Timestamp::default(),
            changed: Timestamp::default(),
        };
        let number = match self.free.pop() {
            Some(number) => {
                self.nodes[number] = Some(node);
                number
            }
            None => {
                self.nodes.try_reserve(1).map_err(|_| ENOMEM)?;
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        let name = copy(name)?;
        self.directory_mut(directory)?.insert(name, number);
        Ok(number)
    }

    /// Adds `name` in `directory` for the existing node `number` (a hard link, link(2));
    /// EEXIST when the name is taken, EPERM for a directory.
    pub fn link(&mut self, directory: usize, name: &[u8], number: usize) -> Result<(), Errno> {
        if self.lookup(directory, name)?.is_some() {
            return Err(EEXIST);
        }
        if self.node(number).ok_or(ENOENT)?.is_directory() {
            return Err(EPERM);
        }
        let name = copy(name)?;
        self.directory_mut(directory)?.insert(name, number);
        if let Some(node) = self.node_mut(number) {
            node.links += 1;
        }
        Ok(())
    }

    /// Frees a node nothing refers to any more.
    fn release_if_unused(&mut self, number: usize) {
        if number != ROOT
            && self
                .node(number)
                .is_some_and(|node| node.links == 0 && node.open_count == 0)
        {
            self.nodes[number] = None;
            self.free.push(number);
        }
    }

    pub fn open_node(&mut self, number: usize) {
        if let Some(node) = self.node_mut(number) {
            node.open_count += 1;
        }
    }

    pub fn close_node(&mut self, number: usize) {
        if let Some(node) = self.node_mut(number) {
            node.open_count = node.open_count.saturating_sub(1);
        }
        self.release_if_unused(number);
    }

    /// unlink(2) (`remove_directory` false) or rmdir(2) (true) of `path`.
    pub fn remove(
        &mut self,
        start: usize,
        path: &[u8],
        remove_directory: bool,
    ) -> Result<(), Errno> {
        if remove_directory && !path.is_empty() && path.iter().all(|&byte| byte == b'/') {
            // rmdir("/"): Linux says the root is busy.
            return Err(EBUSY);
        }
        let (directory, name) = self.resolve_parent(start, path)?;
        if remove_directory {
            match name {
                b"." => return Err(EINVAL),
                b".." => return Err(ENOTEMPTY),
                _ => {}
            }
        }
        let child = self.lookup(directory, name)?.ok_or(ENOENT)?;
        let node = self.node(child).ok_or(ENOENT)?;
        match (&node.content, remove_directory) {
            (Content::Directory(_), false) => return Err(EISDIR),
            (Content::Directory(entries), true) => {
                if child == ROOT {
                    return Err(EBUSY);
                }
                if !entries.is_empty() {
                    return Err(ENOTEMPTY);
                }
            }
            (_, true) => return Err(ENOTDIR),
            // unlink("file/") on a non-directory: resolve_parent dropped the slash.
            (_, false) if path.ends_with(b"/") => return Err(ENOTDIR),
            (_, false) => {}
        }
        self.directory_mut(directory)?.remove(name);
        if let Some(node) = self.node_mut(child) {
            node.links = node.links.saturating_sub(1);
        }
        self.release_if_unused(child);
        Ok(())
    }

    /// rename(2), with Linux's cases: a directory may replace only an empty directory,
    /// a non-directory only a non-directory, and a directory cannot move below itself.
    pub fn rename(
        &mut self,
        old_start: usize,
        old_path: &[u8],
        new_start: usize,
        new_path: &[u8],
    ) -> Result<(), Errno> {
        let (old_directory, old_name) = self.resolve_parent(old_start, old_path)?;
        let (new_directory, new_name) = self.resolve_parent(new_start, new_path)?;
        if matches!(old_name, b"." | b"..") || matches!(new_name, b"." | b"..") {
            return Err(if old_name == b"." || new_name == b"." {
                EINVAL
            } else {
                EBUSY
            });
        }
        let moving = self.lookup(old_directory, old_name)?.ok_or(ENOENT)?;
        let moving_directory = self.node(moving).is_some_and(Node::is_directory);
        if !moving_directory && (old_path.ends_with(b"/") || new_path.ends_with(b"/")) {
            return Err(ENOTDIR);
        }
        if moving_directory {
            // The new parent must not be the directory itself or inside it.
            let mut ancestor = new_directory;
            loop {
                if ancestor == moving {
                    return Err(EINVAL);
                }
                if ancestor == ROOT {
                    break;
                }
                ancestor = self.node(ancestor).map_or(ROOT, |node| node.parent);
            }
        }
        if let Some(existing) = self.lookup(new_directory, new_name)? {
            if existing == moving {
                return Ok(());
            }
            let existing_node = self.node(existing).ok_or(ENOENT)?;
            match (&existing_node.content, moving_directory) {
                (Content::Directory(entries), true) if !entries.is_empty() => {
                    return Err(ENOTEMPTY);
                }
                (Content::Directory(_), false) => return Err(EISDIR),
                (Content::Directory(_), true) => {}
                (_, true) => return Err(ENOTDIR),
                (_, false) => {}
            }
            self.directory_mut(new_directory)?.remove(new_name);
            if let Some(node) = self.node_mut(existing) {
                node.links = node.links.saturating_sub(1);
            }
            self.release_if_unused(existing);
        }
        let new_name = copy(new_name)?;
        self.directory_mut(old_directory)?.remove(old_name);
        self.directory_mut(new_directory)?.insert(new_name, moving);
        if let Some(node) = self.node_mut(moving) {
            node.parent = new_directory;
        }
        Ok(())
    }

    /// The absolute path of node `number` (getcwd, realpath): every node records the
    /// directory that holds it (there are no hard links, so it is the only one).
    pub fn path_of(&self, number: usize) -> Result<Vec<u8>, Errno> {
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut current = number;
        while current != ROOT {
            let parent = self.node(current).ok_or(ENOENT)?.parent;
            let entries = self.directory(parent)?;
            let name = entries
                .iter()
                .find(|(_, child)| **child == current)
                .map(|(name, _)| name.as_slice())
                .ok_or(ENOENT)?;
            parts.push(name);
            current = parent;
        }
        let mut path = Vec::new();
        if parts.is_empty() {
            path.push(b'/');
        }
        for part in parts.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(part);
        }
        Ok(path)
    }

    /// Entry `index` of directory `number` ("." and ".." first): (name, node).
    pub fn entry_at(&self, number: usize, index: u64) -> Result<Option<(&[u8], usize)>, Errno> {
        let entries = self.directory(number)?;
        Ok(match index {
            0 => Some((b".", number)),
            1 => Some((b"..", self.node(number).map_or(ROOT, |node| node.parent))),
            _ => usize::try_from(index - 2)
                .ok()
                .and_then(|skip| entries.iter().nth(skip))
                .map(|(name, &child)| (name.as_slice(), child)),
        })
    }

    /// The entries of directory `number` in order, "." and ".." first: (name, node).
    pub fn entries(&self, number: usize) -> Result<Vec<(Vec<u8>, usize)>, Errno> {
        let entries = self.directory(number)?;
        let parent = self.node(number).map_or(ROOT, |node| node.parent);
        let mut list = Vec::new();
        list.try_reserve(entries.len() + 2).map_err(|_| ENOMEM)?;
        list.push((b".".to_vec(), number));
        list.push((b"..".to_vec(), parent));
        for (name, &child) in entries {
            list.push((name.clone(), child));
        }
        Ok(list)
    }
}

/// A fallible copy (file system growth reports ENOMEM instead of aborting).
pub fn copy(bytes: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut vector = Vec::new();
    vector.try_reserve_exact(bytes.len()).map_err(|_| ENOMEM)?;
    vector.extend_from_slice(bytes);
    Ok(vector)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        let mut tree = Tree::new();
        tree.ensure_root();
        let directory = tree
            .create(ROOT, b"etc", NewNode::Directory, 0o755)
            .unwrap();
        tree.create(directory, b"hosts", NewNode::File, 0o644)
            .unwrap();
        tree.create(ROOT, b"link", NewNode::Symlink(b"etc/hosts"), 0o777)
            .unwrap();
        tree.create(ROOT, b"loop", NewNode::Symlink(b"loop"), 0o777)
            .unwrap();
        tree
    }

    #[test]
    fn dev_is_made_on_first_use_and_once() {
        let mut tree = Tree::with_devices();
        assert!(tree.nodes.is_empty());
        assert_eq!(tree.path_of(ROOT), Ok(b"/".to_vec()));
        assert!(tree.nodes.is_empty());
        let dev = tree.resolve(ROOT, b"/dev", true).unwrap();
        let names = |tree: &Tree| -> Vec<Vec<u8>> {
            let entries = tree.entries(dev).unwrap();
            entries.into_iter().map(|(name, _)| name).collect()
        };
        let expected: Vec<Vec<u8>> = [&b"."[..], b"..", b"null", b"random", b"urandom", b"zero"]
            .iter()
            .map(|name| name.to_vec())
            .collect();
        assert_eq!(names(&tree), expected);
        // Later uses make nothing again; a name the program takes over stays its own.
        tree.remove(ROOT, b"/dev/zero", false).unwrap();
        tree.create(dev, b"zero", NewNode::File, 0o644).unwrap();
        tree.ensure_root();
        assert_eq!(names(&tree), expected);
        let zero = tree.resolve(ROOT, b"/dev/zero", true).unwrap();
        assert_eq!(tree.node(zero).unwrap().mode(), 0o100644);
        // A plain tree has only `/`.
        let mut plain = Tree::new();
        plain.ensure_root();
        assert_eq!(plain.entries(ROOT).unwrap().len(), 2);
    }

    #[test]
    fn resolution_follows_links_and_dots() {
        let mut tree = tree();
        let hosts = tree.resolve(ROOT, b"/etc/hosts", true).unwrap();
        assert_eq!(tree.resolve(ROOT, b"/etc/../etc/./hosts", true), Ok(hosts));
        assert_eq!(tree.resolve(ROOT, b"link", true), Ok(hosts));
        assert_ne!(tree.resolve(ROOT, b"link", false), Ok(hosts));
        assert_eq!(tree.resolve(ROOT, b"/..", true), Ok(ROOT));
        assert_eq!(tree.resolve(ROOT, b"loop", true), Err(ELOOP));
        assert_eq!(tree.resolve(ROOT, b"/etc/hosts/", true), Err(ENOTDIR));
        assert_eq!(tree.resolve(ROOT, b"/etc/hosts/x", true), Err(ENOTDIR));
        assert_eq!(tree.resolve(ROOT, b"/nope", true), Err(ENOENT));
        assert_eq!(tree.resolve(ROOT, b"", true), Err(ENOENT));
        let etc = tree.resolve(ROOT, b"/etc", true).unwrap();
        assert_eq!(tree.path_of(etc).unwrap(), b"/etc");
        assert_eq!(tree.path_of(hosts).unwrap(), b"/etc/hosts");
    }

    #[test]
    fn removal_and_rename_errors_match_linux() {
        let mut tree = tree();
        assert_eq!(tree.remove(ROOT, b"/etc", true), Err(ENOTEMPTY));
        assert_eq!(tree.remove(ROOT, b"/etc", false), Err(EISDIR));
        assert_eq!(tree.remove(ROOT, b"/etc/hosts", true), Err(ENOTDIR));
        assert_eq!(tree.remove(ROOT, b"/", true), Err(EBUSY));
        assert_eq!(tree.rename(ROOT, b"/etc", ROOT, b"/etc/sub"), Err(EINVAL));
        tree.create(ROOT, b"empty", NewNode::Directory, 0o755)
            .unwrap();
        assert_eq!(
            tree.rename(ROOT, b"/etc/hosts", ROOT, b"/empty"),
            Err(EISDIR)
        );
        assert_eq!(
            tree.rename(ROOT, b"/empty", ROOT, b"/etc/hosts"),
            Err(ENOTDIR)
        );
        assert_eq!(tree.rename(ROOT, b"/empty", ROOT, b"/etc"), Err(ENOTEMPTY));
        tree.rename(ROOT, b"/etc/hosts", ROOT, b"/hosts").unwrap();
        tree.remove(ROOT, b"/etc", true).unwrap();
        tree.rename(ROOT, b"/empty", ROOT, b"/etc").unwrap();
        assert!(tree.resolve(ROOT, b"/etc", true).is_ok());
        assert_eq!(tree.create(ROOT, b"hosts", NewNode::File, 0), Err(EEXIST));
    }

    #[test]
    fn an_open_unlinked_file_lives_until_closed() {
        let mut tree = tree();
        let hosts = tree.resolve(ROOT, b"/etc/hosts", true).unwrap();
        tree.open_node(hosts);
        tree.remove(ROOT, b"/etc/hosts", false).unwrap();
        assert!(tree.node(hosts).is_some());
        tree.close_node(hosts);
        assert!(tree.node(hosts).is_none());
        // The slot is reused.
        assert_eq!(tree.create(ROOT, b"new", NewNode::File, 0o600), Ok(hosts));
    }
}
