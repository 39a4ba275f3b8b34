//! Files end to end: the RAM file system against Linux (the same fixture natively in a
//! temporary directory), the tree `unikcc --fs` embeds walked and checksummed against
//! the host's own walk of that directory, a 64 MiB file written and read back, `--fs`
//! errors, and the files component staying out of images that use no files.
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn ram_file_system_operations_and_errors_match_linux() {
    let dir = scratch();
    let native_root = dir.path().join("native-root");
    std::fs::create_dir(&native_root).unwrap();
    let native = native(
        &["c/files_ramfs.c"],
        &[native_root.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(native.status, 0, "native run failed: {}", native.stderr);
    // The fixture removes what it created.
    assert_eq!(std::fs::read_dir(&native_root).unwrap().count(), 0);
    for target in targets() {
        let image = build_image(target, &["c/files_ramfs.c"], &[], dir.path());
        let outcome = boot(&image, &[], &["/work"]);
        assert_same_as_native(&outcome, &native, &format!("files_ramfs on {target}"));
    }
}

/// statx(2) through `syscall()` (Rust std's way to `fs::metadata`): the same fields as
/// stat and Linux's errors, including the EFAULT of std's NULL-path probe.
#[test]
fn statx_through_syscall_matches_linux() {
    let dir = scratch();
    let native_root = dir.path().join("native-statx");
    let native = native(
        &["c/files_statx.c"],
        &[native_root.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(native.status, 0, "native run failed: {}", native.stderr);
    assert!(
        native.stdout.contains("std's probe: -1 EFAULT"),
        "{}",
        native.stdout
    );
    for target in targets() {
        let image = build_image(target, &["c/files_statx.c"], &[], dir.path());
        let outcome = boot(&image, &[], &["/statx"]);
        assert_same_as_native(&outcome, &native, &format!("files_statx on {target}"));
    }
}

/// FNV-1a 64, as `files_tree.c` computes it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn embedded_tree_matches_the_host_checksums() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    // The fixture tree plus a binary file and modes git does not keep.
    let tree = dir.path().join("tree");
    copy_tree_over(&fixture("fs/tree"), &tree);
    let binary = random_bytes(300_001, 0x9e3779b97f4a7c15);
    std::fs::write(tree.join("www/static/blob.bin"), &binary).unwrap();
    std::fs::write(tree.join("secret"), b"owner only\n").unwrap();
    std::fs::set_permissions(tree.join("secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(tree.join("etc/app"), std::fs::Permissions::from_mode(0o750)).unwrap();
    // The checkout's umask decides the other modes; the differential check covers them.
    std::fs::set_permissions(
        tree.join("empty/.keep"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::os::unix::fs::symlink("missing", tree.join("dangling")).unwrap();

    let tree_text = tree.to_str().unwrap();
    let images: Vec<_> = targets()
        .into_iter()
        .map(|target| {
            let image = build_image(
                target,
                &["c/files_tree.c"],
                &["--fs", tree_text],
                dir.path(),
            );
            (target, image)
        })
        .collect();
    // Natively last: the run appends to one of the files.
    let native = native(&["c/files_tree.c"], &[tree_text, "readme.txt"], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    let blob_line = format!(
        "file {:<32} 0644 {:>8} {:016x}",
        "www/static/blob.bin",
        binary.len(),
        fnv1a(&binary)
    );
    assert!(native.stdout.contains(&blob_line), "{}", native.stdout);
    for line in [
        format!("dir  {:<32} 0750", "etc/app"),
        format!("file {:<32} 0600", "secret"),
        format!("link {:<32} -> app/app.toml (resolves)", "etc/config"),
        format!("link {:<32} -> missing (dangling)", "dangling"),
        format!("file {:<32} 0644", "empty/.keep"),
    ] {
        assert!(native.stdout.contains(&line), "{line}\n{}", native.stdout);
    }
    for (target, image) in images {
        let outcome = boot(&image, &[], &["/", "readme.txt"]);
        assert_same_as_native(&outcome, &native, &format!("files_tree on {target}"));
    }
}

#[test]
fn a_64_mib_file_is_written_and_read_back_intact() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/files_big.c"], &[], dir.path());
        // 64 MiB of file plus the vector's growth: give the guest room.
        let outcome = boot(&image, &["-m", "512M"], &["64", "64", "/"]);
        assert_eq!(outcome.status, 0, "{target}: {outcome:?}");
        assert_eq!(
            outcome.stdout,
            "ok: 64 MiB written and read back intact (read, fread: 67108864 bytes)\n",
            "{target}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn running_out_of_ram_is_enospc_not_a_crash() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/files_big.c"], &[], dir.path());
        // 64 MiB cannot fit in a 64 MiB guest: write(2) fails cleanly.
        let outcome = boot(&image, &["-m", "64M"], &["64", "64", "/"]);
        assert_eq!(outcome.status, 1, "{target}: {outcome:?}");
        assert!(
            outcome.stderr.contains("write: No space left on device"),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn fs_errors_name_the_directory() {
    let dir = scratch();
    let missing = dir.path().join("missing");
    let outcome = run_command(
        unikcc()
            .arg("--fs")
            .arg(&missing)
            .arg(fixture("c/hello.c"))
            .arg("-o")
            .arg(dir.path().join("hello.img")),
    );
    assert_eq!(outcome.status, 1, "{outcome:?}");
    assert!(
        outcome.stderr.contains(&format!(
            "--fs: cannot read {}: No such file or directory",
            missing.display()
        )),
        "{}",
        outcome.stderr
    );
    let file = fixture("c/hello.c");
    let outcome = run_command(
        unikcc()
            .arg(format!("--fs={}", file.display()))
            .arg(&file)
            .arg("-o")
            .arg(dir.path().join("hello.img")),
    );
    assert_eq!(outcome.status, 1, "{outcome:?}");
    assert!(
        outcome.stderr.contains(&format!(
            "--fs: {}: is not a directory (--fs takes the directory to embed)",
            file.display()
        )),
        "{}",
        outcome.stderr
    );
}

#[test]
fn the_files_component_is_linked_only_when_used() {
    assert_linked_only_when_used(
        "files",
        &[
            ("c/hello.c", false),
            ("c/console_vectored.c", false),
            ("c/files_ramfs.c", true),
        ],
    );
}

/// writev/readv on the console descriptors are the console component's (Rust std
/// writes stderr with writev): without files they behave as on Linux (files_ramfs
/// covers them on files).
#[test]
fn vectored_console_writes_match_linux_without_files() {
    let dir = scratch();
    let native = native(&["c/console_vectored.c"], &[], dir.path());
    assert_eq!(native.status, 0, "native run failed: {}", native.stderr);
    for target in targets() {
        let image = build_image(target, &["c/console_vectored.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("console_vectored on {target}"));
        assert!(
            outcome.stderr.contains("hello\n"),
            "{target}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn scanf_conversions_match_glibc() {
    let dir = scratch();
    let native = native(&["c/files_scanf.c"], &[], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    for target in targets() {
        let image = build_image(target, &["c/files_scanf.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("files_scanf on {target}"));
    }
}

#[test]
fn a_pipe_carries_a_mebibyte_between_two_threads() {
    let dir = scratch();
    let native = native_threaded(&["c/files_pipe.c"], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert!(
        native
            .stdout
            .starts_with("received 1048576 bytes, intact, producer 0, last read 0\n")
    );
    for target in threaded_targets() {
        let image = build_image(target, &["c/files_pipe.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("files_pipe on {target}"));
    }
}

#[test]
fn closing_a_pipe_end_wakes_the_thread_blocked_on_the_other() {
    // Before the fix, a close (or dup2) that dropped the last write end bumped the
    // readiness generation without waking: a reader already blocked slept for good
    // ("unik: deadlock"), which files_pipe.c hit when its producer was preempted
    // between its last write and its close.
    let dir = scratch();
    let native = native_threaded(&["c/files_pipe_close_wakes.c"], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert!(
        native
            .stdout
            .contains("pipe, writer closed: read 0 Success\n"),
        "{}",
        native.stdout
    );
    for target in threaded_targets() {
        let image = build_image(target, &["c/files_pipe_close_wakes.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(
            &outcome,
            &native,
            &format!("files_pipe_close_wakes on {target}"),
        );
    }
}

/// Builds the Rust `std::fs` fixture (fixtures/rust/files) with `cargo unik build --fs
/// fixtures/fs/tree` for `target`; returns the image.
fn build_rust_files(target: &str) -> std::path::PathBuf {
    let target_directory = repository().join("target").join("files-rust");
    let manifest = fixture("rust/files/Cargo.toml");
    let outcome = run_command(
        std::process::Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
            .args(["unik", "build", "--locked", "--release", "--target", target])
            .arg("--fs")
            .arg(fixture("fs/tree"))
            .arg("--manifest-path")
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(
        outcome.status, 0,
        "cargo unik build on {target}:\n{}",
        outcome.stderr
    );
    target_directory
        .join(format!("{target}-unknown-linux-gnu"))
        .join("release")
        .join("files")
}

#[test]
fn rust_std_fs_works_unmodified() {
    let dir = scratch();
    let target_directory = repository()
        .join("target")
        .join("files-rust")
        .join("native");
    let built = run_command(
        std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--locked",
                "--release",
                "--quiet",
                "--manifest-path",
            ])
            .arg(fixture("rust/files/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(built.status, 0, "native build:\n{}", built.stderr);
    let root = dir.path().join("root");
    let native = run_command(
        std::process::Command::new(target_directory.join("release").join("files"))
            .arg(&root)
            .arg(fixture("fs/tree/etc/app/app.toml")),
    );
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert!(
        native
            .stdout
            .contains("open missing: NotFound (os error 2)"),
        "{}",
        native.stdout
    );
    for target in targets() {
        let image = build_rust_files(target);
        let outcome = boot(&image, &[], &["/work", "/etc/app/app.toml"]);
        assert_same_as_native(&outcome, &native, &format!("std::fs on {target}"));
        // A program that uses std::fs gets the file system, and files' functions are
        // its own, not stand-ins (std's start-up poll, readiness's, stays one:
        // link/liveness.rs).
        let explained = run_command(unik().arg("explain").arg(&image));
        assert_eq!(explained.status, 0, "{}", explained.stderr);
        assert!(
            explained
                .stdout
                .lines()
                .any(|line| line.starts_with("files ")),
            "{target}:\n{}",
            explained.stdout
        );
        let stand_ins = stand_in_names(&explained.stdout);
        for own in ["open64", "fcntl", "close", "getcwd"] {
            assert!(
                !stand_ins.iter().any(|name| name == own),
                "{target}: {own} is a stand-in:\n{}",
                explained.stdout
            );
        }
    }
}
