//! Link phase 4, diagnostics: one report per symbol nobody provides, in LLD's
//! shape (STYLE.md), before LLD ever runs:
//!
//! ```text
//! unikcc: error: undefined symbol: fork
//! >>> referenced by main.c:12 (main.o:(.text.main+0x1a))
//! >>> referenced 2 more times
//! >>> fork: a unikernel runs a single program in a single address space: …
//! ```
//!
//! Without DWARF a reference reads `>>> referenced by main.o:(.text+0x1a) in
//! function main` (the function from the symbol table). The source line comes from
//! the object's `.debug_line` via `gimli`. In a relocatable object the line program's
//! addresses are relocations against the text sections, so the debug sections are
//! read with their relocations applied first, each allocated section placed at its
//! own made-up base address (`index << 32`): then an address names both the
//! section and the offset, even with one section per function.

use std::borrow::Cow;
use std::collections::HashMap;

use object::{
    Object, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget, SectionFlags,
    SectionIndex, SymbolKind,
};
use unik_sysroot::manifest::Manifest;

use super::inputs::ObjectInput;
use super::symbols::Resolution;

/// How many references are listed before "referenced N more times" (as LLD).
const LISTED_REFERENCES: usize = 3;

/// One place that references a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub object: String,
    pub section: String,
    pub offset: u64,
    /// The function containing the reference, from the symbol table.
    pub function: Option<String>,
    /// `file:line` from DWARF.
    pub source: Option<String>,
}

impl Reference {
    fn render(&self) -> String {
        let place = format!("{}:({}+0x{:x})", self.object, self.section, self.offset);
        match (&self.source, &self.function) {
            (Some(source), _) => format!(">>> referenced by {source} ({place})"),
            (None, Some(function)) => format!(">>> referenced by {place} in function {function}"),
            (None, None) => format!(">>> referenced by {place}"),
        }
    }
}

/// The report of one undefined symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndefinedSymbol {
    pub symbol: String,
    pub references: Vec<Reference>,
    /// Why it is missing, or a hint.
    pub note: Option<String>,
}

impl UndefinedSymbol {
    /// The lines of the report, `program` prefixing the first.
    pub fn render(&self, program: &str) -> String {
        let mut text = format!("{program}: error: undefined symbol: {}\n", self.symbol);
        for reference in self.references.iter().take(LISTED_REFERENCES) {
            text.push_str(&reference.render());
            text.push('\n');
        }
        if self.references.len() > LISTED_REFERENCES {
            text.push_str(&format!(
                ">>> referenced {} more times\n",
                self.references.len() - LISTED_REFERENCES
            ));
        }
        if let Some(note) = &self.note {
            text.push_str(">>> ");
            text.push_str(note);
            text.push('\n');
        }
        text
    }
}

/// Builds the report for each missing symbol (in `missing`'s order).
pub fn undefined_symbols(
    missing: &[String],
    resolution: &Resolution<'_>,
    manifest: &Manifest,
) -> Vec<UndefinedSymbol> {
    let mut line_tables: HashMap<usize, Option<LineTable>> = HashMap::new();
    missing
        .iter()
        .map(|symbol| {
            let mut references = Vec::new();
            for &index in resolution.undefined.get(symbol).into_iter().flatten() {
                let Some(object) = resolution.loaded.get(index) else {
                    continue;
                };
                let lines = line_tables
                    .entry(index)
                    .or_insert_with(|| LineTable::read(&object.bytes));
                references.extend(references_to(object, symbol, lines.as_ref()));
            }
            UndefinedSymbol {
                symbol: symbol.clone(),
                references,
                note: note(symbol, manifest, resolution),
            }
        })
        .collect()
}

/// Why the symbol is missing (by design, or not yet), else a spelling hint.
fn note(symbol: &str, manifest: &Manifest, resolution: &Resolution<'_>) -> Option<String> {
    if let Some(reason) = manifest.unavailable.get(symbol) {
        return Some(format!("{symbol}: {reason}"));
    }
    if let Some((name, planned)) = manifest
        .planned
        .iter()
        .find(|(_, planned)| planned.symbols.iter().any(|s| s == symbol))
    {
        return Some(format!(
            "{symbol}: not implemented yet (it belongs to the planned component {name}: {})",
            planned.summary
        ));
    }
    let program_symbols = resolution
        .loaded
        .iter()
        .flat_map(|object| object.defined.iter());
    suggestion(symbol, manifest.symbols.keys().chain(program_symbols))
        .map(|name| format!("did you mean: {name}"))
}

/// The closest provided name: one edit away, or the same ignoring case (LLD's rule),
/// two edits for longer names; ties go to the alphabetically first.
fn suggestion<'a>(symbol: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    let limit = if symbol.len() > 6 { 2 } else { 1 };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == symbol || candidate.starts_with("__") || candidate.starts_with("unik_") {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(symbol) {
            0
        } else {
            strsim::damerau_levenshtein(symbol, candidate)
        };
        if distance <= limit
            && best.is_none_or(|(d, name)| (distance, candidate.as_str()) < (d, name))
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// The references to `symbol` in `object`'s relocations, in section and offset order.
fn references_to(object: &ObjectInput, symbol: &str, lines: Option<&LineTable>) -> Vec<Reference> {
    let Ok(file) = object::File::parse(object.bytes.as_slice()) else {
        return Vec::new();
    };
    let mut references = Vec::new();
    for section in file.sections() {
        let name = section.name().unwrap_or("?");
        if !is_allocated(&section) || name == ".eh_frame" {
            continue;
        }
        for (offset, relocation) in section.relocations() {
            let RelocationTarget::Symbol(index) = relocation.target() else {
                continue;
            };
            let Ok(target) = file.symbol_by_index(index) else {
                continue;
            };
            if target.name() != Ok(symbol) {
                continue;
            }
            references.push(Reference {
                object: object.display_name.clone(),
                section: name.to_string(),
                offset,
                function: containing_function(&file, section.index(), offset),
                source: lines.and_then(|table| table.find(section_base(section.index()) + offset)),
            });
        }
    }
    references
}

fn is_allocated(section: &object::Section<'_, '_>) -> bool {
    match section.flags() {
        SectionFlags::Elf { sh_flags, .. } => sh_flags.0 & object::elf::SHF_ALLOC.0 != 0,
        _ => false,
    }
}

/// The made-up address of an allocated section (see the module docs).
fn section_base(index: SectionIndex) -> u64 {
    (index.0 as u64) << 32
}

/// The function symbol whose range contains `offset` in `section`.
fn containing_function(
    file: &object::File<'_>,
    section: SectionIndex,
    offset: u64,
) -> Option<String> {
    file.symbols()
        .filter(|symbol| {
            symbol.section_index() == Some(section) && symbol.kind() == SymbolKind::Text
        })
        .filter(|symbol| {
            symbol.address() <= offset && offset < symbol.address() + symbol.size().max(1)
        })
        .filter_map(|symbol| symbol.name().ok().map(str::to_string))
        .next()
}

/// The line programs of one object, relocated.
struct LineTable {
    /// (start, end, file, line) of each row range, sorted by start.
    rows: Vec<(u64, u64, String, u64)>,
}

impl LineTable {
    /// `None` when the object has no (usable) DWARF line information.
    fn read(bytes: &[u8]) -> Option<LineTable> {
        let file = object::File::parse(bytes).ok()?;
        file.section_by_name(".debug_line")?;
        let little_endian = file.is_little_endian();
        let mut sections: HashMap<&'static str, Cow<'_, [u8]>> = HashMap::new();
        for id in [
            gimli::SectionId::DebugAbbrev,
            gimli::SectionId::DebugInfo,
            gimli::SectionId::DebugLine,
            gimli::SectionId::DebugLineStr,
            gimli::SectionId::DebugStr,
            gimli::SectionId::DebugStrOffsets,
            gimli::SectionId::DebugAddr,
        ] {
            if let Some(section) = file.section_by_name(id.name()) {
                sections.insert(id.name(), relocated(&file, &section, little_endian)?);
            }
        }
        let endian = if little_endian {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let dwarf = gimli::Dwarf::load(|id| -> Result<_, gimli::Error> {
            let data = sections
                .get(id.name())
                .map(|cow| cow.as_ref())
                .unwrap_or(&[]);
            Ok(gimli::EndianSlice::new(data, endian))
        })
        .ok()?;
        let rows = crate::symbolize::line_rows_of(&dwarf, false);
        Some(LineTable { rows })
    }

    fn find(&self, address: u64) -> Option<String> {
        let index = self.rows.partition_point(|row| row.0 <= address);
        let (start, end, file, line) = self.rows.get(index.checked_sub(1)?)?;
        (*start <= address && address < *end && *line > 0).then(|| format!("{file}:{line}"))
    }
}

/// A debug section's bytes with its absolute relocations applied (ELF gABI
/// "Relocation": S + A for R_X86_64_32/64 and R_AARCH64_ABS32/64), symbols in
/// allocated sections at their section's made-up base.
fn relocated<'data>(
    file: &object::File<'data>,
    section: &object::Section<'data, '_>,
    little_endian: bool,
) -> Option<Cow<'data, [u8]>> {
    let data = section.data().ok()?;
    let mut relocations = section.relocations().peekable();
    if relocations.peek().is_none() {
        return Some(Cow::Borrowed(data));
    }
    let mut bytes = data.to_vec();
    for (offset, relocation) in relocations {
        if relocation.kind() != RelocationKind::Absolute {
            continue;
        }
        let RelocationTarget::Symbol(index) = relocation.target() else {
            continue;
        };
        let Ok(symbol) = file.symbol_by_index(index) else {
            continue;
        };
        let base = match symbol
            .section_index()
            .and_then(|i| file.section_by_index(i).ok())
        {
            Some(target) if is_allocated(&target) => section_base(target.index()),
            _ => 0,
        };
        let value = base
            .wrapping_add(symbol.address())
            .wrapping_add(relocation.addend() as u64);
        let start = usize::try_from(offset).ok()?;
        match relocation.size() {
            64 => {
                let slot = bytes.get_mut(start..start.checked_add(8)?)?;
                slot.copy_from_slice(&if little_endian {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                });
            }
            32 => {
                let slot = bytes.get_mut(start..start.checked_add(4)?)?;
                let value = value as u32;
                slot.copy_from_slice(&if little_endian {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                });
            }
            _ => {}
        }
    }
    Some(Cow::Owned(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(source: Option<&str>, offset: u64) -> Reference {
        Reference {
            object: "main.o".into(),
            section: ".text.main".into(),
            offset,
            function: Some("main".into()),
            source: source.map(str::to_string),
        }
    }

    #[test]
    fn renders_like_lld_with_and_without_a_source_line() {
        let report = UndefinedSymbol {
            symbol: "fork".into(),
            references: vec![
                reference(Some("main.c:12"), 0x1a),
                reference(None, 0x20),
                reference(Some("main.c:14"), 0x2a),
                reference(Some("main.c:15"), 0x3a),
                reference(Some("main.c:16"), 0x4a),
            ],
            note: Some("fork: single program".into()),
        };
        assert_eq!(
            report.render("unikcc"),
            "unikcc: error: undefined symbol: fork\n\
             >>> referenced by main.c:12 (main.o:(.text.main+0x1a))\n\
             >>> referenced by main.o:(.text.main+0x20) in function main\n\
             >>> referenced by main.c:14 (main.o:(.text.main+0x2a))\n\
             >>> referenced 2 more times\n\
             >>> fork: single program\n"
        );
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let names: Vec<String> = ["printf", "puts", "malloc", "__unik_vfprintf", "strtoull"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(suggestion("pritnf", names.iter()), Some("printf"));
        assert_eq!(suggestion("PUTS", names.iter()), Some("puts"));
        assert_eq!(suggestion("strtoul_", names.iter()), Some("strtoull"));
        assert_eq!(suggestion("fork", names.iter()), None);
        assert_eq!(suggestion("unik_vfprintf", names.iter()), None);
    }

    #[test]
    fn notes_say_why_or_not_yet() {
        let mut manifest = crate::link::selection::tests::manifest();
        manifest.planned.insert(
            "time".into(),
            unik_sysroot::manifest::PlannedComponent {
                summary: "clocks".into(),
                symbols: vec!["clock_gettime".into()],
            },
        );
        let resolution = Resolution::default();
        assert_eq!(
            note("fork", &manifest, &resolution).as_deref(),
            Some("fork: single program")
        );
        assert_eq!(
            note("clock_gettime", &manifest, &resolution).as_deref(),
            Some(
                "clock_gettime: not implemented yet (it belongs to the planned component time: clocks)"
            )
        );
        assert_eq!(
            note("mallok", &manifest, &resolution).as_deref(),
            Some("did you mean: malloc")
        );
    }
}
