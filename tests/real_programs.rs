//! Real, widely used C programs built with their own, unchanged build systems and
//! `CC=<target>-unik-cc`, booted, and compared with the same sources built by the
//! host's gcc. The sources come from Debian source packages at test time
//! (`apt-get source`; `.ci/install` adds the deb-src line and dpkg-dev) and are
//! never committed. When a source cannot be fetched the test prints
//! `skipped: …` and returns.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Fetches and unpacks a Debian source package once per build directory; returns
/// the unpacked tree, or why it could not.
fn debian_source(package: &str, directory_prefix: &str) -> Result<PathBuf, String> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("debian-sources")
        .join(package);
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&cache)
            .ok()?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .find(|path| {
                path.is_dir()
                    && path
                        .file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with(directory_prefix))
            })
    };
    if let Some(tree) = find() {
        return Ok(tree);
    }
    // Unpack beside, then move into place: a half-fetched tree is never reused.
    let partial = cache.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|error| error.to_string())?;
    let fetched = Command::new("apt-get")
        .args(["source", "-q", package])
        .current_dir(&partial)
        .output()
        .map_err(|error| format!("cannot run apt-get: {error}"))?;
    if !fetched.status.success() {
        return Err(format!(
            "`apt-get source {package}` failed (a deb-src line and dpkg-dev are needed: bash .ci/install): {}",
            String::from_utf8_lossy(&fetched.stderr).trim()
        ));
    }
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::rename(&partial, &cache).map_err(|error| error.to_string())?;
    find().ok_or_else(|| {
        format!("`apt-get source {package}` unpacked no {directory_prefix}* directory")
    })
}

/// A fresh copy of a source tree to build in.
fn copy_tree(source: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).expect("a directory");
    let status = Command::new("cp")
        .arg("-r")
        .arg(source)
        .arg(into)
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp -r {source:?}");
    into.join(source.file_name().expect("a directory name"))
}

fn run_in(
    directory: &Path,
    program: &str,
    arguments: &[&str],
    environment: &[(&str, String)],
) -> Outcome {
    let mut command = Command::new(program);
    command.args(arguments).current_dir(directory);
    for (key, value) in environment {
        command.env(key, value);
    }
    run_command(&mut command)
}

fn assert_succeeded(outcome: &Outcome, what: &str) {
    assert_eq!(
        outcome.status, 0,
        "{what} failed:\n{}\n{}",
        outcome.stdout, outcome.stderr
    );
}

/// `unik install-links` into `directory`; returns a function naming a tool.
fn tool_links(directory: &Path) -> impl Fn(&str, &str) -> String + use<> {
    let outcome = run_command(unik().arg("install-links").arg(directory));
    assert_succeeded(&outcome, "unik install-links");
    let directory = directory.to_path_buf();
    move |target, tool| {
        directory
            .join(format!("{target}-unik-{tool}"))
            .display()
            .to_string()
    }
}

/// zlib (Debian's `zlib`): its own `./configure` (which probes the compiler,
/// finds no shared library support and builds the static library) and Makefile,
/// then its `example` program: compress/uncompress, gzip files written and read
/// back through the RAM file system, inflate/deflate streams, dictionaries.
#[test]
fn zlib_configure_make_and_example() {
    let source = match debian_source("zlib", "zlib-") {
        Ok(source) => source,
        Err(reason) => {
            println!("skipped: zlib: {reason}");
            return;
        }
    };
    let dir = scratch();
    let tool = tool_links(&dir.path().join("bin"));

    let native_tree = copy_tree(&source, &dir.path().join("native"));
    let native_environment = [("CC", "gcc".to_string())];
    assert_succeeded(
        &run_in(
            &native_tree,
            "./configure",
            &["--static"],
            &native_environment,
        ),
        "native ./configure",
    );
    assert_succeeded(
        &run_in(&native_tree, "make", &["example"], &native_environment),
        "native make",
    );
    let native = run_command(Command::new(native_tree.join("example")).current_dir(&native_tree));
    assert_succeeded(&native, "native example");
    assert!(
        native
            .stdout
            .contains("inflate with dictionary: hello, hello!")
    );

    for target in targets() {
        let tree = copy_tree(&source, &dir.path().join(target));
        // As a user would run it: no --static; configure finds out by itself.
        let environment = [("CC", tool(target, "cc")), ("AR", tool(target, "ar"))];
        let configured = run_in(&tree, "./configure", &[], &environment);
        assert_succeeded(&configured, &format!("./configure on {target}"));
        assert!(
            configured.stdout.contains("Building static library libz.a"),
            "{}",
            configured.stdout
        );
        assert_succeeded(
            &run_in(&tree, "make", &["example", "minigzip"], &environment),
            &format!("make on {target}"),
        );
        let outcome = boot(&tree.join("example"), &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("zlib example on {target}"));
    }
}
