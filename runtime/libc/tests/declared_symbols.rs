//! "Declare only what is implemented": every function and variable the sysroot headers
//! declare (with `_GNU_SOURCE`, which shows the most) must be defined by `libunik.a`.
//!
//! The test preprocesses all headers, collects the declared names, writes a C file that
//! takes the address of each, and links it against the archive without `--gc-sections`:
//! an undefined symbol fails the link and names the culprit.
//!
//! It needs the target archive built first
//! (`cargo build --release --target x86_64-unknown-linux-gnu -p unik-runtime`, or
//! `UNIK_RUNTIME_ARCHIVE=<path>`), clang-19 and ld.lld; without them it is skipped with
//! a note.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_directory() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn archive() -> PathBuf {
    match std::env::var_os("UNIK_RUNTIME_ARCHIVE") {
        Some(path) => PathBuf::from(path),
        None => manifest_directory().join("../target/x86_64-unknown-linux-gnu/release/libunik.a"),
    }
}

/// The names in components.toml's `[unavailable]` table (`name = "reason"` lines).
fn unavailable_names() -> Vec<String> {
    let text = std::fs::read_to_string(manifest_directory().join("../components.toml"))
        .expect("runtime/components.toml is readable");
    text.lines()
        .skip_while(|line| line.trim() != "[unavailable]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .filter_map(|line| line.split_once('='))
        .map(|(name, _)| name.trim().to_string())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect()
}

fn tool_works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The names declared at file scope in preprocessed C text: for each top-level
/// statement without a body or `typedef`, the identifier before the first `(` (a
/// function) or the last identifier (an `extern` variable).
fn declared_names(preprocessed: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut statement = String::new();
    for character in preprocessed.chars() {
        match character {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        statement.push(character);
        if character == ';' && depth == 0 {
            let text = std::mem::take(&mut statement);
            if text.contains('{') || text.contains("typedef") || text.contains("extern \"C\"") {
                continue;
            }
            let is_identifier =
                |character: char| character.is_ascii_alphanumeric() || character == '_';
            let head = match text.find('(') {
                Some(parenthesis) => &text[..parenthesis],
                None if text.trim_start().starts_with("extern") => text.trim_end_matches(';'),
                None => continue,
            };
            let name: String = head
                .trim_end()
                .chars()
                .rev()
                .take_while(|&character| is_identifier(character))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !name.is_empty() && !name.starts_with(|character: char| character.is_ascii_digit()) {
                names.push(name);
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The newest modification time of the files below `directory`.
fn newest_modification(directory: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut pending = vec![directory.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(modified) = entry.metadata().and_then(|metadata| metadata.modified()) {
                newest = newest.max(Some(modified));
            }
        }
    }
    newest
}

/// True when the archive was built after the last change to the libc or the headers
/// (a stale archive would report functions added since as missing).
fn archive_is_current(archive: &Path) -> bool {
    let Ok(built) = archive.metadata().and_then(|metadata| metadata.modified()) else {
        return false;
    };
    let root = manifest_directory();
    ["src", "c", "memory-functions/src", "../../sysroot/include"]
        .iter()
        .filter_map(|folder| newest_modification(&root.join(folder)))
        .all(|changed| changed <= built)
}

#[test]
fn parser_finds_functions_and_variables() {
    let text = "typedef struct { int a; } t;\nint f(int (*g)(void)) __attribute__((x));\nextern char *v;\nstruct s { int b; };\n_Noreturn void h(void);";
    assert_eq!(declared_names(text), ["f", "h", "v"]);
}

#[test]
fn every_declared_symbol_is_defined() {
    let archive = archive();
    let linker_script = manifest_directory().join("../../sysroot/link/x86_64.ld");
    if archive.is_file()
        && !archive_is_current(&archive)
        && std::env::var_os("UNIK_RUNTIME_ARCHIVE").is_none()
    {
        eprintln!(
            "note: {} is older than the libc sources; rebuild unik-runtime to run this check; skipped",
            archive.display()
        );
        return;
    }
    if !archive.is_file()
        || !linker_script.is_file()
        || !tool_works("clang-19")
        || !tool_works("ld.lld")
    {
        eprintln!(
            "note: needs {} (build unik-runtime for x86_64 first), the linker script, clang-19 and ld.lld; skipped",
            archive.display()
        );
        return;
    }
    let include = manifest_directory().join("../../sysroot/include");
    let directory =
        std::env::temp_dir().join(format!("unik-declared-symbols-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a scratch directory");
    let mut headers = Vec::new();
    let mut pending = vec![include.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable headers") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if !path.ends_with("bits") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|extension| extension == "h") {
                headers.push(
                    path.strip_prefix(&include)
                        .expect("below include")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    headers.sort();
    let includes: String = headers
        .iter()
        .map(|header| format!("#include <{header}>\n"))
        .collect();
    let compiler = |arguments: &[&str], input: &Path, output: &Path| {
        Command::new("clang-19")
            .args([
                "--target=x86_64-unknown-linux-gnu",
                "-D_GNU_SOURCE",
                "-D__unik__=1",
                "-nostdinc",
                "-isystem",
            ])
            .arg(&include)
            .args(arguments)
            .arg(input)
            .arg("-o")
            .arg(output)
            .output()
            .expect("clang-19 runs")
    };
    let all_headers = directory.join("all.c");
    std::fs::write(&all_headers, &includes).expect("writable scratch");
    let preprocessed = directory.join("all.i");
    let output = compiler(&["-E", "-P"], &all_headers, &preprocessed);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names = declared_names(&std::fs::read_to_string(&preprocessed).expect("preprocessed text"));
    // Functions ISO C declares but a unikernel cannot have (components.toml
    // [unavailable], e.g. `system`) are declared as the standard requires; a call
    // fails the link with the reason, so they are not expected in the archive.
    let unavailable = unavailable_names();
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| !unavailable.contains(name))
        .collect();
    assert!(names.len() > 100, "too few declarations found: {names:?}");
    let references: String = names
        .iter()
        .map(|name| format!("  (void *)&{name},\n"))
        .collect();
    let source = directory.join("references.c");
    std::fs::write(&source, format!("{includes}\nvoid *unik_references[] = {{\n{references}}};\nint main(void) {{ return unik_references[0] == 0; }}\n")).expect("writable scratch");
    let object = directory.join("references.o");
    let output = compiler(&["-c", "-O0", "-w"], &source, &object);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = directory.join("references.img");
    let output = Command::new("ld.lld")
        .args([
            "-static",
            "-nostdlib",
            "-z",
            "max-page-size=4096",
            "--build-id=none",
            "--error-limit=0",
            "-T",
        ])
        .arg(&linker_script)
        .arg(&object)
        .arg(&archive)
        .arg("-o")
        .arg(&image)
        .output()
        .expect("ld.lld runs");
    let _ = std::fs::remove_dir_all(&directory);
    assert!(
        output.status.success(),
        "declared but not defined:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
