//! x86_64: PVH and Multiboot2 boot, long mode, 16550 serial console, QEMU exit device
//! and ACPI power-off, exceptions, paging and the main thread's TLS; the LAPIC timer, TSC clock, thread switching and
//! thread TLS behind the `threading` interface (`crate::sched`, `crate::time`).

mod acpi;
mod apic;
mod aslr;
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
mod ioapic;
mod loader;
mod mapping;
mod multiboot2;
mod page_walk;
mod paging;
mod pci;
mod pvh;
pub mod serial;
mod thread_tls;
pub mod threading;
mod tls;

pub use exit::{exit, reboot};
pub use multiboot2::framebuffer;
