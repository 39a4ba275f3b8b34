//! `unik`: runs unik images and manages the toolchain (`run`, `doctor`, `sysroot`).
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use unik::discovery::Environment;
use unik::run::{Accelerator, RunOptions};
use unik::sysroot::{self, EnsureOptions};
use unik::target::{DEFAULT_TARGET, TargetSpec};

/// The status `unik` returns when it fails itself (not the guest): 125, as
/// timeout(1) and container runners do, so that it cannot be taken for a status
/// the program chose.
const OWN_FAILURE: u8 = 125;

#[derive(Debug, Parser)]
#[command(
    name = "unik",
    version,
    about = "Run unik unikernel images and manage the unik toolchain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot an image under QEMU; the exit status is the program's.
    Run(Box<RunArguments>),
    /// Show which tools were found and how to install the missing ones; the exit
    /// status says whether everything the target needs is present.
    Doctor {
        /// The target whose needs decide the exit status.
        #[arg(long, default_value = DEFAULT_TARGET)]
        target: String,
    },
    /// Make a GRUB rescue ISO (BIOS and UEFI) that boots an x86_64 image through
    /// Multiboot2, with a serial console on COM1.
    Iso(IsoArguments),
    /// Show the components in an image and why each is there.
    Explain {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The image built by unikcc.
        image: PathBuf,
    },
    /// Show where an image's bytes go: per component, the largest symbols, sections.
    Size {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// How many of the largest symbols to list.
        #[arg(long, default_value_t = 15)]
        top: usize,
        /// The image built by unikcc.
        image: PathBuf,
    },
    /// Build or locate the prebuilt runtime, headers and linker script.
    #[command(subcommand)]
    Sysroot(SysrootCommand),
    /// Link like GNU ld (same as `unikld`): objects and archives into a bootable image.
    #[command(disable_help_flag = true)]
    Ld {
        /// GNU ld options and inputs.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        arguments: Vec<OsString>,
    },
    /// Make target-prefixed tool names (x86_64-unik-cc, aarch64-unik-ld, …-ar, …) in
    /// DIR, for cross builds (`./configure --host=…`, `CROSS_COMPILE=`).
    InstallLinks {
        /// The directory for the links (put it in PATH).
        directory: PathBuf,
    },
}

#[derive(Debug, Args)]
struct IsoArguments {
    /// The ISO to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Set an environment variable for the program (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    environment: Vec<OsString>,
    /// A cpio newc archive for the image's file tree (a Multiboot2 module).
    #[arg(long, value_name = "ARCHIVE")]
    initrd: Option<PathBuf>,
    /// Make the runtime print its boot log.
    #[arg(short, long)]
    verbose: bool,
    /// The x86_64 image built by unikcc.
    image: PathBuf,
    /// Arguments for the program (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    arguments: Vec<OsString>,
}

#[derive(Debug, Args)]
struct RunArguments {
    /// QEMU machine (default: the image target's: microvm, virt, raspi4b), e.g. q35;
    /// or `uboot`: U-Boot on QEMU virt boots an aarch64 `--format image`; or
    /// `pc-grub` (SeaBIOS + GRUB) / `uefi` (OVMF + GRUB EFI): an x86_64 image boots
    /// from a GRUB ISO.
    #[arg(long, value_name = "MACHINE")]
    machine: Option<String>,
    /// QEMU CPU model and features, e.g. `max,-rdrand,-rdseed` or `cortex-a72`
    /// [default: the target's, `max` under TCG, `host` under KVM].
    #[arg(long, value_name = "MODEL")]
    cpu: Option<String>,
    /// Accelerator: tcg, kvm or auto [default: $UNIK_ACCEL, else tcg].
    #[arg(long, value_name = "ACCEL")]
    accel: Option<String>,
    /// Guest memory size (QEMU's -m syntax, e.g. 256M) [default: the target's].
    #[arg(short = 'm', long, value_name = "SIZE")]
    memory: Option<String>,
    /// Stop the guest after SECS seconds and exit with status 124.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Set an environment variable for the program (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    environment: Vec<OsString>,
    /// A cpio newc archive (`cpio -o -H newc`) unpacked over the image's file tree at
    /// `/` before the program starts (QEMU's -initrd).
    #[arg(long, value_name = "ARCHIVE")]
    initrd: Option<PathBuf>,
    /// Print the QEMU command and the runtime's boot log.
    #[arg(short, long)]
    verbose: bool,
    /// Boot without address space layout randomization (same addresses every run).
    #[arg(long)]
    no_aslr: bool,
    /// Print the QEMU command and run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Give the guest a network device: `user` (QEMU user networking, with -p
    /// forwards from 127.0.0.1) or `tap=NAME` (an existing TAP interface).
    #[arg(long, value_name = "user|tap=NAME")]
    net: Option<String>,
    /// Forward host port HOST on 127.0.0.1 to guest port GUEST (repeatable; with
    /// --net user; append /udp for UDP).
    #[arg(short = 'p', long = "publish", value_name = "HOST:GUEST[/udp]")]
    forwards: Vec<String>,
    /// Static guest address (default: DHCP), e.g. 10.0.2.15/24.
    #[arg(long, value_name = "ADDRESS/PREFIX")]
    ip: Option<String>,
    /// Default gateway of the static configuration, e.g. 10.0.2.2.
    #[arg(long, value_name = "ADDRESS")]
    gateway: Option<String>,
    /// DNS server for the guest (repeatable; default: DHCP's).
    #[arg(long, value_name = "ADDRESS")]
    dns: Vec<String>,
    /// Give the guest a virtio-rng device: the random generator's seed source on a
    /// CPU without RDRAND/RDSEED or RNDR (microvm and virt).
    #[arg(long)]
    rng: bool,
    /// An argument appended to QEMU's command line as it is (repeatable), e.g.
    /// `--qemu-arg=-monitor --qemu-arg=unix:/tmp/m,server=on,wait=off`.
    #[arg(long = "qemu-arg", value_name = "ARG", allow_hyphen_values = true)]
    qemu_arguments: Vec<OsString>,
    /// Boot without QEMU's exit device (isa-debug-exit, semihosting), as on hardware:
    /// the runtime prints `unik: exit status N` and switches the machine off (ACPI,
    /// PSCI); that line gives the status.
    #[arg(long)]
    no_exit_device: bool,
    /// The image built by unikcc.
    image: PathBuf,
    /// Arguments for the program (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    arguments: Vec<OsString>,
}

#[derive(Debug, Subcommand)]
enum SysrootCommand {
    /// Build (if out of date) and install the sysroot for a target.
    Build {
        #[arg(long, default_value = DEFAULT_TARGET)]
        target: String,
        /// Rebuild even if it is up to date.
        #[arg(long)]
        force: bool,
        /// Show cargo's output.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Print the sysroot directory of a target.
    Path {
        #[arg(long, default_value = DEFAULT_TARGET)]
        target: String,
    },
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!(
            "`{text}`: the timeout must be a positive number of seconds"
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("`{text}`: {error}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let environment = Environment::from_process();
    match execute(cli.command, &environment) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("unik: error: {error}");
            ExitCode::from(OWN_FAILURE)
        }
    }
}

fn execute(command: Command, environment: &Environment) -> unik::Result<u8> {
    match command {
        Command::Run(arguments) => {
            let accelerator = match &arguments.accel {
                Some(text) => Accelerator::parse(text)?,
                None => Accelerator::default_from(environment)?,
            };
            let options = RunOptions {
                image: arguments.image,
                arguments: arguments.arguments,
                environment: arguments.environment,
                machine: arguments.machine,
                cpu: arguments.cpu,
                accelerator,
                memory: arguments.memory,
                timeout: arguments.timeout,
                initrd: arguments.initrd,
                verbose: arguments.verbose,
                no_aslr: arguments.no_aslr,
                dry_run: arguments.dry_run,
                network: unik::network::NetworkArguments {
                    net: arguments.net.as_deref(),
                    forwards: &arguments.forwards,
                    ip: arguments.ip.as_deref(),
                    gateway: arguments.gateway.as_deref(),
                    dns: &arguments.dns,
                }
                .parse()?,
                rng: arguments.rng,
                qemu_arguments: arguments.qemu_arguments,
                no_exit_device: arguments.no_exit_device,
            };
            let outcome = unik::run::run(environment, &options)?;
            if let Some(message) = outcome.message() {
                eprintln!("{message}");
            }
            Ok(u8::try_from(outcome.exit_status()).unwrap_or(OWN_FAILURE))
        }
        Command::Iso(arguments) => {
            let options = RunOptions {
                image: arguments.image,
                arguments: arguments.arguments,
                environment: arguments.environment,
                machine: None,
                cpu: None,
                accelerator: Accelerator::Tcg,
                memory: None,
                timeout: None,
                verbose: arguments.verbose,
                no_aslr: false,
                dry_run: false,
                initrd: arguments.initrd,
                network: None,
                rng: false,
                qemu_arguments: Vec::new(),
                no_exit_device: false,
            };
            let (parameters, program_arguments) = unik::run::command_line_words(&options)?;
            let words = unik::iso::command_line_words(&parameters, &program_arguments);
            unik::iso::build(
                environment,
                &options.image,
                options.initrd.as_deref(),
                &words,
                &arguments.output,
                &[
                    unik::iso::FirmwareMachine::PcGrub,
                    unik::iso::FirmwareMachine::Uefi,
                ],
            )?;
            Ok(0)
        }
        Command::Explain { json, image } => {
            let record = unik::explain::read(&image)?;
            if json {
                print!("{}", unik::explain::render_json(&record));
            } else {
                print!("{}", unik::explain::render(&record));
            }
            Ok(0)
        }
        Command::Size { json, top, image } => {
            // The image names its target; that target's sysroot has the manifest.
            let record = unik::explain::read(&image)?;
            let spec = TargetSpec::find(&record.target)?;
            let manifest = unik::manifest::load(&sysroot::directory(environment, &spec)?)?;
            let selected: Vec<String> = record
                .components
                .iter()
                .map(|selected| selected.component.clone())
                .collect();
            let report = unik::size::measure(&image, &manifest, &selected, top)?;
            if json {
                print!("{}", unik::size::render_json(&report));
            } else {
                print!("{}", unik::size::render(&report));
            }
            Ok(0)
        }
        Command::Doctor { target } => {
            let spec = TargetSpec::find(&target)?;
            let report = unik::doctor::diagnose(environment, &spec)?;
            print!("{}", report.render());
            Ok(if report.ready() { 0 } else { 1 })
        }
        Command::Sysroot(SysrootCommand::Build {
            target,
            force,
            verbose,
        }) => {
            let spec = TargetSpec::find(&target)?;
            let options = EnsureOptions {
                c_compiler: None,
                force,
                verbose,
            };
            let built = sysroot::ensure(environment, &spec, options, |reason| {
                eprintln!("{}", sysroot::progress_line("unik", &spec, reason));
            })?;
            println!("{}", built.directory().display());
            Ok(0)
        }
        Command::Ld { arguments } => {
            let status = unik::unikcc::ld::main(&arguments, None, environment);
            Ok(u8::try_from(status).unwrap_or(1))
        }
        Command::InstallLinks { directory } => {
            let own = std::env::current_exe().map_err(|source| {
                unik::Error::Usage(format!("cannot find unik itself: {source}"))
            })?;
            let beside = |name: &str| own.with_file_name(name);
            let made = unik::unikcc::links::install_links(
                &directory,
                &beside("unikcc"),
                &beside("unikld"),
                environment,
            )?;
            for (link, destination) in made {
                println!("{} -> {}", link.display(), destination.display());
            }
            Ok(0)
        }
        Command::Sysroot(SysrootCommand::Path { target }) => {
            let spec = TargetSpec::find(&target)?;
            println!("{}", sysroot::directory(environment, &spec)?.display());
            Ok(0)
        }
    }
}
