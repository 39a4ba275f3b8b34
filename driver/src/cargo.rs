//! `cargo unik`: builds an ordinary Rust std program into a unik image on stable Rust
//! (DESIGN.md decisions 1 and 2), and boots it.
//!
//! The program is compiled for the ordinary `<arch>-unknown-linux-gnu` target with
//! the std that target ships; only the link differs. `cargo unik build` runs
//! `cargo build --target <triple>` with this binary as the target's linker
//! (`CARGO_TARGET_<TRIPLE>_LINKER`) and these code-generation flags (`RUSTFLAGS`):
//!
//! - `-C target-feature=+crt-static`: a static executable; with the target's default
//!   relocation model (PIE) rustc asks for a static PIE, which is what every unik image
//!   is (the runtime moves it to a random address at boot: README, "ASLR");
//! - `-C link-arg=--unik-link-target=<name>`: marks the link as a unik image link (see
//!   below) and names the target.
//!
//! rustc then calls this binary as it would call `cc`, with the program's objects and
//! every rlib of std. Those arguments are read here ([`LinkArguments::parse`]); the
//! objects and archives go through the same component selection as C objects
//! ([`crate::link::prepare`]) and LLD links them with the runtime archive, the
//! target's linker script, `--gc-sections` and, when the unwinder is linked,
//! `--eh-frame-hdr` (it finds the unwind tables through it: runtime/libc/src/unwind.rs;
//! without an unwinder the tables are dropped: [`crate::link::Prepared`]).
//!
//! std refers to many functions a given program never calls (sockets, processes,
//! users): the selection follows only references from code the link keeps
//! ([`crate::link::liveness`]), so those need nothing. A function live code calls
//! that no component provides fails the link with the same report as for C; `cargo
//! unik build --stub-missing` (`-C link-arg=--unik-stub-missing`) links stubs that warn
//! once on stderr and fail with ENOSYS instead, as `unikcc --stub-missing` does.
//!
//! On x86_64 the host is the same triple, so cargo also links build scripts and
//! proc macros with this binary: without the marker (RUSTFLAGS reach only the
//! target's artifacts when `--target` is given) the link is handed unchanged to the
//! host's `cc`.

use std::ffi::{OsStr, OsString};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::discovery::{self, Environment};
use crate::error::{Error, Result};
use crate::link;
use crate::run::{Accelerator, RunOptions};
use crate::sysroot::{self, EnsureOptions};
use crate::target::{DEFAULT_TARGET, TargetSpec};

/// The program name used in messages.
pub const PROGRAM: &str = "cargo-unik";

/// The link argument that marks a unik image link and names its target.
pub const LINK_MARKER: &str = "--unik-link-target=";

/// The link argument that carries the sysroot's stamp (the hash of the runtime's
/// sources): a changed runtime changes the flags, so cargo links the images again
/// instead of keeping ones made with the old runtime.
pub const SYSROOT_MARKER: &str = "--unik-sysroot-stamp=";

/// The link argument of `cargo unik build --stub-missing`.
pub const STUB_MISSING_MARKER: &str = "--unik-stub-missing";

/// Set in cargo's environment: a link without the marker is a host link.
const HOST_LINK_VARIABLE: &str = "UNIK_CARGO_HOST_LINK";

/// Libraries rustc names for the glibc target that the runtime archive provides (the
/// C library, its companions, and libgcc's unwinder, which is the `unwind`
/// component).
const PROVIDED_BY_THE_RUNTIME: &[&str] = &[
    "c", "m", "pthread", "dl", "rt", "util", "gcc", "gcc_s", "gcc_eh", "unwind", "unik",
];

const USAGE: &str = "\
usage: cargo unik build [--target x86_64|aarch64] [--fs DIR] [--stub-missing] [cargo build options]
       cargo unik run [--target x86_64|aarch64] [--fs DIR] [--initrd ARCHIVE] [--stub-missing]
                      [--env KEY=VALUE]... [--timeout SECS] [--accel tcg|kvm|auto] [--rng]
                      [cargo build options] [-- program arguments]

Builds the package's binary for the ordinary <arch>-unknown-linux-gnu target with
stable Rust and links it into a bootable unik image; `run` boots it with `unik run`
semantics and exits with the program's status. `--fs DIR` embeds DIR as the
image's file tree (mounted at /, writable in RAM), as `unikcc --fs` does;
`--initrd ARCHIVE` (run) unpacks a cpio newc archive over it at boot, as
`unik run --initrd` does; `--rng` (run) gives the guest a virtio-rng device, as
`unik run --rng` does.
`--stub-missing` links a stub (warns when called, fails with ENOSYS) for each
function the program calls that no component provides, instead of failing.
";

/// Runs `cargo-unik` (as a cargo subcommand or as rustc's linker); returns the exit
/// status. Diagnostics go to stderr.
pub fn main(arguments: &[OsString], environment: &Environment) -> i32 {
    let arguments = match expand_response_files(arguments) {
        Ok(arguments) => arguments,
        Err(error) => {
            eprintln!("{PROGRAM}: error: {error}");
            return 1;
        }
    };
    let is_image_link = arguments
        .iter()
        .any(|argument| argument.to_string_lossy().starts_with(LINK_MARKER));
    let result = if is_image_link {
        link_image(&arguments, environment)
    } else if environment.get(HOST_LINK_VARIABLE).is_some() {
        link_for_host(&arguments, environment)
    } else {
        subcommand(&arguments, environment)
    };
    match result {
        Ok(status) => status,
        Err(Error::UndefinedSymbols(report) | Error::WriteExecute(report)) => {
            eprint!("{report}");
            1
        }
        Err(error) => {
            eprintln!("{PROGRAM}: error: {error}");
            1
        }
    }
}

/// What `cargo unik build|run` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub run: bool,
    pub target: String,
    /// Passed to `cargo build` unchanged.
    pub cargo_arguments: Vec<OsString>,
    /// After `--`: the program's arguments (`run` only).
    pub program_arguments: Vec<OsString>,
    /// `--env KEY=VALUE` (`run` only).
    pub environment: Vec<OsString>,
    pub timeout: Option<Duration>,
    pub accelerator: Option<String>,
    /// `--fs DIR`: embed DIR as the image's file tree (crate::embed).
    pub file_system: Option<PathBuf>,
    /// `--initrd ARCHIVE` (`run` only): passed to `unik run`.
    pub initrd: Option<PathBuf>,
    /// `--stub-missing`: stubs instead of the undefined-symbol error.
    pub stub_missing: bool,
    /// `--rng` (`run` only): a virtio-rng device, as `unik run --rng`.
    pub rng: bool,
}

impl Invocation {
    /// Parses the words after `cargo-unik` (cargo passes the subcommand name `unik`
    /// first; it may be left out when the binary is run directly). `Ok(None)`: help
    /// was asked for.
    pub fn parse(arguments: &[OsString]) -> Result<Option<Invocation>> {
        let mut words = arguments.iter().peekable();
        if words.peek().is_some_and(|word| word.as_os_str() == "unik") {
            words.next();
        }
        let run = match words.next().and_then(|word| word.to_str()) {
            Some("build" | "b") => false,
            Some("run" | "r") => true,
            Some("help" | "--help" | "-h") | None => return Ok(None),
            Some(other) => {
                return Err(Error::Usage(format!(
                    "unknown command `{other}` (expected build or run)\n{USAGE}"
                )));
            }
        };
        let mut invocation = Invocation {
            run,
            target: DEFAULT_TARGET.to_string(),
            cargo_arguments: Vec::new(),
            program_arguments: Vec::new(),
            environment: Vec::new(),
            timeout: None,
            accelerator: None,
            file_system: None,
            initrd: None,
            stub_missing: false,
            rng: false,
        };
        while let Some(word) = words.next() {
            let text = word.to_string_lossy();
            let (name, inline) = match text.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (text.as_ref(), None),
            };
            let mut value = |name: &str| -> Result<String> {
                match &inline {
                    Some(value) => Ok(value.clone()),
                    None => words
                        .next()
                        .map(|value| value.to_string_lossy().into_owned())
                        .ok_or_else(|| Error::Usage(format!("`{name}` needs a value"))),
                }
            };
            match name {
                "--" => {
                    if !run {
                        return Err(Error::Usage(
                            "program arguments after `--` are for `cargo unik run`".to_string(),
                        ));
                    }
                    invocation.program_arguments.extend(words.by_ref().cloned());
                }
                "--target" => invocation.target = value(name)?,
                "--fs" => invocation.file_system = Some(PathBuf::from(value(name)?)),
                "--initrd" if run => invocation.initrd = Some(PathBuf::from(value(name)?)),
                "--stub-missing" => invocation.stub_missing = true,
                "--rng" if run => invocation.rng = true,
                "--env" if run => invocation.environment.push(value(name)?.into()),
                "--accel" if run => invocation.accelerator = Some(value(name)?),
                "--timeout" if run => {
                    let text = value(name)?;
                    let seconds: f64 =
                        text.parse()
                            .ok()
                            .filter(|s: &f64| *s > 0.0)
                            .ok_or_else(|| {
                                Error::Usage(format!("--timeout `{text}`: expected seconds > 0"))
                            })?;
                    invocation.timeout = Some(Duration::from_secs_f64(seconds));
                }
                "--message-format" => {
                    return Err(Error::Usage(
                        "--message-format is chosen by cargo unik (it reads cargo's JSON messages)"
                            .to_string(),
                    ));
                }
                _ => invocation.cargo_arguments.push(word.clone()),
            }
        }
        Ok(Some(invocation))
    }
}

fn subcommand(arguments: &[OsString], environment: &Environment) -> Result<i32> {
    let Some(invocation) = Invocation::parse(arguments)? else {
        print!("{USAGE}");
        return Ok(0);
    };
    let spec = TargetSpec::find(&invocation.target)?;
    let images = build(&invocation, &spec, environment)?;
    for image in &images {
        eprintln!("{PROGRAM}: image: {}", image.display());
    }
    if !invocation.run {
        return Ok(0);
    }
    let image = match images.as_slice() {
        [image] => image.clone(),
        [] => {
            return Err(Error::Usage(
                "the build produced no binary to run".to_string(),
            ));
        }
        _ => {
            return Err(Error::Usage(format!(
                "the build produced {} binaries; pick one with --bin NAME or --example NAME",
                images.len()
            )));
        }
    };
    let accelerator = match &invocation.accelerator {
        Some(text) => Accelerator::parse(text)?,
        None => Accelerator::default_from(environment)?,
    };
    let options = RunOptions {
        image,
        arguments: invocation.program_arguments.clone(),
        environment: invocation.environment.clone(),
        machine: None,
        cpu: None,
        accelerator,
        memory: None,
        timeout: invocation.timeout,
        initrd: invocation.initrd.clone(),
        verbose: false,
        no_aslr: false,
        dry_run: false,
        network: None,
        rng: invocation.rng,
        qemu_arguments: Vec::new(),
        no_exit_device: false,
    };
    let outcome = crate::run::run(environment, &options)?;
    if let Some(message) = outcome.message() {
        eprintln!("{message}");
    }
    Ok(outcome.exit_status())
}

/// The code-generation flags every unik build adds (module docs).
pub fn rust_flags(spec: &TargetSpec, sysroot_stamp: &str) -> Vec<String> {
    vec![
        "-Ctarget-feature=+crt-static".to_string(),
        format!("-Clink-arg={LINK_MARKER}{}", spec.name),
        format!("-Clink-arg={SYSROOT_MARKER}{sysroot_stamp}"),
    ]
}

/// `CARGO_TARGET_<TRIPLE>_LINKER` for a triple.
pub fn linker_variable(triple: &str) -> String {
    format!(
        "CARGO_TARGET_{}_LINKER",
        triple.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

/// Runs `cargo build` and returns the images (executables) it made.
fn build(
    invocation: &Invocation,
    spec: &TargetSpec,
    environment: &Environment,
) -> Result<Vec<PathBuf>> {
    let triple = spec.rust_triple.to_string();
    let rust = discovery::find_rust(environment, &triple)?;
    // The sysroot first, so its one-time build is announced here and not inside a
    // link that cargo runs in parallel with other work.
    let sysroot = sysroot::ensure(environment, spec, EnsureOptions::default(), |reason| {
        eprintln!("{}", sysroot::progress_line(PROGRAM, spec, reason));
    })?;
    let stamp_path = sysroot.directory().join("stamp");
    let stamp = std::fs::read_to_string(&stamp_path)
        .map_err(|source| Error::io("cannot read", &stamp_path, source))?;
    drop(sysroot);
    let this = std::env::current_exe()
        .map_err(|source| Error::io("cannot find my own executable", PROGRAM, source))?;
    // The user's RUSTFLAGS stay, ours follow (CARGO_ENCODED_RUSTFLAGS separates them
    // with 0x1f and takes precedence over RUSTFLAGS, cargo reference "Environment
    // variables").
    let mut flags: Vec<String> = match environment.get_text("CARGO_ENCODED_RUSTFLAGS") {
        Some(encoded) if !encoded.is_empty() => encoded.split('\x1f').map(String::from).collect(),
        _ => environment
            .get_text("RUSTFLAGS")
            .map(|text| text.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
    };
    // The file's last line is the hash (sysroot/src/stamp.rs).
    let stamp = stamp.lines().last().unwrap_or_default().trim();
    flags.extend(rust_flags(spec, stamp));
    if let Some(tree) = &invocation.file_system {
        flags.push(format!(
            "-Clink-arg={}",
            file_tree_object(tree, spec, environment)?.display()
        ));
    }
    if invocation.stub_missing {
        flags.push(format!("-Clink-arg={STUB_MISSING_MARKER}"));
    }
    let mut command = Command::new(&rust.cargo);
    command
        .arg("build")
        .arg("--target")
        .arg(&triple)
        .arg("--message-format=json-render-diagnostics")
        .args(&invocation.cargo_arguments)
        .env("RUSTC", &rust.rustc)
        .env(linker_variable(&triple), &this)
        .env(HOST_LINK_VARIABLE, "1")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .env_remove("RUSTFLAGS")
        .stdout(Stdio::piped());
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        program: rust.cargo.clone(),
        source,
    })?;
    let mut images = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(|source| Error::io("cannot read from", "cargo", source))?;
            if let Some(image) = executable_of(&line) {
                images.push(image);
            }
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: rust.cargo.clone(),
        source,
    })?;
    if !status.success() {
        return Err(Error::Usage(format!(
            "cargo build failed (status {})",
            status
                .code()
                .map_or("signal".to_string(), |code| code.to_string())
        )));
    }
    Ok(images)
}

/// `--fs DIR`: the tree's object (crate::embed), written under a name that is the
/// hash of its bytes and handed to the link as `-Clink-arg`. The flag is part of
/// RUSTFLAGS, so a changed tree changes cargo's fingerprint and relinks, and an
/// unchanged one does not.
fn file_tree_object(tree: &Path, spec: &TargetSpec, environment: &Environment) -> Result<PathBuf> {
    let epoch = environment.get_text("SOURCE_DATE_EPOCH");
    let modified = crate::embed::modification_time(epoch.as_deref());
    let embedding = |error: crate::embed::EmbedError| Error::Usage(format!("--fs: {error}"));
    let archive = crate::embed::archive_directory(tree, modified).map_err(embedding)?;
    let architecture = crate::manifest::object_architecture(spec)?;
    let object = crate::embed::object(architecture, &archive).map_err(embedding)?;
    // FNV-1a 64: stable across runs and toolchains (std's hashers promise neither).
    let hash = object.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = std::env::temp_dir().join(format!("unik-fs-{}-{hash:016x}.o", spec.name));
    std::fs::write(&path, object).map_err(|source| Error::io("cannot write", &path, source))?;
    Ok(path)
}

/// The executable of one of cargo's `compiler-artifact` JSON messages.
pub fn executable_of(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    message.get("executable")?.as_str().map(PathBuf::from)
}

/// Expands `@file` arguments (rustc writes one when a command line gets too long:
/// one argument per line, `\` escaping, as GNU tools read them).
fn expand_response_files(arguments: &[OsString]) -> Result<Vec<OsString>> {
    let mut expanded = Vec::with_capacity(arguments.len());
    for argument in arguments {
        let Some(path) = argument.to_str().and_then(|text| text.strip_prefix('@')) else {
            expanded.push(argument.clone());
            continue;
        };
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::io("cannot read the response file", path, source))?;
        for line in text.lines() {
            let mut word = String::with_capacity(line.len());
            let mut characters = line.chars();
            while let Some(character) = characters.next() {
                match character {
                    '\\' => word.extend(characters.next()),
                    other => word.push(other),
                }
            }
            expanded.push(OsString::from(word));
        }
    }
    Ok(expanded)
}

/// A build script's or proc macro's link: the host's `cc`, arguments unchanged.
fn link_for_host(arguments: &[OsString], environment: &Environment) -> Result<i32> {
    let compiler = environment
        .get("HOST_CC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cc"));
    let status = Command::new(&compiler)
        .args(arguments)
        .status()
        .map_err(|source| Error::Spawn {
            program: compiler.clone(),
            source,
        })?;
    Ok(status.code().unwrap_or(1))
}

/// One item of the link line, in rustc's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkItem {
    /// An object or archive.
    Input(PathBuf),
    /// A linker option kept as is (`--whole-archive`, `--strip-debug`, …).
    Option(OsString),
}

/// What rustc's `cc`-style link line says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkArguments {
    pub target: String,
    pub output: Option<PathBuf>,
    pub items: Vec<LinkItem>,
    /// `--unik-stub-missing` was among the arguments.
    pub stub_missing: bool,
}

/// Linker options (`-Wl,…`) that mean nothing for a static image with its own
/// linker script: dynamic linking, RELRO, symbol versions, LLD's own optimisation
/// level. They are dropped; everything else goes to LLD.
fn is_dropped_linker_option(option: &str) -> bool {
    matches!(
        option,
        "--as-needed"
            | "--no-as-needed"
            | "-Bstatic"
            | "-Bdynamic"
            | "-O1"
            | "-O2"
            | "--eh-frame-hdr"
            | "--gc-sections"
            | "--export-dynamic"
            | "-pie"
            | "--no-undefined-version"
    ) || option.starts_with("--hash-style")
        || option.starts_with("--build-id")
        || option.starts_with("--dynamic-linker")
}

/// `-z` keywords that do not apply (the linker script decides the segments).
fn is_dropped_z_keyword(keyword: &str) -> bool {
    matches!(
        keyword,
        "relro" | "norelro" | "now" | "lazy" | "noexecstack" | "execstack" | "nostart-stop-gc"
    )
}

impl LinkArguments {
    /// Reads rustc's link line for the gnu targets (a `cc` command line).
    pub fn parse(arguments: &[OsString]) -> Result<LinkArguments> {
        let mut parsed = LinkArguments::default();
        let mut search: Vec<PathBuf> = Vec::new();
        let mut libraries: Vec<(usize, String)> = Vec::new();
        let mut words = arguments.iter();
        while let Some(word) = words.next() {
            let text = word.to_string_lossy();
            let mut next = |what: &str| {
                words
                    .next()
                    .cloned()
                    .ok_or_else(|| Error::Usage(format!("`{what}` needs a value")))
            };
            if let Some(target) = text.strip_prefix(LINK_MARKER) {
                parsed.target = target.to_string();
            } else if text == STUB_MISSING_MARKER {
                parsed.stub_missing = true;
            } else if text.starts_with(SYSROOT_MARKER) {
                // Only there to make cargo's fingerprint depend on the runtime.
            } else if text == "-o" {
                parsed.output = Some(PathBuf::from(next("-o")?));
            } else if text == "-L" {
                search.push(PathBuf::from(next("-L")?));
            } else if let Some(directory) = text.strip_prefix("-L") {
                search.push(PathBuf::from(directory));
            } else if text == "-l" {
                let name = next("-l")?.to_string_lossy().into_owned();
                libraries.push((parsed.items.len(), name));
                parsed.items.push(LinkItem::Option(OsString::new()));
            } else if let Some(name) = text.strip_prefix("-l") {
                libraries.push((parsed.items.len(), name.to_string()));
                parsed.items.push(LinkItem::Option(OsString::new()));
            } else if let Some(options) = text.strip_prefix("-Wl,") {
                let mut options = options.split(',').peekable();
                while let Some(option) = options.next() {
                    if option == "-z" {
                        if let Some(keyword) = options.next()
                            && !is_dropped_z_keyword(keyword)
                        {
                            parsed.items.push(LinkItem::Option("-z".into()));
                            parsed.items.push(LinkItem::Option(keyword.into()));
                        }
                    } else if option == "-pie" || option == "--pie" {
                        // Every image is a static PIE already (IMAGE_LINK_FLAGS).
                    } else if !option.is_empty() && !is_dropped_linker_option(option) {
                        parsed.items.push(LinkItem::Option(option.into()));
                    }
                }
            } else if text == "-shared" {
                return Err(Error::Usage(
                    "a unik image is an executable: shared libraries (cdylib, dylib) cannot be linked into one"
                        .to_string(),
                ));
            } else if text.starts_with('-') {
                // The driver's own flags (`-m64`, `-nodefaultlibs`, `-static`,
                // `-static-pie`, `-pie`, `-no-pie`, `-fuse-ld=…`, `-B…`,
                // `-nostartfiles`): the link below is always a static PIE, without
                // start files or default libraries.
            } else {
                parsed.items.push(LinkItem::Input(PathBuf::from(word)));
            }
        }
        for (position, name) in libraries {
            parsed.items[position] = match library(&name, &search)? {
                Some(path) => LinkItem::Input(path),
                None => LinkItem::Option(OsString::new()),
            };
        }
        parsed
            .items
            .retain(|item| !matches!(item, LinkItem::Option(option) if option.is_empty()));
        Ok(parsed)
    }
}

/// The archive of `-l<name>` in the search directories (`None` when the runtime
/// provides it).
fn library(name: &str, search: &[PathBuf]) -> Result<Option<PathBuf>> {
    if PROVIDED_BY_THE_RUNTIME.contains(&name) {
        return Ok(None);
    }
    let file = match name.strip_prefix(':') {
        Some(exact) => exact.to_string(),
        None => format!("lib{name}.a"),
    };
    search
        .iter()
        .map(|directory| directory.join(&file))
        .find(|path| path.is_file())
        .map(Some)
        .ok_or_else(|| {
            Error::Usage(format!(
                "cannot find -l{name} (looked for {file} in {}; unik links static archives only)",
                search
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// rustc's link of the program: component selection, then LLD (module docs).
fn link_image(arguments: &[OsString], environment: &Environment) -> Result<i32> {
    let mut parsed = LinkArguments::parse(arguments)?;
    let spec = TargetSpec::find(&parsed.target)?;
    let output = parsed
        .output
        .clone()
        .ok_or_else(|| Error::Usage("the link has no -o output".to_string()))?;
    let sysroot = sysroot::ensure(environment, &spec, EnsureOptions::default(), |reason| {
        eprintln!("{}", sysroot::progress_line(PROGRAM, &spec, reason));
    })?;
    let directory = sysroot.directory().to_path_buf();
    let manifest = crate::manifest::load(&directory)?;
    let work = crate::error::temporary_directory("cargo-unik-")?;
    let replaced = cut_symbolizer(&mut parsed.items, work.path())?;
    let inputs: Vec<link::LinkInput> = parsed
        .items
        .iter()
        .filter_map(|item| match item {
            LinkItem::Input(path) => Some(link::LinkInput {
                path: path.clone(),
                display_name: replaced
                    .get(path)
                    .cloned()
                    .unwrap_or_else(|| display_name(path)),
            }),
            LinkItem::Option(_) => None,
        })
        .collect();
    let linker_defined = Default::default();
    let architecture = crate::manifest::object_architecture(&spec)?;
    let (option_roots, collect_garbage) =
        link::liveness::options_roots(parsed.items.iter().filter_map(|item| match item {
            LinkItem::Option(option) => option.to_str(),
            LinkItem::Input(_) => None,
        }));
    let request = link::SelectionRequest {
        target_name: &spec.name,
        architecture,
        inputs: &inputs,
        manifest: &manifest,
        all_components: false,
        stub_missing: parsed.stub_missing,
        linker_defined: &linker_defined,
        option_roots: &option_roots,
        collect_garbage,
        executable_stack_allowed: link::protection::executable_stack_allowed(
            &parsed
                .items
                .iter()
                .filter_map(|item| match item {
                    LinkItem::Option(option) => Some(option.clone()),
                    LinkItem::Input(_) => None,
                })
                .collect::<Vec<_>>(),
        ),
    };
    let prepared = link::prepare(&request, PROGRAM)?;
    for stub in &prepared.record.stubbed {
        eprintln!(
            "{PROGRAM}: warning: {stub} is not available in a unikernel; linked a stub that fails with ENOSYS (--stub-missing)"
        );
    }
    let generated = work.path().join("unik-components.o");
    std::fs::write(&generated, &prepared.generated_object)
        .map_err(|source| Error::io("cannot write", &generated, source))?;
    let linker = discovery::find_linker(environment)?;
    let mut command = linker.image_link_command();
    command
        .args(prepared.unwind_table_arguments(work.path())?)
        .arg("-T")
        .arg(directory.join("lib").join("link.ld"));
    for item in &parsed.items {
        match item {
            LinkItem::Input(path) => command.arg(path),
            LinkItem::Option(option) => command.arg(option),
        };
    }
    command
        .args(&prepared.linker_arguments)
        .arg(&generated)
        .arg(directory.join("lib").join("libunik.a"))
        .arg("-o")
        .arg(&output);
    if environment.get("UNIK_CARGO_VERBOSE").is_some() {
        eprintln!(" {}", unik_sysroot::describe(&command));
    }
    let status = command.status().map_err(|source| Error::Spawn {
        program: linker.path.clone(),
        source,
    })?;
    drop(sysroot);
    if status.success() {
        let linked =
            std::fs::read(&output).map_err(|source| Error::io("cannot read", &output, source))?;
        if let Err(report) =
            link::protection::check_segments(&linked, &output.display().to_string(), PROGRAM)
        {
            // No image with W+X segments is left behind.
            let _ = std::fs::remove_file(&output);
            return Err(Error::WriteExecute(report));
        }
        if let Err(error) = link::check_relocations(&output, &output) {
            // Like a failed link: no image is left behind.
            let _ = std::fs::remove_file(&output);
            return Err(error);
        }
        if let Some(compacted) = link::symbol_table::compact(&linked) {
            std::fs::write(&output, compacted)
                .map_err(|source| Error::io("cannot write", &output, source))?;
        }
    }
    // A board's image in its own format, as unikcc writes it (raspi4b: kernel8.img).
    if status.success() && spec.output_format == crate::image_format::OutputFormat::Image {
        crate::image_format::rewrite_as_arm64_image(&output, spec.image_header_address)?;
    }
    Ok(status.code().unwrap_or(1))
}

/// How messages name an input: rlibs by their crate file name, objects by path.
/// Replaces Rust std's rlib on the link line by a copy of its one object whose calls
/// to the in-image backtrace symbolizer go to the runtime's stand-in
/// ([`link::symbolizer`]), written into `directory`. Returns the replacements' names
/// for messages (the archive member they stand for). A std whose rlib holds more than
/// one object besides its metadata (`lib.rmeta`), or whose object cannot be
/// rewritten, stays as it is (the image is then only larger).
fn cut_symbolizer(
    items: &mut [LinkItem],
    directory: &Path,
) -> Result<std::collections::BTreeMap<PathBuf, String>> {
    let mut replaced = std::collections::BTreeMap::new();
    for item in items.iter_mut() {
        let LinkItem::Input(path) = item else {
            continue;
        };
        let archive_name = display_name(path);
        if !(archive_name.starts_with("libstd-") && archive_name.ends_with(".rlib")) {
            continue;
        }
        let bytes = std::fs::read(&*path)
            .map_err(|source| Error::io("cannot read", path.clone(), source))?;
        let Ok(archive) = object::read::archive::ArchiveFile::parse(bytes.as_slice()) else {
            continue;
        };
        let objects: Vec<(String, &[u8])> = archive
            .members()
            .filter_map(|member| {
                let member = member.ok()?;
                let data = member.data(bytes.as_slice()).ok()?;
                // rustc's metadata member is an object too, but no code.
                (data.starts_with(b"\x7fELF") && member.name() != b"lib.rmeta")
                    .then(|| (String::from_utf8_lossy(member.name()).into_owned(), data))
            })
            .collect();
        let [(member_name, data)] = objects.as_slice() else {
            continue;
        };
        let Ok(Some(cut)) = link::symbolizer::cut(data) else {
            continue;
        };
        let output = directory.join(member_name);
        std::fs::write(&output, cut)
            .map_err(|source| Error::io("cannot write", &output, source))?;
        replaced.insert(output.clone(), format!("{archive_name}({member_name})"));
        *item = LinkItem::Input(output);
    }
    Ok(replaced)
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(OsStr::to_string_lossy)
        .map(|name| name.into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests;
