//! Phase 7, after LLD: every dynamic relocation of the image must be RELATIVE.
//!
//! Images are static PIEs; at boot the runtime moves the image to a random address
//! and applies `.rela.dyn` itself (runtime/kernel/src/aslr.rs), and it knows only
//! `R_X86_64_RELATIVE` / `R_AARCH64_RELATIVE` (base + addend). Anything else — an
//! ifunc's IRELATIVE, a symbol left for a dynamic linker, a TLS module relocation —
//! would be left unapplied, so the link fails here with the relocation, where it
//! points and the symbol it names.

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, Rela, SectionHeader, Sym};
use object::{Endian, Endianness, Object, ObjectSection, ObjectSymbol, ReadRef};

/// One dynamic relocation the runtime cannot apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedRelocation {
    /// `R_X86_64_IRELATIVE`, or `type N` when the name is not known here.
    pub kind: String,
    /// The link-time address it patches.
    pub offset: u64,
    /// The symbol around that address (from `.symtab`), when there is one.
    pub location: Option<String>,
    /// The symbol the relocation refers to (from `.dynsym`), or for an IRELATIVE the
    /// resolver function (the symbol at the addend).
    pub symbol: Option<String>,
}

impl std::fmt::Display for UnsupportedRelocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "dynamic relocation {}", self.kind)?;
        if let Some(symbol) = &self.symbol {
            write!(formatter, " against `{symbol}`")?;
        }
        write!(formatter, " at {:#x}", self.offset)?;
        if let Some(location) = &self.location {
            write!(formatter, " (in `{location}`)")?;
        }
        Ok(())
    }
}

/// The dynamic relocations of the linked image `data` other than RELATIVE (empty for a
/// good image). `Err` only when the file is not a readable ELF64 image.
pub fn unsupported(data: &[u8]) -> Result<Vec<UnsupportedRelocation>, String> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|error| error.to_string())?;
    let endian = file.endian();
    let machine = file.elf_header().e_machine(endian);
    let relative = match machine {
        elf::EM_X86_64 => elf::R_X86_64_RELATIVE,
        elf::EM_AARCH64 => elf::R_AARCH64_RELATIVE,
        other => return Err(format!("unexpected ELF machine {other}")),
    };
    let dynamic_symbols = file
        .elf_section_table()
        .symbols(endian, data, elf::SHT_DYNSYM)
        .map_err(|error| error.to_string())?;
    let mut found = Vec::new();
    for section in file.sections() {
        let Ok(name) = section.name() else { continue };
        if !name.starts_with(".rela.") || section.address() == 0 {
            continue;
        }
        let bytes = section.data().map_err(|error| error.to_string())?;
        let entries: &[elf::Rela64<Endianness>] = bytes
            .read_slice_at(
                0,
                bytes.len() / std::mem::size_of::<elf::Rela64<Endianness>>(),
            )
            .map_err(|()| format!("{name}: truncated"))?;
        for entry in entries {
            let kind = entry.r_type(endian, false);
            if kind == relative {
                continue;
            }
            let symbol_index = entry.r_sym(endian, false);
            let symbol = if symbol_index != 0 {
                dynamic_symbols
                    .symbol(object::SymbolIndex(symbol_index as usize))
                    .ok()
                    .and_then(|symbol| symbol.name(endian, dynamic_symbols.strings()).ok())
                    .map(|name| String::from_utf8_lossy(name).into_owned())
            } else {
                symbol_containing(&file, entry.r_addend(endian) as u64)
            };
            let offset = entry.r_offset(endian);
            found.push(UnsupportedRelocation {
                kind: kind_name(machine, kind),
                offset,
                location: symbol_containing(&file, offset),
                symbol,
            });
        }
    }
    Ok(found)
}

/// A section of relocations (SHT_REL or SHT_RELA) in a linked image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocationSection {
    /// Its name (`.rela.dyn`).
    pub name: String,
    /// How many entries it holds.
    pub entries: u64,
    /// The address the first entry patches, and the `.symtab` symbol around it.
    pub first: Option<(u64, Option<String>)>,
}

/// The SHT_REL and SHT_RELA sections of the linked image `data`. An image normally
/// has none: LLD packs its RELATIVE relocations into `.relr.dyn`, and only a pointer
/// at an unaligned address (in a packed struct) makes a `.rela.dyn`. `Err` only when
/// the file is not a readable ELF64 image.
pub fn relocation_sections(data: &[u8]) -> Result<Vec<RelocationSection>, String> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|error| error.to_string())?;
    let endian = file.endian();
    let mut found = Vec::new();
    for section in file.elf_section_table().iter() {
        let kind = section.sh_type(endian);
        if kind != elf::SHT_REL && kind != elf::SHT_RELA {
            continue;
        }
        let name = file
            .elf_section_table()
            .section_name(endian, section)
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .unwrap_or_else(|_| "(unnamed)".to_string());
        let entry_size = if kind == elf::SHT_RELA {
            std::mem::size_of::<elf::Rela64<Endianness>>()
        } else {
            std::mem::size_of::<elf::Rel64<Endianness>>()
        } as u64;
        let size = section.sh_size(endian);
        let first = section
            .data(endian, data)
            .ok()
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.get(..8)?).ok())
            .map(|offset| {
                let offset = endian.read_u64(offset);
                (offset, symbol_containing(&file, offset))
            });
        found.push(RelocationSection {
            name,
            entries: size / entry_size,
            first,
        });
    }
    Ok(found)
}

/// The name of the `.symtab` symbol whose extent holds `address` (or that starts there).
fn symbol_containing<'data, R: ReadRef<'data>>(
    file: &ElfFile64<'data, Endianness, R>,
    address: u64,
) -> Option<String> {
    file.symbols()
        .filter(|symbol| {
            symbol.address() <= address
                && (address < symbol.address() + symbol.size().max(1))
                && !symbol.name().unwrap_or("").is_empty()
        })
        .max_by_key(|symbol| (symbol.address(), symbol.size()))
        .and_then(|symbol| symbol.name().ok().map(str::to_string))
}

/// The psABI name of a dynamic relocation type.
fn kind_name(machine: elf::Machine, kind: elf::RelocationType) -> String {
    let name = match (machine, kind) {
        (elf::EM_X86_64, elf::R_X86_64_64) => "R_X86_64_64",
        (elf::EM_X86_64, elf::R_X86_64_GLOB_DAT) => "R_X86_64_GLOB_DAT",
        (elf::EM_X86_64, elf::R_X86_64_JUMP_SLOT) => "R_X86_64_JUMP_SLOT",
        (elf::EM_X86_64, elf::R_X86_64_DTPMOD64) => "R_X86_64_DTPMOD64",
        (elf::EM_X86_64, elf::R_X86_64_DTPOFF64) => "R_X86_64_DTPOFF64",
        (elf::EM_X86_64, elf::R_X86_64_TPOFF64) => "R_X86_64_TPOFF64",
        (elf::EM_X86_64, elf::R_X86_64_IRELATIVE) => "R_X86_64_IRELATIVE",
        (elf::EM_AARCH64, elf::R_AARCH64_ABS64) => "R_AARCH64_ABS64",
        (elf::EM_AARCH64, elf::R_AARCH64_GLOB_DAT) => "R_AARCH64_GLOB_DAT",
        (elf::EM_AARCH64, elf::R_AARCH64_JUMP_SLOT) => "R_AARCH64_JUMP_SLOT",
        (elf::EM_AARCH64, elf::R_AARCH64_TLS_DTPMOD) => "R_AARCH64_TLS_DTPMOD",
        (elf::EM_AARCH64, elf::R_AARCH64_TLS_DTPREL) => "R_AARCH64_TLS_DTPREL",
        (elf::EM_AARCH64, elf::R_AARCH64_TLS_TPREL) => "R_AARCH64_TLS_TPREL",
        (elf::EM_AARCH64, elf::R_AARCH64_IRELATIVE) => "R_AARCH64_IRELATIVE",
        _ => return format!("type {}", kind.0),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocation_names() {
        let kind = elf::RelocationType;
        assert_eq!(kind_name(elf::EM_X86_64, kind(37)), "R_X86_64_IRELATIVE");
        assert_eq!(
            kind_name(elf::EM_AARCH64, kind(1032)),
            "R_AARCH64_IRELATIVE"
        );
        assert_eq!(kind_name(elf::EM_X86_64, kind(99)), "type 99");
    }

    #[test]
    fn the_message_names_symbol_and_place() {
        let relocation = UnsupportedRelocation {
            kind: "R_X86_64_IRELATIVE".into(),
            offset: 0x1040,
            location: Some("table".into()),
            symbol: Some("resolve".into()),
        };
        assert_eq!(
            relocation.to_string(),
            "dynamic relocation R_X86_64_IRELATIVE against `resolve` at 0x1040 (in `table`)"
        );
    }

    #[test]
    fn not_an_elf_is_an_error() {
        assert!(unsupported(b"not an image").is_err());
    }
}
