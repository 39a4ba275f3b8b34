//! PCI on x86_64 PCs (QEMU q35, i440fx): configuration space through the legacy I/O
//! ports and message-signalled interrupts to the local APIC. Reached only from
//! `crate::network` (the `net` component): images without networking do not carry it.
//!
//! - Configuration Mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xcf8
//!   (enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2), then
//!   CONFIG_DATA at 0xcfc. The ICH9 (q35) decodes it as the i440fx does; it reaches the
//!   first 256 bytes of a function, where the capability lists virtio and MSI-X use
//!   live, so ECAM (ACPI MCFG) is not needed.
//! - An MSI message for the boot CPU (Intel SDM vol. 3A 11.11.1-11.11.2): address
//!   0xfee00000 with the destination APIC id in bits 19:12 (0: the only CPU), data = the
//!   vector, fixed delivery, edge triggered.

use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};
use x86_64::instructions::port::Port;

use super::interrupts;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// Configuration space through ports 0xcf8/0xcfc. Only the network device's set-up
/// uses it, from one thread at a time, so the address/data pair needs no lock.
pub struct PortConfiguration(());

fn address(device_function: DeviceFunction, register_offset: u8) -> u32 {
    1 << 31
        | u32::from(device_function.bus) << 16
        | u32::from(device_function.device & 0x1f) << 11
        | u32::from(device_function.function & 0x7) << 8
        | u32::from(register_offset & 0xfc)
}

impl ConfigurationAccess for PortConfiguration {
    fn read_word(&self, device_function: DeviceFunction, register_offset: u8) -> u32 {
        // SAFETY: the PCI configuration ports: selecting a register and reading it has
        // no effect beyond the register's own (virtio-drivers reads only ID, status,
        // BAR and capability registers).
        unsafe {
            Port::<u32>::new(CONFIG_ADDRESS).write(address(device_function, register_offset));
            Port::<u32>::new(CONFIG_DATA).read()
        }
    }

    fn write_word(&mut self, device_function: DeviceFunction, register_offset: u8, data: u32) {
        // SAFETY: as in read_word; the callers write command, BAR and capability
        // registers of the device they drive.
        unsafe {
            Port::<u32>::new(CONFIG_ADDRESS).write(address(device_function, register_offset));
            Port::<u32>::new(CONFIG_DATA).write(data);
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortConfiguration(())
    }
}

/// The machine's PCI configuration space, if it has one: QEMU microvm has no PCI bus
/// (nothing decodes the ports: reads give all ones), q35 and pc have a host bridge at
/// 00:00.0.
pub fn configuration() -> Option<PortConfiguration> {
    let access = PortConfiguration(());
    let host_bridge = DeviceFunction {
        bus: 0,
        device: 0,
        function: 0,
    };
    let vendor = access.read_word(host_bridge, 0) & 0xffff;
    (vendor != 0xffff && vendor != 0).then_some(access)
}

/// Claims a device vector for `handler` and returns the MSI message (address, data)
/// that raises it on the boot CPU. The vector's interrupts end with an EOI as the I/O
/// APIC's do; a message is an edge, so the handler has nothing to lower.
pub fn route_message_interrupt(handler: fn()) -> Result<(u64, u32), &'static str> {
    let vector = interrupts::claim_device_vector(handler).ok_or("no free interrupt vector")?;
    Ok((0xfee0_0000, u32::from(vector)))
}
