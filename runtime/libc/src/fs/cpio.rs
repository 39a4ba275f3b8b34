//! Reader of the "newc" cpio format (the one Linux uses for initramfs,
//! Documentation/driver-api/early-userspace/buffer-format.rst): the format of the tree
//! `unikcc --fs` embeds and of the archive `unik run --initrd` passes.
//!
//! Each entry: the magic "070701", 13 fields of 8 hexadecimal digits (ino, mode, uid,
//! gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize,
//! check), the name (namesize bytes including its NUL), padding to 4 bytes, the data,
//! padding to 4 bytes. The entry named "TRAILER!!!" ends the archive.

/// One archive entry, borrowing from the archive.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path as stored (no NUL; usually relative, without a leading "./").
    pub name: &'a [u8],
    pub mode: u32,
    pub modified: u32,
    /// The file's bytes, or a symbolic link's target.
    pub data: &'a [u8],
}

/// Why an archive could not be read: the byte offset of the bad entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    pub offset: usize,
}

const HEADER_SIZE: usize = 110;

fn hexadecimal(field: &[u8]) -> Option<u32> {
    field.iter().try_fold(0u32, |value, &digit| {
        let nibble = (digit as char).to_digit(16)?;
        Some((value << 4) | nibble)
    })
}

fn align4(value: usize) -> Option<usize> {
    value.checked_add(3).map(|value| value & !3)
}

/// Iterates the entries of `archive` until the trailer; stops with an error at the
/// first malformed entry (truncation, bad magic or digits).
pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        archive,
        offset: 0,
        done: archive.is_empty(),
    }
}

pub struct Entries<'a> {
    archive: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Entries<'a> {
    fn parse(&mut self) -> Option<Entry<'a>> {
        let start = self.offset;
        let header = self.archive.get(start..start.checked_add(HEADER_SIZE)?)?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return None;
        }
        let field = |index: usize| hexadecimal(&header[6 + index * 8..14 + index * 8]);
        // Every field must be hexadecimal, used or not: anything else is corruption.
        if (0..13).any(|index| field(index).is_none()) {
            return None;
        }
        let mode = field(1)?;
        let modified = field(5)?;
        let file_size = field(6)? as usize;
        let name_size = field(11)? as usize;
        if name_size == 0 {
            return None;
        }
        let name_start = start + HEADER_SIZE;
        let name = self
            .archive
            .get(name_start..name_start.checked_add(name_size)?)?;
        let name = &name[..name_size - 1];
        let data_start = align4(name_start + name_size)?;
        let data_end = data_start.checked_add(file_size)?;
        let data = self.archive.get(data_start..data_end)?;
        self.offset = align4(data_end)?;
        Some(Entry {
            name,
            mode,
            modified,
            data,
        })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Archives concatenated with zero padding between them (as initramfs allows)
        // are read on after the padding.
        while self.archive.get(self.offset) == Some(&0) {
            self.offset += 1;
        }
        if self.offset >= self.archive.len() {
            self.done = true;
            return None;
        }
        let offset = self.offset;
        match self.parse() {
            Some(entry) if entry.name == b"TRAILER!!!" => self.next(),
            Some(entry) => Some(Ok(entry)),
            None => {
                self.done = true;
                Some(Err(Malformed { offset }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, mode: u32, data: &[u8]) -> Vec<u8> {
        let mut bytes = format!(
            "070701{:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            1,
            0,
            0,
            1,
            1234,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        )
        .into_bytes();
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes.extend_from_slice(data);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    #[test]
    fn reads_entries_until_the_trailer() {
        let mut archive = entry("dir", 0o040755, b"");
        archive.extend(entry("dir/file", 0o100644, b"hello"));
        archive.extend(entry("TRAILER!!!", 0, b""));
        archive.extend([0; 8]);
        let list: Vec<_> = entries(&archive).collect::<Result<_, _>>().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].name, b"dir/file");
        assert_eq!(list[1].data, b"hello");
        assert_eq!(list[1].mode, 0o100644);
        assert_eq!(list[1].modified, 1234);
    }

    #[test]
    fn truncated_or_corrupt_archives_are_errors_not_panics() {
        let archive = entry("file", 0o100644, b"0123456789");
        for cut in 1..archive.len() {
            let result: Result<Vec<_>, _> = entries(&archive[..cut]).collect();
            assert!(result.is_err() || cut >= archive.len() - 2, "cut at {cut}");
        }
        let mut bad = archive.clone();
        bad[10] = b'z';
        assert_eq!(entries(&bad).next(), Some(Err(Malformed { offset: 0 })));
        assert!(entries(&[]).next().is_none());
    }
}
