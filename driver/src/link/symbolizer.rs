//! Rust std's in-image backtrace symbolizer, cut off at link time (`cargo unik`).
//!
//! To name a backtrace's frames, std (`std::backtrace_rs::symbolize::gimli`) opens the
//! program's own ELF file through `/proc/self/exe` and reads its DWARF. No unik image
//! has that path (the image is not a file in any file system), so in a unik image it
//! never names a frame: std prints each frame's address, and `unik run` names them on
//! the host (driver/src/symbolize.rs). Yet it is the largest part of every std
//! program, about 180 KB (gimli, addr2line, miniz_oxide, rustc-demangle), which LLD
//! keeps because std's backtrace printer calls it.
//!
//! Its entry is one function, `Cache::with_global`, called from std's backtrace printer
//! (`__print_fmt`), from `std::backtrace::Backtrace`'s resolution and from `resolve`,
//! and local to std's object. [`cut`] gives LLD a copy of that object whose calls to it
//! go to the runtime's `__unik_absent_symbolize` instead ([`STAND_IN`], in the
//! `stand-ins` component), which returns at once, as the symbolizer does when it finds
//! nothing. The entry takes a closure and returns nothing, so a function that only
//! returns stands in for it on every ABI. With no call left, `--gc-sections` drops the
//! symbolizer.
//!
//! Only a call to the entry's start (a direct call or tail call relocation) is
//! redirected; if std takes its address elsewhere, or if std's names change, nothing
//! is cut and the image is what it was. `tests/rust.rs` checks that the std programs'
//! images have no symbolizer left and that their backtraces are still named.

use object::elf::{self, FileHeader64, SectionHeader64};
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::{LittleEndian, SectionIndex};

/// The runtime function the calls go to (runtime/libc/src/stand_ins.rs).
pub const STAND_IN: &str = "__unik_absent_symbolize";

/// Both parts of the entry's name as both of rustc's manglings spell them:
/// `<std::backtrace_rs::symbolize::gimli::Cache>::with_global`.
const ENTRY: [&str; 2] = ["3std12backtrace_rs9symbolize5gimli", "5Cache11with_global"];

/// The size of an `Elf64_Rela` and of an `Elf64_Sym`.
const RELA_SIZE: usize = 24;
const SYMBOL_SIZE: usize = 24;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Whether an object may hold the entry (a cheap test before parsing it).
pub fn may_hold_entry(bytes: &[u8]) -> bool {
    contains(bytes, ENTRY[0])
}

/// A copy of the relocatable object `bytes` (ELF64, little-endian: both targets) whose
/// calls to the symbolizer's entry go to [`STAND_IN`] (module docs); `Ok(None)` when
/// it has no such call.
///
/// The copy is the object with a new symbol table and string table appended (the old
/// ones plus the stand-in, an undefined global, which goes last as ELF wants globals
/// after locals), their section headers pointed at them, and each such call's
/// relocation pointed at the new symbol: nothing else moves.
pub fn cut(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if !may_hold_entry(bytes) {
        return Ok(None);
    }
    let endian = LittleEndian;
    let Ok(header) = FileHeader64::<LittleEndian>::parse(bytes) else {
        return Ok(None);
    };
    if header.e_type(endian) != elf::ET_REL {
        return Ok(None);
    }
    // (relocation type, addend) of a call to the start of a section.
    let calls: &[(u32, i64)] = match header.e_machine(endian) {
        elf::EM_X86_64 => &[(elf::R_X86_64_PLT32.0, -4), (elf::R_X86_64_PC32.0, -4)],
        elf::EM_AARCH64 => &[(elf::R_AARCH64_CALL26.0, 0), (elf::R_AARCH64_JUMP26.0, 0)],
        _ => return Ok(None),
    };
    let problem = |error: object::Error| error.to_string();
    let sections = header.sections(endian, bytes).map_err(problem)?;
    let name_of = |section: &SectionHeader64<LittleEndian>| {
        sections.section_name(endian, section).unwrap_or_default()
    };
    let entries: Vec<usize> = sections
        .enumerate()
        .filter(|(_, section)| {
            let name = name_of(section);
            name.starts_with(b".text.") && ENTRY.iter().all(|part| contains(name, part))
        })
        .map(|(index, _)| index.0)
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let symbols = sections
        .symbols(endian, bytes, elf::SHT_SYMTAB)
        .map_err(problem)?;
    if symbols.shndx_section().0 != 0 {
        // Extended section indexes: not worth handling for this.
        return Ok(None);
    }
    let targets: Vec<u64> = symbols
        .enumerate()
        .filter(|(_, symbol)| {
            entries.contains(&usize::from(symbol.st_shndx(endian).0))
                && symbol.st_value(endian) == 0
                && matches!(symbol.st_type(), elf::STT_SECTION | elf::STT_FUNC)
        })
        .map(|(index, _)| index.0 as u64)
        .collect();
    // The file offsets of the r_info fields to point at the stand-in, and their types.
    let mut calls_found: Vec<(usize, u32)> = Vec::new();
    for section in sections.iter() {
        if section.sh_type(endian) != elf::SHT_RELA {
            continue;
        }
        let applies_to = section.sh_info(endian) as usize;
        let Ok(code) = sections.section(SectionIndex(applies_to)) else {
            continue;
        };
        let flags = code.sh_flags(endian);
        if entries.contains(&applies_to)
            || !flags.contains(elf::SHF_ALLOC)
            || !flags.contains(elf::SHF_EXECINSTR)
        {
            continue;
        }
        let (start, size) = (
            section.sh_offset(endian) as usize,
            section.sh_size(endian) as usize,
        );
        let Some(table) = bytes.get(start..start.saturating_add(size)) else {
            return Err("a relocation section lies outside the file".to_string());
        };
        for (index, entry) in table.chunks_exact(RELA_SIZE).enumerate() {
            let info = u64::from_le_bytes(entry[8..16].try_into().unwrap_or_default());
            let addend = i64::from_le_bytes(entry[16..24].try_into().unwrap_or_default());
            let relocation_type = info as u32;
            if targets.contains(&(info >> 32)) && calls.contains(&(relocation_type, addend)) {
                calls_found.push((start + index * RELA_SIZE + 8, relocation_type));
            }
        }
    }
    if calls_found.is_empty() {
        return Ok(None);
    }
    let symbol_table_index = symbols.section().0;
    let string_table_index = symbols.string_section().0;
    let old_strings = sections
        .section(SectionIndex(string_table_index))
        .and_then(|section| section.data(endian, bytes))
        .map_err(problem)?;
    let old_symbols = sections
        .section(SectionIndex(symbol_table_index))
        .and_then(|section| section.data(endian, bytes))
        .map_err(problem)?;
    let mut out = bytes.to_vec();
    let strings_offset = out.len();
    out.extend_from_slice(old_strings);
    let name_offset = u32::try_from(old_strings.len()).map_err(|_| "string table too large")?;
    out.extend_from_slice(STAND_IN.as_bytes());
    out.push(0);
    let strings_size = out.len() - strings_offset;
    out.resize(out.len().next_multiple_of(8), 0);
    let symbols_offset = out.len();
    out.extend_from_slice(old_symbols);
    let new_index = (old_symbols.len() / SYMBOL_SIZE) as u64;
    let mut symbol = [0u8; SYMBOL_SIZE];
    symbol[0..4].copy_from_slice(&name_offset.to_le_bytes());
    symbol[4] = (elf::STB_GLOBAL.0 << 4) | elf::STT_FUNC.0;
    // st_other 0 (default visibility), st_shndx 0 (undefined), st_value, st_size 0.
    out.extend_from_slice(&symbol);
    let symbols_size = out.len() - symbols_offset;
    let headers = header.e_shoff(endian) as usize;
    let header_size = usize::from(header.e_shentsize(endian));
    let mut point = |index: usize, offset: usize, size: usize| {
        // Elf64_Shdr: sh_offset at 24, sh_size at 32.
        let at = headers + index * header_size;
        out[at + 24..at + 32].copy_from_slice(&(offset as u64).to_le_bytes());
        out[at + 32..at + 40].copy_from_slice(&(size as u64).to_le_bytes());
    };
    point(string_table_index, strings_offset, strings_size);
    point(symbol_table_index, symbols_offset, symbols_size);
    for (at, relocation_type) in calls_found {
        let info = (new_index << 32) | u64::from(relocation_type);
        out[at..at + 8].copy_from_slice(&info.to_le_bytes());
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
