//! Installing a built runtime and the source tree's headers, linker script and
//! target spec as one target's sysroot, atomically.

use std::fs;
use std::path::Path;

use walkdir::WalkDir;

use crate::stamp::STAMP_FILE;
use crate::{Error, Result};

pub(crate) const RUNTIME_ARCHIVE: &str = "libunik.a";
pub(crate) const LINKER_SCRIPT: &str = "link.ld";
/// The component declarations, under `runtime/` of the source tree.
pub(crate) const COMPONENTS_FILE: &str = "components.toml";

/// What goes into one target's sysroot.
#[derive(Debug, Clone, Copy)]
pub struct SysrootInputs<'a> {
    pub target_name: &'a str,
    /// Root of the unik source tree (for `sysroot/include`, `sysroot/link`).
    pub source_dir: &'a Path,
    /// The built `libunik.a`.
    pub runtime_archive: &'a Path,
    pub target_spec_text: &'a str,
    pub stamp: &'a str,
}

/// Writes the sysroot layout (see the crate docs) into the empty directory `destination`.
pub fn install_into(destination: &Path, inputs: &SysrootInputs<'_>) -> Result<()> {
    let library = destination.join("lib");
    create_directory(&library)?;
    install_archive(inputs.runtime_archive, &library.join(RUNTIME_ARCHIVE))?;

    let layout = SpecFields::from_spec(inputs.target_spec_text);
    let script_name = layout.script.as_deref().unwrap_or(inputs.target_name);
    let script = inputs
        .source_dir
        .join("sysroot")
        .join("link")
        .join(format!("{script_name}.ld"));
    if !script.is_file() {
        return Err(Error::MissingInput {
            path: script,
            target: inputs.target_name.to_string(),
            hint: "every target needs its linker script in sysroot/link/",
        });
    }
    let text =
        fs::read_to_string(&script).map_err(|error| Error::io("cannot read", &script, error))?;
    let installed = library.join(LINKER_SCRIPT);
    let text = match (&layout.script, layout.load_address) {
        // A script shared with another target is linked at this target's address: the
        // script reads `__unik_load_address` when it is defined (sysroot/link/aarch64.ld).
        (Some(_), Some(address)) => format!(
            "/* {script_name}.ld at targets/{}.toml's load_address */\n\
             __unik_load_address = {address:#x};\n{text}",
            inputs.target_name
        ),
        _ => text,
    };
    fs::write(&installed, text).map_err(|error| Error::io("cannot write", &installed, error))?;

    write_manifest(destination, inputs)?;

    let headers = inputs.source_dir.join("sysroot").join("include");
    if !headers.is_dir() {
        return Err(Error::MissingInput {
            path: headers,
            target: inputs.target_name.to_string(),
            hint: "the C headers live in sysroot/include/",
        });
    }
    copy_tree(&headers, &destination.join("include"))?;

    let spec = destination.join("target.toml");
    fs::write(&spec, inputs.target_spec_text)
        .map_err(|error| Error::io("cannot write", &spec, error))?;
    // The stamp goes last: a directory with a stamp is complete.
    let stamp = destination.join(STAMP_FILE);
    fs::write(&stamp, inputs.stamp).map_err(|error| Error::io("cannot write", &stamp, error))?;
    Ok(())
}

/// The target spec fields the install depends on.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct SpecFields {
    /// Another target's script under `sysroot/link/` (without `.ld`).
    #[serde(rename = "linker_script")]
    script: Option<String>,
    load_address: Option<u64>,
    /// `symbols_<arch>` in components.toml apply.
    arch: Option<String>,
}

impl SpecFields {
    /// Reads them from the spec's text (other fields are the driver's); a spec that
    /// does not parse (only test stubs: the driver parsed it first) uses the target's
    /// own script.
    fn from_spec(text: &str) -> Self {
        toml::from_str(text).unwrap_or_default()
    }
}

/// Generates `manifest.json` from `runtime/components.toml` and the archive's symbol
/// table (see [`crate::manifest`]); a mismatch fails the build, naming the symbols.
fn write_manifest(destination: &Path, inputs: &SysrootInputs<'_>) -> Result<()> {
    let declarations_path = inputs.source_dir.join("runtime").join(COMPONENTS_FILE);
    let declarations = fs::read_to_string(&declarations_path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            Error::MissingInput {
                path: declarations_path.clone(),
                target: inputs.target_name.to_string(),
                hint: "the runtime's components are declared in runtime/components.toml",
            }
        } else {
            Error::io("cannot read", &declarations_path, error)
        }
    })?;
    let archive = fs::read(inputs.runtime_archive)
        .map_err(|error| Error::io("cannot read", inputs.runtime_archive, error))?;
    let manifest = crate::manifest::generate(
        &declarations,
        &declarations_path.display().to_string(),
        &archive,
        &inputs.runtime_archive.display().to_string(),
        (
            inputs.target_name,
            SpecFields::from_spec(inputs.target_spec_text)
                .arch
                .as_deref()
                .unwrap_or(inputs.target_name),
        ),
    )?;
    let path = destination.join(crate::manifest::MANIFEST_FILE);
    fs::write(&path, manifest.to_json()).map_err(|error| Error::io("cannot write", &path, error))
}

/// Installs into a staging directory beside `final_directory`, then swaps it in.
/// The caller holds the exclusive lock, so the two renames cannot race another
/// builder, and readers (shared lock holders) are excluded until we are done.
pub(crate) fn replace(
    root: &Path,
    final_directory: &Path,
    inputs: &SysrootInputs<'_>,
) -> Result<()> {
    remove_leftovers(root, inputs.target_name);
    let staging = tempfile::Builder::new()
        .prefix(&format!(".staging-{}-", inputs.target_name))
        .tempdir_in(root)
        .map_err(|error| Error::io("cannot create a staging directory in", root, error))?;
    install_into(staging.path(), inputs)?;

    // rename(2) cannot replace a non-empty directory: move the old one aside first.
    let retired = tempfile::Builder::new()
        .prefix(&format!(".old-{}-", inputs.target_name))
        .tempdir_in(root)
        .map_err(|error| Error::io("cannot create a directory in", root, error))?;
    if final_directory.exists() {
        let aside = retired.path().join("sysroot");
        fs::rename(final_directory, &aside).map_err(|error| {
            Error::io("cannot move aside the old sysroot", final_directory, error)
        })?;
    }
    let staged = staging.keep();
    fs::rename(&staged, final_directory)
        .map_err(|error| Error::io("cannot install the sysroot into", final_directory, error))?;
    // Dropping `retired` removes the old sysroot.
    drop(retired);
    Ok(())
}

/// Removes staging and retired directories a killed build left behind. Only called
/// under the exclusive lock, so none of them belongs to a running build. Failing to
/// remove one costs disk space, not correctness: ignored.
fn remove_leftovers(root: &Path, target_name: &str) {
    let prefixes = [
        format!(".staging-{target_name}-"),
        format!(".old-{target_name}-"),
    ];
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes
            .iter()
            .any(|prefix| name.starts_with(prefix.as_str()))
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn create_directory(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|error| Error::io("cannot create", path, error))
}

/// Copies the built runtime archive with its unwind tables cut down to the unwinder's
/// ([`crate::unwind_tables`]).
fn install_archive(from: &Path, to: &Path) -> Result<()> {
    let mut bytes = fs::read(from).map_err(|error| Error::io("cannot read", from, error))?;
    crate::unwind_tables::compact_archive(&mut bytes).map_err(|problem| Error::CorruptArchive {
        path: from.to_path_buf(),
        problem,
    })?;
    fs::write(to, bytes).map_err(|error| Error::io("cannot write", to, error))
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|error| Error::io("cannot copy", from, error))
}

/// Copies a directory tree of regular files (symlinks are followed: the installed
/// headers must not point back into a source tree that may go away).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in WalkDir::new(from).follow_links(true).sort_by_file_name() {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(from).to_path_buf();
            let source = error
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("file system loop"));
            Error::Io {
                action: "cannot read",
                path,
                source,
            }
        })?;
        let relative = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let destination = to.join(relative);
        if entry.file_type().is_dir() {
            create_directory(&destination)?;
        } else {
            copy_file(entry.path(), &destination)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_tree() -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        fs::create_dir_all(root.join("sysroot/include/sys")).unwrap();
        fs::create_dir_all(root.join("sysroot/link")).unwrap();
        fs::write(root.join("sysroot/include/stdio.h"), "/* stdio */").unwrap();
        fs::write(root.join("sysroot/include/sys/types.h"), "/* types */").unwrap();
        fs::write(root.join("sysroot/link/x86_64.ld"), "ENTRY(_start)").unwrap();
        fs::write(root.join("libunik.a"), "!<arch>\n").unwrap();
        fs::create_dir_all(root.join("runtime")).unwrap();
        fs::write(root.join("runtime/components.toml"), "[components]\n").unwrap();
        directory
    }

    #[test]
    fn installs_the_documented_layout_and_replaces_an_old_one() {
        let source = source_tree();
        let cache = tempfile::tempdir().unwrap();
        let archive = source.path().join("libunik.a");
        let final_directory = cache.path().join("x86_64");
        // A killed build's staging directory is cleaned up by the next build.
        fs::create_dir_all(cache.path().join(".staging-x86_64-killed/lib")).unwrap();
        for stamp in ["one\n", "two\n"] {
            let inputs = SysrootInputs {
                target_name: "x86_64",
                source_dir: source.path(),
                runtime_archive: &archive,
                target_spec_text: "name = \"x86_64\"\n",
                stamp,
            };
            replace(cache.path(), &final_directory, &inputs).unwrap();
            assert_eq!(
                fs::read_to_string(final_directory.join("stamp")).unwrap(),
                stamp
            );
        }
        assert!(final_directory.join("lib/libunik.a").is_file());
        assert_eq!(
            fs::read_to_string(final_directory.join("lib/link.ld")).unwrap(),
            "ENTRY(_start)"
        );
        assert!(final_directory.join("include/sys/types.h").is_file());
        assert!(final_directory.join("target.toml").is_file());
        let manifest = fs::read_to_string(final_directory.join("manifest.json")).unwrap();
        assert!(manifest.contains("\"target\": \"x86_64\""), "{manifest}");
        // Nothing but the sysroot is left in the cache root.
        let names: Vec<_> = fs::read_dir(cache.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x86_64"]);
    }

    #[test]
    fn a_shared_linker_script_gets_the_target_load_address() {
        let source = source_tree();
        let destination = tempfile::tempdir().unwrap();
        let archive = source.path().join("libunik.a");
        let inputs = SysrootInputs {
            target_name: "board",
            source_dir: source.path(),
            runtime_archive: &archive,
            target_spec_text: "name = \"board\"\nlinker_script = \"x86_64\"\nload_address = 0x81000\n",
            stamp: "",
        };
        install_into(destination.path(), &inputs).unwrap();
        assert_eq!(
            fs::read_to_string(destination.path().join("lib/link.ld")).unwrap(),
            "/* x86_64.ld at targets/board.toml's load_address */\n\
             __unik_load_address = 0x81000;\nENTRY(_start)"
        );
    }

    #[test]
    fn a_missing_linker_script_is_named() {
        let source = source_tree();
        fs::remove_file(source.path().join("sysroot/link/x86_64.ld")).unwrap();
        let destination = tempfile::tempdir().unwrap();
        let archive = source.path().join("libunik.a");
        let inputs = SysrootInputs {
            target_name: "x86_64",
            source_dir: source.path(),
            runtime_archive: &archive,
            target_spec_text: "",
            stamp: "",
        };
        let message = install_into(destination.path(), &inputs)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "{}: not found (needed to build the x86_64 sysroot; every target needs its linker script in sysroot/link/)",
                source.path().join("sysroot/link/x86_64.ld").display()
            )
        );
    }
}
