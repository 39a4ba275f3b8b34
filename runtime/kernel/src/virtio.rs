//! What the virtio device drivers share (virtio 1.2, 4.2 "Virtio Over MMIO"): where the
//! virtio-mmio transports are, the DMA glue the `virtio-drivers` crate needs, and
//! opening the first transport of a device type. The network device (`network`,
//! virtio-net) and the entropy device (`virtio_rng`, virtio-rng) use it; only the
//! components that link those reach this module.
//!
//! Where the transports are: the `virtio_mmio.device=SIZE@ADDRESS:LINE` words a VMM
//! appends to the command line (QEMU microvm, Firecracker; Linux's convention,
//! `Documentation/admin-guide/kernel-parameters.txt`), and on aarch64 the device tree's
//! `virtio,mmio` nodes.
//!
//! DMA: the heap is identity mapped (physical = virtual) and QEMU's virtio devices are
//! cache coherent, so buffers are shared by their address.

extern crate alloc;

use alloc::vec::Vec;
use core::ptr::NonNull;

use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use crate::arch::threading as arch;
use crate::memory::PAGE_SIZE;
pub use crate::virtio_mmio::VirtioMmio;

/// Every virtio-mmio transport the command line and the firmware name.
pub fn virtio_mmio_transports(command_line: &[u8]) -> Vec<VirtioMmio> {
    let mut found = crate::virtio_mmio::in_command_line(command_line);
    for transport in arch::virtio_mmio_transports() {
        if !found.iter().any(|known| known.address == transport.address) {
            found.push(transport);
        }
    }
    found
}

/// The device's registers could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingFailed;

/// The first transport holding a device of `kind` (its registers mapped), with where it
/// is; `Ok(None)` when the machine has none. Each caller opens its device once, and
/// different callers look for different kinds, so no transport is opened twice.
pub fn open_transport(
    command_line: &[u8],
    kind: DeviceType,
) -> Result<Option<(MmioTransport<'static>, VirtioMmio)>, MappingFailed> {
    for transport in virtio_mmio_transports(command_line) {
        arch::map_device(transport.address, transport.size.max(0x200))
            .map_err(|_| MappingFailed)?;
        let Some(header) = NonNull::new(transport.address as *mut VirtIOHeader) else {
            continue;
        };
        // SAFETY: the transport's register window, mapped as device memory above; the
        // device type is read first, and only the one caller that looks for this type
        // drives the device (see above).
        let Ok(mmio) = (unsafe { MmioTransport::new(header, transport.size as usize) }) else {
            continue;
        };
        if mmio.device_type() == kind {
            return Ok(Some((mmio, transport)));
        }
    }
    Ok(None)
}

/// The DMA and MMIO glue virtio-drivers needs.
pub struct IdentityHal;

// SAFETY: dma_alloc hands out zeroed, page-aligned heap blocks that nothing else uses
// until dma_dealloc frees them; physical = virtual for the heap and for device
// registers (identity mapping, mapped before use by `open_transport` or `virtio_pci`); sharing a buffer gives the
// device its address, valid while virtio-drivers holds the buffer.
unsafe impl Hal for IdentityHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let size = pages * PAGE_SIZE as usize;
        let Ok(layout) = core::alloc::Layout::from_size_align(size, PAGE_SIZE as usize) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: a non-zero-sized layout (virtio-drivers asks for at least one page).
        let block = unsafe { alloc::alloc::alloc_zeroed(layout) };
        match NonNull::new(block) {
            Some(block) => (block.as_ptr() as PhysAddr, block),
            // virtio-drivers has no failure path here: a null queue fails the device
            // set-up when the device rejects the address, which `open` reports.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let size = pages * PAGE_SIZE as usize;
        if let Ok(layout) = core::alloc::Layout::from_size_align(size, PAGE_SIZE as usize) {
            // SAFETY: allocated by dma_alloc with this layout (virtio-drivers' contract).
            unsafe { alloc::alloc::dealloc(vaddr.as_ptr(), layout) };
        }
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr() as *mut u8 as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
