//! The entropy device: virtio-rng (virtio 1.2, 5.4 "Entropy Device") over virtio-mmio,
//! driven by the `virtio-drivers` crate, as the random generator's seed source on a CPU
//! without a random number instruction (`unik run --rng` adds the device). Only the
//! `rng-virtio` component reaches this module.
//!
//! The device is the whole protocol of one virtqueue: the driver posts a writable
//! buffer, the device fills it with random bytes from the host. The driver polls for
//! the answer (no interrupt): it is asked only for seeds (32 bytes at the first request,
//! 32 more after every MiB of output), under the generator's lock. A host-side rate
//! limit (Firecracker's, QEMU's `max-bytes`) makes that wait longer; QEMU's default
//! backend answers at once.

extern crate alloc;

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::mmio::MmioTransport;

use crate::virtio::{IdentityHal, open_transport};

type Device = VirtIORng<IdentityHal, MmioTransport<'static>>;

/// The opened device and its request buffer: a heap block, whose address is its
/// physical address (the heap is identity mapped; stacks and statics are not).
struct Opened {
    device: Device,
    buffer: Box<[u8; 8]>,
}

struct Slot {
    taken: AtomicBool,
    opened: UnsafeCell<Option<Opened>>,
}

// SAFETY: `opened` is written once by `open` and then used only by `read_u64`, each of
// which holds `taken` (acquire/release) for the whole access.
unsafe impl Sync for Slot {}

static DEVICE: Slot = Slot {
    taken: AtomicBool::new(false),
    opened: UnsafeCell::new(None),
};

/// Runs `body` on the device slot if nobody else holds it (`None` when busy: a caller
/// under the generator's lock must not wait).
fn try_with<T>(body: impl FnOnce(&mut Option<Opened>) -> T) -> Option<T> {
    DEVICE
        .taken
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .ok()?;
    // SAFETY: the flag is held: no other reference to the slot exists.
    let result = body(unsafe { &mut *DEVICE.opened.get() });
    DEVICE.taken.store(false, Ordering::Release);
    Some(result)
}

/// Why the device could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntropyDeviceError {
    /// No virtio-rng transport on this machine (`unik run` without `--rng`).
    NoDevice,
    /// The device's registers could not be mapped.
    Mapping,
    /// The device refused the driver's set-up (features, queue).
    Setup,
    /// The device gave no bytes.
    Silent,
}

/// Opens the first virtio-rng device, checks that it answers, and makes it the random
/// generator's device source ([`crate::random::set_device_source`]).
pub fn open(command_line: &[u8]) -> Result<(), EntropyDeviceError> {
    let (mmio, _) = open_transport(command_line, DeviceType::EntropySource)
        .map_err(|_| EntropyDeviceError::Mapping)?
        .ok_or(EntropyDeviceError::NoDevice)?;
    let mut device = Device::new(mmio).map_err(|_| EntropyDeviceError::Setup)?;
    // Polled: the device's interrupt line is never routed.
    device.disable_interrupts();
    let opened = Opened {
        device,
        buffer: Box::new([0; 8]),
    };
    try_with(|slot| *slot = Some(opened)).ok_or(EntropyDeviceError::Setup)?;
    read_u64().ok_or(EntropyDeviceError::Silent)?;
    crate::random::set_device_source(read_u64);
    Ok(())
}

/// 64 bits from the device; `None` when it is not open, busy or gives fewer bytes.
fn read_u64() -> Option<u64> {
    try_with(|slot| {
        let opened = slot.as_mut()?;
        let mut filled = 0;
        // The device may answer with fewer bytes than asked (virtio 1.2, 5.4.6): a few
        // more requests, then give up.
        for _ in 0..4 {
            let count = opened
                .device
                .request_entropy(&mut opened.buffer[filled..])
                .ok()?;
            filled += count.min(8 - filled);
            if filled == 8 {
                return Some(u64::from_le_bytes(*opened.buffer));
            }
        }
        None
    })?
}
