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
    /// Inode number, link count and device: hard links are the regular files with
    /// `links >= 2` and the same inode and device (newc stores the data once, usually
    /// with the last name).
    pub inode: u32,
    pub links: u32,
    pub device: (u32, u32),
    /// Where the entry's header starts in the archive.
    pub offset: usize,
}

/// Why an archive could not be read: the byte offset of the bad entry and what is
/// wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    pub offset: usize,
    pub reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Fewer than the header's 110 bytes are left.
    TruncatedHeader,
    /// Not "070701" (nor "070702", newc with checksums).
    BadMagic,
    /// A header field holds something other than 8 hexadecimal digits.
    BadField,
    /// The name size is 0 (it counts the NUL).
    EmptyName,
    /// The name runs past the end of the archive.
    NameBeyondEnd,
    /// The file's data runs past the end of the archive.
    DataBeyondEnd,
    /// "070702": the sum of the data bytes differs from the header's check field.
    Checksum,
    /// Not damage: no memory for the entry's file (reported by the loader).
    OutOfMemory,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::TruncatedHeader => "truncated header",
            Self::BadMagic => "bad magic (not 070701, cpio newc)",
            Self::BadField => "header field not hexadecimal",
            Self::EmptyName => "name size 0",
            Self::NameBeyondEnd => "name runs past the end of the archive",
            Self::DataBeyondEnd => "file size runs past the end of the archive",
            Self::Checksum => "checksum mismatch (070702 archive)",
            Self::OutOfMemory => "out of memory for its file (give the machine more memory)",
        }
    }
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
    fn parse(&mut self) -> Result<Entry<'a>, Reason> {
        let start = self.offset;
        let header = start
            .checked_add(HEADER_SIZE)
            .and_then(|end| self.archive.get(start..end))
            .ok_or(Reason::TruncatedHeader)?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(Reason::BadMagic);
        }
        let field = |index: usize| hexadecimal(&header[6 + index * 8..14 + index * 8]);
        // Every field must be hexadecimal, used or not: anything else is corruption.
        let mut fields = [0u32; 13];
        for (index, value) in fields.iter_mut().enumerate() {
            *value = field(index).ok_or(Reason::BadField)?;
        }
        let mode = fields[1];
        let modified = fields[5];
        let has_checksum = &header[..6] == b"070702";
        let file_size = fields[6] as usize;
        let name_size = fields[11] as usize;
        if name_size == 0 {
            return Err(Reason::EmptyName);
        }
        let name_start = start + HEADER_SIZE;
        let name_end = name_start
            .checked_add(name_size)
            .ok_or(Reason::NameBeyondEnd)?;
        let name = self
            .archive
            .get(name_start..name_end)
            .ok_or(Reason::NameBeyondEnd)?;
        let name = &name[..name_size - 1];
        let data_start = align4(name_end).ok_or(Reason::DataBeyondEnd)?;
        let data_end = data_start
            .checked_add(file_size)
            .ok_or(Reason::DataBeyondEnd)?;
        // An empty last entry may lack the padding after its name.
        let data = match file_size {
            0 => &[][..],
            _ => self
                .archive
                .get(data_start..data_end)
                .ok_or(Reason::DataBeyondEnd)?,
        };
        // The "crc" format's check is the 32-bit sum of the data bytes (cpio(5)).
        let sum = data
            .iter()
            .fold(0u32, |sum, &byte| sum.wrapping_add(u32::from(byte)));
        if has_checksum && sum != fields[12] {
            return Err(Reason::Checksum);
        }
        self.offset = align4(data_end).unwrap_or(usize::MAX);
        Ok(Entry {
            name,
            mode,
            modified,
            data,
            inode: fields[0],
            links: fields[4],
            device: (fields[7], fields[8]),
            offset: start,
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
            Ok(entry) if entry.name == b"TRAILER!!!" => self.next(),
            Ok(entry) => Some(Ok(entry)),
            Err(reason) => {
                self.done = true;
                Some(Err(Malformed { offset, reason }))
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
        assert_eq!(
            entries(&bad).next(),
            Some(Err(Malformed {
                offset: 0,
                reason: Reason::BadField
            }))
        );
        assert!(entries(&[]).next().is_none());
    }

    fn first_error(archive: &[u8]) -> Option<Malformed> {
        entries(archive).find_map(Result::err)
    }

    #[test]
    fn each_kind_of_damage_is_named_with_its_offset() {
        let first = entry("a", 0o100644, b"xyz");
        let second = entry("dir/b", 0o100600, b"0123456789");
        let mut archive = first.clone();
        archive.extend(&second);
        let at = first.len();
        let damaged = |change: &dyn Fn(&mut Vec<u8>)| {
            let mut copy = archive.clone();
            change(&mut copy);
            first_error(&copy)
        };
        let malformed = |reason| Some(Malformed { offset: at, reason });
        // Truncated in the second header.
        assert_eq!(
            first_error(&archive[..at + 50]),
            malformed(Reason::TruncatedHeader)
        );
        assert_eq!(
            damaged(&|bytes| bytes[at..at + 6].copy_from_slice(b"070707")),
            malformed(Reason::BadMagic)
        );
        // A gzip stream where an entry should be.
        assert_eq!(
            damaged(&|bytes| bytes[at..at + 2].copy_from_slice(&[0x1f, 0x8b])),
            malformed(Reason::BadMagic)
        );
        assert_eq!(
            damaged(&|bytes| bytes[at + 20] = b'-'),
            malformed(Reason::BadField)
        );
        // namesize (field 11) 0, then larger than the archive.
        let namesize = at + 6 + 11 * 8;
        assert_eq!(
            damaged(&|bytes| bytes[namesize..namesize + 8].copy_from_slice(b"00000000")),
            malformed(Reason::EmptyName)
        );
        assert_eq!(
            damaged(&|bytes| bytes[namesize..namesize + 8].copy_from_slice(b"7fffffff")),
            malformed(Reason::NameBeyondEnd)
        );
        assert_eq!(
            damaged(&|bytes| bytes[namesize..namesize + 8].copy_from_slice(b"ffffffff")),
            malformed(Reason::NameBeyondEnd)
        );
        // filesize (field 6) past the end, and at the 32-bit limit.
        let filesize = at + 6 + 6 * 8;
        assert_eq!(
            damaged(&|bytes| bytes[filesize..filesize + 8].copy_from_slice(b"00000100")),
            malformed(Reason::DataBeyondEnd)
        );
        assert_eq!(
            damaged(&|bytes| bytes[filesize..filesize + 8].copy_from_slice(b"ffffffff")),
            malformed(Reason::DataBeyondEnd)
        );
        // The good first entry is still read before the error.
        let mut copy = archive.clone();
        copy[at] = b'X';
        let mut iterator = entries(&copy);
        assert_eq!(iterator.next().unwrap().unwrap().name, b"a");
        assert!(iterator.next().unwrap().is_err());
        assert!(iterator.next().is_none());
    }

    #[test]
    fn crc_archives_are_checked() {
        let mut archive = entry("file", 0o100644, b"abc");
        archive[..6].copy_from_slice(b"070702");
        // check (field 12) = 0x61 + 0x62 + 0x63 = 0x126.
        let check = 6 + 12 * 8;
        archive[check..check + 8].copy_from_slice(b"00000126");
        assert_eq!(entries(&archive).next().unwrap().unwrap().data, b"abc");
        archive[check..check + 8].copy_from_slice(b"00000127");
        assert_eq!(
            first_error(&archive),
            Some(Malformed {
                offset: 0,
                reason: Reason::Checksum
            })
        );
    }

    #[test]
    fn a_trailer_without_padding_ends_the_archive() {
        let mut archive = entry("a", 0o100644, b"xyz");
        let trailer = entry("TRAILER!!!", 0, b"");
        // "TRAILER!!!" and its NUL end at byte 121: one short of the padding.
        archive.extend_from_slice(&trailer[..HEADER_SIZE + 11]);
        let list: Vec<_> = entries(&archive).collect::<Result<_, _>>().unwrap();
        assert_eq!(list.len(), 1);
    }

    /// Fuzz-style: thousands of random mutations and truncations of a valid archive
    /// (xorshift, fixed seed, so a failure reproduces) never panic, never loop, and
    /// every entry returned lies inside the archive.
    #[test]
    fn random_damage_never_panics() {
        let mut archive = entry("dir", 0o040755, b"");
        archive.extend(entry("dir/file", 0o100644, b"hello world"));
        archive.extend(entry("dir/link", 0o120777, b"file"));
        archive.extend(entry("TRAILER!!!", 0, b""));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789abcdefABCDEFxz\0\xff0707017fffffff";
        for _ in 0..20_000 {
            let mut copy = archive.clone();
            for _ in 0..1 + random() % 4 {
                let index = (random() as usize) % copy.len();
                copy[index] = match random() % 3 {
                    0 => alphabet[(random() as usize) % alphabet.len()],
                    1 => random() as u8,
                    _ => b'f',
                };
            }
            let length = if random() % 4 == 0 {
                (random() as usize) % copy.len()
            } else {
                copy.len()
            };
            let copy = &copy[..length];
            let range = copy.as_ptr_range();
            let mut count = 0;
            for item in entries(copy) {
                count += 1;
                assert!(count <= copy.len() / HEADER_SIZE + 1);
                if let Ok(entry) = item {
                    for part in [entry.name, entry.data] {
                        let inside = part.is_empty()
                            || (range.start <= part.as_ptr()
                                && part.as_ptr_range().end <= range.end);
                        assert!(inside);
                    }
                }
            }
        }
    }
}
