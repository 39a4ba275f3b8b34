//! `unikld`: a GNU-ld-compatible entry that links bootable unik images.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut arguments = std::env::args_os();
    let program = arguments.next().unwrap_or_default();
    let arguments: Vec<OsString> = arguments.collect();
    let environment = unik::discovery::Environment::from_process();
    let target = unik::unikcc::target_from_program_name(&program);
    let status = unik::unikcc::ld::main(&arguments, target, &environment);
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
