//! The PVH boot information (`hvm_start_info`), as the loader hands it over in %ebx.
//!
//! Layout from Xen `xen/include/public/arch-x86/hvm/start_info.h` (version 1):
//!
//! | offset | field | |
//! |---|---|---|
//! | 0  | u32 magic | `0x336ec578` |
//! | 4  | u32 version | 0 or 1 |
//! | 8  | u32 flags | |
//! | 12 | u32 nr_modules | |
//! | 16 | u64 modlist_paddr | |
//! | 24 | u64 cmdline_paddr | NUL-terminated, 0 when none |
//! | 32 | u64 rsdp_paddr | |
//! | 40 | u64 memmap_paddr | version 1 |
//! | 48 | u32 memmap_entries | version 1 |
//! | 52 | u32 reserved | |
//!
//! Memory map entry (`hvm_memmap_table_entry`, 24 bytes): u64 addr, u64 size, u32 type
//! (1 = RAM, as in the E820 table), u32 reserved.
//!
//! Module list entry (`hvm_modlist_entry`, 32 bytes): u64 paddr, u64 size, u64
//! cmdline_paddr, u64 reserved. QEMU passes its `-initrd` file as the first (only)
//! module; it is the boot archive.

use core::fmt;

use super::entry::BOOTSTRAP_MAP_END;
use crate::memory::{PhysicalRange, RamMap};

pub const START_INFO_MAGIC: u32 = 0x336e_c578;
const START_INFO_SIZE: u64 = 56;
const MEMORY_MAP_ENTRY_SIZE: u64 = 24;
const MEMORY_TYPE_RAM: u32 = 1;
const MODULE_ENTRY_SIZE: u64 = 32;
/// Longest command line accepted (Linux x86 allows 2048 bytes; QEMU passes whatever
/// `-append` says). Longer means the pointer is wrong or the line is not terminated.
const COMMAND_LINE_LIMIT: u64 = 64 * 1024;

/// What the kernel takes from `hvm_start_info`.
pub struct StartInfo {
    pub address: u64,
    pub version: u32,
    command_line_address: u64,
    command_line_length: usize,
    memory_map_address: u64,
    memory_map_entries: u32,
    /// The first module: the initrd.
    pub initrd: Option<PhysicalRange>,
}

/// Why the start info is unusable.
pub enum StartInfoError {
    NotAccessible { address: u64 },
    BadMagic { address: u64, magic: u32 },
    NoMemoryMap { version: u32, entries: u32 },
    MemoryMapNotAccessible { address: u64, entries: u32 },
    CommandLineNotAccessible { address: u64 },
    CommandLineNotTerminated { address: u64 },
    ModuleListNotAccessible { address: u64, modules: u32 },
    ModuleOutOfRange { address: u64, size: u64 },
}

impl fmt::Display for StartInfoError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAccessible { address } => write!(
                formatter,
                "PVH start_info at {address:#x} is not in the first GiB of memory \
                 (is this image booted by a PVH loader?)"
            ),
            Self::BadMagic { address, magic } => write!(
                formatter,
                "bad PVH start_info at {address:#x}: magic {magic:#x}, expected \
                 {START_INFO_MAGIC:#x} (the loader did not boot this image through PVH)"
            ),
            Self::NoMemoryMap { version, entries } => write!(
                formatter,
                "PVH start_info (version {version}) has no memory map ({entries} entries); \
                 version 1 with a memory map is required"
            ),
            Self::MemoryMapNotAccessible { address, entries } => write!(
                formatter,
                "PVH memory map at {address:#x} ({entries} entries) is not in the first GiB \
                 of memory"
            ),
            Self::CommandLineNotAccessible { address } => write!(
                formatter,
                "PVH command line at {address:#x} is not in the first GiB of memory"
            ),
            Self::CommandLineNotTerminated { address } => write!(
                formatter,
                "PVH command line at {address:#x} has no NUL in its first \
                 {COMMAND_LINE_LIMIT} bytes"
            ),
            Self::ModuleListNotAccessible { address, modules } => write!(
                formatter,
                "PVH module list at {address:#x} ({modules} modules) is not in the first GiB \
                 of memory"
            ),
            Self::ModuleOutOfRange { address, size } => write!(
                formatter,
                "PVH module (the initrd) at {address:#x} of {size} bytes goes past the end \
                 of the address space"
            ),
        }
    }
}

/// Whether `[address, address + length)` lies inside the bootstrap identity map (the
/// first GiB, built by the entry code): the only memory readable at this point.
fn is_accessible(address: u64, length: u64) -> bool {
    address != 0
        && address
            .checked_add(length)
            .is_some_and(|end| end <= BOOTSTRAP_MAP_END)
}

/// Reads a little-endian value at a physical address.
///
/// # Safety
/// `[address, address + size_of::<T>())` must be mapped (see [`is_accessible`]).
unsafe fn read_physical<T: Copy>(address: u64) -> T {
    // SAFETY: mapped by the caller's contract; read_unaligned accepts any alignment.
    unsafe { core::ptr::read_unaligned(address as *const T) }
}

impl StartInfo {
    /// Validates and reads the start info the loader left at `address`.
    ///
    /// # Safety
    /// Must run while the bootstrap identity map of the first GiB is active.
    pub unsafe fn read(address: u64) -> Result<Self, StartInfoError> {
        if !is_accessible(address, START_INFO_SIZE) {
            return Err(StartInfoError::NotAccessible { address });
        }
        // SAFETY: the 56 bytes of the structure are identity mapped (checked just
        // above; the caller keeps the bootstrap map active).
        let magic: u32 = unsafe { read_physical(address) };
        if magic != START_INFO_MAGIC {
            return Err(StartInfoError::BadMagic { address, magic });
        }
        // SAFETY: as above.
        let version: u32 = unsafe { read_physical(address + 4) };
        // SAFETY: as above.
        let command_line_address: u64 = unsafe { read_physical(address + 24) };
        let (memory_map_address, memory_map_entries) = if version >= 1 {
            // SAFETY: as above; version 1 has these fields.
            unsafe {
                (
                    read_physical::<u64>(address + 40),
                    read_physical::<u32>(address + 48),
                )
            }
        } else {
            (0, 0)
        };
        if memory_map_entries == 0 {
            return Err(StartInfoError::NoMemoryMap {
                version,
                entries: memory_map_entries,
            });
        }
        if !is_accessible(
            memory_map_address,
            u64::from(memory_map_entries) * MEMORY_MAP_ENTRY_SIZE,
        ) {
            return Err(StartInfoError::MemoryMapNotAccessible {
                address: memory_map_address,
                entries: memory_map_entries,
            });
        }
        // SAFETY: the bootstrap map is active (caller's contract).
        let command_line_length = unsafe { command_line_length(command_line_address)? };
        // SAFETY: as above.
        let initrd = unsafe { first_module(address)? };
        Ok(Self {
            address,
            version,
            command_line_address,
            command_line_length,
            memory_map_address,
            memory_map_entries,
            initrd,
        })
    }

    /// The command line without its NUL, in the loader's memory: valid only while the
    /// bootstrap map is active (the boot path copies it before switching tables).
    pub fn command_line(&self) -> &[u8] {
        if self.command_line_length == 0 {
            return &[];
        }
        // SAFETY: `read` found these bytes identity mapped; a StartInfo is only used
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
        (0..u64::from(self.memory_map_entries)).map(move |index| {
            let entry = self.memory_map_address + index * MEMORY_MAP_ENTRY_SIZE;
            // SAFETY: `read` checked that the whole table is identity mapped; callers use
            // the StartInfo only before the final page tables replace that map.
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
}

/// Name of a memory map entry type (E820 / `XEN_HVM_MEMMAP_TYPE_*`), for the boot log.
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

/// The first module of the start info at `address` (whose 56 bytes are accessible), or
/// `None` when there is none or it is empty.
///
/// # Safety
/// The bootstrap identity map of the first GiB must be active.
unsafe fn first_module(address: u64) -> Result<Option<PhysicalRange>, StartInfoError> {
    // SAFETY: inside the start info, which the caller checked is mapped.
    let (modules, list) = unsafe {
        (
            read_physical::<u32>(address + 12),
            read_physical::<u64>(address + 16),
        )
    };
    if modules == 0 {
        return Ok(None);
    }
    if !is_accessible(list, MODULE_ENTRY_SIZE) {
        return Err(StartInfoError::ModuleListNotAccessible {
            address: list,
            modules,
        });
    }
    // SAFETY: the first entry is identity mapped (checked just above).
    let (start, size) = unsafe { (read_physical::<u64>(list), read_physical::<u64>(list + 8)) };
    let end = start
        .checked_add(size)
        .ok_or(StartInfoError::ModuleOutOfRange {
            address: start,
            size,
        })?;
    Ok((size > 0).then_some(PhysicalRange { start, end }))
}

/// The length of the NUL-terminated command line at `address` (0: none).
///
/// # Safety
/// The bootstrap identity map of the first GiB must be active.
unsafe fn command_line_length(address: u64) -> Result<usize, StartInfoError> {
    if address == 0 {
        return Ok(0);
    }
    let mut length = 0;
    loop {
        if length == COMMAND_LINE_LIMIT {
            return Err(StartInfoError::CommandLineNotTerminated { address });
        }
        if !is_accessible(address + length, 1) {
            return Err(StartInfoError::CommandLineNotAccessible { address });
        }
        // SAFETY: the byte is identity mapped (checked just above).
        let byte: u8 = unsafe { read_physical(address + length) };
        if byte == 0 {
            return Ok(length as usize);
        }
        length += 1;
    }
}
