//! Link phase 1, inputs: reads every object and archive of the link line with the
//! `object` crate — ELF relocatable objects and `ar` archives (GNU and BSD symbol
//! tables, thin archives) — and records what each object defines and needs.
//!
//! Everything here works on untrusted bytes: every malformed input is an
//! [`InputError`] naming the file (and the member), never a panic.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use object::read::archive::ArchiveFile;
use object::{Architecture, Object, ObjectKind, ObjectSymbol};

/// Why an input cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {problem}")]
pub struct InputError {
    /// The file, or `archive.a(member.o)`.
    pub file: String,
    pub problem: String,
}

/// One relocatable object: a file of the link line or an archive member.
#[derive(Clone)]
pub struct ObjectInput {
    /// How messages name it: `main.o`, `lib/libx.a(y.o)`.
    pub display_name: String,
    pub bytes: Vec<u8>,
    /// Global and weak symbols it defines (common symbols included).
    pub defined: Vec<String>,
    /// Global symbols it references but does not define (weak references excluded:
    /// a static link resolves a missing weak reference to 0, as ld does).
    pub undefined: Vec<String>,
}

impl fmt::Debug for ObjectInput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ObjectInput")
            .field("display_name", &self.display_name)
            .field("bytes", &self.bytes.len())
            .field("defined", &self.defined)
            .field("undefined", &self.undefined)
            .finish()
    }
}

/// An archive: its members and which member defines what (from the members'
/// symbol tables; the archive's own index is only an accelerator, and a stale one
/// would mislead).
#[derive(Debug, Clone)]
pub struct ArchiveInput {
    pub path: PathBuf,
    pub members: Vec<ObjectInput>,
    /// Symbol → index of the first member defining it.
    pub definitions: HashMap<String, usize>,
}

/// One input file.
#[derive(Debug, Clone)]
pub enum Input {
    Object(ObjectInput),
    Archive(ArchiveInput),
}

/// Reads `path` (display name `display_name`) for a link for `architecture`.
pub fn read(
    path: &Path,
    display_name: &str,
    architecture: Architecture,
) -> Result<Input, InputError> {
    let bytes = std::fs::read(path).map_err(|error| InputError {
        file: display_name.to_string(),
        problem: format!("cannot read: {error}"),
    })?;
    parse(bytes, path, display_name, architecture)
}

/// Parses the bytes of an input; `path` locates a thin archive's members.
pub fn parse(
    bytes: Vec<u8>,
    path: &Path,
    display_name: &str,
    architecture: Architecture,
) -> Result<Input, InputError> {
    if bytes.starts_with(b"!<arch>\n") || bytes.starts_with(b"!<thin>\n") {
        parse_archive(&bytes, path, display_name, architecture).map(Input::Archive)
    } else {
        parse_object(bytes, display_name.to_string(), architecture).map(Input::Object)
    }
}

fn parse_archive(
    bytes: &[u8],
    path: &Path,
    display_name: &str,
    architecture: Architecture,
) -> Result<ArchiveInput, InputError> {
    let error = |problem: String| InputError {
        file: display_name.to_string(),
        problem,
    };
    let archive = ArchiveFile::parse(bytes).map_err(|e| error(format!("corrupt archive: {e}")))?;
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut members = Vec::new();
    let mut definitions = HashMap::new();
    for member in archive.members() {
        let member = member.map_err(|e| error(format!("corrupt archive member header: {e}")))?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        let member_display = format!("{display_name}({name})");
        let data = if archive.is_thin() {
            // A thin archive stores paths relative to itself, not the members' bytes.
            let member_path = directory.join(&name);
            std::fs::read(&member_path).map_err(|e| InputError {
                file: member_display.clone(),
                problem: format!(
                    "cannot read the thin archive's member {}: {e}",
                    member_path.display()
                ),
            })?
        } else {
            member
                .data(bytes)
                .map_err(|e| InputError {
                    file: member_display.clone(),
                    problem: format!("truncated archive member: {e}"),
                })?
                .to_vec()
        };
        let object = parse_object(data, member_display, architecture)?;
        let index = members.len();
        for symbol in &object.defined {
            definitions.entry(symbol.clone()).or_insert(index);
        }
        members.push(object);
    }
    Ok(ArchiveInput {
        path: path.to_path_buf(),
        members,
        definitions,
    })
}

/// Parses one relocatable ELF object.
pub fn parse_object(
    bytes: Vec<u8>,
    display_name: String,
    architecture: Architecture,
) -> Result<ObjectInput, InputError> {
    let error = |problem: String| InputError {
        file: display_name.clone(),
        problem,
    };
    if bytes.is_empty() {
        return Err(error("empty file (not an object file)".to_string()));
    }
    if !bytes.starts_with(b"\x7fELF") {
        return Err(error(
            "not an ELF object file (and not an archive)".to_string(),
        ));
    }
    let file = object::File::parse(bytes.as_slice())
        .map_err(|e| error(format!("truncated or corrupt ELF file: {e}")))?;
    if file.kind() != ObjectKind::Relocatable {
        return Err(error(format!(
            "not a relocatable object (ELF type {:?}); link objects (.o) and archives (.a) only",
            file.kind()
        )));
    }
    if file.architecture() != architecture {
        return Err(error(format!(
            "built for {:?}, but the target is {:?} (wrong machine)",
            file.architecture(),
            architecture
        )));
    }
    let mut defined = Vec::new();
    let mut undefined = Vec::new();
    // Validate every section header and the symbol table up front: later phases
    // (relocations, DWARF) must not be the first to find them corrupt.
    for section in object::Object::sections(&file) {
        use object::ObjectSection;
        section
            .data()
            .map_err(|e| error(format!("corrupt section {}: {e}", section.index().0)))?;
    }
    for symbol in file.symbols() {
        let name = symbol
            .name()
            .map_err(|e| error(format!("corrupt symbol table: {e}")))?;
        if name.is_empty() || symbol.is_local() {
            continue;
        }
        if symbol.is_undefined() {
            if !symbol.is_weak() {
                undefined.push(name.to_string());
            }
        } else if symbol.is_global() {
            defined.push(name.to_string());
        }
    }
    Ok(ObjectInput {
        display_name,
        bytes,
        defined,
        undefined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_named_and_explained() {
        let x86 = Architecture::X86_64;
        let error = parse(b"hello".to_vec(), Path::new("a.o"), "a.o", x86).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.o: not an ELF object file (and not an archive)"
        );
        let error = parse(Vec::new(), Path::new("a.o"), "a.o", x86).unwrap_err();
        assert_eq!(error.to_string(), "a.o: empty file (not an object file)");
        let error = parse(b"\x7fELF\x02\x01".to_vec(), Path::new("a.o"), "a.o", x86)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("a.o: truncated or corrupt ELF file"),
            "{error}"
        );
    }

    /// A small real object with a symbol table, relocations and a text section.
    fn sample_object() -> Vec<u8> {
        let record = crate::link::generated::ComponentsRecord {
            format: 1,
            target: "x86_64".into(),
            components: Vec::new(),
            stubbed: vec!["fork".into(), "execve".into()],
        };
        crate::link::generated::generate(Architecture::X86_64, &record, &["an_init"]).unwrap()
    }

    /// A GNU archive holding `object` as `member.o`.
    fn archive_of(object: &[u8]) -> Vec<u8> {
        let mut bytes = b"!<arch>\n".to_vec();
        bytes.extend_from_slice(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                "member.o/",
                0,
                0,
                0,
                644,
                object.len()
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(object);
        if object.len() % 2 == 1 {
            bytes.push(b'\n');
        }
        bytes
    }

    #[test]
    fn a_real_object_and_archive_read_back() {
        let object = sample_object();
        let Input::Object(read) = parse(
            object.clone(),
            Path::new("g.o"),
            "g.o",
            Architecture::X86_64,
        )
        .unwrap() else {
            panic!("an object")
        };
        assert_eq!(read.defined, ["fork", "execve"]);
        assert!(read.undefined.contains(&"an_init".to_string()));
        let Input::Archive(archive) = parse(
            archive_of(&object),
            Path::new("l.a"),
            "l.a",
            Architecture::X86_64,
        )
        .unwrap() else {
            panic!("an archive")
        };
        assert_eq!(archive.members[0].display_name, "l.a(member.o)");
        assert_eq!(archive.definitions.get("fork"), Some(&0));
        let error = parse(object, Path::new("g.o"), "g.o", Architecture::Aarch64).unwrap_err();
        assert_eq!(
            error.to_string(),
            "g.o: built for X86_64, but the target is Aarch64 (wrong machine)"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The reader (and the DWARF and relocation walks behind the diagnostics)
        /// never panics, whatever the bytes: a real object or archive with bytes
        /// flipped, cut short, or arbitrary data. (cargo-fuzz needs nightly; this
        /// is the stable stand-in, sysroot/MANIFEST.md.)
        #[test]
        fn mutated_inputs_never_panic(
            archive in proptest::bool::ANY,
            flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..8),
            cut in proptest::option::of(0usize..4096),
        ) {
            let object = sample_object();
            let mut bytes = if archive { archive_of(&object) } else { object };
            for (offset, value) in flips {
                let length = bytes.len();
                bytes[offset % length] ^= value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            if let Ok(input) = parse(bytes, Path::new("x"), "x", Architecture::X86_64) {
                let objects: Vec<&ObjectInput> = match &input {
                    Input::Object(object) => vec![object],
                    Input::Archive(archive) => archive.members.iter().collect(),
                };
                let resolution = crate::link::symbols::resolve(std::slice::from_ref(&input));
                let manifest = crate::link::selection::tests::manifest();
                let missing: Vec<String> = resolution.undefined.keys().cloned().collect();
                let _ = crate::link::diagnostics::undefined_symbols(&missing, &resolution, &manifest);
                proptest::prop_assert!(objects.len() <= 1);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(bytes.clone(), Path::new("x"), "x", Architecture::X86_64);
            let mut archive = b"!<arch>\n".to_vec();
            archive.extend_from_slice(&bytes);
            let _ = parse(archive, Path::new("x"), "x", Architecture::X86_64);
        }
    }

    #[test]
    fn an_empty_archive_has_no_members() {
        let Input::Archive(archive) = parse(
            b"!<arch>\n".to_vec(),
            Path::new("e.a"),
            "e.a",
            Architecture::X86_64,
        )
        .unwrap() else {
            panic!("an archive")
        };
        assert!(archive.members.is_empty());
    }
}
