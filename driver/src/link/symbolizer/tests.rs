use super::*;
use object::write::{Object as WriteObject, Relocation, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags,
    RelocationTarget, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

/// The symbolizer's entry as std names it (v0 mangling).
const ENTRY_NAME: &str = "_RINvMs0_NtNtNtCs1_3std12backtrace_rs9symbolize5gimliNtB6_5Cache11with_globalNCNvB6_7resolves_0EBc_";

/// An object like std's: the entry (local, in its own section), a caller that calls
/// it through the section symbol, and a table that takes its address.
fn object(architecture: Architecture, call: u32, addend: i64) -> Vec<u8> {
    let mut object = WriteObject::new(BinaryFormat::Elf, architecture, Endianness::Little);
    let entry = object.add_section(
        Vec::new(),
        format!(".text.{ENTRY_NAME}").into_bytes(),
        SectionKind::Text,
    );
    object.append_section_data(entry, &[0; 16], 16);
    object.add_symbol(Symbol {
        name: ENTRY_NAME.as_bytes().to_vec(),
        value: 0,
        size: 16,
        kind: SymbolKind::Text,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(entry),
        flags: SymbolFlags::None,
    });
    let caller = object.add_section(Vec::new(), b".text.print".to_vec(), SectionKind::Text);
    object.append_section_data(caller, &[0; 16], 16);
    let entry_symbol = object.section_symbol(entry);
    object
        .add_relocation(
            caller,
            Relocation {
                offset: 4,
                symbol: entry_symbol,
                addend,
                flags: RelocationFlags::Elf {
                    r_type: elf::RelocationType(call),
                },
            },
        )
        .expect("relocation");
    // Debug information refers to the entry too: that stays.
    let debug = object.add_section(Vec::new(), b".debug_info".to_vec(), SectionKind::Debug);
    object.append_section_data(debug, &[0; 8], 1);
    object
        .add_relocation(
            debug,
            Relocation {
                offset: 0,
                symbol: entry_symbol,
                addend: 0,
                flags: RelocationFlags::Elf {
                    r_type: if architecture == Architecture::X86_64 {
                        elf::R_X86_64_64
                    } else {
                        elf::R_AARCH64_ABS64
                    },
                },
            },
        )
        .expect("relocation");
    object.write().expect("object")
}

/// (section, symbol name) of every relocation.
fn relocations(bytes: &[u8]) -> Vec<(String, String)> {
    let file = object::File::parse(bytes).expect("parse");
    let mut found = Vec::new();
    for section in file.sections() {
        for (_, relocation) in section.relocations() {
            let name = match relocation.target() {
                RelocationTarget::Symbol(index) => {
                    let symbol = file.symbol_by_index(index).expect("symbol");
                    match symbol.section_index() {
                        Some(section) if symbol.kind() == SymbolKind::Section => file
                            .section_by_index(section)
                            .expect("section")
                            .name()
                            .expect("name")
                            .to_string(),
                        _ => symbol.name().expect("name").to_string(),
                    }
                }
                _ => String::new(),
            };
            found.push((section.name().expect("name").to_string(), name));
        }
    }
    found
}

#[test]
fn calls_to_the_symbolizer_go_to_the_stand_in_on_both_targets() {
    for (architecture, call, addend) in [
        (Architecture::X86_64, elf::R_X86_64_PLT32.0, -4),
        (Architecture::Aarch64, elf::R_AARCH64_CALL26.0, 0),
        (Architecture::Aarch64, elf::R_AARCH64_JUMP26.0, 0),
    ] {
        let bytes = object(architecture, call, addend);
        let cut = cut(&bytes).expect("cut").expect("a call was redirected");
        let found = relocations(&cut);
        let entry_section = format!(".text.{ENTRY_NAME}");
        assert!(
            found.contains(&(".text.print".to_string(), STAND_IN.to_string())),
            "{architecture:?}: {found:?}"
        );
        assert!(
            found.contains(&(".debug_info".to_string(), entry_section.clone())),
            "{architecture:?}: {found:?}"
        );
        assert!(
            !found.contains(&(".text.print".to_string(), entry_section)),
            "{architecture:?}: {found:?}"
        );
        // The stand-in is an undefined global the runtime provides.
        let file = object::File::parse(cut.as_slice()).expect("parse");
        let stand_in = file
            .symbols()
            .find(|symbol| symbol.name() == Ok(STAND_IN))
            .expect("the stand-in symbol");
        assert!(stand_in.is_undefined() && stand_in.is_global());
    }
}

#[test]
fn objects_without_a_call_to_the_entry_stay_as_they_are() {
    // A reference into the middle of the entry is no call to it.
    let bytes = object(Architecture::X86_64, elf::R_X86_64_PLT32.0, 4);
    assert_eq!(cut(&bytes), Ok(None));
    // An object without the entry is not even parsed.
    assert_eq!(cut(b"not an object"), Ok(None));
    assert!(!may_hold_entry(b"_ZN3std9backtrace"));
}
