//! Target specs: `targets/<name>.toml`, embedded in the binaries at compile time so
//! an installed `unikcc` needs no source tree to know its targets.

use std::str::FromStr;

use serde::Deserialize;
use target_lexicon::{Architecture, Triple};

use crate::error::{Error, Result};

/// The specs compiled into the driver, by name. Adding a target = adding its file
/// under `targets/` and a line here.
const EMBEDDED_SPECS: &[(&str, &str)] = &[
    ("x86_64", include_str!("../../targets/x86_64.toml")),
    ("aarch64", include_str!("../../targets/aarch64.toml")),
    ("raspi4b", include_str!("../../targets/raspi4b.toml")),
];

/// The target used when none is named.
pub const DEFAULT_TARGET: &str = "x86_64";

/// One target, as described by its `targets/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub name: String,
    pub arch: Architecture,
    /// Triple the C compiler is invoked with (`--target=`), and `-dumpmachine` prints.
    pub c_triple: Triple,
    /// Triple the runtime is built for (its prebuilt `core` is used as is).
    pub rust_triple: Triple,
    /// Physical = virtual address the image is linked at.
    pub load_address: u64,
    /// Where `--format image` puts the arm64 Image header (the board loads the file
    /// there); `None`: the 64 bytes below `load_address`.
    pub image_header_address: Option<u64>,
    /// The format `unikcc` writes without `--format`.
    pub output_format: crate::image_format::OutputFormat,
    pub boot_protocols: Vec<String>,
    pub console: Console,
    pub exit_device: ExitDevice,
    pub qemu: QemuSpec,
    /// The file's text, installed into the sysroot as `target.toml`.
    pub source_text: &'static str,
}

/// The console UART the runtime writes stdout to (stderr goes to a second one of the
/// same kind when the machine has it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Console {
    /// A 16550 at an I/O port (x86_64: COM1 0x3f8; COM2 0x2f8 carries stderr).
    #[serde(rename = "uart16550")]
    Uart16550 { port: u16 },
    /// An Arm PL011 at an MMIO address (QEMU virt: the device tree names it).
    #[serde(rename = "pl011")]
    Pl011 { address: u64 },
}

/// How the guest ends the VM and reports its exact status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum ExitDevice {
    /// QEMU's `isa-debug-exit` at `port`; the runtime first writes `exit N\n` to the
    /// debugcon at `status_port`, because the device's own status loses a bit.
    #[serde(rename = "isa-debug-exit")]
    IsaDebugExit { port: u16, status_port: Option<u16> },
    /// Arm semihosting: SYS_WRITE0 of `exit N\n` (to the semihosting chardev), then
    /// SYS_EXIT with the status.
    #[serde(rename = "semihosting")]
    Semihosting,
}

/// How to boot the target under QEMU.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QemuSpec {
    pub binary: String,
    pub machine: String,
    pub cpu_tcg: String,
    pub cpu_kvm: String,
    pub memory: String,
    /// Firmware passed with `-bios` (a file name QEMU looks up in its data
    /// directory, or a path); QEMU's default when absent.
    pub firmware: Option<String>,
    /// The board's device tree blob, passed with `-dtb` (a file name `unik run`
    /// looks up, see `crate::run::find_device_tree`); QEMU makes one when absent.
    pub dtb: Option<String>,
}

/// The file as written; triples and the arch are still strings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargetSpec {
    name: String,
    arch: String,
    c_triple: String,
    rust_triple: String,
    load_address: u64,
    /// Another target's linker script (read by the sysroot install, unik-sysroot).
    #[serde(default)]
    #[allow(dead_code)]
    linker_script: Option<String>,
    image_header_address: Option<u64>,
    #[serde(default)]
    output_format: Option<String>,
    boot_protocols: Vec<String>,
    console: Console,
    exit_device: ExitDevice,
    qemu: QemuSpec,
}

impl TargetSpec {
    /// Parses a spec; `file` names it in errors (e.g. `targets/x86_64.toml`).
    pub fn parse(file: &str, text: &'static str) -> Result<Self> {
        let raw: RawTargetSpec = toml::from_str(text).map_err(|error| Error::TargetSpec {
            file: file.to_string(),
            message: error.message().to_string(),
        })?;
        let invalid = |message: String| Error::TargetSpec {
            file: file.to_string(),
            message,
        };
        let arch = Architecture::from_str(&raw.arch)
            .map_err(|()| invalid(format!("unknown arch `{}`", raw.arch)))?;
        let parse_triple = |field: &str, value: &str| {
            Triple::from_str(value).map_err(|error| invalid(format!("{field} `{value}`: {error}")))
        };
        let c_triple = parse_triple("c_triple", &raw.c_triple)?;
        let rust_triple = parse_triple("rust_triple", &raw.rust_triple)?;
        for (field, triple) in [("c_triple", &c_triple), ("rust_triple", &rust_triple)] {
            if triple.architecture != arch {
                return Err(invalid(format!(
                    "{field} `{triple}` is not for arch `{}`",
                    raw.arch
                )));
            }
        }
        if raw.boot_protocols.is_empty() {
            return Err(invalid("boot_protocols is empty".to_string()));
        }
        let output_format = match &raw.output_format {
            Some(text) => crate::image_format::OutputFormat::parse(text)
                .map_err(|error| invalid(format!("output_format: {error}")))?,
            None => crate::image_format::OutputFormat::Elf,
        };
        Ok(TargetSpec {
            name: raw.name,
            arch,
            c_triple,
            rust_triple,
            load_address: raw.load_address,
            image_header_address: raw.image_header_address,
            output_format,
            boot_protocols: raw.boot_protocols,
            console: raw.console,
            exit_device: raw.exit_device,
            qemu: raw.qemu,
            source_text: text,
        })
    }

    /// Every embedded target, in the order of [`EMBEDDED_SPECS`].
    pub fn all() -> Result<Vec<TargetSpec>> {
        EMBEDDED_SPECS
            .iter()
            .map(|(name, text)| TargetSpec::parse(&format!("targets/{name}.toml"), text))
            .collect()
    }

    /// Finds a target by name (`x86_64`), by C or Rust triple, or by arch name.
    pub fn find(wanted: &str) -> Result<TargetSpec> {
        let targets = TargetSpec::all()?;
        let position = targets.iter().position(|spec| {
            spec.name == wanted
                || spec.c_triple.to_string() == wanted
                || spec.rust_triple.to_string() == wanted
                || spec.arch.to_string() == wanted
        });
        match position {
            Some(index) => Ok(targets
                .into_iter()
                .nth(index)
                .ok_or_else(|| unknown(wanted, &[]))?),
            None => {
                let names: Vec<String> = targets.iter().map(|spec| spec.name.clone()).collect();
                Err(unknown(wanted, &names))
            }
        }
    }

    /// The target with the given ELF architecture, if any is embedded.
    pub fn for_arch(arch: Architecture) -> Result<Option<TargetSpec>> {
        Ok(TargetSpec::all()?
            .into_iter()
            .find(|spec| spec.arch == arch))
    }
}

fn unknown(wanted: &str, known: &[String]) -> Error {
    Error::UnknownTarget {
        name: wanted.to_string(),
        known: known.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_x86_64_spec_parses() {
        let spec = TargetSpec::find("x86_64").unwrap();
        assert_eq!(spec.name, "x86_64");
        assert_eq!(spec.arch, Architecture::X86_64);
        assert_eq!(spec.c_triple.to_string(), "x86_64-unknown-linux-gnu");
        assert_eq!(spec.rust_triple.to_string(), "x86_64-unknown-linux-gnu");
        assert_eq!(spec.load_address, 0x10_0000);
        assert_eq!(spec.boot_protocols, ["pvh"]);
        assert_eq!(spec.console, Console::Uart16550 { port: 0x3f8 });
        assert_eq!(
            spec.exit_device,
            ExitDevice::IsaDebugExit {
                port: 0xf4,
                status_port: Some(0xe9)
            }
        );
        assert_eq!(spec.qemu.binary, "qemu-system-x86_64");
        assert_eq!(spec.qemu.machine, "microvm");
        assert_eq!(spec.qemu.cpu_tcg, "max");
        assert_eq!(spec.qemu.firmware.as_deref(), Some("qboot.rom"));
    }

    #[test]
    fn the_embedded_aarch64_spec_parses() {
        let spec = TargetSpec::find("aarch64").unwrap();
        assert_eq!(
            spec.arch,
            Architecture::Aarch64(target_lexicon::Aarch64Architecture::Aarch64)
        );
        assert_eq!(spec.c_triple.to_string(), "aarch64-unknown-linux-gnu");
        assert_eq!(spec.load_address, 0x4020_0000);
        assert_eq!(
            spec.console,
            Console::Pl011 {
                address: 0x900_0000
            }
        );
        assert_eq!(spec.exit_device, ExitDevice::Semihosting);
        assert_eq!(spec.qemu.binary, "qemu-system-aarch64");
        assert_eq!(spec.qemu.machine, "virt");
        assert_eq!(spec.qemu.firmware, None);
    }

    #[test]
    fn found_by_triple_and_arch() {
        assert_eq!(
            TargetSpec::find("x86_64-unknown-linux-gnu").unwrap().name,
            "x86_64"
        );
        assert_eq!(
            TargetSpec::for_arch(Architecture::X86_64)
                .unwrap()
                .map(|spec| spec.name),
            Some("x86_64".to_string())
        );
    }

    #[test]
    fn an_unknown_target_lists_the_known_ones() {
        let message = TargetSpec::find("riscv64").unwrap_err().to_string();
        assert_eq!(
            message,
            "unknown target `riscv64` (known targets: x86_64, aarch64, raspi4b)"
        );
    }

    const VALID: &str = r#"
name = "t"
arch = "x86_64"
c_triple = "x86_64-unknown-linux-gnu"
rust_triple = "x86_64-unknown-linux-gnu"
load_address = 0x100000
boot_protocols = ["pvh"]
console = { kind = "uart16550", port = 0x3f8 }
exit_device = { kind = "isa-debug-exit", port = 0xf4 }
[qemu]
binary = "qemu-system-x86_64"
machine = "microvm"
cpu_tcg = "max"
cpu_kvm = "host"
memory = "128M"
"#;

    #[test]
    fn the_status_port_is_optional() {
        let spec = TargetSpec::parse("t.toml", VALID).unwrap();
        assert_eq!(
            spec.exit_device,
            ExitDevice::IsaDebugExit {
                port: 0xf4,
                status_port: None
            }
        );
    }

    #[test]
    fn a_triple_of_another_arch_is_rejected() {
        let text: &'static str = VALID
            .replace("c_triple = \"x86_64", "c_triple = \"aarch64")
            .leak();
        let message = TargetSpec::parse("t.toml", text).unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid target spec t.toml: c_triple `aarch64-unknown-linux-gnu` is not for arch `x86_64`"
        );
    }

    #[test]
    fn unknown_fields_and_bad_values_are_reported() {
        let text: &'static str = VALID
            .replace("name = \"t\"", "name = \"t\"\ncolour = 1")
            .leak();
        let message = TargetSpec::parse("t.toml", text).unwrap_err().to_string();
        assert!(
            message.starts_with("invalid target spec t.toml: unknown field `colour`"),
            "{message}"
        );
        let text: &'static str = VALID
            .replace(
                "c_triple = \"x86_64-unknown-linux-gnu\"",
                "c_triple = \"not a triple\"",
            )
            .leak();
        let message = TargetSpec::parse("t.toml", text).unwrap_err().to_string();
        assert!(
            message.starts_with("invalid target spec t.toml: c_triple `not a triple`"),
            "{message}"
        );
    }
}
