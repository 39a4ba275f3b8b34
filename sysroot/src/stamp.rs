//! The sysroot stamp: a SHA-256 over every input of a sysroot, so that `unikcc`
//! notices a changed runtime and rebuilds.
//!
//! Inputs, in this order: every file under `runtime/` except its `target/`
//! directory, then `sysroot/include/`, `sysroot/link/`, `targets/`, then the target
//! name. The toolchain is not an input: `libunik.a` carries its own `core`, so a
//! newer rustc gives no reason to rebuild (`unik sysroot build --force` does). Each file contributes its path
//! relative to the source root (with `/` separators), its length and its bytes, so
//! renaming or moving a file changes the hash too.

use std::fs;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::{Error, Result};

/// Name of the stamp file inside a target's sysroot.
pub const STAMP_FILE: &str = "stamp";

/// First line of every stamp; bump it when the sysroot layout changes so old
/// caches are rebuilt.
const STAMP_VERSION: &str = "unik-sysroot-stamp 2";

/// The stamp the sysroot for `target_name` built from `source_dir` must carry.
pub fn compute(source_dir: &Path, target_name: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    hash_tree(
        &mut hasher,
        source_dir,
        Path::new("runtime"),
        &["runtime/target"],
    )?;
    for tree in ["sysroot/include", "sysroot/link", "targets"] {
        hash_tree(&mut hasher, source_dir, Path::new(tree), &[])?;
    }
    hash_field(&mut hasher, b"target", target_name.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{STAMP_VERSION}\n{hex}\n"))
}

/// The stamp of the installed sysroot, or `None` when none is installed.
pub fn read_installed(target_directory: &Path) -> Result<Option<String>> {
    let path = target_directory.join(STAMP_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io("cannot read", &path, error)),
    }
}

/// Length-prefixed so that no two different inputs hash the same byte stream.
fn hash_field(hasher: &mut Sha256, tag: &[u8], bytes: &[u8]) {
    hasher.update((tag.len() as u64).to_le_bytes());
    hasher.update(tag);
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Hashes the files under `source_dir/relative`, in file-name order, skipping the
/// directories in `excluded` (relative to `source_dir`). A missing tree hashes as
/// empty: whether it is required is the installer's business.
fn hash_tree(
    hasher: &mut Sha256,
    source_dir: &Path,
    relative: &Path,
    excluded: &[&str],
) -> Result<()> {
    let root = source_dir.join(relative);
    if !root.exists() {
        hash_field(hasher, b"absent", relative.to_string_lossy().as_bytes());
        return Ok(());
    }
    let walker = WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry
                .path()
                .strip_prefix(source_dir)
                .map(|path| path.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            !excluded.contains(&name.as_str())
        });
    for entry in walker {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(&root).to_path_buf();
            let source = error
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("file system loop"));
            Error::Io {
                action: "cannot read",
                path,
                source,
            }
        })?;
        let path = entry.path();
        let name = path
            .strip_prefix(source_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let file_type = entry.file_type();
        if file_type.is_file() {
            let bytes = fs::read(path).map_err(|error| Error::io("cannot read", path, error))?;
            hash_field(hasher, name.as_bytes(), &bytes);
        } else if file_type.is_symlink() {
            let target =
                fs::read_link(path).map_err(|error| Error::io("cannot read", path, error))?;
            hash_field(hasher, name.as_bytes(), target.to_string_lossy().as_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, text).unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        write(directory.path(), "runtime/Cargo.toml", "[workspace]");
        write(directory.path(), "runtime/kernel/src/lib.rs", "#![no_std]");
        write(
            directory.path(),
            "sysroot/include/stdio.h",
            "int puts(const char *);",
        );
        write(directory.path(), "sysroot/link/x86_64.ld", "ENTRY(_start)");
        write(directory.path(), "targets/x86_64.toml", "name = \"x86_64\"");
        directory
    }

    #[test]
    fn stable_for_the_same_inputs() {
        let directory = tree();
        let first = compute(directory.path(), "x86_64").unwrap();
        let second = compute(directory.path(), "x86_64").unwrap();
        assert_eq!(first, second);
        assert!(first.starts_with("unik-sysroot-stamp 2\n"));
    }

    #[test]
    fn changes_with_every_kind_of_input() {
        let directory = tree();
        let base = compute(directory.path(), "x86_64").unwrap();
        assert_ne!(base, compute(directory.path(), "aarch64").unwrap());
        for file in [
            "runtime/kernel/src/lib.rs",
            "sysroot/include/stdio.h",
            "sysroot/link/x86_64.ld",
            "targets/x86_64.toml",
        ] {
            let directory = tree();
            write(directory.path(), file, "changed");
            assert_ne!(base, compute(directory.path(), "x86_64").unwrap(), "{file}");
        }
        let directory = tree();
        write(directory.path(), "runtime/kernel/src/new.rs", "");
        assert_ne!(base, compute(directory.path(), "x86_64").unwrap());
    }

    #[test]
    fn ignores_the_runtime_build_directory() {
        let directory = tree();
        let base = compute(directory.path(), "x86_64").unwrap();
        write(directory.path(), "runtime/target/release/libunik.a", "junk");
        assert_eq!(base, compute(directory.path(), "x86_64").unwrap());
    }

    #[test]
    fn reading_a_missing_stamp_is_none() {
        let directory = tempfile::tempdir().unwrap();
        assert_eq!(read_installed(directory.path()).unwrap(), None);
    }
}
