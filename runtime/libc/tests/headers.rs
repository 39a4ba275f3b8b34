//! Host checks of the sysroot's C headers (`sysroot/include`):
//! - every header compiles alone (and twice) with clang for x86_64 and aarch64 and with
//!   the host gcc, in C99, C11, C17 with POSIX, GNU C and C++, warnings as errors;
//! - the types, constants and layouts they declare equal the host glibc's
//!   (`header_types.c`, built once against glibc and once against the sysroot).
//!
//! A compiler that is not installed is skipped with a note, so the checks run wherever
//! the toolchain is partial; CI has all of them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn include_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sysroot/include")
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn headers() -> Vec<String> {
    let root = include_directory();
    let mut found = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("sysroot/include is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "h") {
                found.push(
                    path.strip_prefix(&root)
                        .expect("below the root")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    found.sort();
    found
}

/// Compiles `source` (from stdin) with the sysroot headers; returns the diagnostics on failure.
fn compile(compiler: &[&str], mode: &[&str], source: &str) -> Result<(), String> {
    let mut command = Command::new(compiler[0]);
    command
        .args(&compiler[1..])
        .args(["-fsyntax-only", "-nostdinc", "-isystem"])
        .arg(include_directory())
        .args(["-D__unik__=1", "-Wall", "-Wextra", "-pedantic", "-Werror"])
        .args(mode)
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|error| error.to_string())?;
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(source.as_bytes())
        .map_err(|error| error.to_string())?;
    let output = child
        .wait_with_output()
        .map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_header_compiles_alone_in_every_mode() {
    let compilers: [&[&str]; 3] = [
        &["clang-19", "--target=x86_64-unknown-linux-gnu"],
        &["clang-19", "--target=aarch64-unknown-linux-gnu"],
        &["gcc"],
    ];
    let modes: [&[&str]; 6] = [
        &["-x", "c", "-std=c99"],
        &["-x", "c", "-std=c11"],
        &["-x", "c", "-std=c17", "-D_POSIX_C_SOURCE=200809L"],
        &["-x", "c", "-std=gnu11", "-D_GNU_SOURCE"],
        &["-x", "c++", "-std=c++17"],
        &["-x", "c++", "-std=gnu++11", "-D_GNU_SOURCE"],
    ];
    let mut failures = Vec::new();
    for compiler in compilers {
        if !available(compiler[0]) {
            eprintln!("note: {} not installed, skipped", compiler[0]);
            continue;
        }
        for header in headers() {
            // Twice: include guards (assert.h is meant to be re-read).
            let source =
                format!("#include <{header}>\n#include <{header}>\nint unik_header_check;\n");
            for mode in modes {
                if let Err(diagnostics) = compile(compiler, mode, &source) {
                    failures.push(format!(
                        "{header} [{} {}]:\n{diagnostics}",
                        compiler.join(" "),
                        mode.join(" ")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_listed_header_exists() {
    let present = headers();
    for required in [
        "assert.h",
        "ctype.h",
        "errno.h",
        "float.h",
        "inttypes.h",
        "iso646.h",
        "limits.h",
        "locale.h",
        "stdalign.h",
        "stdarg.h",
        "stdbool.h",
        "stddef.h",
        "stdint.h",
        "stdio.h",
        "stdlib.h",
        "stdnoreturn.h",
        "string.h",
        "strings.h",
        "unistd.h",
        "sys/types.h",
        "features.h",
    ] {
        assert!(
            present.iter().any(|header| header == required),
            "missing {required}"
        );
    }
}

/// Builds and runs `header_types.c` with `compiler` and `include` (None: the host glibc).
fn type_report(compiler: &str, sysroot: bool) -> Option<String> {
    let directory = std::env::temp_dir().join(format!(
        "unik-header-types-{}-{compiler}-{sysroot}",
        std::process::id()
    ));
    std::fs::create_dir_all(&directory).ok()?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/header_types.c");
    let executable = directory.join("types");
    let preprocessed = directory.join("types.i");
    // The sysroot headers are preprocessed alone, then the result is linked against the
    // host C library (only printf is used): the types under test come from the sysroot.
    let built = if sysroot {
        Command::new(compiler)
            .args(["-std=gnu11", "-E", "-nostdinc", "-isystem"])
            .arg(include_directory())
            .arg(&source)
            .arg("-o")
            .arg(&preprocessed)
            .status()
            .ok()?
            .success()
            && Command::new(compiler)
                .args(["-std=gnu11", "-w"])
                .arg(&preprocessed)
                .arg("-o")
                .arg(&executable)
                .status()
                .ok()?
                .success()
    } else {
        Command::new(compiler)
            .args(["-std=gnu11", "-w"])
            .arg(&source)
            .arg("-o")
            .arg(&executable)
            .status()
            .ok()?
            .success()
    };
    assert!(
        built,
        "{compiler} could not build header_types.c (sysroot: {sysroot})"
    );
    let output = Command::new(&executable).output().ok()?;
    let _ = std::fs::remove_dir_all(&directory);
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn types_and_constants_equal_the_host_glibc() {
    if !cfg!(all(
        target_arch = "x86_64",
        target_os = "linux",
        target_env = "gnu"
    )) || !available("gcc")
    {
        eprintln!("note: needs an x86_64 glibc host with gcc; skipped");
        return;
    }
    let glibc = type_report("gcc", false).expect("gcc builds against glibc");
    for compiler in ["gcc", "clang-19"] {
        if !available(compiler) {
            continue;
        }
        let ours = type_report(compiler, true).expect("builds against the sysroot");
        assert_eq!(
            ours, glibc,
            "{compiler}: sysroot headers differ from glibc's"
        );
    }
}
