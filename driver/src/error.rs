//! The driver library's error type. Each message names the file or tool involved
//! and, where there is one, the way out; the binaries prefix them with their name.

use std::io;
use std::path::PathBuf;

/// Everything the driver library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The linked image has dynamic relocations the runtime cannot apply at boot.
    #[error(
        "{image}: {relocation}{more}: the runtime moves the image at boot (ASLR) applying only \
         RELATIVE relocations; ifuncs (IRELATIVE) and symbols bound at run time are not supported"
    )]
    UnsupportedRelocation {
        image: String,
        relocation: String,
        more: String,
    },

    #[error("invalid target spec {file}: {message}")]
    TargetSpec { file: String, message: String },

    #[error("unknown target `{name}` (known targets: {known})")]
    UnknownTarget { name: String, known: String },

    /// A required tool is not installed (or not where it was said to be).
    #[error("no {tool} found (looked for {searched}); {hint}")]
    ToolNotFound {
        tool: &'static str,
        searched: String,
        hint: String,
    },

    /// A tool was found but is unfit (e.g. gcc for a foreign arch).
    #[error("{program}: {message}")]
    UnsuitableTool { program: PathBuf, message: String },

    #[error("could not run {program}: {source}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(transparent)]
    Sysroot(#[from] unik_sysroot::Error),

    /// Bad usage; the text is complete.
    #[error("{0}")]
    Usage(String),

    /// unikcc's command line cannot be carried out (gcc-shaped diagnostics).
    #[error("{0}")]
    InvalidCommandLine(crate::unikcc::arguments::UsageErrors),

    /// A link input cannot be read (names the file and the problem).
    #[error(transparent)]
    LinkInput(#[from] crate::link::inputs::InputError),

    /// Symbols nobody provides; the text is the complete LLD-shaped report.
    #[error("{0}")]
    UndefinedSymbols(String),

    /// A W^X violation at link time (an executable-stack object, an RWX segment);
    /// the text is the complete report (`link::protection`).
    #[error("{0}")]
    WriteExecute(String),

    #[error(transparent)]
    Manifest(#[from] unik_sysroot::manifest::ManifestError),

    /// Bad `unik run --net`/`-p`/`--ip` options.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),

    #[error("{path}: not an ELF image ({message})")]
    NotAnImage { path: PathBuf, message: String },

    /// `unik run --initrd FILE` with a FILE that is no archive the runtime reads.
    #[error(
        "--initrd {path}: not a cpio newc archive, plain or gzip-compressed ({found}); \
         make one with `find . | cpio -o -H newc > {name}`"
    )]
    NotAnInitrd {
        path: PathBuf,
        found: String,
        name: String,
    },

    #[error("{path}: {arch} images are not supported yet (supported: {supported})")]
    UnsupportedArch {
        path: PathBuf,
        arch: String,
        supported: String,
    },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A fresh temporary directory named `<prefix>…`, removed when dropped.
pub(crate) fn temporary_directory(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|source| {
            Error::io(
                "cannot create a temporary directory in",
                std::env::temp_dir(),
                source,
            )
        })
}
