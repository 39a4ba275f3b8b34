//! `unikld` / `unik ld`: a GNU ld command line for makefiles that call the linker
//! directly (`$(LD) -o app main.o -L. -lfoo`), producing the same bootable image
//! `unikcc` links.
//!
//! The GNU ld options are translated into a unikcc link (`-o`, `-L`, `-l`, inputs
//! in order, other linker options through `-Xlinker` in place) so both entries share
//! one pipeline: component selection, the target's linker script and LLD. Options
//! that would break the image are refused with the reason: the target's linker
//! script fixes the layout and entry point (`-T`, `-e`, `-Ttext`), and there is no
//! dynamic linking (`-shared`). Options that only matter to dynamic executables
//! (`-rpath`, `-dynamic-linker`, `--hash-style`, `-Bstatic`, …) change nothing in a
//! static image and are accepted. Emulations (`-m elf_x86_64`, `-m aarch64linux`)
//! choose the target.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use super::arguments::expand_response_files;
use crate::discovery::Environment;

/// The program name in ld's messages.
pub const PROGRAM: &str = "unikld";

/// How one GNU ld option is treated.
#[derive(Debug, Clone, Copy)]
enum LdAction {
    Output,
    LibraryDirectory,
    Library,
    Emulation,
    /// Passed to LLD, with its value as the following argument when it takes one.
    Pass,
    /// Meaningless in a static image: accepted and dropped (with its value).
    Ignore,
    Version,
    Help,
    Refuse(&'static str),
}

/// `(name, takes a separate value, action)`. Long options also accept `--name=value`
/// and `-name` with one dash, as GNU ld does.
const LD_OPTIONS: &[(&str, bool, LdAction)] = &[
    ("-o", true, LdAction::Output),
    ("--output", true, LdAction::Output),
    ("-L", true, LdAction::LibraryDirectory),
    ("--library-path", true, LdAction::LibraryDirectory),
    ("-l", true, LdAction::Library),
    ("--library", true, LdAction::Library),
    ("-m", true, LdAction::Emulation),
    ("-v", false, LdAction::Version),
    ("-V", false, LdAction::Version),
    ("--version", false, LdAction::Version),
    ("--help", false, LdAction::Help),
    ("-z", true, LdAction::Pass),
    ("--defsym", true, LdAction::Pass),
    ("-Map", true, LdAction::Pass),
    ("-u", true, LdAction::Pass),
    ("--undefined", true, LdAction::Pass),
    ("--wrap", true, LdAction::Pass),
    ("-y", true, LdAction::Pass),
    ("--trace-symbol", true, LdAction::Pass),
    ("-rpath", true, LdAction::Ignore),
    ("-rpath-link", true, LdAction::Ignore),
    ("-dynamic-linker", true, LdAction::Ignore),
    ("--dynamic-linker", true, LdAction::Ignore),
    ("-soname", true, LdAction::Ignore),
    ("-h", true, LdAction::Ignore),
    ("--sysroot", true, LdAction::Ignore),
    ("-plugin", true, LdAction::Ignore),
    ("-plugin-opt", true, LdAction::Ignore),
    ("--hash-style", true, LdAction::Ignore),
    ("--build-id", false, LdAction::Ignore),
    ("--eh-frame-hdr", false, LdAction::Ignore),
    ("-static", false, LdAction::Ignore),
    ("-Bstatic", false, LdAction::Ignore),
    ("-Bdynamic", false, LdAction::Ignore),
    ("-dn", false, LdAction::Ignore),
    ("-dy", false, LdAction::Ignore),
    ("-pie", false, LdAction::Ignore),
    ("-no-pie", false, LdAction::Ignore),
    ("--no-dynamic-linker", false, LdAction::Ignore),
    ("--as-needed", false, LdAction::Ignore),
    ("--no-as-needed", false, LdAction::Ignore),
    ("-E", false, LdAction::Ignore),
    ("--export-dynamic", false, LdAction::Ignore),
    ("-nostdlib", false, LdAction::Ignore),
    (
        "-shared",
        false,
        LdAction::Refuse("a unikernel is one static image; shared libraries are not supported"),
    ),
    (
        "-Bshareable",
        false,
        LdAction::Refuse("a unikernel is one static image; shared libraries are not supported"),
    ),
    (
        "-r",
        false,
        LdAction::Refuse(
            "partial links are not supported; put the objects in an archive (ar) or link them into the image",
        ),
    ),
    (
        "--relocatable",
        false,
        LdAction::Refuse(
            "partial links are not supported; put the objects in an archive (ar) or link them into the image",
        ),
    ),
    (
        "-T",
        true,
        LdAction::Refuse(
            "the unik target's linker script lays out the image; another script would not boot",
        ),
    ),
    (
        "--script",
        true,
        LdAction::Refuse(
            "the unik target's linker script lays out the image; another script would not boot",
        ),
    ),
    (
        "-e",
        true,
        LdAction::Refuse(
            "the runtime's boot code is the image's entry point; the program starts at main",
        ),
    ),
    (
        "--entry",
        true,
        LdAction::Refuse(
            "the runtime's boot code is the image's entry point; the program starts at main",
        ),
    ),
    (
        "-Ttext",
        true,
        LdAction::Refuse("the unik target's linker script places the sections"),
    ),
    (
        "-Tdata",
        true,
        LdAction::Refuse("the unik target's linker script places the sections"),
    ),
    (
        "-Tbss",
        true,
        LdAction::Refuse("the unik target's linker script places the sections"),
    ),
];

/// The unik target a GNU ld emulation names.
fn target_of_emulation(emulation: &str) -> Option<&'static str> {
    match emulation {
        "elf_x86_64" => Some("x86_64"),
        "aarch64linux" | "aarch64elf" | "aarch64linuxb" => Some("aarch64"),
        _ => None,
    }
}

/// What a GNU ld command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum LdRequest {
    /// Link: the equivalent unikcc arguments.
    Link(Vec<OsString>),
    Version,
    Help,
}

/// Translates GNU ld arguments (without the program name); errors are ld-style
/// messages without the program prefix.
pub fn translate(arguments: &[OsString]) -> Result<LdRequest, Vec<String>> {
    let arguments = expand_response_files(arguments);
    let mut translated: Vec<OsString> = vec![OsString::from("-g")];
    let mut errors = Vec::new();
    let mut inputs = 0;
    let mut index = 0;
    while index < arguments.len() {
        let argument = &arguments[index];
        index += 1;
        let bytes = argument.as_bytes();
        if bytes.first() != Some(&b'-') || bytes.len() < 2 {
            // An object or archive: unikcc reads it for the component selection.
            inputs += 1;
            translated.push(argument.clone());
            continue;
        }
        let Some((name, takes_value, action, joined)) = find_option(bytes) else {
            // Anything else GNU-ld-shaped goes to LLD, which speaks GNU ld and
            // reports what it does not know.
            translated.push(OsString::from("-Xlinker"));
            translated.push(argument.clone());
            continue;
        };
        let value = if takes_value {
            match joined {
                Some(value) => Some(value),
                None => match arguments.get(index) {
                    Some(next) => {
                        index += 1;
                        Some(next.clone())
                    }
                    None => {
                        errors.push(format!("option requires an argument -- '{name}'"));
                        continue;
                    }
                },
            }
        } else {
            None
        };
        let value_text = value.clone().unwrap_or_default();
        match action {
            LdAction::Output => {
                translated.push(OsString::from("-o"));
                translated.push(value_text);
            }
            LdAction::LibraryDirectory => {
                let mut flag = OsString::from("-L");
                flag.push(value_text);
                translated.push(flag);
            }
            LdAction::Library => {
                inputs += 1;
                let mut flag = OsString::from("-l");
                flag.push(value_text);
                translated.push(flag);
            }
            LdAction::Emulation => {
                let text = value_text.to_string_lossy();
                match target_of_emulation(&text) {
                    Some(target) => {
                        translated.push(OsString::from("--target"));
                        translated.push(OsString::from(target));
                    }
                    None => errors.push(format!(
                        "unrecognised emulation mode: {text} (unik targets: elf_x86_64, aarch64linux)"
                    )),
                }
            }
            LdAction::Pass => {
                translated.push(OsString::from("-Xlinker"));
                translated.push(OsString::from(name));
                if let Some(value) = value {
                    translated.push(OsString::from("-Xlinker"));
                    translated.push(value);
                }
            }
            LdAction::Ignore => {}
            LdAction::Version => return Ok(LdRequest::Version),
            LdAction::Help => return Ok(LdRequest::Help),
            LdAction::Refuse(reason) => errors.push(format!("{name}: {reason}")),
        }
    }
    if errors.is_empty() && inputs == 0 {
        errors.push("no input files".to_string());
    }
    if errors.is_empty() {
        Ok(LdRequest::Link(translated))
    } else {
        Err(errors)
    }
}

/// Finds the row for an option: exact (`-shared`), joined short (`-lfoo`, `-L.`),
/// `--long=value`, or a long option written with one dash (`-output=x`).
fn find_option(bytes: &[u8]) -> Option<(&'static str, bool, LdAction, Option<OsString>)> {
    for &(name, takes_value, action) in LD_OPTIONS {
        let name_bytes = name.as_bytes();
        if bytes == name_bytes {
            return Some((name, takes_value, action, None));
        }
        if !takes_value {
            // `--build-id=sha1`, `--hash-style=gnu` style values of flags.
            if bytes
                .strip_prefix(name_bytes)
                .is_some_and(|rest| rest.starts_with(b"="))
            {
                return Some((name, false, action, None));
            }
            continue;
        }
        let Some(rest) = bytes.strip_prefix(name_bytes) else {
            continue;
        };
        let value = if name_bytes.len() == 2 {
            // Short options join their value: `-lfoo`, `-zrelro`.
            rest
        } else if let Some(value) = rest.strip_prefix(b"=") {
            value
        } else {
            continue;
        };
        return Some((
            name,
            takes_value,
            action,
            Some(OsString::from(std::ffi::OsStr::from_bytes(value))),
        ));
    }
    // `--long-option` written `-long-option`, as GNU ld allows.
    if bytes.len() > 2 && bytes[1] != b'-' {
        let mut doubled = b"-".to_vec();
        doubled.extend_from_slice(bytes);
        let found = find_option(&doubled)?;
        if found.0.starts_with("--") {
            return Some(found);
        }
    }
    None
}

const LD_HELP: &str = "\
Usage: unikld [options] file...
Links objects and archives with the unik library OS into one bootable image,
taking GNU ld's options (the linking is done by LLD through unikcc).

  -o FILE  -L DIR  -lNAME  -m elf_x86_64|aarch64linux
  -z KEYWORD  --defsym SYM=EXPR  -Map FILE  -u SYM  --wrap SYM
  --start-group … --end-group  --whole-archive …  --gc-sections  -s  -S
                       passed to LLD
  -static -Bstatic -rpath -soname -dynamic-linker --hash-style --build-id -pie
                       accepted; they change nothing in a static image
  -shared -r -T -e -Ttext
                       refused with the reason
";

/// Runs the ld entry; returns the exit status. `default_target` comes from a
/// target-prefixed program name (`aarch64-unik-ld`).
pub fn main(
    arguments: &[OsString],
    default_target: Option<&str>,
    environment: &Environment,
) -> i32 {
    match translate(arguments) {
        Ok(LdRequest::Version) => {
            // libtool and configure scripts look for "GNU" to learn the linker
            // takes GNU ld's options.
            println!(
                "{PROGRAM} (unik) {} (compatible with GNU ld; links with LLD)",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Ok(LdRequest::Help) => {
            print!("{LD_HELP}");
            0
        }
        Ok(LdRequest::Link(translated)) => {
            let mut unikcc_arguments = Vec::new();
            if let Some(target) = default_target {
                unikcc_arguments.push(OsString::from("--target"));
                unikcc_arguments.push(OsString::from(target));
            }
            unikcc_arguments.extend(translated);
            super::main(&unikcc_arguments, environment)
        }
        Err(errors) => {
            for error in errors {
                eprintln!("{PROGRAM}: error: {error}");
            }
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &[&str]) -> Vec<OsString> {
        text.iter().map(OsString::from).collect()
    }

    fn link(text: &[&str]) -> Vec<OsString> {
        match translate(&words(text)) {
            Ok(LdRequest::Link(arguments)) => arguments,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn a_makefile_link_line() {
        assert_eq!(
            link(&[
                "-m",
                "elf_x86_64",
                "-o",
                "app",
                "main.o",
                "-L.",
                "-L",
                "lib",
                "-lfoo",
                "--start-group",
                "b.a",
                "--end-group",
                "-z",
                "norelro",
                "--defsym=x=1",
                "-static",
                "--hash-style=gnu",
                "-rpath",
                "/usr/lib",
                "--gc-sections",
            ]),
            words(&[
                "-g",
                "--target",
                "x86_64",
                "-o",
                "app",
                "main.o",
                "-L.",
                "-Llib",
                "-lfoo",
                "-Xlinker",
                "--start-group",
                "b.a",
                "-Xlinker",
                "--end-group",
                "-Xlinker",
                "-z",
                "-Xlinker",
                "norelro",
                "-Xlinker",
                "--defsym",
                "-Xlinker",
                "x=1",
                "-Xlinker",
                "--gc-sections",
            ])
        );
        assert_eq!(
            link(&["-maarch64linux", "--output=o", "a.o"])[1..],
            words(&["--target", "aarch64", "-o", "o", "a.o"])
        );
    }

    #[test]
    fn queries() {
        assert_eq!(translate(&words(&["-v"])), Ok(LdRequest::Version));
        assert_eq!(translate(&words(&["--version"])), Ok(LdRequest::Version));
        assert_eq!(translate(&words(&["--help"])), Ok(LdRequest::Help));
    }

    #[test]
    fn refusals_give_the_reason() {
        assert_eq!(
            translate(&words(&["-shared", "a.o", "-T", "x.ld", "-m", "elf_i386"])),
            Err(vec![
                "-shared: a unikernel is one static image; shared libraries are not supported"
                    .to_string(),
                "-T: the unik target's linker script lays out the image; another script would not boot"
                    .to_string(),
                "unrecognised emulation mode: elf_i386 (unik targets: elf_x86_64, aarch64linux)"
                    .to_string(),
            ])
        );
        assert_eq!(
            translate(&words(&["-o", "x"])),
            Err(vec!["no input files".to_string()])
        );
        assert_eq!(
            translate(&words(&["a.o", "-o"])),
            Err(vec!["option requires an argument -- '-o'".to_string()])
        );
    }
}
