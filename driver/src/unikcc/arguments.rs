//! unikcc's command line: gcc's conventions, parsed by a table.
//!
//! gcc options are not getopt-shaped: `-Dname`, `-I dir` and `-Idir`, `-O2`,
//! `-Wl,a,b`, `-Wall` vs `-Wl,`, and the order of inputs and `-l` matters for the
//! link. Each row of [`OPTIONS`] names an option, how it takes its value and what
//! it does; the first matching row wins, so longer names precede their prefixes.
//! Messages copy gcc's wording (ASCII quotes, as gcc prints in the C locale).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// What the driver stops after (gcc's `-E`, `-S`, `-c`, or a full link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Compile, assemble and link (the default).
    Link,
    /// `-c`: stop after making objects.
    Compile,
    /// `-S`: stop after making assembly.
    Assembly,
    /// `-E`: stop after preprocessing.
    Preprocess,
}

/// The language of a source input, from `-x` or the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    C,
    /// Already preprocessed C (`.i`).
    PreprocessedC,
    /// `.s`: assembly without the preprocessor.
    Assembler,
    /// `.S`/`.sx`: assembly through the preprocessor.
    AssemblerWithCpp,
}

impl Language {
    /// gcc's `-x` names.
    fn from_x_name(name: &str) -> Option<Option<Language>> {
        Some(match name {
            "c" => Some(Language::C),
            "cpp-output" => Some(Language::PreprocessedC),
            "assembler" => Some(Language::Assembler),
            "assembler-with-cpp" => Some(Language::AssemblerWithCpp),
            "none" => None,
            _ => return None,
        })
    }

    /// The `-x` name to hand to the compiler.
    pub fn x_name(self) -> &'static str {
        match self {
            Language::C => "c",
            Language::PreprocessedC => "cpp-output",
            Language::Assembler => "assembler",
            Language::AssemblerWithCpp => "assembler-with-cpp",
        }
    }

    /// By suffix, as gcc does; `None` means "give it to the linker".
    fn from_suffix(path: &OsStr) -> Option<Language> {
        let bytes = path.as_bytes();
        let suffix = bytes
            .rsplit(|&byte| byte == b'.')
            .next()
            .filter(|_| bytes.contains(&b'.'))?;
        match suffix {
            b"c" => Some(Language::C),
            b"i" => Some(Language::PreprocessedC),
            b"s" => Some(Language::Assembler),
            b"S" | b"sx" => Some(Language::AssemblerWithCpp),
            _ => None,
        }
    }
}

/// One input, in command-line order (the order matters to the linker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file to compile.
    Source { path: PathBuf, language: Language },
    /// A file for the linker: object, archive, or anything without a source suffix.
    LinkerInput(PathBuf),
    /// `-lname`.
    Library(OsString),
    /// A flag for the linker (`-Wl,…`, `-Xlinker`, `-s`), kept in place among the
    /// inputs because flags like `--whole-archive` apply to what follows them.
    LinkerFlag(OsString),
}

/// What the invocation asks for instead of building.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Version,
    Help,
    DumpMachine,
    /// `-dumpversion`.
    DumpVersion,
    /// `-print-file-name=NAME`: the library file the link would use, else NAME.
    PrintFileName(OsString),
    /// `-print-prog-name=NAME`: the program a build should run for NAME (`ar`, `ld`).
    PrintProgramName(OsString),
    /// `-print-search-dirs`.
    PrintSearchDirectories,
    /// `-print-sysroot`.
    PrintSysroot,
}

/// A parsed unikcc command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub stage: Stage,
    pub output: Option<PathBuf>,
    pub inputs: Vec<Input>,
    /// Flags for every compiler run, in order (`-O2`, `-I dir`, `-DX`, `-Wall`, …).
    pub compiler_flags: Vec<OsString>,
    /// `-L` directories, searched for `-l` before the sysroot.
    pub library_directories: Vec<PathBuf>,
    /// `-v`: print each command before running it.
    pub verbose: bool,
    /// `-###`: print the commands, run none.
    pub print_only: bool,
    pub target: Option<String>,
    pub c_compiler: Option<OsString>,
    pub query: Option<Query>,
    /// `--all-components`: link every component (for size comparisons).
    pub all_components: bool,
    /// `--stub-missing`: link a failing stub for each function nobody provides.
    pub stub_missing: bool,
    /// `--explain`: print why each component is in the image.
    pub explain: bool,
    /// `--fs DIR`: embed DIR as the image's file tree.
    pub file_system: Option<PathBuf>,
    /// `--format elf|image`: the output file's format, as written (checked by
    /// `crate::image_format::OutputFormat::parse`).
    pub output_format: Option<String>,
    /// `-shared` was given: an error when linking (`-c -shared` compiles, as in gcc).
    pub shared: bool,
}

/// A diagnostic in gcc's shape: `unikcc: error: …` / `unikcc: fatal error: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    Error(String),
    Fatal(String),
}

/// The diagnostics of a command line that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageErrors(pub Vec<Diagnostic>);

impl UsageErrors {
    /// Renders the lines as gcc prints them, for a program called `program`.
    pub fn render(&self, program: &str) -> String {
        let mut text = String::new();
        for diagnostic in &self.0 {
            match diagnostic {
                Diagnostic::Error(message) => {
                    text.push_str(&format!("{program}: error: {message}\n"))
                }
                Diagnostic::Fatal(message) => text.push_str(&format!(
                    "{program}: fatal error: {message}\ncompilation terminated.\n"
                )),
            }
        }
        text
    }
}

impl fmt::Display for UsageErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.render("unikcc").trim_end())
    }
}

/// How an option takes its value.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// `-c`: exactly the name.
    None,
    /// `-O2`, `-Wall`: the name is a prefix, the rest (maybe empty) is the value.
    Joined,
    /// `-include file`: the value is the next argument.
    Separate,
    /// `-Idir` or `-I dir`.
    JoinedOrSeparate,
    /// `--target=x` or `--target x`.
    EqualsOrSeparate,
}

/// What an option does.
#[derive(Debug, Clone)]
enum Action {
    Stage(Stage),
    Output,
    /// Passed to the compiler as written (joined options keep their value attached,
    /// separate ones are passed as two arguments).
    Compiler,
    /// `-O…`, checked like gcc checks it.
    Optimize,
    /// `-M`/`-MM`: print dependencies instead of compiling, which implies `-E`.
    DependenciesOnly,
    /// `-f…`: passed to the compiler when it is one of [`F_OPTION_FAMILIES`].
    MachineIndependent,
    Language,
    LibraryDirectory,
    Library,
    /// `-Wl,a,b`.
    LinkerCommaList,
    /// `-Xlinker a`.
    Linker,
    /// `-s`: strip the image.
    Strip,
    /// Accepted for compatibility and ignored (e.g. `-static`: every image is).
    Ignore,
    Verbose,
    PrintOnly,
    AllComponents,
    StubMissing,
    /// `--framebuffer-console`: link the `framebuffer-console` component.
    FramebufferConsole,
    Explain,
    FileSystem,
    OutputFormat,
    Target,
    CCompiler,
    Query(Query),
    /// `-print-file-name=`.
    PrintFileName,
    /// `-print-prog-name=`.
    PrintProgramName,
    /// `-shared`: refused when it reaches the link.
    Shared,
    /// Rejected with a reason.
    Unsupported(&'static str),
}

/// Which gcc message a missing value gets.
#[derive(Debug, Clone, Copy)]
enum Missing {
    Argument,
    Filename,
    Path,
    MacroName,
}

struct OptionRow {
    name: &'static str,
    value: Value,
    action: Action,
    missing: Missing,
}

/// The init function of the `framebuffer-console` component (runtime/components.toml).
pub const FRAMEBUFFER_CONSOLE_INIT: &str = "__unik_init_framebuffer_console";

const fn row(name: &'static str, value: Value, action: Action) -> OptionRow {
    OptionRow {
        name,
        value,
        action,
        missing: Missing::Argument,
    }
}

const fn row_missing(
    name: &'static str,
    value: Value,
    action: Action,
    missing: Missing,
) -> OptionRow {
    OptionRow {
        name,
        value,
        action,
        missing,
    }
}

/// The option table. First match wins: exact names and longer prefixes first.
const OPTIONS: &[OptionRow] = &[
    row("-###", Value::None, Action::PrintOnly),
    row("-c", Value::None, Action::Stage(Stage::Compile)),
    row("-S", Value::None, Action::Stage(Stage::Assembly)),
    row("-E", Value::None, Action::Stage(Stage::Preprocess)),
    row_missing(
        "-o",
        Value::JoinedOrSeparate,
        Action::Output,
        Missing::Filename,
    ),
    row("-v", Value::None, Action::Verbose),
    row("--version", Value::None, Action::Query(Query::Version)),
    row("--help", Value::None, Action::Query(Query::Help)),
    row(
        "-dumpmachine",
        Value::None,
        Action::Query(Query::DumpMachine),
    ),
    row(
        "-dumpversion",
        Value::None,
        Action::Query(Query::DumpVersion),
    ),
    row("-print-file-name=", Value::Joined, Action::PrintFileName),
    row("-print-prog-name=", Value::Joined, Action::PrintProgramName),
    row(
        "-print-search-dirs",
        Value::None,
        Action::Query(Query::PrintSearchDirectories),
    ),
    row(
        "-print-sysroot",
        Value::None,
        Action::Query(Query::PrintSysroot),
    ),
    row("--target", Value::EqualsOrSeparate, Action::Target),
    row("--cc", Value::EqualsOrSeparate, Action::CCompiler),
    row("--all-components", Value::None, Action::AllComponents),
    row("--stub-missing", Value::None, Action::StubMissing),
    row(
        "--framebuffer-console",
        Value::None,
        Action::FramebufferConsole,
    ),
    row("--explain", Value::None, Action::Explain),
    row("--fs", Value::EqualsOrSeparate, Action::FileSystem),
    row("--format", Value::EqualsOrSeparate, Action::OutputFormat),
    row("-x", Value::JoinedOrSeparate, Action::Language),
    row("-O", Value::Joined, Action::Optimize),
    // Include paths and macros.
    row_missing(
        "-isystem",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::Path,
    ),
    row_missing(
        "-iquote",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::Path,
    ),
    row_missing(
        "-idirafter",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::Path,
    ),
    row_missing(
        "-include",
        Value::Separate,
        Action::Compiler,
        Missing::Filename,
    ),
    row_missing(
        "-imacros",
        Value::Separate,
        Action::Compiler,
        Missing::Filename,
    ),
    row_missing(
        "-I",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::Path,
    ),
    row_missing(
        "-D",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::MacroName,
    ),
    row_missing(
        "-U",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::MacroName,
    ),
    // Dependency files for make.
    row_missing(
        "-MF",
        Value::JoinedOrSeparate,
        Action::Compiler,
        Missing::Filename,
    ),
    row("-MT", Value::JoinedOrSeparate, Action::Compiler),
    row("-MQ", Value::JoinedOrSeparate, Action::Compiler),
    row("-MMD", Value::None, Action::Compiler),
    row("-MD", Value::None, Action::Compiler),
    row("-MM", Value::None, Action::DependenciesOnly),
    row("-MP", Value::None, Action::Compiler),
    row("-MG", Value::None, Action::Compiler),
    row("-M", Value::None, Action::DependenciesOnly),
    // Linking.
    row("-Wl,", Value::Joined, Action::LinkerCommaList),
    row("-Xlinker", Value::Separate, Action::Linker),
    row("-L", Value::JoinedOrSeparate, Action::LibraryDirectory),
    row("-l", Value::JoinedOrSeparate, Action::Library),
    row("-static", Value::None, Action::Ignore),
    row("-s", Value::None, Action::Strip),
    row("-pthread", Value::None, Action::Compiler),
    row("-pipe", Value::None, Action::Ignore),
    // Every image is static, at the target's fixed load address: position-independent
    // executables and exported dynamic symbols have no meaning, but makefiles ask.
    row("-rdynamic", Value::None, Action::Ignore),
    row("-no-pie", Value::None, Action::Ignore),
    row("-static-pie", Value::None, Action::Ignore),
    row("-pie", Value::None, Action::Ignore),
    row("-shared", Value::None, Action::Shared),
    row(
        "-nostdlib",
        Value::None,
        Action::Unsupported(
            "the unik runtime is the program's operating system; an image cannot be linked without it",
        ),
    ),
    row("-fuse-ld=", Value::Joined, Action::Ignore),
    // Code generation, warnings, dialect: straight to the compiler.
    row("-std=", Value::Joined, Action::Compiler),
    row("-ansi", Value::None, Action::Compiler),
    row("-pedantic-errors", Value::None, Action::Compiler),
    row("-pedantic", Value::None, Action::Compiler),
    row("-Wa,", Value::Joined, Action::Compiler),
    row("-Wp,", Value::Joined, Action::Compiler),
    row("-W", Value::Joined, Action::Compiler),
    row("-w", Value::None, Action::Compiler),
    row("-g", Value::Joined, Action::Compiler),
    row("-f", Value::Joined, Action::MachineIndependent),
    // Machine options pass to the compiler, except those that change the ABI away
    // from the one the runtime and headers implement (LP64, little-endian).
    row(
        "-m32",
        Value::None,
        Action::Unsupported("unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)"),
    ),
    row(
        "-m16",
        Value::None,
        Action::Unsupported("unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)"),
    ),
    row(
        "-mx32",
        Value::None,
        Action::Unsupported("unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)"),
    ),
    row(
        "-mabi=ilp32",
        Value::None,
        Action::Unsupported("unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)"),
    ),
    row(
        "-mbig-endian",
        Value::None,
        Action::Unsupported("the aarch64 target is little-endian, as its runtime is built"),
    ),
    row("-m", Value::Joined, Action::Compiler),
    row("-P", Value::None, Action::Compiler),
    row("-C", Value::None, Action::Compiler),
    row("-dM", Value::None, Action::Compiler),
    row("-dD", Value::None, Action::Compiler),
];

/// The `-f` options unikcc knows, by name without `-f`, `no-` and `=value`; an
/// entry ending in `-` or `*` is a family prefix. gcc rejects a misspelt `-f`
/// option with "unrecognized command-line option", and so do we: passing every
/// `-f…` through would let clang and gcc disagree about the same command line.
const F_OPTION_FAMILIES: &[&str] = &[
    "PIC",
    "PIE",
    "pic",
    "pie",
    "plt",
    "common",
    "builtin",
    "builtin-*",
    "freestanding",
    "hosted",
    "function-sections",
    "data-sections",
    "stack-protector",
    "stack-protector-*",
    "stack-clash-protection",
    "stack-usage",
    "omit-frame-pointer",
    "strict-aliasing",
    "strict-overflow",
    "wrapv",
    "trapv",
    "signed-char",
    "unsigned-char",
    "short-enums",
    "short-wchar",
    "visibility",
    "visibility-*",
    "sanitize",
    "sanitize-*",
    "diagnostics-*",
    "color-diagnostics",
    "message-length",
    "max-errors",
    "show-column",
    "caret-diagnostics",
    "lto",
    "lto-*",
    "profile-*",
    "coverage-*",
    "test-coverage",
    "exceptions",
    "asynchronous-unwind-tables",
    "unwind-tables",
    "cf-protection",
    "macro-prefix-map",
    "debug-prefix-map",
    "file-prefix-map",
    "dump-*",
    "fast-math",
    "math-errno",
    "finite-math-only",
    "fp-contract",
    "fp-model",
    "rounding-math",
    "trapping-math",
    "signed-zeros",
    "semantic-interposition",
    "gnu89-inline",
    "ms-extensions",
    "plan9-extensions",
    "verbose-asm",
    "syntax-only",
    "inline",
    "inline-*",
    "jump-tables",
    "zero-call-used-regs",
    "trivial-auto-var-init",
    "trivial-auto-var-init-*",
    "extended-identifiers",
    "dollars-in-identifiers",
    "ident",
    "split-*",
    "reg-struct-return",
    "pcc-struct-return",
    "delete-null-pointer-checks",
    "optimize-sibling-calls",
    "unroll-loops",
    "tree-*",
    "vectorize",
    "slp-vectorize",
    "align-*",
    "keep-*",
    "merge-*",
    "asm",
    "gnu-keywords",
    "standalone-debug",
    "debug-types-section",
    "record-command-line",
    "record-gcc-switches",
    "working-directory",
    "input-charset",
    "exec-charset",
    "wide-exec-charset",
    "char8_t",
    "permissive",
    "strict-flex-arrays",
    "strict-volatile-bitfields",
    "pack-struct",
    "hardened",
    "harden-*",
    "instrument-functions",
    "patchable-function-entry",
    "leading-underscore",
    "allow-store-data-races",
    "ipa-*",
    "gcse",
    "peephole",
    "peephole2",
    "schedule-insns",
    "schedule-insns2",
    "isolate-erroneous-paths-*",
    "tracer",
    "web",
    "reorder-*",
    "crossjumping",
    "if-conversion",
    "if-conversion2",
    "expensive-optimizations",
    "caller-saves",
    "defer-pop",
    "guess-branch-probability",
    "toplevel-reorder",
    "aggressive-loop-optimizations",
    "unsafe-math-optimizations",
    "associative-math",
    "reciprocal-math",
    "excess-precision",
    "single-precision-constant",
    "preprocessed",
    "directives-only",
    "constant-cfstrings",
    "blocks",
    "modules",
    "use-init-array",
    "use-cxa-atexit",
    "addrsig",
    "emit-*",
    "experimental-*",
    "integrated-as",
    "integrated-cc1",
    "sized-deallocation",
    "threadsafe-statics",
    "rtti",
    "elide-constructors",
    "var-tracking",
    "var-tracking-*",
    "eliminate-unused-debug-types",
    "eliminate-unused-debug-symbols",
    "dwarf2-cfi-asm",
    "stack-size-section",
    "strict-float-cast-overflow",
    "honor-infinities",
    "honor-nans",
];

/// Whether `-f<rest>` is a known option (see [`F_OPTION_FAMILIES`]).
fn is_known_f_option(rest: &[u8]) -> bool {
    let Ok(rest) = std::str::from_utf8(rest) else {
        return false;
    };
    let name = rest.split('=').next().unwrap_or(rest);
    let name = name.strip_prefix("no-").unwrap_or(name);
    if name.is_empty() {
        return false;
    }
    F_OPTION_FAMILIES
        .iter()
        .any(|family| match family.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix) && name.len() > prefix.len(),
            None => name == *family,
        })
}

/// The path that stands for standard input (`-`).
pub const STANDARD_INPUT: &str = "-";

/// How deeply `@file` may name further `@file`s (gcc's libiberty allows 2000 nested
/// expansions before it gives up; a cycle must end somewhere).
const RESPONSE_FILE_DEPTH: usize = 32;

/// Replaces every `@file` argument by the arguments the file holds, as gcc does
/// (libiberty's `expandargv`): words separated by white space, `'…'` and `"…"`
/// quote, a backslash escapes the next character, and a file may name further
/// `@file`s. An `@file` that cannot be read stays as it is (gcc then reports it as
/// a missing input).
pub fn expand_response_files(arguments: &[OsString]) -> Vec<OsString> {
    let mut expanded = Vec::with_capacity(arguments.len());
    for argument in arguments {
        expand_one(argument, 0, &mut expanded);
    }
    expanded
}

fn expand_one(argument: &OsString, depth: usize, expanded: &mut Vec<OsString>) {
    let bytes = argument.as_bytes();
    let contents = match bytes.strip_prefix(b"@") {
        Some(path) if !path.is_empty() && depth < RESPONSE_FILE_DEPTH => {
            std::fs::read(OsStr::from_bytes(path)).ok()
        }
        _ => None,
    };
    match contents {
        Some(contents) => {
            for word in split_response_file(&contents) {
                expand_one(&word, depth + 1, expanded);
            }
        }
        None => expanded.push(argument.clone()),
    }
}

/// Splits a response file into words (libiberty's `buildargv` rules).
fn split_response_file(contents: &[u8]) -> Vec<OsString> {
    let mut words = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut quote: Option<u8> = None;
    let mut bytes = contents.iter().copied();
    while let Some(byte) = bytes.next() {
        match (quote, byte) {
            (_, b'\\') => {
                if let Some(next) = bytes.next() {
                    word.get_or_insert_with(Vec::new).push(next);
                }
            }
            (Some(open), _) if byte == open => quote = None,
            (Some(_), _) => word.get_or_insert_with(Vec::new).push(byte),
            (None, b'\'' | b'"') => {
                quote = Some(byte);
                word.get_or_insert_with(Vec::new);
            }
            (None, _) if byte.is_ascii_whitespace() => {
                if let Some(done) = word.take() {
                    words.push(OsString::from_vec(done));
                }
            }
            (None, _) => word.get_or_insert_with(Vec::new).push(byte),
        }
    }
    if let Some(done) = word {
        words.push(OsString::from_vec(done));
    }
    words
}

/// Parses unikcc's arguments (without the program name), after expanding `@file`s.
pub fn parse(arguments: &[OsString]) -> Result<Invocation, UsageErrors> {
    let arguments = &expand_response_files(arguments);
    let mut invocation = Invocation {
        stage: Stage::Link,
        output: None,
        inputs: Vec::new(),
        compiler_flags: Vec::new(),
        library_directories: Vec::new(),
        verbose: false,
        print_only: false,
        target: None,
        c_compiler: None,
        query: None,
        all_components: false,
        stub_missing: false,
        explain: false,
        file_system: None,
        output_format: None,
        shared: false,
    };
    let mut diagnostics = Vec::new();
    let mut language: Option<Language> = None;
    let mut reads_untyped_standard_input = false;
    let mut index = 0;
    while index < arguments.len() {
        let argument = &arguments[index];
        index += 1;
        let bytes = argument.as_bytes();
        if bytes.len() < 2 || bytes[0] != b'-' {
            let path = PathBuf::from(argument);
            if bytes == STANDARD_INPUT.as_bytes() {
                // Standard input has no suffix: gcc wants `-x`, except for `-E`
                // (decided once every option is read, below).
                invocation.inputs.push(Input::Source {
                    path,
                    language: language.unwrap_or(Language::C),
                });
                if language.is_none() {
                    reads_untyped_standard_input = true;
                }
                continue;
            }
            let language = language.or_else(|| Language::from_suffix(argument));
            invocation.inputs.push(match language {
                Some(language) => Input::Source { path, language },
                None => Input::LinkerInput(path),
            });
            continue;
        }
        let Some((row, value)) = match_option(bytes, arguments, &mut index) else {
            diagnostics.push(Diagnostic::Error(format!(
                "unrecognized command-line option '{}'",
                argument.to_string_lossy()
            )));
            continue;
        };
        let value = match value {
            Ok(value) => value,
            Err(()) => {
                diagnostics.push(Diagnostic::Error(missing_message(row)));
                continue;
            }
        };
        apply(
            row,
            argument,
            value,
            &mut invocation,
            &mut language,
            &mut diagnostics,
        );
    }
    if invocation.query.is_none()
        && invocation.stage != Stage::Link
        && invocation.output.is_some()
        && invocation
            .inputs
            .iter()
            .filter(|input| matches!(input, Input::Source { .. }))
            .count()
            > 1
    {
        diagnostics.push(Diagnostic::Fatal(
            "cannot specify '-o' with '-c', '-S' or '-E' with multiple files".to_string(),
        ));
    }
    if reads_untyped_standard_input && invocation.stage != Stage::Preprocess {
        diagnostics.push(Diagnostic::Error(
            "-E or -x required when input is from standard input".to_string(),
        ));
    }
    if invocation.shared && invocation.stage == Stage::Link && invocation.query.is_none() {
        diagnostics.push(Diagnostic::Error(
            "-shared: a unikernel is one static image; shared libraries are not supported \
             (objects built with -fPIC link into images as they are)"
                .to_string(),
        ));
    }
    if diagnostics.is_empty() {
        Ok(invocation)
    } else {
        Err(UsageErrors(diagnostics))
    }
}

/// The value an option row matched with: `Ok(None)` for flags, `Err(())` when the
/// value is missing.
type MatchedValue = Result<Option<OsString>, ()>;

/// Finds the row for `bytes`, taking a separate value from `arguments[*index]`.
fn match_option(
    bytes: &[u8],
    arguments: &[OsString],
    index: &mut usize,
) -> Option<(&'static OptionRow, MatchedValue)> {
    let take_next = |index: &mut usize| -> MatchedValue {
        let next = arguments.get(*index).cloned().ok_or(())?;
        *index += 1;
        Ok(Some(next))
    };
    for row in OPTIONS {
        let name = row.name.as_bytes();
        let matched = match row.value {
            Value::None => (bytes == name).then_some(Ok(None)),
            Value::Joined => bytes
                .strip_prefix(name)
                .map(|rest| Ok(Some(OsString::from_vec(rest.to_vec())))),
            Value::Separate => (bytes == name).then(|| take_next(index)),
            Value::JoinedOrSeparate => bytes.strip_prefix(name).map(|rest| {
                if rest.is_empty() {
                    take_next(index)
                } else {
                    Ok(Some(OsString::from_vec(rest.to_vec())))
                }
            }),
            Value::EqualsOrSeparate => {
                if bytes == name {
                    Some(take_next(index))
                } else {
                    bytes
                        .strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(b"="))
                        .map(|rest| Ok(Some(OsString::from_vec(rest.to_vec()))))
                }
            }
        };
        if let Some(value) = matched {
            return Some((row, value));
        }
    }
    None
}

fn missing_message(row: &OptionRow) -> String {
    match row.missing {
        Missing::Argument => format!("missing argument to '{}'", row.name),
        Missing::Filename => format!("missing filename after '{}'", row.name),
        Missing::Path => format!("missing path after '{}'", row.name),
        Missing::MacroName => format!("macro name missing after '{}'", row.name),
    }
}

fn apply(
    row: &OptionRow,
    argument: &OsString,
    value: Option<OsString>,
    invocation: &mut Invocation,
    language: &mut Option<Language>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let value_text = || value.clone().unwrap_or_default();
    match row.action.clone() {
        // gcc: -E wins over -S, which wins over -c.
        Action::Stage(stage) => invocation.stage = invocation.stage.max(stage),
        Action::DependenciesOnly => {
            invocation.stage = Stage::Preprocess;
            invocation.compiler_flags.push(argument.clone());
        }
        Action::Output => invocation.output = Some(PathBuf::from(value_text())),
        Action::Compiler => match row.value {
            Value::Separate => {
                invocation.compiler_flags.push(OsString::from(row.name));
                invocation.compiler_flags.push(value_text());
            }
            Value::JoinedOrSeparate => {
                let mut flag = OsString::from(row.name);
                flag.push(value_text());
                invocation.compiler_flags.push(flag);
            }
            _ => invocation.compiler_flags.push(argument.clone()),
        },
        Action::Optimize => {
            let level = value_text();
            let valid = match level.to_str() {
                Some("" | "s" | "z" | "g" | "fast") => true,
                Some(number) => number.bytes().all(|byte| byte.is_ascii_digit()),
                None => false,
            };
            if valid {
                invocation.compiler_flags.push(argument.clone());
            } else {
                diagnostics.push(Diagnostic::Error(
                    "argument to '-O' should be a non-negative integer, 'g', 's', 'z' or 'fast'"
                        .to_string(),
                ));
            }
        }
        Action::MachineIndependent => {
            if is_known_f_option(value_text().as_bytes()) {
                invocation.compiler_flags.push(argument.clone());
            } else {
                diagnostics.push(Diagnostic::Error(format!(
                    "unrecognized command-line option '{}'",
                    argument.to_string_lossy()
                )));
            }
        }
        Action::Language => {
            let name = value_text();
            match name.to_str().and_then(Language::from_x_name) {
                Some(chosen) => *language = chosen,
                None => diagnostics.push(Diagnostic::Error(format!(
                    "language {} not recognized",
                    name.to_string_lossy()
                ))),
            }
        }
        Action::LibraryDirectory => invocation
            .library_directories
            .push(PathBuf::from(value_text())),
        Action::Library => invocation.inputs.push(Input::Library(value_text())),
        Action::LinkerCommaList => {
            let list = value_text();
            invocation.inputs.extend(
                list.as_bytes()
                    .split(|&byte| byte == b',')
                    .filter(|part| !part.is_empty())
                    .map(|part| Input::LinkerFlag(OsString::from_vec(part.to_vec()))),
            );
        }
        Action::Linker => invocation.inputs.push(Input::LinkerFlag(value_text())),
        Action::Strip => invocation
            .inputs
            .push(Input::LinkerFlag(OsString::from("--strip-all"))),
        Action::Ignore => {}
        Action::Verbose => invocation.verbose = true,
        Action::PrintOnly => invocation.print_only = true,
        Action::AllComponents => invocation.all_components = true,
        Action::StubMissing => invocation.stub_missing = true,
        // Its init function is the component's only symbol: `-u` makes the link (and
        // the component selection, which follows `-u` roots) take it.
        Action::FramebufferConsole => invocation.inputs.extend(
            ["-u", FRAMEBUFFER_CONSOLE_INIT].map(|word| Input::LinkerFlag(OsString::from(word))),
        ),
        Action::Explain => invocation.explain = true,
        Action::FileSystem => invocation.file_system = Some(PathBuf::from(value_text())),
        Action::OutputFormat => {
            invocation.output_format = Some(value_text().to_string_lossy().into_owned())
        }
        Action::Target => invocation.target = Some(value_text().to_string_lossy().into_owned()),
        Action::CCompiler => invocation.c_compiler = Some(value_text()),
        Action::Query(query) => {
            invocation.query.get_or_insert(query);
        }
        Action::PrintFileName => {
            invocation
                .query
                .get_or_insert(Query::PrintFileName(value_text()));
        }
        Action::PrintProgramName => {
            invocation
                .query
                .get_or_insert(Query::PrintProgramName(value_text()));
        }
        Action::Shared => invocation.shared = true,
        Action::Unsupported(reason) => diagnostics.push(Diagnostic::Error(format!(
            "{}: {reason}",
            argument.to_string_lossy()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(text: &[&str]) -> Vec<OsString> {
        text.iter().map(OsString::from).collect()
    }

    fn parsed(text: &[&str]) -> Invocation {
        parse(&arguments(text)).unwrap()
    }

    fn errors(text: &[&str]) -> String {
        parse(&arguments(text)).unwrap_err().render("unikcc")
    }

    fn source(path: &str, language: Language) -> Input {
        Input::Source {
            path: PathBuf::from(path),
            language,
        }
    }

    #[test]
    fn a_typical_build() {
        let invocation = parsed(&[
            "-O2", "-I", "inc", "-Iother", "-DX=1", "-D", "Y", "a.c", "b.c", "-o", "app.img",
        ]);
        assert_eq!(invocation.stage, Stage::Link);
        assert_eq!(invocation.output, Some(PathBuf::from("app.img")));
        assert_eq!(
            invocation.inputs,
            [source("a.c", Language::C), source("b.c", Language::C)]
        );
        assert_eq!(
            invocation.compiler_flags,
            arguments(&["-O2", "-Iinc", "-Iother", "-DX=1", "-DY"])
        );
    }

    #[test]
    fn every_compiler_flag_family_passes_through_in_order() {
        let flags = [
            "-O0",
            "-O1",
            "-O3",
            "-Os",
            "-Oz",
            "-Og",
            "-O",
            "-g",
            "-g3",
            "-gdwarf-4",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Wno-unused",
            "-Werror=format",
            "-w",
            "-fno-builtin",
            "-ffunction-sections",
            "-mno-red-zone",
            "-march=x86-64-v2",
            "-UFOO",
            "-pedantic",
            "-MMD",
            "-MP",
            "-Wa,--noexecstack",
            "-pthread",
        ];
        let mut line: Vec<&str> = flags.to_vec();
        line.extend([
            "-include", "config.h", "-isystem", "sys", "-MF", "a.d", "-c", "a.c",
        ]);
        let invocation = parsed(&line);
        let mut expected = arguments(&flags);
        expected.extend(arguments(&[
            "-include",
            "config.h",
            "-isystemsys",
            "-MFa.d",
        ]));
        assert_eq!(invocation.compiler_flags, expected);
        assert_eq!(invocation.stage, Stage::Compile);
    }

    #[test]
    fn linker_options_and_library_order() {
        let invocation = parsed(&[
            "main.o",
            "-L",
            "libs",
            "-Lmore",
            "-lfoo",
            "x.a",
            "-l",
            "bar",
            "-Wl,--defsym,a=1",
            "-Xlinker",
            "-Map=m",
            "-static",
            "-s",
            "blob",
        ]);
        assert_eq!(
            invocation.inputs,
            [
                Input::LinkerInput(PathBuf::from("main.o")),
                Input::Library(OsString::from("foo")),
                Input::LinkerInput(PathBuf::from("x.a")),
                Input::Library(OsString::from("bar")),
                Input::LinkerFlag(OsString::from("--defsym")),
                Input::LinkerFlag(OsString::from("a=1")),
                Input::LinkerFlag(OsString::from("-Map=m")),
                Input::LinkerFlag(OsString::from("--strip-all")),
                Input::LinkerInput(PathBuf::from("blob")),
            ]
        );
        assert_eq!(
            invocation.library_directories,
            [PathBuf::from("libs"), PathBuf::from("more")]
        );
    }

    #[test]
    fn languages_by_suffix_and_by_x() {
        let invocation = parsed(&[
            "a.s",
            "b.S",
            "c.sx",
            "d.i",
            "-x",
            "c",
            "e.txt",
            "-xassembler",
            "f",
            "-x",
            "none",
            "g.c",
            "h.o",
        ]);
        assert_eq!(
            invocation.inputs,
            [
                source("a.s", Language::Assembler),
                source("b.S", Language::AssemblerWithCpp),
                source("c.sx", Language::AssemblerWithCpp),
                source("d.i", Language::PreprocessedC),
                source("e.txt", Language::C),
                source("f", Language::Assembler),
                source("g.c", Language::C),
                Input::LinkerInput(PathBuf::from("h.o")),
            ]
        );
    }

    #[test]
    fn stages_follow_gcc_precedence() {
        assert_eq!(parsed(&["-c", "-S", "a.c"]).stage, Stage::Assembly);
        assert_eq!(parsed(&["-E", "-c", "a.c"]).stage, Stage::Preprocess);
        assert_eq!(
            parsed(&["-oout.o", "-c", "a.c"]).output,
            Some(PathBuf::from("out.o"))
        );
    }

    #[test]
    fn dependency_listing_implies_preprocessing() {
        let invocation = parsed(&["-MM", "a.c"]);
        assert_eq!(invocation.stage, Stage::Preprocess);
        assert_eq!(invocation.compiler_flags, arguments(&["-MM"]));
        assert_eq!(parsed(&["-MD", "-c", "a.c"]).stage, Stage::Compile);
    }

    #[test]
    fn driver_options() {
        let invocation = parsed(&["-v", "--target", "x86_64", "--cc=gcc", "-###", "a.c"]);
        assert!(invocation.verbose && invocation.print_only);
        assert_eq!(invocation.target.as_deref(), Some("x86_64"));
        assert_eq!(invocation.c_compiler, Some(OsString::from("gcc")));
        assert_eq!(
            parsed(&["--target=aarch64"]).target.as_deref(),
            Some("aarch64")
        );
        assert_eq!(parsed(&["--version"]).query, Some(Query::Version));
        assert_eq!(parsed(&["-dumpmachine"]).query, Some(Query::DumpMachine));
        assert_eq!(parsed(&["--help"]).query, Some(Query::Help));
    }

    #[test]
    fn unknown_options_are_all_reported_in_gcc_wording() {
        assert_eq!(
            errors(&["-foo", "a.c", "--bar"]),
            "unikcc: error: unrecognized command-line option '-foo'\n\
             unikcc: error: unrecognized command-line option '--bar'\n"
        );
        // A known prefix does not make a longer unknown option valid.
        assert_eq!(
            errors(&["-cfoo"]),
            "unikcc: error: unrecognized command-line option '-cfoo'\n"
        );
        assert_eq!(
            errors(&["--target-x"]),
            "unikcc: error: unrecognized command-line option '--target-x'\n"
        );
    }

    #[test]
    fn missing_values_use_gccs_messages() {
        assert_eq!(
            errors(&["a.c", "-o"]),
            "unikcc: error: missing filename after '-o'\n"
        );
        assert_eq!(errors(&["-I"]), "unikcc: error: missing path after '-I'\n");
        assert_eq!(
            errors(&["-D"]),
            "unikcc: error: macro name missing after '-D'\n"
        );
        assert_eq!(errors(&["-x"]), "unikcc: error: missing argument to '-x'\n");
        assert_eq!(errors(&["-l"]), "unikcc: error: missing argument to '-l'\n");
        assert_eq!(
            errors(&["-include"]),
            "unikcc: error: missing filename after '-include'\n"
        );
        assert_eq!(
            errors(&["--target"]),
            "unikcc: error: missing argument to '--target'\n"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(
            errors(&["-xfoo", "a"]),
            "unikcc: error: language foo not recognized\n"
        );
        assert_eq!(
            errors(&["-O9x"]),
            "unikcc: error: argument to '-O' should be a non-negative integer, 'g', 's', 'z' or 'fast'\n"
        );
        assert_eq!(
            errors(&["-shared", "a.c"]),
            "unikcc: error: -shared: a unikernel is one static image; shared libraries are not supported \
             (objects built with -fPIC link into images as they are)\n"
        );
        // gcc ignores -shared when it does not link.
        assert!(parsed(&["-c", "-shared", "-fPIC", "a.c"]).shared);
        assert_eq!(
            errors(&["-c", "a.c", "b.c", "-o", "x.o"]),
            "unikcc: fatal error: cannot specify '-o' with '-c', '-S' or '-E' with multiple files\n\
             compilation terminated.\n"
        );
        assert_eq!(
            errors(&["-"]),
            "unikcc: error: -E or -x required when input is from standard input\n"
        );
        assert_eq!(
            errors(&["-m32", "-c", "a.c", "-mabi=ilp32"]),
            "unikcc: error: -m32: unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)\n\
             unikcc: error: -mabi=ilp32: unik targets are 64-bit (the LP64 ABI of x86_64 and aarch64)\n"
        );
        // Other machine options reach the compiler.
        assert_eq!(
            parsed(&["-m64", "-mavx2", "-march=armv8.2-a", "-c", "a.c"]).compiler_flags,
            arguments(&["-m64", "-mavx2", "-march=armv8.2-a"])
        );
        assert_eq!(
            errors(&["-nostdlib", "a.o"]),
            "unikcc: error: -nostdlib: the unik runtime is the program's operating system; \
             an image cannot be linked without it\n"
        );
    }

    #[test]
    fn standard_input_is_a_source() {
        assert_eq!(
            parsed(&["-x", "c", "-", "-c"]).inputs,
            [source("-", Language::C)]
        );
        assert_eq!(parsed(&["-E", "-"]).inputs, [source("-", Language::C)]);
        assert_eq!(
            parsed(&["-xassembler-with-cpp", "-", "-c"]).inputs,
            [source("-", Language::AssemblerWithCpp)]
        );
    }

    #[test]
    fn informational_queries() {
        assert_eq!(parsed(&["-dumpversion"]).query, Some(Query::DumpVersion));
        assert_eq!(
            parsed(&["-print-prog-name=ar"]).query,
            Some(Query::PrintProgramName(OsString::from("ar")))
        );
        assert_eq!(
            parsed(&["-L", "x", "-print-file-name=libz.a"]).query,
            Some(Query::PrintFileName(OsString::from("libz.a")))
        );
        assert_eq!(
            parsed(&["-print-search-dirs"]).query,
            Some(Query::PrintSearchDirectories)
        );
        assert_eq!(parsed(&["-print-sysroot"]).query, Some(Query::PrintSysroot));
        // A query wins over -shared, as in gcc.
        assert_eq!(
            parsed(&["-shared", "-print-prog-name=ld"]).query,
            Some(Query::PrintProgramName(OsString::from("ld")))
        );
    }

    #[test]
    fn response_files_expand_in_place() {
        let directory = tempfile::tempdir().unwrap();
        let inner = directory.path().join("inner.rsp");
        std::fs::write(&inner, "-lm 'c d.c'").unwrap();
        let outer = directory.path().join("outer.rsp");
        std::fs::write(
            &outer,
            format!(
                "-O2 \"-DNAME=a b\" -DQ=\\\"x\\\"\n\t@{}  b.c\n",
                inner.display()
            ),
        )
        .unwrap();
        let outer_argument = format!("@{}", outer.display());
        let invocation = parsed(&["a.c", &outer_argument, "-c"]);
        assert_eq!(
            invocation.compiler_flags,
            arguments(&["-O2", "-DNAME=a b", "-DQ=\"x\""])
        );
        assert_eq!(
            invocation.inputs,
            [
                source("a.c", Language::C),
                Input::Library(OsString::from("m")),
                source("c d.c", Language::C),
                source("b.c", Language::C),
            ]
        );
        // An unreadable @file stays an argument (gcc then reports the missing input).
        assert_eq!(
            parsed(&["@/nonexistent/rsp"]).inputs,
            [Input::LinkerInput(PathBuf::from("@/nonexistent/rsp"))]
        );
        // A file that names itself ends instead of recursing forever.
        let looping = directory.path().join("loop.rsp");
        std::fs::write(&looping, format!("-w @{}", looping.display())).unwrap();
        let looping_argument = format!("@{}", looping.display());
        let invocation = parsed(&[&looping_argument, "a.c"]);
        assert_eq!(invocation.compiler_flags.len(), RESPONSE_FILE_DEPTH);
    }

    proptest::proptest! {
        /// The parser takes any argument list without panicking.
        #[test]
        fn parsing_never_panics(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("-[a-zA-Z#,=-]{0,8}").unwrap(),
                    proptest::string::string_regex("[a-z./]{0,8}").unwrap(),
                ],
                0..8,
            )
        ) {
            let arguments: Vec<OsString> = words.iter().map(OsString::from).collect();
            let _ = parse(&arguments);
        }
    }
}
