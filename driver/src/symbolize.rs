//! Host-side symbolization of the guest's backtraces (`unik run`).
//!
//! Inside the image nothing can name a code address: the symbol table and the DWARF
//! sections are not loaded, and std's backtrace reader finds no file to open. The
//! host has the image, so `unik run` rewrites the backtrace lines of the guest's
//! stderr as they pass:
//!
//! - the runtime's crash report (`    #3  0x0000000000123456`) gets `  function+0x1c`
//!   and, with DWARF, `at file:line`;
//! - std's frames (`  12:   0x123456 - <unknown>`) get the function's demangled name
//!   and, with DWARF, a `at file:line` line, as std prints them on Linux;
//! - `RUST_BACKTRACE=1` (std's short form) cannot work in the guest: std trims the
//!   backtrace between its `__rust_end_short_backtrace` and
//!   `__rust_begin_short_backtrace` frames, which it finds by name. `unik run` passes
//!   `full` to the guest instead and trims here, by the same rule ([`Annotator`]).
//!
//! Function names come from the image's symbol table (`object`); file and line from
//! its DWARF line programs (`gimli`) when it has them (`-g`, debug builds). Frames
//! other than the faulting one hold return addresses, so they are looked up one byte
//! earlier, inside the call (as backtrace-rs does). An `image base 0x… (linked at
//! 0x…)` line (images loaded at a random base) sets the offset subtracted from the
//! addresses that follow.

use std::borrow::Cow;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// Function names and line rows of one image.
#[derive(Debug, Default)]
pub struct Symbolizer {
    /// (start, end, demangled name), sorted by start.
    functions: Vec<(u64, u64, String)>,
    /// (start, end, file, line), sorted by start.
    lines: Vec<(u64, u64, String, u64)>,
    /// The end of the executable sections: a size-less symbol reaches to the next
    /// symbol or to this.
    code_end: u64,
}

/// What one address is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub function: String,
    pub offset: u64,
    /// `file:line`, when the image has DWARF line information for it.
    pub line: Option<String>,
}

impl Symbolizer {
    /// `None` when the bytes are no ELF image or it has no function symbols (a
    /// stripped image).
    pub fn load(bytes: &[u8]) -> Option<Symbolizer> {
        let file = object::File::parse(bytes).ok()?;
        let mut functions: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|symbol| symbol.kind() == SymbolKind::Text && symbol.address() != 0)
            .filter_map(|symbol| {
                let name = symbol.name().ok()?;
                if name.is_empty() {
                    return None;
                }
                let start = symbol.address();
                Some((start, start + symbol.size(), demangle(name)))
            })
            .collect();
        if functions.is_empty() {
            return None;
        }
        functions.sort_by_key(|function| function.0);
        functions.dedup_by_key(|function| function.0);
        let code_end = file
            .sections()
            .filter(|section| section.kind() == object::SectionKind::Text)
            .map(|section| section.address() + section.size())
            .max()
            .unwrap_or(0);
        Some(Symbolizer {
            functions,
            lines: line_rows(&file).unwrap_or_default(),
            code_end,
        })
    }

    /// The function holding `address` (a size-less symbol reaches to the next one).
    pub fn locate(&self, address: u64) -> Option<Location> {
        let index = self.functions.partition_point(|f| f.0 <= address);
        let (start, end, name) = self.functions.get(index.checked_sub(1)?)?;
        let next = self.functions.get(index).map_or(self.code_end, |f| f.0);
        let end = if *end > *start { *end } else { next };
        if address >= end {
            return None;
        }
        let row = self.lines.partition_point(|row| row.0 <= address);
        let line = row
            .checked_sub(1)
            .and_then(|row| self.lines.get(row))
            .filter(|(start, end, _, line)| *start <= address && address < *end && *line > 0)
            .map(|(_, _, file, line)| format!("{file}:{line}"));
        Some(Location {
            function: name.clone(),
            offset: address - start,
            line,
        })
    }
}

fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_string(),
    }
}

/// The rows of every line program of a linked image (addresses are final: no
/// relocation to apply).
fn line_rows(file: &object::File<'_>) -> Option<Vec<(u64, u64, String, u64)>> {
    file.section_by_name(".debug_line")?;
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(file
            .section_by_name(id.name())
            .and_then(|section| section.uncompressed_data().ok())
            .unwrap_or(Cow::Borrowed(&[])))
    };
    let sections = gimli::DwarfSections::load(load).ok()?;
    let dwarf = sections.borrow(|section| gimli::EndianSlice::new(section, endian));
    Some(line_rows_of(&dwarf, true))
}

/// The rows of every line program of `dwarf`: (start, end, file, line), sorted by
/// start; the file with its directory when `with_directories` (else its name as
/// the line program gives it). Shared with the link diagnostics.
pub(crate) fn line_rows_of<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    with_directories: bool,
) -> Vec<(u64, u64, String, u64)> {
    let text = |attribute, unit: &gimli::Unit<R>| -> Option<String> {
        let value = dwarf.attr_string(unit, attribute).ok()?;
        Some(value.to_string_lossy().ok()?.into_owned())
    };
    let mut rows = Vec::new();
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let mut state = program.rows();
        let mut previous: Option<(u64, String, u64)> = None;
        while let Ok(Some((header, row))) = state.next_row() {
            if let Some((start, file, line)) = previous.take()
                && row.address() > start
            {
                rows.push((start, row.address(), file, line));
            }
            if row.end_sequence() {
                continue;
            }
            let mut name = String::new();
            if let Some(entry) = row.file(header) {
                let path = text(entry.path_name(), &unit).unwrap_or_default();
                if with_directories
                    && !path.starts_with('/')
                    && let Some(directory) = entry.directory(header)
                    && let Some(directory) = text(directory, &unit)
                {
                    name.push_str(&directory);
                    name.push('/');
                }
                name.push_str(&path);
            }
            if name.is_empty() {
                name.push_str("??");
            }
            let line = row.line().map_or(0, |line| line.get());
            previous = Some((row.address(), name, line));
        }
    }
    rows.sort_by_key(|row| row.0);
    rows
}

/// How std was asked to print backtraces (std::panic's `RUST_BACKTRACE` rule: `0` is
/// off, `full` is full, anything else is the short form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BacktraceStyle {
    /// As the guest prints it (full, or none).
    AsPrinted,
    /// The guest prints full; the host trims to std's short form.
    Short,
}

/// The environment entry the guest gets for `RUST_BACKTRACE=value`, and the style the
/// host then applies: the short form becomes `full` plus host-side trimming.
pub fn backtrace_environment(value: &str) -> (Option<&'static str>, BacktraceStyle) {
    match value {
        "0" | "full" => (None, BacktraceStyle::AsPrinted),
        _ => (Some("RUST_BACKTRACE=full"), BacktraceStyle::Short),
    }
}

/// Rewrites the guest's stderr line by line (module docs).
#[derive(Debug)]
pub struct Annotator {
    symbolizer: Symbolizer,
    style: BacktraceStyle,
    /// Run address − link address (the `image base` line).
    load_offset: u64,
    /// Short form: inside the part std shows.
    showing: bool,
    /// Short form: frames printed so far in this backtrace.
    shown: usize,
    /// Short form: the trailing note is due.
    note_due: bool,
}

const SHORT_NOTE: &str =
    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.";

impl Annotator {
    pub fn new(symbolizer: Symbolizer, style: BacktraceStyle) -> Annotator {
        Annotator {
            symbolizer,
            style,
            load_offset: 0,
            showing: false,
            shown: 0,
            note_due: false,
        }
    }

    /// Whether a line that starts with `partial` may still be one this rewrites (the
    /// relay holds back only those until their end).
    pub fn may_rewrite(partial: &str) -> bool {
        let text = partial.trim_start();
        text.is_empty()
            || text.starts_with(|c: char| c == '#' || c.is_ascii_digit())
            || "image base".starts_with(text)
            || text.starts_with("image base")
            || "stack backtrace:".starts_with(text)
            || text.starts_with("stack backtrace:")
    }

    /// The lines to print for one line of the guest's stderr (without its newline).
    pub fn rewrite(&mut self, line: &str) -> Vec<String> {
        let text = line.trim_start();
        if let Some(offset) = parse_image_base(text) {
            self.load_offset = offset;
            return vec![line.to_string()];
        }
        if text == "stack backtrace:" {
            self.showing = false;
            self.shown = 0;
            self.note_due = self.style == BacktraceStyle::Short;
            return vec![line.to_string()];
        }
        if let Some(rest) = text.strip_prefix('#') {
            return vec![self.crash_frame(line, rest)];
        }
        if let Some((_, address)) = parse_std_frame(text) {
            return self.std_frame(line, address);
        }
        let mut out = Vec::new();
        if self.note_due {
            // The backtrace ended (std's short form would have printed its note).
            self.note_due = false;
            out.push(SHORT_NOTE.to_string());
        }
        out.push(line.to_string());
        out
    }

    /// At the end of the stream: what is still due.
    pub fn finish(&mut self) -> Vec<String> {
        if std::mem::take(&mut self.note_due) {
            vec![SHORT_NOTE.to_string()]
        } else {
            Vec::new()
        }
    }

    fn lookup(&self, address: u64, return_address: bool) -> Option<Location> {
        let address = address.wrapping_sub(self.load_offset);
        self.symbolizer
            .locate(address.saturating_sub(u64::from(return_address)))
    }

    /// `    #N  0xADDRESS` of a crash report.
    fn crash_frame(&self, line: &str, rest: &str) -> String {
        let mut words = rest.split_whitespace();
        let (Some(index), Some(address)) = (words.next(), words.next()) else {
            return line.to_string();
        };
        let (Ok(index), Some(address)) = (index.parse::<usize>(), parse_hex(address)) else {
            return line.to_string();
        };
        if words.next().is_some() {
            return line.to_string();
        }
        match self.lookup(address, index > 0) {
            Some(location) => {
                let mut text = format!("{line}  {}+{:#x}", location.function, location.offset);
                if let Some(source) = location.line {
                    text.push_str(&format!(" at {source}"));
                }
                text
            }
            None => line.to_string(),
        }
    }

    /// `  N:   0xADDRESS - <unknown>` of std.
    fn std_frame(&mut self, line: &str, address: u64) -> Vec<String> {
        let Some(location) = self.lookup(address, true) else {
            return match self.style {
                BacktraceStyle::Short if !self.showing => Vec::new(),
                _ => vec![line.to_string()],
            };
        };
        let at = |location: &Location| {
            location
                .line
                .as_ref()
                .map(|source| format!("             at {source}"))
        };
        match self.style {
            BacktraceStyle::AsPrinted => {
                let prefix = line.strip_suffix("<unknown>").unwrap_or(line);
                let mut out = vec![format!("{prefix}{}", location.function)];
                out.extend(at(&location));
                out
            }
            BacktraceStyle::Short => {
                let name = &location.function;
                if self.showing && name.contains("__rust_begin_short_backtrace") {
                    self.showing = false;
                    return Vec::new();
                }
                if name.contains("__rust_end_short_backtrace") {
                    self.showing = true;
                    return Vec::new();
                }
                if !self.showing {
                    return Vec::new();
                }
                let mut out = vec![format!("{:4}: {name}", self.shown)];
                self.shown += 1;
                out.extend(at(&location));
                out
            }
        }
    }
}

fn parse_hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

/// `N: 0xADDRESS - …` (std's frame line, leading spaces trimmed): `(N, ADDRESS)`.
fn parse_std_frame(text: &str) -> Option<(usize, u64)> {
    let (index, rest) = text.split_once(':')?;
    let index = index.parse().ok()?;
    let (address, rest) = rest.trim_start().split_once(" - ")?;
    (!rest.is_empty()).then_some(())?;
    Some((index, parse_hex(address)?))
}

/// `image base 0xRUN (linked at 0xLINK)`: RUN − LINK.
fn parse_image_base(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("image base ")?;
    let (run, rest) = rest.split_once(' ')?;
    let link = rest.strip_prefix("(linked at ")?.strip_suffix(')')?;
    Some(parse_hex(run)?.wrapping_sub(parse_hex(link)?))
}

#[cfg(test)]
mod tests;
