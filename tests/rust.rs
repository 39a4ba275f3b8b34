//! Rust std programs built with `cargo unik` and booted (issue: Rust std programs on
//! stable Rust). The fixtures under `fixtures/rust/` are ordinary cargo projects;
//! where a program is deterministic its unikernel run must equal a plain `cargo
//! build` of the same program run on the host. Each program is also built with
//! `panic = "abort"` (the fixtures' `abort` profile) where that makes sense.
//!
//! The images are built into `target/rust-fixtures` (kept between runs, so only the
//! first run compiles std programs from scratch); the crates.io fixture fetches its
//! locked dependencies on first use.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Outcome, assert_same_as_native, boot, repository, run_command};

fn cargo_unik() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
}

fn fixture_manifest(project: &str) -> PathBuf {
    repository()
        .join("fixtures")
        .join("rust")
        .join(project)
        .join("Cargo.toml")
}

fn target_directory() -> PathBuf {
    repository().join("target").join("rust-fixtures")
}

/// The triple cargo builds a unik target for.
fn triple(target: &str) -> String {
    format!("{target}-unknown-linux-gnu")
}

/// Builds every binary of a fixture project for `target` with `profile` and returns
/// the directory holding the images.
fn build(project: &str, target: &str, profile: &str) -> PathBuf {
    let outcome = run_command(
        cargo_unik()
            .args(["unik", "build", "--locked", "--target", target])
            .args(["--profile", profile])
            .arg("--manifest-path")
            .arg(fixture_manifest(project))
            .env("CARGO_TARGET_DIR", target_directory()),
    );
    assert_eq!(
        outcome.status, 0,
        "cargo unik build of {project} ({profile}) failed on {target}:\n{}",
        outcome.stderr
    );
    let directory = target_directory().join(triple(target)).join(profile);
    assert!(
        outcome
            .stderr
            .contains(&format!("cargo-unik: image: {}", directory.display())),
        "cargo unik build did not say where the image is:\n{}",
        outcome.stderr
    );
    directory
}

/// Runs a fixture's binary natively (plain cargo, the host's glibc).
fn native(
    project: &str,
    binary: &str,
    arguments: &[&str],
    environment: &[(&str, &str)],
) -> Outcome {
    let outcome = run_command(
        Command::new(env!("CARGO"))
            .args(["build", "--locked", "--release", "--quiet"])
            .arg("--manifest-path")
            .arg(fixture_manifest(project))
            .env("CARGO_TARGET_DIR", target_directory().join("native")),
    );
    assert_eq!(
        outcome.status, 0,
        "native build of {project}:\n{}",
        outcome.stderr
    );
    let image = target_directory()
        .join("native")
        .join("release")
        .join(binary);
    run_command(
        Command::new(image)
            .args(arguments)
            .envs(environment.iter().copied()),
    )
}

fn image(directory: &Path, binary: &str) -> PathBuf {
    directory.join(binary)
}

const PROFILES: [&str; 2] = ["release", "abort"];

#[test]
fn hello_prints_like_native() {
    let reference = native("std-programs", "hello", &[], &[]);
    for target in common::targets() {
        for profile in PROFILES {
            let directory = build("std-programs", target, profile);
            let outcome = boot(&image(&directory, "hello"), &[], &[]);
            assert_same_as_native(&outcome, &reference, &format!("hello {target} {profile}"));
        }
    }
}

#[test]
fn arguments_and_environment_reach_std() {
    let arguments = ["first", "two words", "--flag"];
    let reference = native(
        "std-programs",
        "args_env",
        &arguments,
        &[("GREETING", "hello there")],
    );
    assert!(
        reference.stdout.contains("arg 1: two words"),
        "{}",
        reference.stdout
    );
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        let outcome = boot(
            &image(&directory, "args_env"),
            &["--env", "GREETING=hello there"],
            &arguments,
        );
        assert_same_as_native(&outcome, &reference, &format!("args_env {target}"));
    }
}

#[test]
fn collections_work_like_native() {
    let reference = native("std-programs", "collections", &[], &[]);
    assert!(
        reference.stdout.contains("checksum: "),
        "{}",
        reference.stdout
    );
    for target in common::targets() {
        for profile in PROFILES {
            let directory = build("std-programs", target, profile);
            let outcome = boot(&image(&directory, "collections"), &[], &[]);
            assert_same_as_native(
                &outcome,
                &reference,
                &format!("collections {target} {profile}"),
            );
        }
    }
}

#[test]
fn threads_channels_locks_and_scopes_work_like_native() {
    let reference = native("std-programs", "threads", &[], &[]);
    assert!(
        reference.stdout.contains("condvar sum 5050"),
        "{}",
        reference.stdout
    );
    for target in common::threaded_targets() {
        for profile in PROFILES {
            let directory = build("std-programs", target, profile);
            let outcome = boot(&image(&directory, "threads"), &[], &[]);
            assert_same_as_native(&outcome, &reference, &format!("threads {target} {profile}"));
        }
    }
}

#[test]
fn instant_system_time_and_sleep_behave() {
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        let outcome = boot(&image(&directory, "time"), &[], &[]);
        assert_eq!(outcome.status, 0, "time on {target}:\n{}", outcome.stderr);
        let lines: Vec<&str> = outcome.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "time on {target}:\n{}", outcome.stdout);
        for line in lines {
            assert!(line.ends_with(": true"), "time on {target}: {line}");
        }
    }
}

#[test]
fn process_exit_status_is_the_programs() {
    for target in common::targets() {
        for profile in PROFILES {
            let directory = build("std-programs", target, profile);
            let outcome = boot(&image(&directory, "exit7"), &[], &[]);
            assert_eq!(
                outcome.status, 7,
                "exit7 {target} {profile}: {}",
                outcome.stderr
            );
            assert_eq!(outcome.stdout, "exiting with 7\n");
        }
    }
}

#[test]
fn a_panic_in_main_unwinds_and_ends_with_101() {
    let reference = native("std-programs", "panic", &[], &[]);
    assert_eq!(reference.status, 101);
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        let outcome = boot(&image(&directory, "panic"), &[], &[]);
        assert_same_as_native(&outcome, &reference, &format!("panic {target}"));
        // Destructors ran while unwinding.
        assert!(outcome.stdout.contains("dropped during unwinding"));
        for expected in [
            "thread 'main' (1) panicked at src/bin/panic.rs:",
            "index 3 is out of range for 0 values",
            "note: run with `RUST_BACKTRACE=1`",
        ] {
            assert!(
                outcome.stderr.contains(expected),
                "panic {target}: `{expected}` not on stderr:\n{}",
                outcome.stderr
            );
        }
    }
}

#[test]
fn a_panic_with_panic_abort_aborts() {
    for target in common::targets() {
        let directory = build("std-programs", target, "abort");
        let outcome = boot(&image(&directory, "panic"), &[], &[]);
        // As on Linux: std's message, then abort() (SIGABRT: 134), no unwinding.
        assert_eq!(
            outcome.status, 134,
            "panic=abort {target}:\n{}",
            outcome.stderr
        );
        assert_eq!(outcome.stdout, "about to panic\n");
        assert!(
            outcome
                .stderr
                .contains("index 3 is out of range for 0 values"),
            "{}",
            outcome.stderr
        );
    }
}

#[test]
fn catch_unwind_recovers_like_native() {
    let reference = native("std-programs", "catch_unwind", &[], &[]);
    assert!(
        reference.stdout.contains("recovered: 3"),
        "{}",
        reference.stdout
    );
    for target in common::threaded_targets() {
        let directory = build("std-programs", target, "release");
        let outcome = boot(&image(&directory, "catch_unwind"), &[], &[]);
        assert_same_as_native(&outcome, &reference, &format!("catch_unwind {target}"));
    }
}

#[test]
fn crates_io_dependencies_work_like_native() {
    let reference = native("crates-io", "crates-io", &[], &[]);
    assert!(
        reference.stdout.contains("\"15/01/2025\""),
        "{}",
        reference.stdout
    );
    for target in common::targets() {
        let directory = build("crates-io", target, "release");
        let outcome = boot(&image(&directory, "crates-io"), &[], &[]);
        assert_same_as_native(&outcome, &reference, &format!("crates-io {target}"));
    }
}

#[test]
fn cargo_unik_run_boots_with_arguments_and_returns_the_status() {
    let target = common::targets()[0];
    let outcome = run_command(
        cargo_unik()
            .args(["unik", "run", "--locked", "--release", "--target", target])
            .args(["--bin", "args_env", "--env", "GREETING=from run"])
            .arg("--manifest-path")
            .arg(fixture_manifest("std-programs"))
            .args(["--", "one"])
            .env("CARGO_TARGET_DIR", target_directory()),
    );
    assert_eq!(outcome.status, 0, "{}", outcome.stderr);
    assert_eq!(
        outcome.stdout,
        "arg 0: one\nGREETING=from run\nUNSET_VARIABLE: environment variable not found\nGREETING appears 1 time(s)\n"
    );
    let outcome = run_command(
        cargo_unik()
            .args(["unik", "run", "--locked", "--release", "--target", target])
            .args(["--bin", "exit7"])
            .arg("--manifest-path")
            .arg(fixture_manifest("std-programs"))
            .env("CARGO_TARGET_DIR", target_directory()),
    );
    assert_eq!(outcome.status, 7, "{}", outcome.stderr);
    // Several binaries and no --bin: which one to run is the user's choice.
    let outcome = run_command(
        cargo_unik()
            .args(["unik", "run", "--locked", "--release", "--target", target])
            .arg("--manifest-path")
            .arg(fixture_manifest("std-programs"))
            .env("CARGO_TARGET_DIR", target_directory()),
    );
    assert_eq!(outcome.status, 1);
    assert!(
        outcome
            .stderr
            .contains("pick one with --bin NAME or --example NAME"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn explain_names_the_unwinder_and_the_rust_support() {
    let target = common::targets()[0];
    let directory = build("std-programs", target, "release");
    let outcome = run_command(
        common::unik()
            .arg("explain")
            .arg(image(&directory, "panic")),
    );
    assert_eq!(outcome.status, 0, "{}", outcome.stderr);
    for component in ["unwind ", "rust-support ", "alloc "] {
        assert!(
            outcome
                .stdout
                .lines()
                .any(|line| line.starts_with(component)),
            "`{component}` missing from:\n{}",
            outcome.stdout
        );
    }
}

/// The `backtrace::…` frames of a backtrace, in order.
fn program_frames(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| line.split_once(": backtrace::"))
        .map(|(_, name)| name.to_string())
        .collect()
}

#[test]
fn panic_backtraces_name_the_programs_functions_like_native() {
    let native_run = native("std-programs", "backtrace", &[], &[("RUST_BACKTRACE", "1")]);
    assert_eq!(native_run.status, 101, "{native_run:?}");
    assert_eq!(
        program_frames(&native_run.stderr),
        ["inner", "middle", "outer", "main"],
        "{native_run:?}"
    );
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        let outcome = boot(
            &image(&directory, "backtrace"),
            &["--env", "RUST_BACKTRACE=1"],
            &[],
        );
        assert_eq!(outcome.status, 101, "{target}: {outcome:?}");
        assert_eq!(
            program_frames(&outcome.stderr),
            program_frames(&native_run.stderr),
            "{target}:\n{}",
            outcome.stderr
        );
        // std's short form: trimmed at its markers, and its note.
        assert!(
            !outcome.stderr.contains("lang_start") && !outcome.stderr.contains("<unknown>"),
            "{target}:\n{}",
            outcome.stderr
        );
        assert!(
            outcome
                .stderr
                .contains("note: Some details are omitted, run with `RUST_BACKTRACE=full`"),
            "{target}:\n{}",
            outcome.stderr
        );
        // The full form keeps every frame, each named.
        let full = boot(
            &image(&directory, "backtrace"),
            &["--env", "RUST_BACKTRACE=full"],
            &[],
        );
        assert!(
            full.stderr.contains(" - backtrace::inner\n")
                && full.stderr.contains("lang_start")
                && !full.stderr.contains("<unknown>"),
            "{target}:\n{}",
            full.stderr
        );
    }
}

#[test]
fn hello_links_no_stub_and_every_component_has_a_reason() {
    // std refers to sockets, processes and users from code hello never reaches: the
    // link follows only live references, so nothing is stubbed.
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        let outcome = run_command(
            common::unik()
                .arg("explain")
                .arg(image(&directory, "hello")),
        );
        assert_eq!(outcome.status, 0, "{}", outcome.stderr);
        assert!(
            !outcome.stdout.contains("stub"),
            "{target}: stubs in hello:\n{}",
            outcome.stdout
        );
        for line in outcome.stdout.lines() {
            let (_, why) = line.split_once(" <- ").expect("`component <- why`");
            assert!(
                why.contains(".rlib(")
                    || why.starts_with("required by")
                    || why.starts_with("always")
                    || why.starts_with("stand-ins for "),
                "{target}: `{line}` names no reason"
            );
        }
        // std refers to file functions from its start-up's check of descriptors 0-2,
        // its backtrace printing and its in-image symbolizer only: hello gets their
        // stand-ins, not the file system (link/liveness.rs INCIDENTAL).
        for absent in ["files ", "readiness "] {
            assert!(
                !outcome.stdout.lines().any(|line| line.starts_with(absent)),
                "{target}: `{absent}` in hello:\n{}",
                outcome.stdout
            );
        }
        let stand_ins = common::stand_in_names(&outcome.stdout);
        for name in ["open64", "poll", "fcntl", "getcwd", "symbolize"] {
            assert!(
                stand_ins.iter().any(|stand_in| stand_in == name),
                "{target}: no stand-in for {name}:\n{}",
                outcome.stdout
            );
        }
    }
}

/// cargo unik links std's in-image backtrace symbolizer out (driver/src/link/symbolizer.rs:
/// it reads /proc/self/exe, which no unik image has); std's calls to it go to the
/// runtime's stand-in, and `unik run` still names every frame
/// (`panic_backtraces_name_the_programs_functions_like_native`).
#[test]
fn std_programs_carry_no_in_image_symbolizer() {
    use object::{Object, ObjectSymbol};
    for target in common::targets() {
        let directory = build("std-programs", target, "release");
        for binary in ["hello", "backtrace"] {
            let bytes = std::fs::read(image(&directory, binary)).expect("the image");
            let file = object::File::parse(bytes.as_slice()).expect("an ELF image");
            let names: Vec<&str> = file
                .symbols()
                .filter_map(|symbol| symbol.name().ok())
                .collect();
            let left: Vec<&&str> = names
                .iter()
                .filter(|name| name.contains("backtrace_rs9symbolize5gimli"))
                .collect();
            assert!(left.is_empty(), "{target} {binary}: {left:?}");
            assert!(
                names.contains(&"__unik_absent_symbolize"),
                "{target} {binary}: no stand-in"
            );
        }
    }
}

/// Builds the `unsupported` fixture's `command` (std::process::Command) for `target`.
fn build_command(target: &str, extra: &[&str]) -> Outcome {
    run_command(
        cargo_unik()
            .args(["unik", "build", "--locked", "--release", "--target", target])
            .args(extra)
            .arg("--manifest-path")
            .arg(fixture_manifest("unsupported"))
            .env("CARGO_TARGET_DIR", target_directory().join("unsupported")),
    )
}

#[test]
fn process_command_fails_the_link_unless_stubs_are_asked_for() {
    for target in common::targets() {
        let outcome = build_command(target, &[]);
        assert_ne!(outcome.status, 0, "{target}: linked without stubs");
        for expected in [
            "cargo-unik: error: undefined symbol: posix_spawnp",
            ">>> fork: ",
            "cargo-unik: note: `--stub-missing` links a stub",
        ] {
            assert!(
                outcome.stderr.contains(expected),
                "{target}: `{expected}` missing from:\n{}",
                outcome.stderr
            );
        }
        let outcome = build_command(target, &["--stub-missing"]);
        assert_eq!(outcome.status, 0, "{target}:\n{}", outcome.stderr);
        let image = target_directory()
            .join("unsupported")
            .join(triple(target))
            .join("release")
            .join("command");
        // rustc shows a linker's warnings only when it fails; `unik explain` lists them.
        let explained = run_command(common::unik().arg("explain").arg(&image));
        assert!(
            explained
                .stdout
                .lines()
                .any(|line| line.starts_with("posix_spawnp ") && line.contains("stub")),
            "{target}:\n{}",
            explained.stdout
        );
        let run = boot(&image, &[], &[]);
        assert_eq!(run.status, 0, "{target}: {run:?}");
        assert!(
            run.stdout.starts_with("spawn failed: "),
            "{target}: {run:?}"
        );
        assert!(
            run.stderr
                .contains("unik: warning: posix_spawnattr_init is not available"),
            "{target}: {run:?}"
        );
    }
}

#[test]
fn the_libc_surface_std_uses_matches_glibc() {
    let dir = common::scratch();
    let reference = common::native(&["c/rust_surface.c"], &[], dir.path());
    assert_eq!(reference.status, 0, "{}", reference.stderr);
    for target in common::targets() {
        let image = common::build_image(target, &["c/rust_surface.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &reference, &format!("rust_surface {target}"));
    }
}

/// The DWARF expressions (`DW_CFA_def_cfa_expression`, `DW_CFA_expression`,
/// `DW_CFA_val_expression`) in an image's `.eh_frame`.
fn unwind_expressions(image: &Path) -> usize {
    use gimli::{
        BaseAddresses, CallFrameInstruction, CieOrFde, EhFrame, LittleEndian, UnwindSection,
    };
    use object::{Object, ObjectSection};
    let bytes = std::fs::read(image).expect("read the image");
    let file = object::File::parse(&*bytes).expect("an ELF image");
    let Some(section) = file.section_by_name(".eh_frame") else {
        return 0;
    };
    let eh_frame = EhFrame::new(section.data().expect(".eh_frame data"), LittleEndian);
    let bases = BaseAddresses::default().set_eh_frame(section.address());
    let is_expression = |instruction: &CallFrameInstruction<usize>| {
        matches!(
            instruction,
            CallFrameInstruction::DefCfaExpression { .. }
                | CallFrameInstruction::Expression { .. }
                | CallFrameInstruction::ValExpression { .. }
        )
    };
    let mut count = 0;
    let mut entries = eh_frame.entries(&bases);
    while let Some(entry) = entries.next().expect("a well-formed .eh_frame") {
        let mut instructions = match entry {
            CieOrFde::Cie(cie) => cie.instructions(&eh_frame, &bases),
            CieOrFde::Fde(partial) => {
                let fde = partial
                    .parse(|_, bases, offset| eh_frame.cie_from_offset(bases, offset))
                    .expect("an FDE with its CIE");
                fde.instructions(&eh_frame, &bases)
            }
        };
        while let Some(instruction) = instructions.next().expect("well-formed CFI") {
            count += usize::from(is_expression(&instruction));
        }
    }
    count
}

#[test]
fn unwind_tables_need_no_dwarf_expressions() {
    // The runtime's unwinder is built without DWARF expression support (it would be
    // ~17 KiB of every Rust image; runtime/libc/Cargo.toml): a frame whose rule is an
    // expression would end a panic's unwinding. rustc and clang write none for these
    // targets; this holds them to it.
    for target in common::targets() {
        for profile in PROFILES {
            let directory = build("std-programs", target, profile);
            for binary in ["hello", "panic", "backtrace", "catch_unwind", "threads"] {
                assert_eq!(
                    unwind_expressions(&image(&directory, binary)),
                    0,
                    "{target} {profile} {binary}: DWARF expressions in .eh_frame"
                );
            }
        }
    }
}
