//! The pipeline against shim tools (the cc-rs style): shell scripts standing in for
//! the C compiler and the linker record their argv, so the tests can assert which
//! flags reach them, in which order, and what happens to the output on failure.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;

struct Fixture {
    directory: tempfile::TempDir,
}

impl Fixture {
    /// Shim `clang-shim` and `ld.lld` in `bin/`, and a prebuilt sysroot (no source
    /// tree, so it is used as it is).
    fn new() -> Self {
        let fixture = Fixture {
            directory: tempfile::tempdir().unwrap(),
        };
        let bin = fixture.path("bin");
        fs::create_dir_all(&bin).unwrap();
        // The compiler shim writes a real (tiny) object: the link phases read it.
        let object = fixture.path("shim-object.o");
        fs::write(&object, shim_object()).unwrap();
        // The linker shim writes a real (empty) ELF image: unikcc checks its segments.
        let image = fixture.path("shim-image");
        fs::write(&image, shim_image()).unwrap();
        let recorder = |name: &str, log: &str, fail_on: &str| {
            let write_output = if name == "ld.lld" {
                format!("cp {} \"$out\"", image.display())
            } else {
                format!("cp {} \"$out\"", object.display())
            };
            let script = format!(
                "#!/bin/sh\n\
                 printf '%s\\n' \"$@\" >> {log}\n\
                 echo ---- >> {log}\n\
                 case \"$*\" in *{fail_on}*) echo \"{name}: error: failing as told\" >&2; exit 1;; esac\n\
                 out=\"\"; previous=\"\"\n\
                 for argument in \"$@\"; do [ \"$previous\" = -o ] && out=\"$argument\"; previous=\"$argument\"; done\n\
                 [ -n \"$out\" ] && {write_output}\n\
                 exit 0\n",
                log = fixture.path(log).display()
            );
            let path = bin.join(name);
            fs::write(&path, script).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        };
        recorder("clang-shim", "compiler.log", "broken.c");
        recorder("ld.lld", "linker.log", "fail-link");
        let sysroot = fixture.path("sysroot/x86_64");
        fs::create_dir_all(sysroot.join("lib")).unwrap();
        fs::create_dir_all(sysroot.join("include")).unwrap();
        fs::write(sysroot.join("lib/libunik.a"), "!<arch>\n").unwrap();
        fs::write(sysroot.join("lib/link.ld"), "").unwrap();
        fs::write(sysroot.join("stamp"), "prebuilt\n").unwrap();
        let manifest = unik_sysroot::manifest::Manifest {
            format: unik_sysroot::manifest::MANIFEST_FORMAT,
            target: "x86_64".into(),
            components: Vec::new(),
            symbols: Default::default(),
            toolchain_symbols: Default::default(),
            planned: Default::default(),
            unavailable: Default::default(),
        };
        fs::write(sysroot.join("manifest.json"), manifest.to_json()).unwrap();
        fs::create_dir_all(fixture.path("src")).unwrap();
        for name in ["a.c", "b.c", "broken.c", "start.S"] {
            fs::write(fixture.path(&format!("src/{name}")), "").unwrap();
        }
        fixture
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.directory.path().join(relative)
    }

    fn text(&self, relative: &str) -> String {
        self.path(relative).display().to_string()
    }

    fn environment(&self) -> Environment {
        let bin = self.path("bin");
        let sysroot = self.path("sysroot");
        let no_source = self.path("no-source");
        Environment::from_pairs([
            ("PATH", bin.as_os_str()),
            ("UNIK_CC", OsStr::new("clang-shim")),
            ("UNIK_LD", OsStr::new("ld.lld")),
            ("UNIK_SYSROOT_DIR", sysroot.as_os_str()),
            ("UNIK_SOURCE_DIR", no_source.as_os_str()),
        ])
    }

    fn unikcc(&self, arguments: &[&str]) -> i32 {
        let arguments: Vec<OsString> = arguments.iter().map(OsString::from).collect();
        main(&arguments, &self.environment())
    }

    /// Each recorded invocation of a shim, as its argv.
    fn invocations(&self, log: &str) -> Vec<Vec<String>> {
        let text = fs::read_to_string(self.path(log)).unwrap_or_default();
        text.split("----\n")
            .filter(|chunk| !chunk.is_empty())
            .map(|chunk| chunk.lines().map(str::to_string).collect())
            .collect()
    }

    fn leftovers(&self, directory: &str) -> Vec<String> {
        fs::read_dir(self.path(directory))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".unikcc-"))
            .collect()
    }
}

/// An x86_64 relocatable object that defines `main` and needs nothing.
/// An x86_64 ELF executable header with no segments and no sections: what the
/// linker shim "links".
pub(crate) fn shim_image() -> Vec<u8> {
    let mut header = vec![0u8; 64];
    header[..4].copy_from_slice(b"\x7fELF");
    header[4] = 2; // ELFCLASS64
    header[5] = 1; // ELFDATA2LSB
    header[6] = 1; // EV_CURRENT
    header[16] = 2; // ET_EXEC
    header[18] = 62; // EM_X86_64
    header[20] = 1; // e_version
    header[52] = 64; // e_ehsize
    header[54] = 56; // e_phentsize
    header[58] = 64; // e_shentsize
    header
}

pub(crate) fn shim_object() -> Vec<u8> {
    use object::write::{Object, StandardSection, Symbol, SymbolSection};
    let mut object = Object::new(
        object::BinaryFormat::Elf,
        object::Architecture::X86_64,
        object::Endianness::Little,
    );
    let text = object.section_id(StandardSection::Text);
    let offset = object.append_section_data(text, &[0x31, 0xc0, 0xc3], 16);
    object.add_symbol(Symbol {
        name: b"main".to_vec(),
        value: offset,
        size: 3,
        kind: object::SymbolKind::Text,
        scope: object::SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text),
        flags: object::SymbolFlags::None,
    });
    object.write().unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn compiles_each_source_then_links_in_order() {
    let fixture = Fixture::new();
    let output = fixture.text("app.img");
    let a = fixture.text("src/a.c");
    let b = fixture.text("src/b.c");
    let status = fixture.unikcc(&[
        "-O2",
        "-DX=1",
        "-I",
        "inc",
        &a,
        "-Wl,--defsym,k=1",
        &b,
        "-o",
        &output,
    ]);
    assert_eq!(status, 0);
    let compiles = fixture.invocations("compiler.log");
    assert_eq!(compiles.len(), 2);
    let include = fixture.text("sysroot/x86_64/include");
    let first = &compiles[0];
    assert_eq!(
        first[..first.len() - 2],
        strings(&[
            "--target=x86_64-unknown-linux-gnu",
            "-nostdinc",
            "-isystem",
            &include,
            "-D__unik__=1",
            "-fstack-protector-strong",
            "-fstack-clash-protection",
            "-O2",
            "-DX=1",
            "-Iinc",
            "-c",
            "-x",
            "c",
            &a,
        ])
    );
    assert_eq!(first[first.len() - 2], "-o");
    let object_a = first[first.len() - 1].clone();
    let object_b = compiles[1][compiles[1].len() - 1].clone();
    assert!(
        object_a.ends_with("/0-a.o") && object_b.ends_with("/3-b.o"),
        "{object_a} {object_b}"
    );

    let links = fixture.invocations("linker.log");
    assert_eq!(links.len(), 1);
    let link = &links[0];
    let expected = strings(crate::link::IMAGE_LINK_FLAGS);
    assert_eq!(link[..expected.len()], expected);
    assert_eq!(
        link[expected.len()..link.len() - 1],
        strings(&[
            // No unwinder among the components: a script dropping the unwind
            // tables goes first.
            "-T",
            &Path::new(&object_a)
                .with_file_name("unik-discard-unwind-tables.ld")
                .display()
                .to_string(),
            "-T",
            &fixture.text("sysroot/x86_64/lib/link.ld"),
            // No -g: the runtime's DWARF is dropped.
            "--strip-debug",
            &object_a,
            "--defsym",
            "k=1",
            &object_b,
            // The generated object: init table and the recorded selection.
            &Path::new(&object_a)
                .with_file_name("unik-components.o")
                .display()
                .to_string(),
            &fixture.text("sysroot/x86_64/lib/libunik.a"),
            "-o",
        ])
    );
    // Linked beside the output, then renamed into place.
    let temporary = &link[link.len() - 1];
    assert!(
        temporary.starts_with(&fixture.text(".unikcc-")),
        "{temporary}"
    );
    assert_eq!(fs::read(&output).unwrap(), shim_image());
    assert!(fixture.leftovers("").is_empty());
}

#[test]
fn assembly_and_compile_only_modes() {
    let fixture = Fixture::new();
    let object = fixture.text("start.o");
    assert_eq!(
        fixture.unikcc(&["-c", &fixture.text("src/start.S"), "-o", &object]),
        0
    );
    let compile = &fixture.invocations("compiler.log")[0];
    assert!(compile.ends_with(&strings(&[
        "-c",
        "-x",
        "assembler-with-cpp",
        &fixture.text("src/start.S"),
        "-o",
        &object
    ])));
    assert!(fixture.invocations("linker.log").is_empty());
    assert_eq!(fs::read(&object).unwrap(), shim_object());
}

#[test]
fn a_compile_error_stops_before_the_link_and_keeps_the_status() {
    let fixture = Fixture::new();
    let output = fixture.path("app.img");
    fs::write(&output, "stale").unwrap();
    let status = fixture.unikcc(&[
        &fixture.text("src/broken.c"),
        &fixture.text("src/a.c"),
        "-o",
        &fixture.text("app.img"),
    ]);
    assert_eq!(status, 1);
    // Both files were compiled (every diagnostic is shown), nothing was linked.
    assert_eq!(fixture.invocations("compiler.log").len(), 2);
    assert!(fixture.invocations("linker.log").is_empty());
    // Like gcc: a stale output stays untouched.
    assert_eq!(fs::read_to_string(&output).unwrap(), "stale");
}

#[test]
fn a_failed_link_leaves_no_file_behind() {
    let fixture = Fixture::new();
    let status = fixture.unikcc(&[
        &fixture.text("src/a.c"),
        "-Wl,fail-link",
        "-o",
        &fixture.text("app.img"),
    ]);
    assert_eq!(status, 1);
    assert!(!fixture.path("app.img").exists());
    assert!(fixture.leftovers("").is_empty());
}

#[test]
fn libraries_are_resolved_to_archives() {
    let fixture = Fixture::new();
    fs::create_dir_all(fixture.path("libs")).unwrap();
    fs::write(fixture.path("libs/libfoo.a"), "!<arch>\n").unwrap();
    let object = fixture.text("main.o");
    fs::write(&object, shim_object()).unwrap();
    let libs = fixture.text("libs");
    let status = fixture.unikcc(&[
        &object,
        "-L",
        &libs,
        "-lfoo",
        "-lm",
        "-lpthread",
        "-o",
        &fixture.text("app.img"),
    ]);
    assert_eq!(status, 0);
    let link = &fixture.invocations("linker.log")[0];
    let foo = fixture.text("libs/libfoo.a");
    let position = link.iter().position(|argument| *argument == foo).unwrap();
    assert_eq!(link[position - 1], object);
    assert!(link[position + 1].ends_with("/unik-components.o"));
    assert_eq!(
        link[position + 2],
        fixture.text("sysroot/x86_64/lib/libunik.a")
    );
    assert!(
        fixture.invocations("compiler.log").is_empty(),
        "objects need no compiler"
    );

    let error = run(
        &[
            object.clone().into(),
            "-lnothere".into(),
            "-o".into(),
            fixture.text("x.img").into(),
        ],
        &fixture.environment(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        format!(
            "cannot find -lnothere (looked for libnothere.a in {}; unik links static archives only)",
            fixture.text("sysroot/x86_64/lib")
        )
    );
}

#[test]
fn print_only_runs_nothing() {
    let fixture = Fixture::new();
    let status = fixture.unikcc(&[
        "-###",
        &fixture.text("src/a.c"),
        "-o",
        &fixture.text("app.img"),
    ]);
    assert_eq!(status, 0);
    assert!(fixture.invocations("compiler.log").is_empty());
    assert!(fixture.invocations("linker.log").is_empty());
    assert!(!fixture.path("app.img").exists());
}

#[test]
fn missing_inputs_are_named_like_gcc_does() {
    let fixture = Fixture::new();
    let missing = fixture.text("nope.c");
    let error = run(&[missing.clone().into()], &fixture.environment()).unwrap_err();
    let Error::InvalidCommandLine(errors) = error else {
        panic!("{error}");
    };
    assert_eq!(
        errors.render(PROGRAM),
        format!(
            "unikcc: error: {missing}: No such file or directory\n\
             unikcc: fatal error: no input files\n\
             compilation terminated.\n"
        )
    );
    let error = run(
        &[missing.clone().into(), fixture.text("src/a.c").into()],
        &fixture.environment(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("unikcc: error: {missing}: No such file or directory")
    );
    let Error::InvalidCommandLine(errors) = run(&[], &fixture.environment()).unwrap_err() else {
        panic!("expected a usage error");
    };
    assert_eq!(
        errors.render(PROGRAM),
        "unikcc: fatal error: no input files\ncompilation terminated.\n"
    );
}

#[test]
fn gcc_gets_no_target_flag() {
    let fixture = Fixture::new();
    let gcc = fixture.path("bin/gcc");
    fs::copy(fixture.path("bin/clang-shim"), &gcc).unwrap();
    let gcc_text = gcc.display().to_string();
    let status = fixture.unikcc(&[
        "--cc",
        &gcc_text,
        "-c",
        &fixture.text("src/a.c"),
        "-o",
        &fixture.text("a.o"),
    ]);
    assert_eq!(status, 0);
    let compile = &fixture.invocations("compiler.log")[0];
    assert_eq!(compile[0], "-nostdinc");
}

#[test]
fn version_and_dumpmachine_need_no_tools() {
    let environment = Environment::from_pairs([]);
    assert_eq!(main(&["-dumpmachine".into()], &environment), 0);
    assert_eq!(main(&["--version".into()], &environment), 0);
    assert_eq!(main(&["-v".into()], &environment), 0);
    let error = run(
        &["--target".into(), "mips".into(), "a.c".into()],
        &environment,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "unknown target `mips` (known targets: x86_64, aarch64, raspi4b)"
    );
}

#[test]
fn response_files_and_standard_input_reach_the_compiler() {
    let fixture = Fixture::new();
    let response = fixture.path("flags.rsp");
    fs::write(&response, "-DGREETING='\"hi there\"' -O1\n").unwrap();
    let response_argument = format!("@{}", response.display());
    let object = fixture.text("stdin.o");
    let status = fixture.unikcc(&[&response_argument, "-x", "c", "-", "-c", "-o", &object]);
    assert_eq!(status, 0);
    let compile = &fixture.invocations("compiler.log")[0];
    assert_eq!(
        compile[4..],
        strings(&[
            "-D__unik__=1",
            "-fstack-protector-strong",
            "-fstack-clash-protection",
            "-DGREETING=\"hi there\"",
            "-O1",
            "-c",
            "-x",
            "c",
            "-",
            "-o",
            &object,
        ])
    );
}

#[test]
fn shared_objects_are_refused_but_pic_objects_link() {
    let fixture = Fixture::new();
    let a = fixture.text("src/a.c");
    let object = fixture.text("a.o");
    // -shared with -c only compiles (as gcc does), -fPIC reaches the compiler.
    assert_eq!(
        fixture.unikcc(&["-fPIC", "-shared", "-c", &a, "-o", &object]),
        0
    );
    assert!(fixture.invocations("compiler.log")[0].contains(&"-fPIC".to_string()));
    let output = fixture.text("lib.so");
    assert_eq!(fixture.unikcc(&["-shared", &object, "-o", &output]), 1);
    assert!(fixture.invocations("linker.log").is_empty());
    assert!(!fixture.path("lib.so").exists());
    let image = fixture.text("app.img");
    assert_eq!(fixture.unikcc(&[&object, "-o", &image]), 0);
    assert_eq!(fixture.invocations("linker.log").len(), 1);
}

#[test]
fn the_ld_entry_links_the_same_way_with_gnu_ld_options() {
    let fixture = Fixture::new();
    let a = fixture.text("src/a.c");
    let object = fixture.text("a.o");
    assert_eq!(fixture.unikcc(&["-c", &a, "-o", &object]), 0);
    let image = fixture.text("app.img");
    let arguments: Vec<OsString> = [
        "-m",
        "elf_x86_64",
        "-o",
        &image,
        &object,
        "-z",
        "now",
        "-rpath",
        "/usr/lib",
        "--hash-style=gnu",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    assert_eq!(ld::main(&arguments, None, &fixture.environment()), 0);
    let link = &fixture.invocations("linker.log")[0];
    let after_script = link
        .iter()
        .position(|argument| argument.ends_with("link.ld"))
        .unwrap();
    // GNU ld keeps debug sections: no --strip-debug; ld options stay in place.
    assert_eq!(
        link[after_script + 1..after_script + 4],
        strings(&[&object, "-z", "now"])
    );
    assert_eq!(fs::read(fixture.path("app.img")).unwrap(), shim_image());
}

#[test]
fn program_names_choose_the_target_and_the_entry() {
    let target = |name: &str| target_from_program_name(OsStr::new(name));
    assert_eq!(target("/opt/bin/aarch64-unik-cc"), Some("aarch64"));
    assert_eq!(target("x86_64-unik-gcc"), Some("x86_64"));
    assert_eq!(target("aarch64-unik-ld"), Some("aarch64"));
    assert_eq!(target("x86_64-linux-gnu-gcc"), None);
    assert_eq!(target("unikcc"), None);
    assert_eq!(target("mips-unik-cc"), None);
    assert!(is_linker_name(OsStr::new("/usr/bin/unikld")));
    assert!(is_linker_name(OsStr::new("aarch64-unik-ld")));
    assert!(!is_linker_name(OsStr::new("x86_64-unik-cc")));
}

#[test]
fn tool_links_are_made_and_remade() {
    let fixture = Fixture::new();
    let directory = fixture.path("links");
    let unikcc = fixture.path("bin/clang-shim");
    let unikld = fixture.path("bin/ld.lld");
    let made = links::install_links(&directory, &unikcc, &unikld, &fixture.environment()).unwrap();
    // Twice: the links are replaced, not refused.
    let again = links::install_links(&directory, &unikcc, &unikld, &fixture.environment()).unwrap();
    assert_eq!(made, again);
    assert_eq!(
        fs::read_link(directory.join("aarch64-unik-cc")).unwrap(),
        unikcc
    );
    assert_eq!(
        fs::read_link(directory.join("x86_64-unik-ld")).unwrap(),
        unikld
    );
    fs::remove_file(directory.join("x86_64-unik-gcc")).unwrap();
    fs::write(directory.join("x86_64-unik-gcc"), "mine").unwrap();
    let error = links::install_links(&directory, &unikcc, &unikld, &fixture.environment())
        .unwrap_err()
        .to_string();
    assert!(error.ends_with("x86_64-unik-gcc: exists and is not a symbolic link; remove it or choose another directory"), "{error}");
}
