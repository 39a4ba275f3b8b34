//! The unik host tools' shared library: target specs, toolchain discovery, the
//! sysroot glue, the `unikcc` driver, and `unik run`/`unik doctor`.
#![forbid(unsafe_code)]
// Tests may unwrap: a panic there is a test failure with a backtrace.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod boot_path;
pub mod cargo;
pub mod cmdline;
pub mod discovery;
pub mod doctor;
pub mod embed;
pub mod error;
pub mod explain;
pub mod forward_backlog;
pub mod image_format;
pub mod iso;
pub mod link;
pub mod manifest;
pub mod network;
pub mod run;
pub mod size;
pub mod symbolize;
pub mod sysroot;
pub mod target;
pub mod unikcc;

pub use error::{Error, Result};
