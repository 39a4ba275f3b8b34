//! `unik doctor`: what the toolchain found on this machine, and how to get what is
//! missing (Debian package names; the project's CI runs on Debian bookworm).

use std::ffi::OsStr;
use std::fmt::Write as _;

use crate::discovery::{self, Environment};
use crate::error::Result;
use crate::target::TargetSpec;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    /// Needed by the target the report is for (its absence makes `unik doctor` fail).
    pub required: bool,
    /// `Ok(found)` with path and version, or `Err(why and how to get it)`.
    pub result: std::result::Result<String, String>,
}

/// The report, for one target: whether everything that target needs is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The target whose needs decide [`Report::ready`] (`unik doctor --target`).
    pub target: String,
    pub checks: Vec<Check>,
}

impl Report {
    /// True when every required check passed.
    pub fn ready(&self) -> bool {
        self.checks
            .iter()
            .all(|check| !check.required || check.result.is_ok())
    }

    /// The text `unik doctor` prints.
    pub fn render(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|check| check.what.len())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for check in &self.checks {
            let (status, detail) = match (&check.result, check.required) {
                (Ok(found), _) => ("ok", found.as_str()),
                (Err(why), true) => ("MISSING", why.as_str()),
                (Err(why), false) => ("absent", why.as_str()),
            };
            let _ = writeln!(text, "{status:<8} {:<width$}  {detail}", check.what);
        }
        let target = &self.target;
        let _ = writeln!(
            text,
            "{}",
            if self.ready() {
                format!("unik doctor: everything the {target} target needs is present")
            } else {
                format!(
                    "unik doctor: the {target} target cannot be built or run until the MISSING items are installed"
                )
            }
        );
        text
    }
}

/// Runs every check, for every target; the items `focus` needs are the required ones
/// (C compiler, linker, rustc with its std, its QEMU). A sysroot is never required:
/// `unikcc` builds it on first use from the tools above.
pub fn diagnose(environment: &Environment, focus: &TargetSpec) -> Result<Report> {
    let targets = TargetSpec::all()?;
    let mut checks = Vec::new();

    checks.push(Check {
        what: "C compiler (clang)".to_string(),
        required: true,
        result: discovery::find_c_compiler(environment, None, focus)
            .map(|compiler| {
                found(
                    &compiler.path,
                    &discovery::version_line(&compiler.path, &["--version"]),
                )
            })
            .map_err(|error| error.to_string()),
    });

    checks.push(Check {
        what: "linker (LLD)".to_string(),
        required: true,
        result: discovery::find_linker(environment)
            .map(|linker| {
                let mut arguments: Vec<&str> = linker
                    .leading_arguments
                    .iter()
                    .map(String::as_str)
                    .collect();
                arguments.push("--version");
                found(
                    &linker.path,
                    &discovery::version_line(&linker.path, &arguments),
                )
            })
            .map_err(|error| error.to_string()),
    });

    // Targets of one arch share rustc and QEMU: one line each, required when the
    // focus target is among them.
    let first_of_arch = |index: usize| {
        targets[..index]
            .iter()
            .all(|earlier| earlier.arch != targets[index].arch)
    };
    let needed_by_focus = |spec: &TargetSpec| spec.arch == focus.arch;
    for (index, spec) in targets.iter().enumerate() {
        if !first_of_arch(index) {
            continue;
        }
        let triple = spec.rust_triple.to_string();
        checks.push(Check {
            what: format!("rustc with {} std", spec.arch),
            required: needed_by_focus(spec),
            result: discovery::find_rust(environment, &triple)
                .map(|rust| {
                    format!(
                        "{} (cargo: {})",
                        found(
                            &rust.rustc,
                            &discovery::version_line(&rust.rustc, &["--version"])
                        ),
                        rust.cargo.display()
                    )
                })
                .map_err(|_| format!("not found; {}", discovery::rust_std_hint(&triple))),
        });
    }

    for (index, spec) in targets.iter().enumerate() {
        if !first_of_arch(index) {
            continue;
        }
        let binary = spec.qemu.binary.as_str();
        checks.push(Check {
            what: binary.to_string(),
            required: needed_by_focus(spec),
            result: environment
                .find_program(OsStr::new(binary))
                .map(|path| found(&path, &discovery::version_line(&path, &["--version"])))
                .ok_or_else(|| format!("not found in PATH; {}", discovery::qemu_hint(spec.arch))),
        });
    }

    for spec in targets.iter().filter(|spec| spec.qemu.dtb.is_some()) {
        let name = spec.qemu.dtb.as_deref().unwrap_or_default();
        checks.push(Check {
            what: format!("{} device tree", spec.name),
            required: spec.name == focus.name,
            result: crate::boot_path::find_device_tree(environment, name)
                .map(|path| format!("{} (unik run passes it to QEMU with -dtb)", path.display()))
                .map_err(|error| error.to_string()),
        });
    }
    if targets.iter().any(|spec| spec.qemu.machine == "virt") {
        checks.push(Check {
            what: "U-Boot (qemu_arm64)".to_string(),
            required: false,
            result: crate::boot_path::find_uboot(environment)
                .map(|path| format!("{} (`unik run --machine uboot`)", path.display()))
                .map_err(|error| error.to_string()),
        });
    }

    for spec in &targets {
        checks.push(Check {
            what: format!("{} sysroot", spec.name),
            required: false,
            result: sysroot_state(environment, spec),
        });
    }

    // Networking (`unik run --net`): never required.
    let focus_qemu = environment.find_program(OsStr::new(focus.qemu.binary.as_str()));
    checks.push(Check {
        what: "QEMU user networking".to_string(),
        required: false,
        result: match &focus_qemu {
            Some(qemu) => crate::network::user_network_support(qemu),
            None => Err(format!("{} not found", focus.qemu.binary)),
        },
    });
    checks.push(Check {
        what: "TAP networking".to_string(),
        required: false,
        result: crate::network::tap_support(),
    });

    checks.push(Check {
        what: "KVM".to_string(),
        required: false,
        result: discovery::kvm_usable()
            .map(|()| "usable (/dev/kvm opens read-write; `unik run --accel kvm`)".to_string())
            .map_err(|why| {
                format!("not usable ({why}); TCG works without it (to use KVM: add yourself to the kvm group)")
            }),
    });
    Ok(Report {
        target: focus.name.clone(),
        checks,
    })
}

/// Whether a target's sysroot has been built (its stamp file exists).
fn sysroot_state(
    environment: &Environment,
    spec: &TargetSpec,
) -> std::result::Result<String, String> {
    match crate::sysroot::directory(environment, spec) {
        Ok(directory) if directory.join(unik_sysroot::stamp::STAMP_FILE).is_file() => Ok(format!(
            "{} (rebuilt when the runtime sources change)",
            directory.display()
        )),
        Ok(directory) => Err(format!(
            "not built yet at {} (unikcc builds it on first use, or run `unik sysroot build --target {}`)",
            directory.display(),
            spec.name
        )),
        Err(error) => Err(error.to_string()),
    }
}

fn found(path: &std::path::Path, version: &Option<String>) -> String {
    match version {
        Some(version) => format!("{} ({version})", path.display()),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<'a>(report: &'a Report, what: &str) -> &'a Check {
        report
            .checks
            .iter()
            .find(|check| check.what == what)
            .unwrap_or_else(|| panic!("no `{what}` line in {report:?}"))
    }

    #[test]
    fn the_report_is_ready_only_with_every_required_tool() {
        let mut report = Report {
            target: "x86_64".into(),
            checks: vec![
                Check {
                    what: "C compiler (clang)".into(),
                    required: true,
                    result: Ok("/usr/bin/clang-19 (clang 19)".into()),
                },
                Check {
                    what: "KVM".into(),
                    required: false,
                    result: Err("not usable".into()),
                },
            ],
        };
        assert!(report.ready());
        assert_eq!(
            report.render(),
            "ok       C compiler (clang)  /usr/bin/clang-19 (clang 19)\n\
             absent   KVM                 not usable\n\
             unik doctor: everything the x86_64 target needs is present\n"
        );
        report.checks[0].result = Err("no C compiler found".into());
        assert!(!report.ready());
        assert!(
            report
                .render()
                .starts_with("MISSING  C compiler (clang)  no C compiler found\n")
        );
        report.target = "aarch64".into();
        assert!(report.render().ends_with(
            "unik doctor: the aarch64 target cannot be built or run until the MISSING items are installed\n"
        ));
    }

    #[test]
    fn an_empty_path_reports_everything_missing() {
        let directory = tempfile::tempdir().unwrap();
        let environment = Environment::from_pairs([
            ("PATH", directory.path().as_os_str()),
            ("HOME", OsStr::new("/nonexistent")),
            ("UNIK_RUSTC", OsStr::new("/nonexistent/rustc")),
        ]);
        let report = diagnose(&environment, &TargetSpec::find("x86_64").unwrap()).unwrap();
        assert!(!report.ready());
        assert_eq!(
            check(&report, "qemu-system-x86_64").result,
            Err("not found in PATH; on Debian: apt-get install -t bookworm-backports qemu-system-x86".to_string())
        );
        assert_eq!(
            check(&report, "qemu-system-aarch64").result,
            Err("not found in PATH; on Debian: apt-get install -t bookworm-backports qemu-system-arm".to_string())
        );
    }

    /// A PATH holding only an executable `name` (a shim: doctor only finds it).
    fn path_with(directory: &std::path::Path, name: &str) {
        use std::os::unix::fs::PermissionsExt;
        let shim = directory.join(name);
        std::fs::write(&shim, "#!/bin/sh\necho shim 1.0\n").unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_target_decides_what_is_required() {
        let tools = tempfile::tempdir().unwrap();
        path_with(tools.path(), "qemu-system-x86_64");
        let sysroots = tempfile::tempdir().unwrap();
        let environment = Environment::from_pairs([
            ("PATH", tools.path().as_os_str()),
            ("HOME", OsStr::new("/nonexistent")),
            ("UNIK_RUSTC", OsStr::new("/nonexistent/rustc")),
            ("UNIK_SYSROOT_DIR", sysroots.path().as_os_str()),
        ]);
        let aarch64 = TargetSpec::find("aarch64").unwrap();
        let report = diagnose(&environment, &aarch64).unwrap();
        assert_eq!(report.target, "aarch64");
        let qemu_arm = check(&report, "qemu-system-aarch64");
        assert!(qemu_arm.required && qemu_arm.result.is_err());
        let qemu_x86 = check(&report, "qemu-system-x86_64");
        assert!(!qemu_x86.required);
        assert_eq!(
            qemu_x86.result,
            Ok(format!(
                "{} (shim 1.0)",
                tools.path().join("qemu-system-x86_64").display()
            ))
        );
        assert!(check(&report, "rustc with aarch64 std").required);
        assert!(!check(&report, "rustc with x86_64 std").required);
        assert!(!report.ready());

        let x86_64 = TargetSpec::find("x86_64").unwrap();
        let report = diagnose(&environment, &x86_64).unwrap();
        assert!(check(&report, "qemu-system-x86_64").required);
        assert!(!check(&report, "qemu-system-aarch64").required);
        assert!(check(&report, "rustc with x86_64 std").required);
    }

    #[test]
    fn every_targets_sysroot_is_reported() {
        let sysroots = tempfile::tempdir().unwrap();
        let environment = Environment::from_pairs([
            ("PATH", OsStr::new("/nonexistent")),
            ("HOME", OsStr::new("/nonexistent")),
            ("UNIK_RUSTC", OsStr::new("/nonexistent/rustc")),
            ("UNIK_SYSROOT_DIR", sysroots.path().as_os_str()),
        ]);
        let aarch64_directory = sysroots.path().join("aarch64");
        std::fs::create_dir_all(&aarch64_directory).unwrap();
        std::fs::write(aarch64_directory.join(unik_sysroot::stamp::STAMP_FILE), "x").unwrap();
        let report = diagnose(&environment, &TargetSpec::find("x86_64").unwrap()).unwrap();
        let aarch64 = check(&report, "aarch64 sysroot");
        assert!(!aarch64.required, "unikcc builds a sysroot on first use");
        assert_eq!(
            aarch64.result,
            Ok(format!(
                "{} (rebuilt when the runtime sources change)",
                aarch64_directory.display()
            ))
        );
        assert_eq!(
            check(&report, "x86_64 sysroot").result,
            Err(format!(
                "not built yet at {} (unikcc builds it on first use, or run `unik sysroot build --target x86_64`)",
                sysroots.path().join("x86_64").display()
            ))
        );
    }
}
