//! Link phase 5, the generated object: one small ELF relocatable object, written
//! with the `object` crate, that carries what the selection decided:
//!
//! - `.unik_init`: one pointer per init function of the selected components, in
//!   dependency order (R_X86_64_64 / R_AARCH64_ABS64). The linker script brackets it
//!   with `__unik_init_start`/`__unik_init_end` (KEEP) and the program start runs
//!   them; so an init function is linked exactly when its component is.
//! - `.unik.components`: not allocated (costs no memory, only file bytes); the
//!   selection as JSON, for `unik explain`. Deterministic: same inputs, same bytes.
//! - with `--stub-missing`, one stub per missing function, in machine code (no C
//!   compiler is needed at link time): it passes the function's name to
//!   `__unik_missing_function`, which warns once, sets errno to ENOSYS and returns
//!   -1 — the stub tail-calls it, so the caller sees that -1.

use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationEncoding, RelocationFlags, RelocationKind,
    SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use serde::{Deserialize, Serialize};

use super::selection::Selected;

/// The section recording the selection.
pub const COMPONENTS_SECTION: &str = ".unik.components";
/// The init table section.
pub const INIT_SECTION: &str = ".unik_init";
/// The libc function the stubs call.
pub const MISSING_FUNCTION_HANDLER: &str = "__unik_missing_function";

/// What `.unik.components` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentsRecord {
    pub format: u32,
    pub target: String,
    pub components: Vec<Selected>,
    /// Functions linked as stubs (`--stub-missing`).
    pub stubbed: Vec<String>,
}

/// The format of [`ComponentsRecord`].
pub const RECORD_FORMAT: u32 = 1;

/// Why the object could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the generated object: {0}")]
pub struct GenerateError(String);

/// Writes the generated object's bytes.
pub fn generate(
    architecture: Architecture,
    record: &ComponentsRecord,
    init_functions: &[&str],
) -> Result<Vec<u8>, GenerateError> {
    let mut object = Object::new(BinaryFormat::Elf, architecture, Endianness::Little);
    let absolute_64 = RelocationFlags::Generic {
        kind: RelocationKind::Absolute,
        encoding: RelocationEncoding::Generic,
        size: 64,
    };
    if !init_functions.is_empty() {
        let section = object.add_section(
            Vec::new(),
            INIT_SECTION.as_bytes().to_vec(),
            // Writable in the object: its pointers get R_*_RELATIVE relocations in the
            // PIE, which `-z text` allows only in writable input sections (the runtime
            // maps the table read-only once it has relocated it).
            SectionKind::ReadOnlyDataWithRel,
        );
        object.append_section_data(section, &vec![0; init_functions.len() * 8], 8);
        for (index, function) in init_functions.iter().enumerate() {
            let symbol = undefined_function(&mut object, function);
            object
                .add_relocation(
                    section,
                    Relocation {
                        offset: index as u64 * 8,
                        symbol,
                        addend: 0,
                        flags: absolute_64,
                    },
                )
                .map_err(|error| GenerateError(error.to_string()))?;
        }
    }
    let json = serde_json::to_vec(record).map_err(|error| GenerateError(error.to_string()))?;
    let section = object.add_section(
        Vec::new(),
        COMPONENTS_SECTION.as_bytes().to_vec(),
        SectionKind::Other,
    );
    object.append_section_data(section, &json, 1);
    for name in &record.stubbed {
        add_stub(&mut object, architecture, name)?;
    }
    object
        .write()
        .map_err(|error| GenerateError(error.to_string()))
}

fn undefined_function(object: &mut Object<'_>, name: &str) -> object::write::SymbolId {
    if let Some(id) = object.symbol_id(name.as_bytes()) {
        return id;
    }
    object.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value: 0,
        size: 0,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Undefined,
        flags: SymbolFlags::None,
    })
}

/// One relocation of a stub: offset in the code, target, addend, type.
type StubRelocation = (u64, object::write::SymbolId, i64, RelocationFlags);

/// `NAME: first argument = "NAME"; tail-call __unik_missing_function`.
fn add_stub(
    object: &mut Object<'_>,
    architecture: Architecture,
    name: &str,
) -> Result<(), GenerateError> {
    let mut text = name.as_bytes().to_vec();
    text.push(0);
    let string_section = object.add_subsection(
        StandardSection::ReadOnlyString,
        format!("unik_stub.{name}").as_bytes(),
    );
    let string_offset = object.append_section_data(string_section, &text, 1);
    let string = object.section_symbol(string_section);
    let handler = undefined_function(object, MISSING_FUNCTION_HANDLER);
    let pc_relative = |size| RelocationFlags::Generic {
        kind: RelocationKind::Relative,
        encoding: RelocationEncoding::Generic,
        size,
    };
    let (code, relocations): (Vec<u8>, Vec<StubRelocation>) = match architecture {
        Architecture::X86_64 => (
            // lea rdi, [rip + name]; jmp __unik_missing_function
            vec![0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0],
            vec![
                (3, string, string_offset as i64 - 4, pc_relative(32)),
                (
                    8,
                    handler,
                    -4,
                    RelocationFlags::Generic {
                        kind: RelocationKind::PltRelative,
                        encoding: RelocationEncoding::X86Branch,
                        size: 32,
                    },
                ),
            ],
        ),
        Architecture::Aarch64 => (
            // adrp x0, name; add x0, x0, :lo12:name; b __unik_missing_function
            [0x9000_0000u32, 0x9100_0000, 0x1400_0000]
                .iter()
                .flat_map(|word| word.to_le_bytes())
                .collect(),
            vec![
                (
                    0,
                    string,
                    string_offset as i64,
                    RelocationFlags::Elf {
                        r_type: object::elf::R_AARCH64_ADR_PREL_PG_HI21,
                    },
                ),
                (
                    4,
                    string,
                    string_offset as i64,
                    RelocationFlags::Elf {
                        r_type: object::elf::R_AARCH64_ADD_ABS_LO12_NC,
                    },
                ),
                (
                    8,
                    handler,
                    0,
                    RelocationFlags::Elf {
                        r_type: object::elf::R_AARCH64_JUMP26,
                    },
                ),
            ],
        ),
        other => {
            return Err(GenerateError(format!("no stub code for {other:?}")));
        }
    };
    let section = object.add_subsection(
        StandardSection::Text,
        format!("unik_stub.{name}").as_bytes(),
    );
    let offset = object.append_section_data(section, &code, 16);
    object.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value: offset,
        size: code.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });
    for (at, symbol, addend, flags) in relocations {
        object
            .add_relocation(
                section,
                Relocation {
                    offset: offset + at,
                    symbol,
                    addend,
                    flags,
                },
            )
            .map_err(|error| GenerateError(error.to_string()))?;
    }
    Ok(())
}

/// Reads the record back from an image or object; `None` when it has none.
pub fn read_record(file: &object::File<'_>) -> Option<Result<ComponentsRecord, String>> {
    use object::{Object as _, ObjectSection as _};
    let section = file.section_by_name(COMPONENTS_SECTION)?;
    let data = match section.data() {
        Ok(data) => data,
        Err(error) => return Some(Err(error.to_string())),
    };
    Some(serde_json::from_slice(data).map_err(|error| error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::selection::Reason;
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

    fn record(stubbed: &[&str]) -> ComponentsRecord {
        ComponentsRecord {
            format: RECORD_FORMAT,
            target: "x86_64".into(),
            components: vec![
                Selected {
                    component: "boot".into(),
                    reason: Reason::Always,
                },
                Selected {
                    component: "stdio".into(),
                    reason: Reason::Symbol {
                        symbol: "printf".into(),
                        object: "main.o".into(),
                    },
                },
            ],
            stubbed: stubbed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_object_parses_back_with_its_table_and_record() {
        for architecture in [Architecture::X86_64, Architecture::Aarch64] {
            let bytes = generate(architecture, &record(&["fork"]), &["a_init", "b_init"]).unwrap();
            let file = object::File::parse(bytes.as_slice()).unwrap();
            assert_eq!(file.architecture(), architecture);
            let init = file.section_by_name(INIT_SECTION).unwrap();
            assert_eq!(init.size(), 16);
            let targets: Vec<(u64, String)> = init
                .relocations()
                .map(|(offset, relocation)| {
                    let object::RelocationTarget::Symbol(index) = relocation.target() else {
                        panic!("a symbol target")
                    };
                    let name = file
                        .symbol_by_index(index)
                        .unwrap()
                        .name()
                        .unwrap()
                        .to_string();
                    (offset, name)
                })
                .collect();
            assert_eq!(
                targets,
                [(0, "a_init".to_string()), (8, "b_init".to_string())]
            );
            assert_eq!(read_record(&file).unwrap().unwrap(), record(&["fork"]));
            let stub = file.symbol_by_name("fork").unwrap();
            assert!(stub.is_definition() && stub.is_global());
            assert!(
                file.symbol_by_name(MISSING_FUNCTION_HANDLER)
                    .unwrap()
                    .is_undefined()
            );
        }
    }

    #[test]
    fn no_inits_means_no_table_and_the_output_is_deterministic() {
        let first = generate(Architecture::X86_64, &record(&[]), &[]).unwrap();
        let second = generate(Architecture::X86_64, &record(&[]), &[]).unwrap();
        assert_eq!(first, second);
        let file = object::File::parse(first.as_slice()).unwrap();
        assert!(file.section_by_name(INIT_SECTION).is_none());
    }
}
