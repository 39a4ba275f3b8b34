//! The Multiboot2 boot information (GRUB), as the loader hands it over in %ebx with
//! %eax = [`BOOTLOADER_MAGIC`].
//!
//! Layout from the Multiboot2 specification 2.0, 3.6 "Boot information format": an
//! 8-byte aligned structure `u32 total_size, u32 reserved`, then tags, each 8-byte
//! aligned: `u32 type, u32 size` (size without the padding), ending with a tag of type
//! 0 and size 8. The tags read here:
//!
//! | type | tag | fields |
//! |---|---|---|
//! | 1 | boot command line | NUL-terminated string at +8 |
//! | 3 | module | u32 mod_start, u32 mod_end, string |
//! | 6 | memory map | u32 entry_size, u32 entry_version, entries at +16: u64 base, u64 length, u32 type (1 = available) |
//! | 8 | framebuffer info (3.6.12) | u64 address, u32 pitch, u32 width, u32 height, u8 bpp, u8 type (1 RGB, 2 EGA text), u16 reserved; RGB: u8 position and u8 size of red, green, blue at +32 |
//! | 14 | ACPI old RSDP | a copy of the RSDP (ACPI 1.0) at +8 |
//! | 15 | ACPI new RSDP | a copy of the RSDP (ACPI 2.0+) at +8 |

use super::loader::{
    LoaderError, LoaderInfo, MemoryMapTable, Protocol, command_line_length, is_accessible,
    read_physical,
};
use crate::boot_cell::BootCell;
use crate::framebuffer::{Channel, Format, Framebuffer};
use crate::memory::PhysicalRange;
use crate::report::Write;

/// The Multiboot2 header's magic (3.1.2), in the image.
pub const HEADER_MAGIC: u32 = 0xe852_50d6;
/// What a Multiboot2 loader leaves in %eax (3.3).
pub const BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

const TAG_END: u32 = 0;
const TAG_COMMAND_LINE: u32 = 1;
const TAG_MODULE: u32 = 3;
const TAG_MEMORY_MAP: u32 = 6;
const TAG_FRAMEBUFFER: u32 = 8;
/// Framebuffer types (3.6.12): direct RGB, EGA text.
const FRAMEBUFFER_TYPE_RGB: u8 = 1;
const FRAMEBUFFER_TYPE_TEXT: u8 = 2;
const TAG_ACPI_OLD: u32 = 14;
const TAG_ACPI_NEW: u32 = 15;
/// A memory map entry is at least `u64 base, u64 length, u32 type, u32 reserved`.
const MEMORY_MAP_ENTRY_MINIMUM: u64 = 24;
/// Far more than any loader writes: a larger total size means a bad pointer.
const INFORMATION_LIMIT: u64 = 1024 * 1024;

/// Why the Multiboot2 information is unusable.
pub enum InformationError {
    NotAccessible { address: u64, size: u64 },
    Misaligned { address: u64 },
    BadTag { address: u64, kind: u32, size: u32 },
    NoEndTag { address: u64 },
    NoMemoryMap,
    BadMemoryMap { entry_size: u32 },
}

impl InformationError {
    /// The message, for the boot failure report.
    pub fn write(&self, out: &mut impl Write) {
        // \x01: the next value in hexadecimal, \x02: in decimal (report::Write::template).
        let (template, values): (&str, [u64; 3]) = match *self {
            Self::NotAccessible { address, size } => (
                "Multiboot2 information at \x01 (\x02 bytes) is not in the first GiB of memory \
                 or has an impossible size",
                [address, size, 0],
            ),
            Self::Misaligned { address } => (
                "Multiboot2 information at \x01 is not 8-byte aligned",
                [address, 0, 0],
            ),
            Self::BadTag {
                address,
                kind,
                size,
            } => (
                "Multiboot2 tag at \x01 (type \x02, size \x02) runs past the end of the \
                 information",
                [address, kind.into(), size.into()],
            ),
            Self::NoEndTag { address } => (
                "Multiboot2 information at \x01 has no end tag",
                [address, 0, 0],
            ),
            Self::NoMemoryMap => (
                "the Multiboot2 information has no memory map tag (type 6)",
                [0; 3],
            ),
            Self::BadMemoryMap { entry_size } => (
                "Multiboot2 memory map entries of \x02 bytes (at least \x02 expected)",
                [entry_size.into(), MEMORY_MAP_ENTRY_MINIMUM, 0],
            ),
        };
        out.template(template, &values);
    }
}

/// Validates and reads the information structure at `address`.
///
/// # Safety
/// Must run while the bootstrap identity map of the first GiB is active.
pub unsafe fn read(address: u64) -> Result<LoaderInfo, LoaderError> {
    let fail = |error| Err(LoaderError::Multiboot2(error));
    if !address.is_multiple_of(8) {
        return fail(InformationError::Misaligned { address });
    }
    if !is_accessible(address, 8) {
        return fail(InformationError::NotAccessible { address, size: 8 });
    }
    // SAFETY: the first 8 bytes are identity mapped (checked just above).
    let size = u64::from(unsafe { read_physical::<u32>(address) });
    if !(16..=INFORMATION_LIMIT).contains(&size) || !is_accessible(address, size) {
        return fail(InformationError::NotAccessible { address, size });
    }
    let end = address + size;
    let mut info = LoaderInfo {
        protocol: Protocol::Multiboot2,
        address,
        size,
        version: 0,
        command_line_address: 0,
        command_line_length: 0,
        memory_map: MemoryMapTable {
            address: 0,
            entries: 0,
            entry_size: MEMORY_MAP_ENTRY_MINIMUM,
        },
        rsdp: None,
        initrd: None,
    };
    let mut have_memory_map = false;
    let mut have_module = false;
    let mut tag = address + 8;
    loop {
        if tag + 8 > end {
            return fail(InformationError::NoEndTag { address });
        }
        // SAFETY: the tag header is inside the structure, which is identity mapped.
        let (kind, tag_size) =
            unsafe { (read_physical::<u32>(tag), read_physical::<u32>(tag + 4)) };
        if tag_size < 8 || tag + u64::from(tag_size) > end {
            return fail(InformationError::BadTag {
                address: tag,
                kind,
                size: tag_size,
            });
        }
        let tag_end = tag + u64::from(tag_size);
        match kind {
            TAG_END => break,
            TAG_COMMAND_LINE => info.command_line_address = tag + 8,
            TAG_MODULE if !have_module && tag_size >= 16 => {
                // SAFETY: inside the tag (size checked), identity mapped.
                let (start, module_end) = unsafe {
                    (
                        read_physical::<u32>(tag + 8),
                        read_physical::<u32>(tag + 12),
                    )
                };
                have_module = true;
                // An empty module is no initrd (as with PVH).
                info.initrd = (module_end > start).then_some(PhysicalRange {
                    start: u64::from(start),
                    end: u64::from(module_end),
                });
            }
            TAG_MEMORY_MAP if tag_size >= 16 => {
                // SAFETY: inside the tag (size checked), identity mapped.
                let entry_size = unsafe { read_physical::<u32>(tag + 8) };
                if u64::from(entry_size) < MEMORY_MAP_ENTRY_MINIMUM {
                    return fail(InformationError::BadMemoryMap { entry_size });
                }
                let entries = (tag_end - (tag + 16)) / u64::from(entry_size);
                info.memory_map = MemoryMapTable {
                    address: tag + 16,
                    entries: u32::try_from(entries).unwrap_or(u32::MAX),
                    entry_size: u64::from(entry_size),
                };
                have_memory_map = true;
            }
            // SAFETY: inside the tag, identity mapped; boot runs this once.
            TAG_FRAMEBUFFER => unsafe { keep_framebuffer_tag(tag, tag_size) },
            // The newer RSDP (with the XSDT) wins over the old one.
            TAG_ACPI_NEW => info.rsdp = Some(tag + 8),
            TAG_ACPI_OLD if info.rsdp.is_none() => info.rsdp = Some(tag + 8),
            _ => {}
        }
        // The next tag starts at the next 8-byte boundary.
        tag = (tag_end + 7) & !7;
    }
    if !have_memory_map || info.memory_map.entries == 0 {
        return fail(InformationError::NoMemoryMap);
    }
    // SAFETY: the bootstrap map is active (caller's contract).
    info.command_line_length =
        unsafe { command_line_length(Protocol::Multiboot2, info.command_line_address)? };
    Ok(info)
}

/// The framebuffer info tag's bytes after its header (up to [`FRAMEBUFFER_FIELDS`]
/// bytes, zeros after a shorter tag): copied at boot and decoded by [`framebuffer`],
/// which only the `framebuffer-console` component calls, so that other images carry
/// just this copy.
static FRAMEBUFFER_TAG: BootCell<Option<[u8; FRAMEBUFFER_FIELDS]>> = BootCell::new(None);
/// The fields [`framebuffer`] reads: through the RGB channels (the tag's byte 38).
const FRAMEBUFFER_FIELDS: usize = 30;

/// Keeps the framebuffer info tag at `tag` of `size` bytes.
///
/// # Safety
/// The tag's `size` bytes at `tag` must be identity mapped; called by the boot path,
/// before anything reads the copy.
unsafe fn keep_framebuffer_tag(tag: u64, size: u32) {
    let mut fields = [0u8; FRAMEBUFFER_FIELDS];
    let length = (size as usize).saturating_sub(8).min(FRAMEBUFFER_FIELDS);
    // SAFETY: `length` bytes from the tag's +8 are inside it (the caller's contract);
    // the boot path is the only writer of the copy, before any reader.
    unsafe {
        core::ptr::copy_nonoverlapping((tag + 8) as *const u8, fields.as_mut_ptr(), length);
        *FRAMEBUFFER_TAG.get_mut() = Some(fields);
    }
}

/// The framebuffer GRUB described (Multiboot2 3.6.12), None without a framebuffer
/// info tag or for a palette one. Offsets below are from the tag's start.
pub fn framebuffer() -> Option<Framebuffer> {
    // SAFETY: written once during boot, read after it.
    let fields = unsafe { *FRAMEBUFFER_TAG.get() }?;
    let byte = |offset: usize| fields[offset - 8];
    let word = |offset: usize| {
        u32::from_le_bytes([
            byte(offset),
            byte(offset + 1),
            byte(offset + 2),
            byte(offset + 3),
        ])
    };
    let format = match byte(29) {
        FRAMEBUFFER_TYPE_TEXT => Format::Text,
        FRAMEBUFFER_TYPE_RGB => {
            let channel = |offset: usize| Channel {
                position: byte(offset),
                size: byte(offset + 1),
            };
            Format::Rgb {
                red: channel(32),
                green: channel(34),
                blue: channel(36),
            }
        }
        _ => return None,
    };
    Some(Framebuffer {
        address: u64::from(word(8)) | u64::from(word(12)) << 32,
        pitch: word(16),
        width: word(20),
        height: word(24),
        bits_per_pixel: byte(28),
        format,
    })
}
