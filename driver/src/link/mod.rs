//! The link pipeline (DESIGN.md decision 3), one module per phase, top-down:
//!
//! 1. [`inputs`]: read every object and archive of the link line;
//! 2. [`symbols`]: load objects and archive members as ld would; what stays undefined
//!    is what the program may need from the runtime;
//!    [`liveness`]: of those, the ones the sections LLD's `--gc-sections` keeps really
//!    reference (the program needs them from the runtime);
//! 3. [`selection`]: resolve that against the component manifest and take the
//!    closure over `requires`;
//! 4. [`diagnostics`]: a symbol nobody provides stops the link here, with an
//!    LLD-shaped report (or becomes a stub with `--stub-missing`); [`protection`]: so
//!    does an object asking for an executable stack (without `-z execstack`);
//! 5. [`generated`]: one generated object carries the init table, the recorded
//!    selection and the stubs;
//! 6. LLD links the inputs, the generated object and the runtime archive with
//!    `--gc-sections` (the caller runs it, with [`IMAGE_LINK_FLAGS`], then refuses an
//!    image with a writable and executable segment: [`protection::check_segments`]);
//! 7. [`relocations`]: the image's dynamic relocations must all be RELATIVE
//!    ([`check_relocations`]);
//! 8. [`symbol_table`]: the caller compacts the image's symbol table (Rust's name
//!    hashes and AArch64 mapping symbols go).

pub mod diagnostics;
pub mod generated;
pub mod inputs;
pub mod liveness;
pub mod protection;
pub mod relocations;
pub mod selection;
pub mod symbol_table;
pub mod symbolizer;
pub mod symbols;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use unik_sysroot::manifest::Manifest;

use crate::error::{Error, Result};
use generated::{ComponentsRecord, RECORD_FORMAT};
use selection::Selection;

/// The LLD options every image link gets (unikcc, unikld and cargo unik): a static,
/// freestanding link with the target's linker script, as a static PIE so the runtime
/// can move the image to a random address at boot (runtime/kernel/src/aslr.rs):
/// `-pie --no-dynamic-linker` (no interpreter), `-z text` (no relocation of code),
/// `-z now`, `--apply-dynamic-relocs` (the relocated words also hold their link-time
/// values, so an image booted without ASLR runs unrelocated) and
/// `--pack-dyn-relocs=relr` (RELATIVE relocations as `.relr.dyn` bitmaps: 8 bytes
/// for up to 63 pointers instead of 24 bytes each).
pub const IMAGE_LINK_FLAGS: &[&str] = &[
    "-static",
    "-pie",
    "--no-dynamic-linker",
    "-z",
    "text",
    "-z",
    "now",
    "--apply-dynamic-relocs",
    "--pack-dyn-relocs=relr",
    "-nostdlib",
    "--gc-sections",
    "-z",
    "max-page-size=4096",
    "--build-id=none",
];

/// Phase 7: fails when the linked image at `path` (named `output` in the message) has
/// a dynamic relocation other than RELATIVE.
pub fn check_relocations(path: &std::path::Path, output: &std::path::Path) -> Result<()> {
    let data = std::fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    let found =
        relocations::unsupported(&data).map_err(|message| Error::UnsupportedRelocation {
            image: output.display().to_string(),
            relocation: format!("cannot read the linked image ({message})"),
            more: String::new(),
        })?;
    let Some(first) = found.first() else {
        return Ok(());
    };
    Err(Error::UnsupportedRelocation {
        image: output.display().to_string(),
        relocation: first.to_string(),
        more: match found.len() {
            1 => String::new(),
            count => format!(" (and {} more)", count - 1),
        },
    })
}

/// One input file of the link line and how messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInput {
    pub path: PathBuf,
    pub display_name: String,
}

/// What the selection needs to know about one link.
#[derive(Debug, Clone)]
pub struct SelectionRequest<'a> {
    pub target_name: &'a str,
    pub architecture: object::Architecture,
    pub inputs: &'a [LinkInput],
    pub manifest: &'a Manifest,
    /// `--all-components`.
    pub all_components: bool,
    /// `--stub-missing`.
    pub stub_missing: bool,
    /// Symbols the link defines without any input: the linker script's assignments
    /// and `--defsym`s (LLD's reserved symbols are known to [`symbols`]).
    pub linker_defined: &'a BTreeSet<String>,
    /// The link options' roots for [`liveness`] (`-u`, `-e`) and whether the link
    /// collects unused sections (see [`liveness::options_roots`]).
    pub option_roots: &'a BTreeSet<String>,
    pub collect_garbage: bool,
    /// `-z execstack` is on the link line: objects asking for an executable stack are
    /// accepted ([`protection`]).
    pub executable_stack_allowed: bool,
}

/// The outcome of phases 1–5.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub selection: Selection,
    pub record: ComponentsRecord,
    /// The generated object's bytes.
    pub generated_object: Vec<u8>,
    /// Extra LLD arguments (`-u symbol` for `--all-components`, `--defsym NAME=STAND_IN`
    /// for the symbols bound to stand-ins).
    pub linker_arguments: Vec<OsString>,
    /// Whether the image keeps its unwind tables (see [`needs_unwind_tables`]).
    pub unwind_tables: bool,
    /// How long phases 1–5 took (shown by `-v`; the benchmark reads it).
    pub elapsed: Duration,
}

/// Runs phases 1–5. A missing symbol without `--stub-missing` is
/// [`Error::UndefinedSymbols`], carrying the complete report.
pub fn prepare(request: &SelectionRequest<'_>, program: &str) -> Result<Prepared> {
    let started = Instant::now();
    let mut read = Vec::with_capacity(request.inputs.len());
    for input in request.inputs {
        read.push(inputs::read(
            &input.path,
            &input.display_name,
            request.architecture,
        )?);
    }
    let mut resolution = symbols::resolve(&read);
    let mut incidental = std::collections::BTreeMap::new();
    if request.collect_garbage {
        let mut roots = liveness::Roots {
            symbols: request.option_roots.clone(),
            runtime_names: request.manifest.symbols.keys().cloned().collect(),
        };
        roots.symbols.insert("main".to_string());
        roots
            .runtime_names
            .extend(request.manifest.toolchain_symbols.iter().cloned());
        let live = liveness::live_undefined(&resolution, &roots)?;
        resolution.undefined = live.needed;
        incidental = live.incidental;
    }
    resolution
        .undefined
        .retain(|name, _| !symbols::is_linker_defined(name, request.linker_defined));
    incidental.retain(|name, _| !symbols::is_linker_defined(name, request.linker_defined));
    // `-u NAME` of a runtime symbol asks for it as an undefined reference would (LLD
    // then takes it from the archive): its component is selected
    // (`unikcc --framebuffer-console` is `-u` of that component's init function).
    for name in request.option_roots {
        if request.manifest.symbols.contains_key(name) {
            resolution.undefined.entry(name.clone()).or_default();
        }
    }
    protection::check_executable_stack(
        &resolution.loaded,
        request.executable_stack_allowed,
        program,
    )
    .map_err(Error::WriteExecute)?;
    let (selection, stand_ins) = selection::select_with_stand_ins(
        &mut resolution,
        request.manifest,
        request.all_components,
        incidental,
    );
    if !selection.missing.is_empty() && !request.stub_missing {
        let reports =
            diagnostics::undefined_symbols(&selection.missing, &resolution, request.manifest);
        let mut text: String = reports
            .iter()
            .map(|report| report.render(program))
            .collect();
        text.push_str(&format!(
            "{program}: note: `--stub-missing` links a stub for each missing function instead (it warns when called and fails with ENOSYS)\n"
        ));
        return Err(Error::UndefinedSymbols(text));
    }
    let record = ComponentsRecord {
        format: RECORD_FORMAT,
        target: request.target_name.to_string(),
        components: selection.components.clone(),
        stubbed: if request.stub_missing {
            selection.missing.clone()
        } else {
            Vec::new()
        },
    };
    let generated_object = generated::generate(
        request.architecture,
        &record,
        &selection.init_functions(request.manifest),
    )
    .map_err(|error| Error::Usage(error.to_string()))?;
    let mut linker_arguments: Vec<OsString> = stand_ins
        .iter()
        .map(|name| {
            OsString::from(format!(
                "--defsym={name}={}{name}",
                selection::STAND_IN_PREFIX
            ))
        })
        .collect();
    if request.all_components {
        // Every component's code and init, as if every symbol were referenced.
        for component in &request.manifest.components {
            for symbol in &component.symbols {
                linker_arguments.push(OsString::from("-u"));
                linker_arguments.push(OsString::from(symbol));
            }
        }
    }
    let unwind_tables = needs_unwind_tables(&selection, &resolution, request.all_components);
    Ok(Prepared {
        selection,
        record,
        generated_object,
        linker_arguments,
        unwind_tables,
        elapsed: started.elapsed(),
    })
}

/// `unik explain`'s lines: one per component, `name <- why`, aligned.
pub fn explain_lines(record: &ComponentsRecord) -> Vec<String> {
    let width = record
        .components
        .iter()
        .map(|selected| selected.component.len())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<String> = record
        .components
        .iter()
        .map(|selected| {
            let why = match &selected.reason {
                selection::Reason::Symbol { symbol, object } => format!("{symbol} ({object})"),
                selection::Reason::RequiredBy { component } => format!("required by {component}"),
                selection::Reason::Always => "always (the image's entry)".to_string(),
                selection::Reason::Forced => "--all-components".to_string(),
                selection::Reason::StandIns { symbols } => format!(
                    "stand-ins for {} (Rust std calls them only where a unik image needs nothing: link/liveness.rs, link/symbolizer.rs)",
                    symbols.join(", ")
                ),
            };
            format!("{:<width$} <- {why}", selected.component)
        })
        .collect();
    for stub in &record.stubbed {
        lines.push(format!(
            "{stub:<width$} <- stub (--stub-missing): fails with ENOSYS"
        ));
    }
    lines
}

/// The component that reads the unwind tables (`_Unwind_*`, Rust panics and backtraces).
const UNWINDER_COMPONENT: &str = "unwind";

/// A linker script that drops the unwind tables: given before the target's script, as
/// LLD places a section by the first rule that matches it, so this `/DISCARD/` wins over
/// the target script's `.eh_frame` (which then stays empty, its symbols defined).
pub const DISCARD_UNWIND_TABLES_SCRIPT: &str = "/* unikcc: the image links no unwinder (see `unik explain`) */\nSECTIONS\n{\n    /DISCARD/ : { *(.eh_frame) }\n}\n";

/// The file name [`Prepared::unwind_table_arguments`] writes it under.
const DISCARD_UNWIND_TABLES_FILE: &str = "unik-discard-unwind-tables.ld";

/// Whether the image needs `.eh_frame`. Only an unwinder reads it: crash reports walk
/// the frame pointers and symbolize on the host, so a C program without one carries
/// about 4 KiB of tables nobody reads. Kept when the `unwind` component is selected,
/// when a program input defines an unwinder of its own (`_Unwind_*`,
/// `__register_frame*`) or names the tables' linker-script symbols (`__eh_frame*`),
/// and with `--all-components`.
fn needs_unwind_tables(
    selection: &Selection,
    resolution: &symbols::Resolution<'_>,
    all_components: bool,
) -> bool {
    fn reads_unwind_tables(name: &str) -> bool {
        name.starts_with("_Unwind_")
            || name.starts_with("__register_frame")
            || name.starts_with("__eh_frame")
    }
    all_components
        || selection
            .components
            .iter()
            .any(|selected| selected.component == UNWINDER_COMPONENT)
        || resolution.loaded.iter().any(|object| {
            object
                .defined
                .iter()
                .chain(&object.undefined)
                .any(|name| reads_unwind_tables(name))
        })
}

impl Prepared {
    /// The LLD arguments for the unwind tables, given before the target's linker
    /// script: `--eh-frame-hdr` when the image keeps them (the unwinder finds them
    /// through that index: runtime/libc/src/unwind.rs), else `-T` a script that drops
    /// them, written into `directory` (the link's temporary directory).
    pub fn unwind_table_arguments(&self, directory: &Path) -> Result<Vec<OsString>> {
        if self.unwind_tables {
            return Ok(vec![OsString::from("--eh-frame-hdr")]);
        }
        let script = directory.join(DISCARD_UNWIND_TABLES_FILE);
        std::fs::write(&script, DISCARD_UNWIND_TABLES_SCRIPT)
            .map_err(|source| Error::io("cannot write", &script, source))?;
        Ok(vec![OsString::from("-T"), script.into_os_string()])
    }
}

#[cfg(test)]
mod unwind_table_tests {
    use super::inputs::ObjectInput;
    use super::needs_unwind_tables;
    use super::selection::{Reason, Selected, Selection};
    use super::symbols::Resolution;

    fn object(defined: &[&str], undefined: &[&str]) -> ObjectInput {
        ObjectInput {
            display_name: "main.o".to_string(),
            bytes: Vec::new(),
            defined: defined.iter().map(|name| name.to_string()).collect(),
            undefined: undefined.iter().map(|name| name.to_string()).collect(),
        }
    }

    fn selection(components: &[&str]) -> Selection {
        Selection {
            components: components
                .iter()
                .map(|name| Selected {
                    component: name.to_string(),
                    reason: Reason::Always,
                })
                .collect(),
            missing: Vec::new(),
        }
    }

    fn needs(components: &[&str], input: &ObjectInput, all_components: bool) -> bool {
        let resolution = Resolution {
            loaded: vec![input],
            undefined: Default::default(),
        };
        needs_unwind_tables(&selection(components), &resolution, all_components)
    }

    #[test]
    fn only_an_unwinder_keeps_the_unwind_tables() {
        let plain = object(&["main"], &["puts"]);
        assert!(!needs(&["boot", "stdio"], &plain, false));
        assert!(needs(&["boot", "stdio", "unwind"], &plain, false));
        assert!(needs(&["boot", "stdio"], &plain, true), "--all-components");
        // A program with an unwinder of its own, or reading the tables itself.
        let own = object(&["main", "_Unwind_RaiseException"], &[]);
        assert!(needs(&["boot"], &own, false));
        let registers = object(&["main"], &["__register_frame_info"]);
        assert!(needs(&["boot"], &registers, false));
        let reads = object(&["main"], &["__eh_frame_start"]);
        assert!(needs(&["boot"], &reads, false));
    }
}
