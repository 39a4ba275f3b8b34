//! virtio over PCI (virtio 1.2, 4.1 "Virtio Over PCI Bus"): finding a virtio device on
//! bus 0, its memory BARs (assigned when the firmware left them unassigned, mapped
//! uncached and no-execute), and its interrupt as an MSI-X message (PCI Local Bus 3.0,
//! 6.8.2 "MSI-X Capability and Table Structure"). The configuration space access and
//! the message's address/data are the arch's (`arch::threading::pci_configuration`,
//! `crate::sched::enable_message_interrupt`). Only `crate::network` (the `net`
//! component) reaches this module.

use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::bus::{
    BarInfo, Command, ConfigurationAccess, DeviceFunction, MemoryBarType, PciRoot,
};
use virtio_drivers::transport::pci::virtio_device_type;

use crate::arch::threading as arch;

/// PCI capability ids (PCI Code and ID Assignment 1.11, 2): MSI-X, vendor specific.
const CAPABILITY_MSIX: u8 = 0x11;
const CAPABILITY_VENDOR: u8 = 0x09;
/// virtio_pci_cap.cfg_type of the common configuration (virtio 1.2, 4.1.4).
const VIRTIO_COMMON_CONFIGURATION: u8 = 1;
/// Fields of struct virtio_pci_common_cfg (virtio 1.2, 4.1.4.3).
const COMMON_CONFIG_MSIX_VECTOR: u64 = 0x10;
const COMMON_QUEUE_SELECT: u64 = 0x16;
const COMMON_QUEUE_MSIX_VECTOR: u64 = 0x1a;
/// "No vector": the event raises no interrupt (virtio 1.2, 4.1.5.1.2).
const NO_VECTOR: u16 = 0xffff;
/// MSI-X Message Control (the capability's upper 16 bits): enable, function mask.
const MSIX_ENABLE: u32 = 1 << 31;
const MSIX_FUNCTION_MASK: u32 = 1 << 30;

/// Where unassigned 32-bit memory BARs go: below the I/O APIC (0xfec00000) in the PCI
/// hole of QEMU's PC machines (q35's starts at 0xb0000000 with ECAM's 256 MiB, then
/// 0xc0000000; firmware assigns from its bottom, this takes from 0xf0000000 up).
const BAR_WINDOW: core::ops::Range<u64> = 0xf000_0000..0xfec0_0000;

/// Why a virtio PCI device could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciError {
    /// A BAR could not be given an address or mapped.
    Bar,
    /// virtio-drivers refused the device (capabilities missing or out of range).
    Transport,
    /// The device has no MSI-X capability (or its table is not in a memory BAR).
    NoMsix,
    /// The device did not accept the interrupt vector for a queue.
    Vector,
}

/// A virtio device found on bus 0: the root it is on, its address, and a second
/// handle on the configuration space for the registers virtio-drivers does not write
/// (MSI-X; `PciRoot` keeps its own private).
pub struct Found {
    pub root: PciRoot<arch::PciConfiguration>,
    pub function: DeviceFunction,
    configuration: arch::PciConfiguration,
}

/// The first virtio device of `kind` on bus 0 of the machine's PCI configuration space
/// (None without one), with its memory BARs assigned and mapped and memory decoding
/// plus bus mastering on.
pub fn find(kind: DeviceType) -> Result<Option<Found>, PciError> {
    let (Some(configuration), Some(second)) =
        (arch::pci_configuration(), arch::pci_configuration())
    else {
        return Ok(None);
    };
    let mut root = PciRoot::new(configuration);
    let Some(function) = root
        .enumerate_bus(0)
        .find(|(_, info)| virtio_device_type(info) == Some(kind))
        .map(|(function, _)| function)
    else {
        return Ok(None);
    };
    let mut next_address = BAR_WINDOW.start;
    let bars = root.bars(function).map_err(|_| PciError::Bar)?;
    for (index, bar) in bars.iter().enumerate() {
        let Some(BarInfo::Memory {
            address_type,
            address,
            size,
            ..
        }) = *bar
        else {
            continue;
        };
        let mut address = address;
        if address == 0 {
            // Unassigned: naturally aligned (BAR sizes are powers of two) in the window.
            address = next_address.next_multiple_of(size.max(0x1000));
            if address + size > BAR_WINDOW.end {
                return Err(PciError::Bar);
            }
            next_address = address + size;
            let index = index as u8;
            match address_type {
                MemoryBarType::Width64 => root.set_bar_64(function, index, address),
                _ => root.set_bar_32(function, index, address as u32),
            }
        }
        arch::map_device(address, size).map_err(|_| PciError::Bar)?;
    }
    let (_, command) = root.get_status_command(function);
    root.set_command(
        function,
        command | Command::MEMORY_SPACE | Command::BUS_MASTER,
    );
    Ok(Some(Found {
        root,
        function,
        configuration: second,
    }))
}

/// The physical address of the memory BAR `index`.
fn bar_address(found: &mut Found, index: u8) -> Option<u64> {
    let bar = found.root.bar_info(found.function, index).ok()??;
    bar.memory_address_size().map(|(address, _)| address)
}

/// Routes the device's queue interrupts (queues `0..queues`) to `handler` as an MSI-X
/// message: table entry 0 gets the message, every queue vector 0, configuration changes
/// none. Call after the driver set the queues up (the device has them by then).
pub fn route_queue_interrupts(
    found: &mut Found,
    queues: u16,
    handler: fn(),
) -> Result<(), PciError> {
    let function = found.function;
    let msix = found
        .root
        .capabilities(function)
        .find(|capability| capability.id == CAPABILITY_MSIX)
        .ok_or(PciError::NoMsix)?;
    let common = found
        .root
        .capabilities(function)
        .find(|capability| {
            capability.id == CAPABILITY_VENDOR
                && (capability.private_header >> 8) as u8 == VIRTIO_COMMON_CONFIGURATION
        })
        .ok_or(PciError::Transport)?;
    let configuration = &mut found.configuration;
    let table = configuration.read_word(function, msix.offset + 4);
    let common_bar = configuration.read_word(function, common.offset + 4) as u8;
    let common_offset = configuration.read_word(function, common.offset + 8);
    let table_address =
        bar_address(found, (table & 0x7) as u8).ok_or(PciError::NoMsix)? + u64::from(table & !0x7);
    let common_address =
        bar_address(found, common_bar).ok_or(PciError::Transport)? + u64::from(common_offset);
    let (message_address, message_data) =
        crate::sched::enable_message_interrupt(handler).map_err(|_| PciError::Vector)?;
    // Table entry 0: message address (low, high), data, vector control (bit 0: masked).
    let entry = [
        message_address as u32,
        (message_address >> 32) as u32,
        message_data,
        0,
    ];
    for (index, word) in entry.into_iter().enumerate() {
        // SAFETY: the MSI-X table lies in a memory BAR that `find` mapped as device
        // memory; entry 0 is the first 16 bytes of the table (PCI 3.0, 6.8.2.6-9).
        unsafe { core::ptr::write_volatile((table_address + 4 * index as u64) as *mut u32, word) };
    }
    let control = found.configuration.read_word(function, msix.offset);
    found.configuration.write_word(
        function,
        msix.offset,
        (control | MSIX_ENABLE) & !MSIX_FUNCTION_MASK,
    );
    // SAFETY: the common configuration structure lies in a memory BAR `find` mapped; the
    // driver touches queue_select only from the device's owner, which is the caller,
    // now (no notify can interleave).
    unsafe {
        let register = |offset: u64| (common_address + offset) as *mut u16;
        core::ptr::write_volatile(register(COMMON_CONFIG_MSIX_VECTOR), NO_VECTOR);
        for queue in 0..queues {
            core::ptr::write_volatile(register(COMMON_QUEUE_SELECT), queue);
            core::ptr::write_volatile(register(COMMON_QUEUE_MSIX_VECTOR), 0);
            // The device answers NO_VECTOR when it could not take the vector (4.1.5.1.2).
            if core::ptr::read_volatile(register(COMMON_QUEUE_MSIX_VECTOR)) != 0 {
                return Err(PciError::Vector);
            }
        }
    }
    Ok(())
}
