//! gcc's informational options: `--version`, `-dumpmachine`, `-dumpversion`,
//! `-print-file-name=`, `-print-prog-name=`, `-print-search-dirs`, `-print-sysroot`.
//!
//! Build systems ask these to find their tools (`$(CC) -print-prog-name=ar`) and
//! libraries, so every answer names something that works for a unik build.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::HELP;
use super::arguments::{Invocation, Query};
use crate::discovery::Environment;
use crate::error::Result;
use crate::sysroot;
use crate::target::TargetSpec;

/// The version `-dumpversion` prints: unik's own (clang prints its own too).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The text that answers `query` (printed on stdout, as gcc does).
pub fn answer(
    query: &Query,
    invocation: &Invocation,
    spec: &TargetSpec,
    environment: &Environment,
) -> Result<String> {
    Ok(match query {
        Query::Version => format!(
            "unikcc (unik) {VERSION}\nTarget: {} ({})\n",
            spec.name, spec.c_triple
        ),
        Query::Help => HELP.to_string(),
        Query::DumpMachine => format!("{}\n", spec.c_triple),
        Query::DumpVersion => format!("{VERSION}\n"),
        Query::PrintSysroot => format!("{}\n", sysroot::directory(environment, spec)?.display()),
        Query::PrintFileName(name) => {
            let sysroot = sysroot::directory(environment, spec)?;
            format!("{}\n", file_name(name, invocation, &sysroot).display())
        }
        Query::PrintProgramName(name) => {
            format!("{}\n", program_name(name, environment).display())
        }
        Query::PrintSearchDirectories => {
            let sysroot = sysroot::directory(environment, spec)?;
            let mut libraries: Vec<String> = invocation
                .library_directories
                .iter()
                .map(|directory| format!("{}/", directory.display()))
                .collect();
            libraries.push(format!("{}/", sysroot.join("lib").display()));
            format!(
                "install: {}/\nprograms: ={}/\nlibraries: ={}\n",
                sysroot.display(),
                own_directory().display(),
                libraries.join(":")
            )
        }
    })
}

/// gcc's `-print-file-name=NAME`: the file the link would use (the `-L` directories,
/// then the sysroot's `lib/`), `include` for the compiler's own headers, or NAME
/// itself when there is none.
fn file_name(name: &OsStr, invocation: &Invocation, sysroot: &Path) -> PathBuf {
    if name == "include" {
        return sysroot.join("include");
    }
    invocation
        .library_directories
        .iter()
        .cloned()
        .chain([sysroot.join("lib")])
        .map(|directory| directory.join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The directory of the running unikcc (where `unikld` sits beside it).
fn own_directory() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// gcc's `-print-prog-name=NAME`: the compiler and linker are unik's own; archive
/// and object tools are the host's (GNU or LLVM: unik objects are ordinary ELF
/// objects of the target, and both handle every target's archives). A name nothing
/// answers for is printed as it is, as gcc does.
fn program_name(name: &OsStr, environment: &Environment) -> PathBuf {
    let own = |program: &str| {
        let path = own_directory().join(program);
        path.is_file().then_some(path)
    };
    let host = |names: &[&str]| {
        names
            .iter()
            .find_map(|candidate| environment.find_program(OsStr::new(candidate)))
    };
    let found = match name.to_str() {
        Some("cc" | "gcc" | "unikcc") => own("unikcc"),
        Some("ld" | "ld.bfd" | "ld.lld" | "unikld") => own("unikld"),
        Some("ar") => host(&["ar", "llvm-ar", "llvm-ar-19"]),
        Some("ranlib") => host(&["ranlib", "llvm-ranlib", "llvm-ranlib-19"]),
        Some("nm") => host(&["nm", "llvm-nm", "llvm-nm-19"]),
        Some("strip") => host(&["strip", "llvm-strip", "llvm-strip-19"]),
        Some("objcopy") => host(&["objcopy", "llvm-objcopy", "llvm-objcopy-19"]),
        Some("objdump") => host(&["objdump", "llvm-objdump", "llvm-objdump-19"]),
        _ => None,
    };
    found.unwrap_or_else(|| PathBuf::from(OsString::from(name)))
}
