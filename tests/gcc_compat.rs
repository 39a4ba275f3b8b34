//! unikcc as a drop-in gcc: an ordinary Makefile project (static library, program,
//! dependency files) built unchanged with target-prefixed tool names, linked once
//! through the compiler and once through the GNU-ld-style entry, booted, and
//! compared with the same project built by the host's gcc; gcc's informational
//! options; the errors for flags that cannot work.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Copies `fixtures/make` into a fresh directory (the build writes beside the
/// sources, as make does).
fn project_copy(into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).expect("a directory for the project");
    let project = into.join("project");
    let status = Command::new("cp")
        .arg("-r")
        .arg(fixture("make"))
        .arg(&project)
        .status()
        .expect("cp runs");
    assert!(status.success());
    project
}

fn make(project: &Path, variables: &[String], goals: &[&str]) -> Outcome {
    run_command(
        Command::new("make")
            .arg("-C")
            .arg(project)
            .args(variables)
            .args(goals),
    )
}

/// `unik install-links DIR`, asserting it worked.
fn install_links(directory: &Path) {
    let outcome = run_command(unik().arg("install-links").arg(directory));
    assert_eq!(outcome.status, 0, "{outcome:?}");
}

#[test]
fn a_makefile_project_builds_unchanged_and_boots() {
    let dir = scratch();
    let links = dir.path().join("bin");
    install_links(&links);

    let native_project = project_copy(&dir.path().join("native"));
    let built = make(&native_project, &["CC=gcc".to_string()], &["shapes"]);
    assert_eq!(built.status, 0, "native make: {}", built.stderr);
    let native = run_command(Command::new(native_project.join("shapes")).args(["x", "yy"]));

    for target in targets() {
        let project = project_copy(&dir.path().join(target));
        let tool =
            |name: &str| format!("{}", links.join(format!("{target}-unik-{name}")).display());
        let variables = [
            format!("CC={}", tool("cc")),
            format!("AR={}", tool("ar")),
            format!("LD={}", tool("ld")),
        ];
        let built = make(&project, &variables, &["all", "shapes-ld"]);
        assert_eq!(
            built.status, 0,
            "make on {target}: {}{}",
            built.stdout, built.stderr
        );

        // -MMD -MP: dependency files name the project's headers, not the sysroot's.
        let dependencies = std::fs::read_to_string(project.join("table.d")).expect("table.d");
        assert!(
            dependencies.starts_with(
                "table.o: table.c include/table.h include/geometry.h include/units.h\n"
            ),
            "{dependencies}"
        );
        assert!(
            dependencies.contains("\ninclude/units.h:\n"),
            "{dependencies}"
        );
        assert!(!dependencies.contains("stdio.h"), "{dependencies}");
        // Up to date now; a header change makes the program out of date again.
        assert_eq!(make(&project, &variables, &["-q", "shapes"]).status, 0);
        let header = project.join("include/units.h");
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .append(true)
            .open(&header)
            .and_then(|file| file.set_modified(later))
            .expect("touch units.h");
        assert_eq!(make(&project, &variables, &["-q", "shapes"]).status, 1);

        for image in ["shapes", "shapes-ld"] {
            let outcome = boot(&project.join(image), &[], &["x", "yy"]);
            assert_same_as_native(&outcome, &native, &format!("{image} on {target}"));
        }
        // The images are what the targets boot: ELF for the right machine.
        let header = std::fs::read(project.join("shapes")).expect("the image");
        let machine = u16::from_le_bytes([header[18], header[19]]);
        assert_eq!(
            machine,
            if target == "x86_64" { 62 } else { 183 },
            "{target}"
        );
    }
}

#[test]
fn informational_options_answer_with_working_tools() {
    let ar = run_command(unikcc().arg("-print-prog-name=ar"));
    assert_eq!(ar.status, 0);
    let ar = PathBuf::from(ar.stdout.trim_end());
    assert!(ar.is_absolute(), "{ar:?}");
    // The answer is a working archiver for our objects.
    let dir = scratch();
    let source = dir.path().join("one.c");
    std::fs::write(&source, "int one(void) { return 1; }\n").expect("write");
    let object = dir.path().join("one.o");
    let compiled = run_command(unikcc().arg("-c").arg(&source).arg("-o").arg(&object));
    assert_eq!(compiled.status, 0, "{}", compiled.stderr);
    let archive = dir.path().join("libone.a");
    let archived = run_command(Command::new(&ar).arg("rcs").arg(&archive).arg(&object));
    assert_eq!(archived.status, 0, "{}", archived.stderr);

    let ld = run_command(unikcc().arg("-print-prog-name=ld"));
    assert!(ld.stdout.trim_end().ends_with("/unikld"), "{ld:?}");
    let version = run_command(Command::new(ld.stdout.trim_end()).arg("-v"));
    assert!(version.stdout.contains("GNU ld"), "{version:?}");

    let file = run_command(
        unikcc()
            .arg("-L")
            .arg(dir.path())
            .arg("-print-file-name=libone.a"),
    );
    assert_eq!(file.stdout, format!("{}\n", archive.display()));
    let missing = run_command(unikcc().arg("-print-file-name=libnothing.a"));
    assert_eq!(missing.stdout, "libnothing.a\n");

    let sysroot = run_command(unikcc().args(["--target", "aarch64", "-print-sysroot"]));
    let path = run_command(unik().args(["sysroot", "path", "--target", "aarch64"]));
    assert_eq!(sysroot.stdout, path.stdout);
    let search = run_command(unikcc().arg("-print-search-dirs"));
    assert!(search.stdout.contains("\nlibraries: ="), "{search:?}");

    let version = run_command(unikcc().arg("-dumpversion"));
    assert_eq!(version.stdout, format!("{}\n", env!("CARGO_PKG_VERSION")));
    let machine = run_command(Command::new(&ar).arg("--version"));
    assert_eq!(machine.status, 0);
}

#[test]
fn prefixed_names_and_standard_input() {
    let dir = scratch();
    let links = dir.path().join("bin");
    install_links(&links);
    for target in targets() {
        let compiler = links.join(format!("{target}-unik-cc"));
        let machine = run_command(Command::new(&compiler).arg("-dumpmachine"));
        assert!(machine.stdout.starts_with(target), "{machine:?}");
        // `-` is standard input, with -x (gcc refuses it without).
        let object = dir.path().join(format!("stdin-{target}.o"));
        let mut command = Command::new(&compiler);
        command
            .args(["-x", "c", "-c", "-", "-o"])
            .arg(&object)
            .stdin(std::process::Stdio::piped());
        let mut child = command.spawn().expect("the compiler starts");
        std::io::Write::write_all(
            child.stdin.as_mut().expect("stdin"),
            b"#include <stdio.h>\nint main(void) { puts(\"from stdin\"); return 3; }\n",
        )
        .expect("write the source");
        drop(child.stdin.take());
        assert!(child.wait().expect("wait").success());
        let image = dir.path().join(format!("stdin-{target}.img"));
        let linked = run_command(Command::new(&compiler).arg(&object).arg("-o").arg(&image));
        assert_eq!(linked.status, 0, "{}", linked.stderr);
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            ("from stdin\n", 3)
        );
    }
    let refused = run_command(unikcc().args(["-c", "-"]));
    assert_eq!(refused.status, 1);
    assert_eq!(
        refused.stderr,
        "unikcc: error: -E or -x required when input is from standard input\n"
    );
}

#[test]
fn flags_that_cannot_work_are_refused_with_the_reason() {
    let dir = scratch();
    let source = dir.path().join("pic.c");
    std::fs::write(
        &source,
        "int value(void) { return 7; }\nint main(void) { return value(); }\n",
    )
    .expect("write");
    let object = dir.path().join("pic.o");
    // -fPIC objects (and -shared with -c, which gcc ignores) compile and link.
    let compiled = run_command(
        unikcc()
            .args(["-fPIC", "-shared", "-c"])
            .arg(&source)
            .arg("-o")
            .arg(&object),
    );
    assert_eq!(compiled.status, 0, "{}", compiled.stderr);
    let library = dir.path().join("libpic.so");
    let shared = run_command(unikcc().arg("-shared").arg(&object).arg("-o").arg(&library));
    assert_eq!(shared.status, 1);
    assert_eq!(
        shared.stderr,
        "unikcc: error: -shared: a unikernel is one static image; shared libraries are not \
         supported (objects built with -fPIC link into images as they are)\n"
    );
    assert!(!library.exists());
    let image = dir.path().join("pic.img");
    let linked = run_command(unikcc().arg(&object).arg("-o").arg(&image));
    assert_eq!(linked.status, 0, "{}", linked.stderr);
    assert_eq!(boot(&image, &[], &[]).status, 7);

    let wrong = run_command(unikcc().args(["-fno-such-thing", "-c"]).arg(&source));
    assert_eq!(wrong.status, 1);
    assert_eq!(
        wrong.stderr,
        "unikcc: error: unrecognized command-line option '-fno-such-thing'\n"
    );
    let ld = run_command(
        unik()
            .args(["ld", "-shared", "-T", "my.ld", "-o"])
            .arg(&library)
            .arg(&object),
    );
    assert_eq!(ld.status, 1);
    assert_eq!(
        ld.stderr,
        "unikld: error: -shared: a unikernel is one static image; shared libraries are not supported\n\
         unikld: error: -T: the unik target's linker script lays out the image; another script would not boot\n"
    );
    assert!(!library.exists());
}

/// `-lm` programs: <math.h> values and errno, and setjmp/longjmp through several
/// frames, against the same fixture built by gcc with glibc's libm.
#[test]
fn math_and_setjmp_agree_with_glibc() {
    let dir = scratch();
    let native_binary = dir.path().join("math_setjmp-native");
    let built = run_command(
        Command::new("gcc")
            .args(["-O2", "-w", "-o"])
            .arg(&native_binary)
            .arg(fixture("c/math_setjmp.c"))
            .arg("-lm"),
    );
    assert_eq!(built.status, 0, "{}", built.stderr);
    let native = run_command(&mut Command::new(&native_binary));
    assert!(native.stdout.contains("errno=ERANGE"), "{native:?}");
    for target in targets() {
        let image = build_image(target, &["c/math_setjmp.c"], &["-lm"], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("math_setjmp on {target}"));
    }
}
