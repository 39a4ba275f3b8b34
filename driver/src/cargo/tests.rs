//! Host tests of `cargo unik`'s argument handling and of the link line it reads.

use super::*;

fn words(text: &[&str]) -> Vec<OsString> {
    text.iter().map(OsString::from).collect()
}

#[test]
fn subcommand_splits_its_own_options_from_cargos() {
    let invocation = Invocation::parse(&words(&[
        "unik",
        "run",
        "--release",
        "--target",
        "aarch64",
        "--env=A=1",
        "-p",
        "app",
        "--timeout",
        "30",
        "--initrd=tree.cpio",
        "--rng",
        "--",
        "x",
        "--release",
    ]))
    .unwrap()
    .unwrap();
    assert!(invocation.run);
    assert_eq!(invocation.target, "aarch64");
    assert_eq!(
        invocation.cargo_arguments,
        words(&["--release", "-p", "app"])
    );
    assert_eq!(invocation.program_arguments, words(&["x", "--release"]));
    assert_eq!(invocation.environment, words(&["A=1"]));
    assert_eq!(invocation.timeout, Some(Duration::from_secs(30)));
    assert_eq!(invocation.initrd, Some(PathBuf::from("tree.cpio")));
    assert!(invocation.rng);
    // Only `run` boots: for `build`, --initrd and --rng are cargo's (which refuses them).
    let build = Invocation::parse(&words(&["unik", "build", "--initrd", "x", "--rng"]))
        .unwrap()
        .unwrap();
    assert_eq!(build.initrd, None);
    assert!(!build.rng);
    assert_eq!(build.cargo_arguments, words(&["--initrd", "x", "--rng"]));
}

#[test]
fn build_takes_no_program_arguments_and_help_is_help() {
    let error = Invocation::parse(&words(&["unik", "build", "--", "x"])).unwrap_err();
    assert!(error.to_string().contains("cargo unik run"), "{error}");
    assert_eq!(Invocation::parse(&words(&["unik"])).unwrap(), None);
    assert_eq!(
        Invocation::parse(&words(&["unik", "--help"])).unwrap(),
        None
    );
    let error = Invocation::parse(&words(&["unik", "test"])).unwrap_err();
    assert!(
        error.to_string().contains("unknown command `test`"),
        "{error}"
    );
    let error = Invocation::parse(&words(&["unik", "run", "--timeout", "-1"])).unwrap_err();
    assert!(error.to_string().contains("--timeout `-1`"), "{error}");
}

#[test]
fn linker_variable_follows_cargos_spelling() {
    assert_eq!(
        linker_variable("x86_64-unknown-linux-gnu"),
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER"
    );
}

#[test]
fn rustc_link_line_keeps_inputs_in_order_and_drops_dynamic_options() {
    let directory = tempfile::tempdir().unwrap();
    let archive = directory.path().join("libextra.a");
    std::fs::write(&archive, b"!<arch>\n").unwrap();
    let search = directory.path().to_string_lossy().into_owned();
    let parsed = LinkArguments::parse(&words(&[
        "-m64",
        "/t/symbols.o",
        "/t/main.o",
        "-Wl,--as-needed",
        "-Wl,-Bstatic",
        "/r/libstd.rlib",
        "-lextra",
        "-lc",
        "-lgcc_eh",
        "-L",
        &search,
        "-Wl,--whole-archive",
        "-Wl,-z,relro,-z,now,-z,keep-text-section-prefix",
        "-fuse-ld=lld",
        "-o",
        "/t/app",
        "-Wl,--strip-debug",
        "-static",
        "-no-pie",
        "-nodefaultlibs",
        "--unik-link-target=x86_64",
        "--unik-sysroot-stamp=0123abcd",
    ]))
    .unwrap();
    assert_eq!(parsed.target, "x86_64");
    assert_eq!(parsed.output, Some(PathBuf::from("/t/app")));
    assert_eq!(
        parsed.items,
        vec![
            LinkItem::Input("/t/symbols.o".into()),
            LinkItem::Input("/t/main.o".into()),
            LinkItem::Input("/r/libstd.rlib".into()),
            LinkItem::Input(archive),
            LinkItem::Option("--whole-archive".into()),
            LinkItem::Option("-z".into()),
            LinkItem::Option("keep-text-section-prefix".into()),
            LinkItem::Option("--strip-debug".into()),
        ]
    );
}

#[test]
fn position_independent_links_are_accepted_and_shared_ones_refused() {
    // Every image is a static PIE: rustc's -static-pie / -pie change nothing.
    for flag in ["-pie", "-static-pie", "-Wl,-pie"] {
        let parsed = LinkArguments::parse(&words(&["a.o", flag])).unwrap();
        assert_eq!(parsed.items, vec![LinkItem::Input("a.o".into())], "{flag}");
    }
    let error = LinkArguments::parse(&words(&["a.o", "-shared"])).unwrap_err();
    assert!(error.to_string().contains("shared libraries"), "{error}");
    let error =
        LinkArguments::parse(&words(&["a.o", "-lnothere", "-L", "/nonexistent"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot find -lnothere (looked for libnothere.a in /nonexistent; unik links static archives only)"
    );
}

#[test]
fn response_files_are_expanded_with_their_escapes() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("linker-arguments");
    std::fs::write(&file, "-m64\n/a dir/x.o\n/with\\\\backslash\n").unwrap();
    let argument = format!("@{}", file.display());
    let expanded = expand_response_files(&words(&["-o", "out", &argument])).unwrap();
    assert_eq!(
        expanded,
        words(&["-o", "out", "-m64", "/a dir/x.o", "/with\\backslash"])
    );
}

#[test]
fn cargo_messages_name_the_executables() {
    let line = r#"{"reason":"compiler-artifact","target":{"kind":["bin"]},"executable":"/t/x86_64-unknown-linux-gnu/debug/hello"}"#;
    assert_eq!(
        executable_of(line),
        Some(PathBuf::from("/t/x86_64-unknown-linux-gnu/debug/hello"))
    );
    let library = r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"executable":null}"#;
    assert_eq!(executable_of(library), None);
    assert_eq!(
        executable_of(r#"{"reason":"build-finished","success":true}"#),
        None
    );
    assert_eq!(executable_of("not json"), None);
}
