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
    // Boxed: the device holds its queue bookkeeping inline (several KiB). The queue
    // holds the frames for the own MAC address and copies of broadcasts (ARP for the
    // own address): what a program sends to itself (127.0.0.1) never leaves.
    Virtio(alloc::boxed::Box<NetworkDevice>, VecDeque<Vec<u8>>, [u8; 6]),
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
            backend: {
                let mac = device.mac_address();
                Backend::Virtio(alloc::boxed::Box::new(device), VecDeque::new(), mac)
            },
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
            Backend::Virtio(device, ..) => device.mac_address(),
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
            Backend::Virtio(device, local, mac) => {
                let mut frame = alloc::vec![0; length];
                let result = f(&mut frame);
                let destination = frame.get(..6).unwrap_or(&[]);
                let to_self = destination == mac.as_slice();
                let broadcast = destination == [0xff; 6].as_slice();
                if (to_self || broadcast) && local.len() < LOOPBACK_QUEUE {
                    local.push_back(frame.clone());
                }
                if !to_self {
                    device.transmit(length, |buffer| buffer.copy_from_slice(&frame));
                }
                result
            }
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
            Backend::Virtio(device, local, _) => match local.pop_front() {
                Some(frame) => {
                    self.frame = frame;
                    true
                }
                None => device.receive(&mut self.frame),
            },
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
            Backend::Virtio(device, ..) => device.can_transmit(),
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
