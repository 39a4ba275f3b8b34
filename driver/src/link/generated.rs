//! Link phase 5, the generated object: one small ELF relocatable object, written
//! with the `object` crate, that carries what the selection decided:
//!
//! - `.unik_init`: one pointer per init function of the selected components, in
//!   dependency order (R_X86_64_64 / R_AARCH64_ABS64). The linker script brackets it
//!   with `__unik_init_start`/`__unik_init_end` (KEEP) and the program start runs
//!   them; so an init function is linked exactly when its component is.
//! - `.unik.components`: not allocated (costs no memory, only file bytes); the
//!   selection, for `unik explain` and `unik size`, in a compact line format (format 2,
//!   [`encode_record`]; images of format 1 carry JSON and stay readable).
//!   Deterministic: same inputs, same bytes.
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

use super::selection::{Reason, Selected};

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

/// The format of [`ComponentsRecord`] that [`encode_record`] writes.
pub const RECORD_FORMAT: u32 = 2;
/// The first field of a format-2 record.
const RECORD_MAGIC: &str = "unik-components";

/// The selection record as `.unik.components` carries it (format 2): UTF-8 lines,
/// fields separated by tabs, `\`, tab and newline inside a field written as `\\`,
/// `\t` and `\n`:
///
/// ```text
/// unik-components  2  TARGET
/// c  COMPONENT  =                  every image has it
/// c  COMPONENT  +                  --all-components
/// c  COMPONENT  <  BY              another selected component requires it
/// c  COMPONENT  @  SYMBOL  OBJECT  the program references SYMBOL (first in OBJECT)
/// c  COMPONENT  !  NAME …          its stand-ins answer for the NAMEs (link/selection.rs)
/// s  FUNCTION                      linked as a stub (--stub-missing)
/// ```
///
/// About a quarter of format 1's JSON (584 bytes for a C hello world).
pub fn encode_record(record: &ComponentsRecord) -> Vec<u8> {
    let mut lines = vec![vec![
        RECORD_MAGIC.to_string(),
        RECORD_FORMAT.to_string(),
        record.target.clone(),
    ]];
    for selected in &record.components {
        let mut line = vec!["c".to_string(), selected.component.clone()];
        match &selected.reason {
            Reason::Always => line.push("=".into()),
            Reason::Forced => line.push("+".into()),
            Reason::RequiredBy { component } => {
                line.extend(["<".to_string(), component.clone()]);
            }
            Reason::Symbol { symbol, object } => {
                line.extend(["@".to_string(), symbol.clone(), object.clone()]);
            }
            Reason::StandIns { symbols } => {
                line.push("!".into());
                line.extend(symbols.iter().cloned());
            }
        }
        lines.push(line);
    }
    for function in &record.stubbed {
        lines.push(vec!["s".into(), function.clone()]);
    }
    let mut text = String::new();
    for line in lines {
        let fields: Vec<String> = line.iter().map(|field| escape(field)).collect();
        text.push_str(&fields.join("\t"));
        text.push('\n');
    }
    text.into_bytes()
}

fn escape(field: &str) -> String {
    field
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn unescape(field: &str) -> Result<String, String> {
    let mut text = String::with_capacity(field.len());
    let mut characters = field.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            text.push(character);
            continue;
        }
        match characters.next() {
            Some('\\') => text.push('\\'),
            Some('t') => text.push('\t'),
            Some('n') => text.push('\n'),
            other => {
                return Err(format!(
                    "unknown escape `\\{}` in `{field}`",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(text)
}

/// Reads a record's bytes: format 2 ([`encode_record`]) or format 1 (JSON, images
/// linked before format 2); the error says what is wrong, with the line.
pub fn decode_record(data: &[u8]) -> Result<ComponentsRecord, String> {
    if data.first() == Some(&b'{') {
        return serde_json::from_slice(data).map_err(|error| error.to_string());
    }
    let text = std::str::from_utf8(data).map_err(|error| format!("not UTF-8: {error}"))?;
    let mut lines = text.split_terminator('\n').enumerate();
    let header = match lines.next() {
        Some((_, line)) => line.split('\t').collect::<Vec<_>>(),
        None => return Err("it is empty".into()),
    };
    let (format, target) = match header.as_slice() {
        [RECORD_MAGIC, format, target] => (*format, *target),
        _ => return Err("line 1 is not a unik-components header".into()),
    };
    if format != RECORD_FORMAT.to_string() {
        return Err(format!(
            "format {format} is unknown to this unik (it reads formats 1 and {RECORD_FORMAT}); was the image linked by a newer one?"
        ));
    }
    let mut record = ComponentsRecord {
        format: RECORD_FORMAT,
        target: unescape(target)?,
        components: Vec::new(),
        stubbed: Vec::new(),
    };
    for (index, line) in lines {
        let fields = line
            .split('\t')
            .map(unescape)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("line {}: {error}", index + 1))?;
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let (component, reason) = match fields.as_slice() {
            ["s", function] => {
                record.stubbed.push(function.to_string());
                continue;
            }
            ["c", component, "="] => (component, Reason::Always),
            ["c", component, "+"] => (component, Reason::Forced),
            ["c", component, "<", by] => (
                component,
                Reason::RequiredBy {
                    component: by.to_string(),
                },
            ),
            ["c", component, "@", symbol, object] => (
                component,
                Reason::Symbol {
                    symbol: symbol.to_string(),
                    object: object.to_string(),
                },
            ),
            ["c", component, "!", symbols @ ..] => (
                component,
                Reason::StandIns {
                    symbols: symbols.iter().map(|name| name.to_string()).collect(),
                },
            ),
            _ => {
                return Err(format!(
                    "line {} is not a component or stub line",
                    index + 1
                ));
            }
        };
        record.components.push(Selected {
            component: component.to_string(),
            reason,
        });
    }
    Ok(record)
}

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
    let section = object.add_section(
        Vec::new(),
        COMPONENTS_SECTION.as_bytes().to_vec(),
        SectionKind::Other,
    );
    object.append_section_data(section, &encode_record(record), 1);
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
    Some(decode_record(data))
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn the_record_is_compact_lines_and_reads_back() {
        let mut all = record(&["fork", "execve"]);
        all.components.push(Selected {
            component: "math".into(),
            reason: Reason::Forced,
        });
        let bytes = encode_record(&all);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "unik-components\t2\tx86_64\nc\tboot\t=\nc\tstdio\t@\tprintf\tmain.o\n\
             c\tmath\t+\ns\tfork\ns\texecve\n"
        );
        assert_eq!(decode_record(&bytes).unwrap(), all);
    }

    #[test]
    fn fields_with_tabs_newlines_and_backslashes_survive() {
        let mut odd = record(&[]);
        odd.components[1].reason = Reason::Symbol {
            symbol: "printf".into(),
            object: "my\tdir\\a\nb.o".into(),
        };
        odd.components.push(Selected {
            component: "alloc".into(),
            reason: Reason::RequiredBy {
                component: "stdio".into(),
            },
        });
        let bytes = encode_record(&odd);
        assert_eq!(bytes.iter().filter(|&&byte| byte == b'\n').count(), 4);
        assert_eq!(decode_record(&bytes).unwrap(), odd);
    }

    #[test]
    fn format_1_json_records_stay_readable() {
        let json = br#"{"format":1,"target":"aarch64","components":[{"component":"stdio","reason":"symbol","symbol":"puts","object":"hello.o"},{"component":"memory","reason":"required-by","by":"stdio"},{"component":"boot","reason":"always"}],"stubbed":["fork"]}"#;
        let old = decode_record(json).unwrap();
        assert_eq!(old.format, 1);
        assert_eq!(old.target, "aarch64");
        assert_eq!(old.stubbed, ["fork"]);
        assert_eq!(
            old.components[1].reason,
            Reason::RequiredBy {
                component: "stdio".into()
            }
        );
    }

    #[test]
    fn damaged_records_are_refused_with_the_cause() {
        let refused = |bytes: &[u8]| decode_record(bytes).unwrap_err();
        assert_eq!(refused(b""), "it is empty");
        assert_eq!(
            refused(b"hello\n"),
            "line 1 is not a unik-components header"
        );
        assert_eq!(
            refused(b"unik-components\t3\tx86_64\n"),
            "format 3 is unknown to this unik (it reads formats 1 and 2); was the image linked by a newer one?"
        );
        assert_eq!(
            refused(b"unik-components\t2\tx86_64\nc\tboot\t=\nc\tstdio\t?\n"),
            "line 3 is not a component or stub line"
        );
        assert_eq!(
            refused(b"unik-components\t2\tx86_64\ns\ta\\qb\n"),
            "line 2: unknown escape `\\q` in `a\\qb`"
        );
        assert!(refused(b"unik-components\t2\t\xff\n").starts_with("not UTF-8"));
        assert!(!refused(b"{\"format\":1").is_empty());
    }

    proptest::proptest! {
        /// Any record reads back as written; any bytes are read without a panic.
        #[test]
        fn records_round_trip_and_any_bytes_decode_without_panic(
            target in ".*",
            names in proptest::collection::vec((".*", ".*", ".*", 0u8..5), 0..6),
            stubbed in proptest::collection::vec(".*", 0..3),
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let components = names
                .into_iter()
                .map(|(component, first, second, kind)| Selected {
                    component,
                    reason: match kind {
                        0 => Reason::Always,
                        1 => Reason::Forced,
                        2 => Reason::RequiredBy { component: first },
                        3 => Reason::StandIns { symbols: vec![first, second] },
                        _ => Reason::Symbol { symbol: first, object: second },
                    },
                })
                .collect();
            let written = ComponentsRecord { format: RECORD_FORMAT, target, components, stubbed };
            proptest::prop_assert_eq!(decode_record(&encode_record(&written)), Ok(written));
            let _ = decode_record(&noise);
            let mut damaged = b"unik-components\t2\tx\n".to_vec();
            damaged.extend_from_slice(&noise);
            let _ = decode_record(&damaged);
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
