//! The flattened device tree QEMU `virt` (and the Raspberry Pi's firmware, and U-Boot)
//! describes the machine with: RAM, the console UARTs, the command line and initrd,
//! PSCI, the interrupt controller, the generic timer, the RTC and the virtio-mmio
//! transports.
//!
//! Format: Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB)
//! Format". [`read`] walks the structure block once, token by token: it checks every
//! token against the format (a truncated or misnested blob is an error naming the
//! offset, never a fault) and, as each node's property list ends (at its first child or
//! its end: properties come first, spec 5.4.1), takes what the kernel needs from it.
//! `FDT_NOP` tokens (which QEMU leaves behind when it removes a node) are skipped. The
//! only second look is the `/chosen/stdout-path` lookup, which may name a node that
//! came earlier. One pass matters at boot: under TCG every distinct instruction
//! executed is translated once, and the boot runs this before anything else.
//!
//! Nothing here depends on the CPU: the host unit tests (`cargo test -p unik-kernel`)
//! compile this file too (see `arch/mod.rs`) and feed it built and mutated blobs.

use crate::memory::{PhysicalRange, RamMap};
use crate::report::Write;

/// How PSCI calls reach the firmware (the `/psci` node's `method`). Discriminants
/// from 1, like [`GicVersion`]'s: `None` is then 0, and [`MachineDescription::EMPTY`]
/// all zero bytes (so the boot's static of it is .bss, not 2 KiB of the image).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PsciConduit {
    HypervisorCall = 1,
    SecureMonitorCall = 2,
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
/// Deeper nesting than any real machine has.
const MAXIMUM_DEPTH: usize = 32;
/// The translation tables cover 39-bit addresses (entry.rs): RAM beyond is unusable.
const ADDRESS_LIMIT: u64 = 1 << 39;
/// How many enabled PL011s are remembered for the console choice (QEMU `virt` has
/// two, the Raspberry Pi 4 five).
const UART_LIMIT: usize = 8;

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

impl DeviceTreeError {
    /// The message, for the boot failure report.
    pub fn write(&self, out: &mut impl Write) {
        match self {
            Self::NotFound {
                register,
                ram_start,
            } => {
                out.text("no device tree: x0 at entry was ")
                    .hex(*register)
                    .text(" and there is no device tree blob at the start of RAM (")
                    .hex(*ram_start)
                    .text("); boot this image with QEMU `-M virt -kernel`");
            }
            Self::BadHeader { address, reason } => {
                out.text("bad device tree header at ")
                    .hex(*address)
                    .text(": ")
                    .text(reason);
            }
            Self::Malformed {
                address,
                offset,
                reason,
            } => {
                out.text("malformed device tree at ")
                    .hex(*address)
                    .text(": ")
                    .text(reason)
                    .text(" (structure block offset ")
                    .hex(*offset as u64)
                    .text(")");
            }
            Self::BadInitrd => {
                out.text(
                    "the device tree's /chosen linux,initrd-start and linux,initrd-end are \
                     not a 32- or 64-bit start and end with start <= end",
                );
            }
            Self::NoMemory => {
                out.text(
                    "the device tree describes no RAM (no node with device_type \"memory\" \
                     and a usable reg)",
                );
            }
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
/// `address` must be mapped and readable for the header and for the `totalsize` the
/// header gives, and not written, as long as the returned slice is used.
pub unsafe fn blob_at<'blob>(address: u64, limit: u64) -> Result<&'blob [u8], DeviceTreeError> {
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
    // SAFETY: [address, address + total_size) is below `limit` (checked), so mapped by
    // the caller's contract, and not written while the slice lives.
    Ok(unsafe { core::slice::from_raw_parts(address as *const u8, total_size as usize) })
}

/// A GIC's architecture version (the `compatible` string tells).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum GicVersion {
    V2 = 1,
    V3 = 2,
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

/// The devices later work drives (the GIC and the generic timer for the scheduler tick,
/// PSCI for exits and secondary CPUs, the RTC for the wall clock, the virtio-mmio
/// transports for the drivers): kept after boot, when the tree itself is unmapped.
#[derive(Clone, Copy)]
pub struct Platform {
    pub interrupt_controller: Option<InterruptController>,
    pub timer: Option<Timer>,
    pub psci: Option<PsciConduit>,
    /// The PL031 RTC (read by the threads-and-time code for the wall clock).
    pub real_time_clock: Option<PhysicalRange>,
    /// The virtio-mmio transports (`compatible = "virtio,mmio"`), in tree order.
    pub virtio_mmio: [Option<VirtioMmioNode>; VIRTIO_MMIO_LIMIT],
}

impl Platform {
    pub const NONE: Self = Self {
        interrupt_controller: None,
        timer: None,
        psci: None,
        real_time_clock: None,
        virtio_mmio: [None; VIRTIO_MMIO_LIMIT],
    };
}

/// What the kernel takes from the device tree.
pub struct MachineDescription<'blob> {
    pub platform: Platform,
    pub ram: RamMap,
    /// `/chosen/bootargs` without the NUL ([`Self::command_line`]).
    bootargs: Option<&'blob [u8]>,
    /// The stdout UART (PL011): `/chosen/stdout-path`, else the first PL011.
    pub console: Option<PhysicalRange>,
    /// A second PL011 for stderr.
    pub error_console: Option<PhysicalRange>,
    /// The initrd the loader put in RAM: `/chosen`'s `linux,initrd-start` and
    /// `linux,initrd-end` (Linux `Documentation/devicetree/bindings/chosen.txt`).
    pub initrd: Option<PhysicalRange>,
    /// The BCM2835/BCM2711 power-management watchdog (the Raspberry Pi's way to halt
    /// or reset the board).
    pub watchdog: Option<PhysicalRange>,
}

impl<'blob> MachineDescription<'blob> {
    /// Nothing found yet: all zero bytes (see [`PsciConduit`]).
    pub const EMPTY: Self = Self {
        platform: Platform::NONE,
        ram: RamMap::new(),
        bootargs: None,
        console: None,
        error_console: None,
        initrd: None,
        watchdog: None,
    };

    /// `/chosen/bootargs` without the NUL (empty when none): bytes as given, not
    /// required to be UTF-8.
    pub fn command_line(&self) -> &'blob [u8] {
        self.bootargs.unwrap_or(&[])
    }
}

/// One token of the structure block (spec 5.4.1) and the offset of the next.
enum Token<'blob> {
    BeginNode {
        name: &'blob [u8],
    },
    EndNode,
    Property {
        name: &'blob [u8],
        value: &'blob [u8],
    },
    Nop,
    End,
}

/// The structure and strings blocks of a blob whose header has been checked.
struct Blocks<'blob> {
    structure: &'blob [u8],
    strings: &'blob [u8],
}

impl<'blob> Blocks<'blob> {
    /// The token at `offset` and the next token's offset, or the reason it is bad.
    fn token(&self, offset: usize) -> Result<(Token<'blob>, usize), &'static str> {
        let structure = self.structure;
        let token = read_be32(structure, offset).ok_or("structure block ends without FDT_END")?;
        Ok(match token {
            FDT_BEGIN_NODE => {
                let name = name_at(structure, offset + 4).ok_or("bad node name")?;
                (
                    Token::BeginNode { name },
                    align4(offset + 4 + name.len() + 1),
                )
            }
            FDT_END_NODE => (Token::EndNode, offset + 4),
            FDT_PROP => {
                let length = read_be32(structure, offset + 4).ok_or("truncated property")?;
                let name_offset = read_be32(structure, offset + 8).ok_or("truncated property")?;
                let value_start = offset + 12;
                let value = structure
                    .get(value_start..value_start.saturating_add(length as usize))
                    .ok_or("property value beyond the structure block")?;
                let name =
                    name_at(self.strings, name_offset as usize).ok_or("bad property name")?;
                (
                    Token::Property { name, value },
                    align4(value_start + value.len()),
                )
            }
            FDT_NOP => (Token::Nop, offset + 4),
            FDT_END => (Token::End, offset + 4),
            _ => return Err("unknown token"),
        })
    }
}

/// A NUL-terminated node or property name at `offset` (without the NUL): printable
/// ASCII, as spec 2.2.1 and 2.2.4 allow.
fn name_at(bytes: &[u8], offset: usize) -> Option<&[u8]> {
    let rest = bytes.get(offset..)?;
    let length = rest.iter().position(|byte| !(0x21..0x7f).contains(byte))?;
    (rest[length] == 0).then_some(&rest[..length])
}

fn align4(value: usize) -> usize {
    (value + 3) & !3
}

/// A string property's value without its terminating NUL(s).
fn text(value: &[u8]) -> &[u8] {
    let mut length = value.len();
    while length > 0 && value[length - 1] == 0 {
        length -= 1;
    }
    &value[..length]
}

/// A big-endian number of one or two cells at the start of `bytes` (0 cells: 0).
fn read_cells(bytes: &[u8], cells: u32) -> Option<u64> {
    match cells {
        0 => Some(0),
        1 => read_be32(bytes, 0).map(u64::from),
        2 => Some((u64::from(read_be32(bytes, 0)?) << 32) | u64::from(read_be32(bytes, 4)?)),
        _ => None,
    }
}

/// What a node says about its children's addresses (spec 2.3.5, 2.3.8): the cell
/// counts of their `reg` (defaults 2 and 1) and its `ranges` (none: not memory mapped;
/// empty: the identity).
#[derive(Clone, Copy)]
struct Bus<'blob> {
    address_cells: u32,
    size_cells: u32,
    ranges: Option<&'blob [u8]>,
}

/// The index of `name` among the NUL-separated names of `table`. The reader matches
/// names through such tables and this one loop rather than `match` arms, which compile
/// to a comparison chain per name (the boot translates, under TCG, every instruction it
/// runs once: less code is faster), and a packed string needs no relocated pointers.
fn position(table: &[u8], name: &[u8]) -> Option<usize> {
    table
        .split(|byte| *byte == 0)
        .position(|known| known == name)
}

/// The properties the reader keeps, by index into [`Node::values`] (no final NUL: an
/// empty name matches nothing).
const PROPERTIES: &[u8] = b"#address-cells\0#size-cells\0ranges\0compatible\0reg\0status\0\
    device_type\0interrupts\0method\0bootargs\0stdout-path\0linux,initrd-start\0\
    linux,initrd-end";
const PROPERTY_COUNT: usize = 13;
const ADDRESS_CELLS: usize = 0;
const SIZE_CELLS: usize = 1;
const RANGES: usize = 2;
const COMPATIBLE: usize = 3;
const REG: usize = 4;
const STATUS: usize = 5;
const DEVICE_TYPE: usize = 6;
const INTERRUPTS: usize = 7;
const METHOD: usize = 8;
const BOOTARGS: usize = 9;
const STDOUT_PATH: usize = 10;
const INITRD_START: usize = 11;
const INITRD_END: usize = 12;

/// What a device node is, from its `compatible` list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pl011,
    Gic(GicVersion),
    Psci,
    Timer,
    Pl031,
    Bcm2835Watchdog,
    VirtioMmio,
}

/// The `compatible` strings the kernel knows (NUL-separated), and [`KINDS`] their
/// kinds.
const COMPATIBLE_NAMES: &[u8] = b"arm,pl011\0arm,cortex-a15-gic\0arm,gic-400\0\
    arm,cortex-a9-gic\0arm,cortex-a7-gic\0arm,gic-v3\0arm,psci\0arm,psci-0.2\0\
    arm,psci-1.0\0arm,armv8-timer\0arm,armv7-timer\0arm,pl031\0brcm,bcm2835-pm-wdt\0\
    brcm,bcm2835-pm\0virtio,mmio";
const KINDS: [Kind; 15] = [
    Kind::Pl011,
    Kind::Gic(GicVersion::V2),
    Kind::Gic(GicVersion::V2),
    Kind::Gic(GicVersion::V2),
    Kind::Gic(GicVersion::V2),
    Kind::Gic(GicVersion::V3),
    Kind::Psci,
    Kind::Psci,
    Kind::Psci,
    Kind::Timer,
    Kind::Timer,
    Kind::Pl031,
    Kind::Bcm2835Watchdog,
    Kind::Bcm2835Watchdog,
    Kind::VirtioMmio,
];

/// The kind of the first string of a `compatible` list the kernel knows.
fn classify(compatible: &[u8]) -> Option<Kind> {
    let mut rest = compatible;
    while !rest.is_empty() {
        let length = rest
            .iter()
            .position(|byte| *byte == 0)
            .unwrap_or(rest.len());
        if let Some(index) = position(COMPATIBLE_NAMES, &rest[..length]) {
            return Some(KINDS[index]);
        }
        rest = rest.get(length + 1..).unwrap_or(&[]);
    }
    None
}

/// The node being read: where it starts (its FDT_BEGIN_NODE token: its identity for
/// stdout-path) and the values of its [`PROPERTIES`].
struct Node<'blob> {
    start: usize,
    values: [Option<&'blob [u8]>; PROPERTY_COUNT],
}

/// The first `reg` entries of a node at `depth` as CPU physical addresses, into `out`;
/// returns how many. Addresses are translated through the `ranges` of every bus above
/// the node (spec 2.3.8). QEMU `virt` puts its devices at the root, where addresses
/// are physical; the Raspberry Pi 4's sit under `/soc`, whose `ranges` maps the
/// VideoCore bus addresses (0x7e201000) to the CPU's (0xfe201000). An entry no range
/// covers (or under a bus without `ranges`) is left out, as is a `reg` with cell
/// counts other than 1-2 / 0-2.
fn regions(buses: &[Bus<'_>], reg: &[u8], depth: usize, out: &mut [PhysicalRange]) -> usize {
    let parent = buses[depth - 1];
    let (address_cells, size_cells) = (parent.address_cells, parent.size_cells);
    if !(1..=2).contains(&address_cells) || size_cells > 2 {
        return 0;
    }
    let mut count = 0;
    for entry in reg.chunks_exact((address_cells + size_cells) as usize * 4) {
        if count == out.len() {
            break;
        }
        let start =
            read_cells(entry, address_cells).and_then(|address| translate(buses, depth, address));
        let size = read_cells(&entry[address_cells as usize * 4..], size_cells);
        if let (Some(start), Some(size)) = (start, size)
            && let Some(end) = start.checked_add(size)
        {
            out[count] = PhysicalRange { start, end };
            count += 1;
        }
    }
    count
}

/// Translates an address in the address space of the node at `depth`'s parent up to
/// the root's: each bus's `ranges` entries are (child address, parent address, size).
fn translate(buses: &[Bus<'_>], depth: usize, mut address: u64) -> Option<u64> {
    for level in (1..depth).rev() {
        let bus = buses[level];
        let parent_cells = buses[level - 1].address_cells;
        let ranges = bus.ranges?;
        if ranges.is_empty() {
            continue;
        }
        let (child_cells, size_cells) = (bus.address_cells, bus.size_cells);
        let entry_size = (child_cells + parent_cells + size_cells) as usize * 4;
        if entry_size == 0 {
            return None;
        }
        address = ranges.chunks_exact(entry_size).find_map(|entry| {
            let child = read_cells(entry, child_cells)?;
            let parent = read_cells(&entry[child_cells as usize * 4..], parent_cells)?;
            let size = read_cells(
                &entry[(child_cells + parent_cells) as usize * 4..],
                size_cells,
            )?;
            let offset = address.checked_sub(child)?;
            (offset < size)
                .then(|| parent.checked_add(offset))
                .flatten()
        })?;
    }
    Some(address)
}

/// The walk's findings so far, and where they go.
struct Reader<'out, 'blob> {
    machine: &'out mut MachineDescription<'blob>,
    /// `buses[i]`: the open node at depth i (the root is 0).
    buses: [Bus<'blob>; MAXIMUM_DEPTH],
    /// Enabled PL011s in tree order: their node's offset and first region.
    uarts: [(usize, Option<PhysicalRange>); UART_LIMIT],
    uart_count: usize,
    /// Whether the first node of a kind that is looked at once has been seen.
    psci_seen: bool,
    real_time_clock_seen: bool,
    watchdog_seen: bool,
    virtio_count: usize,
    /// `/chosen`'s properties.
    chosen: [Option<&'blob [u8]>; PROPERTY_COUNT],
    /// Offset of `/aliases`' first property (for a stdout-path that is an alias).
    aliases: Option<usize>,
}

/// What a known device node gives, whatever its kind: its first `reg` regions and
/// the GIC INTIDs of its first `interrupts` specifiers (three cells each for the GIC
/// binding: type 0 = SPI, INTID 32 + number; 1 = PPI, INTID 16 + number). One routine
/// for all kinds keeps the code the boot runs small.
struct Device {
    regions: [PhysicalRange; 4],
    region_count: usize,
    interrupt_ids: [u32; 4],
    interrupt_count: usize,
}

impl Device {
    fn first_region(&self) -> Option<PhysicalRange> {
        (self.region_count > 0).then_some(self.regions[0])
    }
}

impl<'blob> Reader<'_, 'blob> {
    /// Takes what the kernel needs from a node (at `depth`) whose properties are all
    /// read: the cell counts and ranges its children need, then what it is.
    fn take(&mut self, node: &Node<'blob>, depth: usize) {
        let values = &node.values;
        let cells = |index: usize| values[index].and_then(|value| read_be32(value, 0));
        self.buses[depth] = Bus {
            address_cells: cells(ADDRESS_CELLS).unwrap_or(2),
            size_cells: cells(SIZE_CELLS).unwrap_or(1),
            ranges: values[RANGES],
        };
        if depth == 0 {
            // The root: its properties are the buses' (cell counts), not a device's.
            return;
        }
        let enabled = values[STATUS].is_none_or(|status| matches!(text(status), b"okay" | b"ok"));
        let reg = values[REG].unwrap_or(&[]);
        if values[DEVICE_TYPE].is_some_and(|kind| text(kind) == b"memory") && enabled {
            // More ranges than one memory node of any firmware has.
            let mut found = [PhysicalRange::EMPTY; 8];
            let count = regions(&self.buses, reg, depth, &mut found);
            for region in &found[..count] {
                let end = region.end.min(ADDRESS_LIMIT);
                self.machine.ram.add(PhysicalRange { end, ..*region });
            }
        }
        let Some(kind) = values[COMPATIBLE].and_then(classify) else {
            return;
        };
        let mut device = Device {
            regions: [PhysicalRange::EMPTY; 4],
            region_count: 0,
            interrupt_ids: [0; 4],
            interrupt_count: 0,
        };
        device.region_count = regions(&self.buses, reg, depth, &mut device.regions);
        for specifier in values[INTERRUPTS].unwrap_or(&[]).chunks_exact(12).take(4) {
            let kind = read_be32(specifier, 0).unwrap_or(0);
            let number = read_be32(specifier, 4).unwrap_or(0);
            device.interrupt_ids[device.interrupt_count] =
                number.saturating_add(if kind == 1 { 16 } else { 32 });
            device.interrupt_count += 1;
        }
        let platform = &mut self.machine.platform;
        match kind {
            Kind::Pl011 if enabled && self.uart_count < UART_LIMIT => {
                self.uarts[self.uart_count] = (node.start, device.first_region());
                self.uart_count += 1;
            }
            Kind::Gic(version) if platform.interrupt_controller.is_none() => {
                platform.interrupt_controller = Some(InterruptController {
                    version,
                    regions: device.regions,
                    region_count: device.region_count,
                });
            }
            Kind::Psci if enabled && !self.psci_seen => {
                self.psci_seen = true;
                platform.psci = match values[METHOD].map(text) {
                    Some(b"hvc") => Some(PsciConduit::HypervisorCall),
                    Some(b"smc") => Some(PsciConduit::SecureMonitorCall),
                    _ => None,
                };
            }
            Kind::Timer if platform.timer.is_none() => {
                platform.timer = Some(Timer {
                    interrupt_ids: device.interrupt_ids,
                    interrupt_count: device.interrupt_count,
                });
            }
            Kind::Pl031 if enabled && !self.real_time_clock_seen => {
                self.real_time_clock_seen = true;
                platform.real_time_clock = device.first_region();
            }
            Kind::Bcm2835Watchdog if enabled && !self.watchdog_seen => {
                self.watchdog_seen = true;
                self.machine.watchdog = device.first_region();
            }
            Kind::VirtioMmio
                if enabled
                    && self.virtio_count < VIRTIO_MMIO_LIMIT
                    && device.region_count > 0
                    && device.interrupt_count > 0 =>
            {
                platform.virtio_mmio[self.virtio_count] = Some(VirtioMmioNode {
                    registers: device.regions[0],
                    interrupt_id: device.interrupt_ids[0],
                });
                self.virtio_count += 1;
            }
            _ => {}
        }
    }
}

/// Reads the machine description from the blob at `address` (for messages) into
/// `machine` (which starts as [`MachineDescription::EMPTY`]: filled in place, it is
/// never copied), checking the header and every token of the structure block (spec
/// chapter 5) on the way.
pub fn read<'blob>(
    blob: &'blob [u8],
    address: u64,
    machine: &mut MachineDescription<'blob>,
) -> Result<(), DeviceTreeError> {
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
    let blocks = Blocks {
        structure: &blob[structure_offset..structure_end],
        strings: &blob[strings_offset..strings_end],
    };
    let mut reader = Reader {
        machine,
        buses: [Bus {
            address_cells: 2,
            size_cells: 1,
            ranges: None,
        }; MAXIMUM_DEPTH],
        uarts: [(0, None); UART_LIMIT],
        uart_count: 0,
        psci_seen: false,
        real_time_clock_seen: false,
        watchdog_seen: false,
        virtio_count: 0,
        chosen: [None; PROPERTY_COUNT],
        aliases: None,
    };
    walk(&blocks, &mut reader).map_err(|(offset, reason)| DeviceTreeError::Malformed {
        address,
        offset,
        reason,
    })?;
    finish(&blocks, reader)
}

/// The one pass over the structure block.
fn walk<'blob>(
    blocks: &Blocks<'blob>,
    reader: &mut Reader<'_, 'blob>,
) -> Result<(), (usize, &'static str)> {
    let mut offset = 0;
    // Open nodes; the node being read still takes properties while `open`.
    let mut depth = 0;
    let mut open = false;
    let mut root_seen = false;
    let mut chosen = false;
    let mut node = Node {
        start: 0,
        values: [None; PROPERTY_COUNT],
    };
    loop {
        let (token, next) = blocks.token(offset).map_err(|reason| (offset, reason))?;
        if open && matches!(token, Token::BeginNode { .. } | Token::EndNode) {
            // The node's property list ends at its first child or its end.
            reader.take(&node, depth - 1);
            if chosen {
                reader.chosen = node.values;
            }
            open = false;
        }
        match token {
            Token::BeginNode { name } => {
                if depth == 0 && root_seen {
                    return Err((offset, "more than one root node"));
                }
                if depth == MAXIMUM_DEPTH {
                    return Err((offset, "nodes nested too deeply"));
                }
                chosen = depth == 1 && name == b"chosen";
                if depth == 1 && name == b"aliases" {
                    reader.aliases = Some(next);
                }
                node = Node {
                    start: offset,
                    values: [None; PROPERTY_COUNT],
                };
                depth += 1;
                open = true;
                root_seen = true;
            }
            Token::EndNode => {
                if depth == 0 {
                    return Err((offset, "FDT_END_NODE without a node"));
                }
                depth -= 1;
            }
            Token::Property { name, value } => {
                if depth == 0 {
                    return Err((offset, "property outside every node"));
                }
                if !open {
                    return Err((offset, "property after a child node"));
                }
                if let Some(index) = position(PROPERTIES, name) {
                    if index <= SIZE_CELLS && value.len() != 4 {
                        return Err((offset, "#address-cells or #size-cells is not one cell"));
                    }
                    node.values[index] = Some(value);
                }
            }
            Token::Nop => {}
            Token::End => {
                if depth != 0 || !root_seen {
                    return Err((offset, "FDT_END inside a node or without a root node"));
                }
                return Ok(());
            }
        }
        offset = next;
    }
}

/// What needs the whole tree read: the command line and initrd from `/chosen`, the
/// console (stdout-path may name a node that came earlier), the check for RAM.
fn finish<'blob>(blocks: &Blocks<'blob>, reader: Reader<'_, 'blob>) -> Result<(), DeviceTreeError> {
    let machine = reader.machine;
    // Each bound is one or two cells (a u32 or a u64, big-endian); absent: none.
    let bound = |value: Option<&[u8]>| {
        value
            .map(|value| match *value {
                [a, b, c, d] => Ok(u64::from(u32::from_be_bytes([a, b, c, d]))),
                [a, b, c, d, e, f, g, h] => Ok(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
                _ => Err(DeviceTreeError::BadInitrd),
            })
            .transpose()
    };
    let chosen = &reader.chosen;
    machine.bootargs = chosen[BOOTARGS].map(|bootargs| {
        let length = bootargs
            .iter()
            .position(|byte| *byte == 0)
            .unwrap_or(bootargs.len());
        &bootargs[..length]
    });
    machine.initrd = match (bound(chosen[INITRD_START])?, bound(chosen[INITRD_END])?) {
        (Some(start), Some(end)) if start > end => return Err(DeviceTreeError::BadInitrd),
        (Some(start), Some(end)) if start < end => Some(PhysicalRange { start, end }),
        _ => None,
    };

    // stdout-path may carry options after ':' (spec 3.6: "path:options"), and be an
    // alias (spec 3.3) rather than a path.
    let uarts = &reader.uarts[..reader.uart_count];
    let stdout_path = text(chosen[STDOUT_PATH].unwrap_or(&[]));
    let path = stdout_path
        .split(|byte| *byte == b':')
        .next()
        .unwrap_or(&[]);
    let stdout_node = if path.is_empty() {
        None
    } else if path[0] == b'/' {
        find_node(blocks, path)
    } else {
        reader
            .aliases
            .and_then(|aliases| alias(blocks, aliases, path))
            .and_then(|path| find_node(blocks, path))
    };
    let stdout_uart = uarts.iter().find(|uart| Some(uart.0) == stdout_node);
    machine.console = stdout_uart.or(uarts.first()).and_then(|uart| uart.1);
    machine.error_console = uarts
        .iter()
        .filter_map(|uart| uart.1)
        .find(|region| Some(*region) != machine.console);
    if machine.ram.ranges().is_empty() {
        return Err(DeviceTreeError::NoMemory);
    }
    Ok(())
}

/// The value of property `name` of `/aliases` (its properties start at `offset`).
fn alias<'blob>(blocks: &Blocks<'blob>, mut offset: usize, name: &[u8]) -> Option<&'blob [u8]> {
    loop {
        match blocks.token(offset).ok()? {
            (Token::Property { name: found, value }, next) => {
                if found == name {
                    return Some(text(value));
                }
                offset = next;
            }
            (Token::Nop, next) => offset = next,
            _ => return None,
        }
    }
}

/// The offset of the node at `path` (from the root, spec 2.2.3: a component without a
/// unit address matches a name with one) in the already checked structure block.
fn find_node(blocks: &Blocks<'_>, path: &[u8]) -> Option<usize> {
    let mut rest = path;
    let mut offset = 0;
    let mut depth = 0;
    // The depth of the deepest node matched so far (the root: 1).
    let mut matched = 0;
    loop {
        let (token, next) = blocks.token(offset).ok()?;
        match token {
            Token::BeginNode { name } => {
                depth += 1;
                if depth == matched + 1 {
                    while let [b'/', tail @ ..] = rest {
                        rest = tail;
                    }
                    let length = rest
                        .iter()
                        .position(|byte| *byte == b'/')
                        .unwrap_or(rest.len());
                    let component = &rest[..length];
                    let unit = name
                        .iter()
                        .position(|byte| *byte == b'@')
                        .unwrap_or(name.len());
                    if depth == 1
                        || name == component
                        || (!component.contains(&b'@') && &name[..unit] == component)
                    {
                        if depth > 1 {
                            rest = &rest[length..];
                        }
                        matched = depth;
                        if rest.iter().all(|byte| *byte == b'/') {
                            return Some(offset);
                        }
                    }
                }
            }
            Token::EndNode => {
                if depth == matched {
                    // The subtree of a matched node ended without the rest of the path.
                    return None;
                }
                depth -= 1;
            }
            Token::End => return None,
            Token::Property { .. } | Token::Nop => {}
        }
        offset = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::read`] into a fresh description.
    fn read(blob: &[u8], address: u64) -> Result<MachineDescription<'_>, DeviceTreeError> {
        let mut machine = MachineDescription::EMPTY;
        super::read(blob, address, &mut machine).map(|()| machine)
    }

    fn message(error: &DeviceTreeError) -> String {
        let mut text = String::new();
        error.write(&mut text);
        text
    }

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

    fn summarize(blob: Vec<u8>) -> Result<(Vec<u8>, String), String> {
        let summary = {
            let machine = read(&blob, 0x4000_0000).map_err(|error| message(&error))?;
            format!(
                "ram {:?} console {:?} error {:?} psci {:?} line {:?}",
                machine.ram.ranges(),
                machine.console.map(|uart| uart.start),
                machine.error_console.map(|uart| uart.start),
                machine.platform.psci,
                machine.command_line()
            )
        };
        Ok((blob, summary))
    }

    #[test]
    fn name_tables_match_their_indexes() {
        let names = |table: &[u8]| table.split(|byte| *byte == 0).count();
        assert_eq!(names(PROPERTIES), PROPERTY_COUNT);
        assert_eq!(names(COMPATIBLE_NAMES), KINDS.len());
        assert_eq!(position(PROPERTIES, b"linux,initrd-end"), Some(INITRD_END));
        assert_eq!(position(PROPERTIES, b"#size-cells"), Some(SIZE_CELLS));
        assert_eq!(position(PROPERTIES, b""), None);
        assert_eq!(position(COMPATIBLE_NAMES, b"virtio,mmio"), Some(14));
        assert!(classify(b"arm,pl011\0arm,primecell\0") == Some(Kind::Pl011));
        assert!(classify(b"vendor,thing\0arm,gic-v3\0") == Some(Kind::Gic(GicVersion::V3)));
        assert!(classify(b"arm,pl01\0").is_none());
    }

    #[test]
    fn virt_tree_is_described() {
        let mut builder = Builder::new();
        virt_like(
            &mut builder,
            Some("/pl011@9000000"),
            b"unik.verbose -- app \xff",
        );
        let blob = builder.finish();
        let machine = read(&blob, 0x4000_0000).ok().unwrap();
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
        assert_eq!(machine.platform.psci, Some(PsciConduit::HypervisorCall));
        // Bytes as given, not required to be UTF-8.
        assert_eq!(machine.command_line(), b"unik.verbose -- app \xff");
        let controller = machine.platform.interrupt_controller.unwrap();
        assert!(controller.version == GicVersion::V2);
        assert_eq!(controller.region_count, 2);
        assert_eq!(controller.regions[1].start, 0x801_0000);
        let timer = machine.platform.timer.unwrap();
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
        let blob = builder.finish();
        let machine = read(&blob, 0x4000_0000).map_err(|error| message(&error))?;
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
        let blob = builder.finish();
        assert_eq!(read(&blob, 0x4000_0000).ok().unwrap().initrd, None);
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
        let blob = builder.finish();
        let machine = read(&blob, 0x800_0000).ok().unwrap();
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
        let controller = machine.platform.interrupt_controller.unwrap();
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
        assert_eq!(machine.command_line(), b"-- app");
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
        let blob = builder.finish();
        let machine = read(&blob, 0x800_0000).ok().unwrap();
        assert_eq!(machine.console.map(|uart| uart.start), Some(0x7e20_1000));
        let mut builder = Builder::new();
        raspi4_like(&mut builder, &[0x7e00_0000, 0, 0xfe00_0000, 0x1000]);
        let blob = builder.finish();
        let machine = read(&blob, 0x800_0000).ok().unwrap();
        assert_eq!(machine.console, None);
        assert!(machine.platform.interrupt_controller.unwrap().region_count == 0);
    }

    #[test]
    fn stdout_path_options_and_fallbacks() {
        let mut builder = Builder::new();
        virt_like(&mut builder, Some("/pl011@9040000:115200n8"), b"");
        let (_, summary) = summarize(builder.finish()).unwrap();
        assert!(
            summary.contains("console Some(151257088) error Some(150994944)"),
            "{summary}"
        );
        assert!(summary.contains("line []"), "{summary}");

        let mut builder = Builder::new();
        virt_like(&mut builder, None, b"");
        let (_, summary) = summarize(builder.finish()).unwrap();
        assert!(
            summary.contains("console Some(150994944) error Some(151257088)"),
            "{summary}"
        );

        // A stdout-path to a node that is not a PL011 falls back to the first PL011.
        let mut builder = Builder::new();
        virt_like(&mut builder, Some("/timer"), b"");
        let (_, summary) = summarize(builder.finish()).unwrap();
        assert!(summary.contains("console Some(150994944)"), "{summary}");
    }

    /// A stdout-path that names an alias (the Raspberry Pi firmware's `serial0`), a
    /// path whose node comes before `/chosen` and has no unit address in the path, and
    /// one that names no node.
    #[test]
    fn stdout_path_aliases_and_unit_addresses() {
        let tree = |stdout_path: &str| {
            let mut builder = Builder::new();
            builder
                .begin("")
                .property("#address-cells", &cells(&[1]))
                .property("#size-cells", &cells(&[1]))
                .begin("memory@40000000")
                .property("device_type", &text("memory"))
                .property("reg", &cells(&[0x4000_0000, 0x100_0000]))
                .end()
                .begin("aliases")
                .property("serial0", &text("/soc/uart@2000"))
                .property("serial1", &text("/soc/uart@1000"))
                .end()
                .begin("soc")
                .property("#address-cells", &cells(&[1]))
                .property("#size-cells", &cells(&[1]))
                .property("ranges", b"")
                .begin("uart@1000")
                .property("compatible", &text("arm,pl011"))
                .property("reg", &cells(&[0x1000, 0x100]))
                .end()
                .begin("other")
                .property("#address-cells", &cells(&[1]))
                .property("#size-cells", &cells(&[1]))
                .property("ranges", b"")
                .begin("uart")
                .property("compatible", &text("arm,pl011"))
                .property("reg", &cells(&[0x3000, 0x100]))
                .end()
                .end()
                .begin("uart@2000")
                .property("compatible", &text("arm,pl011"))
                .property("reg", &cells(&[0x2000, 0x100]))
                .end()
                .end()
                .begin("chosen")
                .property("stdout-path", &text(stdout_path))
                .end()
                .end();
            let blob = builder.finish();
            let machine = read(&blob, 0x4000_0000).ok().unwrap();
            (
                machine.console.map(|uart| uart.start),
                machine.error_console.map(|uart| uart.start),
            )
        };
        assert_eq!(tree("serial0:115200n8"), (Some(0x2000), Some(0x1000)));
        assert_eq!(tree("serial1"), (Some(0x1000), Some(0x3000)));
        assert_eq!(tree("/soc/uart@2000"), (Some(0x2000), Some(0x1000)));
        assert_eq!(tree("/soc/other/uart"), (Some(0x3000), Some(0x1000)));
        assert_eq!(tree("//soc//other/uart:9600"), (Some(0x3000), Some(0x1000)));
        // Not found, ambiguous or not a UART: the first PL011.
        assert_eq!(tree("serial9"), (Some(0x1000), Some(0x3000)));
        assert_eq!(tree("/soc/uart"), (Some(0x1000), Some(0x3000)));
        assert_eq!(tree("/soc/other"), (Some(0x1000), Some(0x3000)));
        assert_eq!(tree("/memory"), (Some(0x1000), Some(0x3000)));
    }

    /// QEMU virt's virtio-mmio transports (SPIs, in tree order, disabled ones left
    /// out), the PL031 and the GICv3.
    #[test]
    fn virtio_mmio_transports_rtc_and_gic_v3() {
        let mut builder = Builder::new();
        builder
            .begin("")
            .property("#address-cells", &cells(&[2]))
            .property("#size-cells", &cells(&[2]))
            .begin("memory@40000000")
            .property("reg", &cells(&[0, 0x4000_0000, 0, 0x800_0000]))
            .property("device_type", &text("memory"))
            .end()
            .begin("virtio_mmio@a000200")
            .property("interrupts", &cells(&[0, 0x11, 1]))
            .property("reg", &cells(&[0, 0xa00_0200, 0, 0x200]))
            .property("compatible", &text("virtio,mmio"))
            .end()
            .begin("virtio_mmio@a000000")
            .property("status", &text("disabled"))
            .property("interrupts", &cells(&[0, 0x10, 1]))
            .property("reg", &cells(&[0, 0xa00_0000, 0, 0x200]))
            .property("compatible", &text("virtio,mmio"))
            .end()
            .begin("virtio_mmio@a000400")
            .property("interrupts", &cells(&[0, 0x12, 1]))
            .property("reg", &cells(&[0, 0xa00_0400, 0, 0x200]))
            .property("compatible", &text("virtio,mmio"))
            .end()
            .begin("pl031@9010000")
            .property("reg", &cells(&[0, 0x901_0000, 0, 0x1000]))
            .property("compatible", b"arm,pl031\0arm,primecell\0")
            .end()
            .begin("intc@8000000")
            .property(
                "reg",
                &cells(&[0, 0x800_0000, 0, 0x1_0000, 0, 0x80a_0000, 0, 0xf6_0000]),
            )
            .property("compatible", &text("arm,gic-v3"))
            .end()
            .end();
        let blob = builder.finish();
        let machine = read(&blob, 0x4000_0000).ok().unwrap();
        let platform = machine.platform;
        let transports: Vec<_> = platform
            .virtio_mmio
            .iter()
            .flatten()
            .map(|node| {
                (
                    node.registers.start,
                    node.registers.len(),
                    node.interrupt_id,
                )
            })
            .collect();
        assert_eq!(
            transports,
            [
                (0xa00_0200, 0x200, 32 + 0x11),
                (0xa00_0400, 0x200, 32 + 0x12)
            ]
        );
        assert_eq!(
            platform.real_time_clock,
            Some(PhysicalRange {
                start: 0x901_0000,
                end: 0x901_1000
            })
        );
        let controller = platform.interrupt_controller.unwrap();
        assert!(controller.version == GicVersion::V3);
        assert_eq!(controller.regions[1].start, 0x80a_0000);
        assert_eq!(machine.console, None);
        assert!(platform.psci.is_none() && platform.timer.is_none());
    }

    #[test]
    fn nop_tokens_are_skipped() {
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
        let (_, summary) = summarize(blob).unwrap();
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
        match summarize(builder.finish()) {
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
        assert!(
            summarize(blob)
                .unwrap_err()
                .contains("structure block outside")
        );

        let mut blob = good.clone();
        // A structure block cut short: no FDT_END.
        let size = read_be32(&blob, 36).unwrap() - 8;
        blob[36..40].copy_from_slice(&size.to_be_bytes());
        assert!(
            summarize(blob)
                .unwrap_err()
                .contains("malformed device tree")
        );

        let mut blob = good;
        // The first property's name offset beyond the strings block.
        let structure = read_be32(&blob, 8).unwrap() as usize;
        let name_offset = structure + 8 + 8;
        blob[name_offset..name_offset + 4].copy_from_slice(&0xffffu32.to_be_bytes());
        assert!(summarize(blob).unwrap_err().contains("bad property name"));
    }

    /// A fuzz pass: random byte changes and truncations must be rejected or read, never
    /// panic.
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
            if summarize(blob).is_ok() {
                accepted += 1;
            }
        }
        // Most single-byte changes hit values, not structure: the tree still reads.
        assert!(accepted > 1000, "{accepted}");
    }
}
