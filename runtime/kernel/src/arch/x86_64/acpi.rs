//! Just enough ACPI to switch the machine off (S5) without QEMU's exit device: the
//! RSDP (from the loader, or found in the BIOS areas), the RSDT/XSDT, the FADT's PM1a
//! control block and reset register, and `SLP_TYPa` from the DSDT's `\_S5` package.
//! Read when first needed: the exit path (exit.rs) asks only where the machine has no
//! exit device, and a reboot; a plain `unik run` never does, so its boot does not parse
//! tables it would not use. The boot remembers where the RSDP is ([`remember`]; a copy
//! of it, as GRUB passes one inside its information, whose memory the heap reuses), and
//! the reading runs under the entry code's identity map of the first GiB
//! (`paging::with_bootstrap_identity_map`), where the tables are; the verbose boot log
//! reads them at boot.
//!
//! Spec: ACPI 6.4, 5.2.5 "Root System Description Pointer", 5.2.7 "RSDT", 5.2.8
//! "XSDT", 5.2.9 "FADT" (table 5.9: DSDT at 40, PM1a_CNT_BLK at 64, RESET_REG at 116,
//! RESET_VALUE at 128, X_DSDT at 140, X_PM1a_CNT_BLK at 172), 7.4.2 "\_Sx (System
//! States)", 20.2 "AML grammar" (NameOp 0x08, PackageOp 0x12, PkgLength, BytePrefix
//! 0x0a, ZeroOp 0x00, OneOp 0x01).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::loader::{is_accessible, read_physical};
use crate::boot_cell::BootCell;

/// The power-off and reset controls found at boot (0: none).
/// Bits 0..16: the PM1a control I/O port; bits 16..19: SLP_TYPa for S5; bit 31: found.
static POWER_OFF: AtomicU32 = AtomicU32::new(0);

/// The reset register found at boot (0: none). Bits 0..16: the I/O port; bits 16..24:
/// the value to write; bit 31: found.
static RESET: AtomicU32 = AtomicU32::new(0);

/// Whether the tables were read (by the boot log or the first question).
static DISCOVERED: AtomicBool = AtomicBool::new(false);

/// Where the RSDP is, as the boot found out: [`remember`] writes it, [`discover`]
/// reads it.
static RSDP: BootCell<RsdpSource> = BootCell::new(RsdpSource::None);

/// Where [`discover`] finds the RSDP.
#[derive(Clone, Copy)]
enum RsdpSource {
    /// Neither the loader nor (for a PVH loader) the BIOS areas offer one.
    None,
    /// The loader's RSDP: its address and a copy of its first 36 bytes (revision 2's
    /// length; a revision 0 one has 20, the rest is unused).
    Copy { address: u64, bytes: [u8; 36] },
    /// The loader's RSDP lies outside the first GiB: the tables cannot be read.
    Unreadable { address: u64 },
    /// A PC firmware put it in the BIOS areas: search them.
    SearchBios,
}

const FOUND: u32 = 1 << 31;
const SYSTEM_TABLE_HEADER_SIZE: u64 = 36;
/// Larger tables than this are taken for garbage (QEMU's DSDT is about 8 KiB).
const TABLE_LIMIT: u32 = 1024 * 1024;
/// Generic Address Structure address space: system I/O.
const ADDRESS_SPACE_IO: u8 = 1;
/// FADT flags bit 10: RESET_REG_SUP.
const RESET_REGISTER_SUPPORTED: u32 = 1 << 10;

/// Where the power-off happens: the PM1a control port and the S5 sleep type.
#[derive(Clone, Copy)]
pub struct PowerOff {
    pub control_port: u16,
    pub sleep_type: u16,
}

/// The machine's reset register, when the FADT names an I/O port one.
#[derive(Clone, Copy)]
pub struct Reset {
    pub port: u16,
    pub value: u8,
}

/// What the boot log says about ACPI.
pub enum Findings {
    NoRsdp,
    NoFadt {
        rsdp: u64,
    },
    Found {
        rsdp: u64,
        power_off: Option<PowerOff>,
        reset: Option<Reset>,
    },
}

/// Remembers where the RSDP is for [`discover`]: `rsdp` is the loader's; without it
/// the BIOS areas are searched when `search_bios` (a PC firmware put it there; PVH
/// loaders always pass theirs).
///
/// # Safety
/// Boot only, once, with the bootstrap identity map of the first GiB active.
pub unsafe fn remember(rsdp: Option<u64>, search_bios: bool) {
    let source = match rsdp {
        Some(address) if is_accessible(address, 36) => {
            // SAFETY: the range is in the bootstrap map (checked just above).
            let bytes = unsafe { read_physical(address) };
            RsdpSource::Copy { address, bytes }
        }
        Some(address) => RsdpSource::Unreadable { address },
        None if search_bios => RsdpSource::SearchBios,
        None => RsdpSource::None,
    };
    // SAFETY: boot writes the cell once, before anything reads it.
    unsafe { RSDP.as_ptr().write(source) };
}

/// Finds the FADT and the DSDT's `\_S5` and records the power-off controls and the
/// reset register, once (later calls find what the first did).
///
/// # Safety
/// The bootstrap identity map of the first GiB must be active (at boot, or inside
/// `paging::with_bootstrap_identity_map`), [`remember`] must have run, and nothing
/// else may run meanwhile (boot, or interrupts off).
pub unsafe fn discover() -> Findings {
    DISCOVERED.store(true, Ordering::Relaxed);
    // SAFETY: written once at boot (caller's contract), only read from here on.
    let (rsdp, bytes) = match unsafe { RSDP.as_ptr().read() } {
        RsdpSource::Copy { address, bytes } => (address, bytes),
        // SAFETY: the bootstrap map is active (caller's contract).
        RsdpSource::SearchBios => match unsafe { find_rsdp() } {
            // SAFETY: a found RSDP lies below 1 MiB, so its 36 bytes are in the
            // bootstrap map too.
            Some(address) => (address, unsafe { read_physical(address) }),
            None => return Findings::NoRsdp,
        },
        RsdpSource::Unreadable { address } => return Findings::NoFadt { rsdp: address },
        RsdpSource::None => return Findings::NoRsdp,
    };
    // SAFETY: the bootstrap map is active (caller's contract), for all reads below.
    unsafe {
        let Some(fadt) = find_table(&bytes, *b"FACP") else {
            return Findings::NoFadt { rsdp };
        };
        let fadt_length = read_physical::<u32>(fadt + 4);
        let field = |offset: u64, size: u64| u64::from(fadt_length) >= offset + size;
        let mut control_port = u64::from(read_physical::<u32>(fadt + 64));
        if field(172, 12) {
            let space = read_physical::<u8>(fadt + 172);
            let address = read_physical::<u64>(fadt + 176);
            if space == ADDRESS_SPACE_IO && address != 0 {
                control_port = address;
            }
        }
        let mut dsdt = u64::from(read_physical::<u32>(fadt + 40));
        if field(140, 8) {
            let extended = read_physical::<u64>(fadt + 140);
            if extended != 0 {
                dsdt = extended;
            }
        }
        let power_off = match (u16::try_from(control_port), sleep_type_s5(dsdt)) {
            (Ok(control_port), Some(sleep_type)) if control_port != 0 => Some(PowerOff {
                control_port,
                sleep_type,
            }),
            _ => None,
        };
        let mut reset = None;
        if field(128, 1) && read_physical::<u32>(fadt + 112) & RESET_REGISTER_SUPPORTED != 0 {
            let space = read_physical::<u8>(fadt + 116);
            let address = read_physical::<u64>(fadt + 120);
            let value = read_physical::<u8>(fadt + 128);
            if let (ADDRESS_SPACE_IO, Ok(port)) = (space, u16::try_from(address)) {
                reset = Some(Reset { port, value });
                RESET.store(
                    FOUND | u32::from(value) << 16 | u32::from(port),
                    Ordering::Relaxed,
                );
            }
        }
        if let Some(found) = power_off {
            POWER_OFF.store(
                FOUND | u32::from(found.sleep_type & 7) << 16 | u32::from(found.control_port),
                Ordering::Relaxed,
            );
        }
        Findings::Found {
            rsdp,
            power_off,
            reset,
        }
    }
}

/// Reads the tables if nothing did yet, under the bootstrap identity map.
fn discover_once() {
    if !DISCOVERED.load(Ordering::Relaxed) {
        // SAFETY: `remember` ran at boot (before anything can end the run); the
        // window swaps the identity map with interrupts off, and the reading touches
        // only the first GiB, the image and the stack.
        unsafe { super::paging::with_bootstrap_identity_map(|| discover()) };
    }
}

/// The power-off controls [`discover`] found (reading the tables on first use).
pub fn power_off_controls() -> Option<PowerOff> {
    discover_once();
    let value = POWER_OFF.load(Ordering::Relaxed);
    (value & FOUND != 0).then_some(PowerOff {
        control_port: value as u16,
        sleep_type: ((value >> 16) & 7) as u16,
    })
}

/// The reset register [`discover`] found (FADT RESET_REG in I/O space), reading the
/// tables on first use.
pub fn reset_register() -> Option<Reset> {
    discover_once();
    let value = RESET.load(Ordering::Relaxed);
    (value & FOUND != 0).then_some(Reset {
        port: value as u16,
        value: (value >> 16) as u8,
    })
}

/// Whether `length` bytes at `address` are mapped and sum to 0 (mod 256).
///
/// # Safety
/// The bootstrap identity map must be active.
unsafe fn checksum_ok(address: u64, length: u64) -> bool {
    if !is_accessible(address, length) {
        return false;
    }
    let mut sum = 0u8;
    for offset in 0..length {
        // SAFETY: inside the range just checked.
        sum = sum.wrapping_add(unsafe { read_physical::<u8>(address + offset) });
    }
    sum == 0
}

/// Searches the first KiB of the EBDA and the BIOS ROM area 0xe0000-0xfffff, on
/// 16-byte boundaries, for "RSD PTR " with a valid checksum (ACPI 6.4, 5.2.5.1).
///
/// # Safety
/// The bootstrap identity map must be active.
unsafe fn find_rsdp() -> Option<u64> {
    // SAFETY: the BIOS data area word at 0x40e is identity mapped (first GiB).
    let ebda = u64::from(unsafe { read_physical::<u16>(0x40e) }) << 4;
    let areas = [(ebda, ebda + 1024), (0xe0000, 0x100000)];
    for (start, end) in areas {
        if start < 0x400 {
            continue;
        }
        let mut address = start;
        while address + 20 <= end {
            // SAFETY: below 1 MiB, identity mapped.
            if unsafe { read_physical::<[u8; 8]>(address) } == *b"RSD PTR "
                // SAFETY: as above.
                && unsafe { checksum_ok(address, 20) }
            {
                return Some(address);
            }
            address += 16;
        }
    }
    None
}

/// The address of the system description table with `signature`, from the XSDT
/// (revision 2 RSDP) or the RSDT; `rsdp` holds the RSDP's first 36 bytes.
///
/// # Safety
/// The bootstrap identity map must be active.
unsafe fn find_table(rsdp: &[u8; 36], signature: [u8; 4]) -> Option<u64> {
    let word = |offset: usize, bytes: usize| {
        let mut value = [0; 8];
        value[..bytes].copy_from_slice(&rsdp[offset..offset + bytes]);
        u64::from_le_bytes(value)
    };
    // SAFETY: all reads are of ranges checked with is_accessible first.
    unsafe {
        let revision = rsdp[15];
        let xsdt = if revision >= 2 { word(24, 8) } else { 0 };
        let (root, entry_size) = if xsdt != 0 {
            (xsdt, 8)
        } else {
            (word(16, 4), 4)
        };
        let root_length = table_length(root)?;
        let entries = (root_length - SYSTEM_TABLE_HEADER_SIZE) / entry_size;
        (0..entries).find_map(|index| {
            let slot = root + SYSTEM_TABLE_HEADER_SIZE + index * entry_size;
            let table = if entry_size == 8 {
                read_physical::<u64>(slot)
            } else {
                u64::from(read_physical::<u32>(slot))
            };
            (is_accessible(table, SYSTEM_TABLE_HEADER_SIZE)
                && read_physical::<[u8; 4]>(table) == signature)
                .then_some(table)
        })
    }
}

/// The length of the table at `address` when its header is mapped, its length
/// plausible and its checksum right.
///
/// # Safety
/// The bootstrap identity map must be active.
unsafe fn table_length(address: u64) -> Option<u64> {
    if !is_accessible(address, SYSTEM_TABLE_HEADER_SIZE) {
        return None;
    }
    // SAFETY: the header is mapped (checked just above).
    let length = unsafe { read_physical::<u32>(address + 4) };
    if !(36..=TABLE_LIMIT).contains(&length) {
        return None;
    }
    // SAFETY: the bootstrap map is active (caller's contract).
    unsafe { checksum_ok(address, u64::from(length)) }.then_some(u64::from(length))
}

/// SLP_TYPa of `\_S5` in the DSDT's AML: `NameOp "_S5_" PackageOp PkgLength
/// NumElements <SLP_TYPa> …`, the value a byte constant (`0x0a n`), Zero or One.
///
/// # Safety
/// The bootstrap identity map must be active.
unsafe fn sleep_type_s5(dsdt: u64) -> Option<u16> {
    // SAFETY: the table's bytes are mapped once table_length accepted it.
    unsafe {
        let length = table_length(dsdt)?;
        let aml = core::slice::from_raw_parts(dsdt as *const u8, length as usize);
        let body = &aml[SYSTEM_TABLE_HEADER_SIZE as usize..];
        let at = body.windows(4).position(|window| window == b"_S5_")?;
        // The name must be defined here (NameOp, possibly with a root prefix `\`),
        // not merely referred to.
        let defined = match at {
            0 => false,
            1 => body[0] == 0x08,
            _ => body[at - 1] == 0x08 || (body[at - 1] == b'\\' && body[at - 2] == 0x08),
        };
        if !defined {
            return None;
        }
        let package = body.get(at + 4..)?;
        if *package.first()? != 0x12 {
            return None;
        }
        // PkgLength: bits 6-7 of the lead byte count the bytes that follow it.
        let length_bytes = usize::from(package.get(1)? >> 6);
        let element = package.get(2 + length_bytes + 1..)?;
        match *element.first()? {
            0x0a => element.get(1).map(|&value| u16::from(value)),
            0x00 => Some(0),
            0x01 => Some(1),
            _ => None,
        }
    }
}
