//! Toolchain discovery: which C compiler, linker, rustc/cargo and QEMU to use, and
//! whether KVM works. Every lookup goes through an [`Environment`] snapshot, so the
//! tests can point PATH at a directory of shim scripts (the cc-rs style) without
//! touching the test process's environment.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use target_lexicon::{Architecture, HOST};

use crate::error::{Error, Result};
use crate::target::TargetSpec;

/// Newest first: the newest clang knows the most flags and CPU features. Plain
/// `clang` (whatever version the distribution calls default) comes last.
const CLANG_VERSIONS: std::ops::RangeInclusive<u32> = 14..=30;

/// A snapshot of the environment variables discovery reads.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    variables: BTreeMap<String, OsString>,
    working_directory: PathBuf,
}

impl Environment {
    /// The current process's environment.
    pub fn from_process() -> Self {
        let variables = std::env::vars_os()
            .filter_map(|(name, value)| name.into_string().ok().map(|name| (name, value)))
            .collect();
        let working_directory = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Environment {
            variables,
            working_directory,
        }
    }

    /// An environment with exactly these variables (for tests and embedding).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a OsStr)>) -> Self {
        Environment {
            variables: pairs
                .into_iter()
                .map(|(name, value)| (name.to_string(), value.to_os_string()))
                .collect(),
            working_directory: PathBuf::from("/"),
        }
    }

    /// A variable's value; empty counts as unset (as `CC=` does for make).
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.variables
            .get(name)
            .map(OsString::as_os_str)
            .filter(|value| !value.is_empty())
    }

    /// A variable as UTF-8 text (None when unset or not UTF-8).
    pub fn get_text(&self, name: &str) -> Option<String> {
        self.get(name).and_then(OsStr::to_str).map(str::to_string)
    }

    /// Finds a program: a name containing `/` is taken as a path, anything else is
    /// searched in PATH.
    pub fn find_program(&self, name: &OsStr) -> Option<PathBuf> {
        let path = Path::new(name);
        if path.components().count() > 1 || name.to_string_lossy().contains('/') {
            let resolved = self.working_directory.join(path);
            return resolved.is_file().then_some(resolved);
        }
        let search = self.get("PATH")?;
        which::which_in(name, Some(search), &self.working_directory).ok()
    }
}

/// Which compiler driver conventions a C compiler follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompilerFamily {
    Clang,
    Gcc,
}

/// The C compiler unikcc runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CCompiler {
    pub path: PathBuf,
    pub family: CompilerFamily,
}

impl CCompiler {
    /// Arguments that select the target: clang cross-compiles with `--target`; gcc
    /// only ever builds for the host arch, which discovery checked.
    pub fn target_arguments(&self, spec: &TargetSpec) -> Vec<String> {
        match self.family {
            CompilerFamily::Clang => vec![format!("--target={}", spec.c_triple)],
            CompilerFamily::Gcc => Vec::new(),
        }
    }
}

const CC_HINT: &str =
    "install clang (Debian: apt-get install clang-19) or name a compiler with --cc or UNIK_CC";

/// The C compiler: `explicit` (unikcc's `--cc`), else `$UNIK_CC`, else the newest
/// `clang-N` on PATH, else `clang`. gcc is accepted when named, for the host arch.
pub fn find_c_compiler(
    environment: &Environment,
    explicit: Option<&OsStr>,
    spec: &TargetSpec,
) -> Result<CCompiler> {
    let named = explicit.or_else(|| environment.get("UNIK_CC"));
    let path = match named {
        Some(name) => environment
            .find_program(name)
            .ok_or_else(|| Error::ToolNotFound {
                tool: "C compiler",
                searched: format!("`{}`", name.to_string_lossy()),
                hint: CC_HINT.to_string(),
            })?,
        None => {
            let candidates = clang_candidates();
            candidates
                .iter()
                .find_map(|name| environment.find_program(OsStr::new(name)))
                .ok_or_else(|| Error::ToolNotFound {
                    tool: "C compiler",
                    searched: format!(
                        "clang-{}…clang-{} and clang in PATH",
                        CLANG_VERSIONS.end(),
                        CLANG_VERSIONS.start()
                    ),
                    hint: CC_HINT.to_string(),
                })?
        }
    };
    let family = compiler_family(&path)?;
    if family == CompilerFamily::Gcc && spec.arch != HOST.architecture {
        return Err(Error::UnsuitableTool {
            program: path,
            message: format!(
                "gcc builds only for the host arch ({}), not for {}; use clang (Debian: apt-get install clang-19)",
                HOST.architecture, spec.arch
            ),
        });
    }
    Ok(CCompiler { path, family })
}

fn clang_candidates() -> Vec<String> {
    let mut names: Vec<String> = CLANG_VERSIONS
        .rev()
        .map(|version| format!("clang-{version}"))
        .collect();
    names.push("clang".to_string());
    names
}

/// Tells clang from gcc: by name when the name says (no process to start on every
/// unikcc run), else by what `--version` prints.
fn compiler_family(path: &Path) -> Result<CompilerFamily> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("clang") || name.contains("-clang") {
        return Ok(CompilerFamily::Clang);
    }
    if name.starts_with("gcc") || name.contains("-gcc") {
        return Ok(CompilerFamily::Gcc);
    }
    let output = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|source| Error::Spawn {
            program: path.to_path_buf(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("clang") {
        Ok(CompilerFamily::Clang)
    } else if text.contains("gcc")
        || text.contains("GCC")
        || text.contains("Free Software Foundation")
    {
        Ok(CompilerFamily::Gcc)
    } else {
        Err(Error::UnsuitableTool {
            program: path.to_path_buf(),
            message: format!(
                "neither clang nor gcc (`--version` printed: {})",
                text.lines().next().unwrap_or("nothing")
            ),
        })
    }
}

/// The linker unikcc runs: a GNU-flavoured LLD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linker {
    pub path: PathBuf,
    /// `-flavor gnu` for `rust-lld` (a multi-flavour binary); empty for `ld.lld`.
    pub leading_arguments: Vec<String>,
}

impl Linker {
    fn at(path: PathBuf) -> Self {
        let multi_flavour = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("rust-lld"));
        let leading_arguments = if multi_flavour {
            vec!["-flavor".to_string(), "gnu".to_string()]
        } else {
            Vec::new()
        };
        Linker {
            path,
            leading_arguments,
        }
    }

    /// The start of every image link (unikcc and cargo unik): the leading arguments
    /// and [`crate::link::IMAGE_LINK_FLAGS`] (a static PIE without the host's
    /// libraries, sections kept only when reached, 4 KiB pages, no build id).
    pub fn image_link_command(&self) -> Command {
        let mut command = Command::new(&self.path);
        command
            .args(&self.leading_arguments)
            .args(crate::link::IMAGE_LINK_FLAGS);
        command
    }
}

/// The linker: `$UNIK_LD`, else the `rust-lld` of the host's rustc sysroot (every
/// rustup toolchain ships it), else `ld.lld` on PATH.
pub fn find_linker(environment: &Environment) -> Result<Linker> {
    if let Some(name) = environment.get("UNIK_LD") {
        return environment
            .find_program(name)
            .map(Linker::at)
            .ok_or_else(|| Error::ToolNotFound {
                tool: "linker",
                searched: format!("UNIK_LD=`{}`", name.to_string_lossy()),
                hint: "point UNIK_LD at an ld.lld or rust-lld".to_string(),
            });
    }
    let rustc = environment
        .get("UNIK_RUSTC")
        .and_then(|name| environment.find_program(name))
        .or_else(|| environment.find_program(OsStr::new("rustc")));
    if let Some(sysroot) = rustc.as_deref().and_then(rustc_sysroot) {
        let rust_lld = sysroot
            .join("lib")
            .join("rustlib")
            .join(HOST.to_string())
            .join("bin")
            .join("rust-lld");
        if rust_lld.is_file() {
            return Ok(Linker::at(rust_lld));
        }
    }
    let mut names = vec!["ld.lld".to_string()];
    names.extend(
        CLANG_VERSIONS
            .rev()
            .map(|version| format!("ld.lld-{version}")),
    );
    names
        .iter()
        .find_map(|name| environment.find_program(OsStr::new(name)))
        .map(Linker::at)
        .ok_or_else(|| Error::ToolNotFound {
            tool: "linker",
            searched: "rust-lld in the rustc sysroot, ld.lld in PATH".to_string(),
            hint: "install a Rust toolchain with rustup (it ships rust-lld) or LLD (Debian: apt-get install lld-19)"
                .to_string(),
        })
}

/// `rustc --print sysroot`, when that works.
fn rustc_sysroot(rustc: &Path) -> Option<PathBuf> {
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let directory = PathBuf::from(text.trim());
    directory.is_dir().then_some(directory)
}

/// A Rust compiler that has a target's standard library, and the cargo to drive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustToolchain {
    /// The real compiler binary (not a rustup proxy), to hand to cargo as RUSTC.
    pub rustc: PathBuf,
    pub cargo: PathBuf,
    /// Where the target's `libcore-*.rlib` lives.
    pub target_libdir: PathBuf,
}

/// Finds a rustc with `triple`'s std: asks `$UNIK_RUSTC`, `rustc` in PATH,
/// `/usr/bin/rustc` (Debian's rustc-web) and every rustup toolchain, in this order,
/// for `--print target-libdir --target <triple>`, and takes the first whose
/// directory holds a `libcore-*.rlib`.
pub fn find_rust(environment: &Environment, triple: &str) -> Result<RustToolchain> {
    let candidates = rustc_candidates(environment);
    for candidate in &candidates {
        let Some(target_libdir) = target_libdir(candidate, triple) else {
            continue;
        };
        let sysroot = rustc_sysroot(candidate);
        let rustc = sysroot
            .as_ref()
            .map(|directory| directory.join("bin").join("rustc"))
            .filter(|path| path.is_file())
            .unwrap_or_else(|| candidate.clone());
        let cargo = find_cargo(environment, candidate, sysroot.as_deref())?;
        return Ok(RustToolchain {
            rustc,
            cargo,
            target_libdir,
        });
    }
    let searched = if candidates.is_empty() {
        "rustc in PATH, /usr/bin/rustc and rustup toolchains: none exist".to_string()
    } else {
        candidates
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Error::ToolNotFound {
        tool: "rustc with the standard library for this target",
        searched: format!("{triple} in {searched}"),
        hint: rust_std_hint(triple),
    })
}

/// How to get a target's std on Debian or with rustup.
pub fn rust_std_hint(triple: &str) -> String {
    if triple.starts_with("x86_64") {
        format!("run `rustup target add {triple}` or install rustup (https://rustup.rs)")
    } else {
        format!(
            "on Debian: dpkg --add-architecture arm64 && apt-get update && apt-get install rustc-web libstd-rust-web-dev:arm64; \
             with rustup: rustup target add {triple}"
        )
    }
}

fn rustc_candidates(environment: &Environment) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    let mut add = |path: Option<PathBuf>| {
        if let Some(path) = path
            && !candidates.contains(&path)
        {
            candidates.push(path);
        }
    };
    add(environment
        .get("UNIK_RUSTC")
        .and_then(|name| environment.find_program(name)));
    add(environment.find_program(OsStr::new("rustc")));
    add(Some(PathBuf::from("/usr/bin/rustc")).filter(|path| path.is_file()));
    let rustup_home = environment
        .get("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            environment
                .get("HOME")
                .map(|home| Path::new(home).join(".rustup"))
        });
    if let Some(home) = rustup_home
        && let Ok(entries) = fs::read_dir(home.join("toolchains"))
    {
        let mut toolchains: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        // Stable toolchains before nightlies and pinned versions.
        toolchains.sort_by_key(|path| {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            (!name.starts_with("stable"), name)
        });
        for toolchain in toolchains {
            add(Some(toolchain.join("bin").join("rustc")).filter(|path| path.is_file()));
        }
    }
    candidates
}

/// `rustc --print target-libdir --target <triple>`, if the directory holds `core`.
fn target_libdir(rustc: &Path, triple: &str) -> Option<PathBuf> {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let directory = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    let has_core = fs::read_dir(&directory)
        .ok()?
        .filter_map(|entry| entry.ok())
        .any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("libcore-") && name.ends_with(".rlib")
        });
    has_core.then_some(directory)
}

/// Cargo matching a rustc: `$UNIK_CARGO`, else the one in the rustc's sysroot (a
/// rustup toolchain), else the one beside the rustc, else `cargo` in PATH.
fn find_cargo(environment: &Environment, rustc: &Path, sysroot: Option<&Path>) -> Result<PathBuf> {
    if let Some(name) = environment.get("UNIK_CARGO") {
        return environment
            .find_program(name)
            .ok_or_else(|| Error::ToolNotFound {
                tool: "cargo",
                searched: format!("UNIK_CARGO=`{}`", name.to_string_lossy()),
                hint: "point UNIK_CARGO at a cargo binary".to_string(),
            });
    }
    let in_sysroot = sysroot.map(|directory| directory.join("bin").join("cargo"));
    let beside = rustc.parent().map(|directory| directory.join("cargo"));
    in_sysroot
        .into_iter()
        .chain(beside)
        .find(|path| path.is_file())
        .or_else(|| environment.find_program(OsStr::new("cargo")))
        .ok_or_else(|| Error::ToolNotFound {
            tool: "cargo",
            searched: format!("beside {} and in PATH", rustc.display()),
            hint: "install cargo (rustup, or Debian: apt-get install cargo-web)".to_string(),
        })
}

/// QEMU for a target: the spec's binary, in PATH.
pub fn find_qemu(environment: &Environment, spec: &TargetSpec) -> Result<PathBuf> {
    environment
        .find_program(OsStr::new(&spec.qemu.binary))
        .ok_or_else(|| Error::ToolNotFound {
            tool: "QEMU",
            searched: format!("{} in PATH", spec.qemu.binary),
            hint: qemu_hint(spec.arch),
        })
}

/// The Debian package of each arch's QEMU (bookworm's is too old for microvm PVH
/// boots with our devices; backports has 10.x).
pub fn qemu_hint(arch: Architecture) -> String {
    let package = match arch {
        Architecture::X86_64 => "qemu-system-x86",
        _ => "qemu-system-arm",
    };
    format!("on Debian: apt-get install -t bookworm-backports {package}")
}

/// Whether `/dev/kvm` can be opened read-write (what QEMU needs for `-accel kvm`);
/// the error says why not.
pub fn kvm_usable() -> std::result::Result<(), String> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(|_| ())
        .map_err(|error| format!("/dev/kvm: {error}"))
}

/// The first line a tool prints for `--version` (or `-vV`), for `unik doctor`.
pub fn version_line(program: &Path, arguments: &[&str]) -> Option<String> {
    let output = Command::new(program).args(arguments).output().ok()?;
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|line| line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A directory of executable shell scripts standing in for real tools.
    struct Shims {
        directory: tempfile::TempDir,
    }

    impl Shims {
        fn new() -> Self {
            Shims {
                directory: tempfile::tempdir().unwrap(),
            }
        }
        fn add(&self, name: &str, script: &str) -> PathBuf {
            let path = self.directory.path().join(name);
            fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            path
        }
        fn path(&self) -> &Path {
            self.directory.path()
        }
        fn environment(&self, extra: &[(&str, &str)]) -> Environment {
            let mut pairs: Vec<(&str, &OsStr)> = vec![("PATH", self.path().as_os_str())];
            pairs.extend(extra.iter().map(|(name, value)| (*name, OsStr::new(value))));
            Environment::from_pairs(pairs)
        }
    }

    fn x86_64() -> TargetSpec {
        TargetSpec::find("x86_64").unwrap()
    }

    #[test]
    fn the_newest_versioned_clang_wins() {
        let shims = Shims::new();
        shims.add("clang", "echo clang");
        let compiler = find_c_compiler(&shims.environment(&[]), None, &x86_64()).unwrap();
        assert_eq!(compiler.path, shims.path().join("clang"));
        shims.add("clang-18", "echo clang");
        let compiler = find_c_compiler(&shims.environment(&[]), None, &x86_64()).unwrap();
        assert_eq!(compiler.path, shims.path().join("clang-18"));
        shims.add("clang-19", "echo clang");
        let compiler = find_c_compiler(&shims.environment(&[]), None, &x86_64()).unwrap();
        assert_eq!(compiler.path, shims.path().join("clang-19"));
        assert_eq!(compiler.family, CompilerFamily::Clang);
        assert_eq!(
            compiler.target_arguments(&x86_64()),
            ["--target=x86_64-unknown-linux-gnu"]
        );
    }

    #[test]
    fn unik_cc_then_the_explicit_option_override() {
        let shims = Shims::new();
        shims.add("clang-19", "echo clang");
        let gcc = shims.add("gcc", "echo 'gcc (Debian 12.2.0-14) 12.2.0'");
        let mycc = shims.add("mycc", "echo 'clang version 20.0.0'");
        let environment = shims.environment(&[("UNIK_CC", "gcc")]);
        let compiler = find_c_compiler(&environment, None, &x86_64()).unwrap();
        assert_eq!(compiler.path, gcc);
        assert_eq!(compiler.family, CompilerFamily::Gcc);
        assert!(compiler.target_arguments(&x86_64()).is_empty());
        let compiler = find_c_compiler(&environment, Some(mycc.as_os_str()), &x86_64()).unwrap();
        assert_eq!(compiler.path, mycc);
        // Not named clang or gcc: its --version decides.
        assert_eq!(compiler.family, CompilerFamily::Clang);
    }

    #[test]
    fn a_missing_compiler_names_what_was_searched() {
        let shims = Shims::new();
        let message = find_c_compiler(&shims.environment(&[]), None, &x86_64())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "no C compiler found (looked for clang-30…clang-14 and clang in PATH); \
             install clang (Debian: apt-get install clang-19) or name a compiler with --cc or UNIK_CC"
        );
        let message = find_c_compiler(&shims.environment(&[("UNIK_CC", "nocc")]), None, &x86_64())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("no C compiler found (looked for `nocc`)"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_compiler_is_refused() {
        let shims = Shims::new();
        let tcc = shims.add("tcc", "echo 'tcc version 0.9.27'");
        let message = find_c_compiler(&shims.environment(&[]), Some(tcc.as_os_str()), &x86_64())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "{}: neither clang nor gcc (`--version` printed: tcc version 0.9.27)",
                tcc.display()
            )
        );
    }

    #[test]
    fn linker_order_is_unik_ld_then_rust_lld_then_ld_lld() {
        let shims = Shims::new();
        let ld_lld = shims.add("ld.lld", "exit 0");
        assert_eq!(
            find_linker(&shims.environment(&[])).unwrap(),
            Linker::at(ld_lld.clone())
        );
        assert!(Linker::at(ld_lld).leading_arguments.is_empty());

        // A fake rustc whose sysroot ships rust-lld.
        let sysroot = shims.path().join("sysroot");
        let bin = sysroot
            .join("lib/rustlib")
            .join(HOST.to_string())
            .join("bin");
        fs::create_dir_all(&bin).unwrap();
        fs::write(bin.join("rust-lld"), "").unwrap();
        shims.add("rustc", &format!("echo {}", sysroot.display()));
        let linker = find_linker(&shims.environment(&[])).unwrap();
        assert_eq!(linker.path, bin.join("rust-lld"));
        assert_eq!(linker.leading_arguments, ["-flavor", "gnu"]);

        let mine = shims.add("my-ld", "exit 0");
        let linker = find_linker(&shims.environment(&[("UNIK_LD", "my-ld")])).unwrap();
        assert_eq!(linker.path, mine);
    }

    /// A fake rustc answering `--print target-libdir` with `libdir` and
    /// `--print sysroot` with `sysroot`.
    fn fake_rustc(shims: &Shims, name: &str, libdir: &Path, sysroot: &Path) -> PathBuf {
        shims.add(
            name,
            &format!(
                "case \"$2\" in target-libdir) echo {};; sysroot) echo {};; esac",
                libdir.display(),
                sysroot.display()
            ),
        )
    }

    #[test]
    fn the_first_rustc_with_the_target_core_wins() {
        let shims = Shims::new();
        let without_core = shims.path().join("empty-libdir");
        fs::create_dir_all(&without_core).unwrap();
        let with_core = shims.path().join("good-libdir");
        fs::create_dir_all(&with_core).unwrap();
        fs::write(with_core.join("libcore-0123.rlib"), "").unwrap();
        let sysroot = shims.path().join("toolchain");
        fs::create_dir_all(sysroot.join("bin")).unwrap();
        fs::write(sysroot.join("bin/cargo"), "").unwrap();

        fake_rustc(&shims, "rustc", &without_core, &sysroot);
        let good = fake_rustc(&shims, "good-rustc", &with_core, &sysroot);
        let environment =
            shims.environment(&[("UNIK_RUSTC", "good-rustc"), ("HOME", "/nonexistent")]);
        let found = find_rust(&environment, "x86_64-unknown-linux-gnu").unwrap();
        assert_eq!(found.target_libdir, with_core);
        // The sysroot has no bin/rustc, so the candidate itself is used.
        assert_eq!(found.rustc, good);
        assert_eq!(found.cargo, sysroot.join("bin/cargo"));

        // Without the override only the rustc lacking core is left (plus /usr/bin/rustc
        // on machines that have one, which must not have a fake triple's core).
        let environment = shims.environment(&[("HOME", "/nonexistent")]);
        let message = find_rust(&environment, "riscv99-unknown-none")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!(
                "no rustc with the standard library for this target found (looked for riscv99-unknown-none in {}",
                shims.path().join("rustc").display()
            )),
            "{message}"
        );
    }

    #[test]
    fn qemu_is_looked_up_by_the_spec_binary() {
        let shims = Shims::new();
        let message = find_qemu(&shims.environment(&[]), &x86_64())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "no QEMU found (looked for qemu-system-x86_64 in PATH); on Debian: apt-get install -t bookworm-backports qemu-system-x86"
        );
        let qemu = shims.add("qemu-system-x86_64", "exit 0");
        assert_eq!(find_qemu(&shims.environment(&[]), &x86_64()).unwrap(), qemu);
    }
}
