//! The network device: virtio-net over the virtio-mmio transport (virtio 1.2, 4.2 "Virtio
//! Over MMIO"; 5.1 "Network Device") with its interrupt line routed (x86_64: the I/O
//! APIC; aarch64: a GIC SPI), or over PCI (4.1, `crate::virtio_pci`: x86_64 q35, pc) with
//! an MSI-X message, driven by the `virtio-drivers` crate.
//!
//! The virtio-mmio transports and the DMA glue are `virtio`'s. Only the `net` component
//! reaches this module.

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::virtio::{IdentityHal, open_transport};
pub use crate::virtio::{VirtioMmio, virtio_mmio_transports};

/// Descriptors per virtqueue.
const QUEUE_SIZE: usize = 64;
/// Receive buffer size: an Ethernet frame (1514) plus the virtio-net header, rounded.
const RECEIVE_BUFFER_SIZE: usize = 2048;

type VirtioNet =
    virtio_drivers::device::net::VirtIONetRaw<IdentityHal, SomeTransport<'static>, QUEUE_SIZE>;
/// virtio-net's queues without multiqueue: receiveq1 and transmitq1 (virtio 1.2, 5.1.2).
const QUEUES: u16 = 2;

/// Why no network device could be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkError {
    /// No virtio-net transport on this machine (`unik run` without `--net`).
    NoDevice,
    /// The device's registers could not be mapped.
    Mapping,
    /// The device refused the driver's set-up (features, queues).
    Setup,
    /// Its interrupt line could not be routed.
    Interrupt(&'static str),
    /// A virtio-net device on the PCI bus could not be set up.
    Pci(crate::virtio_pci::PciError),
}

/// The opened network device. Every buffer the device reads or writes is a heap block
/// (identity mapped: its address is its physical address), never a stack buffer —
/// thread stacks live at addresses that are not physical ones.
pub struct NetworkDevice {
    device: VirtioNet,
    /// The receive buffers the device holds, by the token `receive_begin` gave.
    receiving: Vec<Option<Vec<u8>>>,
    /// Frames handed to the device and not yet completed, by token (header included).
    transmitting: Vec<Option<Vec<u8>>>,
    /// Bytes of the virtio-net header in front of each frame.
    header_length: usize,
}

/// The transport whose interrupt the handler acknowledges (its register window).
static INTERRUPT_REGISTERS: AtomicU64 = AtomicU64::new(0);
/// What the interrupt calls after acknowledging (the stack's wake-up).
static ON_INTERRUPT: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// virtio-mmio registers InterruptStatus and InterruptACK (virtio 1.2, 4.2.2).
const INTERRUPT_STATUS: u64 = 0x60;
const INTERRUPT_ACK: u64 = 0x64;

/// The device's interrupt: acknowledges it at the transport (which lowers the
/// level-triggered line) and calls the registered wake-up. Interrupts are off.
fn device_interrupt() {
    let registers = INTERRUPT_REGISTERS.load(Ordering::Acquire);
    if registers != 0 {
        // SAFETY: the transport's register window, mapped as device memory by `open`;
        // reading InterruptStatus and writing the same bits to InterruptACK is the
        // driver's acknowledgement (virtio 1.2, 4.2.3.4), safe beside the queue work
        // the driver does under its own lock (those touch other registers).
        unsafe {
            let status = core::ptr::read_volatile((registers + INTERRUPT_STATUS) as *const u32);
            core::ptr::write_volatile((registers + INTERRUPT_ACK) as *mut u32, status);
        }
    }
    let wake = ON_INTERRUPT.load(Ordering::Acquire);
    if !wake.is_null() {
        // SAFETY: only `open` stores here, and it stores a `fn()`.
        let wake: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(wake) };
        wake();
    }
}

impl NetworkDevice {
    /// Opens the first virtio-net device (virtio-mmio transports first, then the PCI
    /// bus) and routes its interrupt to `on_interrupt` (called with interrupts off: it
    /// may only wake threads). The scheduler must be running (the interrupt controller
    /// is set up with its timer).
    pub fn open(command_line: &[u8], on_interrupt: fn()) -> Result<NetworkDevice, NetworkError> {
        if let Some((mmio, transport)) =
            open_transport(command_line, DeviceType::Network).map_err(|_| NetworkError::Mapping)?
        {
            let mut network = NetworkDevice::start(SomeTransport::from(mmio), on_interrupt)?;
            INTERRUPT_REGISTERS.store(transport.address, Ordering::Release);
            network.device.enable_interrupts();
            crate::sched::enable_device_interrupt(transport.line, device_interrupt)
                .map_err(NetworkError::Interrupt)?;
            return Ok(network);
        }
        let Some(mut found) =
            crate::virtio_pci::find(DeviceType::Network).map_err(NetworkError::Pci)?
        else {
            return Err(NetworkError::NoDevice);
        };
        let pci = PciTransport::new::<IdentityHal, _>(&mut found.root, found.function)
            .map_err(|_| NetworkError::Pci(crate::virtio_pci::PciError::Transport))?;
        let mut network = NetworkDevice::start(SomeTransport::from(pci), on_interrupt)?;
        // A message interrupt needs no acknowledgement at the device: the handler only
        // wakes (INTERRUPT_REGISTERS stays 0).
        crate::virtio_pci::route_queue_interrupts(&mut found, QUEUES, device_interrupt)
            .map_err(NetworkError::Pci)?;
        network.device.enable_interrupts();
        Ok(network)
    }

    /// Sets the device up over `transport` (features, queues, receive buffers) and
    /// records the wake-up its interrupt calls.
    fn start(
        transport: SomeTransport<'static>,
        on_interrupt: fn(),
    ) -> Result<NetworkDevice, NetworkError> {
        let device = VirtioNet::new(transport).map_err(|_| NetworkError::Setup)?;
        let mut probe = [0u8; 64];
        let header_length = device
            .fill_buffer_header(&mut probe)
            .map_err(|_| NetworkError::Setup)?;
        let mut network = NetworkDevice {
            device,
            receiving: (0..QUEUE_SIZE).map(|_| None).collect(),
            transmitting: (0..QUEUE_SIZE).map(|_| None).collect(),
            header_length,
        };
        for _ in 0..QUEUE_SIZE {
            network.post_receive_buffer(alloc::vec![0; RECEIVE_BUFFER_SIZE])?;
        }
        ON_INTERRUPT.store(
            core::hint::black_box(on_interrupt as *mut ()),
            Ordering::Release,
        );
        Ok(network)
    }

    /// The device's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.device.mac_address()
    }

    /// Gives the device a receive buffer.
    fn post_receive_buffer(&mut self, mut buffer: Vec<u8>) -> Result<(), NetworkError> {
        // SAFETY: the buffer is a heap block kept in `receiving` (not touched, not freed)
        // until the device returns it through `receive_complete`.
        let token =
            unsafe { self.device.receive_begin(&mut buffer) }.map_err(|_| NetworkError::Setup)?;
        let slot = self
            .receiving
            .get_mut(usize::from(token))
            .ok_or(NetworkError::Setup)?;
        *slot = Some(buffer);
        Ok(())
    }

    /// Copies the next received frame into `frame` (replacing its contents); false when
    /// none is waiting.
    pub fn receive(&mut self, frame: &mut Vec<u8>) -> bool {
        let Some(token) = self.device.poll_receive() else {
            return false;
        };
        let Some(mut buffer) = self
            .receiving
            .get_mut(usize::from(token))
            .and_then(Option::take)
        else {
            return false;
        };
        // SAFETY: `buffer` is the one given with this token to `receive_begin`.
        let received = unsafe { self.device.receive_complete(token, &mut buffer) };
        frame.clear();
        if let Ok((header, length)) = received {
            frame.extend_from_slice(&buffer[header..header + length]);
        }
        // Back to the device; a failure (impossible: a descriptor was just freed) only
        // shrinks the ring.
        let _ = self.post_receive_buffer(buffer);
        true
    }

    /// Frees the frames the device has finished sending.
    fn reclaim_transmitted(&mut self) {
        while let Some(token) = self.device.poll_transmit() {
            let Some(buffer) = self
                .transmitting
                .get_mut(usize::from(token))
                .and_then(Option::take)
            else {
                return;
            };
            // SAFETY: `buffer` is the one given with this token to `transmit_begin`.
            let _ = unsafe { self.device.transmit_complete(token, &buffer) };
        }
    }

    /// Whether a frame can be sent now.
    pub fn can_transmit(&mut self) -> bool {
        self.reclaim_transmitted();
        self.device.can_send()
    }

    /// Sends a frame of `length` bytes that `fill` writes; returns what `fill` returned.
    /// The device sends it in the background (the buffer is freed once it is done).
    pub fn transmit<R>(&mut self, length: usize, fill: impl FnOnce(&mut [u8]) -> R) -> R {
        self.reclaim_transmitted();
        let mut buffer = alloc::vec![0u8; self.header_length + length];
        let _ = self.device.fill_buffer_header(&mut buffer);
        let result = fill(&mut buffer[self.header_length..]);
        // A full queue loses the frame (the error case), which TCP retransmits and UDP
        // allows; smoltcp asked `can_transmit` first, so this is rare.
        // SAFETY: the buffer is a heap block kept in `transmitting` (not touched, not
        // freed) until the device completes it (`reclaim_transmitted`).
        if let Ok(token) = unsafe { self.device.transmit_begin(&buffer) } {
            if let Some(slot) = self.transmitting.get_mut(usize::from(token)) {
                *slot = Some(buffer);
            } else {
                // Not a token of this queue: keep the buffer alive for good rather than
                // free memory the device may still read.
                core::mem::forget(buffer);
            }
        }
        result
    }
}
