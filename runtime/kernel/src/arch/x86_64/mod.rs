//! x86_64: PVH boot, long mode, 16550 serial console, QEMU exit device, exceptions,
//! paging and the main thread's TLS; the LAPIC timer, TSC clock, thread switching and
//! thread TLS behind the `threading` interface (`crate::sched`, `crate::time`).

mod apic;
mod boot;
mod clock;
mod context;
mod cpu;
mod descriptors;
mod entry;
mod exceptions;
mod exit;
mod image;
mod interrupts;
mod mapping;
mod paging;
mod pvh;
pub mod serial;
mod thread_tls;
pub mod threading;
mod tls;

pub use exit::exit;
