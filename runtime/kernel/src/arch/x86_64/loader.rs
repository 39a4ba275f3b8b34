//! What the boot path takes from the loader, whichever protocol booted the image: the
//! PVH `hvm_start_info` (pvh.rs) or the Multiboot2 information structure
//! (multiboot2.rs). Both are read while the bootstrap identity map of the first GiB is
//! active; the boot path copies what it keeps before the final page tables replace it.

use super::entry::BOOTSTRAP_MAP_END;
use super::{multiboot2, pvh};
use crate::memory::{PhysicalRange, RamMap};
use crate::report::Write;

/// Memory map entry type for usable RAM: E820's, PVH's (`XEN_HVM_MEMMAP_TYPE_RAM`) and
/// Multiboot2's (`MULTIBOOT_MEMORY_AVAILABLE`) agree.
const MEMORY_TYPE_RAM: u32 = 1;
/// Longest command line accepted (Linux x86 allows 2048 bytes; QEMU and GRUB pass
/// whatever they are given). Longer means the pointer is wrong or the line is not
/// terminated.
const COMMAND_LINE_LIMIT: u64 = 64 * 1024;

/// The boot protocol the loader used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Pvh,
    Multiboot2,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pvh => "PVH",
            Self::Multiboot2 => "Multiboot2",
        }
    }

    /// The memory map's name in messages.
    pub fn memory_map_name(self) -> &'static str {
        match self {
            Self::Pvh => "the PVH memory map",
            Self::Multiboot2 => "the Multiboot2 memory map",
        }
    }
}

/// A memory map of 24-byte-or-longer entries laid out as `u64 start, u64 size, u32
/// type` (E820 order; PVH's `hvm_memmap_table_entry`, Multiboot2's mmap entries).
pub struct MemoryMapTable {
    pub address: u64,
    pub entries: u32,
    pub entry_size: u64,
}

/// What the kernel takes from the loader's boot information.
pub struct LoaderInfo {
    pub protocol: Protocol,
    /// Where the boot information structure is, and its size in bytes.
    pub address: u64,
    pub size: u64,
    /// PVH start_info version; Multiboot2 has none (0).
    pub version: u32,
    pub command_line_address: u64,
    pub command_line_length: usize,
    pub memory_map: MemoryMapTable,
    /// Physical address of the ACPI RSDP (or of the loader's copy of it), if given.
    pub rsdp: Option<u64>,
    /// The first boot module (PVH module list, Multiboot2 `module` tag): the initrd.
    pub initrd: Option<PhysicalRange>,
}

/// Why the loader's information is unusable.
pub enum LoaderError {
    /// Entered with a magic value of no protocol this image knows.
    UnknownLoader {
        magic: u32,
    },
    Pvh(pvh::StartInfoError),
    Multiboot2(multiboot2::InformationError),
    CommandLineNotAccessible {
        protocol: Protocol,
        address: u64,
    },
    CommandLineNotTerminated {
        protocol: Protocol,
        address: u64,
    },
}

impl LoaderError {
    /// The message, for the boot failure report.
    pub fn write(&self, out: &mut impl Write) {
        // \x01: the next value in hexadecimal, \x02: in decimal (report::Write::template).
        let (template, values): (&str, [u64; 2]) = match *self {
            Self::UnknownLoader { magic } => (
                "entered with loader magic \x01: neither PVH nor Multiboot2 (\x01) booted this \
                 image",
                [magic.into(), multiboot2::BOOTLOADER_MAGIC.into()],
            ),
            Self::Pvh(ref error) => return error.write(out),
            Self::Multiboot2(ref error) => return error.write(out),
            Self::CommandLineNotAccessible { protocol, address } => {
                out.text(protocol.name());
                (
                    " command line at \x01 is not in the first GiB of memory",
                    [address, 0],
                )
            }
            Self::CommandLineNotTerminated { protocol, address } => {
                out.text(protocol.name());
                (
                    " command line at \x01 has no NUL in its first \x02 bytes",
                    [address, COMMAND_LINE_LIMIT],
                )
            }
        };
        out.template(template, &values);
    }
}

/// Whether `[address, address + length)` lies inside the bootstrap identity map (the
/// first GiB, built by the entry code): the only memory readable at this point.
pub fn is_accessible(address: u64, length: u64) -> bool {
    address != 0
        && address
            .checked_add(length)
            .is_some_and(|end| end <= BOOTSTRAP_MAP_END)
}

/// Reads a little-endian value at a physical address.
///
/// # Safety
/// `[address, address + size_of::<T>())` must be mapped (see [`is_accessible`]).
pub unsafe fn read_physical<T: Copy>(address: u64) -> T {
    // SAFETY: mapped by the caller's contract; read_unaligned accepts any alignment.
    unsafe { core::ptr::read_unaligned(address as *const T) }
}

impl LoaderInfo {
    /// Reads the boot information at `address` that the loader identified by `magic`
    /// (the `%eax` value of the entry, the PVH magic for the PVH entry) left.
    ///
    /// # Safety
    /// Must run while the bootstrap identity map of the first GiB is active.
    pub unsafe fn read(address: u64, magic: u32) -> Result<Self, LoaderError> {
        // SAFETY: the bootstrap map is active (caller's contract).
        unsafe {
            match magic {
                pvh::START_INFO_MAGIC => pvh::read(address),
                multiboot2::BOOTLOADER_MAGIC => multiboot2::read(address),
                _ => Err(LoaderError::UnknownLoader { magic }),
            }
        }
    }

    /// The command line without its NUL, in the loader's memory: valid only while the
    /// bootstrap map is active (the boot path copies it before switching tables).
    pub fn command_line(&self) -> &[u8] {
        if self.command_line_length == 0 {
            return &[];
        }
        // SAFETY: `read` found these bytes identity mapped; a LoaderInfo is only used
        // before the final page tables replace that map.
        unsafe {
            core::slice::from_raw_parts(
                self.command_line_address as *const u8,
                self.command_line_length,
            )
        }
    }

    /// The memory map entries: (range, type).
    pub fn memory_map(&self) -> impl Iterator<Item = (PhysicalRange, u32)> + '_ {
        let table = &self.memory_map;
        (0..u64::from(table.entries)).map(move |index| {
            let entry = table.address + index * table.entry_size;
            // SAFETY: `read` checked that the whole table is identity mapped; callers use
            // the LoaderInfo only before the final page tables replace that map.
            let (start, size, kind) = unsafe {
                (
                    read_physical::<u64>(entry),
                    read_physical::<u64>(entry + 8),
                    read_physical::<u32>(entry + 16),
                )
            };
            (
                PhysicalRange {
                    start,
                    end: start.saturating_add(size),
                },
                kind,
            )
        })
    }

    /// The RAM ranges of the memory map.
    pub fn ram_map(&self) -> RamMap {
        let mut ram = RamMap::new();
        for (range, kind) in self.memory_map() {
            if kind == MEMORY_TYPE_RAM {
                ram.add(range);
            }
        }
        ram
    }

    /// Where the information structure is: the boot path must not overwrite it before
    /// it has read it.
    pub fn information(&self) -> PhysicalRange {
        PhysicalRange {
            start: self.address,
            end: self.address.saturating_add(self.size),
        }
    }
}

/// Name of a memory map entry type (E820 / `XEN_HVM_MEMMAP_TYPE_*` / Multiboot2), for
/// the boot log.
pub fn memory_type_name(kind: u32) -> &'static str {
    match kind {
        1 => "RAM",
        2 => "reserved",
        3 => "ACPI tables",
        4 => "ACPI NVS",
        5 => "unusable",
        6 => "disabled",
        7 => "persistent memory",
        _ => "unknown",
    }
}

/// The length of the NUL-terminated command line at `address` (0: none).
///
/// # Safety
/// The bootstrap identity map of the first GiB must be active.
pub unsafe fn command_line_length(protocol: Protocol, address: u64) -> Result<usize, LoaderError> {
    if address == 0 {
        return Ok(0);
    }
    let mut length = 0;
    loop {
        if length == COMMAND_LINE_LIMIT {
            return Err(LoaderError::CommandLineNotTerminated { protocol, address });
        }
        if !is_accessible(address + length, 1) {
            return Err(LoaderError::CommandLineNotAccessible { protocol, address });
        }
        // SAFETY: the byte is identity mapped (checked just above).
        let byte: u8 = unsafe { read_physical(address + length) };
        if byte == 0 {
            return Ok(length as usize);
        }
        length += 1;
    }
}
