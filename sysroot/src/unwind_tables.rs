//! The runtime's unwind tables, cut down to the unwinder's own frames.
//!
//! Nothing unwinds through the runtime but its unwinder: the runtime is built with
//! `panic = "abort"`, crash reports walk frame pointers, and Rust std catches a panic
//! before it could leave `main` or a thread's start function. The unwinder itself
//! (the `unwinding` crate's `_Unwind_RaiseException`, `_Unwind_Backtrace`, …) is the
//! exception: it captures its own registers and walks out of its own frames first, so
//! those need their `.eh_frame` records. rustc writes a record for every function of
//! the runtime's LTO module (`-C force-unwind-tables=no` notwithstanding: the
//! prebuilt `core` merged into it carries debug information, and LLVM then writes CFI
//! for every function into the one `.eh_frame`), about 15 KiB of every Rust image.
//!
//! LLD merges all `.eh_frame` inputs into one synthetic section before the linker
//! script applies, so neither a script nor a flag can drop one archive's records.
//! So the installed `libunik.a` carries compacted `.eh_frame` sections, rewritten in
//! place (no offset in the archive moves, its symbol index stays valid): the CIEs and
//! the FDEs of the unwinder's functions move to the front, with their CIE pointers
//! and relocations adjusted, then comes the zero terminator (LSB 5.0, "The .eh_frame
//! section": readers stop there; so does LLD), then zeros. The relocations of the
//! dropped FDEs become `R_*_NONE` (type 0 on both targets) at the terminator.

use object::elf;
use object::read::archive::ArchiveFile;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::{Endianness, LittleEndian as LE, U64};

/// Whether an FDE describing the function named `name` (the function's symbol, or
/// for a section symbol the section's name, `.text.<symbol>`) is kept: the unwinder's
/// functions are walked through when it unwinds.
pub fn is_unwinder_function(name: &str) -> bool {
    name.contains("unwinding") || name.contains("_Unwind_")
}

/// What [`compact_archive`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compacted {
    /// FDEs dropped, over all members.
    pub dropped: usize,
    /// FDEs kept (the unwinder's).
    pub kept: usize,
}

/// Compacts the `.eh_frame` sections of the archive's 64-bit little-endian ELF
/// relocatable members (module docs). Members it cannot read as such, or whose
/// `.eh_frame` it does not understand (64-bit DWARF lengths, REL relocations, a
/// dangling CIE pointer), stay as they are.
pub fn compact_archive(bytes: &mut [u8]) -> Result<Compacted, String> {
    let archive =
        ArchiveFile::parse(&*bytes).map_err(|error| format!("not an archive: {error}"))?;
    let mut ranges = Vec::new();
    for member in archive.members() {
        let member = member.map_err(|error| format!("corrupt archive member: {error}"))?;
        let (start, size) = member.file_range();
        if let (Ok(start), Ok(size)) = (usize::try_from(start), usize::try_from(size))
            && start
                .checked_add(size)
                .is_some_and(|end| end <= bytes.len())
        {
            ranges.push((start, size));
        }
    }
    let mut total = Compacted::default();
    for (start, size) in ranges {
        let member = &mut bytes[start..start + size];
        if let Some(plan) = plan_member(member) {
            total.dropped += plan.dropped;
            total.kept += plan.kept;
            plan.apply(member);
        }
    }
    Ok(total)
}

/// One relocation of `.rela.eh_frame`: where its entry is in the member, and its
/// fields.
#[derive(Debug, Clone, Copy)]
struct Rela {
    entry: usize,
    offset: u64,
    info: u64,
    addend: i64,
}

/// A record of `.eh_frame`: start offset, length including the length field, and for
/// an FDE the offset of its CIE.
#[derive(Debug, Clone, Copy)]
struct Record {
    start: usize,
    size: usize,
    cie: Option<usize>,
}

/// The rewrite of one member.
#[derive(Debug)]
struct Plan {
    /// The new `.eh_frame` bytes (same length) and where they go in the member.
    eh_frame_at: usize,
    eh_frame: Vec<u8>,
    /// The new relocation entries, in order, and where the first goes.
    relocations_at: usize,
    relocations: Vec<(u64, u64, i64)>,
    dropped: usize,
    kept: usize,
}

impl Plan {
    fn apply(&self, member: &mut [u8]) {
        member[self.eh_frame_at..self.eh_frame_at + self.eh_frame.len()]
            .copy_from_slice(&self.eh_frame);
        for (index, (offset, info, addend)) in self.relocations.iter().enumerate() {
            let at = self.relocations_at + index * 24;
            member[at..at + 8].copy_from_slice(&offset.to_le_bytes());
            member[at + 8..at + 16].copy_from_slice(&info.to_le_bytes());
            member[at + 16..at + 24].copy_from_slice(&addend.to_le_bytes());
        }
    }
}

/// The records of `.eh_frame` up to its terminator; `None` for what this module does
/// not rewrite (64-bit DWARF, a record past the end, a CIE pointer to no CIE).
fn records(data: &[u8]) -> Option<Vec<Record>> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let length = word(offset)? as usize;
        if length == 0 {
            break;
        }
        if length == 0xffff_ffff || length < 4 {
            return None;
        }
        let size = length.checked_add(4)?;
        if offset + size > data.len() {
            return None;
        }
        let identifier = word(offset + 4)? as usize;
        let cie = if identifier == 0 {
            None
        } else {
            // The CIE pointer counts back from the field itself.
            Some((offset + 4).checked_sub(identifier)?)
        };
        records.push(Record {
            start: offset,
            size,
            cie,
        });
        offset += size;
    }
    // Every FDE's CIE must be one of the records.
    records
        .iter()
        .all(|record| {
            record.cie.is_none_or(|cie| {
                records
                    .iter()
                    .any(|other| other.start == cie && other.cie.is_none())
            })
        })
        .then_some(records)
}

/// Reads one member and works out its rewrite; `None` when nothing is to be done.
fn plan_member(member: &[u8]) -> Option<Plan> {
    let header = elf::FileHeader64::<Endianness>::parse(member).ok()?;
    let endian = header.endian().ok()?;
    if header.e_type(endian) != elf::ET_REL || endian != Endianness::Little {
        return None;
    }
    let sections = header.sections(endian, member).ok()?;
    let (eh_frame_index, eh_frame) = sections
        .iter()
        .enumerate()
        .find(|(_, section)| sections.section_name(endian, section).ok() == Some(b".eh_frame"))?;
    let (eh_frame_at, eh_frame_size) = eh_frame.file_range(endian)?;
    let eh_frame_at = usize::try_from(eh_frame_at).ok()?;
    let data = member.get(eh_frame_at..eh_frame_at + usize::try_from(eh_frame_size).ok()?)?;
    // Its relocations: RELA only (x86_64 and aarch64 ELF use nothing else).
    let relocation_section = sections.iter().find(|section| {
        matches!(section.sh_type(endian), elf::SHT_RELA | elf::SHT_REL)
            && section.sh_info(endian) as usize == eh_frame_index
    })?;
    if relocation_section.sh_type(endian) != elf::SHT_RELA
        || relocation_section.sh_entsize(endian) != 24
    {
        return None;
    }
    let (relocations_at, relocations_size) = relocation_section.file_range(endian)?;
    let relocations_at = usize::try_from(relocations_at).ok()?;
    let count = usize::try_from(relocations_size).ok()? / 24;
    let read_u64 = |at: usize| -> Option<u64> {
        Some(U64::<LE>::from_bytes(member.get(at..at + 8)?.try_into().ok()?).get(LE))
    };
    let mut relocations = Vec::with_capacity(count);
    for index in 0..count {
        let entry = relocations_at + index * 24;
        relocations.push(Rela {
            entry,
            offset: read_u64(entry)?,
            info: read_u64(entry + 8)?,
            addend: read_u64(entry + 16)? as i64,
        });
    }
    let symbols = sections
        .symbol_table_by_index(
            endian,
            member,
            object::SectionIndex(relocation_section.sh_link(endian) as usize),
        )
        .ok()?;
    // The name an FDE's initial location refers to.
    let function_name = |record: &Record| -> Option<String> {
        let relocation = relocations
            .iter()
            .find(|relocation| relocation.offset == (record.start + 8) as u64)?;
        let symbol = symbols
            .symbol(object::SymbolIndex((relocation.info >> 32) as usize))
            .ok()?;
        let name = if symbol.st_type() == elf::STT_SECTION {
            let section = sections
                .section(object::SectionIndex(usize::from(
                    symbol.st_shndx(endian).index()?,
                )))
                .ok()?;
            sections.section_name(endian, section).ok()?
        } else {
            symbols.symbol_name(endian, symbol).ok()?
        };
        Some(String::from_utf8_lossy(name).into_owned())
    };

    let records = records(data)?;
    let keep: Vec<bool> = records
        .iter()
        .map(|record| {
            record.cie.is_none()
                // An FDE whose function cannot be named is kept.
                || function_name(record).is_none_or(|name| is_unwinder_function(&name))
        })
        .collect();
    let dropped = keep.iter().filter(|kept| !**kept).count();
    if dropped == 0 {
        return None;
    }
    let kept = records
        .iter()
        .zip(&keep)
        .filter(|(record, kept)| **kept && record.cie.is_some())
        .count();

    // The kept records, moved to the front in order.
    let mut moved = vec![0u8; data.len()];
    let mut new_start = Vec::with_capacity(records.len());
    let mut end = 0;
    for (record, kept) in records.iter().zip(&keep) {
        if *kept {
            moved[end..end + record.size]
                .copy_from_slice(&data[record.start..record.start + record.size]);
            new_start.push(Some(end));
            end += record.size;
        } else {
            new_start.push(None);
        }
    }
    let new_offset_of = |old: usize| -> Option<usize> {
        let index = records.iter().position(|record| record.start == old)?;
        new_start[index]
    };
    for (index, record) in records.iter().enumerate() {
        let (Some(start), Some(cie)) = (new_start[index], record.cie) else {
            continue;
        };
        let cie = new_offset_of(cie)?;
        let pointer = u32::try_from(start + 4 - cie).ok()?;
        moved[start + 4..start + 8].copy_from_slice(&pointer.to_le_bytes());
    }
    // `end` is where the zero terminator starts: `moved` is zeros from there on.
    let terminator = end as u64;

    let record_of = |offset: u64| -> Option<usize> {
        records.iter().position(|record| {
            (record.start as u64..(record.start + record.size) as u64).contains(&offset)
        })
    };
    let mut rewritten = Vec::with_capacity(relocations.len());
    let mut cleared = 0;
    for relocation in &relocations {
        match record_of(relocation.offset).and_then(|index| Some((index, new_start[index]?))) {
            Some((index, start)) => rewritten.push((
                relocation.offset - records[index].start as u64 + start as u64,
                relocation.info,
                relocation.addend,
            )),
            None => cleared += 1,
        }
    }
    // Kept relocations keep their order (records keep theirs); the dropped ones
    // become R_*_NONE without a symbol at the terminator, after them.
    rewritten.extend(std::iter::repeat_n((terminator, 0, 0), cleared));
    debug_assert!(rewritten.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    Some(Plan {
        eh_frame_at,
        eh_frame: moved,
        relocations_at: relocations.first()?.entry,
        relocations: rewritten,
        dropped,
        kept,
    })
}

#[cfg(test)]
mod tests;
