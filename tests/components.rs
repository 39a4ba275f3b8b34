//! Component selection end to end: what an image contains, `unik explain` and
//! `unik size`, the undefined-symbol reports, `--stub-missing`, and bad inputs.
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

/// The C symbols of an image's symbol table.
fn symbol_names(image: &Path) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(image).unwrap();
    let file = object::File::parse(bytes.as_slice()).unwrap();
    file.symbols()
        .filter_map(|symbol| symbol.name().ok().map(str::to_string))
        .collect()
}

fn explain(image: &Path) -> String {
    let outcome = run_command(unik().arg("explain").arg(image));
    assert_eq!(outcome.status, 0, "{outcome:?}");
    outcome.stdout
}

#[test]
fn hello_links_only_the_components_it_uses() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let symbols = symbol_names(&image);
        for absent in [
            "qsort",
            "strtod",
            "malloc_usable_size",
            "setlocale",
            "toupper",
            "__unik_missing_function",
        ] {
            assert!(
                !symbols.iter().any(|name| name == absent),
                "{target}: hello.img contains {absent}"
            );
        }
        let text = explain(&image);
        assert!(text.contains("stdio       <- puts (hello.o)\n"), "{text}");
        assert!(
            text.contains("boot        <- always (the image's entry)\n"),
            "{text}"
        );
        assert!(!text.contains("stdlib"), "{text}");
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            ("Hello, world!\n", 0)
        );
    }
}

/// The kernel writes its messages (boot log, boot failures, exit line, crash reports,
/// runtime panics) without `core::fmt` (runtime/kernel/src/report.rs), and the libc's
/// paths in hello use none: a plain C hello links no `core::fmt` code but what core's
/// own panic entry points name in their argument lists. unik's panic handler never
/// formats those arguments, but the functions' addresses are stored in them, so they
/// are linked wherever such a panic can happen.
#[test]
fn hello_links_no_core_fmt_but_what_core_panics_name() {
    // An index out of bounds (panic_bounds_check, slice_index_fail) passes the index and
    // the length as `usize` Display arguments.
    const BOUNDS_CHECKS: [&str; 3] = [
        "<usize as core::fmt::Display>::fmt",
        "<core::fmt::Formatter>::pad_integral",
        "<core::fmt::Formatter>::pad_integral::write_prefix",
    ];
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let formatting: Vec<String> = symbol_names(&image)
            .iter()
            .map(|name| format!("{:#}", rustc_demangle::demangle(name)))
            .filter(|name| name.contains("core::fmt") && !BOUNDS_CHECKS.contains(&name.as_str()))
            .collect();
        assert!(
            formatting.is_empty(),
            "{target}: hello.img links core::fmt code: {formatting:?}"
        );
    }
}

/// The symbol table is compacted after the link (driver/src/link/symbol_table.rs):
/// Rust's legacy name hashes, AArch64 mapping symbols, file symbols, duplicate runtime
/// aliases and untyped markers outside code are gone, the names stay.
#[test]
fn the_symbol_table_has_no_name_hashes_mapping_file_or_alias_symbols() {
    fn is_hashed(name: &str) -> bool {
        name.starts_with("_ZN")
            && name.split('.').next().is_some_and(|mangled| {
                mangled.len() > 20
                    && mangled.ends_with('E')
                    && mangled[mangled.len() - 20..].starts_with("17h")
            })
    }
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let names = symbol_names(&image);
        let hashed: Vec<&String> = names.iter().filter(|name| is_hashed(name)).collect();
        assert!(hashed.is_empty(), "{target}: {hashed:?}");
        assert!(
            !names.iter().any(|name| name == "$x" || name == "$d"),
            "{target}: mapping symbols"
        );
        // unik_exception_common: an untyped assembly label in code (crash reports name it).
        for kept in [
            "main",
            "puts",
            "_ZN11unik_kernel11finish_bootE",
            "unik_exception_common",
        ] {
            assert!(names.iter().any(|name| name == kept), "{target}: {kept}");
        }
        // Neither file symbols nor the runtime's second name of a function that is
        // there under its own.
        // Nor the linker scripts' boundary markers, absolute or in data.
        for dropped in [
            "hello.c",
            "__unik_puts",
            "__unik_memcpy",
            "__bss_start",
            "__text_start",
            "__image_end",
            "__tls_alignment",
        ] {
            assert!(
                !names.iter().any(|name| name == dropped),
                "{target}: {dropped}"
            );
        }
        let bytes = std::fs::read(&image).unwrap();
        let file = object::File::parse(bytes.as_slice()).unwrap();
        use object::{Object, ObjectSymbol};
        assert!(
            !file
                .symbols()
                .any(|symbol| symbol.kind() == object::SymbolKind::File),
            "{target}: file symbols"
        );
    }
}

#[test]
fn a_program_using_qsort_gets_stdlib_and_hello_does_not() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/uses_qsort.c"], &[], dir.path());
        let text = explain(&image);
        let line = text
            .lines()
            .find(|line| line.starts_with("stdlib"))
            .unwrap_or("");
        assert!(
            line.ends_with("<- qsort (uses_qsort.o)") || line.ends_with("<- strtod (uses_qsort.o)"),
            "{text}"
        );
        assert!(symbol_names(&image).iter().any(|name| name == "qsort"));
        let outcome = boot(&image, &[], &[]);
        assert_eq!(outcome.stdout, "1 2 3 2.5\n", "{target}: {outcome:?}");
        let json = run_command(unik().args(["explain", "--json"]).arg(&image));
        let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(value["target"], target);
        assert!(
            value["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["component"] == "stdlib")
        );
    }
}

/// Links fixtures/c/unsupported_fork.c from the fixture directory (so the DWARF
/// file name is the relative one) and returns unikcc's outcome.
fn link_unsupported(target: &str, flags: &[&str], output: &Path) -> Outcome {
    run_command(
        unikcc()
            .current_dir(repository().join("fixtures/c"))
            .args(["--target", target, "-O2"])
            .args(flags)
            .arg("unsupported_fork.c")
            .arg("-o")
            .arg(output),
    )
}

const NOTE: &str = "unikcc: note: `--stub-missing` links a stub for each missing function instead (it warns when called and fails with ENOSYS)\n";
const FORK_REASON: &str = ">>> fork: a unikernel runs a single program in a single address space: there is no second process to create\n";

#[test]
fn unsupported_functions_fail_with_source_lines_and_reasons() {
    for target in targets() {
        // Where clang-19 -O2 puts the two calls in `main` (the references' offsets).
        let (fork_at, pritnf_at) = match target {
            "aarch64" => ("0x20", "0x1c"),
            _ => ("0x15", "0x10"),
        };
        let dir = scratch();
        let image = dir.path().join("fork.img");
        let with_debug = link_unsupported(target, &["-g"], &image);
        assert_eq!(with_debug.status, 1, "{with_debug:?}");
        assert!(!image.exists(), "no output after a failed link");
        assert_eq!(
            with_debug.stderr,
            format!(
                "unikcc: error: undefined symbol: fork\n\
                 >>> referenced by unsupported_fork.c:14 (unsupported_fork.o:(.text+{fork_at}))\n\
                 {FORK_REASON}\
                 unikcc: error: undefined symbol: pritnf\n\
                 >>> referenced by unsupported_fork.c:13 (unsupported_fork.o:(.text+{pritnf_at}))\n\
                 >>> did you mean: printf\n{NOTE}"
            )
        );
        let without = link_unsupported(target, &[], &image);
        assert_eq!(without.status, 1);
        assert_eq!(
            without.stderr,
            format!(
                "unikcc: error: undefined symbol: fork\n\
                 >>> referenced by unsupported_fork.o:(.text+{fork_at}) in function main\n\
                 {FORK_REASON}\
                 unikcc: error: undefined symbol: pritnf\n\
                 >>> referenced by unsupported_fork.o:(.text+{pritnf_at}) in function main\n\
                 >>> did you mean: printf\n{NOTE}"
            )
        );
    }
}

#[test]
fn stub_missing_links_and_the_program_sees_enosys() {
    for target in targets() {
        let dir = scratch();
        let image = dir.path().join("fork.img");
        let linked = link_unsupported(target, &["--stub-missing"], &image);
        assert_eq!(linked.status, 0, "{linked:?}");
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            outcome.stdout, "fork returned -1, errno ENOSYS\n",
            "{outcome:?}"
        );
        assert_eq!(
            outcome.stderr,
            "unik: warning: fork is not available in a unikernel (stubbed: returns -1, errno ENOSYS)\n"
        );
        assert_eq!(outcome.status, 0);
        assert!(explain(&image).contains("fork"), "the stub is recorded");
    }
}

#[test]
fn unik_size_attributes_bytes_to_components() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let text = run_command(unik().args(["size", "--top", "5"]).arg(&image));
        assert_eq!(text.status, 0, "{text:?}");
        assert!(text.stdout.starts_with("file "), "{}", text.stdout);
        assert!(text.stdout.contains("\nstdio "), "{}", text.stdout);
        let json = run_command(unik().args(["size", "--json"]).arg(&image));
        let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        let file_bytes = std::fs::metadata(&image).unwrap().len();
        assert_eq!(value["file_bytes"].as_u64(), Some(file_bytes));
        assert!(
            value["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["component"] == "program")
        );
        let not_an_image = run_command(unik().arg("size").arg(repository().join("README.md")));
        assert_eq!(not_an_image.status, 125);
        assert!(
            not_an_image.stderr.contains("not an ELF image"),
            "{not_an_image:?}"
        );
    }
}

#[test]
fn all_components_forces_every_component_in() {
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &["--all-components"], dir.path());
    assert!(symbol_names(&image).iter().any(|name| name == "qsort"));
    // Names are padded to the longest component name: match the words.
    assert!(
        explain(&image).lines().any(|line| {
            line.split_whitespace().collect::<Vec<_>>() == ["stdlib", "<-", "--all-components"]
        }),
        "{}",
        explain(&image)
    );
}

#[test]
fn explain_and_verbose_show_the_selection_at_link_time() {
    let dir = scratch();
    let outcome = run_command(
        unikcc()
            .args(["-O2", "-v", "--explain"])
            .arg(fixture("c/hello.c"))
            .arg("-o")
            .arg(dir.path().join("hello.img")),
    );
    assert_eq!(outcome.status, 0, "{outcome:?}");
    let components = outcome
        .stderr
        .lines()
        .find(|line| line.starts_with("unikcc: components: "))
        .unwrap_or_default();
    assert!(
        components.contains(" stdio ") && components.contains(" boot (selected in "),
        "{components}"
    );
    assert!(
        outcome.stderr.contains("\nstdio       <- puts (hello.o)\n"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("unik-components.o"),
        "-v shows the link command"
    );
}

#[test]
fn the_components_record_is_compact_and_a_damaged_one_is_refused() {
    use object::{Object, ObjectSection};
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    let mut bytes = std::fs::read(&image).unwrap();
    let file = object::File::parse(bytes.as_slice()).unwrap();
    let section = file.section_by_name(".unik.components").unwrap();
    let text = String::from_utf8(section.data().unwrap().to_vec()).unwrap();
    assert!(
        text.starts_with("unik-components\t2\tx86_64\n")
            && text.contains("\nc\tstdio\t@\tputs\thello.o\n"),
        "{text}"
    );
    // Format 1's JSON took 584 bytes here.
    assert!(text.len() < 200, "{} bytes: {text}", text.len());
    let (offset, _) = section.file_range().unwrap();
    bytes[offset as usize..][..4].copy_from_slice(b"junk");
    let damaged = dir.path().join("damaged.img");
    std::fs::write(&damaged, &bytes).unwrap();
    for command in ["explain", "size"] {
        let outcome = run_command(unik().arg(command).arg(&damaged));
        assert_eq!(
            (outcome.status, outcome.stderr),
            (
                125,
                format!(
                    "unik: error: {}: not an ELF image (its .unik.components section is corrupt: line 1 is not a unik-components header)\n",
                    damaged.display()
                )
            ),
            "unik {command}"
        );
    }
}

#[test]
fn hello_has_no_empty_sections() {
    use object::{Object, ObjectSection};
    // Each section header costs 64 bytes: the linker scripts keep their symbols out of
    // the sections that are often empty (.unik_init, .unik_fs, the constructor arrays,
    // the unwind tables) so that LLD drops them. The TLS template's stay (their sizes
    // make the TLS symbols); LLD keeps an empty .rela.dyn on aarch64.
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let bytes = std::fs::read(&image).unwrap();
        let file = object::File::parse(bytes.as_slice()).unwrap();
        let empty: Vec<String> = file
            .sections()
            .filter(|section| section.size() == 0 && section.index().0 != 0)
            .map(|section| section.name().unwrap().to_string())
            .filter(|name| ![".tdata", ".tbss", ".rela.dyn"].contains(&name.as_str()))
            .collect();
        assert!(empty.is_empty(), "{target}: empty sections {empty:?}");
    }
}

/// The image's `.unik_init` table: the addresses of the init functions it runs.
fn init_table(image: &Path) -> Vec<u64> {
    use object::{Object, ObjectSection};
    let bytes = std::fs::read(image).unwrap();
    let file = object::File::parse(bytes.as_slice()).unwrap();
    let Some(section) = file.section_by_name(".unik_init") else {
        return Vec::new();
    };
    section
        .data()
        .unwrap()
        .chunks_exact(8)
        .map(|entry| u64::from_le_bytes(entry.try_into().unwrap()))
        .collect()
}

#[test]
fn an_init_function_is_linked_only_with_its_component() {
    use object::{Object, ObjectSymbol};
    let dir = scratch();
    let hello = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    assert!(
        !symbol_names(&hello)
            .iter()
            .any(|name| name == "__unik_init_sched")
    );
    assert!(init_table(&hello).is_empty());
    let threads = build_image(
        "x86_64",
        &["c/threads_counter.c"],
        &["-pthread"],
        dir.path(),
    );
    assert!(
        explain(&threads).contains("sched "),
        "{}",
        explain(&threads)
    );
    let bytes = std::fs::read(&threads).unwrap();
    let file = object::File::parse(bytes.as_slice()).unwrap();
    let init = file
        .symbols()
        .find(|symbol| symbol.name() == Ok("__unik_init_sched"))
        .map(|symbol| symbol.address());
    assert!(init.is_some(), "the threads image has sched's init");
    assert_eq!(init_table(&threads), init.into_iter().collect::<Vec<_>>());
}

/// The size in the image of one section (0 when it has none).
fn section_size(image: &Path, name: &str) -> u64 {
    use object::{Object, ObjectSection};
    let bytes = std::fs::read(image).unwrap();
    let file = object::File::parse(bytes.as_slice()).unwrap();
    file.section_by_name(name)
        .map_or(0, |section| section.size())
}

/// The unwind tables are linked only with an unwinder: hello's image carries none, a C
/// program that walks its stack with `_Unwind_Backtrace` gets them (and their index)
/// and sees the same frames as the native build.
#[test]
fn unwind_tables_are_linked_only_with_the_unwinder() {
    let dir = scratch();
    let native = native(&["c/unwind_backtrace.c"], &[], dir.path());
    assert_eq!(native.status, 0, "{native:?}");
    for target in targets() {
        let hello = build_image(target, &["c/hello.c"], &[], dir.path());
        assert_eq!(section_size(&hello, ".eh_frame"), 0, "{target}: hello");
        assert_eq!(section_size(&hello, ".eh_frame_hdr"), 0, "{target}: hello");
        assert!(!explain(&hello).contains("unwind "), "{target}");
        let walker = build_image(target, &["c/unwind_backtrace.c"], &[], dir.path());
        assert!(explain(&walker).contains("unwind "), "{target}");
        assert!(section_size(&walker, ".eh_frame") > 0, "{target}");
        assert!(section_size(&walker, ".eh_frame_hdr") > 0, "{target}");
        let outcome = boot(&walker, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("{target}: unwind_backtrace"));
    }
}

#[test]
fn images_are_byte_identical_across_builds() {
    let first = scratch();
    let second = scratch();
    let one = build_image("x86_64", &["c/uses_qsort.c"], &[], first.path());
    let two = build_image("x86_64", &["c/uses_qsort.c"], &[], second.path());
    assert!(std::fs::read(one).unwrap() == std::fs::read(two).unwrap());
}

#[test]
fn archive_members_pull_components_in_thin_and_bsd_archives_too() {
    let dir = scratch();
    let member = dir.path().join("helper.o");
    let compiled = run_command(
        unikcc()
            .arg("-O2")
            .arg("-c")
            .arg(fixture("c/helper_library.c"))
            .arg("-o")
            .arg(&member),
    );
    assert_eq!(compiled.status, 0, "{compiled:?}");
    // `ar` from binutils writes GNU (and, with T, thin) archives; llvm-ar writes BSD.
    let llvm_ar = ["llvm-ar-19", "llvm-ar"].into_iter().find(|tool| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok()
    });
    let mut archives = vec![
        ("libgnu.a", "ar", vec!["rcs"]),
        ("libthin.a", "ar", vec!["rcsT"]),
    ];
    if let Some(tool) = llvm_ar {
        archives.push(("libbsd.a", tool, vec!["--format=bsd", "rcs"]));
    }
    for (name, tool, flags) in archives {
        let archive = dir.path().join(name);
        let made = run_command(
            std::process::Command::new(tool)
                .args(&flags)
                .arg(&archive)
                .arg(&member),
        );
        assert_eq!(made.status, 0, "{made:?}");
        let image = dir.path().join(format!("{name}.img"));
        let linked = run_command(
            unikcc()
                .arg("-O2")
                .arg(fixture("c/archive_main.c"))
                .arg(&archive)
                .arg("-o")
                .arg(&image),
        );
        assert_eq!(linked.status, 0, "{name}: {linked:?}");
        let text = explain(&image);
        // A thin archive stores the member's path as given to ar.
        let member_name = if name == "libthin.a" {
            member.display().to_string()
        } else {
            "helper.o".to_string()
        };
        let expected = format!(
            "stdio       <- printf ({}({member_name}))\n",
            archive.display()
        );
        assert!(text.contains(&expected), "{name}: {text}");
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            outcome.stdout, "hello from the archive, main\n",
            "{name}: {outcome:?}"
        );
    }
}

/// Links `file` (named `name`) as the only extra input; returns unikcc's stderr.
fn link_bad_input(dir: &Path, name: &str, bytes: &[u8]) -> Outcome {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let hello = dir.join("hello.o");
    if !hello.exists() {
        let compiled = run_command(
            unikcc()
                .arg("-c")
                .arg(fixture("c/hello.c"))
                .arg("-o")
                .arg(&hello),
        );
        assert_eq!(compiled.status, 0, "{compiled:?}");
    }
    run_command(
        unikcc()
            .arg(&hello)
            .arg(&path)
            .arg("-o")
            .arg(dir.join("bad.img")),
    )
}

#[test]
fn corrupt_inputs_get_a_clear_error_naming_the_file() {
    let dir = scratch();
    let object = dir.path().join("real.o");
    let compiled = run_command(
        unikcc()
            .arg("-c")
            .arg(fixture("c/uses_qsort.c"))
            .arg("-o")
            .arg(&object),
    );
    assert_eq!(compiled.status, 0, "{compiled:?}");
    let bytes = std::fs::read(&object).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for length in [0, 3, 16, 63, 64, 200, bytes.len() / 2, bytes.len() - 1] {
        cases.push((format!("truncated-{length}.o"), bytes[..length].to_vec()));
    }
    let mut flipped = bytes.clone();
    flipped[0x28] ^= 0xff; // e_shoff
    cases.push(("flipped.o".into(), flipped));
    cases.push(("text.o".into(), b"this is not an object\n".to_vec()));
    cases.push(("empty.a".into(), Vec::new()));
    let mut archive =
        b"!<arch>\nmember.o/       0           0     0     644     99999     `\n".to_vec();
    archive.extend_from_slice(&bytes[..100]);
    cases.push(("bad-member.a".into(), archive));
    cases.push((
        "bad-header.a".into(),
        b"!<arch>\nthis is no header at all\n".to_vec(),
    ));
    for (name, contents) in cases {
        let outcome = link_bad_input(dir.path(), &name, &contents);
        assert_eq!(outcome.status, 1, "{name}: {outcome:?}");
        let path = dir.path().join(&name).display().to_string();
        assert!(
            outcome
                .stderr
                .starts_with(&format!("unikcc: error: {path}")),
            "{name}: {}",
            outcome.stderr
        );
        assert!(
            !outcome.stderr.contains("panicked"),
            "{name}: {}",
            outcome.stderr
        );
    }
    let text = link_bad_input(dir.path(), "text2.o", b"plain text");
    assert_eq!(
        text.stderr,
        format!(
            "unikcc: error: {}: not an ELF object file (and not an archive)\n",
            dir.path().join("text2.o").display()
        )
    );
}
