//! The I/O APIC: routes a device's interrupt line (a GSI) to a LAPIC vector.
//!
//! QEMU microvm has one I/O APIC at 0xfec00000 for GSIs 0-23 and, with `ioapic2`
//! (its default), a second at 0xfec10000 for GSIs 24-47, where its virtio-mmio
//! transports' lines are. Registers: Intel 82093AA I/O APIC datasheet, 3.1 (IOREGSEL
//! at +0x00, IOWIN at +0x10) and 3.2.4 (redirection table: two 32-bit registers per
//! pin from index 0x10).

use super::interrupts;
use super::mapping::{self, PageAccess};

/// The I/O APICs of the PC layout microvm uses: (register page, first GSI).
const CONTROLLERS: [(u64, u32); 2] = [(0xfec0_0000, 0), (0xfec1_0000, 24)];
/// Pins per I/O APIC (microvm's have 24, as the 82093AA).
const PINS: u32 = 24;

const REGISTER_VERSION: u32 = 0x01;
const REGISTER_REDIRECTION: u32 = 0x10;
/// Redirection entry bits: level triggered (15), masked (16).
const LEVEL_TRIGGERED: u32 = 1 << 15;

fn write_register(base: u64, index: u32, value: u32) {
    // SAFETY: the controller's register page is mapped uncached (`route`); IOREGSEL
    // selects, IOWIN then accesses the selected register (datasheet 3.1).
    unsafe {
        core::ptr::write_volatile(base as *mut u32, index);
        core::ptr::write_volatile((base + 0x10) as *mut u32, value);
    }
}

fn read_register(base: u64, index: u32) -> u32 {
    // SAFETY: as in write_register.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, index);
        core::ptr::read_volatile((base + 0x10) as *const u32)
    }
}

/// Routes GSI `line` (level triggered, active high, as virtio-mmio's lines are) to a
/// fresh device vector whose interrupts call `handler`, on the boot CPU (APIC id 0).
///
/// # Safety
/// Called with interrupts off, after the LAPIC is up (the scheduler started).
pub unsafe fn route(line: u32, handler: fn()) -> Result<(), &'static str> {
    let &(base, first) = CONTROLLERS
        .iter()
        .find(|(_, first)| (*first..first + PINS).contains(&line))
        .ok_or("the interrupt line is beyond the I/O APICs")?;
    // SAFETY: the I/O APIC's register page: device memory nothing else maps. Mapping it
    // twice (a second device) reports AlreadyMapped, which is fine.
    match unsafe { mapping::map_page(base, base, PageAccess::Device) } {
        Ok(()) | Err(mapping::MappingError::AlreadyMapped) => {}
        Err(mapping::MappingError::OutOfMemory) => return Err("no memory for a page table"),
    }
    // An absent controller reads as all ones.
    let version = read_register(base, REGISTER_VERSION);
    if version == u32::MAX || (version >> 16) & 0xff < line - first {
        return Err("the machine has no I/O APIC for the interrupt line");
    }
    let vector = interrupts::claim_device_vector(handler).ok_or("no free interrupt vector")?;
    let pin = line - first;
    // Destination APIC id 0 (high word bits 24-31), physical mode, fixed delivery.
    write_register(base, REGISTER_REDIRECTION + 2 * pin + 1, 0);
    write_register(
        base,
        REGISTER_REDIRECTION + 2 * pin,
        u32::from(vector) | LEVEL_TRIGGERED,
    );
    Ok(())
}
