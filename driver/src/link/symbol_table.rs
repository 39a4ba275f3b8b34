//! After the link: a smaller symbol table with the same names for every reader. Five
//! things go:
//!
//! - the hash of Rust's legacy mangling: a legacy name ends in `17h` and 16 hex digits
//!   before its final `E` (`_ZN4core3fmt5write17h0123456789abcdefE`), a hash that only
//!   tells apart otherwise equal names and that demanglers hide. It is 20 of the 60-odd
//!   bytes of a typical runtime name. The shortened name (`_ZN4core3fmt5writeE`) is
//!   still legacy mangling: crash-report naming (`unik run`), `unik size`, `nm -C` and
//!   gdb read it as they read the full one. v0 names (`_R…`) and C names stay;
//! - AArch64 mapping symbols (`$x`, `$d`, with or without a `.suffix`: AAELF64 §5.6.5),
//!   which mark where code and literal data start for disassemblers; an aarch64 hello
//!   world carries over 500 of them (12 KiB of symbol table);
//! - file symbols (STT_FILE: `hello.c`, `unik.<hash>-cgu.0`), which name the
//!   compilation units of the local symbols after them; no reader of an image uses them;
//! - the runtime's `__unik_NAME` aliases where `NAME` is in the table at the same
//!   address with the same size (`__unik_puts` for `puts`: the runtime exports each
//!   libc function under both names, the weak one for programs to override). A crash
//!   report or `unik size` then names the function once, by the name programs call;
//! - untyped markers outside code (STT_NOTYPE in a section without SHF_EXECINSTR, or
//!   absolute): the linker scripts' boundaries (`__bss_start`, `__init_array_end`,
//!   `__tls_alignment`, …), assembly data labels (`unik_boot_pml4`) and LLD's
//!   `_DYNAMIC`/`__ehdr_start`. Code reads them through relocations the link resolved;
//!   no reader of an image looks them up afterwards. Untyped labels in code (assembly
//!   entry points such as `unik_entry_32`) stay: crash reports name them.
//!
//! LLD writes `.symtab`, `.shstrtab` and `.strtab` last, then the section header table;
//! they are written again there, in the same order. An image laid out otherwise is left
//! as it is.

use std::collections::HashMap;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};

type Endian = object::Endianness;
type SectionHeader64 = elf::SectionHeader64<Endian>;
type Symbol64 = elf::Sym64<Endian>;

/// `17h` and the 16 hex digits after it.
const HASH_LENGTH: usize = 19;

/// `name` without its legacy Rust hash, or `None` when it has none. A suffix after
/// the final `E` (`.0`, `.llvm.123`: LLVM's names for copies) is kept.
pub fn without_rust_hash(name: &[u8]) -> Option<Vec<u8>> {
    if !name.starts_with(b"_ZN") {
        return None;
    }
    let start = name
        .windows(3)
        .enumerate()
        .filter(|(_, window)| *window == b"17h")
        .map(|(index, _)| index)
        .find(|&index| {
            let digits = index + 3;
            name.len() > digits + 16
                && name[digits..digits + 16]
                    .iter()
                    .all(|byte| byte.is_ascii_hexdigit())
                && name[digits + 16] == b'E'
                && name.get(digits + 17).is_none_or(|&byte| byte == b'.')
        })?;
    let mut shortened = Vec::with_capacity(name.len() - HASH_LENGTH);
    shortened.extend_from_slice(&name[..start]);
    shortened.extend_from_slice(&name[start + HASH_LENGTH..]);
    Some(shortened)
}

/// The prefix of the runtime's second name for its libc functions.
const RUNTIME_ALIAS_PREFIX: &[u8] = b"__unik_";

/// Whether `name` is `__unik_NAME` for a `NAME` in `others` (name, address, size) at
/// the same `address` with the same `size`.
pub fn is_redundant_alias(
    name: &[u8],
    address: u64,
    size: u64,
    others: &std::collections::HashSet<(&[u8], u64, u64)>,
) -> bool {
    name.strip_prefix(RUNTIME_ALIAS_PREFIX)
        .is_some_and(|plain| !plain.is_empty() && others.contains(&(plain, address, size)))
}

/// Whether `name` is an AArch64 mapping symbol (`$x`, `$d`, `$x.<anything>`, …).
pub fn is_mapping_symbol(name: &[u8]) -> bool {
    matches!(name, [b'$', b'x' | b'd'] | [b'$', b'x' | b'd', b'.', ..])
}

/// Whether a defined symbol of type `kind` in section `section` at `address` is a
/// marker outside code: untyped, and absolute, or not inside the code of its section
/// (`in_code(section, address)`: the linker scripts put `__text_end` on the page
/// boundary after `.text`, in `.text`). The null symbol and undefined ones are kept.
pub fn is_marker_outside_code(
    kind: elf::SymbolType,
    section: elf::SymbolSection,
    address: u64,
    in_code: impl Fn(u16, u64) -> bool,
) -> bool {
    kind == elf::STT_NOTYPE
        && section != elf::SHN_UNDEF
        && section.index().is_none_or(|index| !in_code(index, address))
}

/// The byte range of a section in the file.
fn file_range(section: &SectionHeader64, endian: Endian) -> Option<(usize, usize)> {
    let start = usize::try_from(section.sh_offset(endian)).ok()?;
    let length = usize::try_from(section.sh_size(endian)).ok()?;
    Some((start, start.checked_add(length)?))
}

/// The image with the smaller symbol table, or `None` when nothing changes or the
/// layout is not LLD's (see the module docs).
pub fn compact(image: &[u8]) -> Option<Vec<u8>> {
    let header = elf::FileHeader64::<Endian>::parse(image).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, image).ok()?;
    if usize::from(header.e_shentsize(endian)) != size_of::<SectionHeader64>() {
        return None;
    }
    let (table_index, table) = sections
        .iter()
        .enumerate()
        .find(|(_, section)| section.sh_type(endian) == elf::SHT_SYMTAB)?;
    let strings_index = table.sh_link(endian) as usize;
    let names_index = header.shstrndx(endian, image).ok()? as usize;
    let strings = sections.section(object::SectionIndex(strings_index)).ok()?;
    let tail = [table_index, strings_index, names_index];
    // The tail: those three sections, and nothing else, from the symbol table on; then
    // the section headers, which end the file.
    let (tail_start, _) = file_range(table, endian)?;
    for (index, section) in sections.iter().enumerate() {
        if tail.contains(&index) || section.sh_type(endian) == elf::SHT_NOBITS {
            continue;
        }
        let (_, end) = file_range(section, endian)?;
        if end > tail_start {
            return None;
        }
    }
    let headers_offset = usize::try_from(header.e_shoff(endian)).ok()?;
    let headers_length = size_of::<SectionHeader64>() * sections.len();
    if headers_offset.checked_add(headers_length) != Some(image.len()) {
        return None;
    }
    for index in tail {
        let (start, end) = file_range(sections.section(object::SectionIndex(index)).ok()?, endian)?;
        if start < tail_start || end > headers_offset {
            return None;
        }
    }

    let old_strings = strings.data(endian, image).ok()?;
    let symbols: &[Symbol64] = table.data_as_array(endian, image).ok()?;
    let first_global = table.sh_info(endian) as usize;
    let mut new_symbols: Vec<u8> = Vec::with_capacity(table.sh_size(endian) as usize);
    let mut new_first_global = 0;
    let mut new_strings = vec![0u8];
    let mut placed: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut changed = false;
    let name_of = |symbol: &Symbol64| -> Option<&[u8]> {
        let name = old_strings.get(symbol.st_name(endian) as usize..)?;
        Some(&name[..name.iter().position(|&byte| byte == 0)?])
    };
    let mut names = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        names.push(name_of(symbol)?);
    }
    let defined: std::collections::HashSet<(&[u8], u64, u64)> = symbols
        .iter()
        .zip(&names)
        .filter(|(symbol, _)| symbol.st_shndx(endian) != elf::SHN_UNDEF)
        .map(|(symbol, name)| (*name, symbol.st_value(endian), symbol.st_size(endian)))
        .collect();
    let in_code = |index: u16, address: u64| {
        sections
            .section(object::SectionIndex(usize::from(index)))
            .is_ok_and(|section| {
                let start = section.sh_addr(endian);
                section.sh_flags(endian).contains(elf::SHF_EXECINSTR)
                    && (start..start.saturating_add(section.sh_size(endian))).contains(&address)
            })
    };
    for (index, (symbol, &name)) in symbols.iter().zip(&names).enumerate() {
        if index == first_global {
            new_first_global = new_symbols.len() / size_of::<Symbol64>();
        }
        let local = symbol.st_bind() == elf::STB_LOCAL;
        let dropped = index != 0
            && ((local && (is_mapping_symbol(name) || symbol.st_type() == elf::STT_FILE))
                || is_marker_outside_code(
                    symbol.st_type(),
                    symbol.st_shndx(endian),
                    symbol.st_value(endian),
                    in_code,
                )
                || (symbol.st_shndx(endian) != elf::SHN_UNDEF
                    && is_redundant_alias(
                        name,
                        symbol.st_value(endian),
                        symbol.st_size(endian),
                        &defined,
                    )));
        if dropped {
            changed = true;
            continue;
        }
        let name = match without_rust_hash(name) {
            Some(shortened) => {
                changed = true;
                shortened
            }
            None => name.to_vec(),
        };
        let name_offset = if name.is_empty() {
            0
        } else {
            let next = u32::try_from(new_strings.len()).ok()?;
            *placed.entry(name).or_insert_with_key(|name| {
                new_strings.extend_from_slice(name);
                new_strings.push(0);
                next
            })
        };
        let entry_start = table_start(table, endian)? + index * size_of::<Symbol64>();
        let mut entry = image[entry_start..entry_start + size_of::<Symbol64>()].to_vec();
        // st_name is the first field of Elf64_Sym (gABI, "Symbol Table").
        entry[..4].copy_from_slice(&encode_u32(endian, name_offset));
        new_symbols.extend_from_slice(&entry);
    }
    if first_global >= symbols.len() {
        new_first_global = new_symbols.len() / size_of::<Symbol64>();
    }
    if !changed {
        return None;
    }

    let mut output = image[..tail_start].to_vec();
    let mut headers = image[headers_offset..].to_vec();
    let mut order = tail;
    order.sort_by_key(|&index| {
        sections
            .section(object::SectionIndex(index))
            .map(|section| section.sh_offset(endian))
            .unwrap_or(0)
    });
    for index in order {
        let section = sections.section(object::SectionIndex(index)).ok()?;
        let contents: &[u8] = if index == table_index {
            &new_symbols
        } else if index == strings_index {
            &new_strings
        } else {
            section.data(endian, image).ok()?
        };
        let alignment = usize::try_from(section.sh_addralign(endian)).ok()?.max(1);
        while !output.len().is_multiple_of(alignment) {
            output.push(0);
        }
        // Elf64_Shdr: sh_offset at 24, sh_size at 32, sh_info at 44.
        let at = index * size_of::<SectionHeader64>();
        headers[at + 24..at + 32].copy_from_slice(&encode_u64(endian, output.len() as u64));
        headers[at + 32..at + 40].copy_from_slice(&encode_u64(endian, contents.len() as u64));
        if index == table_index {
            headers[at + 44..at + 48]
                .copy_from_slice(&encode_u32(endian, u32::try_from(new_first_global).ok()?));
        }
        output.extend_from_slice(contents);
    }
    while !output.len().is_multiple_of(8) {
        output.push(0);
    }
    // e_shoff: offset 40 in Elf64_Ehdr.
    let new_headers_offset = output.len() as u64;
    output[40..48].copy_from_slice(&encode_u64(endian, new_headers_offset));
    output.extend_from_slice(&headers);
    Some(output)
}

fn table_start(table: &SectionHeader64, endian: Endian) -> Option<usize> {
    usize::try_from(table.sh_offset(endian)).ok()
}

fn encode_u32(endian: Endian, value: u32) -> [u8; 4] {
    match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    }
}

fn encode_u64(endian: Endian, value: u64) -> [u8; 8] {
    match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_mapping_symbol, is_marker_outside_code, is_redundant_alias, without_rust_hash};
    use object::elf;

    #[test]
    fn only_untyped_markers_outside_code_go() {
        // Section 1 holds code at 0x1000..0x2000, section 2 data.
        let in_code = |index: u16, address: u64| index == 1 && (0x1000..0x2000).contains(&address);
        let section = elf::SymbolSection;
        assert!(is_marker_outside_code(
            elf::STT_NOTYPE,
            section(2),
            0x1000,
            in_code
        ));
        assert!(is_marker_outside_code(
            elf::STT_NOTYPE,
            elf::SHN_ABS,
            0x1000,
            in_code
        ));
        // __text_end: in the code section's index, past its end.
        assert!(is_marker_outside_code(
            elf::STT_NOTYPE,
            section(1),
            0x2000,
            in_code
        ));
        // An assembly entry point in code stays, and so does every typed symbol.
        assert!(!is_marker_outside_code(
            elf::STT_NOTYPE,
            section(1),
            0x1800,
            in_code
        ));
        assert!(!is_marker_outside_code(
            elf::STT_NOTYPE,
            elf::SHN_UNDEF,
            0,
            in_code
        ));
        assert!(!is_marker_outside_code(
            elf::STT_OBJECT,
            section(2),
            0x1000,
            in_code
        ));
        assert!(!is_marker_outside_code(
            elf::STT_FUNC,
            section(1),
            0x2000,
            in_code
        ));
        assert!(!is_marker_outside_code(
            elf::STT_TLS,
            section(2),
            0,
            in_code
        ));
    }

    #[test]
    fn only_a_runtime_alias_of_the_same_function_is_redundant() {
        let others: std::collections::HashSet<(&[u8], u64, u64)> = [
            (&b"puts"[..], 0x1000, 40),
            (&b"__unik_puts"[..], 0x1000, 40),
            (&b"memcpy"[..], 0x2000, 14),
        ]
        .into_iter()
        .collect();
        assert!(is_redundant_alias(b"__unik_puts", 0x1000, 40, &others));
        // A program's own memcpy elsewhere: the runtime's stays under its own name.
        assert!(!is_redundant_alias(b"__unik_memcpy", 0x3000, 14, &others));
        assert!(!is_redundant_alias(b"__unik_puts", 0x1000, 41, &others));
        assert!(!is_redundant_alias(b"puts", 0x1000, 40, &others));
        assert!(!is_redundant_alias(b"__unik_", 0x1000, 40, &others));
    }

    fn shortened(name: &str) -> Option<String> {
        without_rust_hash(name.as_bytes()).map(|name| String::from_utf8(name).unwrap())
    }

    #[test]
    fn drops_only_a_legacy_rust_hash() {
        assert_eq!(
            shortened("_ZN4core3fmt5write17h0123456789abcdefE").as_deref(),
            Some("_ZN4core3fmt5writeE")
        );
        // LLVM's suffixes for copies stay.
        assert_eq!(
            shortened("_ZN4unik5TIMER17h0480d379137079b2E.0").as_deref(),
            Some("_ZN4unik5TIMERE.0")
        );
        assert_eq!(
            shortened("_ZN4unik3run17h0480d379137079b2E.llvm.77").as_deref(),
            Some("_ZN4unik3runE.llvm.77")
        );
        for kept in [
            "main",
            "_RNvNtCs1234_4core3fmt5write",
            "_ZN4core3fmt5writeE",
            // Not 16 hex digits, or no E right after them.
            "_ZN4core3fmt5write17h0123456789abcdeE",
            "_ZN4core3fmt5write17h0123456789abcdefX",
            "_ZN4core3fmt5write17h0123456789abcdefEx",
            "x_ZN4core3fmt5write17h0123456789abcdefE",
        ] {
            assert_eq!(shortened(kept), None, "{kept}");
        }
    }

    #[test]
    fn mapping_symbols_are_dollar_x_and_dollar_d() {
        for name in ["$x", "$d", "$x.12", "$d.rodata"] {
            assert!(is_mapping_symbol(name.as_bytes()), "{name}");
        }
        for name in ["$a", "$t", "x", "$xy", "$", "", "main", "$d1"] {
            assert!(!is_mapping_symbol(name.as_bytes()), "{name}");
        }
    }
}
