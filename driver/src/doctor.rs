//! `unik doctor`: what the toolchain found on this machine, and how to get what is
//! missing (Debian package names; the project's CI runs on Debian bookworm).

use std::ffi::OsStr;
use std::fmt::Write as _;

use crate::discovery::{self, Environment};
use crate::error::Result;
use crate::target::{DEFAULT_TARGET, TargetSpec};

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    /// Needed for the default target (its absence makes `unik doctor` fail).
    pub required: bool,
    /// `Ok(found)` with path and version, or `Err(why and how to get it)`.
    pub result: std::result::Result<String, String>,
}

/// The report and whether everything the default target needs is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
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
        let _ = writeln!(
            text,
            "{}",
            if self.ready() {
                format!("unik doctor: everything the {DEFAULT_TARGET} target needs is present")
            } else {
                format!(
                    "unik doctor: the {DEFAULT_TARGET} target cannot be built or run until the MISSING items are installed"
                )
            }
        );
        text
    }
}

/// The aarch64 triple whose std `unik doctor` looks for ahead of that target.
const AARCH64_TRIPLE: &str = "aarch64-unknown-linux-gnu";

/// Runs every check.
pub fn diagnose(environment: &Environment) -> Result<Report> {
    let spec = TargetSpec::find(DEFAULT_TARGET)?;
    let mut checks = Vec::new();

    checks.push(Check {
        what: "C compiler (clang)".to_string(),
        required: true,
        result: discovery::find_c_compiler(environment, None, &spec)
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

    for (triple, required) in [
        (spec.rust_triple.to_string(), true),
        (AARCH64_TRIPLE.to_string(), false),
    ] {
        let arch = triple.split('-').next().unwrap_or(&triple).to_string();
        checks.push(Check {
            what: format!("rustc with {arch} std"),
            required,
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

    for (binary, required, arch) in [
        (spec.qemu.binary.as_str(), true, spec.arch),
        (
            "qemu-system-aarch64",
            false,
            target_lexicon::Architecture::Aarch64(target_lexicon::Aarch64Architecture::Aarch64),
        ),
    ] {
        checks.push(Check {
            what: binary.to_string(),
            required,
            result: environment
                .find_program(OsStr::new(binary))
                .map(|path| found(&path, &discovery::version_line(&path, &["--version"])))
                .ok_or_else(|| format!("not found in PATH; {}", discovery::qemu_hint(arch))),
        });
    }

    checks.push(Check {
        what: format!("{} sysroot", spec.name),
        required: false,
        result: match crate::sysroot::directory(environment, &spec) {
            Ok(directory) if directory.join(unik_sysroot::stamp::STAMP_FILE).is_file() => {
                Ok(format!(
                    "{} (rebuilt when the runtime sources change)",
                    directory.display()
                ))
            }
            Ok(directory) => Err(format!(
                "not built yet at {} (unikcc builds it on first use, or run `unik sysroot build`)",
                directory.display()
            )),
            Err(error) => Err(error.to_string()),
        },
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
    Ok(Report { checks })
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

    #[test]
    fn the_report_is_ready_only_with_every_required_tool() {
        let mut report = Report {
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
    }

    #[test]
    fn an_empty_path_reports_everything_missing() {
        let directory = tempfile::tempdir().unwrap();
        let environment = Environment::from_pairs([
            ("PATH", directory.path().as_os_str()),
            ("HOME", OsStr::new("/nonexistent")),
            ("UNIK_RUSTC", OsStr::new("/nonexistent/rustc")),
        ]);
        let report = diagnose(&environment).unwrap();
        assert!(!report.ready());
        let qemu = report
            .checks
            .iter()
            .find(|check| check.what == "qemu-system-x86_64")
            .unwrap();
        assert_eq!(
            qemu.result,
            Err("not found in PATH; on Debian: apt-get install -t bookworm-backports qemu-system-x86".to_string())
        );
    }
}
