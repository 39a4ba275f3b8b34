//! `unikcc --fs DIR`: the directory tree packed as a cpio "newc" archive (the format
//! Linux reads for initramfs, Documentation/driver-api/early-userspace/
//! buffer-format.rst) into an ELF object whose `.unik_fs` section the linker script
//! brackets with `__unik_fs_start`/`__unik_fs_end`; the runtime's files component
//! copies it into the RAM file system at start (runtime/libc/src/fs).
//!
//! The archive is deterministic, so images stay reproducible (STYLE.md 9): entries in
//! byte order of their paths, inode numbers counted from 1, owner 0:0, and every
//! modification time 0 unless `SOURCE_DATE_EPOCH` gives one (the reproducible-builds
//! convention). Modes and symbolic links are kept as they are.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness, SectionKind};

/// The section the linker script collects.
pub const SECTION: &str = ".unik_fs";

/// Why a tree could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: is not a directory (--fs takes the directory to embed)")]
    NotADirectory { path: PathBuf },
    #[error("{path}: {kind} cannot be embedded (only files, directories and symbolic links)")]
    UnsupportedType { path: PathBuf, kind: &'static str },
    #[error("{path}: larger than the 4 GiB a cpio newc entry can hold")]
    TooLarge { path: PathBuf },
    #[error("cannot write the file-tree object: {0}")]
    Object(String),
}

/// One entry, before serialization.
struct Entry {
    /// Relative path, '/'-separated, no leading "./".
    name: Vec<u8>,
    mode: u32,
    data: Vec<u8>,
}

const TYPE_REGULAR: u32 = 0o100000;
const TYPE_DIRECTORY: u32 = 0o040000;
const TYPE_SYMLINK: u32 = 0o120000;

/// Packs `directory` (recursively; the directory itself is `/`) as a newc archive.
pub fn archive_directory(directory: &Path, modified: u32) -> Result<Vec<u8>, EmbedError> {
    let read = |path: &Path, source| EmbedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(directory).map_err(|source| read(directory, source))?;
    if !metadata.is_dir() {
        return Err(EmbedError::NotADirectory {
            path: directory.to_path_buf(),
        });
    }
    let mut entries = Vec::new();
    collect(directory, Vec::new(), &mut entries)?;
    entries.sort_by(|left, right| left.name.cmp(&right.name));
    let mut archive = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let size = u32::try_from(entry.data.len()).map_err(|_| EmbedError::TooLarge {
            path: directory.join(std::ffi::OsStr::from_bytes(&entry.name)),
        })?;
        write_entry(
            &mut archive,
            index as u32 + 1,
            entry.mode,
            modified,
            &entry.name,
            &entry.data,
            size,
        );
    }
    write_entry(&mut archive, 0, 0, 0, b"TRAILER!!!", &[], 0);
    Ok(archive)
}

fn collect(directory: &Path, prefix: Vec<u8>, entries: &mut Vec<Entry>) -> Result<(), EmbedError> {
    let read = |path: &Path, source| EmbedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let listing = std::fs::read_dir(directory).map_err(|source| read(directory, source))?;
    for item in listing {
        let item = item.map_err(|source| read(directory, source))?;
        let path = item.path();
        let metadata = std::fs::symlink_metadata(&path).map_err(|source| read(&path, source))?;
        let mut name = prefix.clone();
        if !name.is_empty() {
            name.push(b'/');
        }
        name.extend_from_slice(item.file_name().as_bytes());
        let permissions = metadata.permissions().mode() & 0o7777;
        let kind = metadata.file_type();
        if kind.is_dir() {
            entries.push(Entry {
                name: name.clone(),
                mode: TYPE_DIRECTORY | permissions,
                data: Vec::new(),
            });
            collect(&path, name, entries)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|source| read(&path, source))?;
            entries.push(Entry {
                name,
                mode: TYPE_SYMLINK | 0o777,
                data: target.as_os_str().as_bytes().to_vec(),
            });
        } else if kind.is_file() {
            let data = std::fs::read(&path).map_err(|source| read(&path, source))?;
            entries.push(Entry {
                name,
                mode: TYPE_REGULAR | permissions,
                data,
            });
        } else {
            use std::os::unix::fs::FileTypeExt;
            let kind = if kind.is_fifo() {
                "a named pipe"
            } else if kind.is_socket() {
                "a socket"
            } else {
                "a device file"
            };
            return Err(EmbedError::UnsupportedType { path, kind });
        }
    }
    Ok(())
}

/// One newc entry: "070701", 13 eight-digit hexadecimal fields, the name with its NUL
/// padded to 4 bytes (counting the 110-byte header), the data padded to 4 bytes.
fn write_entry(
    out: &mut Vec<u8>,
    inode: u32,
    mode: u32,
    modified: u32,
    name: &[u8],
    data: &[u8],
    size: u32,
) {
    let fields = [
        inode,
        mode,
        0, // uid
        0, // gid
        if mode & 0o170000 == TYPE_DIRECTORY {
            2
        } else {
            1
        },
        modified,
        size,
        0, // devmajor
        0, // devminor
        0, // rdevmajor
        0, // rdevminor
        name.len() as u32 + 1,
        0, // check (only for "070702")
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name);
    out.push(0);
    pad(out);
    out.extend_from_slice(data);
    pad(out);
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// An ELF relocatable object for `architecture` whose `.unik_fs` section holds `archive`.
pub fn object(architecture: Architecture, archive: &[u8]) -> Result<Vec<u8>, EmbedError> {
    let mut object = Object::new(BinaryFormat::Elf, architecture, Endianness::Little);
    let section = object.add_section(
        Vec::new(),
        SECTION.as_bytes().to_vec(),
        SectionKind::ReadOnlyData,
    );
    object.append_section_data(section, archive, 8);
    object
        .write()
        .map_err(|error| EmbedError::Object(error.to_string()))
}

/// Packs `tree` into `directory/unik-fs.o` for `architecture`; returns its path.
pub fn write_object(
    tree: &Path,
    architecture: Architecture,
    directory: &Path,
    source_date_epoch: Option<&str>,
) -> Result<PathBuf, EmbedError> {
    let archive = archive_directory(tree, modification_time(source_date_epoch))?;
    let bytes = object(architecture, &archive)?;
    let path = directory.join("unik-fs.o");
    std::fs::write(&path, bytes).map_err(|source| EmbedError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The modification time to record: `SOURCE_DATE_EPOCH` when set and valid, else 0.
pub fn modification_time(source_date_epoch: Option<&str>) -> u32 {
    source_date_epoch
        .and_then(|text| text.trim().parse::<u32>().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_sorted_deterministic_and_keep_modes_and_links() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::write(root.join("b/c/file"), b"hello").unwrap();
        std::fs::set_permissions(
            root.join("b/c/file"),
            std::fs::Permissions::from_mode(0o751),
        )
        .unwrap();
        std::fs::write(root.join("a"), b"").unwrap();
        std::os::unix::fs::symlink("b/c/file", root.join("link")).unwrap();
        let first = archive_directory(root, 0).unwrap();
        assert_eq!(first, archive_directory(root, 0).unwrap());
        let text = String::from_utf8_lossy(&first);
        let names: Vec<usize> = [
            "a\0",
            "b\0",
            "b/c\0",
            "b/c/file\0",
            "link\0",
            "TRAILER!!!\0",
        ]
        .iter()
        .map(|name| text.find(name).unwrap_or_else(|| panic!("{name} missing")))
        .collect();
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
        assert!(text.contains(&format!("{:08x}", TYPE_REGULAR | 0o751)));
        assert!(text.contains(&format!("{:08x}", TYPE_SYMLINK | 0o777)));
        assert_eq!(first.len() % 4, 0);
        // The host's cpio reads it back, when installed.
        if let Ok(mut child) = std::process::Command::new("cpio")
            .args(["-i", "-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&first).unwrap();
            let output = child.wait_with_output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                "a\nb\nb/c\nb/c/file\nlink\n"
            );
        }
    }

    #[test]
    fn a_file_is_not_a_tree() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let error = archive_directory(&file, 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: is not a directory (--fs takes the directory to embed)",
                file.display()
            )
        );
        let missing = archive_directory(&directory.path().join("missing"), 0).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
        assert_eq!(modification_time(Some("1700000000")), 1_700_000_000);
        assert_eq!(modification_time(Some("soon")), 0);
    }
}
