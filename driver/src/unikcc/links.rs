//! `unik install-links DIR`: target-prefixed tool names for cross builds.
//!
//! autoconf's `--host=x86_64-unik` looks for `x86_64-unik-gcc` (then `-cc`),
//! `x86_64-unik-ar`, `x86_64-unik-ranlib`, and makefiles of cross builds use
//! `$(CROSS)gcc`, `$(CROSS)ld`. These are symbolic links: the compiler names point
//! at `unikcc` (which reads the target from its name), the linker names at `unikld`,
//! the archive and symbol tools at the host's (GNU or LLVM: both handle the
//! targets' ELF objects).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::PREFIX_TARGETS;
use crate::discovery::Environment;
use crate::error::{Error, Result};

/// The host tools linked under each prefix, with their fallbacks.
const HOST_TOOLS: &[(&str, &[&str])] = &[
    ("ar", &["ar", "llvm-ar", "llvm-ar-19"]),
    ("ranlib", &["ranlib", "llvm-ranlib", "llvm-ranlib-19"]),
    ("nm", &["nm", "llvm-nm", "llvm-nm-19"]),
    ("strip", &["strip", "llvm-strip", "llvm-strip-19"]),
    ("objcopy", &["objcopy", "llvm-objcopy", "llvm-objcopy-19"]),
];

/// Makes the links in `directory` (created if needed); `unikcc` and `unikld` are
/// the installed binaries. Replaces links it made before; never a regular file.
/// Returns the links made, as `(link, what it points at)`.
pub fn install_links(
    directory: &Path,
    unikcc: &Path,
    unikld: &Path,
    environment: &Environment,
) -> Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(directory)
        .map_err(|source| Error::io("cannot create", directory, source))?;
    let mut made = Vec::new();
    for target in PREFIX_TARGETS {
        let mut links: Vec<(String, PathBuf)> = vec![
            (format!("{target}-unik-cc"), unikcc.to_path_buf()),
            (format!("{target}-unik-gcc"), unikcc.to_path_buf()),
            (format!("{target}-unik-ld"), unikld.to_path_buf()),
        ];
        for (tool, candidates) in HOST_TOOLS {
            if let Some(found) = candidates
                .iter()
                .find_map(|name| environment.find_program(OsStr::new(name)))
            {
                links.push((format!("{target}-unik-{tool}"), found));
            }
        }
        for (name, destination) in links {
            let link = directory.join(name);
            match std::fs::symlink_metadata(&link) {
                Ok(metadata) if metadata.file_type().is_symlink() => {
                    std::fs::remove_file(&link)
                        .map_err(|source| Error::io("cannot replace", &link, source))?;
                }
                Ok(_) => {
                    return Err(Error::Usage(format!(
                        "{}: exists and is not a symbolic link; remove it or choose another directory",
                        link.display()
                    )));
                }
                Err(_) => {}
            }
            std::os::unix::fs::symlink(&destination, &link)
                .map_err(|source| Error::io("cannot create", &link, source))?;
            made.push((link, destination));
        }
    }
    Ok(made)
}
