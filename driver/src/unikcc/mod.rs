//! `unikcc`: a gcc-compatible compiler driver that turns C sources into one
//! bootable unik image.
//!
//! Phases, one function each: [`arguments::parse`] → check inputs → find tools and
//! the sysroot → compile every source with the C compiler → select the components
//! the program needs ([`crate::link`]) → link with LLD and the target's linker
//! script. The driver never links through the compiler, so gcc and clang give the
//! same image.

pub mod arguments;
pub mod ld;
pub mod links;
mod queries;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use arguments::{Input, Invocation, Language, Stage, UsageErrors};

use crate::discovery::{self, CCompiler, Environment, Linker};
use crate::error::{Error, Result};
use crate::link;
use crate::sysroot::{self, EnsureOptions};
use crate::target::{DEFAULT_TARGET, TargetSpec};

/// The program name used in messages.
pub const PROGRAM: &str = "unikcc";

/// Flags every compile gets, after the target selection and before the user's
/// (runtime/README.md, "Compiling C for the runtime"):
///
/// - `-nostdinc -isystem <sysroot>/include`: only the sysroot's headers (they are
///   complete on their own).
/// - `-D__unik__=1`: lets portable code tell it is built for unik.
///
/// Everything else is left at the compiler's defaults. Position-independent code:
/// Debian's compilers emit PIE objects; LLD links them into the static,
/// fixed-address image and relaxes their GOT loads to direct addressing, so
/// `-fno-pic` would change nothing but the flags a user sees.
/// - `-fstack-protector-strong -fstack-clash-protection`: hardening on by default, as
///   in Debian's and Fedora's gcc. The runtime keeps the canary (random per boot) at
///   `%fs:0x28` on x86_64 and in `__stack_chk_guard` on aarch64 and provides
///   `__stack_chk_fail`; every stack has a guard page for the clash probes to hit. The
///   user's `-fno-stack-protector` / `-fno-stack-clash-protection` come later on the
///   line and win.
const FIXED_COMPILER_FLAGS: &[&str] = &[
    "-D__unik__=1",
    "-fstack-protector-strong",
    "-fstack-clash-protection",
];

/// Libraries the runtime archive itself provides (the C library and its usual
/// companions); `-lm`, `-lpthread` & co. from existing makefiles are accepted and
/// need no file.
const PROVIDED_BY_THE_RUNTIME: &[&str] = &[
    "c", "m", "pthread", "dl", "rt", "util", "gcc", "gcc_s", "unik",
];

/// The unik targets a program name can carry as its prefix.
const PREFIX_TARGETS: &[&str] = &["x86_64", "aarch64"];

/// The target a target-prefixed program name selects: `x86_64-unik-cc`,
/// `aarch64-unik-gcc`, `aarch64-unik-ld` (the first word is the target, and the
/// name must say `unik`, so a plain `x86_64-linux-gnu-gcc` symlink is not taken).
pub fn target_from_program_name(program: &OsStr) -> Option<&'static str> {
    let name = Path::new(program).file_name()?.to_str()?;
    let (first, rest) = name.split_once('-')?;
    if !rest.split('-').any(|word| word == "unik") {
        return None;
    }
    PREFIX_TARGETS
        .iter()
        .copied()
        .find(|target| *target == first)
}

/// Whether a program name is the linker entry (`unikld`, `x86_64-unik-ld`).
pub fn is_linker_name(program: &OsStr) -> bool {
    Path::new(program)
        .file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|name| name == ld::PROGRAM || name.ends_with("-ld"))
}

/// Runs unikcc; returns the process exit status. Diagnostics go to stderr.
pub fn main(arguments: &[OsString], environment: &Environment) -> i32 {
    match run(arguments, environment) {
        Ok(status) => status,
        Err(Error::InvalidCommandLine(errors)) => {
            eprint!("{}", errors.render(PROGRAM));
            1
        }
        Err(Error::UndefinedSymbols(report) | Error::WriteExecute(report)) => {
            eprint!("{report}");
            1
        }
        Err(error) => {
            eprintln!("{PROGRAM}: error: {error}");
            1
        }
    }
}

fn run(arguments: &[OsString], environment: &Environment) -> Result<i32> {
    let invocation = arguments::parse(arguments).map_err(Error::InvalidCommandLine)?;
    let spec = TargetSpec::find(invocation.target.as_deref().unwrap_or(DEFAULT_TARGET))?;
    if let Some(query) = &invocation.query {
        let text = queries::answer(query, &invocation, &spec, environment)?;
        // A closed stdout (`unikcc -dumpmachine | head -c0`) is not an error.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return Ok(0);
    }
    if invocation.verbose && invocation.inputs.is_empty() {
        // `gcc -v` alone prints the version (on stderr) and succeeds; configure
        // scripts probe compilers that way, and take one whose answer says "gcc"
        // (or "clang") for a driver with gcc's options (zlib's configure then tries
        // `$CC -shared`, is refused, and builds the static library; with an
        // unknown compiler it would link the "shared" test with the host's `cc`).
        eprintln!(
            "unikcc (unik) {}, a gcc-compatible driver, for {} ({})",
            env!("CARGO_PKG_VERSION"),
            spec.name,
            spec.c_triple
        );
        return Ok(0);
    }
    check_inputs(&invocation)?;
    let output_format = match &invocation.output_format {
        Some(text) => crate::image_format::OutputFormat::parse(text)?,
        None => spec.output_format,
    };
    output_format.check_target(&spec)?;

    let needs_compiler = invocation
        .inputs
        .iter()
        .any(|input| matches!(input, Input::Source { .. }));
    let c_compiler = if needs_compiler {
        let explicit = invocation.c_compiler.as_deref();
        Some(discovery::find_c_compiler(environment, explicit, &spec)?)
    } else {
        None
    };
    let sysroot_paths = if invocation.print_only {
        // `-###` runs nothing, so it builds nothing either: show where things would be.
        SysrootPaths::at(sysroot::directory(environment, &spec)?)
    } else {
        let options = EnsureOptions {
            c_compiler: c_compiler.as_ref(),
            force: false,
            verbose: invocation.verbose,
        };
        let held = sysroot::ensure(environment, &spec, options, |reason| {
            eprintln!("{}", sysroot::progress_line(PROGRAM, &spec, reason));
        })?;
        SysrootPaths::held(held)
    };

    let work = crate::error::temporary_directory("unikcc-")?;
    let runner = Runner {
        verbose: invocation.verbose,
        print_only: invocation.print_only,
    };

    // Compile every source; keep going after a failure (as gcc does) so the user
    // sees every file's diagnostics, then stop before the link.
    let mut link_items: Vec<LinkItem> = Vec::new();
    let mut failed_status = None;
    for (index, input) in invocation.inputs.iter().enumerate() {
        match input {
            Input::Source { path, language } => {
                let Some(compiler) = &c_compiler else {
                    continue;
                };
                let output = compile_output(&invocation, path, index, work.path());
                let command = compile_command(
                    compiler,
                    &spec,
                    &sysroot_paths.include_directory(),
                    &invocation,
                    path,
                    *language,
                    output.as_deref(),
                );
                let status = runner.run(command)?;
                if status != 0 {
                    failed_status = failed_status.or(Some(status));
                }
                if let Some(object) = output.filter(|_| invocation.stage == Stage::Link) {
                    // Messages name the object after its source, as the user knows it.
                    let mut display = path.file_stem().unwrap_or(OsStr::new("out")).to_os_string();
                    display.push(".o");
                    link_items.push(LinkItem::Path(
                        object,
                        display.to_string_lossy().into_owned(),
                    ));
                }
            }
            Input::LinkerInput(path) => {
                link_items.push(LinkItem::Path(path.clone(), path.display().to_string()))
            }
            Input::Library(name) => link_items.push(LinkItem::Library(name.clone())),
            Input::LinkerFlag(flag) => link_items.push(LinkItem::Flag(flag.clone())),
        }
    }
    if let Some(status) = failed_status {
        return Ok(status);
    }
    if invocation.stage != Stage::Link {
        return Ok(0);
    }

    let linker = discovery::find_linker(environment)?;
    let mut search = invocation.library_directories.clone();
    search.push(sysroot_paths.library_directory());
    let (mut items, inputs) = resolve_libraries(link_items, &search, runner.print_only)?;
    if !wants_debug_info(&invocation.compiler_flags) {
        // The runtime archive carries DWARF (the prebuilt `core` and
        // `compiler_builtins` always do). Without `-g` the user asked for none, as
        // with gcc, whose libc.a has none: keep the symbols, drop the debug sections.
        items.insert(0, OsString::from("--strip-debug"));
    }
    let output = invocation
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("a.out"));
    let prepared = if runner.print_only {
        None
    } else {
        let mut linker_defined = defined_symbols(&items);
        let script = sysroot_paths.linker_script();
        let script_text = std::fs::read_to_string(&script)
            .map_err(|source| Error::io("cannot read", &script, source))?;
        linker_defined.extend(link::symbols::script_assignments(&script_text));
        Some(select_components(
            &invocation,
            &spec,
            &sysroot_paths,
            &inputs,
            &linker_defined,
            &items,
            link::protection::executable_stack_allowed(&items),
        )?)
    };
    if let Some(prepared) = &prepared {
        items.extend(prepared.linker_arguments.iter().cloned());
    }
    if let Some(tree) = &invocation.file_system {
        // The file tree (--fs) is one more input object (crate::embed).
        let architecture = crate::manifest::object_architecture(&spec)?;
        let epoch = environment.get_text("SOURCE_DATE_EPOCH");
        let object = crate::embed::write_object(tree, architecture, work.path(), epoch.as_deref())
            .map_err(|error| Error::Usage(format!("--fs: {error}")))?;
        items.push(object.into_os_string());
    }
    let status = link(
        &runner,
        &linker,
        &sysroot_paths,
        items,
        prepared.as_ref(),
        &work,
        &output,
    )?;
    if status == 0
        && !runner.print_only
        && output_format == crate::image_format::OutputFormat::Image
    {
        crate::image_format::rewrite_as_arm64_image(&output, spec.image_header_address)?;
    }
    Ok(status)
}

/// Link phases 1–5 ([`crate::link`]): reads the inputs, selects the components,
/// reports what nobody provides, and generates the object that records the
/// selection. `-v` and `--explain` show the outcome.
fn select_components(
    invocation: &Invocation,
    spec: &TargetSpec,
    sysroot: &SysrootPaths,
    inputs: &[link::LinkInput],
    linker_defined: &std::collections::BTreeSet<String>,
    items: &[OsString],
    executable_stack_allowed: bool,
) -> Result<link::Prepared> {
    let manifest = crate::manifest::load(&sysroot.directory)?;
    let architecture = crate::manifest::object_architecture(spec)?;
    let (option_roots, collect_garbage) =
        link::liveness::options_roots(items.iter().filter_map(|item| item.to_str()));
    let request = link::SelectionRequest {
        target_name: &spec.name,
        architecture,
        inputs,
        manifest: &manifest,
        all_components: invocation.all_components,
        stub_missing: invocation.stub_missing,
        linker_defined,
        option_roots: &option_roots,
        collect_garbage,
        executable_stack_allowed,
    };
    let prepared = link::prepare(&request, PROGRAM)?;
    let mut stderr = std::io::stderr().lock();
    if invocation.verbose {
        let names: Vec<&str> = prepared
            .selection
            .components
            .iter()
            .map(|selected| selected.component.as_str())
            .collect();
        let _ = writeln!(
            stderr,
            "{PROGRAM}: components: {} (selected in {:.2} ms)",
            names.join(" "),
            prepared.elapsed.as_secs_f64() * 1000.0
        );
    }
    if invocation.explain {
        for line in link::explain_lines(&prepared.record) {
            let _ = writeln!(stderr, "{line}");
        }
    }
    for stub in &prepared.record.stubbed {
        let _ = writeln!(
            stderr,
            "{PROGRAM}: warning: {stub} is not available in a unikernel; linked a stub that fails with ENOSYS (--stub-missing)"
        );
    }
    Ok(prepared)
}

const HELP: &str = "\
Usage: unikcc [options] file...
Compiles C sources and links them with the unik library OS into one bootable image.

  -o <file>            write the output to <file> (default: a.out)
  -c / -S / -E         stop after compiling / making assembly / preprocessing
  -O<level> -g -W… -f… -m… -std=… -I -D -U -include -x <language>
                       as in gcc (passed to the C compiler)
  -L <dir> -l<name>    search <dir> for lib<name>.a (-lc -lm -lpthread are built in)
  -Wl,<a,b> -Xlinker <a>
                       pass options to the linker (LLD)
  -v                   print every command and the components chosen
  --explain            print why each library-OS component is linked
  --stub-missing       link a stub (warns, fails with ENOSYS) for each function
                       a unikernel lacks, instead of failing the link
  --all-components     link every component (to compare sizes)
  --fs <dir>           embed <dir> in the image as its file tree (mounted at /,
                       writable: changes stay in RAM)
  --format <elf|image> the output's format: the ELF (default), or for aarch64 the
                       Linux arm64 Image (Firecracker, cloud-hypervisor, booti;
                       the default for raspi4b: its kernel8.img)
  -###                 print the commands and run none
  --target <name>      target to build for (default: x86_64)
  --cc <compiler>      C compiler to use (default: $UNIK_CC, else the newest clang)
  -                    read a source from standard input (with -x or -E)
  @<file>              read more options from <file>
  -dumpmachine         print the target's C triple
  -dumpversion --version
                       print the version
  -print-prog-name=<ar|ranlib|ld|…> -print-file-name=<lib>
  -print-search-dirs -print-sysroot
                       where the tools, libraries and headers are

Environment: UNIK_CC, UNIK_LD, UNIK_RUSTC, UNIK_CARGO, UNIK_SYSROOT_DIR, UNIK_SOURCE_DIR.
";

/// Every named file must exist before anything runs (gcc's message, then its
/// "no input files" when nothing usable is left).
fn check_inputs(invocation: &Invocation) -> Result<()> {
    let mut errors = Vec::new();
    let mut present = 0;
    for input in &invocation.inputs {
        let path = match input {
            Input::Source { path, .. } | Input::LinkerInput(path) => path,
            Input::Library(_) | Input::LinkerFlag(_) => continue,
        };
        if path.exists() || path.as_os_str() == arguments::STANDARD_INPUT {
            present += 1;
        } else {
            errors.push(arguments::Diagnostic::Error(format!(
                "{}: No such file or directory",
                path.display()
            )));
        }
    }
    if present == 0 {
        errors.push(arguments::Diagnostic::Fatal("no input files".to_string()));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidCommandLine(UsageErrors(errors)))
    }
}

/// Where one compile writes: the user's `-o`, gcc's `<stem>.o`/`<stem>.s` in the
/// working directory, standard output for `-E` without `-o`, or a temporary object
/// when linking.
fn compile_output(
    invocation: &Invocation,
    source: &Path,
    index: usize,
    work: &Path,
) -> Option<PathBuf> {
    let stem = source
        .file_stem()
        .unwrap_or(OsStr::new("out"))
        .to_os_string();
    let with_suffix = |suffix: &str| {
        let mut name = stem.clone();
        name.push(suffix);
        PathBuf::from(name)
    };
    match invocation.stage {
        Stage::Preprocess => invocation.output.clone(),
        Stage::Assembly => Some(
            invocation
                .output
                .clone()
                .unwrap_or_else(|| with_suffix(".s")),
        ),
        Stage::Compile => Some(
            invocation
                .output
                .clone()
                .unwrap_or_else(|| with_suffix(".o")),
        ),
        Stage::Link => {
            // Distinct names even for a.c and dir/a.c.
            let mut name = OsString::from(format!("{index}-"));
            name.push(with_suffix(".o"));
            Some(work.join(name))
        }
    }
}

/// The compiler command for one source.
fn compile_command(
    compiler: &CCompiler,
    spec: &TargetSpec,
    include_directory: &Path,
    invocation: &Invocation,
    source: &Path,
    language: Language,
    output: Option<&Path>,
) -> Command {
    let mut command = Command::new(&compiler.path);
    command
        .args(compiler.target_arguments(spec))
        .arg("-nostdinc")
        .arg("-isystem")
        .arg(include_directory)
        .args(FIXED_COMPILER_FLAGS)
        .args(&invocation.compiler_flags);
    command.arg(match invocation.stage {
        Stage::Preprocess => "-E",
        Stage::Assembly => "-S",
        Stage::Compile | Stage::Link => "-c",
    });
    command.arg("-x").arg(language.x_name()).arg(source);
    if let Some(output) = output {
        command.arg("-o").arg(output);
    }
    command
}

/// One item of the link line, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LinkItem {
    /// An object or archive, and how messages name it.
    Path(PathBuf, String),
    Library(OsString),
    Flag(OsString),
}

/// Turns `-lname` into the archive path (`-L` directories first, then the
/// sysroot), dropping the ones the runtime provides. `-l:file.a` names the file.
/// Returns the linker arguments and, separately, the input files among them.
fn resolve_libraries(
    items: Vec<LinkItem>,
    search: &[PathBuf],
    print_only: bool,
) -> Result<(Vec<OsString>, Vec<link::LinkInput>)> {
    let mut resolved = Vec::new();
    let mut inputs = Vec::new();
    for item in items {
        match item {
            LinkItem::Path(path, display_name) => {
                inputs.push(link::LinkInput {
                    path: path.clone(),
                    display_name,
                });
                resolved.push(path.into_os_string());
            }
            LinkItem::Flag(flag) => resolved.push(flag),
            LinkItem::Library(name) => {
                let text = name.to_string_lossy();
                if PROVIDED_BY_THE_RUNTIME.contains(&text.as_ref()) {
                    continue;
                }
                let file = match text.strip_prefix(':') {
                    Some(exact) => exact.to_string(),
                    None => format!("lib{text}.a"),
                };
                match search
                    .iter()
                    .map(|directory| directory.join(&file))
                    .find(|path| path.is_file())
                {
                    Some(path) => {
                        inputs.push(link::LinkInput {
                            path: path.clone(),
                            display_name: path.display().to_string(),
                        });
                        resolved.push(path.into_os_string());
                    }
                    None if print_only => resolved.push(OsString::from(format!("-l{text}"))),
                    None => {
                        let directories: Vec<String> = search
                            .iter()
                            .map(|path| path.display().to_string())
                            .collect();
                        return Err(Error::Usage(format!(
                            "cannot find -l{text} (looked for {file} in {}; unik links static archives only)",
                            directories.join(", ")
                        )));
                    }
                }
            }
        }
    }
    Ok((resolved, inputs))
}

/// The names `--defsym NAME=EXPR` / `--defsym=NAME=EXPR` define among the linker
/// arguments (passed with `-Wl,` or `-Xlinker`).
fn defined_symbols(items: &[OsString]) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut items = items.iter().map(|item| item.to_string_lossy());
    while let Some(item) = items.next() {
        let definition = match item
            .strip_prefix("--defsym")
            .or_else(|| item.strip_prefix("-defsym"))
        {
            Some("") => items.next().map(|next| next.into_owned()),
            Some(joined) => joined.strip_prefix('=').map(str::to_string),
            None => None,
        };
        if let Some((name, _)) = definition.as_deref().and_then(|text| text.split_once('=')) {
            names.insert(name.trim().to_string());
        }
    }
    names
}

/// Whether the compiler flags ask for debug information: the last `-g…` flag decides,
/// and `-g0` means none (as gcc reads them).
fn wants_debug_info(flags: &[OsString]) -> bool {
    flags
        .iter()
        .filter_map(|flag| flag.to_str())
        .rfind(|flag| flag.starts_with("-g") && !flag.starts_with("-gno-"))
        .is_some_and(|flag| flag != "-g0")
}

/// Links into a temporary file beside the output and renames it into place, so a
/// failed link never leaves a partial image (a stale one from an earlier build is
/// left untouched, as gcc does).
fn link(
    runner: &Runner,
    linker: &Linker,
    sysroot: &SysrootPaths,
    mut items: Vec<OsString>,
    prepared: Option<&link::Prepared>,
    work: &tempfile::TempDir,
    output: &Path,
) -> Result<i32> {
    let mut leading_arguments = Vec::new();
    if let Some(prepared) = prepared {
        // The generated object goes last among the inputs, before the runtime.
        let generated = work.path().join("unik-components.o");
        std::fs::write(&generated, &prepared.generated_object)
            .map_err(|source| Error::io("cannot write", &generated, source))?;
        items.push(generated.into_os_string());
        leading_arguments = prepared.unwind_table_arguments(work.path())?;
    }
    let directory = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if runner.print_only {
        runner.run(link_command(
            linker,
            sysroot,
            &leading_arguments,
            &items,
            output,
        ))?;
        return Ok(0);
    }
    let temporary = tempfile::Builder::new()
        .prefix(".unikcc-")
        .suffix(".tmp")
        .tempfile_in(&directory)
        .map_err(|source| Error::io("cannot create the output in", &directory, source))?
        .into_temp_path();
    let status = runner.run(link_command(
        linker,
        sysroot,
        &leading_arguments,
        &items,
        &temporary,
    ))?;
    if status != 0 {
        // Dropping `temporary` deletes whatever the linker left.
        return Ok(status);
    }
    let linked =
        std::fs::read(&temporary).map_err(|source| Error::io("cannot read", output, source))?;
    link::protection::check_segments(&linked, &output.display().to_string(), PROGRAM)
        .map_err(Error::WriteExecute)?;
    link::check_relocations(&temporary, output)?;
    if let Some(compacted) = link::symbol_table::compact(&linked) {
        std::fs::write(&temporary, compacted)
            .map_err(|source| Error::io("cannot write", output, source))?;
    }
    temporary
        .persist(output)
        .map_err(|error| Error::io("cannot write", output, error.error))?;
    Ok(0)
}

/// The LLD command line (runtime/README.md "Compiling C for the runtime").
fn link_command(
    linker: &Linker,
    sysroot: &SysrootPaths,
    leading_arguments: &[OsString],
    items: &[OsString],
    output: &Path,
) -> Command {
    let mut command = linker.image_link_command();
    command
        .args(leading_arguments)
        .arg("-T")
        .arg(sysroot.linker_script())
        .args(items)
        .arg(sysroot.runtime_archive())
        .arg("-o")
        .arg(output);
    command
}

/// Runs (or, for `-###`, only prints) commands.
struct Runner {
    verbose: bool,
    print_only: bool,
}

impl Runner {
    /// Runs a command with inherited stdio (diagnostics reach the user unmangled);
    /// returns its exit status (1 when it died of a signal, as gcc reports).
    fn run(&self, mut command: Command) -> Result<i32> {
        if self.verbose || self.print_only {
            let line = unik_sysroot::describe(&command);
            let mut stderr = std::io::stderr().lock();
            // A closed stderr must not stop the build.
            let _ = writeln!(stderr, " {line}");
        }
        if self.print_only {
            return Ok(0);
        }
        let status = command.status().map_err(|source| Error::Spawn {
            program: PathBuf::from(command.get_program()),
            source,
        })?;
        Ok(status.code().unwrap_or(1))
    }
}

/// The sysroot's paths, with the sysroot held (share-locked) while we use it.
struct SysrootPaths {
    directory: PathBuf,
    _held: Option<unik_sysroot::Sysroot>,
}

impl SysrootPaths {
    fn at(directory: PathBuf) -> Self {
        SysrootPaths {
            directory,
            _held: None,
        }
    }
    fn held(sysroot: unik_sysroot::Sysroot) -> Self {
        SysrootPaths {
            directory: sysroot.directory().to_path_buf(),
            _held: Some(sysroot),
        }
    }
    fn include_directory(&self) -> PathBuf {
        self.directory.join("include")
    }
    fn library_directory(&self) -> PathBuf {
        self.directory.join("lib")
    }
    fn linker_script(&self) -> PathBuf {
        self.library_directory().join("link.ld")
    }
    fn runtime_archive(&self) -> PathBuf {
        self.library_directory().join("libunik.a")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod debug_info_tests {
    use super::wants_debug_info;
    use std::ffi::OsString;

    fn flags(text: &[&str]) -> Vec<OsString> {
        text.iter().map(OsString::from).collect()
    }

    #[test]
    fn defsym_names_are_the_linkers() {
        let names = super::defined_symbols(&flags(&[
            "--defsym",
            "k=1",
            "--defsym=size=0x10",
            "-defsym",
            "other = k",
            "--gc-sections",
        ]));
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["k", "other", "size"]
        );
    }

    #[test]
    fn the_last_g_flag_decides() {
        assert!(!wants_debug_info(&flags(&[])));
        assert!(!wants_debug_info(&flags(&["-O2", "-Wall"])));
        assert!(wants_debug_info(&flags(&["-g"])));
        assert!(wants_debug_info(&flags(&["-O2", "-g3"])));
        assert!(wants_debug_info(&flags(&["-gdwarf-4"])));
        assert!(!wants_debug_info(&flags(&["-g", "-g0"])));
        assert!(wants_debug_info(&flags(&["-g0", "-g"])));
        assert!(wants_debug_info(&flags(&["-g", "-gno-column-info"])));
    }
}
