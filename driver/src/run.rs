//! `unik run`: boots an image under QEMU and returns the guest program's exit
//! status.
//!
//! Devices (runtime/README.md, "Exit statuses" and the console interface):
//! COM1 (the spec's console port) on our stdin/stdout, COM2 at 0x2f8 on our
//! stderr, `isa-debug-exit` at the spec's exit port, and an `isa-debugcon` at the
//! status port writing into a temporary file: the runtime writes `exit N\n` there
//! just before it exits, because isa-debug-exit's own status `(N << 1) | 1` loses
//! the top bit of N.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use target_lexicon::Architecture;
use wait_timeout::ChildExt;

use crate::boot_path::{self, Boot, BootPath, ConsoleFilter, FirmwareBoot};
use crate::cmdline;
use crate::discovery::{self, Environment};
use crate::error::{Error, Result};
use crate::iso;
use crate::symbolize::{Annotator, BacktraceStyle, Symbolizer, backtrace_environment};
use crate::target::{Console, ExitDevice, TargetSpec};

/// The exit status `unik run` returns when it stopped a guest after `--timeout`
/// (the value `timeout(1)` uses).
pub const TIMED_OUT_STATUS: i32 = 124;

/// The error console's UART: the second PC serial port (its standard I/O base and
/// IRQ), which the runtime detects at boot.
const ERROR_CONSOLE_PORT: u16 = 0x2f8;
const ERROR_CONSOLE_IRQ: u8 = 3;
/// COM1's IRQ on the PC.
const CONSOLE_IRQ: u8 = 4;

/// How long QEMU gets to exit after SIGTERM before it is killed.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// How often the wait for QEMU looks at the clock and for signals.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// With `--no-exit-device`: how long the machine may take to switch itself off after
/// the runtime printed `unik: exit status N`. One that has no way to (microvm's ACPI
/// has no `\_S5`) is stopped then, and the run ends with that status, not at the
/// timeout: the program has ended, only the machine stays on.
const POWER_OFF_GRACE: Duration = Duration::from_secs(5);

/// Which accelerator QEMU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accelerator {
    Tcg,
    Kvm,
    /// KVM when `/dev/kvm` is usable, else TCG.
    Auto,
}

impl Accelerator {
    /// Parses `tcg`, `kvm` or `auto`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "tcg" => Ok(Accelerator::Tcg),
            "kvm" => Ok(Accelerator::Kvm),
            "auto" => Ok(Accelerator::Auto),
            other => Err(Error::Usage(format!(
                "unknown accelerator `{other}` (expected tcg, kvm or auto)"
            ))),
        }
    }

    /// The default: `$UNIK_ACCEL` if set, else TCG. Not `auto`: on the machines we
    /// test on, a KVM guest takes longer to start than the whole TCG run of a small
    /// program, and TCG behaves the same everywhere.
    pub fn default_from(environment: &Environment) -> Result<Self> {
        match environment.get_text("UNIK_ACCEL") {
            Some(text) => Accelerator::parse(&text),
            None => Ok(Accelerator::Tcg),
        }
    }
}

/// Everything `unik run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub image: PathBuf,
    /// Arguments after `--`; `argv[0]` is the image's file name.
    pub arguments: Vec<OsString>,
    /// `--env KEY=VALUE` entries.
    pub environment: Vec<OsString>,
    /// QEMU machine (default: the target spec's).
    pub machine: Option<String>,
    /// QEMU CPU model, with QEMU's feature syntax (`max,-rdrand,-rdseed`, `cortex-a72`)
    /// (default: the target spec's for the accelerator).
    pub cpu: Option<String>,
    pub accelerator: Accelerator,
    /// `-m` size (default: the target spec's).
    pub memory: Option<String>,
    pub timeout: Option<Duration>,
    /// `--initrd FILE`: a cpio newc archive unpacked over the image's file tree at `/`.
    pub initrd: Option<PathBuf>,
    /// Boot log (`unik.verbose`) and the QEMU command on stderr.
    pub verbose: bool,
    /// Boot without address space layout randomization (`unik.no_aslr`): the image at
    /// its link address, heap and stack unmoved, the same addresses every run.
    pub no_aslr: bool,
    /// Print the QEMU command and run nothing.
    pub dry_run: bool,
    /// `--net` and friends (None: no network device).
    pub network: Option<crate::network::Network>,
    /// `--rng`: a virtio-rng device, the random generator's seed source on a CPU
    /// without RDRAND/RDSEED or RNDR.
    pub rng: bool,
    /// `--qemu-arg ARG`s: appended to QEMU's command line as they are.
    pub qemu_arguments: Vec<OsString>,
    /// `--no-exit-device`: no isa-debug-exit / debugcon / semihosting, as on hardware;
    /// the status comes from the runtime's `unik: exit status N` line.
    pub no_exit_device: bool,
}

/// The machine option for virtio-mmio devices (`--net`, `--rng`): microvm without ACPI
/// (so that QEMU names the transports on the command line, `virtio_mmio.device=`, where
/// the runtime finds them), virt as it is (its device tree lists them); `None` for a
/// machine without virtio-mmio transports.
pub fn with_virtio_mmio(machine: &str) -> Option<String> {
    match machine.split(',').next().unwrap_or(machine) {
        "microvm" if machine.split(',').any(|option| option == "acpi=off") => {
            Some(machine.to_string())
        }
        "microvm" => Some(format!("{machine},acpi=off")),
        "virt" => Some(machine.to_string()),
        _ => None,
    }
}

/// Whether QEMU's CPU `model` (with `--cpu`'s feature syntax) surely lacks a random
/// number instruction: an x86_64 model with both RDRAND and RDSEED switched off, or an
/// Armv8.0-8.2 core (FEAT_RNG, RNDR, is Armv8.5). For `unik run`'s hint; other models
/// may lack one too (the guest then says so).
pub fn cpu_lacks_random_instruction(arch: Architecture, model: &str) -> bool {
    let mut parts = model.split(',');
    let name = parts.next().unwrap_or_default();
    let features: Vec<&str> = parts.collect();
    let off = |feature: &str| {
        features.iter().any(|word| {
            word.strip_prefix('-') == Some(feature) || word.strip_prefix(feature) == Some("=off")
        })
    };
    match arch {
        Architecture::Aarch64(_) => matches!(
            name,
            "cortex-a35"
                | "cortex-a53"
                | "cortex-a55"
                | "cortex-a57"
                | "cortex-a72"
                | "cortex-a76"
                | "neoverse-n1"
                | "a64fx"
        ),
        _ => off("rdrand") && off("rdseed"),
    }
}

/// `unik run`'s hint for `--net` on a CPU without a random number instruction and
/// without `--rng`: the guest's sockets would fail (they need random sequence numbers
/// and ports, and never fall back to the clock).
pub fn network_randomness_hint(arch: Architecture, options: &RunOptions) -> Option<String> {
    let model = options.cpu.as_deref()?;
    (options.network.is_some() && !options.rng && cpu_lacks_random_instruction(arch, model))
        .then(|| {
            format!(
                "unik run: hint: the CPU `{model}` has no random number instruction, so the guest's sockets will fail (no seed for TCP sequence numbers and ports); add --rng to give it a virtio-rng device"
            )
        })
}

/// Reads the image's ELF header and returns its target.
pub fn image_target(path: &Path) -> Result<TargetSpec> {
    let bytes = fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    // A Linux arm64 Image (`unikcc --format image`): QEMU's -kernel loads it as one.
    if crate::image_format::is_arm64_image(&bytes) {
        // The target whose Image header address gives this text_offset (raspi4b's
        // kernel8.img: 0x80000), else the first aarch64 target.
        let text_offset = crate::image_format::text_offset(&bytes);
        if let Some(board) = TargetSpec::all()?.into_iter().find(|spec| {
            spec.image_header_address.is_some()
                && crate::image_format::expected_text_offset(spec) == text_offset
        }) {
            return Ok(board);
        }
        let aarch64 = Architecture::Aarch64(target_lexicon::Aarch64Architecture::Aarch64);
        return TargetSpec::for_arch(aarch64)?.ok_or_else(|| Error::UnsupportedArch {
            path: path.to_path_buf(),
            arch: "aarch64".to_string(),
            supported: supported_arches().unwrap_or_default(),
        });
    }
    let file = object::File::parse(&*bytes).map_err(|error| Error::NotAnImage {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    use object::Object;
    if file.format() != object::BinaryFormat::Elf {
        return Err(Error::NotAnImage {
            path: path.to_path_buf(),
            message: format!("{:?} file", file.format()),
        });
    }
    let (arch, name) = match file.architecture() {
        object::Architecture::X86_64 => (Architecture::X86_64, "x86_64"),
        object::Architecture::Aarch64 => (
            Architecture::Aarch64(target_lexicon::Aarch64Architecture::Aarch64),
            "aarch64",
        ),
        other => {
            return Err(Error::UnsupportedArch {
                path: path.to_path_buf(),
                arch: format!("{other:?}"),
                supported: supported_arches()?,
            });
        }
    };
    // A board target's ELF (`unikcc --target raspi4b --format elf`): its first
    // segment at the board's link address.
    use object::ObjectSegment;
    let lowest = file.segments().map(|segment| segment.address()).min();
    if let Some(board) = TargetSpec::all()?.into_iter().find(|spec| {
        spec.arch == arch
            && spec.image_header_address.is_some()
            && Some(spec.load_address) == lowest
    }) {
        return Ok(board);
    }
    TargetSpec::for_arch(arch)?.ok_or_else(|| {
        supported_arches().map_or_else(
            |error| error,
            |supported| Error::UnsupportedArch {
                path: path.to_path_buf(),
                arch: name.to_string(),
                supported,
            },
        )
    })
}

fn supported_arches() -> Result<String> {
    let mut arches: Vec<String> = Vec::new();
    for spec in TargetSpec::all()? {
        let arch = spec.arch.to_string();
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    Ok(arches.join(", "))
}

/// Checks that `path` is an archive the runtime's files component unpacks (a cpio
/// "newc" archive, magic `070701`, or `070702` with checksums, or such an archive
/// gzip-compressed): QEMU would pass any file, and the guest could only say so after
/// booting.
pub fn check_initrd(path: &Path) -> Result<()> {
    let mut start = Vec::new();
    fs::File::open(path)
        .and_then(|file| file.take(6).read_to_end(&mut start))
        .map_err(|source| Error::io("--initrd: cannot read", path, source))?;
    // gzip (RFC 1952 ID1 ID2): the runtime inflates it and checks its contents.
    if start == b"070701" || start == b"070702" || start.starts_with(&[0x1f, 0x8b]) {
        return Ok(());
    }
    let found = match start.as_slice() {
        [] => "the file is empty".to_string(),
        [b'B', b'Z', b'h', ..] => "a bzip2 file: only gzip compression is read".to_string(),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => {
            "an xz file: only gzip compression is read".to_string()
        }
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "a zstd file: only gzip compression is read".to_string(),
        [b'0', b'7', b'0', b'7', b'0', b'7'] => {
            "an old-format (odc) cpio archive: use -H newc".to_string()
        }
        bytes => format!(
            "it starts with {}",
            bytes
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    Err(Error::NotAnInitrd {
        path: path.to_path_buf(),
        found,
        name: path.file_name().map_or_else(
            || "initrd.cpio".into(),
            |name| name.to_string_lossy().into(),
        ),
    })
}

/// A warning when the image at `path` has no files component, so nothing would read
/// the initrd; `None` when it has one or when the image keeps no component record
/// (an arm64 Image: nothing can be said).
fn initrd_unused_warning(path: &Path) -> Option<String> {
    let record = crate::explain::read(path).ok()?;
    let has_files = record
        .components
        .iter()
        .any(|selected| selected.component == "files");
    (!has_files).then(|| {
        format!(
            "unik: warning: --initrd: {} does not use files (its program opens none, so \
             the files component that unpacks the archive is not linked); the archive is \
             passed but not read",
            path.display()
        )
    })
}

/// The file QEMU boots for `options`: the image itself, except an aarch64 ELF with
/// `--initrd` or for a board (raspi4b). QEMU's arm loader passes an initrd only to what
/// it boots as Linux (an arm64 Image: it then writes `linux,initrd-start`/`-end` into
/// the device tree and hands the tree over in x0), and on a board whose RAM starts at
/// 0 only x0 can carry the device tree; so that ELF is booted as the same program in
/// the Image format (crate::image_format), written to `work` under the image's own
/// name (argv[0] stays the image's file name).
fn boot_file(spec: &TargetSpec, options: &RunOptions, work: &Path) -> Result<PathBuf> {
    let is_aarch64 = matches!(spec.arch, Architecture::Aarch64(_));
    let is_board = spec.image_header_address.is_some();
    if (options.initrd.is_none() && !is_board) || !is_aarch64 {
        return Ok(options.image.clone());
    }
    let path = &options.image;
    let bytes = fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    if crate::image_format::is_arm64_image(&bytes) {
        return Ok(path.clone());
    }
    let image =
        crate::image_format::arm64_image(&bytes, spec.image_header_address).map_err(|error| {
            Error::Usage(format!(
                "{}: booted as an arm64 Image (for --initrd on aarch64, and on a board): {error}",
                path.display()
            ))
        })?;
    let converted = work.join(path.file_name().unwrap_or_else(|| OsStr::new("app")));
    fs::write(&converted, image).map_err(|source| Error::io("cannot write", &converted, source))?;
    Ok(converted)
}

/// Escapes a value for QEMU's `key=value,…` option syntax (a comma is doubled).
fn option_value(path: &Path) -> OsString {
    let text = path.as_os_str().to_string_lossy();
    OsString::from(text.replace(',', ",,"))
}

/// The kernel command line: `--env` entries, `unik.verbose`, `unik.no_aslr`, `--`, the image's
/// file name, the arguments (runtime/README.md, "Program start and exit").
pub fn kernel_command_line(options: &RunOptions) -> Result<Vec<u8>> {
    let (parameters, arguments) = command_line_words(options)?;
    cmdline::build(&parameters, &arguments)
}

/// The kernel command line's parameters (`--env` entries, `unik.verbose`) and argv
/// (the image's file name, the arguments).
pub fn command_line_words(options: &RunOptions) -> Result<(Vec<OsString>, Vec<OsString>)> {
    let mut parameters: Vec<OsString> = Vec::new();
    for entry in &options.environment {
        cmdline::check_environment_entry(entry)?;
        parameters.push(entry.clone());
    }
    if options.verbose {
        parameters.push(OsString::from("unik.verbose"));
    }
    if let Some(network) = &options.network {
        parameters.extend(network.kernel_parameters().into_iter().map(OsString::from));
    }
    if options.no_aslr {
        parameters.push(OsString::from("unik.no_aslr"));
    }
    let name = options
        .image
        .file_name()
        .map(OsStr::to_os_string)
        .unwrap_or_else(|| OsString::from("app"));
    let mut arguments = vec![name];
    arguments.extend(options.arguments.iter().cloned());
    Ok((parameters, arguments))
}

/// The QEMU command for `options`, with the status file at `status_file`.
pub fn qemu_command(
    qemu: &Path,
    spec: &TargetSpec,
    options: &RunOptions,
    accelerator: Accelerator,
    status_file: &Path,
    boot: &Boot,
) -> Result<Command> {
    use std::os::unix::ffi::OsStringExt;
    let (accel, cpu) = match accelerator {
        Accelerator::Kvm => ("kvm", &spec.qemu.cpu_kvm),
        Accelerator::Tcg | Accelerator::Auto => ("tcg", &spec.qemu.cpu_tcg),
    };
    let cpu = options.cpu.as_deref().unwrap_or(cpu);
    let mut machine = boot.machine().to_string();
    if let Some(network) = &options.network {
        machine = network.machine(&machine)?;
    }
    if options.rng {
        machine = with_virtio_mmio(&machine).ok_or_else(|| {
            Error::Usage(format!(
                "--rng: the {} machine has no virtio-mmio transports (virtio-rng works on microvm, the default, and on aarch64 virt)",
                machine.split(',').next().unwrap_or(&machine)
            ))
        })?;
    }
    let memory = options.memory.as_deref().unwrap_or(&spec.qemu.memory);
    let mut command = Command::new(qemu);
    command
        .args(["-M", &machine, "-accel", accel, "-cpu", cpu, "-m", memory])
        .args(["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]);
    match &boot.path {
        BootPath::UBoot { firmware } => {
            command.arg("-bios").arg(firmware);
        }
        BootPath::Direct { .. } => {
            if let Some(firmware) = &spec.qemu.firmware {
                command.args(["-bios", firmware]);
            }
        }
        // The machine's own firmware (SeaBIOS, or OVMF from flash) boots GRUB from
        // the ISO; the command line and the initrd are in the ISO.
        BootPath::Firmware(firmware) => {
            if let Some(ovmf) = &firmware.ovmf {
                let mut code = OsString::from("if=pflash,format=raw,unit=0,readonly=on,file=");
                code.push(option_value(&ovmf.code));
                let mut variables = OsString::from("if=pflash,format=raw,unit=1,file=");
                variables.push(option_value(&ovmf.variables));
                command.arg("-drive").arg(code).arg("-drive").arg(variables);
            }
            let mut cdrom =
                OsString::from("media=cdrom,if=ide,index=2,format=raw,readonly=on,file=");
            cdrom.push(option_value(&firmware.iso));
            command.arg("-drive").arg(cdrom).args(["-boot", "order=d"]);
            // A PC's display adapter (text mode at 0xb8000, a linear framebuffer for
            // UEFI's GOP), with no window: what GRUB hands over as the screen.
            command.args(["-device", "VGA"]);
        }
    }
    if !matches!(boot.path, BootPath::Firmware(_)) {
        // With U-Boot as -bios, QEMU passes the Image and the command line through
        // fw_cfg.
        command
            .arg("-kernel")
            .arg(&options.image)
            .arg("-append")
            .arg(OsString::from_vec(kernel_command_line(options)?));
        // x86_64 PVH: the first module in hvm_start_info; aarch64 virt: the device
        // tree's /chosen linux,initrd-start and -end.
        if let Some(initrd) = &options.initrd {
            command.arg("-initrd").arg(initrd);
        }
    }
    if let Some(device_tree) = &boot.device_tree {
        command.arg("-dtb").arg(device_tree);
    }
    // stdout/stdin on the first console UART (signal=on, the default, keeps Ctrl-C
    // stopping QEMU); stderr on a second UART, on QEMU's own stderr, which `run`
    // relays (see `relay`).
    command.args(["-chardev", "stdio,id=unik-console"]);
    command.args(["-chardev", "file,id=unik-stderr,path=/dev/stderr,append=on"]);
    match &spec.console {
        Console::Uart16550 { port } => {
            command
                .arg("-device")
                .arg(format!(
                    "isa-serial,chardev=unik-console,iobase={port:#x},irq={CONSOLE_IRQ}"
                ))
                .arg("-device")
                .arg(format!(
                    "isa-serial,chardev=unik-stderr,iobase={ERROR_CONSOLE_PORT:#x},irq={ERROR_CONSOLE_IRQ}"
                ));
        }
        // QEMU virt creates its PL011s from -serial, in order (the second one exists
        // only when a second -serial is given; the device tree lists both). On
        // raspi4b the first is the PL011 and the second the mini UART, which the
        // runtime does not drive: stderr shares the console there.
        Console::Pl011 { .. } => {
            command.args([
                "-serial",
                "chardev:unik-console",
                "-serial",
                "chardev:unik-stderr",
            ]);
        }
    }
    let mut status_chardev = OsString::from("file,id=unik-status,path=");
    status_chardev.push(option_value(status_file));
    let exit_device = (!options.no_exit_device).then_some(&spec.exit_device);
    match exit_device {
        None => {}
        Some(ExitDevice::IsaDebugExit { port, status_port }) => {
            command
                .arg("-device")
                .arg(format!("isa-debug-exit,iobase={port:#x},iosize=0x4"));
            if let Some(status_port) = status_port {
                command
                    .arg("-chardev")
                    .arg(&status_chardev)
                    .arg("-device")
                    .arg(format!(
                        "isa-debugcon,iobase={status_port:#x},chardev=unik-status"
                    ));
            }
        }
        // Semihosting console output (the runtime's `exit N` line) goes to the status
        // file. `target=native` is QEMU's own implementation of the calls: it also
        // lets the guest open host files and run host commands, so an image is
        // trusted like a native program of the user's (README, "unik run").
        Some(ExitDevice::Semihosting) => {
            command.arg("-chardev").arg(&status_chardev).args([
                "-semihosting-config",
                "enable=on,target=native,chardev=unik-status",
            ]);
        }
    }
    if let Some(network) = &options.network {
        command.args(network.qemu_arguments(&machine));
    }
    if options.rng {
        // QEMU's default backend for it (rng-builtin) reads the host's getrandom().
        command.args(["-device", "virtio-rng-device"]);
    }
    command.args(&options.qemu_arguments);
    Ok(command)
}

/// The guest's exit status from the status file: the last complete `exit N` line
/// (N in 0..=255). `None` means the guest never reported one.
pub fn decode_status(contents: &[u8]) -> Option<i32> {
    let complete = match contents.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &contents[..end],
        None => return None,
    };
    complete
        .split(|&byte| byte == b'\n')
        .rev()
        .find_map(|line| {
            let number = line.strip_prefix(b"exit ")?;
            if number.is_empty() || number.len() > 3 || !number.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value: i32 = std::str::from_utf8(number).ok()?.parse().ok()?;
            (0..=255).contains(&value).then_some(value)
        })
}

/// Whether the guest's last word on the status channel was `reboot` (written just
/// before it resets the machine, which QEMU's `-no-reboot` turns into its end): an
/// `exit N` line after it (the reset failed) wins.
pub fn rebooted(contents: &[u8]) -> bool {
    let complete = match contents.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &contents[..end],
        None => return false,
    };
    complete
        .split(|&byte| byte == b'\n')
        .rev()
        .find(|line| *line == b"reboot" || line.starts_with(b"exit "))
        .is_some_and(|line| line == b"reboot")
}

/// The exit status `unik run` returns when the guest rebooted (the status
/// `systemd-nspawn` gives a container that asked for a reboot).
pub const REBOOTED_STATUS: i32 = 133;

/// What happened to a run, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The guest reported this status.
    Exited(i32),
    /// The guest reset the machine (reboot(2)); QEMU's `-no-reboot` stopped it.
    Rebooted,
    /// `--dry-run`: nothing ran.
    DryRun,
    /// QEMU stopped without a status line (QEMU error, triple fault, …); QEMU's own
    /// exit code, or `None` if it died of a signal.
    NoStatus(Option<i32>),
    /// Stopped after `--timeout`.
    TimedOut(Duration),
    /// We got this signal (SIGINT, SIGTERM) and stopped the guest.
    Interrupted(i32),
}

impl RunOutcome {
    /// The exit status `unik run` returns.
    pub fn exit_status(&self) -> i32 {
        match self {
            RunOutcome::Exited(status) => *status,
            RunOutcome::Rebooted => REBOOTED_STATUS,
            RunOutcome::DryRun => 0,
            RunOutcome::NoStatus(_) => 1,
            RunOutcome::TimedOut(_) => TIMED_OUT_STATUS,
            RunOutcome::Interrupted(signal) => 128 + signal,
        }
    }

    /// The line `unik run` prints on stderr, if any.
    pub fn message(&self) -> Option<String> {
        match self {
            RunOutcome::Exited(_) | RunOutcome::DryRun | RunOutcome::Interrupted(_) => None,
            RunOutcome::Rebooted => Some(format!(
                "unik run: the guest rebooted (exit status {REBOOTED_STATUS})"
            )),
            RunOutcome::NoStatus(code) => Some(format!(
                "unik run: the guest stopped without an exit status (QEMU exit code {})",
                code.map_or_else(
                    || "none: killed by a signal".to_string(),
                    |code| code.to_string()
                )
            )),
            RunOutcome::TimedOut(after) => Some(format!(
                "unik run: timed out after {} s; guest stopped",
                after.as_secs_f64()
            )),
        }
    }
}

/// Boots the image and waits for it.
pub fn run(environment: &Environment, options: &RunOptions) -> Result<RunOutcome> {
    let spec = image_target(&options.image)?;
    if let Some(initrd) = &options.initrd {
        check_initrd(initrd)?;
        if let Some(warning) = initrd_unused_warning(&options.image) {
            eprintln!("{warning}");
        }
    }
    let mut boot = boot_path::resolve(
        environment,
        &spec,
        options.machine.as_deref(),
        is_arm64_image_file(&options.image),
    )?;
    let qemu = discovery::find_qemu(environment, &spec)?;
    if let Some(hint) = network_randomness_hint(spec.arch, options) {
        eprintln!("{hint}");
    }
    let accelerator = match options.accelerator {
        Accelerator::Auto if discovery::kvm_usable().is_ok() => Accelerator::Kvm,
        Accelerator::Auto => Accelerator::Tcg,
        Accelerator::Kvm => {
            discovery::kvm_usable().map_err(|reason| {
                Error::Usage(format!("--accel kvm: {reason} (use --accel tcg)"))
            })?;
            Accelerator::Kvm
        }
        Accelerator::Tcg => Accelerator::Tcg,
    };
    let work = crate::error::temporary_directory("unik-run-")?;
    let status_file = work.path().join("status");
    // Backtraces are named on the host (crate::symbolize), which may change what
    // the guest is asked to print.
    let symbolizer = fs::read(&options.image)
        .ok()
        .and_then(|bytes| Symbolizer::load(&bytes));
    let mut style = BacktraceStyle::AsPrinted;
    let mut guest_options = options.clone();
    if symbolizer.is_some() {
        for entry in &mut guest_options.environment {
            let Some(value) = entry
                .to_str()
                .and_then(|e| e.strip_prefix("RUST_BACKTRACE="))
            else {
                continue;
            };
            let (replacement, chosen) = backtrace_environment(value);
            style = chosen;
            // std's frames are bare run addresses, and std prints no image base: a
            // run that asks for backtraces boots at the link address so the host can
            // name them (crash reports carry the base and need no such help).
            if value != "0" {
                guest_options.no_aslr = true;
            }
            if let Some(replacement) = replacement {
                *entry = OsString::from(replacement);
            }
        }
    }
    let options = &guest_options;
    let booted = boot_file(&spec, options, work.path())?;
    let booted_options = RunOptions {
        image: booted,
        ..options.clone()
    };
    if let BootPath::Firmware(firmware) = &mut boot.path {
        prepare_firmware_boot(environment, &booted_options, firmware, work.path())?;
    }
    let mut command = qemu_command(
        &qemu,
        &spec,
        &booted_options,
        accelerator,
        &status_file,
        &boot,
    )?;
    if options.dry_run || options.verbose {
        let line = unik_sysroot::describe(&command);
        if options.dry_run {
            println!("{line}");
            // The printed command names the converted Image: it must outlive us.
            if booted_options.image != options.image {
                let kept = work.keep();
                eprintln!(
                    "unik: the arm64 Image booted for --initrd is kept in {}",
                    kept.display()
                );
            }
            return Ok(RunOutcome::DryRun);
        }
        eprintln!("{line}");
    }
    // Ctrl-C reaches QEMU too (same process group) and stops it; a SIGINT or
    // SIGTERM sent to us alone must stop it as well. Either way we wait for QEMU,
    // clean up, and exit as the signal would have (128 + its number).
    let interrupted = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(signal, Arc::clone(&interrupted), signal as usize)
            .map_err(|source| Error::io("cannot install a signal handler for", &qemu, source))?;
    }
    // QEMU writes into pipes that we copy to our stdout and stderr: when both of ours
    // are one regular file (`>log 2>&1`), QEMU opening /dev/stderr again would give it
    // a second file offset and the two streams would overwrite each other.
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        program: qemu.clone(),
        source,
    })?;
    // The runtime's `unik: exit status N` line (machines without an exit device).
    let console_status = Arc::new(AtomicI32::new(NO_CONSOLE_STATUS));
    let relays = [
        child
            .stdout
            .take()
            .map(|pipe| relay(pipe, std::io::stdout, boot.console_filter())),
        child.stderr.take().map(|pipe| {
            let annotator = symbolizer.map(|symbolizer| Annotator::new(symbolizer, style));
            // The UEFI firmware writes on every serial port: the runtime's start mark
            // ends its output on the error console too (with --verbose everything
            // shows: the runtime's boot log comes before the mark).
            let filter = match boot.path {
                BootPath::Firmware(_) if !options.verbose => boot.console_filter(),
                _ => ConsoleFilter::passing(),
            };
            relay_lines(
                pipe,
                std::io::stderr,
                annotator,
                filter,
                Arc::clone(&console_status),
            )
        }),
    ];
    let widening = widen_forward_backlogs(child.id(), options);
    let outcome = wait_for_guest(&mut child, &qemu, options, &interrupted, &console_status);
    if let Some((finished, thread)) = widening {
        finished.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }
    // The pipes close when QEMU is gone: every byte the guest wrote is out before
    // `unik run` prints anything of its own.
    for relay in relays.into_iter().flatten() {
        let _ = relay.join();
    }
    let exit = match outcome? {
        Ok(exit) => exit,
        Err(stopped) => return Ok(stopped),
    };
    let signal = interrupted.load(Ordering::Relaxed);
    if signal != 0 {
        return Ok(RunOutcome::Interrupted(i32::try_from(signal).unwrap_or(0)));
    }
    let contents = match fs::read(&status_file) {
        Ok(contents) => contents,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(Error::io("cannot read", &status_file, error)),
    };
    if rebooted(&contents) {
        return Ok(RunOutcome::Rebooted);
    }
    let from_console = Some(console_status.load(Ordering::Relaxed))
        .filter(|&status| options.no_exit_device && status != NO_CONSOLE_STATUS);
    Ok(match decode_status(&contents).or(from_console) {
        Some(status) => RunOutcome::Exited(status),
        None => RunOutcome::NoStatus(exit.code()),
    })
}

/// With `--net user -p HOST:GUEST` (TCP): a thread that raises the backlog of QEMU's
/// listening sockets for the forwards as soon as QEMU made them (see
/// [`crate::forward_backlog`]), so that bursts of concurrent connects are queued, not
/// dropped. Set the flag when QEMU is gone, then join the thread.
fn widen_forward_backlogs(
    pid: u32,
    options: &RunOptions,
) -> Option<(Arc<AtomicBool>, JoinHandle<()>)> {
    let ports: Vec<u16> = options
        .network
        .as_ref()?
        .forwards
        .iter()
        .filter(|forward| forward.protocol == crate::network::Protocol::Tcp)
        .map(|forward| forward.host)
        .collect();
    if ports.is_empty() {
        return None;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let running = {
        let finished = Arc::clone(&finished);
        move || !finished.load(Ordering::Relaxed)
    };
    let thread = std::thread::spawn(move || {
        if let Err(reason) = crate::forward_backlog::widen(pid, &ports, &running)
            && running()
        {
            eprintln!(
                "unik: warning: cannot widen QEMU's listen queue for -p ({reason}): more than 2 connects at once may be dropped or reset"
            );
        }
    });
    Some((finished, thread))
}

/// Builds the ISO of a firmware boot in `work` (with `unik.start-mark` on the command
/// line, so that the firmware's console output can be told from the program's), and
/// for UEFI a writable copy of OVMF's variable store there.
fn prepare_firmware_boot(
    environment: &Environment,
    options: &RunOptions,
    firmware: &mut FirmwareBoot,
    work: &Path,
) -> Result<()> {
    if let Some(ovmf) = &mut firmware.ovmf {
        let variables = work.join("OVMF_VARS.fd");
        fs::copy(&ovmf.variables, &variables)
            .map_err(|source| Error::io("cannot copy", &ovmf.variables, source))?;
        ovmf.variables = variables;
    }
    firmware.iso = work.join("boot.iso");
    let (mut parameters, arguments) = command_line_words(options)?;
    parameters.push(OsString::from("unik.start-mark"));
    let words = iso::command_line_words(&parameters, &arguments);
    if options.dry_run {
        iso::check_image(&options.image)
    } else {
        iso::build(
            environment,
            &options.image,
            options.initrd.as_deref(),
            &words,
            &firmware.iso,
            &[firmware.machine],
        )
    }
}

/// Copies a pipe of QEMU's to one of our streams as bytes arrive, until QEMU closes it.
/// `filter` drops firmware output that precedes the program's (U-Boot's); when the
/// program never started, that output goes to stderr at the end.
fn relay<W: Write + 'static>(
    mut pipe: impl Read + Send + 'static,
    stream: fn() -> W,
    mut filter: ConsoleFilter,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) => break,
                Ok(length) => {
                    let mut out = stream();
                    // A closed stdout (`| head`) must not stop QEMU's output from
                    // being drained; keep reading and drop what cannot be written.
                    let _ = out
                        .write_all(&filter.feed(&buffer[..length]))
                        .and_then(|()| out.flush());
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if let Some(firmware_output) = filter.unfinished() {
            let mut error = std::io::stderr();
            let _ = error
                .write_all(&firmware_output)
                .and_then(|()| error.flush());
        }
    })
}

/// Copies QEMU's stderr (which also carries the guest's error console) line by line,
/// leaving out QEMU's warnings about board devices it does not model
/// ([`boot_path::is_qemu_noise`]) and, with an annotator, naming the frames of the
/// guest's backtraces (crate::symbolize). A partial line is held back only while it
/// may still become such a line; otherwise it goes out at once (so a prompt without a
/// newline still shows) and the rest of that line passes through unchanged.
fn relay_lines<W: Write + 'static>(
    mut pipe: impl Read + Send + 'static,
    stream: fn() -> W,
    mut annotator: Option<Annotator>,
    mut filter: ConsoleFilter,
    console_status: Arc<AtomicI32>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let write = |bytes: &[u8]| {
            let mut out = stream();
            let _ = out.write_all(bytes).and_then(|()| out.flush());
        };
        let mut buffer = [0u8; 4096];
        let mut pending: Vec<u8> = Vec::new();
        let mut whole_line: Vec<u8> = Vec::new();
        // The current line went out in part already.
        let mut passing = false;
        loop {
            let length = match pipe.read(&mut buffer) {
                Ok(0) => break,
                Ok(length) => length,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let mut output = Vec::new();
            let filtered = filter.feed(&buffer[..length]).into_owned();
            let mut chunk = &filtered[..];
            while !chunk.is_empty() {
                let (line, rest, complete) = match chunk.iter().position(|&b| b == b'\n') {
                    Some(end) => (&chunk[..=end], &chunk[end + 1..], true),
                    None => (chunk, &[][..], false),
                };
                chunk = rest;
                // Every line as the guest wrote it, however it went out.
                whole_line.extend_from_slice(line);
                if complete {
                    if let Some(status) = console_exit_status(&whole_line) {
                        console_status.store(status, Ordering::Relaxed);
                    }
                    whole_line.clear();
                }
                if passing {
                    output.extend_from_slice(line);
                } else {
                    pending.extend_from_slice(line);
                    let may_hold = pending.starts_with(b"qemu-system-")
                        || (annotator.is_some()
                            && Annotator::may_rewrite(&String::from_utf8_lossy(&pending)));
                    if !complete && !may_hold {
                        output.append(&mut pending);
                        passing = true;
                    } else if complete && !boot_path::is_qemu_noise(&pending) {
                        match annotator.as_mut() {
                            Some(annotator) => output.extend(annotate(annotator, &pending)),
                            None => output.extend_from_slice(&pending),
                        }
                    }
                }
                if complete {
                    pending.clear();
                    passing = false;
                }
            }
            write(&output);
        }
        write(&pending);
        if let Some(annotator) = annotator.as_mut() {
            write(&join_lines(annotator.finish(), ""));
        }
        // The firmware's messages when the program never started.
        if let Some(dropped) = filter.unfinished() {
            write(&dropped);
        }
    })
}

/// No `unik: exit status N` line seen (yet).
const NO_CONSOLE_STATUS: i32 = -1;

/// The status of the runtime's `unik: exit status N` line (what it prints on the
/// error console where the machine has no exit device).
fn console_exit_status(line: &[u8]) -> Option<i32> {
    let text = std::str::from_utf8(line)
        .ok()?
        .trim_end_matches(['\n', '\r']);
    let number = text.strip_prefix("unik: exit status ")?;
    let status: i32 = number.parse().ok()?;
    (number.len() <= 3 && (0..=255).contains(&status)).then_some(status)
}

/// One complete line (its newline included) through the annotator, keeping a carriage
/// return where the guest wrote one.
fn annotate(annotator: &mut Annotator, line: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    match text.strip_suffix('\r') {
        Some(text) => join_lines(annotator.rewrite(text), "\r"),
        None => join_lines(annotator.rewrite(text), ""),
    }
}

fn join_lines(lines: Vec<String>, carriage_return: &str) -> Vec<u8> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push_str(carriage_return);
        text.push('\n');
    }
    text.into_bytes()
}

/// Whether the file at `path` is a Linux arm64 Image (its header's magic).
fn is_arm64_image_file(path: &Path) -> bool {
    let mut header = [0u8; crate::image_format::IMAGE_HEADER_SIZE as usize];
    fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok_and(|()| crate::image_format::is_arm64_image(&header))
}

/// Waits until QEMU exits (`Ok(Ok(status))`), or stops it on a timeout or a signal
/// (`Ok(Err(outcome))`).
fn wait_for_guest(
    child: &mut Child,
    qemu: &Path,
    options: &RunOptions,
    interrupted: &AtomicUsize,
    console_status: &AtomicI32,
) -> Result<std::result::Result<std::process::ExitStatus, RunOutcome>> {
    let started = Instant::now();
    let mut status_seen: Option<Instant> = None;
    loop {
        if let Some(status) = child
            .wait_timeout(POLL_INTERVAL)
            .map_err(|source| Error::io("cannot wait for", qemu, source))?
        {
            return Ok(Ok(status));
        }
        let signal = interrupted.load(Ordering::Relaxed);
        if signal != 0 {
            stop(child, qemu)?;
            return Ok(Err(RunOutcome::Interrupted(
                i32::try_from(signal).unwrap_or(0),
            )));
        }
        if let Some(limit) = options.timeout
            && started.elapsed() >= limit
        {
            stop(child, qemu)?;
            return Ok(Err(RunOutcome::TimedOut(limit)));
        }
        if options.no_exit_device && console_status.load(Ordering::Relaxed) != NO_CONSOLE_STATUS {
            let seen = *status_seen.get_or_insert_with(Instant::now);
            if seen.elapsed() >= POWER_OFF_GRACE {
                let stopped = stop(child, qemu)?;
                eprintln!(
                    "unik: the machine did not switch itself off within {} s of the program's exit; stopped it",
                    POWER_OFF_GRACE.as_secs()
                );
                // The caller reads the status from the console line.
                return Ok(Ok(stopped));
            }
        }
    }
}

/// Stops QEMU. With a terminal on stdin, SIGTERM first: QEMU then restores the
/// terminal it put in raw mode (and says it was terminated); SIGKILL if it has not
/// exited after a grace period. Without a terminal there is nothing to restore, so
/// SIGKILL at once keeps stderr free of QEMU's message. Gives QEMU's exit status.
fn stop(child: &mut Child, qemu: &Path) -> Result<std::process::ExitStatus> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let terminated = i32::try_from(child.id())
            .ok()
            .map(nix::unistd::Pid::from_raw)
            .is_some_and(|pid| {
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok()
            });
        if terminated
            && let Some(status) = child
                .wait_timeout(TERMINATE_GRACE)
                .map_err(|source| Error::io("cannot wait for", qemu, source))?
        {
            return Ok(status);
        }
    }
    // Already exited is fine: kill then reports an error we do not need.
    let _ = child.kill();
    child
        .wait()
        .map_err(|source| Error::io("cannot wait for", qemu, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(image: &str) -> RunOptions {
        RunOptions {
            image: PathBuf::from(image),
            arguments: Vec::new(),
            environment: Vec::new(),
            machine: None,
            cpu: None,
            rng: false,
            accelerator: Accelerator::Tcg,
            memory: None,
            timeout: None,
            initrd: None,
            verbose: false,
            no_aslr: false,
            dry_run: false,
            network: None,
            qemu_arguments: Vec::new(),
            no_exit_device: false,
        }
    }

    fn arguments_of(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn status_lines_are_decoded_exactly() {
        assert_eq!(decode_status(b"exit 0\n"), Some(0));
        assert_eq!(decode_status(b"exit 255\n"), Some(255));
        assert_eq!(decode_status(b"noise\nexit 42\n"), Some(42));
        assert_eq!(decode_status(b"exit 1\nexit 2\n"), Some(2));
        // Incomplete, malformed or out of range: no status.
        assert_eq!(decode_status(b""), None);
        assert_eq!(decode_status(b"exit 7"), None);
        assert_eq!(decode_status(b"exit \n"), None);
        assert_eq!(decode_status(b"exit -1\n"), None);
        assert_eq!(decode_status(b"exit 256\n"), None);
        assert_eq!(decode_status(b"exit 0042\n"), None);
        assert_eq!(decode_status(b"exit 4x\n"), None);
        assert_eq!(decode_status(b"exit 3\nexit 9"), Some(3));
    }

    #[test]
    fn the_console_exit_status_line_is_read_exactly() {
        assert_eq!(console_exit_status(b"unik: exit status 3\n"), Some(3));
        assert_eq!(console_exit_status(b"unik: exit status 255\r\n"), Some(255));
        for line in [
            &b"unik: exit status 256\n"[..],
            b"unik: exit status -1\n",
            b"unik: exit status\n",
            b"my unik: exit status 3\n",
            b"unik: exit status 0003\n",
        ] {
            assert_eq!(console_exit_status(line), None, "{line:?}");
        }
    }

    #[test]
    fn a_reboot_line_is_the_last_word_unless_an_exit_follows() {
        assert!(rebooted(b"reboot\n"));
        assert!(rebooted(b"exit 3\nreboot\n"));
        assert!(!rebooted(b"reboot\nexit 1\n"), "the reset failed");
        assert!(!rebooted(b"reboot"), "incomplete line");
        assert!(!rebooted(b"rebooted\n"));
        assert!(!rebooted(b""));
        assert_eq!(RunOutcome::Rebooted.exit_status(), 133);
        assert_eq!(
            RunOutcome::Rebooted.message().as_deref(),
            Some("unik run: the guest rebooted (exit status 133)")
        );
    }

    #[test]
    fn outcome_messages() {
        assert_eq!(
            RunOutcome::NoStatus(Some(0)).message().as_deref(),
            Some("unik run: the guest stopped without an exit status (QEMU exit code 0)")
        );
        assert_eq!(RunOutcome::NoStatus(Some(0)).exit_status(), 1);
        assert_eq!(
            RunOutcome::TimedOut(Duration::from_secs(5))
                .message()
                .as_deref(),
            Some("unik run: timed out after 5 s; guest stopped")
        );
        assert_eq!(
            RunOutcome::TimedOut(Duration::from_secs(5)).exit_status(),
            124
        );
        assert_eq!(RunOutcome::Exited(42).exit_status(), 42);
        assert_eq!(RunOutcome::Exited(42).message(), None);
        assert_eq!(RunOutcome::Interrupted(2).exit_status(), 130);
        assert_eq!(RunOutcome::Interrupted(2).message(), None);
    }

    #[test]
    fn the_aarch64_line_uses_two_pl011s_and_semihosting() {
        let spec = TargetSpec::find("aarch64").unwrap();
        let command = qemu_command(
            Path::new("/q/qemu-system-aarch64"),
            &spec,
            &options("/images/hello.img"),
            Accelerator::Tcg,
            Path::new("/t/status"),
            &Boot::direct(&spec.qemu.machine),
        )
        .unwrap();
        assert_eq!(
            arguments_of(&command),
            [
                "-M",
                "virt",
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-m",
                "128M",
                "-nodefaults",
                "-no-user-config",
                "-nographic",
                "-no-reboot",
                "-kernel",
                "/images/hello.img",
                "-append",
                "-- hello.img",
                "-chardev",
                "stdio,id=unik-console",
                "-chardev",
                "file,id=unik-stderr,path=/dev/stderr,append=on",
                "-serial",
                "chardev:unik-console",
                "-serial",
                "chardev:unik-stderr",
                "-chardev",
                "file,id=unik-status,path=/t/status",
                "-semihosting-config",
                "enable=on,target=native,chardev=unik-status",
            ]
        );
    }

    #[test]
    fn the_raspi4b_and_uboot_lines() {
        let line = |target: &str, image: &str, boot: &Boot| {
            let command = qemu_command(
                Path::new("qemu-system-aarch64"),
                &TargetSpec::find(target).unwrap(),
                &options(image),
                Accelerator::Tcg,
                Path::new("/t/status"),
                boot,
            )
            .unwrap();
            arguments_of(&command).join(" ")
        };
        let board = Boot {
            path: BootPath::Direct {
                machine: "raspi4b".into(),
            },
            device_tree: Some(PathBuf::from("/d/bcm2711-rpi-4-b.dtb")),
        };
        let arguments = line("raspi4b", "/images/kernel8.img", &board);
        assert!(
            arguments.starts_with("-M raspi4b -accel tcg -cpu cortex-a72 -m 2G "),
            "{arguments}"
        );
        assert!(
            arguments.contains(
                "-kernel /images/kernel8.img -append -- kernel8.img -dtb /d/bcm2711-rpi-4-b.dtb"
            ),
            "{arguments}"
        );
        assert!(arguments.contains("-semihosting-config"), "{arguments}");

        let uboot = Boot {
            path: BootPath::UBoot {
                firmware: PathBuf::from("/u/u-boot.bin"),
            },
            device_tree: None,
        };
        let arguments = line("aarch64", "/images/app.Image", &uboot);
        assert!(
            arguments.starts_with(
                "-M virt -accel tcg -cpu max -m 128M -nodefaults -no-user-config -nographic \
                 -no-reboot -bios /u/u-boot.bin -kernel /images/app.Image -append -- app.Image "
            ),
            "{arguments}"
        );
        assert!(!arguments.contains("-dtb"), "{arguments}");
    }

    #[test]
    fn the_qemu_line_wires_every_device() {
        let spec = TargetSpec::find("x86_64").unwrap();
        let mut run = options("/images/hello.img");
        run.arguments = vec![OsString::from("two words")];
        run.environment = vec![OsString::from("A=1")];
        let command = qemu_command(
            Path::new("/q/qemu"),
            &spec,
            &run,
            Accelerator::Tcg,
            Path::new("/t/a,b/status"),
            &Boot::direct(&spec.qemu.machine),
        )
        .unwrap();
        assert_eq!(
            arguments_of(&command),
            [
                "-M",
                "microvm",
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-m",
                "128M",
                "-nodefaults",
                "-no-user-config",
                "-nographic",
                "-no-reboot",
                "-bios",
                "qboot.rom",
                "-kernel",
                "/images/hello.img",
                "-append",
                "A=1 -- hello.img \"two words\"",
                "-chardev",
                "stdio,id=unik-console",
                "-chardev",
                "file,id=unik-stderr,path=/dev/stderr,append=on",
                "-device",
                "isa-serial,chardev=unik-console,iobase=0x3f8,irq=4",
                "-device",
                "isa-serial,chardev=unik-stderr,iobase=0x2f8,irq=3",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x4",
                "-chardev",
                "file,id=unik-status,path=/t/a,,b/status",
                "-device",
                "isa-debugcon,iobase=0xe9,chardev=unik-status",
            ]
        );
    }

    /// QEMU's arguments for `run` of the target `target` booted directly on `machine`.
    fn direct_arguments(
        target: &str,
        run: &RunOptions,
        accelerator: Accelerator,
        machine: &str,
    ) -> Vec<String> {
        let spec = TargetSpec::find(target).unwrap();
        let command = qemu_command(
            Path::new("qemu"),
            &spec,
            run,
            accelerator,
            Path::new("s"),
            &Boot::direct(machine),
        )
        .unwrap();
        arguments_of(&command)
    }

    #[test]
    fn no_aslr_is_a_boot_parameter_before_the_arguments() {
        let mut run = options("app.img");
        run.no_aslr = true;
        run.verbose = true;
        run.arguments = vec!["unik.no_aslr".into()];
        assert_eq!(
            kernel_command_line(&run).unwrap(),
            b"unik.verbose unik.no_aslr -- app.img unik.no_aslr"
        );
    }

    #[test]
    fn machine_cpu_memory_kvm_and_verbose_options() {
        let mut run = options("app.img");
        run.machine = Some("q35".into());
        run.memory = Some("512M".into());
        run.cpu = Some("host,-rdrand,-rdseed".into());
        run.verbose = true;
        let arguments = direct_arguments("x86_64", &run, Accelerator::Kvm, "q35");
        assert_eq!(
            arguments[..8],
            [
                "-M",
                "q35",
                "-accel",
                "kvm",
                "-cpu",
                "host,-rdrand,-rdseed",
                "-m",
                "512M"
            ]
        );
        assert!(
            arguments.contains(&"unik.verbose -- app.img".to_string()),
            "{arguments:?}"
        );
    }

    #[test]
    fn rng_adds_a_virtio_rng_device_on_a_virtio_mmio_machine() {
        let spec = TargetSpec::find("x86_64").unwrap();
        let mut run = options("app.img");
        run.rng = true;
        let command_for = |run: &RunOptions, machine: &str| {
            qemu_command(
                Path::new("qemu"),
                &spec,
                run,
                Accelerator::Tcg,
                Path::new("s"),
                &Boot::direct(machine),
            )
        };
        let arguments = arguments_of(&command_for(&run, "microvm").unwrap());
        assert_eq!(arguments[..2], ["-M", "microvm,acpi=off"]);
        assert_eq!(
            arguments[arguments.len() - 2..],
            ["-device", "virtio-rng-device"]
        );
        // With --net too: one acpi=off, both devices.
        run.network = Some(
            crate::network::NetworkArguments {
                net: Some("user"),
                ..Default::default()
            }
            .parse()
            .unwrap()
            .unwrap(),
        );
        let arguments = arguments_of(&command_for(&run, "microvm").unwrap());
        assert_eq!(arguments[..2], ["-M", "microvm,acpi=off"]);
        assert!(arguments.contains(&"virtio-net-device,netdev=unik-net".to_string()));
        assert!(arguments.contains(&"virtio-rng-device".to_string()));
        run.network = None;
        assert_eq!(
            command_for(&run, "q35").unwrap_err().to_string(),
            "--rng: the q35 machine has no virtio-mmio transports (virtio-rng works on microvm, the default, and on aarch64 virt)"
        );
        assert_eq!(
            with_virtio_mmio("virt,gic-version=3").as_deref(),
            Some("virt,gic-version=3")
        );
        assert_eq!(with_virtio_mmio("raspi4b"), None);
    }

    #[test]
    fn cpus_known_to_lack_a_random_instruction_get_the_network_hint() {
        let x86_64 = TargetSpec::find("x86_64").unwrap().arch;
        let aarch64 = TargetSpec::find("aarch64").unwrap().arch;
        assert!(cpu_lacks_random_instruction(x86_64, "max,-rdrand,-rdseed"));
        assert!(cpu_lacks_random_instruction(
            x86_64,
            "host,rdrand=off,rdseed=off"
        ));
        assert!(!cpu_lacks_random_instruction(x86_64, "max,-rdrand"));
        assert!(!cpu_lacks_random_instruction(x86_64, "max"));
        assert!(cpu_lacks_random_instruction(aarch64, "cortex-a57"));
        assert!(cpu_lacks_random_instruction(aarch64, "cortex-a72,pmu=off"));
        assert!(!cpu_lacks_random_instruction(aarch64, "max"));
        let mut run = options("app.img");
        run.cpu = Some("cortex-a72".into());
        assert_eq!(network_randomness_hint(aarch64, &run), None, "no --net");
        run.network = crate::network::NetworkArguments {
            net: Some("user"),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(
            network_randomness_hint(aarch64, &run).unwrap(),
            "unik run: hint: the CPU `cortex-a72` has no random number instruction, so the guest's sockets will fail (no seed for TCP sequence numbers and ports); add --rng to give it a virtio-rng device"
        );
        run.rng = true;
        assert_eq!(network_randomness_hint(aarch64, &run), None, "--rng given");
    }

    #[test]
    fn extra_qemu_arguments_go_last_and_the_exit_device_can_go() {
        let mut run = options("app.img");
        run.qemu_arguments = vec!["-monitor".into(), "unix:/t/m,server=on,wait=off".into()];
        run.no_exit_device = true;
        let arguments = direct_arguments("x86_64", &run, Accelerator::Tcg, "microvm");
        assert_eq!(
            arguments[arguments.len() - 2..],
            ["-monitor", "unix:/t/m,server=on,wait=off"]
        );
        assert!(
            !arguments
                .iter()
                .any(|argument| argument.contains("isa-debug-exit")
                    || argument.contains("isa-debugcon")
                    || argument.contains("unik-status")),
            "{arguments:?}"
        );
        let arguments = direct_arguments("aarch64", &run, Accelerator::Tcg, "virt");
        assert!(!arguments.contains(&"-semihosting-config".to_string()));
    }

    #[test]
    fn firmware_machines_boot_the_iso_with_their_firmware() {
        let spec = TargetSpec::find("x86_64").unwrap();
        let run = options("/images/hello.img");
        let arguments_for = |firmware: FirmwareBoot| {
            let boot = Boot {
                path: BootPath::Firmware(firmware),
                device_tree: None,
            };
            let command = qemu_command(
                Path::new("qemu"),
                &spec,
                &run,
                Accelerator::Tcg,
                Path::new("/t/status"),
                &boot,
            )
            .unwrap();
            arguments_of(&command)
        };
        let arguments = arguments_for(FirmwareBoot {
            machine: iso::FirmwareMachine::Uefi,
            iso: PathBuf::from("/t/boot.iso"),
            ovmf: Some(iso::Ovmf {
                code: PathBuf::from("/ovmf/CODE.fd"),
                variables: PathBuf::from("/t/VARS.fd"),
            }),
        });
        assert_eq!(arguments[..2], ["-M", "q35"]);
        let expected = [
            "-no-reboot",
            "-drive",
            "if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd",
            "-drive",
            "if=pflash,format=raw,unit=1,file=/t/VARS.fd",
            "-drive",
            "media=cdrom,if=ide,index=2,format=raw,readonly=on,file=/t/boot.iso",
            "-boot",
            "order=d",
            "-device",
            "VGA",
            "-chardev",
        ];
        assert!(
            arguments
                .windows(expected.len())
                .any(|window| window == expected),
            "{arguments:?}"
        );
        assert!(
            !arguments.iter().any(|argument| argument == "-kernel"
                || argument == "-bios"
                || argument == "-append")
        );
        assert!(arguments.contains(&"isa-debug-exit,iobase=0xf4,iosize=0x4".to_string()));

        let arguments = arguments_for(FirmwareBoot {
            machine: iso::FirmwareMachine::PcGrub,
            iso: PathBuf::from("/t/boot.iso"),
            ovmf: None,
        });
        assert_eq!(arguments[..2], ["-M", "pc"]);
        assert!(!arguments.iter().any(|argument| argument.contains("pflash")));
    }

    #[test]
    fn accelerator_choice() {
        assert_eq!(Accelerator::parse("auto").unwrap(), Accelerator::Auto);
        assert_eq!(
            Accelerator::parse("hvf").unwrap_err().to_string(),
            "unknown accelerator `hvf` (expected tcg, kvm or auto)"
        );
        let environment = Environment::from_pairs([]);
        assert_eq!(
            Accelerator::default_from(&environment).unwrap(),
            Accelerator::Tcg
        );
        let environment = Environment::from_pairs([("UNIK_ACCEL", OsStr::new("kvm"))]);
        assert_eq!(
            Accelerator::default_from(&environment).unwrap(),
            Accelerator::Kvm
        );
    }

    #[test]
    fn non_images_are_refused_with_their_name() {
        let directory = tempfile::tempdir().unwrap();
        let text = directory.path().join("notes.txt");
        fs::write(&text, "hello").unwrap();
        let message = image_target(&text).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("{}: not an ELF image (", text.display())),
            "{message}"
        );
        let missing = directory.path().join("missing.img");
        let message = image_target(&missing).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "cannot read {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
    }

    #[test]
    fn the_initrd_is_checked_on_the_host_and_passed_to_qemu() {
        let directory = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = directory.path().join(name);
            fs::write(&path, bytes).unwrap();
            path
        };
        let newc = write("tree.cpio", b"070701000000010000");
        assert!(check_initrd(&newc).is_ok());
        assert!(check_initrd(&write("sums.cpio", b"070702")).is_ok());
        assert!(check_initrd(&write("tree.cpio.gz", &[0x1f, 0x8b, 8, 0])).is_ok());
        let hint = "make one with `find . | cpio -o -H newc > ";
        for (name, bytes, found) in [
            ("empty.cpio", &b""[..], "the file is empty"),
            (
                "tree.cpio.xz",
                &[0xfd, b'7', b'z', b'X', b'Z', 0][..],
                "an xz file: only gzip compression is read",
            ),
            (
                "old.cpio",
                &b"070707000000"[..],
                "an old-format (odc) cpio archive: use -H newc",
            ),
            ("text.cpio", &b"hi\n"[..], "it starts with 68 69 0a"),
        ] {
            let path = write(name, bytes);
            assert_eq!(
                check_initrd(&path).unwrap_err().to_string(),
                format!(
                    "--initrd {}: not a cpio newc archive, plain or gzip-compressed ({found}); {hint}{name}`",
                    path.display()
                )
            );
        }
        let missing = directory.path().join("missing.cpio");
        assert_eq!(
            check_initrd(&missing).unwrap_err().to_string(),
            format!(
                "--initrd: cannot read {}: No such file or directory (os error 2)",
                missing.display()
            )
        );

        for target in ["x86_64", "aarch64"] {
            let spec = TargetSpec::find(target).unwrap();
            let mut run = options("app.img");
            run.initrd = Some(newc.clone());
            let command = qemu_command(
                Path::new("qemu"),
                &spec,
                &run,
                Accelerator::Tcg,
                Path::new("s"),
                &Boot::direct(&spec.qemu.machine),
            )
            .unwrap();
            let arguments = arguments_of(&command);
            let at = arguments.iter().position(|word| word == "-initrd").unwrap();
            assert_eq!(arguments[at + 1], newc.display().to_string());
        }
    }

    /// A minimal ELF header (64-bit, little endian) for `machine`.
    fn elf_header(machine: u16) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2; // ELFCLASS64
        bytes[5] = 1; // ELFDATA2LSB
        bytes[6] = 1; // EV_CURRENT
        bytes[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
        bytes[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        bytes
    }

    #[test]
    fn the_image_arch_picks_the_target() {
        let directory = tempfile::tempdir().unwrap();
        let x86 = directory.path().join("x86.img");
        fs::write(&x86, elf_header(62)).unwrap(); // EM_X86_64
        assert_eq!(image_target(&x86).unwrap().name, "x86_64");
        let arm = directory.path().join("arm.img");
        fs::write(&arm, elf_header(183)).unwrap(); // EM_AARCH64
        assert_eq!(image_target(&arm).unwrap().name, "aarch64");
        // An arm64 Image (unikcc --format image) is recognised by its magic.
        let mut image = vec![0u8; 64];
        image[56..60].copy_from_slice(b"ARM\x64");
        let arm_image = directory.path().join("arm.Image");
        fs::write(&arm_image, &image).unwrap();
        assert_eq!(image_target(&arm_image).unwrap().name, "aarch64");
        // A kernel8.img: its text_offset is raspi4b's header address.
        image[8..16].copy_from_slice(&0x8_0000u64.to_le_bytes());
        fs::write(&arm_image, &image).unwrap();
        assert_eq!(image_target(&arm_image).unwrap().name, "raspi4b");
        let riscv = directory.path().join("riscv.img");
        fs::write(&riscv, elf_header(243)).unwrap(); // EM_RISCV
        let message = image_target(&riscv).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("{}: ", riscv.display()))
                && message.ends_with("(supported: x86_64, aarch64)"),
            "{message}"
        );
    }

    proptest::proptest! {
        /// Whatever the guest wrote, decoding never panics and only yields 0..=255.
        #[test]
        fn decoding_arbitrary_bytes(contents in proptest::collection::vec(0u8..=255, 0..64)) {
            if let Some(status) = decode_status(&contents) {
                proptest::prop_assert!((0..=255).contains(&status));
            }
        }

        #[test]
        fn every_status_decodes(status in 0i32..=255) {
            proptest::prop_assert_eq!(decode_status(format!("exit {status}\n").as_bytes()), Some(status));
        }
    }
}
