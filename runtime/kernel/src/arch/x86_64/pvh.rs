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

use super::loader::{
    LoaderError, LoaderInfo, MemoryMapTable, Protocol, command_line_length, is_accessible,
    read_physical,
};
use crate::memory::PhysicalRange;
use crate::report::Write;

pub const START_INFO_MAGIC: u32 = 0x336e_c578;
const START_INFO_SIZE: u64 = 56;
const MEMORY_MAP_ENTRY_SIZE: u64 = 24;
const MODULE_ENTRY_SIZE: u64 = 32;

/// Why the start info is unusable.
pub enum StartInfoError {
    NotAccessible { address: u64 },
    BadMagic { address: u64, magic: u32 },
    NoMemoryMap { version: u32, entries: u32 },
    MemoryMapNotAccessible { address: u64, entries: u32 },
    ModuleListNotAccessible { address: u64, modules: u32 },
    ModuleOutOfRange { address: u64, size: u64 },
}

impl StartInfoError {
    /// The message, for the boot failure report.
    pub fn write(&self, out: &mut impl Write) {
        // \x01: the next value in hexadecimal, \x02: in decimal (report::Write::template).
        let (template, values): (&str, [u64; 3]) = match *self {
            Self::NotAccessible { address } => (
                "PVH start_info at \x01 is not in the first GiB of memory \
                 (is this image booted by a PVH loader?)",
                [address, 0, 0],
            ),
            Self::BadMagic { address, magic } => (
                "bad PVH start_info at \x01: magic \x01, expected \x01 \
                 (the loader did not boot this image through PVH)",
                [address, magic.into(), START_INFO_MAGIC.into()],
            ),
            Self::NoMemoryMap { version, entries } => (
                "PVH start_info (version \x02) has no memory map (\x02 entries); \
                 version 1 with a memory map is required",
                [version.into(), entries.into(), 0],
            ),
            Self::MemoryMapNotAccessible { address, entries } => (
                "PVH memory map at \x01 (\x02 entries) is not in the first GiB of memory",
                [address, entries.into(), 0],
            ),
            Self::ModuleListNotAccessible { address, modules } => (
                "PVH module list at \x01 (\x02 modules) is not in the first GiB of memory",
                [address, modules.into(), 0],
            ),
            Self::ModuleOutOfRange { address, size } => (
                "PVH module (the initrd) at \x01 of \x02 bytes goes past the end of the \
                 address space",
                [address, size, 0],
            ),
        };
        out.template(template, &values);
    }
}

/// Validates and reads the start info the loader left at `address`.
///
/// # Safety
/// Must run while the bootstrap identity map of the first GiB is active.
pub unsafe fn read(address: u64) -> Result<LoaderInfo, LoaderError> {
    let fail = |error| Err(LoaderError::Pvh(error));
    if !is_accessible(address, START_INFO_SIZE) {
        return fail(StartInfoError::NotAccessible { address });
    }
    // SAFETY: the 56 bytes of the structure are identity mapped (checked just above;
    // the caller keeps the bootstrap map active).
    let magic: u32 = unsafe { read_physical(address) };
    if magic != START_INFO_MAGIC {
        return fail(StartInfoError::BadMagic { address, magic });
    }
    // SAFETY: as above.
    let version: u32 = unsafe { read_physical(address + 4) };
    // SAFETY: as above.
    let command_line_address: u64 = unsafe { read_physical(address + 24) };
    // SAFETY: as above.
    let rsdp: u64 = unsafe { read_physical(address + 32) };
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
        return fail(StartInfoError::NoMemoryMap {
            version,
            entries: memory_map_entries,
        });
    }
    if !is_accessible(
        memory_map_address,
        u64::from(memory_map_entries) * MEMORY_MAP_ENTRY_SIZE,
    ) {
        return fail(StartInfoError::MemoryMapNotAccessible {
            address: memory_map_address,
            entries: memory_map_entries,
        });
    }
    // SAFETY: the bootstrap map is active (caller's contract).
    let command_line_length = unsafe { command_line_length(Protocol::Pvh, command_line_address)? };
    // SAFETY: as above.
    let initrd = unsafe { first_module(address) }.map_err(LoaderError::Pvh)?;
    Ok(LoaderInfo {
        protocol: Protocol::Pvh,
        address,
        size: START_INFO_SIZE,
        version,
        command_line_address,
        command_line_length,
        memory_map: MemoryMapTable {
            address: memory_map_address,
            entries: memory_map_entries,
            entry_size: MEMORY_MAP_ENTRY_SIZE,
        },
        rsdp: (rsdp != 0).then_some(rsdp),
        initrd,
    })
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
