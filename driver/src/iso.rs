//! `unik iso`: a GRUB rescue image (one hybrid ISO for BIOS and UEFI machines) that
//! boots an x86_64 image through Multiboot2, and the firmware machines of `unik run`
//! (`--machine pc-grub`: SeaBIOS + GRUB on QEMU `pc`; `--machine uefi`: OVMF + GRUB
//! EFI on QEMU `q35`).
//!
//! The ISO holds the image as `/boot/unik.img` and a `grub.cfg` that turns on GRUB's
//! serial console (COM1, 115200 8N1), waits for nothing (timeout 0) and loads the image
//! with `multiboot2`, the command line after it. `grub-mkrescue` builds it (GRUB's
//! i386-pc and x86_64-efi platforms, xorriso, mtools for the EFI partition).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::discovery::Environment;
use crate::error::{Error, Result};

/// The Debian packages `unik iso` needs.
pub const GRUB_PACKAGES: &str = "grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools";
/// Where Debian installs GRUB's platform directories.
const GRUB_LIBRARY: &str = "/usr/lib/grub";
/// The ISO's copies of the image and of the initrd.
const IMAGE_IN_ISO: &str = "boot/unik.img";
const INITRD_IN_ISO: &str = "boot/initrd.cpio";

/// The Multiboot2 header magic (Multiboot2 specification 3.1.2).
const MULTIBOOT2_HEADER_MAGIC: u32 = 0xe852_50d6;
/// The header must lie 8-byte aligned in the first 32 KiB of the file (3.1.1).
const MULTIBOOT2_SEARCH_LIMIT: usize = 32 * 1024;

/// A `unik run` machine that boots the image through firmware and GRUB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmwareMachine {
    /// QEMU `pc` with SeaBIOS, GRUB for BIOS from the ISO.
    PcGrub,
    /// QEMU `q35` with OVMF, GRUB EFI from the same ISO.
    Uefi,
}

impl FirmwareMachine {
    /// The `--machine` names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pc-grub" => Some(Self::PcGrub),
            "uefi" => Some(Self::Uefi),
            _ => None,
        }
    }

    /// The QEMU machine type.
    pub fn qemu_machine(self) -> &'static str {
        match self {
            Self::PcGrub => "pc",
            Self::Uefi => "q35",
        }
    }

    /// GRUB's platform directory this machine boots from.
    fn grub_platform(self) -> &'static str {
        match self {
            Self::PcGrub => "i386-pc",
            Self::Uefi => "x86_64-efi",
        }
    }
}

/// The UEFI firmware: OVMF's code (read-only) and the template of its variable store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ovmf {
    pub code: PathBuf,
    pub variables: PathBuf,
}

/// Finds OVMF in `directory` (Debian's `ovmf` installs /usr/share/OVMF): the 4 MiB
/// build (bookworm), else the 2 MiB one.
pub fn find_ovmf(directory: &Path) -> Result<Ovmf> {
    let pairs = [
        ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"),
        ("OVMF_CODE.fd", "OVMF_VARS.fd"),
    ];
    pairs
        .iter()
        .map(|(code, variables)| Ovmf {
            code: directory.join(code),
            variables: directory.join(variables),
        })
        .find(|ovmf| ovmf.code.is_file() && ovmf.variables.is_file())
        .ok_or_else(|| Error::ToolNotFound {
            tool: "UEFI firmware (OVMF)",
            searched: format!(
                "{}/OVMF_CODE_4M.fd and OVMF_CODE.fd with their VARS files",
                directory.display()
            ),
            hint: "on Debian: apt-get install ovmf".to_string(),
        })
}

/// Whether the image carries a valid Multiboot2 header where GRUB looks for it.
pub fn has_multiboot2_header(bytes: &[u8]) -> bool {
    let searched = &bytes[..bytes.len().min(MULTIBOOT2_SEARCH_LIMIT)];
    searched.chunks_exact(8).enumerate().any(|(index, _)| {
        let field = |at: usize| -> Option<u32> {
            let start = index * 8 + at * 4;
            let word = bytes.get(start..start + 4)?;
            Some(u32::from_le_bytes(word.try_into().ok()?))
        };
        match (field(0), field(1), field(2), field(3)) {
            (Some(magic), Some(architecture), Some(length), Some(checksum)) => {
                magic == MULTIBOOT2_HEADER_MAGIC
                    && magic
                        .wrapping_add(architecture)
                        .wrapping_add(length)
                        .wrapping_add(checksum)
                        == 0
            }
            _ => false,
        }
    })
}

/// One word of the kernel command line as a GRUB script word: single-quoted (GRUB
/// expands nothing inside), a `'` written as `'\''`. GRUB hands the words to the
/// image joined by spaces, with `"…"` around words holding a space and `\` before
/// `"`, `\` and `'`: the runtime's command line rules undo exactly that.
pub fn grub_word(word: &[u8]) -> Result<String> {
    if word.is_empty() {
        return Err(Error::Usage(
            "an empty argument cannot travel on GRUB's command line (GRUB drops it)".to_string(),
        ));
    }
    if let Some(&byte) = word.iter().find(|&&byte| byte < 0x20 || byte == 0x7f) {
        return Err(Error::Usage(format!(
            "the argument `{}` holds the control character {byte:#04x}, which a GRUB \
             command line cannot carry",
            String::from_utf8_lossy(word).escape_debug()
        )));
    }
    // GRUB writes a word holding a blank as "…" with `\'` for each single quote, which
    // the runtime's rules (inside "…" only `\"` and `\\` escape) keep as two bytes.
    if word.contains(&b' ') && word.contains(&b'\'') {
        return Err(Error::Usage(format!(
            "the argument `{}` holds both a blank and a single quote, which GRUB's \
             command line cannot carry in one word",
            String::from_utf8_lossy(word)
        )));
    }
    let text = std::str::from_utf8(word).map_err(|_| {
        Error::Usage(format!(
            "the argument `{}` is not UTF-8, which grub.cfg needs",
            String::from_utf8_lossy(word)
        ))
    })?;
    Ok(format!("'{}'", text.replace('\'', r"'\''")))
}

/// The grub.cfg: serial console on COM1 (and the machine's console), no menu, the
/// image loaded with `multiboot2` and the command line `words`, the initrd (if any)
/// with `module2` (the runtime takes the first Multiboot2 module as its initrd). On
/// BIOS machines the screen stays in EGA text mode (`gfxpayload=text`, set after
/// `multiboot2`, whose framebuffer header tag asks for "auto"); under UEFI, which has
/// no text mode, GRUB hands over the GOP framebuffer (its video drivers are modules:
/// `insmod all_video`).
pub fn grub_config(image_name: &str, words: &[Vec<u8>], initrd: bool) -> Result<String> {
    let mut line = format!("multiboot2 /{IMAGE_IN_ISO}");
    for word in words {
        line.push(' ');
        line.push_str(&grub_word(word)?);
    }
    if initrd {
        line.push_str(&format!("\n    module2 /{INITRD_IN_ISO}"));
    }
    let title = grub_word(format!("unik: {image_name}").as_bytes())?;
    Ok(format!(
        "# Made by `unik iso`: boots the unik image {image_name} through Multiboot2,\n\
         # on BIOS (GRUB i386-pc) and UEFI (GRUB x86_64-efi) machines.\n\
         serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1\n\
         terminal_input serial console\n\
         terminal_output serial console\n\
         insmod all_video\n\
         set timeout=0\n\
         set timeout_style=hidden\n\
         menuentry {title} {{\n\
         \x20   {line}\n\
         \x20   if [ \"$grub_platform\" = pc ]; then set gfxpayload=text; fi\n\
         \x20   boot\n\
         }}\n"
    ))
}

/// Checks that `image` can boot from an ISO: an x86_64 unik image with a Multiboot2
/// header.
pub fn check_image(image: &Path) -> Result<()> {
    let spec = crate::run::image_target(image)?;
    if spec.arch != target_lexicon::Architecture::X86_64 {
        return Err(Error::Usage(format!(
            "{}: an {} image; GRUB ISOs (unik iso, --machine pc-grub/uefi) boot x86_64 images",
            image.display(),
            spec.name
        )));
    }
    let bytes = fs::read(image).map_err(|source| Error::io("cannot read", image, source))?;
    if !has_multiboot2_header(&bytes) {
        return Err(Error::Usage(format!(
            "{}: no Multiboot2 header in the first 32 KiB (an image linked by an older \
             unikcc? link it again)",
            image.display()
        )));
    }
    refuse_relocation_sections(image, &bytes)
}

/// GRUB's Multiboot2 ELF loader (2.06, grub-core/loader/multiboot_elfxx.c) stops at
/// any SHT_REL or SHT_RELA section ("ELF files with relocs are not supported yet")
/// and the ISO would not boot. A unik image has one only for pointers at unaligned
/// addresses: say where the first is.
fn refuse_relocation_sections(image: &Path, bytes: &[u8]) -> Result<()> {
    let sections = crate::link::relocations::relocation_sections(bytes)
        .map_err(|message| Error::Usage(format!("{}: {message}", image.display())))?;
    let Some(section) = sections.first() else {
        return Ok(());
    };
    let place = match &section.first {
        Some((address, Some(symbol))) => format!("{address:#x} in `{symbol}`"),
        Some((address, None)) => format!("{address:#x}"),
        None => "?".to_string(),
    };
    let pointers = match section.entries {
        1 => format!("a pointer at an unaligned address, as in a packed struct: {place}"),
        count => format!(
            "{count} pointers at unaligned addresses, as in a packed struct; the first: {place}"
        ),
    };
    Err(Error::Usage(format!(
        "{}: GRUB's Multiboot2 loader refuses ELF files with a relocation section, and this \
         image has `{}` ({pointers}); align those pointers, or boot the image through PVH \
         (unik run without --machine)",
        image.display(),
        section.name,
    )))
}

/// Finds a tool the ISO build needs, or says which Debian package has it.
fn require_tool(environment: &Environment, name: &str) -> Result<PathBuf> {
    environment
        .find_program(OsStr::new(name))
        .ok_or_else(|| Error::ToolNotFound {
            tool: match name {
                "grub-mkrescue" => "grub-mkrescue",
                "xorriso" => "xorriso",
                _ => "mformat",
            },
            searched: format!("{name} in PATH"),
            hint: format!("on Debian: apt-get install {GRUB_PACKAGES}"),
        })
}

/// Builds the ISO at `output` for `image` (and `initrd`) with the kernel command line
/// `words` (parameters, `--`, argv). `platforms` are the GRUB platforms it must boot on.
pub fn build(
    environment: &Environment,
    image: &Path,
    initrd: Option<&Path>,
    words: &[Vec<u8>],
    output: &Path,
    platforms: &[FirmwareMachine],
) -> Result<()> {
    check_image(image)?;
    let grub_mkrescue = require_tool(environment, "grub-mkrescue")?;
    require_tool(environment, "xorriso")?;
    require_tool(environment, "mformat")?;
    let library = environment
        .get("UNIK_GRUB_LIBRARY")
        .map_or_else(|| PathBuf::from(GRUB_LIBRARY), PathBuf::from);
    for platform in platforms {
        let directory = library.join(platform.grub_platform());
        if !directory.is_dir() {
            let package = match platform {
                FirmwareMachine::PcGrub => "grub-pc-bin",
                FirmwareMachine::Uefi => "grub-efi-amd64-bin",
            };
            return Err(Error::ToolNotFound {
                tool: "GRUB platform files",
                searched: directory.display().to_string(),
                hint: format!("on Debian: apt-get install {package} (all of: {GRUB_PACKAGES})"),
            });
        }
    }
    let staging = crate::error::temporary_directory("unik-iso-")?;
    let grub_directory = staging.path().join("boot/grub");
    fs::create_dir_all(&grub_directory)
        .map_err(|source| Error::io("cannot create", &grub_directory, source))?;
    let image_name = image
        .file_name()
        .map_or_else(|| "app".into(), |name| name.to_string_lossy());
    let config = grub_config(&image_name, words, initrd.is_some())?;
    let config_path = grub_directory.join("grub.cfg");
    fs::write(&config_path, config)
        .map_err(|source| Error::io("cannot write", &config_path, source))?;
    let copy = staging.path().join(IMAGE_IN_ISO);
    fs::copy(image, &copy).map_err(|source| Error::io("cannot copy", image, source))?;
    if let Some(initrd) = initrd {
        crate::run::check_initrd(initrd)?;
        let copy = staging.path().join(INITRD_IN_ISO);
        fs::copy(initrd, &copy).map_err(|source| Error::io("cannot copy", initrd, source))?;
    }
    let mut command = Command::new(&grub_mkrescue);
    command
        .arg("-o")
        .arg(output)
        .arg(staging.path())
        .env("PATH", environment.get("PATH").unwrap_or(OsStr::new("")));
    let result = command.output().map_err(|source| Error::Spawn {
        program: grub_mkrescue.clone(),
        source,
    })?;
    if !result.status.success() {
        let _ = fs::remove_file(output);
        return Err(Error::UnsuitableTool {
            program: grub_mkrescue,
            message: format!(
                "failed ({}): {}",
                result.status,
                String::from_utf8_lossy(&result.stderr).trim_end()
            ),
        });
    }
    Ok(())
}

/// The words of a kernel command line for GRUB: `parameters`, `--`, `arguments`.
pub fn command_line_words(parameters: &[OsString], arguments: &[OsString]) -> Vec<Vec<u8>> {
    parameters
        .iter()
        .map(|word| word.as_bytes().to_vec())
        .chain(std::iter::once(b"--".to_vec()))
        .chain(arguments.iter().map(|word| word.as_bytes().to_vec()))
        .collect()
}

/// What the runtime writes on both consoles with `unik.start-mark` when the program
/// starts (runtime/kernel, command_line.rs): `unik run` drops the firmware's output up
/// to it (boot_path::ConsoleFilter).
pub const START_MARK: &[u8] = b"\x1b]unik;start\x07";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_words_are_single_quoted() {
        assert_eq!(grub_word(b"hello.img").unwrap(), "'hello.img'");
        assert_eq!(grub_word(b"two words").unwrap(), "'two words'");
        assert_eq!(grub_word(b"it's").unwrap(), r"'it'\''s'");
        assert_eq!(grub_word(b"$HOME \\ \"x\"").unwrap(), "'$HOME \\ \"x\"'");
        assert_eq!(
            grub_word(b"").unwrap_err().to_string(),
            "an empty argument cannot travel on GRUB's command line (GRUB drops it)"
        );
        assert_eq!(
            grub_word(b"it's here").unwrap_err().to_string(),
            "the argument `it's here` holds both a blank and a single quote, which GRUB's \
             command line cannot carry in one word"
        );
        assert_eq!(
            grub_word(b"a\nb").unwrap_err().to_string(),
            "the argument `a\\nb` holds the control character 0x0a, which a GRUB command \
             line cannot carry"
        );
    }

    #[test]
    fn config_boots_the_image_with_multiboot2() {
        let words = command_line_words(
            &[OsString::from("A=1")],
            &[OsString::from("app.img"), OsString::from("x y")],
        );
        let config = grub_config("app.img", &words, false).unwrap();
        assert!(
            config.contains("    multiboot2 /boot/unik.img 'A=1' '--' 'app.img' 'x y'\n"),
            "{config}"
        );
        assert!(config.contains("set timeout=0\n"), "{config}");
        assert!(
            config.contains("serial --unit=0 --speed=115200"),
            "{config}"
        );
        assert!(
            config.contains("terminal_output serial console\n"),
            "{config}"
        );
        assert!(config.contains("menuentry 'unik: app.img' {\n"), "{config}");
        // The screen: video drivers, and text mode on BIOS set after `multiboot2`
        // (whose framebuffer header tag sets gfxpayload itself).
        assert!(config.contains("insmod all_video\n"), "{config}");
        assert!(
            config.contains(
                "'x y'\n    if [ \"$grub_platform\" = pc ]; then set gfxpayload=text; fi\n"
            ),
            "{config}"
        );
        assert!(!config.contains("module2"), "{config}");
        let config = grub_config("app.img", &words, true).unwrap();
        assert!(
            config.contains(
                "'x y'\n    module2 /boot/initrd.cpio\n    \
                 if [ \"$grub_platform\" = pc ]; then set gfxpayload=text; fi\n    boot\n"
            ),
            "{config}"
        );
    }

    #[test]
    fn multiboot2_header_found_only_when_valid() {
        let mut bytes = vec![0u8; 4096];
        assert!(!has_multiboot2_header(&bytes));
        let header = [
            MULTIBOOT2_HEADER_MAGIC,
            0,
            24,
            0u32.wrapping_sub(MULTIBOOT2_HEADER_MAGIC + 24),
        ];
        for (index, word) in header.iter().enumerate() {
            bytes[0x158 + index * 4..0x15c + index * 4].copy_from_slice(&word.to_le_bytes());
        }
        // 0x158 is 8-byte aligned.
        assert!(has_multiboot2_header(&bytes));
        bytes[0x158 + 12] ^= 1;
        assert!(!has_multiboot2_header(&bytes));
    }

    #[test]
    fn firmware_machines() {
        assert_eq!(
            FirmwareMachine::parse("pc-grub"),
            Some(FirmwareMachine::PcGrub)
        );
        assert_eq!(
            FirmwareMachine::parse("uefi").unwrap().qemu_machine(),
            "q35"
        );
        assert_eq!(FirmwareMachine::parse("q35"), None);
    }
}
