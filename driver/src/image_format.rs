//! `unikcc --format elf|image`: the file an image is written as.
//!
//! `elf` (the default) is the linked ELF itself: QEMU's `-kernel` loads its program
//! headers, Xen PVH and Multiboot2 loaders read it on x86_64.
//!
//! `image` (aarch64) is the **Linux arm64 Image** variant, the format Firecracker,
//! cloud-hypervisor and U-Boot's `booti` take (and QEMU's `-kernel` too): a flat copy
//! of the loaded memory behind a 64-byte header (Linux
//! `Documentation/arch/arm64/booting.rst`, "Call the kernel image"):
//!
//! | offset | field | value written here |
//! |---|---|---|
//! | 0 | code0 | `b <e_entry>`: the loader jumps to the Image's first byte |
//! | 4 | code1 | 0 |
//! | 8 | text_offset | where the Image starts above a 2 MiB aligned base |
//! | 16 | image_size | bytes from the Image's start to the end of .bss and the stacks |
//! | 24 | flags | bit 0 = 0 little endian, bits 1-2 = 1 4 KiB pages, bit 3 = 0 placed near the base of RAM |
//! | 32-55 | res2-res4 | 0 |
//! | 56 | magic | `ARM\x64` |
//! | 60 | res5 | 0 (no PE/COFF header: not an EFI application) |
//!
//! **Layout.** The linker scripts load the ELF and program headers at the first bytes
//! of the image (`__ehdr_start`, read by `getauxval(AT_PHDR)` and `dl_iterate_phdr`).
//! The Image header therefore goes in the 64 bytes *before* the link address rather
//! than over the ELF header: the Image starts at `load_address - 64`, so its
//! text_offset is `(load_address - 64) mod 2 MiB` (0x1fffc0 for the aarch64 target's
//! 0x40200000 on a RAM base of 0x40000000), and every byte after the header is where
//! the ELF would have put it. The booted program sees the same memory in both formats,
//! and the linker scripts need no change. The 64 header bytes land in the page below
//! the image, which the kernel never maps (runtime/kernel/README.md).
//!
//! The image is not relocatable: it runs at its link address, so the loader must put
//! it at text_offset above the 2 MiB aligned base 0x40000000 (QEMU `virt` does, and
//! U-Boot's `booti` with RAM there). Firecracker (RAM at 0x80000000) and
//! cloud-hypervisor (kernels at 0x40400000) load it elsewhere: it does not run there
//! yet (runtime/kernel/README.md, "The Linux arm64 Image variant").

use std::path::Path;

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};

use crate::error::{Error, Result};
use crate::target::TargetSpec;

/// Size of the arm64 Image header (booting.rst).
pub const IMAGE_HEADER_SIZE: u64 = 64;
/// The header's magic number, "ARM\x64", at offset 56.
pub const IMAGE_MAGIC: [u8; 4] = *b"ARM\x64";
const MAGIC_OFFSET: usize = 56;
/// Image bases are 2 MiB aligned; text_offset counts from such a base.
const BASE_ALIGNMENT: u64 = 2 * 1024 * 1024;
/// flags: bit 0 = 0 (little endian), bits 1-2 = 1 (4 KiB pages), bit 3 = 0 (the base
/// as close as possible to the start of RAM).
const FLAGS_LITTLE_ENDIAN_4K_PAGES: u64 = 1 << 1;
/// `b imm26` (Arm ARM C6.2.33): opcode 0b000101 in bits 31:26, a word offset of ±128 MiB.
const BRANCH_OPCODE: u32 = 0x1400_0000;
const BRANCH_RANGE: i64 = 1 << 27;

/// Why `unik explain` and `unik size` cannot read an Image: only loaded bytes are in
/// it, not the symbol table or the component record.
pub const NO_RECORD_IN_IMAGE: &str = "a Linux arm64 Image (unikcc --format image) keeps only \
    the loaded bytes, no symbols or component record: use the ELF (the same build without \
    --format image)";

/// The format `unikcc` writes the linked image in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// The linked ELF.
    #[default]
    Elf,
    /// The Linux arm64 Image variant (aarch64 only).
    Image,
}

impl OutputFormat {
    /// Parses `--format`'s value.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "elf" => Ok(OutputFormat::Elf),
            "image" => Ok(OutputFormat::Image),
            other => Err(Error::Usage(format!(
                "--format: unknown format `{other}` (expected elf or image)"
            ))),
        }
    }

    /// Checks that `spec` can be written in this format.
    pub fn check_target(self, spec: &TargetSpec) -> Result<()> {
        match self {
            OutputFormat::Elf => Ok(()),
            OutputFormat::Image if is_aarch64(spec) => Ok(()),
            OutputFormat::Image => Err(Error::Usage(format!(
                "--format image: the Linux arm64 Image format is for aarch64 images, not {} \
                 (an {} image boots as an ELF: drop --format, or use --target aarch64)",
                spec.name, spec.name
            ))),
        }
    }
}

fn is_aarch64(spec: &TargetSpec) -> bool {
    matches!(spec.arch, target_lexicon::Architecture::Aarch64(_))
}

/// Why an ELF cannot become an arm64 Image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageFormatError {
    #[error("not a 64-bit little-endian ELF file ({0})")]
    NotElf(String),
    #[error("an ELF file for machine {0}, not aarch64 (EM_AARCH64 = 183)")]
    NotAarch64(u16),
    #[error("no loadable segment (PT_LOAD)")]
    NoLoadableSegment,
    #[error("segment {index}: file bytes {offset:#x}+{size:#x} lie outside the file")]
    SegmentOutsideFile {
        index: usize,
        offset: u64,
        size: u64,
    },
    #[error("segment {index}: file size {file_size:#x} exceeds its memory size {memory_size:#x}")]
    FileLargerThanMemory {
        index: usize,
        file_size: u64,
        memory_size: u64,
    },
    #[error("segments {first} and {second} overlap in memory")]
    OverlappingSegments { first: usize, second: usize },
    #[error(
        "the image starts at {0:#x}: no room for the 64-byte Image header below it (at the target's image_header_address)"
    )]
    NoRoomForHeader(u64),
    #[error("the entry point {entry:#x} is out of a branch's reach from the header at {header:#x}")]
    EntryOutOfReach { entry: u64, header: u64 },
    #[error("the entry point {0:#x} is not 4-byte aligned")]
    MisalignedEntry(u64),
    #[error("the image spans {0:#x} bytes: too large for a flat Image")]
    TooLarge(u64),
}

/// One PT_LOAD, as the flat copy needs it.
struct Segment {
    index: usize,
    physical_address: u64,
    file_bytes: std::ops::Range<usize>,
    memory_size: u64,
}

/// True when `bytes` start with an arm64 Image header (the magic at offset 56).
pub fn is_arm64_image(bytes: &[u8]) -> bool {
    bytes.get(MAGIC_OFFSET..MAGIC_OFFSET + 4) == Some(&IMAGE_MAGIC[..])
}

/// The header's text_offset (0 if `bytes` is too short to hold one).
pub fn text_offset(bytes: &[u8]) -> u64 {
    bytes
        .get(8..16)
        .and_then(|field| field.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The text_offset `spec`'s Images carry.
pub fn expected_text_offset(spec: &TargetSpec) -> u64 {
    spec.image_header_address
        .unwrap_or(spec.load_address.saturating_sub(IMAGE_HEADER_SIZE))
        % BASE_ALIGNMENT
}

/// The arm64 Image for an aarch64 ELF executable (see the module documentation), its
/// header at `header_address` (a target's `image_header_address`), else in the 64
/// bytes below the image.
pub fn arm64_image(
    elf_bytes: &[u8],
    header_address: Option<u64>,
) -> std::result::Result<Vec<u8>, ImageFormatError> {
    let header = elf::FileHeader64::<object::LittleEndian>::parse(elf_bytes)
        .map_err(|error| ImageFormatError::NotElf(error.to_string()))?;
    let endian = header
        .endian()
        .map_err(|error| ImageFormatError::NotElf(error.to_string()))?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_AARCH64 {
        return Err(ImageFormatError::NotAarch64(machine.0));
    }
    let program_headers = header
        .program_headers(endian, elf_bytes)
        .map_err(|error| ImageFormatError::NotElf(error.to_string()))?;

    let mut segments = Vec::new();
    for (index, program_header) in program_headers.iter().enumerate() {
        if program_header.p_type(endian) != elf::PT_LOAD || program_header.p_memsz(endian) == 0 {
            continue;
        }
        let offset = program_header.p_offset(endian);
        let file_size = program_header.p_filesz(endian);
        let memory_size = program_header.p_memsz(endian);
        if file_size > memory_size {
            return Err(ImageFormatError::FileLargerThanMemory {
                index,
                file_size,
                memory_size,
            });
        }
        let outside = || ImageFormatError::SegmentOutsideFile {
            index,
            offset,
            size: file_size,
        };
        let start = usize::try_from(offset).map_err(|_| outside())?;
        let end = start
            .checked_add(usize::try_from(file_size).map_err(|_| outside())?)
            .filter(|&end| end <= elf_bytes.len())
            .ok_or_else(outside)?;
        // QEMU's ELF loader and the kernel's identity map both use the physical
        // address: that is where the bytes must be.
        segments.push(Segment {
            index,
            physical_address: program_header.p_paddr(endian),
            file_bytes: start..end,
            memory_size,
        });
    }
    segments.sort_by_key(|segment| segment.physical_address);
    for pair in segments.windows(2) {
        let end = pair[0]
            .physical_address
            .checked_add(pair[0].memory_size)
            .ok_or(ImageFormatError::TooLarge(u64::MAX))?;
        if end > pair[1].physical_address {
            return Err(ImageFormatError::OverlappingSegments {
                first: pair[0].index,
                second: pair[1].index,
            });
        }
    }
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Err(ImageFormatError::NoLoadableSegment);
    };
    let image_base = first.physical_address;
    let header_address = image_base
        .checked_sub(IMAGE_HEADER_SIZE)
        .map(|highest| {
            header_address.map_or(Some(highest), |wanted| {
                (wanted <= highest).then_some(wanted)
            })
        })
        .and_then(|address| address)
        .ok_or(ImageFormatError::NoRoomForHeader(image_base))?;
    let memory_end = last
        .physical_address
        .checked_add(last.memory_size)
        .ok_or(ImageFormatError::TooLarge(u64::MAX))?;
    let file_end = segments
        .iter()
        .map(|segment| segment.physical_address + segment.file_bytes.len() as u64)
        .max()
        .unwrap_or(image_base);
    // Bigger than any RAM the target maps (the bootstrap map covers 1 GiB).
    let file_length = file_end - header_address;
    if file_length > 1 << 30 {
        return Err(ImageFormatError::TooLarge(file_length));
    }

    let entry = header.e_entry(endian);
    if entry % 4 != 0 {
        return Err(ImageFormatError::MisalignedEntry(entry));
    }
    let displacement = i128::from(entry) - i128::from(header_address);
    if displacement < -i128::from(BRANCH_RANGE) || displacement >= i128::from(BRANCH_RANGE) {
        return Err(ImageFormatError::EntryOutOfReach {
            entry,
            header: header_address,
        });
    }
    // In range, so the word offset fits 26 bits (two's complement).
    let word_offset = (displacement / 4) as i64;
    let branch = BRANCH_OPCODE | (word_offset as u32 & 0x03ff_ffff);

    let mut image = vec![0u8; file_length as usize];
    image[0..4].copy_from_slice(&branch.to_le_bytes());
    // code1 (4..8) stays 0.
    let text_offset = header_address % BASE_ALIGNMENT;
    image[8..16].copy_from_slice(&text_offset.to_le_bytes());
    let image_size = memory_end - header_address;
    image[16..24].copy_from_slice(&image_size.to_le_bytes());
    image[24..32].copy_from_slice(&FLAGS_LITTLE_ENDIAN_4K_PAGES.to_le_bytes());
    // res2, res3, res4 (32..56) stay 0.
    image[MAGIC_OFFSET..MAGIC_OFFSET + 4].copy_from_slice(&IMAGE_MAGIC);
    // res5 (60..64) stays 0.
    for segment in &segments {
        let start = (segment.physical_address - header_address) as usize;
        let length = segment.file_bytes.len();
        image[start..start + length].copy_from_slice(&elf_bytes[segment.file_bytes.clone()]);
    }
    Ok(image)
}

/// Rewrites the ELF at `path` as an arm64 Image, atomically (the ELF stays if the
/// conversion fails).
pub fn rewrite_as_arm64_image(path: &Path, header_address: Option<u64>) -> Result<()> {
    let elf_bytes = std::fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    let image = arm64_image(&elf_bytes, header_address)
        .map_err(|error| Error::Usage(format!("{}: --format image: {error}", path.display())))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".unikcc-")
        .suffix(".tmp")
        .tempfile_in(&directory)
        .map_err(|source| Error::io("cannot create the output in", &directory, source))?;
    use std::io::Write;
    temporary
        .write_all(&image)
        .map_err(|source| Error::io("cannot write", temporary.path().to_path_buf(), source))?;
    // Keep the permissions the linker gave the ELF (executable).
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(temporary.path(), metadata.permissions());
    }
    temporary
        .persist(path)
        .map_err(|error| Error::io("cannot write", path, error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 aarch64 executable with the given (paddr, file bytes, memsz) segments.
    fn elf(machine: elf::Machine, entry: u64, segments: &[(u64, &[u8], u64)]) -> Vec<u8> {
        let header_size = 64usize;
        let entry_size = 56usize;
        let mut bytes = vec![0u8; header_size + entry_size * segments.len()];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2; // ELFCLASS64
        bytes[5] = 1; // ELFDATA2LSB
        bytes[6] = 1; // EV_CURRENT
        bytes[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        bytes[18..20].copy_from_slice(&machine.0.to_le_bytes());
        bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
        bytes[24..32].copy_from_slice(&entry.to_le_bytes());
        bytes[32..40].copy_from_slice(&(header_size as u64).to_le_bytes()); // e_phoff
        bytes[52..54].copy_from_slice(&(header_size as u16).to_le_bytes());
        bytes[54..56].copy_from_slice(&(entry_size as u16).to_le_bytes());
        bytes[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for (index, (address, data, memory_size)) in segments.iter().enumerate() {
            let offset = bytes.len() as u64;
            let at = header_size + entry_size * index;
            let entry = &mut bytes[at..at + entry_size];
            entry[0..4].copy_from_slice(&elf::PT_LOAD.0.to_le_bytes());
            entry[4..8].copy_from_slice(&5u32.to_le_bytes());
            entry[8..16].copy_from_slice(&offset.to_le_bytes());
            entry[16..24].copy_from_slice(&address.to_le_bytes());
            entry[24..32].copy_from_slice(&address.to_le_bytes());
            entry[32..40].copy_from_slice(&(data.len() as u64).to_le_bytes());
            entry[40..48].copy_from_slice(&memory_size.to_le_bytes());
            entry[48..56].copy_from_slice(&4096u64.to_le_bytes());
            bytes.extend_from_slice(data);
        }
        bytes
    }

    fn word(bytes: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap())
    }

    #[test]
    fn the_header_follows_booting_rst() {
        let elf = elf(
            elf::EM_AARCH64,
            0x4020_1000,
            &[
                (0x4020_0000, b"rodata", 0x1000),
                (0x4020_1000, b"text", 0x1000),
                (0x4020_2000, b"data", 0x5000),
            ],
        );
        let image = arm64_image(&elf, None).unwrap();
        assert!(is_arm64_image(&image));
        // b +0x1040: from the header at 0x401fffc0 to the entry at 0x40201000.
        assert_eq!(
            u32::from_le_bytes(image[0..4].try_into().unwrap()),
            0x1400_0000 | (0x1040 / 4)
        );
        assert_eq!(&image[4..8], &[0; 4]);
        assert_eq!(word(&image, 8), 0x1f_ffc0, "text_offset");
        assert_eq!(word(&image, 16), 0x40_207000 - 0x401f_ffc0, "image_size");
        assert_eq!(word(&image, 24), 0b010, "flags");
        assert_eq!(&image[32..56], &[0; 24]);
        assert_eq!(&image[56..60], b"ARM\x64");
        assert_eq!(&image[60..64], &[0; 4]);
        // The memory image behind it: each segment at its address, zeros between.
        assert_eq!(&image[64..70], b"rodata");
        assert_eq!(&image[70..64 + 0x1000], &vec![0u8; 0x1000 - 6][..]);
        assert_eq!(&image[64 + 0x1000..64 + 0x1004], b"text");
        assert_eq!(&image[64 + 0x2000..], b"data", "no .bss bytes in the file");
    }

    #[test]
    fn a_board_puts_the_header_at_its_load_address() {
        // raspi4b: linked at 0x81000, the firmware loads the file at 0x80000.
        let elf = elf(
            elf::EM_AARCH64,
            0x8_2000,
            &[(0x8_1000, b"rodata", 0x1000), (0x8_2000, b"text", 0x1000)],
        );
        let image = arm64_image(&elf, Some(0x8_0000)).unwrap();
        // b +0x2000: from the header at 0x80000 to the entry at 0x82000.
        assert_eq!(
            u32::from_le_bytes(image[0..4].try_into().unwrap()),
            0x1400_0000 | (0x2000 / 4)
        );
        assert_eq!(word(&image, 8), 0x8_0000, "text_offset");
        assert_eq!(word(&image, 16), 0x3000, "image_size");
        assert_eq!(
            &image[64..0x1000],
            &[0; 0x1000 - 64][..],
            "zeros up to the image"
        );
        assert_eq!(&image[0x1000..0x1006], b"rodata");
        assert_eq!(&image[0x2000..0x2004], b"text");
        // The header must fit below the image.
        assert_eq!(
            arm64_image(&elf, Some(0x8_0fc1)),
            Err(ImageFormatError::NoRoomForHeader(0x8_1000))
        );
        let spec = crate::target::TargetSpec::find("raspi4b").unwrap();
        assert_eq!(expected_text_offset(&spec), 0x8_0000);
        assert_eq!(text_offset(&image), 0x8_0000);
        assert_eq!(text_offset(b"short"), 0);
    }

    #[test]
    fn the_branch_encodes_backward_and_far_offsets() {
        let elf_bytes = elf(elf::EM_AARCH64, 0x4020_0000, &[(0x4020_0000, b"x", 1)]);
        let image = arm64_image(&elf_bytes, None).unwrap();
        assert_eq!(
            u32::from_le_bytes(image[0..4].try_into().unwrap()),
            0x1400_0010
        );
        let elf_bytes = elf(elf::EM_AARCH64, 0x4000_0000, &[(0x4020_0000, b"x", 1)]);
        let image = arm64_image(&elf_bytes, None).unwrap();
        // -0x1fffc0 bytes: -0x7fff0 words, in 26-bit two's complement.
        assert_eq!(
            u32::from_le_bytes(image[0..4].try_into().unwrap()),
            0x1400_0000 | (0x0400_0000 - 0x7fff0)
        );
        let far = elf(elf::EM_AARCH64, 0x4820_0000, &[(0x4020_0000, b"x", 1)]);
        assert_eq!(
            arm64_image(&far, None).unwrap_err().to_string(),
            "the entry point 0x48200000 is out of a branch's reach from the header at 0x401fffc0"
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_reasons() {
        assert!(matches!(
            arm64_image(b"not an elf", None),
            Err(ImageFormatError::NotElf(_))
        ));
        let x86 = elf(elf::EM_X86_64, 0x10_0000, &[(0x10_0000, b"x", 1)]);
        assert_eq!(
            arm64_image(&x86, None).unwrap_err().to_string(),
            "an ELF file for machine 62, not aarch64 (EM_AARCH64 = 183)"
        );
        let empty = elf(elf::EM_AARCH64, 0x4020_0000, &[]);
        assert_eq!(
            arm64_image(&empty, None).unwrap_err(),
            ImageFormatError::NoLoadableSegment
        );
        let overlapping = elf(
            elf::EM_AARCH64,
            0x4020_0000,
            &[(0x4020_0000, b"a", 0x2000), (0x4020_1000, b"b", 1)],
        );
        assert_eq!(
            arm64_image(&overlapping, None).unwrap_err().to_string(),
            "segments 0 and 1 overlap in memory"
        );
        let at_zero = elf(elf::EM_AARCH64, 0, &[(0, b"a", 1)]);
        assert_eq!(
            arm64_image(&at_zero, None).unwrap_err(),
            ImageFormatError::NoRoomForHeader(0)
        );
        let misaligned = elf(elf::EM_AARCH64, 0x4020_0002, &[(0x4020_0000, b"a", 1)]);
        assert_eq!(
            arm64_image(&misaligned, None).unwrap_err(),
            ImageFormatError::MisalignedEntry(0x4020_0002)
        );
        let mut truncated = elf(elf::EM_AARCH64, 0x4020_0000, &[(0x4020_0000, b"abcd", 4)]);
        truncated.truncate(truncated.len() - 2);
        assert!(matches!(
            arm64_image(&truncated, None),
            Err(ImageFormatError::SegmentOutsideFile { index: 0, .. })
        ));
    }

    #[test]
    fn formats_parse_and_only_aarch64_takes_an_image() {
        assert_eq!(OutputFormat::parse("elf").unwrap(), OutputFormat::Elf);
        assert_eq!(OutputFormat::parse("image").unwrap(), OutputFormat::Image);
        assert_eq!(
            OutputFormat::parse("bzimage").unwrap_err().to_string(),
            "--format: unknown format `bzimage` (expected elf or image)"
        );
        let aarch64 = TargetSpec::find("aarch64").unwrap();
        let x86_64 = TargetSpec::find("x86_64").unwrap();
        assert!(OutputFormat::Image.check_target(&aarch64).is_ok());
        assert!(OutputFormat::Elf.check_target(&x86_64).is_ok());
        assert_eq!(
            OutputFormat::Image
                .check_target(&x86_64)
                .unwrap_err()
                .to_string(),
            "--format image: the Linux arm64 Image format is for aarch64 images, not x86_64 \
             (an x86_64 image boots as an ELF: drop --format, or use --target aarch64)"
        );
    }

    #[test]
    fn explain_and_size_say_an_image_has_no_record() {
        let elf_bytes = elf(elf::EM_AARCH64, 0x4020_0000, &[(0x4020_0000, b"x", 1)]);
        let image = arm64_image(&elf_bytes, None).unwrap();
        let error = crate::explain::record_of(&image, Path::new("app.Image")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "app.Image: not an ELF image (a Linux arm64 Image (unikcc --format image) keeps \
             only the loaded bytes, no symbols or component record: use the ELF (the same \
             build without --format image))"
        );
    }

    proptest::proptest! {
        /// Whatever the bytes, the conversion returns an error or an Image, never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
            let _ = arm64_image(&bytes, None);
        }
    }
}
