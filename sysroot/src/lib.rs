//! The unik sysroot builder.
//!
//! A *sysroot* is everything `unikcc` needs to compile and link a program for one
//! target, prebuilt once and reused:
//!
//! ```text
//! <root>/<target>/lib/libunik.a     the runtime (crate unik-runtime, built with cargo)
//! <root>/<target>/lib/link.ld       the linker script (sysroot/link/<target>.ld)
//! <root>/<target>/include/          the C headers (sysroot/include)
//! <root>/<target>/target.toml       the target spec it was built for
//! <root>/<target>/manifest.json     the components (see [`manifest`], sysroot/MANIFEST.md)
//! <root>/<target>/stamp             a content hash of every input (see [`stamp`])
//! ```
//!
//! The builder is deliberately ignorant of toolchain discovery and target specs: the
//! driver finds the tools and hands them over in a [`BuildRequest`]. That keeps this
//! crate usable from a build script or a test without the driver's policy.
//!
//! Concurrency: many `unikcc` processes (parallel test runs, `make -j`) may need the
//! same sysroot at once. Users of a sysroot hold a *shared* lock on
//! `<root>/<target>.lock` for as long as they read it; a build holds the *exclusive*
//! lock, builds into a staging directory next to the final one and renames it into
//! place, so nobody ever sees a half-installed sysroot.
#![forbid(unsafe_code)]
// Tests may unwrap: a panic there is a test failure with a backtrace.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod install;
mod lock;
pub mod manifest;
pub mod stamp;
pub mod unwind_tables;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

pub use install::{SysrootInputs, install_into};

/// Everything that can go wrong while locating, building or installing a sysroot.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation failed; `path` names what we were touching.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A required input of the sysroot is missing from the source tree.
    #[error("{path}: not found (needed to build the {target} sysroot; {hint})")]
    MissingInput {
        path: PathBuf,
        target: String,
        hint: &'static str,
    },
    /// Cargo could not be started at all.
    #[error(
        "could not run {program}: {source} (is cargo installed? `unik doctor` shows what is missing)"
    )]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Cargo ran and failed; `output` holds everything it printed.
    #[error("building the {target} runtime failed ({status}): {command}\n{output}")]
    CargoFailed {
        target: String,
        command: String,
        status: ExitStatus,
        output: String,
    },
    /// Neither a source tree nor an installed sysroot is available.
    #[error(
        "no {target} sysroot at {dir} and no unik source tree at {source_dir} to build one from \
         (set UNIK_SOURCE_DIR to a unik checkout, or UNIK_SYSROOT_DIR to a prebuilt sysroot)"
    )]
    NoSource {
        target: String,
        dir: PathBuf,
        source_dir: PathBuf,
    },
    /// The component declarations disagree with the built archive.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// The built archive could not be read as one.
    #[error("{path}: {problem}")]
    CorruptArchive { path: PathBuf, problem: String },
    /// No cache directory could be derived from the environment.
    #[error(
        "cannot choose a sysroot directory: none of UNIK_SYSROOT_DIR, XDG_CACHE_HOME, HOME is set"
    )]
    NoCacheDirectory,
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The programs that build the runtime, as found by the driver's discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// Cargo matching `rustc` (it is told to use `rustc` through `RUSTC`).
    pub cargo: PathBuf,
    /// A rustc whose sysroot holds the target's `core`.
    pub rustc: PathBuf,
    /// The C compiler for the libc's C layer, followed by its fixed arguments
    /// (e.g. `--target=x86_64-unknown-linux-gnu` for clang).
    pub c_compiler: PathBuf,
    pub c_compiler_arguments: Vec<String>,
}

/// Where a target's sysroot lives and what it is built from.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    /// Target name as in `targets/<name>.toml`, e.g. `x86_64`.
    pub target_name: &'a str,
    /// Root of a unik source tree (holds `runtime/`, `sysroot/`, `targets/`).
    pub source_dir: &'a Path,
    /// The sysroot cache root; the target's sysroot is `<root>/<target_name>`.
    pub root: &'a Path,
}

impl Location<'_> {
    /// `<root>/<target>`.
    pub fn directory(&self) -> PathBuf {
        target_directory(self.root, self.target_name)
    }
    fn lock_path(&self) -> PathBuf {
        self.root.join(format!("{}.lock", self.target_name))
    }
    fn has_source(&self) -> bool {
        self.source_dir.join("runtime").join("Cargo.toml").is_file()
    }
}

/// What to build, with what, and where.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    pub location: Location<'a>,
    /// The Rust triple the runtime is compiled for.
    pub rust_triple: &'a str,
    /// The text of the target spec, installed as `target.toml`.
    pub target_spec_text: &'a str,
    pub toolchain: &'a Toolchain,
    /// Rebuild even if the stamp matches.
    pub force: bool,
    /// Stream cargo's output instead of capturing it.
    pub verbose: bool,
}

/// Why a build is about to happen, so the caller can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildReason {
    /// No sysroot is installed yet.
    Missing,
    /// The installed stamp differs from the inputs' hash.
    Changed,
    /// The caller asked for a rebuild.
    Forced,
}

impl fmt::Display for BuildReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            BuildReason::Missing => "first use",
            BuildReason::Changed => "the runtime sources changed",
            BuildReason::Forced => "rebuild requested",
        })
    }
}

/// An installed sysroot, held open: the shared lock keeps builders from replacing it
/// while the holder reads it. Drop it when the link is done.
#[derive(Debug)]
pub struct Sysroot {
    directory: PathBuf,
    _lock: lock::LockFile,
}

impl Sysroot {
    /// `<root>/<target>`.
    pub fn directory(&self) -> &Path {
        &self.directory
    }
    /// Directory of the runtime archive and the linker script.
    pub fn library_directory(&self) -> PathBuf {
        self.directory.join("lib")
    }
    /// The C headers (`-isystem` this).
    pub fn include_directory(&self) -> PathBuf {
        self.directory.join("include")
    }
    /// `lib/libunik.a`.
    pub fn runtime_archive(&self) -> PathBuf {
        self.library_directory().join(install::RUNTIME_ARCHIVE)
    }
    /// `manifest.json`: the components and their symbols.
    pub fn manifest_path(&self) -> PathBuf {
        self.directory.join(manifest::MANIFEST_FILE)
    }
    /// `lib/link.ld`.
    pub fn linker_script(&self) -> PathBuf {
        self.library_directory().join(install::LINKER_SCRIPT)
    }
}

/// The directory of one target's sysroot under `root`.
pub fn target_directory(root: &Path, target_name: &str) -> PathBuf {
    root.join(target_name)
}

/// The sysroot cache root: `$UNIK_SYSROOT_DIR`, else `$XDG_CACHE_HOME/unik/sysroot`,
/// else `$HOME/.cache/unik/sysroot` (the XDG Base Directory default). `lookup`
/// reads one environment variable (a parameter so tests need not touch the process
/// environment).
pub fn default_root(lookup: impl Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let non_empty = |name: &str| lookup(name).filter(|value| !value.is_empty());
    if let Some(directory) = non_empty("UNIK_SYSROOT_DIR") {
        return Ok(PathBuf::from(directory));
    }
    if let Some(cache) = non_empty("XDG_CACHE_HOME") {
        return Ok(Path::new(&cache).join("unik").join("sysroot"));
    }
    if let Some(home) = non_empty("HOME") {
        return Ok(Path::new(&home).join(".cache").join("unik").join("sysroot"));
    }
    Err(Error::NoCacheDirectory)
}

/// Returns the installed sysroot, share-locked, when it is up to date (its stamp
/// matches the inputs' hash) — or installed and there is no source tree to compare
/// against. `None` means [`ensure`] must build it. Cheap: no tool is run, so a
/// compiler driver can call it on every invocation.
pub fn open_if_fresh(location: &Location<'_>) -> Result<Option<Sysroot>> {
    fs::create_dir_all(location.root).map_err(|source| {
        Error::io("cannot create the sysroot directory", location.root, source)
    })?;
    let directory = target_directory(location.root, location.target_name);
    let shared = lock::LockFile::shared(&location.lock_path())?;
    let installed = stamp::read_installed(&directory)?;
    if !location.has_source() {
        return match installed {
            Some(_) => Ok(Some(Sysroot {
                directory,
                _lock: shared,
            })),
            None => Err(Error::NoSource {
                target: location.target_name.to_string(),
                dir: directory,
                source_dir: location.source_dir.to_path_buf(),
            }),
        };
    }
    let wanted = stamp::compute(location.source_dir, location.target_name)?;
    if installed.as_deref() == Some(wanted.as_str()) {
        Ok(Some(Sysroot {
            directory,
            _lock: shared,
        }))
    } else {
        Ok(None)
    }
}

/// Returns the target's sysroot, building it first if it is missing, out of date
/// (stamp differs from the inputs' hash) or `request.force` is set. `before_build`
/// is called once, before a build starts, with the reason (so a CLI can print a
/// progress line).
///
/// When `request.location.source_dir` holds no runtime, an installed sysroot is used as it
/// is (a prebuilt sysroot without sources).
pub fn ensure(
    request: &BuildRequest<'_>,
    mut before_build: impl FnMut(BuildReason),
) -> Result<Sysroot> {
    let location = &request.location;
    if !request.force
        && let Some(sysroot) = open_if_fresh(location)?
    {
        return Ok(sysroot);
    }
    let directory = target_directory(location.root, location.target_name);
    // Exclusive lock, then check again: another process may have built it while we
    // waited for the lock.
    let exclusive = lock::LockFile::exclusive(&location.lock_path())?;
    let installed = stamp::read_installed(&directory)?;
    let wanted = stamp::compute(location.source_dir, location.target_name)?;
    let reason = if request.force {
        Some(BuildReason::Forced)
    } else if installed.is_none() {
        Some(BuildReason::Missing)
    } else if installed.as_deref() != Some(wanted.as_str()) {
        Some(BuildReason::Changed)
    } else {
        None
    };
    if let Some(reason) = reason {
        before_build(reason);
        let archive = build_runtime(request)?;
        let inputs = SysrootInputs {
            target_name: location.target_name,
            source_dir: location.source_dir,
            runtime_archive: &archive,
            target_spec_text: request.target_spec_text,
            stamp: &wanted,
        };
        install::replace(location.root, &directory, &inputs)?;
    }
    drop(exclusive);
    // Hold it shared for the caller. If the sources changed again meanwhile (someone
    // is editing the runtime), the next use rebuilds; this one uses what was built.
    let shared = lock::LockFile::shared(&location.lock_path())?;
    Ok(Sysroot {
        directory,
        _lock: shared,
    })
}

/// Environment variables an enclosing cargo (e.g. `cargo test` running unikcc)
/// leaks into our process, which must not reach the runtime's build: they would
/// change its flags or wrap its compiler without being part of the stamp. The
/// runtime's flags come from `runtime/.cargo/config.toml` alone.
const SCRUBBED_VARIABLES: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MANIFEST_DIR",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_DIR",
];

/// The cargo invocation that builds `libunik.a`, as documented in runtime/README.md.
pub fn cargo_command(request: &BuildRequest<'_>) -> Command {
    let runtime = request.location.source_dir.join("runtime");
    let target_directory = request
        .location
        .root
        .join("build")
        .join(request.location.target_name);
    let mut command = Command::new(&request.toolchain.cargo);
    command
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            request.rust_triple,
        ])
        .arg("--manifest-path")
        .arg(runtime.join("Cargo.toml"))
        .args(["-p", "unik-runtime"])
        // Cargo reads `.cargo/config.toml` from the working directory upwards, not
        // from the manifest's directory: run inside runtime/ so its config applies.
        .current_dir(&runtime)
        .env("CARGO_TARGET_DIR", &target_directory)
        .env("RUSTC", &request.toolchain.rustc);
    for name in SCRUBBED_VARIABLES {
        if *name != "CARGO_TARGET_DIR" {
            command.env_remove(name);
        }
    }
    // The cc crate reads CC_<triple> (dashes as underscores) as "program args…".
    let mut compiler = request.toolchain.c_compiler.display().to_string();
    for argument in &request.toolchain.c_compiler_arguments {
        compiler.push(' ');
        compiler.push_str(argument);
    }
    command.env(
        format!("CC_{}", request.rust_triple.replace('-', "_")),
        compiler,
    );
    command
}

/// Where cargo leaves the staticlib of [`cargo_command`].
pub fn built_archive_path(request: &BuildRequest<'_>) -> PathBuf {
    request
        .location
        .root
        .join("build")
        .join(request.location.target_name)
        .join(request.rust_triple)
        .join("release")
        .join(install::RUNTIME_ARCHIVE)
}

/// Runs cargo; returns the path of the built archive.
fn build_runtime(request: &BuildRequest<'_>) -> Result<PathBuf> {
    let mut command = cargo_command(request);
    let described = describe(&command);
    if request.verbose {
        eprintln!("{described}");
        command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let output = command.output().map_err(|source| Error::Spawn {
        program: request.toolchain.cargo.clone(),
        source,
    })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        return Err(Error::CargoFailed {
            target: request.location.target_name.to_string(),
            command: described,
            status: output.status,
            output: text,
        });
    }
    let archive = built_archive_path(request);
    if !archive.is_file() {
        return Err(Error::MissingInput {
            path: archive,
            target: request.location.target_name.to_string(),
            hint: "cargo succeeded but produced no libunik.a; does runtime/unik still build a staticlib named `unik`?",
        });
    }
    Ok(archive)
}

/// A shell-like rendering of a command for `-v` output and error messages.
pub fn describe(command: &Command) -> String {
    let mut text = String::new();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            text.push_str(&format!(
                "{}={} ",
                name.to_string_lossy(),
                shell_quote(&value.to_string_lossy())
            ));
        }
    }
    text.push_str(&shell_quote(&command.get_program().to_string_lossy()));
    for argument in command.get_args() {
        text.push(' ');
        text.push_str(&shell_quote(&argument.to_string_lossy()));
    }
    text
}

/// Quotes one word for a POSIX shell, only when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&byte));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn root_prefers_the_explicit_variable() {
        let lookup = environment(&[
            ("UNIK_SYSROOT_DIR", "/s"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(default_root(lookup).ok(), Some(PathBuf::from("/s")));
    }

    #[test]
    fn root_falls_back_to_xdg_then_home() {
        let lookup = environment(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(
            default_root(lookup).ok(),
            Some(PathBuf::from("/x/unik/sysroot"))
        );
        let lookup = environment(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")]);
        assert_eq!(
            default_root(lookup).ok(),
            Some(PathBuf::from("/h/.cache/unik/sysroot"))
        );
    }

    #[test]
    fn root_without_any_variable_is_an_error() {
        let error = default_root(environment(&[]))
            .err()
            .map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "cannot choose a sysroot directory: none of UNIK_SYSROOT_DIR, XDG_CACHE_HOME, HOME is set"
            )
        );
    }

    #[test]
    fn shell_quoting_only_when_needed() {
        assert_eq!(shell_quote("-O2"), "-O2");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn cargo_command_matches_the_runtime_readme() {
        let toolchain = Toolchain {
            cargo: PathBuf::from("/t/cargo"),
            rustc: PathBuf::from("/t/rustc"),
            c_compiler: PathBuf::from("/usr/bin/clang-19"),
            c_compiler_arguments: vec!["--target=x86_64-unknown-linux-gnu".into()],
        };
        let request = BuildRequest {
            location: Location {
                target_name: "x86_64",
                source_dir: Path::new("/src"),
                root: Path::new("/cache"),
            },
            rust_triple: "x86_64-unknown-linux-gnu",
            target_spec_text: "",
            toolchain: &toolchain,
            force: false,
            verbose: false,
        };
        let command = cargo_command(&request);
        let arguments: Vec<_> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            arguments,
            [
                "build",
                "--release",
                "--locked",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--manifest-path",
                "/src/runtime/Cargo.toml",
                "-p",
                "unik-runtime"
            ]
        );
        assert_eq!(command.get_current_dir(), Some(Path::new("/src/runtime")));
        let variable = |name: &str| {
            command
                .get_envs()
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.map(|v| v.to_string_lossy().into_owned()))
        };
        assert_eq!(
            variable("CARGO_TARGET_DIR").as_deref(),
            Some("/cache/build/x86_64")
        );
        assert_eq!(variable("RUSTC").as_deref(), Some("/t/rustc"));
        assert_eq!(
            variable("CC_x86_64_unknown_linux_gnu").as_deref(),
            Some("/usr/bin/clang-19 --target=x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            built_archive_path(&request),
            Path::new("/cache/build/x86_64/x86_64-unknown-linux-gnu/release/libunik.a")
        );
    }
}

#[cfg(test)]
mod concurrency_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A source tree and a fake cargo that "builds" libunik.a, counting its runs.
    fn setup() -> (tempfile::TempDir, Toolchain) {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        for (file, text) in [
            ("src/runtime/Cargo.toml", "[workspace]\n"),
            ("src/runtime/components.toml", "[components]\n"),
            ("src/sysroot/include/stdio.h", "int puts(const char *);\n"),
            ("src/sysroot/link/x86_64.ld", "ENTRY(start)\n"),
            ("src/targets/x86_64.toml", "name = \"x86_64\"\n"),
        ] {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let cargo = root.join("fake-cargo");
        let script = format!(
            "#!/bin/sh\n\
             echo build >> {log}\n\
             sleep 0.2\n\
             out=\"$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release\"\n\
             mkdir -p \"$out\" && printf '!<arch>\\n' > \"$out/libunik.a\"\n",
            log = root.join("builds.log").display()
        );
        fs::write(&cargo, script).unwrap();
        fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).unwrap();
        let toolchain = Toolchain {
            cargo,
            rustc: PathBuf::from("rustc"),
            c_compiler: PathBuf::from("clang"),
            c_compiler_arguments: Vec::new(),
        };
        (directory, toolchain)
    }

    fn builds(root: &Path) -> usize {
        fs::read_to_string(root.join("builds.log"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    #[test]
    fn parallel_users_build_once_and_rebuild_on_change() {
        let (directory, toolchain) = setup();
        let root = directory.path();
        let source = root.join("src");
        let cache = root.join("cache");
        let request = BuildRequest {
            location: Location {
                target_name: "x86_64",
                source_dir: &source,
                root: &cache,
            },
            rust_triple: "x86_64-unknown-linux-gnu",
            target_spec_text: "name = \"x86_64\"\n",
            toolchain: &toolchain,
            force: false,
            verbose: false,
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let sysroot = ensure(&request, |_| {}).unwrap();
                        assert!(sysroot.runtime_archive().is_file());
                        assert!(sysroot.linker_script().is_file());
                        assert!(sysroot.include_directory().join("stdio.h").is_file());
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
        });
        assert_eq!(builds(root), 1);

        // Up to date: no build, and open_if_fresh agrees.
        let mut reasons = Vec::new();
        drop(ensure(&request, |reason| reasons.push(reason)).unwrap());
        assert!(reasons.is_empty());
        assert!(open_if_fresh(&request.location).unwrap().is_some());

        // A changed runtime source is noticed.
        fs::write(source.join("runtime/new.rs"), "// new\n").unwrap();
        assert!(open_if_fresh(&request.location).unwrap().is_none());
        drop(ensure(&request, |reason| reasons.push(reason)).unwrap());
        assert_eq!(reasons, [BuildReason::Changed]);

        let forced = BuildRequest {
            force: true,
            ..request.clone()
        };
        drop(ensure(&forced, |reason| reasons.push(reason)).unwrap());
        assert_eq!(reasons, [BuildReason::Changed, BuildReason::Forced]);
        assert_eq!(builds(root), 3);
    }

    #[test]
    fn a_failing_cargo_reports_its_output_and_installs_nothing() {
        let (directory, mut toolchain) = setup();
        let root = directory.path();
        let cargo = root.join("failing-cargo");
        fs::write(
            &cargo,
            "#!/bin/sh\necho 'error[E0425]: cannot find value' >&2\nexit 101\n",
        )
        .unwrap();
        fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).unwrap();
        toolchain.cargo = cargo;
        let source = root.join("src");
        let cache = root.join("cache");
        let request = BuildRequest {
            location: Location {
                target_name: "x86_64",
                source_dir: &source,
                root: &cache,
            },
            rust_triple: "x86_64-unknown-linux-gnu",
            target_spec_text: "",
            toolchain: &toolchain,
            force: false,
            verbose: false,
        };
        let message = ensure(&request, |_| {}).unwrap_err().to_string();
        assert!(
            message.starts_with("building the x86_64 runtime failed (exit status: 101): "),
            "{message}"
        );
        assert!(
            message.ends_with("error[E0425]: cannot find value\n"),
            "{message}"
        );
        assert!(!cache.join("x86_64").exists());
    }

    #[test]
    fn without_sources_an_installed_sysroot_is_used_as_is() {
        let directory = tempfile::tempdir().unwrap();
        let cache = directory.path().join("cache");
        let location = Location {
            target_name: "x86_64",
            source_dir: &directory.path().join("gone"),
            root: &cache,
        };
        let message = open_if_fresh(&location).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "no x86_64 sysroot at {} and no unik source tree at {} to build one from \
                 (set UNIK_SOURCE_DIR to a unik checkout, or UNIK_SYSROOT_DIR to a prebuilt sysroot)",
                cache.join("x86_64").display(),
                directory.path().join("gone").display()
            )
        );
        fs::create_dir_all(cache.join("x86_64")).unwrap();
        fs::write(cache.join("x86_64/stamp"), "anything\n").unwrap();
        assert!(open_if_fresh(&location).unwrap().is_some());
    }
}
