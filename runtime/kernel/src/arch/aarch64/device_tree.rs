//! The flattened device tree QEMU `virt` describes the machine with: RAM, the console
//! UARTs, the command line, PSCI, and (kept for the threads work) the interrupt
//! controller and the generic timer.
//!
//! Format: Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB)
//! Format". The `fdt` crate navigates the tree; it assumes a well-formed blob (it
//! panics on truncated or misnested structure), so [`validate`] walks the whole
//! structure block first and rejects anything it could trip on, and drops `FDT_NOP`
//! tokens (which the spec says to ignore and QEMU leaves behind when it removes a
//! node) by compacting the blob in place: the blob is ours, nobody else reads it.

use core::fmt;

use fdt::Fdt;
use fdt::node::FdtNode;

use super::exit::PsciConduit;
use crate::memory::{PhysicalRange, RamMap};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Size of the header (spec 5.2, version 17).
const HEADER_SIZE: usize = 40;
/// A larger blob means the pointer is wrong (QEMU's are far below 1 MiB).
const MAXIMUM_SIZE: u32 = 16 << 20;
/// Deeper nesting than any real machine has; the `fdt` crate's own limit is 64.
const MAXIMUM_DEPTH: usize = 32;
/// The translation tables cover 39-bit addresses (entry.rs): RAM beyond is unusable.
const ADDRESS_LIMIT: u64 = 1 << 39;

/// Why the device tree is unusable.
pub enum DeviceTreeError {
    NotFound {
        register: u64,
        ram_start: u64,
    },
    BadHeader {
        address: u64,
        reason: &'static str,
    },
    Malformed {
        address: u64,
        offset: usize,
        reason: &'static str,
    },
    NoMemory,
}

impl fmt::Display for DeviceTreeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound {
                register,
                ram_start,
            } => write!(
                formatter,
                "no device tree: x0 at entry was {register:#x} and there is no device tree \
                 blob at the start of RAM ({ram_start:#x}); boot this image with QEMU \
                 `-M virt -kernel`"
            ),
            Self::BadHeader { address, reason } => {
                write!(
                    formatter,
                    "bad device tree header at {address:#x}: {reason}"
                )
            }
            Self::Malformed {
                address,
                offset,
                reason,
            } => write!(
                formatter,
                "malformed device tree at {address:#x}: {reason} (structure block offset \
                 {offset:#x})"
            ),
            Self::NoMemory => write!(
                formatter,
                "the device tree describes no RAM (no node with device_type \"memory\" and \
                 a usable reg)"
            ),
        }
    }
}

fn read_be32(bytes: &[u8], offset: usize) -> Option<u32> {
    let word = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// Whether a blob header is at `address`: the magic number (the first check, before
/// anything else is trusted).
///
/// # Safety
/// `address` must be mapped and readable for 4 bytes.
pub unsafe fn has_magic(address: u64) -> bool {
    // SAFETY: the caller guarantees the 4 bytes are readable; big-endian per spec 5.2.
    let magic = unsafe { core::ptr::read_volatile(address as *const [u8; 4]) };
    u32::from_be_bytes(magic) == FDT_MAGIC
}

/// The blob at `address` as a slice, after checking its header.
///
/// # Safety
/// `address` must be mapped and writable for the header and for the `totalsize` the
/// header gives, as long as the returned slice is used, and used by nothing else.
pub unsafe fn blob_at<'blob>(address: u64, limit: u64) -> Result<&'blob mut [u8], DeviceTreeError> {
    let bad = |reason| DeviceTreeError::BadHeader { address, reason };
    if !address.is_multiple_of(8) {
        return Err(bad("not 8-byte aligned (spec 5.1)"));
    }
    if address + HEADER_SIZE as u64 > limit {
        return Err(bad("outside the memory mapped at boot"));
    }
    // SAFETY: the header lies below `limit`, which the caller guarantees is mapped.
    let header = unsafe { core::slice::from_raw_parts(address as *const u8, HEADER_SIZE) };
    let total_size = read_be32(header, 4).unwrap_or(0);
    if read_be32(header, 0) != Some(FDT_MAGIC) {
        return Err(bad("no FDT magic"));
    }
    if (total_size as usize) < HEADER_SIZE || total_size > MAXIMUM_SIZE {
        return Err(bad("implausible totalsize"));
    }
    if address + u64::from(total_size) > limit {
        return Err(bad("the blob extends beyond the memory mapped at boot"));
    }
    // SAFETY: [address, address + total_size) is below `limit` (checked), so mapped and
    // writable by the caller's contract, and nobody else uses it.
    Ok(unsafe { core::slice::from_raw_parts_mut(address as *mut u8, total_size as usize) })
}

/// Checks the whole blob against the format (spec chapter 5) and removes `FDT_NOP`
/// tokens, so that the `fdt` crate's navigation cannot fail.
pub fn validate(blob: &mut [u8], address: u64) -> Result<(), DeviceTreeError> {
    let bad = |reason| DeviceTreeError::BadHeader { address, reason };
    let field = |index: usize| read_be32(blob, index * 4).unwrap_or(0) as usize;
    let (structure_offset, strings_offset, version, last_compatible) =
        (field(2), field(3), field(5), field(6));
    let (strings_size, structure_size) = (field(8), field(9));
    if version < 17 {
        return Err(bad("version older than 17"));
    }
    if last_compatible > 17 {
        return Err(bad("last compatible version newer than 17"));
    }
    let structure_end = structure_offset
        .checked_add(structure_size)
        .filter(|end| *end <= blob.len() && structure_offset >= HEADER_SIZE)
        .ok_or(bad("structure block outside the blob"))?;
    let strings_end = strings_offset
        .checked_add(strings_size)
        .filter(|end| *end <= blob.len() && strings_offset >= HEADER_SIZE)
        .ok_or(bad("strings block outside the blob"))?;
    if structure_offset % 4 != 0 {
        return Err(bad("structure block not 4-byte aligned"));
    }
    let strings = &blob[strings_offset..strings_end];
    let (structure_length, nop_count) =
        check_structure(&blob[structure_offset..structure_end], strings).map_err(
            |(offset, reason)| DeviceTreeError::Malformed {
                address,
                offset,
                reason,
            },
        )?;
    if nop_count > 0 {
        let new_size = remove_nops(&mut blob[structure_offset..structure_end], structure_length);
        blob[36..40].copy_from_slice(&(new_size as u32).to_be_bytes());
    }
    Ok(())
}

/// Walks the structure block. Returns its used length (up to and including FDT_END)
/// and how many FDT_NOP tokens it holds, or the offset and reason of the first error.
fn check_structure(
    structure: &[u8],
    strings: &[u8],
) -> Result<(usize, usize), (usize, &'static str)> {
    let mut offset = 0;
    let mut depth = 0;
    let mut nops = 0;
    let mut root_seen = false;
    // Per depth: whether a child node has been seen (properties must come first).
    let mut has_children = [false; MAXIMUM_DEPTH + 1];
    loop {
        let token =
            read_be32(structure, offset).ok_or((offset, "structure block ends without FDT_END"))?;
        match token {
            FDT_BEGIN_NODE => {
                if depth == 0 && root_seen {
                    return Err((offset, "more than one root node"));
                }
                if depth == MAXIMUM_DEPTH {
                    return Err((offset, "nodes nested too deeply"));
                }
                has_children[depth] = true;
                let name_start = offset + 4;
                let name = c_string(structure, name_start).ok_or((offset, "bad node name"))?;
                offset = align4(name_start + name.len() + 1);
                depth += 1;
                has_children[depth] = false;
                root_seen = true;
            }
            FDT_END_NODE => {
                if depth == 0 {
                    return Err((offset, "FDT_END_NODE without a node"));
                }
                depth -= 1;
                offset += 4;
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err((offset, "property outside every node"));
                }
                if has_children[depth] {
                    return Err((offset, "property after a child node"));
                }
                let length = read_be32(structure, offset + 4)
                    .ok_or((offset, "truncated property"))? as usize;
                let name_offset = read_be32(structure, offset + 8)
                    .ok_or((offset, "truncated property"))?
                    as usize;
                let value_start = offset + 12;
                let value_end = value_start
                    .checked_add(length)
                    .filter(|end| *end <= structure.len())
                    .ok_or((offset, "property value beyond the structure block"))?;
                let name = c_string(strings, name_offset).ok_or((offset, "bad property name"))?;
                if matches!(name, "#address-cells" | "#size-cells") && length != 4 {
                    return Err((offset, "#address-cells or #size-cells is not one cell"));
                }
                offset = align4(value_end);
            }
            FDT_NOP => {
                nops += 1;
                offset += 4;
            }
            FDT_END => {
                if depth != 0 || !root_seen {
                    return Err((offset, "FDT_END inside a node or without a root node"));
                }
                return Ok((offset + 4, nops));
            }
            _ => return Err((offset, "unknown token")),
        }
    }
}

/// A NUL-terminated UTF-8 string at `offset` (without the NUL).
fn c_string(bytes: &[u8], offset: usize) -> Option<&str> {
    let rest = bytes.get(offset..)?;
    let length = rest.iter().position(|byte| *byte == 0)?;
    core::str::from_utf8(&rest[..length]).ok()
}

fn align4(value: usize) -> usize {
    (value + 3) & !3
}

/// Moves every token but FDT_NOP to the front of the (already validated) structure
/// block; returns the new length.
fn remove_nops(structure: &mut [u8], length: usize) -> usize {
    let mut read = 0;
    let mut write = 0;
    while read < length {
        let token = read_be32(structure, read).unwrap_or(FDT_END);
        let token_length = match token {
            FDT_BEGIN_NODE => {
                let name_length = structure[read + 4..]
                    .iter()
                    .position(|byte| *byte == 0)
                    .unwrap_or(0);
                align4(read + 4 + name_length + 1) - read
            }
            FDT_PROP => {
                let value_length = read_be32(structure, read + 4).unwrap_or(0) as usize;
                align4(read + 12 + value_length) - read
            }
            FDT_NOP => {
                read += 4;
                continue;
            }
            _ => 4,
        };
        structure.copy_within(read..read + token_length, write);
        read += token_length;
        write += token_length;
    }
    write
}

/// A GIC's architecture version (the `compatible` string tells).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum GicVersion {
    V2,
    V3,
}

/// The interrupt controller, for the threads work: its register blocks (GICv2:
/// distributor, CPU interface, …; GICv3: distributor, redistributors, …).
pub struct InterruptController {
    pub version: GicVersion,
    pub regions: [PhysicalRange; 4],
    pub region_count: usize,
}

/// The generic timer's interrupt IDs (GIC INTIDs), in the binding's order: secure
/// physical, non-secure physical, virtual, hypervisor (Linux
/// `Documentation/devicetree/bindings/timer/arm,arch_timer.yaml`).
pub struct Timer {
    pub interrupt_ids: [u32; 4],
    pub interrupt_count: usize,
}

/// What the kernel takes from the device tree.
pub struct MachineDescription<'blob> {
    pub ram: RamMap,
    /// `/chosen/bootargs` without the NUL (empty when none).
    pub command_line: &'blob [u8],
    /// The stdout UART (PL011): `/chosen/stdout-path`, else the first PL011.
    pub console: Option<PhysicalRange>,
    /// A second PL011 for stderr.
    pub error_console: Option<PhysicalRange>,
    pub psci: Option<PsciConduit>,
    pub interrupt_controller: Option<InterruptController>,
    pub timer: Option<Timer>,
}

fn is_enabled(node: FdtNode<'_, '_>) -> bool {
    node.property("status")
        .and_then(|status| status.as_str())
        .is_none_or(|status| status == "okay" || status == "ok")
}

fn is_compatible(node: FdtNode<'_, '_>, names: &[&str]) -> bool {
    node.compatible()
        .is_some_and(|compatible| compatible.all().any(|name| names.contains(&name)))
}

/// The first `reg` range of a node.
fn first_region(node: FdtNode<'_, '_>) -> Option<PhysicalRange> {
    let region = node.reg()?.next()?;
    let start = region.starting_address as u64;
    let end = start.checked_add(region.size? as u64)?;
    Some(PhysicalRange { start, end })
}

const PL011: &[&str] = &["arm,pl011"];
const GIC_V2: &[&str] = &[
    "arm,cortex-a15-gic",
    "arm,gic-400",
    "arm,cortex-a9-gic",
    "arm,cortex-a7-gic",
];
const GIC_V3: &[&str] = &["arm,gic-v3"];
const PSCI: &[&str] = &["arm,psci", "arm,psci-0.2", "arm,psci-1.0"];
const TIMER: &[&str] = &["arm,armv8-timer", "arm,armv7-timer"];

/// Reads the machine description from a validated blob.
pub fn describe(blob: &[u8]) -> Result<MachineDescription<'_>, DeviceTreeError> {
    let tree = Fdt::new(blob).map_err(|_| DeviceTreeError::NoMemory)?;

    let mut ram = RamMap::new();
    for node in tree.all_nodes() {
        let is_memory = node
            .property("device_type")
            .and_then(|kind| kind.as_str())
            .is_some_and(|kind| kind == "memory");
        if !is_memory || !is_enabled(node) {
            continue;
        }
        for region in node.reg().into_iter().flatten() {
            let start = region.starting_address as u64;
            let end = start
                .saturating_add(region.size.unwrap_or(0) as u64)
                .min(ADDRESS_LIMIT);
            ram.add(PhysicalRange { start, end });
        }
    }
    if ram.ranges().is_empty() {
        return Err(DeviceTreeError::NoMemory);
    }

    let chosen = tree.find_node("/chosen");
    let command_line = chosen
        .and_then(|chosen| chosen.property("bootargs"))
        .map(|property| {
            let value = property.value;
            let length = value
                .iter()
                .position(|byte| *byte == 0)
                .unwrap_or(value.len());
            &value[..length]
        })
        .unwrap_or(&[]);

    // stdout-path may carry options after ':' (spec 3.6: "path:options").
    let stdout_node = chosen
        .and_then(|chosen| chosen.property("stdout-path"))
        .and_then(|property| property.as_str())
        .and_then(|path| path.split(':').next())
        .and_then(|path| tree.find_node(path))
        .filter(|node| is_compatible(*node, PL011) && is_enabled(*node));
    let console = stdout_node
        .or_else(|| {
            tree.all_nodes()
                .find(|node| is_compatible(*node, PL011) && is_enabled(*node))
        })
        .and_then(first_region);
    let error_console = tree
        .all_nodes()
        .filter(|node| is_compatible(*node, PL011) && is_enabled(*node))
        .filter_map(first_region)
        .find(|region| Some(*region) != console);

    let psci = tree
        .all_nodes()
        .find(|node| is_compatible(*node, PSCI) && is_enabled(*node))
        .and_then(|node| node.property("method"))
        .and_then(|method| match method.as_str() {
            Some("hvc") => Some(PsciConduit::HypervisorCall),
            Some("smc") => Some(PsciConduit::SecureMonitorCall),
            _ => None,
        });

    let interrupt_controller = tree.all_nodes().find_map(|node| {
        let version = if is_compatible(node, GIC_V3) {
            GicVersion::V3
        } else if is_compatible(node, GIC_V2) {
            GicVersion::V2
        } else {
            return None;
        };
        let mut controller = InterruptController {
            version,
            regions: [PhysicalRange::EMPTY; 4],
            region_count: 0,
        };
        for region in node.reg().into_iter().flatten() {
            if controller.region_count == controller.regions.len() {
                break;
            }
            let start = region.starting_address as u64;
            let end = start.saturating_add(region.size.unwrap_or(0) as u64);
            controller.regions[controller.region_count] = PhysicalRange { start, end };
            controller.region_count += 1;
        }
        Some(controller)
    });

    // The timer's `interrupts`: three cells each (type, number, flags) for the GIC
    // binding: type 0 = SPI (INTID 32 + number), 1 = PPI (INTID 16 + number).
    let timer = tree
        .all_nodes()
        .find(|node| is_compatible(*node, TIMER))
        .map(|node| {
            let mut timer = Timer {
                interrupt_ids: [0; 4],
                interrupt_count: 0,
            };
            let cells = node
                .property("interrupts")
                .map(|property| property.value)
                .unwrap_or(&[]);
            for specifier in cells.chunks_exact(12).take(4) {
                let kind = read_be32(specifier, 0).unwrap_or(0);
                let number = read_be32(specifier, 4).unwrap_or(0);
                let base = if kind == 1 { 16 } else { 32 };
                timer.interrupt_ids[timer.interrupt_count] = number.saturating_add(base);
                timer.interrupt_count += 1;
            }
            timer
        });

    Ok(MachineDescription {
        ram,
        command_line,
        console,
        error_console,
        psci,
        interrupt_controller,
        timer,
    })
}
