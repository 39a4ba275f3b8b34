//! `cargo-unik`: the `cargo unik build|run` subcommand, and the linker it installs
//! for the `<arch>-unknown-linux-gnu` targets (see `unik::cargo`).
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let arguments: Vec<OsString> = std::env::args_os().skip(1).collect();
    let environment = unik::discovery::Environment::from_process();
    let status = unik::cargo::main(&arguments, &environment);
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
