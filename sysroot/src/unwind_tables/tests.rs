use super::*;
use object::write::{Object, Relocation, SectionId, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Object as _, ObjectSection, ObjectSymbol, RelocationFlags,
    RelocationTarget, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

const CIE: [u8; 24] = [
    0x14, 0, 0, 0, // length
    0, 0, 0, 0, // CIE id
    1, b'z', b'R', 0, // version, augmentation "zR"
    1, 0x78, 0x10, // code alignment 1, data alignment -8, return address r16
    1, 0x1b, // augmentation data: pcrel sdata4
    0x0c, 0x07, 0x08, 0x90, 0x01, 0, 0, // def_cfa rsp+8, offset r16, padding
];

/// An FDE of `length_field + 4` bytes whose CIE is at `cie`, itself at `at`.
fn fde(at: usize, cie: usize, instructions: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let length = 4 + 4 + 4 + 1 + instructions.len();
    let padded = length.div_ceil(4) * 4;
    bytes.extend_from_slice(&(padded as u32).to_le_bytes());
    bytes.extend_from_slice(&((at + 4 - cie) as u32).to_le_bytes());
    bytes.extend_from_slice(&[0; 4]); // initial location (relocated)
    bytes.extend_from_slice(&16u32.to_le_bytes()); // address range
    bytes.push(0); // augmentation data length
    bytes.extend_from_slice(instructions);
    bytes.resize(4 + padded, 0);
    bytes
}

/// A relocatable object with functions `names` (one section each, `.text.NAME`) and an
/// `.eh_frame` with one CIE and one FDE per function, in that order, the FDEs'
/// initial locations relocated against the functions' section symbols.
fn object(names: &[&str]) -> (Vec<u8>, Vec<usize>) {
    let mut object = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let functions: Vec<SectionId> = names
        .iter()
        .map(|name| {
            let section = object.add_section(
                Vec::new(),
                format!(".text.{name}").into_bytes(),
                SectionKind::Text,
            );
            object.append_section_data(section, &[0xc3; 16], 16);
            object.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value: 0,
                size: 16,
                kind: SymbolKind::Text,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            });
            section
        })
        .collect();
    let mut data = CIE.to_vec();
    let mut starts = Vec::new();
    for (index, _) in names.iter().enumerate() {
        let at = data.len();
        starts.push(at);
        // Different instructions per FDE, so that moved records can be told apart.
        data.extend(fde(at, 0, &[0x41, 0x0e, 0x10 + index as u8]));
    }
    data.extend_from_slice(&[0; 4]);
    let eh_frame = object.add_section(Vec::new(), b".eh_frame".to_vec(), SectionKind::ReadOnlyData);
    object.append_section_data(eh_frame, &data, 8);
    for (section, &at) in functions.iter().zip(&starts) {
        let symbol = object.section_symbol(*section);
        object
            .add_relocation(
                eh_frame,
                Relocation {
                    offset: at as u64 + 8,
                    symbol,
                    addend: 0,
                    flags: RelocationFlags::Elf {
                        r_type: elf::R_X86_64_PC32,
                    },
                },
            )
            .unwrap();
    }
    (object.write().unwrap(), starts)
}

use crate::manifest::tests::archive;

/// The first member's `.eh_frame` bytes and its relocations (offset, target section
/// name or "", ELF type).
fn eh_frame_of(archive_bytes: &[u8]) -> (Vec<u8>, Vec<(u64, String, elf::RelocationType)>) {
    let archive = ArchiveFile::parse(archive_bytes).unwrap();
    let member = archive.members().next().unwrap().unwrap();
    let file = object::File::parse(member.data(archive_bytes).unwrap()).unwrap();
    let section = file.section_by_name(".eh_frame").unwrap();
    let relocations = section
        .relocations()
        .map(|(offset, relocation)| {
            let target = match relocation.target() {
                RelocationTarget::Symbol(index) => {
                    let symbol = file.symbol_by_index(index).unwrap();
                    match symbol.section_index() {
                        Some(section) => file
                            .section_by_index(section)
                            .unwrap()
                            .name()
                            .unwrap()
                            .to_string(),
                        None => String::new(),
                    }
                }
                _ => String::new(),
            };
            let RelocationFlags::Elf { r_type } = relocation.flags() else {
                panic!("not ELF");
            };
            (offset, target, r_type)
        })
        .collect();
    (section.data().unwrap().to_vec(), relocations)
}

#[test]
fn keeps_the_cie_and_the_unwinders_fdes_and_moves_no_byte_of_the_archive() {
    let names = [
        "plain",
        "_ZN9unwinding8unwinder12with_context",
        "other",
        "_Unwind_Backtrace",
    ];
    let (member, starts) = object(&names);
    let mut bytes = archive(&[("a.o", member), ("notes.txt", b"text".to_vec())]);
    let original = bytes.clone();
    let (data_before, _) = eh_frame_of(&bytes);

    let result = compact_archive(&mut bytes).unwrap();
    assert_eq!(
        result,
        Compacted {
            dropped: 2,
            kept: 2
        }
    );
    assert_eq!(bytes.len(), original.len());

    let (data, relocations) = eh_frame_of(&bytes);
    assert_eq!(data.len(), data_before.len());
    // CIE, then the two kept FDEs (unchanged but for their CIE pointers), then zeros.
    let fde_size = starts[1] - starts[0];
    assert_eq!(&data[..CIE.len()], &CIE);
    let first = CIE.len();
    let second = first + fde_size;
    assert_eq!(
        &data[first + 8..first + fde_size],
        &data_before[starts[1] + 8..starts[1] + fde_size]
    );
    assert_eq!(
        &data[second + 8..second + fde_size],
        &data_before[starts[3] + 8..starts[3] + fde_size]
    );
    assert_eq!(
        u32::from_le_bytes(data[first + 4..first + 8].try_into().unwrap()) as usize,
        first + 4
    );
    assert_eq!(
        u32::from_le_bytes(data[second + 4..second + 8].try_into().unwrap()) as usize,
        second + 4
    );
    assert!(data[second + fde_size..].iter().all(|byte| *byte == 0));
    // The kept FDEs' relocations moved with them; the others are R_X86_64_NONE at
    // the terminator.
    let terminator = (second + fde_size) as u64;
    assert_eq!(
        relocations,
        [
            (
                first as u64 + 8,
                format!(".text.{}", names[1]),
                elf::R_X86_64_PC32
            ),
            (
                second as u64 + 8,
                format!(".text.{}", names[3]),
                elf::R_X86_64_PC32
            ),
            (terminator, String::new(), elf::R_X86_64_NONE),
            (terminator, String::new(), elf::R_X86_64_NONE),
        ]
    );
    // Nothing is left to drop the second time.
    assert_eq!(
        compact_archive(&mut bytes).unwrap(),
        Compacted {
            dropped: 0,
            kept: 0
        }
    );
}

#[test]
fn members_with_only_unwinder_functions_or_no_object_are_left_alone() {
    let (member, _) = object(&["_Unwind_RaiseException"]);
    let mut bytes = archive(&[("a.o", member), ("notes.txt", b"no elf here".to_vec())]);
    let original = bytes.clone();
    assert_eq!(compact_archive(&mut bytes).unwrap(), Compacted::default());
    assert_eq!(bytes, original);
    assert!(compact_archive(&mut b"not an archive".to_vec()).is_err());
}

#[test]
fn a_cie_pointer_to_no_cie_leaves_the_member_alone() {
    let (mut member, starts) = object(&["plain"]);
    // Point the FDE's CIE pointer into the middle of the CIE.
    let file = object::File::parse(&*member).unwrap();
    let at = file
        .section_by_name(".eh_frame")
        .unwrap()
        .file_range()
        .unwrap()
        .0 as usize
        + starts[0]
        + 4;
    member[at..at + 4].copy_from_slice(&((starts[0] + 4 - 8) as u32).to_le_bytes());
    let mut bytes = archive(&[("a.o", member)]);
    let original = bytes.clone();
    assert_eq!(compact_archive(&mut bytes).unwrap(), Compacted::default());
    assert_eq!(bytes, original);
}

#[test]
fn the_unwinders_functions_are_recognized_by_name() {
    for name in [
        ".text._ZN9unwinding8unwinder12with_context17h0123456789abcdefE",
        "_Unwind_RaiseException",
        ".text._Unwind_Backtrace",
    ] {
        assert!(is_unwinder_function(name), "{name}");
    }
    for name in [
        ".text._ZN9unik_libc2fs4open17h0123456789abcdefE",
        ".text.memcpy",
        "malloc",
    ] {
        assert!(!is_unwinder_function(name), "{name}");
    }
}
