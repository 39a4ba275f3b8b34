//! `unik size app.img`: where an image's bytes go, like cargo-bloat — bytes per
//! component, the largest symbols, and the text/rodata/data/bss totals.
//!
//! Each sized symbol of the image's symbol table is attributed: a C symbol through
//! the manifest (symbol → component), a Rust symbol through its demangled path and
//! the components' `modules` prefixes (the longest wins), Rust's `core`/`alloc` and
//! the compiler runtime to `rust-core` and `compiler-runtime`, and the rest — what
//! the program defines — to `program`.

use std::collections::BTreeMap;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};
use serde::Serialize;
use unik_sysroot::manifest::{Manifest, is_rust_mangled};

use crate::error::{Error, Result};

/// Bytes of one component (or bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSize {
    pub component: String,
    pub bytes: u64,
    pub symbols: usize,
    /// False for a component whose code is in the image although the selection did
    /// not choose it: always-linked code reaches its Rust internals directly.
    pub selected: bool,
}

/// One symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolSize {
    pub name: String,
    pub component: String,
    pub bytes: u64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizeReport {
    pub file_bytes: u64,
    pub text: u64,
    pub rodata: u64,
    pub data: u64,
    pub bss: u64,
    pub components: Vec<ComponentSize>,
    pub largest: Vec<SymbolSize>,
}

/// Measures the image at `path`, listing the `top` largest symbols; `selected` are
/// the components its recorded selection names.
pub fn measure(
    path: &Path,
    manifest: &Manifest,
    selected: &[String],
    top: usize,
) -> Result<SizeReport> {
    let bytes = std::fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    let file = object::File::parse(bytes.as_slice()).map_err(|error| Error::NotAnImage {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    // Images are static PIEs (ET_DYN: the runtime moves them at boot); older ones
    // were ET_EXEC.
    if !matches!(
        file.kind(),
        object::ObjectKind::Executable | object::ObjectKind::Dynamic
    ) {
        return Err(Error::NotAnImage {
            path: path.to_path_buf(),
            message: format!("an ELF {:?} file, not a linked image", file.kind()),
        });
    }
    let (mut text, mut rodata, mut data, mut bss) = (0, 0, 0, 0);
    for section in file.sections() {
        let size = section.size();
        match section.kind() {
            SectionKind::Text => text += size,
            SectionKind::ReadOnlyData
            | SectionKind::ReadOnlyDataWithRel
            | SectionKind::ReadOnlyString => rodata += size,
            SectionKind::Data | SectionKind::Tls => data += size,
            SectionKind::UninitializedData | SectionKind::UninitializedTls => bss += size,
            _ => {}
        }
    }
    let mut components: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let mut symbols = Vec::new();
    for symbol in file.symbols() {
        if symbol.size() == 0
            || !matches!(
                symbol.kind(),
                SymbolKind::Text | SymbolKind::Data | SymbolKind::Tls
            )
        {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        let component = attribute(name, manifest);
        let entry = components.entry(component.clone()).or_default();
        entry.0 += symbol.size();
        entry.1 += 1;
        symbols.push(SymbolSize {
            name: display_name(name),
            component,
            bytes: symbol.size(),
        });
    }
    symbols.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    symbols.truncate(top);
    let mut components: Vec<ComponentSize> = components
        .into_iter()
        .map(|(component, (bytes, symbols))| ComponentSize {
            selected: manifest.component(&component).is_none() || selected.contains(&component),
            component,
            bytes,
            symbols,
        })
        .collect();
    components.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.component.cmp(&b.component))
    });
    Ok(SizeReport {
        file_bytes: bytes.len() as u64,
        text,
        rodata,
        data,
        bss,
        components,
        largest: symbols,
    })
}

/// The component a symbol of the image belongs to.
pub fn attribute(name: &str, manifest: &Manifest) -> String {
    if let Some(component) = manifest.symbols.get(name) {
        return component.clone();
    }
    if manifest.toolchain_symbols.contains(name) {
        return "compiler-runtime".to_string();
    }
    if !is_rust_mangled(name) {
        return "program".to_string();
    }
    let path = format!("{:#}", rustc_demangle::demangle(name));
    // `<T as Trait>::method` names its implementing type first.
    let path = path.trim_start_matches('<');
    let mut best: Option<(&str, usize)> = None;
    for component in &manifest.components {
        for prefix in &component.modules {
            if path.starts_with(prefix.as_str())
                && best.is_none_or(|(_, length)| prefix.len() > length)
            {
                best = Some((&component.name, prefix.len()));
            }
        }
    }
    match best {
        Some((component, _)) => component.to_string(),
        None if path.starts_with("compiler_builtins") => "compiler-runtime".to_string(),
        None => "rust-core".to_string(),
    }
}

fn display_name(name: &str) -> String {
    if is_rust_mangled(name) {
        format!("{:#}", rustc_demangle::demangle(name))
    } else {
        name.to_string()
    }
}

/// The text `unik size` prints.
pub fn render(report: &SizeReport) -> String {
    let mut text = format!(
        "file {} bytes: text {}, rodata {}, data {}, bss {} (not in the file)\n\n",
        report.file_bytes, report.text, report.rodata, report.data, report.bss
    );
    let total: u64 = report.components.iter().map(|c| c.bytes).sum();
    text.push_str(&format!(
        "{:<20} {:>9} {:>7} {:>8}\n",
        "component", "bytes", "share", "symbols"
    ));
    for component in &report.components {
        let share = if total == 0 {
            0.0
        } else {
            component.bytes as f64 * 100.0 / total as f64
        };
        let marker = if component.selected { "" } else { " *" };
        text.push_str(&format!(
            "{:<20} {:>9} {:>6.1}% {:>8}{marker}\n",
            component.component, component.bytes, share, component.symbols
        ));
    }
    if report
        .components
        .iter()
        .any(|component| !component.selected)
    {
        text.push_str(
            "* not selected: always-linked code calls into its Rust internals directly\n",
        );
    }
    text.push_str(&format!(
        "\n{:>9}  {:<16} {}\n",
        "bytes", "component", "largest symbols"
    ));
    for symbol in &report.largest {
        text.push_str(&format!(
            "{:>9}  {:<16} {}\n",
            symbol.bytes, symbol.component, symbol.name
        ));
    }
    text
}

/// The JSON `unik size --json` prints.
pub fn render_json(report: &SizeReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_attributed_by_manifest_module_or_bucket() {
        let manifest = crate::link::selection::tests::manifest();
        assert_eq!(attribute("printf", &manifest), "stdio");
        assert_eq!(attribute("__udivti3", &manifest), "compiler-runtime");
        assert_eq!(attribute("main", &manifest), "program");
        // unik_libc::alloc::grow (legacy mangling).
        assert_eq!(
            attribute("_ZN9unik_libc5alloc4grow17h0123456789abcdefE", &manifest),
            "alloc"
        );
        assert_eq!(
            attribute("_ZN4core3fmt5write17h0123456789abcdefE", &manifest),
            "rust-core"
        );
    }
}
