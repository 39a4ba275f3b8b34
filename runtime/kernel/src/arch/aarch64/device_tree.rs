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
//!
//! Nothing here depends on the CPU: the host unit tests (`cargo test -p unik-kernel`)
//! compile this file too (see `arch/mod.rs`) and feed it built and mutated blobs.

use core::fmt;

use fdt::Fdt;
use fdt::node::FdtNode;

use crate::memory::{PhysicalRange, RamMap};

/// How PSCI calls reach the firmware (the `/psci` node's `method`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PsciConduit {
    HypervisorCall,
    SecureMonitorCall,
}

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
    /// `/chosen`'s `linux,initrd-start`/`-end` are not one or two cells, or reversed.
    BadInitrd,
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
            Self::BadInitrd => write!(
                formatter,
                "the device tree's /chosen linux,initrd-start and linux,initrd-end are not \
                 a 32- or 64-bit start and end with start <= end"
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
#[derive(Clone, Copy)]
pub struct InterruptController {
    pub version: GicVersion,
    pub regions: [PhysicalRange; 4],
    pub region_count: usize,
}

/// The generic timer's interrupt IDs (GIC INTIDs), in the binding's order: secure
/// physical, non-secure physical, virtual, hypervisor (Linux
/// `Documentation/devicetree/bindings/timer/arm,arch_timer.yaml`).
#[derive(Clone, Copy)]
pub struct Timer {
    pub interrupt_ids: [u32; 4],
    pub interrupt_count: usize,
}

/// How many virtio-mmio transports are kept (QEMU virt has 32).
pub const VIRTIO_MMIO_LIMIT: usize = 32;

/// A `virtio,mmio` node: its register window and interrupt (a GIC INTID).
#[derive(Clone, Copy)]
pub struct VirtioMmioNode {
    pub registers: PhysicalRange,
    pub interrupt_id: u32,
}

/// What the kernel takes from the device tree.
pub struct MachineDescription<'blob> {
    /// The virtio-mmio transports (`compatible = "virtio,mmio"`), in tree order.
    pub virtio_mmio: [Option<VirtioMmioNode>; VIRTIO_MMIO_LIMIT],
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
    /// The PL031 real-time clock's registers (the wall clock at boot).
    pub real_time_clock: Option<PhysicalRange>,
    /// The initrd the loader put in RAM: `/chosen`'s `linux,initrd-start` and
    /// `linux,initrd-end` (Linux `Documentation/devicetree/bindings/chosen.txt`).
    pub initrd: Option<PhysicalRange>,
    /// The BCM2835/BCM2711 power-management watchdog (the Raspberry Pi's way to halt
    /// or reset the board).
    pub watchdog: Option<PhysicalRange>,
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

/// The first `reg` range of a node, as a CPU physical address.
fn first_region(tree: &Fdt<'_>, node: FdtNode<'_, '_>) -> Option<PhysicalRange> {
    regions(tree, node).next()
}

/// A node's `reg` ranges as CPU physical addresses: translated through the `ranges` of
/// every bus above the node (spec 2.3.8). QEMU `virt` puts its devices at the root,
/// where addresses are physical; the Raspberry Pi 4's sit under `/soc`, whose `ranges`
/// maps the VideoCore bus addresses (0x7e201000) to the CPU's (0xfe201000). A region
/// that no range covers (or under a bus without `ranges`) is left out.
fn regions<'a>(
    tree: &'a Fdt<'_>,
    node: FdtNode<'a, '_>,
) -> impl Iterator<Item = PhysicalRange> + 'a {
    let mut chain = [None; MAXIMUM_DEPTH];
    let depth = tree
        .find_node("/")
        .and_then(|root| path_to(root, node, &mut chain, 0));
    node.reg().into_iter().flatten().filter_map(move |region| {
        let start = translate(&chain[..depth?], region.starting_address as u64)?;
        let end = start.checked_add(region.size.unwrap_or(0) as u64)?;
        Some(PhysicalRange { start, end })
    })
}

/// Fills `chain` with the nodes from `node` (at `depth`) down to the parent of
/// `target`; returns the chain's length. Nodes are told apart by where their name
/// lies in the blob.
fn path_to<'b, 'a>(
    node: FdtNode<'b, 'a>,
    target: FdtNode<'b, 'a>,
    chain: &mut [Option<FdtNode<'b, 'a>>; MAXIMUM_DEPTH],
    depth: usize,
) -> Option<usize> {
    if depth >= MAXIMUM_DEPTH {
        return None;
    }
    chain[depth] = Some(node);
    for child in node.children() {
        if core::ptr::eq(child.name.as_ptr(), target.name.as_ptr()) {
            return Some(depth + 1);
        }
        if let Some(length) = path_to(child, target, chain, depth + 1) {
            return Some(length);
        }
    }
    None
}

/// A big-endian number of one or two cells at the start of `bytes`.
fn read_cells(bytes: &[u8], cells: usize) -> Option<u64> {
    match cells {
        1 => read_be32(bytes, 0).map(u64::from),
        2 => Some((u64::from(read_be32(bytes, 0)?) << 32) | u64::from(read_be32(bytes, 4)?)),
        _ => None,
    }
}

/// Translates `address`, in the address space of the last node of `chain`, to the
/// root's: each bus's `ranges` entries are (child address, parent address, size), an
/// empty `ranges` is the identity, a missing one means the bus is not memory mapped.
fn translate(chain: &[Option<FdtNode<'_, '_>>], mut address: u64) -> Option<u64> {
    for level in (1..chain.len()).rev() {
        let bus = chain[level]?;
        let parent = chain[level - 1]?;
        let ranges = bus.property("ranges")?.value;
        if ranges.is_empty() {
            continue;
        }
        let child_cells = bus.cell_sizes().address_cells;
        let parent_cells = parent.cell_sizes().address_cells;
        let size_cells = bus.cell_sizes().size_cells;
        let entry_size = (child_cells + parent_cells + size_cells) * 4;
        if entry_size == 0 {
            return None;
        }
        address = ranges.chunks_exact(entry_size).find_map(|entry| {
            let child = read_cells(entry, child_cells)?;
            let parent = read_cells(&entry[child_cells * 4..], parent_cells)?;
            let size = read_cells(&entry[(child_cells + parent_cells) * 4..], size_cells)?;
            let offset = address.checked_sub(child)?;
            (offset < size)
                .then(|| parent.checked_add(offset))
                .flatten()
        })?;
    }
    Some(address)
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
const PL031: &[&str] = &["arm,pl031"];
const BCM2835_WATCHDOG: &[&str] = &["brcm,bcm2835-pm-wdt", "brcm,bcm2835-pm"];

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

    // Each is one or two cells (a u32 or a u64, big-endian); absent or empty: none.
    let initrd_bound = |name: &str| {
        chosen
            .and_then(|chosen| chosen.property(name))
            .map(|property| match *property.value {
                [a, b, c, d] => Ok(u64::from(u32::from_be_bytes([a, b, c, d]))),
                [a, b, c, d, e, f, g, h] => Ok(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
                _ => Err(DeviceTreeError::BadInitrd),
            })
            .transpose()
    };
    let initrd = match (
        initrd_bound("linux,initrd-start")?,
        initrd_bound("linux,initrd-end")?,
    ) {
        (Some(start), Some(end)) if start > end => return Err(DeviceTreeError::BadInitrd),
        (Some(start), Some(end)) if start < end => Some(PhysicalRange { start, end }),
        _ => None,
    };

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
        .and_then(|node| first_region(&tree, node));
    let error_console = tree
        .all_nodes()
        .filter(|node| is_compatible(*node, PL011) && is_enabled(*node))
        .filter_map(|node| first_region(&tree, node))
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
        for region in regions(&tree, node).take(controller.regions.len()) {
            controller.regions[controller.region_count] = region;
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

    let real_time_clock = tree
        .all_nodes()
        .find(|node| is_compatible(*node, PL031) && is_enabled(*node))
        .and_then(|node| first_region(&tree, node));
    let watchdog = tree
        .all_nodes()
        .find(|node| is_compatible(*node, BCM2835_WATCHDOG) && is_enabled(*node))
        .and_then(|node| first_region(&tree, node));

    // The GIC binding's first specifier (type, number, flags), as for the timer.
    let mut virtio_mmio = [None; VIRTIO_MMIO_LIMIT];
    let nodes = tree
        .all_nodes()
        .filter(|node| is_compatible(*node, &["virtio,mmio"]) && is_enabled(*node))
        .filter_map(|node| {
            let registers = first_region(&tree, node)?;
            let cells = node.property("interrupts")?.value;
            let kind = read_be32(cells, 0)?;
            let number = read_be32(cells, 4)?;
            let base = if kind == 1 { 16 } else { 32 };
            Some(VirtioMmioNode {
                registers,
                interrupt_id: number.saturating_add(base),
            })
        });
    for (slot, node) in virtio_mmio.iter_mut().zip(nodes) {
        *slot = Some(node);
    }

    Ok(MachineDescription {
        virtio_mmio,
        ram,
        command_line,
        console,
        error_console,
        psci,
        interrupt_controller,
        timer,
        real_time_clock,
        initrd,
        watchdog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes blobs token by token (spec 5.4), header and strings block included.
    struct Builder {
        structure: Vec<u8>,
        strings: Vec<u8>,
        version: u32,
        last_compatible: u32,
    }

    impl Builder {
        fn new() -> Self {
            Self {
                structure: Vec::new(),
                strings: Vec::new(),
                version: 17,
                last_compatible: 16,
            }
        }

        fn token(&mut self, token: u32) -> &mut Self {
            self.structure.extend_from_slice(&token.to_be_bytes());
            self
        }

        fn pad(&mut self) {
            while !self.structure.len().is_multiple_of(4) {
                self.structure.push(0);
            }
        }

        fn begin(&mut self, name: &str) -> &mut Self {
            self.token(FDT_BEGIN_NODE);
            self.structure.extend_from_slice(name.as_bytes());
            self.structure.push(0);
            self.pad();
            self
        }

        fn end(&mut self) -> &mut Self {
            self.token(FDT_END_NODE)
        }

        fn nop(&mut self) -> &mut Self {
            self.token(FDT_NOP)
        }

        fn name_offset(&mut self, name: &str) -> u32 {
            let offset = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            offset
        }

        fn property(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let name_offset = self.name_offset(name);
            self.token(FDT_PROP);
            self.structure
                .extend_from_slice(&(value.len() as u32).to_be_bytes());
            self.structure.extend_from_slice(&name_offset.to_be_bytes());
            self.structure.extend_from_slice(value);
            self.pad();
            self
        }

        fn finish(&mut self) -> Vec<u8> {
            self.token(FDT_END);
            let reservations = HEADER_SIZE;
            let structure_offset = reservations + 16;
            let strings_offset = structure_offset + self.structure.len();
            let total = strings_offset + self.strings.len();
            let fields = [
                FDT_MAGIC,
                total as u32,
                structure_offset as u32,
                strings_offset as u32,
                reservations as u32,
                self.version,
                self.last_compatible,
                0,
                self.strings.len() as u32,
                self.structure.len() as u32,
            ];
            let mut blob: Vec<u8> = fields
                .iter()
                .flat_map(|field| field.to_be_bytes())
                .collect();
            blob.extend_from_slice(&[0; 16]);
            blob.extend_from_slice(&self.structure);
            blob.extend_from_slice(&self.strings);
            blob
        }
    }

    fn cells(values: &[u32]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|value| value.to_be_bytes())
            .collect()
    }

    fn text(value: &str) -> Vec<u8> {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        bytes
    }

    /// The parts of QEMU 10's `virt` tree the kernel reads, with two UARTs.
    fn virt_like(builder: &mut Builder, stdout_path: Option<&str>, bootargs: &[u8]) {
        builder
            .begin("")
            .property("#address-cells", &cells(&[2]))
            .property("#size-cells", &cells(&[2]))
            .property("compatible", &text("linux,dummy-virt"))
            .begin("psci")
            .property("method", &text("hvc"))
            .property("compatible", b"arm,psci-1.0\0arm,psci-0.2\0arm,psci\0")
            .end()
            .begin("memory@40000000")
            .property("reg", &cells(&[0, 0x4000_0000, 0, 0x800_0000]))
            .property("device_type", &text("memory"))
            .end()
            .begin("pl011@9000000")
            .property("reg", &cells(&[0, 0x900_0000, 0, 0x1000]))
            .property("compatible", b"arm,pl011\0arm,primecell\0")
            .end()
            .begin("pl011@9040000")
            .property("reg", &cells(&[0, 0x904_0000, 0, 0x1000]))
            .property("compatible", b"arm,pl011\0arm,primecell\0")
            .end()
            .begin("intc@8000000")
            .property(
                "reg",
                &cells(&[0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000]),
            )
            .property("compatible", &text("arm,cortex-a15-gic"))
            .property("#interrupt-cells", &cells(&[3]))
            .end()
            .begin("timer")
            .property(
                "interrupts",
                &cells(&[1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104]),
            )
            .property("compatible", b"arm,armv8-timer\0arm,armv7-timer\0")
            .end()
            .begin("chosen");
        if let Some(path) = stdout_path {
            builder.property("stdout-path", &text(path));
        }
        let mut arguments = bootargs.to_vec();
        arguments.push(0);
        builder.property("bootargs", &arguments).end().end();
    }

    fn read(mut blob: Vec<u8>) -> Result<(Vec<u8>, String), String> {
        validate(&mut blob, 0x4000_0000).map_err(|error| error.to_string())?;
        let summary = {
            let machine = describe(&blob).map_err(|error| error.to_string())?;
            format!(
                "ram {:?} console {:?} error {:?} psci {:?} line {:?}",
                machine.ram.ranges(),
                machine.console.map(|uart| uart.start),
                machine.error_console.map(|uart| uart.start),
                machine.psci,
                machine.command_line
            )
        };
        Ok((blob, summary))
    }

    #[test]
    fn virt_tree_is_described() {
        let mut builder = Builder::new();
        virt_like(
            &mut builder,
            Some("/pl011@9000000"),
            b"unik.verbose -- app \xff",
        );
        let mut blob = builder.finish();
        validate(&mut blob, 0x4000_0000).ok().unwrap();
        let machine = describe(&blob).ok().unwrap();
        assert_eq!(
            machine.ram.ranges(),
            &[PhysicalRange {
                start: 0x4000_0000,
                end: 0x4800_0000
            }]
        );
        assert_eq!(machine.console.map(|uart| uart.start), Some(0x900_0000));
        assert_eq!(
            machine.error_console.map(|uart| uart.start),
            Some(0x904_0000)
        );
        assert_eq!(machine.psci, Some(PsciConduit::HypervisorCall));
        // Bytes as given, not required to be UTF-8.
        assert_eq!(machine.command_line, b"unik.verbose -- app \xff");
        let controller = machine.interrupt_controller.unwrap();
        assert!(controller.version == GicVersion::V2);
        assert_eq!(controller.region_count, 2);
        assert_eq!(controller.regions[1].start, 0x801_0000);
        let timer = machine.timer.unwrap();
        assert_eq!(
            &timer.interrupt_ids[..timer.interrupt_count],
            &[29, 30, 27, 26]
        );
    }

    /// The virt tree with `/chosen` carrying the given initrd properties.
    fn virt_with_initrd(start: &[u8], end: &[u8]) -> Result<Option<PhysicalRange>, String> {
        let mut builder = Builder::new();
        builder
            .begin("")
            .property("#address-cells", &cells(&[2]))
            .property("#size-cells", &cells(&[2]))
            .begin("memory@40000000")
            .property("reg", &cells(&[0, 0x4000_0000, 0, 0x800_0000]))
            .property("device_type", &text("memory"))
            .end()
            .begin("chosen")
            .property("linux,initrd-start", start)
            .property("linux,initrd-end", end)
            .end()
            .end();
        let mut blob = builder.finish();
        validate(&mut blob, 0x4000_0000).map_err(|error| error.to_string())?;
        let machine = describe(&blob).map_err(|error| error.to_string())?;
        Ok(machine.initrd)
    }

    #[test]
    fn initrd_in_32_or_64_bit_cells() {
        let expected = Some(PhysicalRange {
            start: 0x4800_0000,
            end: 0x4800_1234,
        });
        assert_eq!(
            virt_with_initrd(&cells(&[0x4800_0000]), &cells(&[0x4800_1234])),
            Ok(expected)
        );
        assert_eq!(
            virt_with_initrd(&cells(&[0, 0x4800_0000]), &cells(&[0, 0x4800_1234])),
            Ok(expected)
        );
        // Mixed widths are allowed (each property stands alone).
        assert_eq!(
            virt_with_initrd(&cells(&[0x4800_0000]), &cells(&[0, 0x4800_1234])),
            Ok(expected)
        );
        assert_eq!(
            virt_with_initrd(&cells(&[0x4800_0000]), &cells(&[0x4800_0000])),
            Ok(None)
        );
        let bad = "the device tree's /chosen linux,initrd-start and linux,initrd-end are not a \
                   32- or 64-bit start and end with start <= end";
        assert_eq!(
            virt_with_initrd(&cells(&[0x4800_1234]), &cells(&[0x4800_0000])),
            Err(bad.to_string())
        );
        assert_eq!(
            virt_with_initrd(&[1, 2, 3], &cells(&[0x4800_0000])),
            Err(bad.to_string())
        );
        let mut builder = Builder::new();
        virt_like(&mut builder, None, b"");
        let mut blob = builder.finish();
        validate(&mut blob, 0x4000_0000).ok().unwrap();
        assert_eq!(describe(&blob).ok().unwrap().initrd, None);
    }

    /// The parts of the Raspberry Pi 4's tree (Linux bcm2711-rpi-4-b.dts) the kernel
    /// reads: devices under `/soc` at VideoCore bus addresses, translated by `ranges`.
    fn raspi4_like(builder: &mut Builder, soc_ranges: &[u32]) {
        builder
            .begin("")
            .property("#address-cells", &cells(&[2]))
            .property("#size-cells", &cells(&[1]))
            .begin("memory@0")
            .property("device_type", &text("memory"))
            .property("reg", &cells(&[0, 0, 0x3c00_0000]))
            .end()
            .begin("soc")
            .property("#address-cells", &cells(&[1]))
            .property("#size-cells", &cells(&[1]))
            .property("ranges", &cells(soc_ranges))
            .begin("serial@7e201000")
            .property("reg", &cells(&[0x7e20_1000, 0x200]))
            .property("compatible", b"arm,pl011\0arm,primecell\0")
            .end()
            .begin("serial@7e201400")
            .property("reg", &cells(&[0x7e20_1400, 0x200]))
            .property("compatible", b"arm,pl011\0arm,primecell\0")
            .property("status", &text("disabled"))
            .end()
            .begin("serial@7e215040")
            .property("reg", &cells(&[0x7e21_5040, 0x40]))
            .property("compatible", &text("brcm,bcm2835-aux-uart"))
            .end()
            .begin("watchdog@7e100000")
            .property("reg", &cells(&[0x7e10_0000, 0x114, 0x7e00_a000, 0x24]))
            .property("compatible", b"brcm,bcm2711-pm\0brcm,bcm2835-pm-wdt\0")
            .end()
            .begin("interrupt-controller@40041000")
            .property("reg", &cells(&[0x4004_1000, 0x1000, 0x4004_2000, 0x2000]))
            .property("compatible", &text("arm,gic-400"))
            .end()
            .end()
            .begin("timer")
            .property(
                "interrupts",
                &cells(&[1, 13, 0xf08, 1, 14, 0xf08, 1, 11, 0xf08, 1, 10, 0xf08]),
            )
            .property("compatible", &text("arm,armv8-timer"))
            .end()
            .begin("chosen")
            .property("stdout-path", &text("serial1:115200n8"))
            .property("bootargs", &text("-- app"))
            .end()
            .end();
    }

    #[test]
    fn bus_addresses_are_translated_through_ranges() {
        // bcm2711.dtsi's /soc ranges: (child, parent high, parent low, size).
        let soc_ranges = [
            0x7e00_0000,
            0,
            0xfe00_0000,
            0x180_0000,
            0x4000_0000,
            0,
            0xff80_0000,
            0x80_0000,
        ];
        let mut builder = Builder::new();
        raspi4_like(&mut builder, &soc_ranges);
        let mut blob = builder.finish();
        validate(&mut blob, 0x800_0000).ok().unwrap();
        let machine = describe(&blob).ok().unwrap();
        assert_eq!(
            machine.ram.ranges(),
            &[PhysicalRange {
                start: 0,
                end: 0x3c00_0000
            }]
        );
        // The stdout path names the mini UART (not a PL011): the first enabled PL011.
        assert_eq!(
            machine.console,
            Some(PhysicalRange {
                start: 0xfe20_1000,
                end: 0xfe20_1200
            })
        );
        assert_eq!(machine.error_console, None, "the second PL011 is disabled");
        let controller = machine.interrupt_controller.unwrap();
        assert!(controller.version == GicVersion::V2);
        assert_eq!(
            &controller.regions[..controller.region_count],
            &[
                PhysicalRange {
                    start: 0xff84_1000,
                    end: 0xff84_2000
                },
                PhysicalRange {
                    start: 0xff84_2000,
                    end: 0xff84_4000
                },
            ]
        );
        assert_eq!(machine.command_line, b"-- app");
        assert_eq!(
            machine.watchdog,
            Some(PhysicalRange {
                start: 0xfe10_0000,
                end: 0xfe10_0114
            })
        );

        // An empty `ranges` is the identity; an address no range covers is dropped.
        let mut builder = Builder::new();
        raspi4_like(&mut builder, &[]);
        let mut blob = builder.finish();
        validate(&mut blob, 0x800_0000).ok().unwrap();
        let machine = describe(&blob).ok().unwrap();
        assert_eq!(machine.console.map(|uart| uart.start), Some(0x7e20_1000));
        let mut builder = Builder::new();
        raspi4_like(&mut builder, &[0x7e00_0000, 0, 0xfe00_0000, 0x1000]);
        let mut blob = builder.finish();
        validate(&mut blob, 0x800_0000).ok().unwrap();
        let machine = describe(&blob).ok().unwrap();
        assert_eq!(machine.console, None);
        assert!(machine.interrupt_controller.unwrap().region_count == 0);
    }

    #[test]
    fn stdout_path_options_and_fallbacks() {
        let mut builder = Builder::new();
        virt_like(&mut builder, Some("/pl011@9040000:115200n8"), b"");
        let (_, summary) = read(builder.finish()).unwrap();
        assert!(
            summary.contains("console Some(151257088) error Some(150994944)"),
            "{summary}"
        );
        assert!(summary.contains("line []"), "{summary}");

        let mut builder = Builder::new();
        virt_like(&mut builder, None, b"");
        let (_, summary) = read(builder.finish()).unwrap();
        assert!(
            summary.contains("console Some(150994944) error Some(151257088)"),
            "{summary}"
        );

        // A stdout-path to a node that is not a PL011 falls back to the first PL011.
        let mut builder = Builder::new();
        virt_like(&mut builder, Some("/timer"), b"");
        let (_, summary) = read(builder.finish()).unwrap();
        assert!(summary.contains("console Some(150994944)"), "{summary}");
    }

    #[test]
    fn nop_tokens_are_removed() {
        let mut builder = Builder::new();
        builder
            .nop()
            .begin("")
            .nop()
            .property("#address-cells", &cells(&[2]))
            .nop()
            .property("#size-cells", &cells(&[2]))
            // What QEMU leaves of a node it removed: NOPs between children.
            .begin("memory")
            .nop()
            .end()
            .nop()
            .nop()
            .begin("memory@40000000")
            .property("reg", &cells(&[0, 0x4000_0000, 0, 0x400_0000]))
            .property("device_type", &text("memory"))
            .nop()
            .end()
            .nop()
            .begin("memory@44000000")
            .property("device_type", &text("memory"))
            .property("reg", &cells(&[0, 0x4400_0000, 0, 0x400_0000]))
            .end()
            .nop()
            .end()
            .nop();
        let blob = builder.finish();
        let structure_size = read_be32(&blob, 36).unwrap();
        let (blob, summary) = read(blob).unwrap();
        assert_eq!(read_be32(&blob, 36).unwrap(), structure_size - 10 * 4);
        assert!(
            summary.contains(
                "ram [PhysicalRange { start: 1073741824, end: 1140850688 }, \
                 PhysicalRange { start: 1140850688, end: 1207959552 }]"
            ),
            "{summary}"
        );
    }

    fn rejection(build: impl FnOnce(&mut Builder)) -> String {
        let mut builder = Builder::new();
        build(&mut builder);
        match read(builder.finish()) {
            Ok((_, summary)) => panic!("accepted: {summary}"),
            Err(message) => message,
        }
    }

    #[test]
    fn malformed_trees_are_rejected() {
        let message = rejection(|builder| {
            builder.begin("").begin("child").end().property("late", b"");
            builder.end();
        });
        assert!(message.contains("property after a child node"), "{message}");

        let message = rejection(|builder| {
            builder.begin("").end().begin("second").end();
        });
        assert!(message.contains("more than one root node"), "{message}");

        let message = rejection(|builder| {
            builder.begin("").begin("open").end();
        });
        assert!(message.contains("FDT_END inside a node"), "{message}");

        let message = rejection(|builder| {
            builder.begin("").end().end();
        });
        assert!(message.contains("FDT_END_NODE without a node"), "{message}");

        let message = rejection(|builder| {
            builder.begin("").token(7).end();
        });
        assert!(message.contains("unknown token"), "{message}");

        let message = rejection(|builder| {
            builder
                .begin("")
                .property("#address-cells", &cells(&[0, 2]))
                .end();
        });
        assert!(message.contains("not one cell"), "{message}");

        let message = rejection(|builder| {
            builder.begin("\u{e9}\u{301}").end();
            builder.structure[5] = 0xff;
        });
        assert!(message.contains("bad node name"), "{message}");

        let message = rejection(|builder| {
            builder.begin("");
            for _ in 0..MAXIMUM_DEPTH {
                builder.begin("deep");
            }
        });
        assert!(message.contains("nested too deeply"), "{message}");

        let message = rejection(|builder| {
            builder.version = 16;
            builder.begin("").end();
        });
        assert!(message.contains("version older than 17"), "{message}");

        let message = rejection(|builder| {
            builder.begin("").end();
        });
        assert!(message.contains("describes no RAM"), "{message}");
    }

    #[test]
    fn bad_offsets_are_rejected() {
        let mut builder = Builder::new();
        virt_like(&mut builder, None, b"");
        let good = builder.finish();

        let mut blob = good.clone();
        // size_dt_struct beyond the blob.
        blob[36..40].copy_from_slice(&0x10_0000u32.to_be_bytes());
        assert!(read(blob).unwrap_err().contains("structure block outside"));

        let mut blob = good.clone();
        // A structure block cut short: no FDT_END.
        let size = read_be32(&blob, 36).unwrap() - 8;
        blob[36..40].copy_from_slice(&size.to_be_bytes());
        assert!(read(blob).unwrap_err().contains("malformed device tree"));

        let mut blob = good;
        // The first property's name offset beyond the strings block.
        let structure = read_be32(&blob, 8).unwrap() as usize;
        let name_offset = structure + 8 + 8;
        blob[name_offset..name_offset + 4].copy_from_slice(&0xffffu32.to_be_bytes());
        assert!(read(blob).unwrap_err().contains("bad property name"));
    }

    /// A fuzz pass: random byte changes and truncations must be rejected or read, never
    /// panic (the `fdt` crate's own parsing panics on bad structure; `validate` is what
    /// stands in front of it).
    #[test]
    fn mutated_blobs_never_panic() {
        let mut builder = Builder::new();
        virt_like(&mut builder, Some("/pl011@9000000"), b"A=1 -- app");
        let good = builder.finish();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for round in 0..20_000 {
            let mut blob = good.clone();
            for _ in 0..1 + next() % 4 {
                let index = (next() as usize) % blob.len();
                blob[index] = next() as u8;
            }
            if round % 5 == 0 {
                let length = HEADER_SIZE + (next() as usize) % (blob.len() - HEADER_SIZE);
                blob.truncate(length);
            }
            // What blob_at checks before handing the slice over.
            let total = read_be32(&blob, 4).unwrap() as usize;
            if read_be32(&blob, 0) != Some(FDT_MAGIC) || total < HEADER_SIZE || total > blob.len() {
                continue;
            }
            blob.truncate(total);
            if read(blob).is_ok() {
                accepted += 1;
            }
        }
        // Most single-byte changes hit values, not structure: the tree still reads.
        assert!(accepted > 1000, "{accepted}");
    }
}
