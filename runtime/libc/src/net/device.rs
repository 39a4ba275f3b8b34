//! smoltcp's view of the network device: the kernel's virtio-net device, or (without
//! one) a loopback that hands every sent frame back as received.

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use unik_kernel::network::NetworkDevice;

/// The Ethernet MTU smoltcp sizes frames by (1500 bytes of IP + the 14-byte header).
const FRAME_LIMIT: usize = 1514;
/// Frames the loopback holds at most (more are dropped, as a full queue drops them).
const LOOPBACK_QUEUE: usize = 64;

enum Backend {
    // Boxed: the device holds its queue bookkeeping inline (several KiB).
    Virtio(alloc::boxed::Box<NetworkDevice>),
    Loopback(VecDeque<Vec<u8>>),
}

pub struct Nic {
    backend: Backend,
    /// The frame being received (reused between frames).
    frame: Vec<u8>,
}

impl Nic {
    pub fn virtio(device: NetworkDevice) -> Nic {
        Nic {
            backend: Backend::Virtio(alloc::boxed::Box::new(device)),
            frame: Vec::new(),
        }
    }

    pub fn loopback() -> Nic {
        Nic {
            backend: Backend::Loopback(VecDeque::new()),
            frame: Vec::new(),
        }
    }

    pub fn mac_address(&self) -> [u8; 6] {
        match &self.backend {
            Backend::Virtio(device) => device.mac_address(),
            // A locally administered unicast address.
            Backend::Loopback(_) => [0x02, 0, 0, 0, 0, 1],
        }
    }
}

pub struct RxToken<'a>(&'a [u8]);

pub struct TxToken<'a>(&'a mut Backend);

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, length: usize, f: F) -> R {
        match self.0 {
            Backend::Virtio(device) => device.transmit(length, f),
            Backend::Loopback(queue) => {
                let mut frame = alloc::vec![0; length];
                let result = f(&mut frame);
                if queue.len() < LOOPBACK_QUEUE {
                    queue.push_back(frame);
                }
                result
            }
        }
    }
}

impl phy::Device for Nic {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let received = match &mut self.backend {
            Backend::Virtio(device) => device.receive(&mut self.frame),
            Backend::Loopback(queue) => match queue.pop_front() {
                Some(frame) => {
                    self.frame = frame;
                    true
                }
                None => false,
            },
        };
        received.then(|| (RxToken(&self.frame), TxToken(&mut self.backend)))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        let ready = match &mut self.backend {
            Backend::Virtio(device) => device.can_transmit(),
            Backend::Loopback(queue) => queue.len() < LOOPBACK_QUEUE,
        };
        ready.then_some(TxToken(&mut self.backend))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = FRAME_LIMIT;
        capabilities
    }
}
