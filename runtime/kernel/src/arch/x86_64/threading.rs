//! The x86_64 side of the interface the arch-neutral scheduler, clocks and futexes use
//! (`crate::sched`, `crate::time`). Each architecture provides the same names; the
//! list and its contracts are in `runtime/kernel/README.md`, "Arch interface for
//! threads and time".

pub use super::apic::set_timer;
pub use super::clock::{boot_wall_clock_nanoseconds, monotonic_nanoseconds};
pub use super::context::{
    cpu_local, prepare_stack, set_cpu_local, set_thread_pointer, switch, thread_pointer,
};
pub use super::interrupts::{
    disable as disable_interrupts, enable as enable_interrupts, restore as restore_interrupts,
    wait_for_interrupt,
};
pub use super::mapping::{MappingError, PageAccess, is_mapped, map_page, unmap_page};
pub use super::thread_tls::{initialize as initialize_tls, layout as tls_layout};

/// Where thread stacks are mapped: a virtual range no RAM identity mapping reaches (the
/// bootstrap map and the heap live below 1 GiB; 4-level paging has 128 TiB of lower
/// half). 1 TiB of it is reserved for stacks.
pub const STACK_REGION: core::ops::Range<u64> = 0x100_0000_0000..0x200_0000_0000;

/// Measures the clock (TSC frequency, RTC) unless a clock read did already, sizes the
/// FPU save area and starts the timer interrupt (LAPIC), whose handler calls
/// `on_timer`. Done when the scheduler starts (on first need: `crate::sched`), not at
/// every boot. Needs the heap (an xAPIC page table).
///
/// # Safety
/// Called once, interrupts off, by the scheduler's initialization.
pub unsafe fn initialize_timer(on_timer: fn()) -> Result<(), &'static str> {
    super::clock::ensure_initialized();
    super::interrupts::initialize_fpu_save_area();
    super::interrupts::set_timer_handler(on_timer);
    // SAFETY: the caller's contract; the IDT routes the vectors since boot.
    match unsafe { super::apic::initialize() } {
        Ok(()) => Ok(()),
        Err(super::apic::ApicError::NoApic) => Err("the CPU has no local APIC"),
        Err(super::apic::ApicError::Mapping) => Err("the local APIC's registers cannot be mapped"),
    }
}

pub use super::ioapic::route as route_device_interrupt;
pub use super::pci::{
    PortConfiguration as PciConfiguration, configuration as pci_configuration,
    route_message_interrupt,
};

/// Maps device registers (identity, uncached) for a driver.
pub fn map_device(address: u64, length: u64) -> Result<(), MappingError> {
    let first = address & !0xfff;
    let mut page = first;
    while page < address + length {
        // SAFETY: device registers a VMM described (command line): memory nothing else
        // maps; the same page twice (neighbouring transports) reports AlreadyMapped.
        match unsafe { map_page(page, page, PageAccess::Device) } {
            Ok(()) | Err(MappingError::AlreadyMapped) => {}
            Err(error) => return Err(error),
        }
        page += 0x1000;
    }
    Ok(())
}

/// The firmware names no virtio-mmio transports on x86_64 (the command line does).
pub fn virtio_mmio_transports() -> [crate::network::VirtioMmio; 0] {
    []
}

/// The boot stack `main` runs on: `(lowest usable address, top)`.
pub fn boot_stack() -> (usize, usize) {
    let stack = super::image::boot_stack();
    (stack.start as usize, stack.end as usize)
}

/// The libc's per-thread words in the calling thread's TCB: after glibc's `tcbhead_t`
/// (0x48 bytes) in the 512 zeroed bytes from the thread pointer (runtime/README.md,
/// "Thread pointer (x86_64)"); 64 bytes from here belong to the libc.
pub fn thread_data_area() -> usize {
    super::context::thread_pointer() + 0x50
}

/// 64 bits from the CPU's hardware random source, `None` without one (the seed of
/// `crate::random`'s generator).
pub fn hardware_random() -> Option<u64> {
    super::cpu::hardware_random()
}
