//! x86_64: PVH boot, long mode, 16550 serial console, QEMU exit device, exceptions,
//! paging and the main thread's TLS.

mod boot;
mod cpu;
mod descriptors;
mod entry;
mod exceptions;
mod exit;
mod image;
mod paging;
mod pvh;
pub mod serial;
mod tls;

pub use exit::exit;
