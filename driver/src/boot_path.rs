//! `unik run --machine NAME`: which way an image boots under QEMU.
//!
//! | `--machine` | image | QEMU |
//! |---|---|---|
//! | (none) | any | the target's machine (`targets/<name>.toml`), QEMU loads the image (`-kernel`) |
//! | `raspi4b` | a `--target raspi4b` image | `-M raspi4b` with the board's device tree (`-dtb`) |
//! | `uboot` | an aarch64 `--format image` | `-M virt -bios u-boot.bin`: U-Boot boots the Image with `booti` |
//! | `pc-grub` | an x86_64 image | `-M pc`: SeaBIOS boots GRUB from the `unik iso` ISO, GRUB the image (Multiboot2) |
//! | `uefi` | an x86_64 image | `-M q35` with OVMF in flash: GRUB EFI from the same ISO |
//! | another | any | that QEMU machine (`-M`), e.g. `q35` |
//!
//! **U-Boot.** Debian's `u-boot-qemu` builds `qemu_arm64` with `qfw` (QEMU's fw_cfg) as
//! its first distro boot target: with `-bios u-boot.bin -kernel app.Image -append …`
//! QEMU hands U-Boot the Image and the command line through fw_cfg, and U-Boot's
//! `bootcmd_qfw` runs `qfw load` (which also sets `bootargs`) and `booti` with the
//! device tree QEMU made; `booti` moves the Image to text_offset above RAM's start, its
//! link address. No disk, script or environment is needed; U-Boot waits its
//! `bootdelay` (2 s) first, and a key pressed on the console then stops it at its
//! prompt. U-Boot's own messages precede the program's on the console: `unik run`
//! drops them up to U-Boot's `Starting kernel ...` line ([`ConsoleFilter`]), and shows
//! them on stderr when the Image never started.
//!
//! **GRUB.** SeaBIOS, OVMF and GRUB write on the serial ports (OVMF on both) before
//! the program starts; the runtime writes a mark on both when it starts the program
//! (`unik.start-mark` on the command line), and the console up to it is dropped the
//! same way.

use std::path::PathBuf;

use crate::discovery::Environment;
use crate::error::{Error, Result};
use crate::iso::{self, FirmwareMachine};
use crate::target::TargetSpec;

/// `--machine uboot`.
pub const UBOOT: &str = "uboot";
/// U-Boot's last line before it jumps to the Image (common/bootm_os.c, with the
/// console's CR LF line ends), and the empty line after it.
pub const UBOOT_HANDOVER: &[u8] = b"Starting kernel ...\r\n\r\n";
/// Debian `u-boot-qemu`'s U-Boot for QEMU `virt` on aarch64.
const UBOOT_FIRMWARE: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
/// Where `.ci/install` extracts board device trees (from Debian's arm64 kernel package).
const DEVICE_TREE_DIRECTORY: &str = "/usr/local/share/unik/dtbs";

/// How `unik run` boots the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootPath {
    /// QEMU loads the image on this machine.
    Direct { machine: String },
    /// U-Boot (the path to its u-boot.bin) on QEMU `virt` boots the Image.
    UBoot { firmware: PathBuf },
    /// The machine's firmware boots GRUB from an ISO, GRUB the image.
    Firmware(FirmwareBoot),
}

/// How a firmware machine (`--machine pc-grub|uefi`) boots: the ISO (made by `unik
/// run` in its temporary directory), and for UEFI the firmware and its variable store
/// (a writable copy there once the ISO is made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareBoot {
    pub machine: FirmwareMachine,
    pub iso: PathBuf,
    pub ovmf: Option<iso::Ovmf>,
}

/// The resolved boot: path and the board's device tree, if the target names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    pub path: BootPath,
    pub device_tree: Option<PathBuf>,
}

impl Boot {
    /// The target's own machine, files not looked up (for tests and `--dry-run`
    /// callers that build the command line by hand).
    pub fn direct(machine: &str) -> Self {
        Boot {
            path: BootPath::Direct {
                machine: machine.to_string(),
            },
            device_tree: None,
        }
    }

    /// The QEMU machine (`-M`).
    pub fn machine(&self) -> &str {
        match &self.path {
            BootPath::Direct { machine } => machine,
            BootPath::UBoot { .. } => "virt",
            BootPath::Firmware(firmware) => firmware.machine.qemu_machine(),
        }
    }

    /// Whether the console starts with firmware output to drop.
    pub fn console_filter(&self) -> ConsoleFilter {
        match self.path {
            BootPath::Direct { .. } => ConsoleFilter::passing(),
            BootPath::UBoot { .. } => ConsoleFilter::until(UBOOT_HANDOVER),
            BootPath::Firmware(_) => ConsoleFilter::until(iso::START_MARK),
        }
    }
}

/// Decides how an image of `spec` boots with `--machine machine`. `is_arm64_image`:
/// the file is a Linux arm64 Image (`--format image`), not an ELF.
pub fn resolve(
    environment: &Environment,
    spec: &TargetSpec,
    machine: Option<&str>,
    is_arm64_image: bool,
) -> Result<Boot> {
    let path = choose(spec, machine, is_arm64_image)?;
    let path = match path {
        Choice::Direct(machine) => BootPath::Direct { machine },
        Choice::UBoot => BootPath::UBoot {
            firmware: find_uboot(environment)?,
        },
        Choice::Firmware(machine) => BootPath::Firmware(FirmwareBoot {
            machine,
            iso: PathBuf::from("boot.iso"),
            ovmf: match machine {
                FirmwareMachine::Uefi => Some(iso::find_ovmf(
                    &environment
                        .get("UNIK_OVMF_DIR")
                        .map_or_else(|| PathBuf::from("/usr/share/OVMF"), PathBuf::from),
                )?),
                FirmwareMachine::PcGrub => None,
            },
        }),
    };
    let device_tree = match (&path, &spec.qemu.dtb) {
        (BootPath::Direct { .. }, Some(name)) => Some(find_device_tree(environment, name)?),
        _ => None,
    };
    Ok(Boot { path, device_tree })
}

/// [`resolve`] without the file look-ups.
#[derive(Debug, PartialEq, Eq)]
enum Choice {
    Direct(String),
    UBoot,
    Firmware(FirmwareMachine),
}

fn choose(spec: &TargetSpec, machine: Option<&str>, is_arm64_image: bool) -> Result<Choice> {
    let boards: Vec<TargetSpec> = TargetSpec::all()?
        .into_iter()
        .filter(|target| target.qemu.dtb.is_some())
        .collect();
    let is_board = boards.iter().any(|board| board.name == spec.name);
    match machine {
        None => Ok(Choice::Direct(spec.qemu.machine.clone())),
        Some(UBOOT) => {
            if is_board || spec.qemu.machine != "virt" {
                return Err(Error::Usage(format!(
                    "--machine uboot: U-Boot boots aarch64 Images on QEMU virt; this image is \
                     for the {} target (build it with --target aarch64 --format image)",
                    spec.name
                )));
            }
            if !is_arm64_image {
                return Err(Error::Usage(
                    "--machine uboot: U-Boot's booti takes a Linux arm64 Image, not an ELF \
                     (build with unikcc --target aarch64 --format image)"
                        .to_string(),
                ));
            }
            Ok(Choice::UBoot)
        }
        Some(wanted) if FirmwareMachine::parse(wanted).is_some() => {
            if spec.arch != target_lexicon::Architecture::X86_64 {
                return Err(Error::Usage(format!(
                    "--machine {wanted}: GRUB boots x86_64 images; this image is for the {} \
                     target",
                    spec.name
                )));
            }
            Ok(Choice::Firmware(
                FirmwareMachine::parse(wanted).unwrap_or(FirmwareMachine::PcGrub),
            ))
        }
        Some(wanted) if wanted == spec.qemu.machine => Ok(Choice::Direct(wanted.to_string())),
        Some(wanted) => {
            if let Some(board) = boards.iter().find(|board| board.qemu.machine == wanted) {
                return Err(Error::Usage(format!(
                    "--machine {wanted}: this image is for the {} target; the board needs an \
                     image linked for it (unikcc --target {})",
                    spec.name, board.name
                )));
            }
            if is_board {
                return Err(Error::Usage(format!(
                    "--machine {wanted}: this image is for the {} board and runs only on \
                     machine {} (rebuild it for another target)",
                    spec.name, spec.qemu.machine
                )));
            }
            Ok(Choice::Direct(wanted.to_string()))
        }
    }
}

/// U-Boot for QEMU `virt`: `$UNIK_UBOOT`, else Debian `u-boot-qemu`'s.
pub fn find_uboot(environment: &Environment) -> Result<PathBuf> {
    let path = environment
        .get_text("UNIK_UBOOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(UBOOT_FIRMWARE));
    if path.is_file() {
        return Ok(path);
    }
    Err(Error::ToolNotFound {
        tool: "U-Boot",
        searched: path.display().to_string(),
        hint: "on Debian: apt-get install u-boot-qemu (or point UNIK_UBOOT at a qemu_arm64 u-boot.bin)"
            .to_string(),
    })
}

/// A board's device tree blob `name`: in `$UNIK_DTB_DIR`, else where `.ci/install`
/// puts it, else in an installed Debian arm64 kernel's directory (on an arm64 host).
pub fn find_device_tree(environment: &Environment, name: &str) -> Result<PathBuf> {
    let mut directories: Vec<PathBuf> = Vec::new();
    if let Some(directory) = environment.get_text("UNIK_DTB_DIR") {
        directories.push(PathBuf::from(directory));
    }
    directories.push(PathBuf::from(DEVICE_TREE_DIRECTORY));
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        let mut kernels: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("linux-image-"))
            })
            .map(|path| path.join("broadcom"))
            .collect();
        kernels.sort();
        directories.extend(kernels.into_iter().rev());
    }
    for directory in &directories {
        let candidate = directory.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::ToolNotFound {
        tool: "board device tree (.dtb)",
        searched: directories
            .iter()
            .map(|directory| directory.join(name).display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        hint: format!(
            "run .ci/install (it extracts {name} from Debian's linux-image-*-arm64 package), \
             or point UNIK_DTB_DIR at a directory holding it"
        ),
    })
}

/// Drops the console's first bytes up to and including a marker (firmware output
/// before the program's), passing everything after it through. Bytes are held back
/// only while they could still be the start of the marker.
#[derive(Debug, Clone)]
pub struct ConsoleFilter {
    marker: Option<&'static [u8]>,
    dropped: Vec<u8>,
}

impl ConsoleFilter {
    pub fn passing() -> Self {
        ConsoleFilter {
            marker: None,
            dropped: Vec::new(),
        }
    }

    pub fn until(marker: &'static [u8]) -> Self {
        ConsoleFilter {
            marker: Some(marker),
            dropped: Vec::new(),
        }
    }

    /// The bytes of `input` to pass on.
    pub fn feed<'input>(&mut self, input: &'input [u8]) -> std::borrow::Cow<'input, [u8]> {
        let Some(marker) = self.marker else {
            return std::borrow::Cow::Borrowed(input);
        };
        self.dropped.extend_from_slice(input);
        match find(&self.dropped, marker) {
            Some(position) => {
                let after = self.dropped.split_off(position + marker.len());
                self.marker = None;
                self.dropped.clear();
                std::borrow::Cow::Owned(after)
            }
            None => std::borrow::Cow::Borrowed(&[]),
        }
    }

    /// At the end of the output: what was dropped if the marker never came (the
    /// firmware's messages, which then say why the program did not start).
    pub fn unfinished(self) -> Option<Vec<u8>> {
        self.marker.map(|_| self.dropped)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// QEMU's lines on stderr that say nothing to a user: `-M raspi4b` warns for each
/// device of the Linux device tree it does not model.
pub fn is_qemu_noise(line: &[u8]) -> bool {
    find(line, b"warning: bcm2711 dtc: ").is_some() && find(line, b"has been disabled").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> TargetSpec {
        TargetSpec::find(name).unwrap()
    }

    #[test]
    fn machines_resolve_per_target_and_format() {
        let virt = spec("aarch64");
        let board = spec("raspi4b");
        assert_eq!(
            choose(&virt, None, false).unwrap(),
            Choice::Direct("virt".into())
        );
        assert_eq!(
            choose(&board, None, true).unwrap(),
            Choice::Direct("raspi4b".into())
        );
        assert_eq!(
            choose(&board, Some("raspi4b"), true).unwrap(),
            Choice::Direct("raspi4b".into())
        );
        assert_eq!(choose(&virt, Some("uboot"), true).unwrap(), Choice::UBoot);
        assert_eq!(
            choose(&spec("x86_64"), Some("q35"), false).unwrap(),
            Choice::Direct("q35".into())
        );
        let refusal = |spec: &TargetSpec, machine: &str, image: bool| {
            choose(spec, Some(machine), image).unwrap_err().to_string()
        };
        assert!(
            refusal(&virt, "uboot", false).contains("takes a Linux arm64 Image, not an ELF"),
            "{}",
            refusal(&virt, "uboot", false)
        );
        assert!(refusal(&board, "uboot", true).contains("for the raspi4b target"));
        assert!(refusal(&spec("x86_64"), "uboot", false).contains("for the x86_64 target"));
        assert!(refusal(&virt, "raspi4b", true).contains("unikcc --target raspi4b"));
        assert!(refusal(&board, "virt", true).contains("runs only on machine raspi4b"));
        assert_eq!(
            choose(&spec("x86_64"), Some("uefi"), false).unwrap(),
            Choice::Firmware(FirmwareMachine::Uefi)
        );
        assert_eq!(
            refusal(&virt, "pc-grub", false),
            "--machine pc-grub: GRUB boots x86_64 images; this image is for the aarch64 target"
        );
    }

    #[test]
    fn the_console_filter_drops_up_to_the_marker() {
        let mut filter = ConsoleFilter::until(UBOOT_HANDOVER);
        assert_eq!(&*filter.feed(b"U-Boot 2023.01\r\nStarting ker"), b"");
        assert_eq!(&*filter.feed(b"nel ...\r\n\r\nHello"), b"Hello");
        assert_eq!(&*filter.feed(b", world!\n"), b", world!\n");
        assert_eq!(filter.unfinished(), None);

        let mut filter = ConsoleFilter::until(UBOOT_HANDOVER);
        assert_eq!(&*filter.feed(b"Wrong Image Format\r\n=> "), b"");
        assert_eq!(
            filter.unfinished().as_deref(),
            Some(&b"Wrong Image Format\r\n=> "[..])
        );

        let mut passing = ConsoleFilter::passing();
        assert_eq!(&*passing.feed(b"abc"), b"abc");
        assert_eq!(passing.unfinished(), None);
    }

    #[test]
    fn only_the_board_warnings_are_noise() {
        assert!(is_qemu_noise(
            b"qemu-system-aarch64: warning: bcm2711 dtc: brcm,bcm2711-pcie has been disabled!"
        ));
        assert!(!is_qemu_noise(b"qemu-system-aarch64: -kernel: not found"));
    }

    #[test]
    fn missing_files_are_named_with_a_hint() {
        let environment = Environment::from_pairs([(
            "UNIK_UBOOT",
            std::ffi::OsStr::new("/nonexistent/u-boot.bin"),
        )]);
        let message = find_uboot(&environment).unwrap_err().to_string();
        assert!(message.contains("/nonexistent/u-boot.bin"), "{message}");
        assert!(message.contains("u-boot-qemu"), "{message}");
        let message = find_device_tree(&environment, "no-such-board.dtb")
            .unwrap_err()
            .to_string();
        assert!(message.contains("no-such-board.dtb"), "{message}");
        assert!(message.contains(".ci/install"), "{message}");
    }
}
