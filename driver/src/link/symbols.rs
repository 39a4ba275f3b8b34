//! Link phase 2, symbols: which objects the link loads and which symbols stay
//! undefined after them — the program's needs from the runtime.
//!
//! Objects on the command line are always loaded; an archive member is loaded when
//! it defines a symbol that is undefined so far, as ld does. Archives are searched
//! again until nothing changes (the `--start-group` rule, which LLD applies to every
//! archive anyway), so the order of `-l` options does not matter.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::inputs::{Input, ObjectInput};

/// The outcome: the loaded objects and what they still need.
#[derive(Debug, Default)]
pub struct Resolution<'a> {
    /// Command-line objects in order, then archive members in the order pulled in.
    pub loaded: Vec<&'a ObjectInput>,
    /// Undefined symbol → indexes into `loaded` of the objects referencing it, in
    /// order. Ordered by name, so that everything derived from it is deterministic.
    pub undefined: BTreeMap<String, Vec<usize>>,
}

impl<'a> Resolution<'a> {
    /// The first object that references `symbol`.
    pub fn first_reference(&self, symbol: &str) -> Option<&'a ObjectInput> {
        let index = *self.undefined.get(symbol)?.first()?;
        self.loaded.get(index).copied()
    }
}

/// Resolves the user's inputs (the runtime archive is not among them).
pub fn resolve(inputs: &[Input]) -> Resolution<'_> {
    fn load<'a>(
        object: &'a ObjectInput,
        resolution: &mut Resolution<'a>,
        defined: &mut HashSet<&'a str>,
    ) {
        resolution.loaded.push(object);
        defined.extend(object.defined.iter().map(String::as_str));
    }
    let mut resolution = Resolution::default();
    let mut defined: HashSet<&str> = HashSet::new();
    for input in inputs {
        if let Input::Object(object) = input {
            load(object, &mut resolution, &mut defined);
        }
    }
    let mut pulled: HashSet<(usize, usize)> = HashSet::new();
    loop {
        let wanted: Vec<&str> = undefined_names(&resolution.loaded, &defined);
        let mut changed = false;
        for (archive_index, input) in inputs.iter().enumerate() {
            let Input::Archive(archive) = input else {
                continue;
            };
            for name in &wanted {
                if defined.contains(name) {
                    continue;
                }
                if let Some(&member) = archive.definitions.get(*name)
                    && pulled.insert((archive_index, member))
                {
                    load(&archive.members[member], &mut resolution, &mut defined);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (index, object) in resolution.loaded.iter().enumerate() {
        for name in &object.undefined {
            if !defined.contains(name.as_str()) {
                let referencing = resolution.undefined.entry(name.clone()).or_default();
                if referencing.last() != Some(&index) {
                    referencing.push(index);
                }
            }
        }
    }
    resolution
}

/// Symbols the linker itself defines, which no component needs to provide: those a
/// linker script assigns (`NAME = …;`, `PROVIDE(NAME = …)`), LLD's reserved symbols
/// (ELF gABI and lld's `Writer::addReservedSymbols`), and `__start_`/`__stop_` of a
/// section whose name is a C identifier.
pub fn is_linker_defined(name: &str, script_symbols: &BTreeSet<String>) -> bool {
    const RESERVED: &[&str] = &[
        "__ehdr_start",
        "__executable_start",
        "__dso_handle",
        "_GLOBAL_OFFSET_TABLE_",
        "_etext",
        "etext",
        "_edata",
        "edata",
        "_end",
        "end",
        "__bss_start",
    ];
    if script_symbols.contains(name) || RESERVED.contains(&name) {
        return true;
    }
    ["__start_", "__stop_"].iter().any(|prefix| {
        name.strip_prefix(prefix).is_some_and(|section| {
            !section.is_empty()
                && !section.starts_with(|c: char| c.is_ascii_digit())
                && section
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// The symbols a linker script assigns (comments skipped; `==` is no assignment).
pub fn script_assignments(script: &str) -> BTreeSet<String> {
    let mut text = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        text.push(' ');
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    text.push_str(rest);
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut index = 0;
    while index < bytes.len() {
        let is_start = |byte: u8| byte.is_ascii_alphabetic() || byte == b'_' || byte == b'.';
        if !is_start(bytes[index])
            || (index > 0 && (bytes[index - 1].is_ascii_alphanumeric() || bytes[index - 1] == b'_'))
        {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len()
            && (bytes[index].is_ascii_alphanumeric()
                || bytes[index] == b'_'
                || bytes[index] == b'.')
        {
            index += 1;
        }
        let name = &text[start..index];
        let mut after = index;
        while after < bytes.len() && bytes[after].is_ascii_whitespace() {
            after += 1;
        }
        if bytes.get(after) == Some(&b'=') && bytes.get(after + 1) != Some(&b'=') && name != "." {
            names.insert(name.to_string());
        }
    }
    names
}

fn undefined_names<'a>(loaded: &[&'a ObjectInput], defined: &HashSet<&str>) -> Vec<&'a str> {
    let mut names: Vec<&str> = loaded
        .iter()
        .flat_map(|object| object.undefined.iter().map(String::as_str))
        .filter(|name| !defined.contains(name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::inputs::ArchiveInput;
    use std::collections::HashMap;
    use std::path::PathBuf;

    fn object(name: &str, defined: &[&str], undefined: &[&str]) -> ObjectInput {
        ObjectInput {
            display_name: name.into(),
            bytes: Vec::new(),
            defined: defined.iter().map(|s| s.to_string()).collect(),
            undefined: undefined.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn linker_script_and_reserved_symbols_are_the_linkers() {
        let script = "SECTIONS {\n  . = 0x100000;\n  __image_start = .;\n  /* ignored = 1; */\n  \
                      .text : { __text_start = .; *(.text) }\n  PROVIDE(__heap = .);\n  \
                      x = (a == b);\n}\n";
        let names = script_assignments(script);
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["__heap", "__image_start", "__text_start", "x"]
        );
        assert!(is_linker_defined("__image_start", &names));
        assert!(is_linker_defined("__ehdr_start", &names));
        assert!(is_linker_defined("__start_my_section", &names));
        assert!(!is_linker_defined("__start_", &names));
        assert!(!is_linker_defined("__stop_.text", &names));
        assert!(!is_linker_defined("fork", &names));
    }

    #[test]
    fn members_are_pulled_like_ld_and_the_rest_stays_undefined() {
        let members = vec![
            object("lib.a(a.o)", &["helper"], &["printf", "deep"]),
            object("lib.a(b.o)", &["deep"], &["malloc"]),
            object("lib.a(unused.o)", &["unused"], &["fork"]),
        ];
        let definitions: HashMap<String, usize> = [("helper", 0), ("deep", 1), ("unused", 2)]
            .into_iter()
            .map(|(name, index)| (name.to_string(), index))
            .collect();
        let inputs = vec![
            Input::Archive(ArchiveInput {
                path: PathBuf::from("lib.a"),
                members,
                definitions,
            }),
            Input::Object(object("main.o", &["main"], &["helper", "puts", "printf"])),
        ];
        let resolution = resolve(&inputs);
        let names: Vec<&str> = resolution
            .loaded
            .iter()
            .map(|object| object.display_name.as_str())
            .collect();
        assert_eq!(names, ["main.o", "lib.a(a.o)", "lib.a(b.o)"]);
        let undefined: Vec<(&str, &Vec<usize>)> = resolution
            .undefined
            .iter()
            .map(|(name, objects)| (name.as_str(), objects))
            .collect();
        assert_eq!(
            undefined,
            [
                ("malloc", &vec![2]),
                ("printf", &vec![0, 1]),
                ("puts", &vec![0])
            ]
        );
        assert_eq!(
            resolution
                .first_reference("printf")
                .map(|o| o.display_name.as_str()),
            Some("main.o")
        );
    }
}
