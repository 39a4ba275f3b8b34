//! `unikcc`: gcc-compatible compiler driver producing bootable unik images.
//!
//! Installed under a target-prefixed name (`aarch64-unik-cc`, `x86_64-unik-gcc`,
//! made by `unik install-links DIR`), it builds for that target, as cross compilers
//! do for autoconf's `--host`; a name ending in `-ld` is the GNU ld entry (`unikld`).
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut arguments = std::env::args_os();
    let program = arguments.next().unwrap_or_default();
    let mut arguments: Vec<OsString> = arguments.collect();
    let environment = unik::discovery::Environment::from_process();
    let target = unik::unikcc::target_from_program_name(&program);
    let status = if unik::unikcc::is_linker_name(&program) {
        unik::unikcc::ld::main(&arguments, target, &environment)
    } else {
        if let Some(target) = target {
            // First, so an explicit --target later on the line still wins.
            arguments.splice(0..0, [OsString::from("--target"), OsString::from(target)]);
        }
        unik::unikcc::main(&arguments, &environment)
    };
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
