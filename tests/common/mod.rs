//! Shared harness of the integration tests: build fixtures with `unikcc`, boot them
//! with `unik run`, build and run the same fixtures natively for differential checks.
//!
//! Every booted test runs for every target in [`targets`]: the targets whose tools
//! are present on this machine (`UNIK_TEST_TARGETS=x86_64,aarch64` narrows the set).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// How long one guest may run before `unik run` stops it. Generous: CI runs TCG on
/// two cores while other tests boot in parallel.
pub const GUEST_TIMEOUT_SECONDS: u32 = 120;

pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("driver/ has a parent")
        .to_path_buf()
}

pub fn fixture(name: &str) -> PathBuf {
    repository().join("fixtures").join(name)
}

pub fn unikcc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unikcc"))
}

pub fn unik() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unik"))
}

/// The targets this machine can build and boot.
pub fn targets() -> Vec<&'static str> {
    let known = ["x86_64", "aarch64"];
    match std::env::var("UNIK_TEST_TARGETS") {
        Ok(list) => known
            .into_iter()
            .filter(|target| list.split(',').any(|wanted| wanted.trim() == *target))
            .collect(),
        Err(_) => known.to_vec(),
    }
}

/// The targets whose runtime runs threads: all of them (x86_64 through the LAPIC
/// timer, aarch64 through the GIC and the generic timer). Kept apart from
/// [`targets`] so a new target can join before its scheduler tick exists.
pub fn threaded_targets() -> Vec<&'static str> {
    targets()
}

/// What a program did: its standard streams and exit status.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        Outcome {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: output.status.code().unwrap_or(-1),
        }
    }
}

pub fn run_command(command: &mut Command) -> Outcome {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    Outcome::from(output)
}

/// A directory that lives as long as the test needs it.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("unik-test-")
        .tempdir()
        .expect("a temporary directory")
}

/// Compiles C fixtures into an image for `target`; panics with the compiler's
/// messages when that fails.
pub fn build_image(target: &str, sources: &[&str], flags: &[&str], dir: &Path) -> PathBuf {
    let stem = Path::new(sources[0])
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("app");
    let image = dir.join(format!("{stem}-{target}.img"));
    let mut command = unikcc();
    command.arg("--target").arg(target).arg("-O2").args(flags);
    for source in sources {
        command.arg(fixture(source));
    }
    command.arg("-o").arg(&image);
    let outcome = run_command(&mut command);
    assert_eq!(
        outcome.status, 0,
        "unikcc failed for {sources:?} on {target}:\n{}",
        outcome.stderr
    );
    assert!(image.is_file(), "unikcc succeeded but wrote no {image:?}");
    image
}

/// Boots an image with `unik run`, passing `run_options` before the image and
/// `arguments` after `--`.
pub fn boot(image: &Path, run_options: &[&str], arguments: &[&str]) -> Outcome {
    let mut command = unik();
    command
        .arg("run")
        .arg("--timeout")
        .arg(GUEST_TIMEOUT_SECONDS.to_string())
        .args(run_options)
        .arg(image)
        .arg("--")
        .args(arguments);
    run_command(&mut command)
}

/// A `unik run --cpu` model without a random number instruction: x86_64 without
/// RDRAND and RDSEED; on aarch64 an Armv8.0 core (RNDR, FEAT_RNG, is Armv8.5).
pub fn cpu_without_random_instruction(target: &str) -> &'static str {
    match target {
        "aarch64" => "cortex-a72",
        _ => "max,-rdrand,-rdseed",
    }
}

/// Builds `binary` of `fixtures/rust/std-programs` for `target` with `cargo unik build
/// --release` (into the shared `target/rust-fixtures`) and returns its image.
pub fn std_program_image(target: &str, binary: &str) -> PathBuf {
    let target_directory = repository().join("target").join("rust-fixtures");
    let outcome = run_command(
        Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
            .args(["unik", "build", "--locked", "--release", "--bin", binary])
            .args(["--target", target, "--manifest-path"])
            .arg(fixture("rust/std-programs/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(outcome.status, 0, "{target}: {}", outcome.stderr);
    target_directory
        .join(format!("{target}-unknown-linux-gnu"))
        .join("release")
        .join(binary)
}

/// Builds the same C fixtures natively with the host's gcc and glibc and runs them:
/// the reference a deterministic fixture's unikernel run must equal.
pub fn native(sources: &[&str], arguments: &[&str], dir: &Path) -> Outcome {
    let binary = dir.join(format!(
        "native-{}",
        Path::new(sources[0])
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("app")
    ));
    let mut compile = Command::new("gcc");
    compile.arg("-O2").arg("-w").arg("-o").arg(&binary);
    for source in sources {
        compile.arg(fixture(source));
    }
    let built = run_command(&mut compile);
    assert_eq!(
        built.status, 0,
        "native gcc build failed:\n{}",
        built.stderr
    );
    run_command(Command::new(&binary).args(arguments))
}

/// `native` with `-pthread` (glibc 2.34+ needs no flag, but older ones do).
pub fn native_threaded(sources: &[&str], dir: &Path) -> Outcome {
    let binary = dir.join("native-threaded");
    let mut compile = Command::new("gcc");
    compile.args(["-O2", "-w", "-pthread", "-o"]).arg(&binary);
    for source in sources {
        compile.arg(fixture(source));
    }
    let built = run_command(&mut compile);
    assert_eq!(
        built.status, 0,
        "native gcc build failed:\n{}",
        built.stderr
    );
    run_command(&mut Command::new(&binary))
}

/// Asserts that a unikernel run and a native run of one fixture agree exactly.
pub fn assert_same_as_native(unikernel: &Outcome, native: &Outcome, what: &str) {
    assert_eq!(
        unikernel.status, native.status,
        "{what}: exit status differs (unikernel stderr:\n{})",
        unikernel.stderr
    );
    if unikernel.stdout != native.stdout {
        let first_difference = unikernel
            .stdout
            .lines()
            .zip(native.stdout.lines())
            .enumerate()
            .find(|(_, (ours, theirs))| ours != theirs);
        panic!(
            "{what}: stdout differs from the native run; first differing line: {first_difference:?}\n\
             unikernel: {} lines, native: {} lines\nunikernel stderr:\n{}",
            unikernel.stdout.lines().count(),
            native.stdout.lines().count(),
            unikernel.stderr
        );
    }
}

/// Copies `from` over `to` (files replace files, directories merge), keeping links
/// and modes: what unpacking an initramfs over an existing root does.
pub fn copy_tree_over(from: &Path, to: &Path) {
    let fail = |what: &str, path: &Path, error: std::io::Error| -> ! {
        panic!("copy_tree_over: {what} {}: {error}", path.display())
    };
    std::fs::create_dir_all(to).unwrap_or_else(|error| fail("create", to, error));
    let permissions = std::fs::metadata(from)
        .unwrap_or_else(|error| fail("stat", from, error))
        .permissions();
    std::fs::set_permissions(to, permissions).unwrap_or_else(|error| fail("chmod", to, error));
    let entries = std::fs::read_dir(from).unwrap_or_else(|error| fail("list", from, error));
    for entry in entries {
        let entry = entry.unwrap_or_else(|error| fail("list", from, error));
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .unwrap_or_else(|error| fail("stat", &source, error));
        if kind.is_dir() {
            copy_tree_over(&source, &target);
            continue;
        }
        if target.symlink_metadata().is_ok() {
            std::fs::remove_file(&target).unwrap_or_else(|error| fail("remove", &target, error));
        }
        let copied = if kind.is_symlink() {
            std::fs::read_link(&source).and_then(|link| std::os::unix::fs::symlink(link, &target))
        } else {
            std::fs::copy(&source, &target).map(|_| ())
        };
        copied.unwrap_or_else(|error| fail("copy", &source, error));
    }
}

/// A pseudo-random file (xorshift, fixed seed): binary content with every byte value.
pub fn random_bytes(length: usize, mut state: u64) -> Vec<u8> {
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Boots an image of `c/exit_status.c` (`mode status` as arguments) for each case and
/// compares output and status with the native run; `what` names the boot in failures.
pub fn assert_exit_statuses_match_native(
    image: &Path,
    run_options: &[&str],
    cases: &[(&str, i32)],
    what: &str,
    dir: &Path,
) {
    for &(mode, status) in cases {
        let status_text = status.to_string();
        let arguments = [mode, status_text.as_str()];
        let outcome = boot(image, run_options, &arguments);
        let reference = native(&["c/exit_status.c"], &arguments, dir);
        assert_eq!(
            outcome.status, status,
            "{what} {mode} {status}: {outcome:?}"
        );
        assert_same_as_native(&outcome, &reference, &format!("{what} {mode} {status}"));
    }
}

/// Arguments with blanks, quotes, an empty one and a `--` for `c/args.c`.
pub const AWKWARD_ARGUMENTS: [&str; 6] =
    ["plain", "two words", "", "double\"quote", "--", "tab\there"];

/// Boots an image of `c/args.c` with [`AWKWARD_ARGUMENTS`] and compares it with the
/// native run.
pub fn assert_arguments_match_native(image: &Path, run_options: &[&str], what: &str, dir: &Path) {
    let outcome = boot(image, run_options, &AWKWARD_ARGUMENTS);
    let reference = native(&["c/args.c"], &AWKWARD_ARGUMENTS, dir);
    assert_same_as_native(&outcome, &reference, what);
}

/// Boots an image of `c/env.c` with `--env GREETING=hi there`: the variable is set,
/// another is not.
pub fn assert_environment_reaches_getenv(image: &Path, run_options: &[&str]) {
    let mut options = run_options.to_vec();
    options.extend(["--env", "GREETING=hi there"]);
    let outcome = boot(image, &options, &["GREETING", "MISSING"]);
    assert_eq!(
        outcome.stdout, "GREETING=hi there\nMISSING=(unset)\n",
        "{outcome:?}"
    );
    assert_eq!(outcome.status, 0);
}

/// A host TCP port nobody listens on right now (bound to port 0, then released).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// One HTTP/1.1 request on a kept-alive connection: the status line and the body
/// (read by its Content-Length, whatever the header's case).
pub fn http_get(stream: &mut std::net::TcpStream, path: &str) -> (String, Vec<u8>) {
    use std::io::{BufRead, Read, Write};
    write!(stream, "GET {path} HTTP/1.1\r\nHost: unik\r\n\r\n").expect("request sent");
    let mut reader = std::io::BufReader::new(stream.try_clone().expect("a second handle"));
    let mut status = String::new();
    reader.read_line(&mut status).expect("status line");
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).expect("header line");
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    (status.trim_end().to_string(), body)
}

/// Links each fixture for the default target with `unikcc -v` and asserts whether
/// `component` is among the components it reports (`unikcc: components: …`): a
/// component must be linked exactly when the program uses it.
pub fn assert_linked_only_when_used(component: &str, cases: &[(&str, bool)]) {
    let dir = scratch();
    for &(fixture_name, expected) in cases {
        let outcome = run_command(
            unikcc()
                .arg("-v")
                .arg(fixture(fixture_name))
                .arg("-o")
                .arg(dir.path().join("image")),
        );
        assert_eq!(outcome.status, 0, "{outcome:?}");
        let components = outcome
            .stderr
            .lines()
            .find(|line| line.starts_with("unikcc: components: "))
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            components.split(' ').any(|name| name == component),
            expected,
            "{fixture_name}: {components}"
        );
    }
}

/// The functions `unik explain`'s output (`explained`) says the `stand-ins` component
/// answers for (`stand-ins <- stand-ins for a, b, c (…)`; none without that line).
pub fn stand_in_names(explained: &str) -> Vec<String> {
    explained
        .lines()
        .find_map(|line| line.strip_prefix("stand-ins"))
        .and_then(|line| line.split_once("<- stand-ins for "))
        .map(|(_, names)| names.split(" (").next().unwrap_or_default())
        .map(|names| names.split(", ").map(str::to_string).collect())
        .unwrap_or_default()
}
