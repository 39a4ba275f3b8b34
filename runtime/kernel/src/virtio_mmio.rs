//! Where virtio-mmio transports are, from the `virtio_mmio.device=SIZE@ADDRESS:LINE`
//! words a VMM appends to the command line (QEMU microvm without ACPI, Firecracker;
//! Linux's convention, `Documentation/admin-guide/kernel-parameters.txt`).

extern crate alloc;

use alloc::vec::Vec;

/// A virtio-mmio transport: its register window and interrupt line (x86_64: a GSI;
/// aarch64: a GIC INTID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioMmio {
    pub address: u64,
    pub size: u64,
    pub line: u32,
}

/// Parses one `virtio_mmio.device=` value: `SIZE@ADDRESS:LINE`, SIZE with an optional
/// K/M suffix, numbers in decimal or 0x-hex (Linux's `memparse` and `kstrtouint`).
pub fn parse_virtio_mmio(value: &[u8]) -> Option<VirtioMmio> {
    let text = core::str::from_utf8(value).ok()?;
    let (size, rest) = text.split_once('@')?;
    let (address, line) = rest.split_once(':')?;
    // Linux allows a trailing `:ID` (the platform device id): ignored.
    let line = line.split(':').next()?;
    let (size, multiplier) = match size.as_bytes().last()? {
        b'K' | b'k' => (&size[..size.len() - 1], 1024),
        b'M' | b'm' => (&size[..size.len() - 1], 1024 * 1024),
        _ => (size, 1),
    };
    Some(VirtioMmio {
        size: parse_number(size)?.checked_mul(multiplier)?,
        address: parse_number(address)?,
        line: u32::try_from(parse_number(line)?).ok()?,
    })
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The transports the command line names.
pub fn in_command_line(command_line: &[u8]) -> Vec<VirtioMmio> {
    command_line
        .split(|byte| matches!(byte, b' ' | b'\t' | b'\n'))
        .filter_map(|word| word.strip_prefix(b"virtio_mmio.device="))
        .filter_map(parse_virtio_mmio)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtio_mmio_words() {
        assert_eq!(
            parse_virtio_mmio(b"512@0xfeb02e00:47"),
            Some(VirtioMmio {
                address: 0xfeb0_2e00,
                size: 512,
                line: 47
            })
        );
        assert_eq!(
            parse_virtio_mmio(b"4K@0xd0000000:5:3"),
            Some(VirtioMmio {
                address: 0xd000_0000,
                size: 4096,
                line: 5
            })
        );
        assert_eq!(parse_virtio_mmio(b"512@0xfeb02e00"), None);
        assert_eq!(parse_virtio_mmio(b"x@0x1:2"), None);
        let found = in_command_line(
            b"A=1 -- app x virtio_mmio.device=512@0xfeb02e00:47 virtio_mmio.device=bad",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 47);
    }
}
