//! The component manifest (sysroot/MANIFEST.md): `runtime/components.toml` checked
//! against the real symbol table of `libunik.a` and written as
//! `<sysroot>/<target>/manifest.json`.
//!
//! Which archive symbols must belong to a component: every *global or weak, defined,
//! default-visibility* symbol that is not Rust-mangled (`_ZN…` legacy or `_R…` v0).
//! A `__unik_<name>` export behind a declared `<name>` (the libc's weak-alias scheme)
//! belongs to `<name>`'s component implicitly.
//! Hidden symbols are the compiler runtime's (compiler_builtins and the compiler-rt
//! objects it bundles mark all of theirs `STV_HIDDEN`): they still resolve in a
//! static link, so the manifest lists them as `toolchain_symbols` (provided, part of
//! no component), and Rust-mangled symbols are the runtime's internals, which no C
//! program can name.
//!
//! Besides the two set checks, the build checks each component's declared `requires`
//! against what its code really references: starting from the sections that define
//! a component's symbols, it follows the relocations through the archive (the graph
//! `ld --gc-sections` walks) and fails if that reaches an exported symbol of a
//! component outside the declared closure. So `unik explain` never claims less than
//! the linker keeps.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use object::read::archive::ArchiveFile;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex, SymbolFlags, SymbolIndex,
};
use serde::{Deserialize, Serialize};

/// Version of the JSON layout; the driver refuses manifests of another version.
pub const MANIFEST_FORMAT: u32 = 1;

/// The file name of the manifest inside a target's sysroot.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What can be wrong with the declarations or the archive.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: {message}")]
    Declarations { file: String, message: String },
    #[error("{archive}: {message}")]
    Archive { archive: String, message: String },
    /// The declarations and the archive disagree; every problem is listed.
    #[error("runtime/components.toml does not match {archive}:\n{}", .problems.join("\n"))]
    Mismatch {
        archive: String,
        problems: Vec<String>,
    },
}

/// One `[components.<name>]` table of components.toml.
/// (Unknown fields land in `per_target`, where anything but `symbols_<target>` is an
/// error: `deny_unknown_fields` does not combine with `flatten`.)
#[derive(Debug, Clone, Deserialize)]
struct ComponentDeclaration {
    summary: String,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    always: bool,
    init: Option<String>,
    #[serde(default)]
    symbols: Vec<String>,
    #[serde(default)]
    modules: Vec<String>,
    /// `symbols_<arch>` tables.
    #[serde(flatten)]
    per_target: BTreeMap<String, Vec<String>>,
}

/// One `[planned.<name>]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedComponent {
    pub summary: String,
    pub symbols: Vec<String>,
}

/// components.toml as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Declarations {
    components: ordered::Ordered<ComponentDeclaration>,
    #[serde(default)]
    planned: BTreeMap<String, PlannedComponent>,
    #[serde(default)]
    unavailable: BTreeMap<String, String>,
}

/// Keeps the declaration order of a TOML table (toml's `preserve_order`).
mod ordered {
    use serde::Deserialize;

    #[derive(Debug, Clone)]
    pub struct Ordered<T>(pub Vec<(String, T)>);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
                type Value = Ordered<T>;
                fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    formatter.write_str("a table of components")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry::<String, T>()? {
                        entries.push(entry);
                    }
                    Ok(Ordered(entries))
                }
            }
            deserializer.deserialize_map(Visitor(std::marker::PhantomData))
        }
    }
}

/// One component in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub summary: String,
    /// Direct requirements, in declaration order.
    pub requires: Vec<String>,
    /// Linked into every image.
    pub always: bool,
    /// The C-ABI init function, if any.
    pub init: Option<String>,
    /// The exported symbols on this target, sorted.
    pub symbols: Vec<String>,
    /// Rust module path prefixes attributed to it by `unik size`.
    pub modules: Vec<String>,
    /// Bytes of its symbols in the archive (sum of `st_size`).
    pub size: u64,
}

/// `<sysroot>/<target>/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub target: String,
    /// In declaration order (which breaks ties in the init order).
    pub components: Vec<Component>,
    /// symbol → component.
    pub symbols: BTreeMap<String, String>,
    /// Symbols the archive provides outside every component (the compiler runtime).
    pub toolchain_symbols: BTreeSet<String>,
    /// Components not implemented yet: name → what they will provide.
    pub planned: BTreeMap<String, PlannedComponent>,
    /// Functions a unikernel cannot have by design → why.
    pub unavailable: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses a manifest.json; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|error| ManifestError::Declarations {
                file: origin.to_string(),
                message: format!("not a valid component manifest: {error}"),
            })?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(ManifestError::Declarations {
                file: origin.to_string(),
                message: format!(
                    "manifest format {} (this unik reads format {MANIFEST_FORMAT}; rebuild the sysroot with `unik sysroot build --force`)",
                    manifest.format
                ),
            });
        }
        Ok(manifest)
    }

    /// The JSON text (pretty, deterministic: every map is ordered).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The component named `name`.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components
            .iter()
            .find(|component| component.name == name)
    }
}

/// Whether a symbol name is Rust-mangled (legacy `_ZN…E` or v0 `_R…`).
pub fn is_rust_mangled(name: &str) -> bool {
    name.starts_with("_ZN") || name.starts_with("_R")
}

/// A defined symbol of the archive.
#[derive(Debug, Clone)]
struct Definition {
    member: usize,
    section: Option<SectionIndex>,
    size: u64,
    exported: bool,
}

/// The archive as a graph: members' sections, the symbols they define and the
/// relocations between them.
struct ArchiveGraph {
    /// Global name → where it is defined (the first definition, as ld picks it).
    definitions: HashMap<String, Definition>,
    /// (member, section) → the (member, section) nodes its relocations reach.
    edges: HashMap<(usize, SectionIndex), Vec<(usize, SectionIndex)>>,
    /// (member, section) → the exported names it defines.
    exported_in_section: HashMap<(usize, SectionIndex), Vec<String>>,
}

fn read_archive(bytes: &[u8], archive_name: &str) -> Result<ArchiveGraph, ManifestError> {
    let error = |message: String| ManifestError::Archive {
        archive: archive_name.to_string(),
        message,
    };
    let archive = ArchiveFile::parse(bytes).map_err(|e| error(format!("not an archive: {e}")))?;
    let mut objects = Vec::new();
    for member in archive.members() {
        let member = member.map_err(|e| error(format!("bad member header: {e}")))?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        let data = member
            .data(bytes)
            .map_err(|e| error(format!("member {name}: {e}")))?;
        let file = object::File::parse(data)
            .map_err(|e| error(format!("member {name}: not an object file: {e}")))?;
        objects.push((name, file));
    }
    let mut definitions: HashMap<String, Definition> = HashMap::new();
    for (member, (_, file)) in objects.iter().enumerate() {
        for symbol in file.symbols() {
            if symbol.is_undefined() || !symbol.is_global() {
                continue;
            }
            let Ok(name) = symbol.name() else { continue };
            let exported = !is_rust_mangled(name) && !is_hidden(symbol.flags());
            definitions.entry(name.to_string()).or_insert(Definition {
                member,
                section: symbol.section_index(),
                size: symbol.size(),
                exported,
            });
        }
    }
    let mut edges: HashMap<(usize, SectionIndex), Vec<(usize, SectionIndex)>> = HashMap::new();
    let mut exported_in_section: HashMap<(usize, SectionIndex), Vec<String>> = HashMap::new();
    for (member, (_, file)) in objects.iter().enumerate() {
        for symbol in file.symbols() {
            let (Ok(name), Some(section)) = (symbol.name(), symbol.section_index()) else {
                continue;
            };
            if symbol.is_global()
                && definitions
                    .get(name)
                    .is_some_and(|definition| definition.exported && definition.member == member)
            {
                exported_in_section
                    .entry((member, section))
                    .or_default()
                    .push(name.to_string());
            }
        }
        for section in file.sections() {
            let mut targets = Vec::new();
            for (_, relocation) in section.relocations() {
                let RelocationTarget::Symbol(index) = relocation.target() else {
                    continue;
                };
                if let Some(node) = resolve(file, index, member, &definitions) {
                    targets.push(node);
                }
            }
            if !targets.is_empty() {
                edges.insert((member, section.index()), targets);
            }
        }
    }
    Ok(ArchiveGraph {
        definitions,
        edges,
        exported_in_section,
    })
}

/// The node a relocation's symbol leads to: its own section when defined locally,
/// else the archive's definition of the name.
fn resolve(
    file: &object::File<'_>,
    index: SymbolIndex,
    member: usize,
    definitions: &HashMap<String, Definition>,
) -> Option<(usize, SectionIndex)> {
    let symbol = file.symbol_by_index(index).ok()?;
    if !symbol.is_undefined() && (symbol.is_local() || !symbol.is_global()) {
        return symbol.section_index().map(|section| (member, section));
    }
    let name = symbol.name().ok()?;
    let definition = definitions.get(name)?;
    definition
        .section
        .map(|section| (definition.member, section))
}

fn is_hidden(flags: SymbolFlags<SectionIndex, SymbolIndex>) -> bool {
    // ELF gABI "Symbol Visibility": st_other & 3, STV_HIDDEN = 2, STV_INTERNAL = 1.
    match flags {
        SymbolFlags::Elf { st_other, .. } => {
            let visibility = st_other.visibility();
            visibility == object::elf::STV_HIDDEN || visibility == object::elf::STV_INTERNAL
        }
        _ => false,
    }
}

/// Builds the manifest of `target` from components.toml's text and libunik.a's bytes.
/// `symbols_<arch>` lists apply (targets of one arch share the archive).
pub fn generate(
    declarations_text: &str,
    declarations_name: &str,
    archive: &[u8],
    archive_name: &str,
    (target, arch): (&str, &str),
) -> Result<Manifest, ManifestError> {
    let declarations: Declarations =
        toml::from_str(declarations_text).map_err(|error| ManifestError::Declarations {
            file: declarations_name.to_string(),
            message: error.to_string(),
        })?;
    let graph = read_archive(archive, archive_name)?;
    let mut problems = Vec::new();

    let names: Vec<&str> = declarations
        .components
        .0
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let mut components = Vec::new();
    let mut symbols: BTreeMap<String, String> = BTreeMap::new();
    for (name, declaration) in &declarations.components.0 {
        let mut own: BTreeSet<String> = declaration.symbols.iter().cloned().collect();
        for (key, list) in &declaration.per_target {
            let Some(suffix) = key.strip_prefix("symbols_") else {
                problems.push(format!(
                    "component {name}: unknown field `{key}` (expected symbols_<target>)"
                ));
                continue;
            };
            if suffix == arch {
                own.extend(list.iter().cloned());
            }
        }
        for required in &declaration.requires {
            if !names.contains(&required.as_str()) {
                problems.push(format!(
                    "component {name} requires `{required}`, which is not a component"
                ));
            }
        }
        if let Some(init) = &declaration.init {
            own.insert(init.clone());
        }
        // `prefix*` patterns: only for arch-internal names (see components.toml).
        let patterns: Vec<String> = own.iter().filter(|s| s.ends_with('*')).cloned().collect();
        for pattern in patterns {
            own.remove(&pattern);
            let prefix = pattern.trim_end_matches('*');
            let mut matched: Vec<&String> = graph
                .definitions
                .iter()
                .filter(|(name, definition)| definition.exported && name.starts_with(prefix))
                .map(|(name, _)| name)
                .collect();
            matched.sort();
            if matched.is_empty() {
                problems.push(format!(
                    "component {name} declares `{pattern}`, which matches no symbol of the archive"
                ));
            }
            own.extend(matched.into_iter().cloned());
        }
        let mut size = 0;
        for symbol in &own {
            match graph.definitions.get(symbol) {
                Some(definition) if definition.exported => size += definition.size,
                Some(_) => problems.push(format!(
                    "component {name} declares `{symbol}`, which the archive defines hidden or mangled (not a C-ABI export)"
                )),
                None => problems.push(format!(
                    "component {name} declares `{symbol}`, which the archive does not define"
                )),
            }
            if let Some(previous) = symbols.insert(symbol.clone(), name.clone())
                && previous != *name
            {
                problems.push(format!(
                    "`{symbol}` is declared by both component {previous} and component {name}"
                ));
            }
        }
        components.push(Component {
            name: name.clone(),
            summary: declaration.summary.clone(),
            requires: declaration.requires.clone(),
            always: declaration.always,
            init: declaration.init.clone(),
            symbols: own.into_iter().collect(),
            modules: declaration.modules.clone(),
            size,
        });
    }

    // The libc defines each C function as `__unik_<name>` and `<name>` as a weak alias
    // of it (so a program's own definition wins, as with glibc's archive): the strong
    // name belongs to the alias's component without being declared twice.
    let mut aliases: Vec<(String, String)> = graph
        .definitions
        .iter()
        .filter(|(_, definition)| definition.exported)
        .filter_map(|(name, _)| {
            let alias = name.strip_prefix("__unik_")?;
            if symbols.contains_key(name) {
                return None;
            }
            Some((name.clone(), symbols.get(alias)?.clone()))
        })
        .collect();
    aliases.sort();
    for (name, owner) in aliases {
        if let Some(component) = components.iter_mut().find(|c| c.name == owner) {
            component.symbols.push(name.clone());
            component.symbols.sort();
        }
        symbols.insert(name, owner);
    }

    let mut orphans: Vec<&str> = graph
        .definitions
        .iter()
        .filter(|(name, definition)| definition.exported && !symbols.contains_key(*name))
        .map(|(name, _)| name.as_str())
        .collect();
    orphans.sort_unstable();
    for (planned, declaration) in &declarations.planned {
        let implemented: Vec<&str> = orphans
            .iter()
            .copied()
            .filter(|name| declaration.symbols.iter().any(|symbol| symbol == name))
            .collect();
        if !implemented.is_empty() {
            problems.push(format!(
                "the archive now defines {} of the planned component {planned}: move {planned} from [planned] to [components]",
                implemented.join(", ")
            ));
        }
    }
    if !orphans.is_empty() {
        problems.push(format!(
            "the archive exports symbols no component declares: {} (add each to the component that owns it)",
            orphans.join(", ")
        ));
    }
    for planned in declarations.planned.keys() {
        if names.contains(&planned.as_str()) {
            problems.push(format!(
                "`{planned}` is both a component and planned (remove it from [planned])"
            ));
        }
    }
    for function in declarations.unavailable.keys() {
        if let Some(component) = symbols.get(function) {
            problems.push(format!(
                "`{function}` is listed as unavailable but component {component} provides it"
            ));
        }
    }
    if problems.is_empty() {
        problems.extend(check_requirements(&components, &symbols, &graph));
    }
    if !problems.is_empty() {
        return Err(ManifestError::Mismatch {
            archive: archive_name.to_string(),
            problems,
        });
    }

    let toolchain_symbols = graph
        .definitions
        .iter()
        .filter(|(name, definition)| !definition.exported && !is_rust_mangled(name))
        .map(|(name, _)| name.clone())
        .collect();
    Ok(Manifest {
        format: MANIFEST_FORMAT,
        target: target.to_string(),
        components,
        symbols,
        toolchain_symbols,
        planned: declarations.planned,
        unavailable: declarations.unavailable,
    })
}

/// The names in the closure of `start` over `requires` (itself included).
pub fn requirement_closure<'a>(components: &'a [Component], start: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(component) = components.iter().find(|component| component.name == name) {
            queue.extend(component.requires.iter().map(String::as_str));
        }
    }
    seen
}

/// For each component: everything its symbols' sections reach through relocations
/// must be its own, a required component's, internal or the toolchain's.
fn check_requirements(
    components: &[Component],
    symbols: &BTreeMap<String, String>,
    graph: &ArchiveGraph,
) -> Vec<String> {
    let mut problems = Vec::new();
    // What every image has anyway (`always` components and their closure) may be
    // reached from anywhere without being declared.
    let everywhere: BTreeSet<&str> = components
        .iter()
        .filter(|component| component.always)
        .flat_map(|component| requirement_closure(components, &component.name))
        .collect();
    for component in components {
        let mut allowed = requirement_closure(components, &component.name);
        allowed.extend(everywhere.iter().copied());
        // Breadth-first, remembering which exported symbol led to each node.
        let mut seen: std::collections::HashSet<(usize, SectionIndex)> = Default::default();
        let mut queue: VecDeque<((usize, SectionIndex), &str)> = VecDeque::new();
        for symbol in &component.symbols {
            if let Some(section) = graph.definitions.get(symbol).and_then(|d| d.section) {
                let member = graph.definitions[symbol].member;
                queue.push_back(((member, section), symbol.as_str()));
            }
        }
        // A section that defines one of the component's own symbols may define
        // another component's too when the compiler folded identical functions into
        // one body (aarch64's single-threaded `gettid` and `getpid` both `return 1`):
        // that is shared code, not a reference, so only what it references counts.
        let own_sections: std::collections::HashSet<(usize, SectionIndex)> =
            queue.iter().map(|(node, _)| *node).collect();
        let mut reported = BTreeSet::new();
        while let Some((node, from)) = queue.pop_front() {
            if !seen.insert(node) {
                continue;
            }
            let names = if own_sections.contains(&node) {
                None
            } else {
                graph.exported_in_section.get(&node)
            };
            for name in names.into_iter().flatten() {
                let Some(owner) = symbols.get(name) else {
                    continue;
                };
                if !allowed.contains(owner.as_str()) && reported.insert(owner.clone()) {
                    problems.push(format!(
                        "component {} reaches `{name}` of component {owner} (from `{from}`) but does not require {owner}",
                        component.name
                    ));
                }
            }
            for next in graph.edges.get(&node).into_iter().flatten() {
                queue.push_back((*next, from));
            }
        }
    }
    problems
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn component(name: &str, requires: &[&str]) -> Component {
        Component {
            name: name.into(),
            summary: String::new(),
            requires: requires.iter().map(|r| r.to_string()).collect(),
            always: false,
            init: None,
            symbols: vec![],
            modules: vec![],
            size: 0,
        }
    }

    #[test]
    fn closure_follows_requirements_and_survives_cycles() {
        let components = [
            component("a", &["b"]),
            component("b", &["c", "a"]),
            component("c", &[]),
            component("d", &[]),
        ];
        let closure = requirement_closure(&components, "a");
        assert_eq!(closure.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn mangled_names_are_recognised() {
        assert!(is_rust_mangled("_ZN4core3fmt5write17h0E"));
        assert!(is_rust_mangled("_RNvNtCs1_4core3fmt5write"));
        assert!(!is_rust_mangled("malloc"));
        assert!(!is_rust_mangled("__errno_location"));
    }

    #[test]
    fn a_manifest_round_trips_through_json_and_checks_its_format() {
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            target: "x86_64".into(),
            components: vec![component("a", &[])],
            symbols: BTreeMap::from([("f".to_string(), "a".to_string())]),
            toolchain_symbols: BTreeSet::from(["__udivti3".to_string()]),
            planned: BTreeMap::new(),
            unavailable: BTreeMap::from([("fork".to_string(), "no".to_string())]),
        };
        let text = manifest.to_json();
        assert_eq!(Manifest::from_json(&text, "m").unwrap(), manifest);
        let old = text.replace("\"format\": 1", "\"format\": 0");
        let error = Manifest::from_json(&old, "m.json").unwrap_err().to_string();
        assert!(error.starts_with("m.json: manifest format 0"), "{error}");
        assert!(Manifest::from_json("{", "m.json").is_err());
    }

    /// An x86_64 object defining each `(name, hidden)` in its own `.text.<name>`
    /// section, where `calls` lists `(caller, callee)` relocations.
    fn object_file(defined: &[(&str, bool)], calls: &[(&str, &str)]) -> Vec<u8> {
        use object::write::{Object, Relocation, Symbol, SymbolSection};
        let mut object = Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let mut sections = HashMap::new();
        for (name, hidden) in defined {
            let section = object.add_section(
                Vec::new(),
                format!(".text.{name}").into_bytes(),
                object::SectionKind::Text,
            );
            object.append_section_data(section, &[0xe8, 0, 0, 0, 0, 0xc3], 16);
            let flags = if *hidden {
                object::SymbolFlags::Elf {
                    st_info: object::elf::SymbolInfo::new(
                        object::elf::STB_GLOBAL,
                        object::elf::STT_FUNC,
                    ),
                    st_other: object::elf::STV_HIDDEN.into(),
                }
            } else {
                object::SymbolFlags::None
            };
            object.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value: 0,
                size: 6,
                kind: object::SymbolKind::Text,
                scope: object::SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Section(section),
                flags,
            });
            sections.insert(*name, section);
        }
        for (caller, callee) in calls {
            let symbol = object.symbol_id(callee.as_bytes()).unwrap_or_else(|| {
                object.add_symbol(Symbol {
                    name: callee.as_bytes().to_vec(),
                    value: 0,
                    size: 0,
                    kind: object::SymbolKind::Text,
                    scope: object::SymbolScope::Dynamic,
                    weak: false,
                    section: SymbolSection::Undefined,
                    flags: object::SymbolFlags::None,
                })
            });
            object
                .add_relocation(
                    sections[caller],
                    Relocation {
                        offset: 1,
                        symbol,
                        addend: -4,
                        flags: object::RelocationFlags::Generic {
                            kind: object::RelocationKind::Relative,
                            encoding: object::RelocationEncoding::Generic,
                            size: 32,
                        },
                    },
                )
                .unwrap();
        }
        object.write().unwrap()
    }

    /// A GNU `ar` archive of the members (no symbol index).
    pub(crate) fn archive(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut bytes = b"!<arch>\n".to_vec();
        for (name, data) in members {
            let header = format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                format!("{name}/"),
                0,
                0,
                0,
                644,
                data.len()
            );
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(data);
            if data.len() % 2 == 1 {
                bytes.push(b'\n');
            }
        }
        bytes
    }

    fn runtime() -> Vec<u8> {
        archive(&[
            (
                "a.o",
                object_file(
                    &[("puts", false), ("__unik_puts", false)],
                    &[("puts", "write")],
                ),
            ),
            (
                "b.o",
                object_file(&[("write", false), ("__udivti3", true)], &[]),
            ),
        ])
    }

    fn problems(declarations: &str) -> String {
        match generate(
            declarations,
            "c.toml",
            &runtime(),
            "libunik.a",
            ("x86_64", "x86_64"),
        ) {
            Ok(_) => String::new(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_consistent_declaration_becomes_the_manifest() {
        let text = "[components.stdio]\nsummary = \"s\"\nrequires = [\"console\"]\nsymbols = [\"puts\"]\n\
                    [components.console]\nsummary = \"c\"\nsymbols = [\"write\"]\n\
                    [unavailable]\nfork = \"single program\"\n";
        let manifest = generate(
            text,
            "c.toml",
            &runtime(),
            "libunik.a",
            ("x86_64", "x86_64"),
        )
        .unwrap();
        let names: Vec<&str> = manifest
            .components
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["stdio", "console"], "declaration order");
        assert_eq!(
            manifest.components[0].symbols,
            ["__unik_puts", "puts"],
            "the alias rule"
        );
        assert_eq!(manifest.components[0].size, 6);
        assert_eq!(
            manifest.symbols.get("write").map(String::as_str),
            Some("console")
        );
        assert!(manifest.toolchain_symbols.contains("__udivti3"));
        assert_eq!(manifest.unavailable["fork"], "single program");
    }

    #[test]
    fn every_disagreement_is_named() {
        let undeclared = problems("[components.stdio]\nsummary = \"s\"\nsymbols = [\"puts\"]\n");
        assert!(
            undeclared.contains("the archive exports symbols no component declares: write"),
            "{undeclared}"
        );
        let missing = problems(
            "[components.stdio]\nsummary = \"s\"\nrequires = [\"console\"]\nsymbols = [\"puts\", \"gone\"]\n\
             [components.console]\nsummary = \"c\"\nsymbols = [\"write\"]\n",
        );
        assert!(
            missing.contains("component stdio declares `gone`, which the archive does not define"),
            "{missing}"
        );
        let unrequired = problems(
            "[components.stdio]\nsummary = \"s\"\nsymbols = [\"puts\"]\n\
             [components.console]\nsummary = \"c\"\nsymbols = [\"write\"]\n",
        );
        assert!(
            unrequired.contains("component stdio reaches `write` of component console (from `__unik_puts`) but does not require console")
                || unrequired.contains("component stdio reaches `write` of component console (from `puts`) but does not require console"),
            "{unrequired}"
        );
        let always = problems(
            "[components.stdio]\nsummary = \"s\"\nsymbols = [\"puts\"]\n\
             [components.console]\nsummary = \"c\"\nalways = true\nsymbols = [\"write\"]\n",
        );
        assert_eq!(always, "", "what every image has needs no requires");
        let hidden = problems(
            "[components.stdio]\nsummary = \"s\"\nrequires = [\"console\"]\nsymbols = [\"puts\", \"__udivti3\"]\n\
             [components.console]\nsummary = \"c\"\nsymbols = [\"write\"]\n",
        );
        assert!(hidden.contains("defines hidden or mangled"), "{hidden}");
        let planned = problems(
            "[components.stdio]\nsummary = \"s\"\nrequires = [\"console\"]\nsymbols = [\"puts\"]\n\
             [planned.console]\nsummary = \"c\"\nsymbols = [\"write\"]\n",
        );
        assert!(
            planned.contains("the archive now defines write of the planned component console: move console from [planned] to [components]"),
            "{planned}"
        );
    }

    #[test]
    fn bad_declarations_name_the_file() {
        let error = generate(
            "components = 3",
            "components.toml",
            b"",
            "libunik.a",
            ("x86_64", "x86_64"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("components.toml: "), "{error}");
        let error = generate(
            "[components.a]\nsummary = \"s\"\n",
            "components.toml",
            b"not an archive",
            "libunik.a",
            ("x86_64", "x86_64"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("libunik.a: not an archive"), "{error}");
    }
}
