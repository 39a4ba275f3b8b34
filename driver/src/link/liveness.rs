//! Link phase 2b, liveness: which of the loaded objects' sections the link keeps, the
//! same way LLD's `--gc-sections` marks them (lld/ELF/MarkLive.cpp), and so which
//! undefined symbols the kept code really references.
//!
//! Phase 2 ([`super::symbols`]) loads archive members as ld does, so its undefined
//! symbols include those referenced only from sections the link then drops: Rust's
//! std refers to sockets, processes and users from code a hello world never reaches.
//! LLD reports undefined symbols only for relocations of live sections, so a symbol
//! referenced from dead code needs neither a component nor a stub.
//!
//! The marking, as LLD does it:
//! - roots: the symbols in [`Roots`] (the program's `main`, `-u`/`-e` names, and the
//!   program's definitions of names the runtime itself provides or references, such as
//!   `memcpy`); the sections LLD never collects (`isReserved`: init/fini arrays,
//!   `.init`, `.fini`, `.ctors*`, `.dtors*`, `.jcr`, notes outside groups,
//!   `SHF_GNU_RETAIN`); the sections the targets' linker scripts `KEEP`;
//! - a live section makes live every section its relocations point at (through local
//!   symbols, or through global symbols resolved to their winning definition); a
//!   relocation to a symbol no loaded object defines makes that symbol needed;
//! - a live section makes live the rest of its section group and the `SHF_LINK_ORDER`
//!   sections attached to it; a reference to `__start_NAME`/`__stop_NAME` makes every
//!   section NAME live;
//! - `.eh_frame`: its CIEs' relocations (personality routines) are live; an FDE's
//!   reference to a non-executable section outside any group (its LSDA) is live; the
//!   function an FDE describes is not kept by it. An FDE's undefined references count
//!   only when the function it describes is live.
//!
//! Incidental references ([`INCIDENTAL`]): a few of Rust std's references to file
//! functions sit on paths that an image without the file system never takes (std's
//! start-up check that descriptors 0-2 are open: the console keeps them open) or that
//! cannot succeed in any unik image (the in-image backtrace symbolizer reads the
//! program's file through /proc/self/exe). The marking is done twice, the second time
//! without following those references; what only the first one needs is
//! [`Live::incidental`], which the selection binds to stand-ins (the `stand-ins`
//! component) unless the component is linked anyway (link/selection.rs).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol, RelocationTarget, SymbolSection};

use super::inputs::InputError;
use super::symbols::Resolution;

/// The symbol roots of the marking.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    /// Names the link starts from: `main`, the `-u`/`--undefined`/`-e` names.
    pub symbols: BTreeSet<String>,
    /// Names the runtime provides or references: a program's definition of one of
    /// them may be what the runtime's own code calls (a program's `memcpy`), so it is
    /// live whatever the program references.
    pub runtime_names: BTreeSet<String>,
}

/// References of Rust std that select no component (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incidental {
    /// Part of the referencing section's name: a std function's path as both of
    /// rustc's manglings spell it (`3std2rt19lang_start_internal`), so its closures and
    /// its legacy-mangled name match too.
    pub from: &'static str,
    /// The symbols it references incidentally (empty: all of them).
    pub symbols: &'static [&'static str],
}

/// The incidental references (module docs), each with why it never needs the
/// component: runtime/libc/src/stand_ins.rs answers them without files.
pub const INCIDENTAL: &[Incidental] = &[
    // std::sys::pal::unix::init's sanitize_standard_fds (inlined into
    // lang_start_internal): poll(0-2, timeout 0), on EINVAL/EAGAIN/ENOMEM
    // fcntl(F_GETFD) on each, and open64("/dev/null") (dup of it) only for a closed
    // one. The console's descriptors are never closed without files.
    Incidental {
        from: "3std2rt19lang_start_internal",
        symbols: &["poll", "fcntl", "open64", "dup"],
    },
    // std::backtrace_rs's symbolizer, reached from every backtrace print: it finds the
    // program's file through /proc/self/exe, which no unik image has (`unik run` names
    // the frames on the host), so nothing it calls can succeed.
    Incidental {
        from: "3std12backtrace_rs9symbolize",
        symbols: &[],
    },
    // std::env::current_dir: getcwd, which is "/" until a chdir (files') changes it;
    // backtrace printing calls it in every program.
    Incidental {
        from: "3std3env11current_dir",
        symbols: &["getcwd"],
    },
];

/// What the kept code references from outside the program: name → indexes into
/// `resolution.loaded` of the objects whose live sections reference it, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// Referenced by live code other than through [`INCIDENTAL`] references.
    pub needed: BTreeMap<String, Vec<usize>>,
    /// Referenced only through [`INCIDENTAL`] references.
    pub incidental: BTreeMap<String, Vec<usize>>,
}

/// The undefined symbols live sections reference (module docs).
pub fn live_undefined(resolution: &Resolution<'_>, roots: &Roots) -> Result<Live, InputError> {
    let objects = resolution
        .loaded
        .iter()
        .map(|object| {
            ParsedObject::parse(&object.bytes).map_err(|problem| InputError {
                file: object.display_name.clone(),
                problem,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(live(&objects, roots, INCIDENTAL))
}

/// Marks twice, following `incidental` references and not ([`Live`]).
fn live(objects: &[ParsedObject], roots: &Roots, incidental: &[Incidental]) -> Live {
    let mut incidental_only = mark(objects, roots, &[]);
    let needed = mark(objects, roots, incidental);
    incidental_only.retain(|name, _| !needed.contains_key(name));
    Live {
        needed,
        incidental: incidental_only,
    }
}

/// Where a relocation points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A section of the same object (a local or section symbol).
    Section(usize),
    /// A global or weak symbol, resolved across the loaded objects.
    Global(String),
    /// An absolute value or a weak undefined symbol: nothing to keep, nothing needed.
    Nothing,
}

#[derive(Debug, Clone, Default)]
struct SectionFacts {
    name: String,
    /// Reserved by LLD or kept by the linker script: a root.
    retained: bool,
    executable: bool,
    link_order: bool,
    /// The index of its group in `ParsedObject::groups`.
    group: Option<usize>,
    /// `.eh_frame` (scanned record by record).
    eh_frame: bool,
    /// (offset, target), by offset.
    relocations: Vec<(u64, Target)>,
    /// `.eh_frame` only: each record's byte range and whether it is a CIE.
    records: Vec<(u64, u64, bool)>,
}

#[derive(Debug, Clone, Default)]
struct ParsedObject {
    /// By section index (index 0 is the null section).
    sections: Vec<SectionFacts>,
    /// Each group's member sections.
    groups: Vec<Vec<usize>>,
    /// Section → the `SHF_LINK_ORDER` sections linked to it.
    attached: HashMap<usize, Vec<usize>>,
    /// Global and weak definitions: name → (section, weak). Common symbols have no
    /// section (`None`).
    definitions: Vec<(String, Option<usize>, bool)>,
}

/// Whether the targets' linker scripts (sysroot/link/*.ld) `KEEP` a section of this
/// name; the test `every_keep_of_the_linker_scripts_is_known` holds the list to them.
fn kept_by_linker_script(name: &str) -> bool {
    const EXACT: &[&str] = &[
        ".note.Xen",
        ".multiboot2",
        ".eh_frame",
        ".unik_init",
        ".unik_fs",
        ".preinit_array",
        ".init_array",
        ".ctors",
        ".fini_array",
        ".dtors",
        ".text.unik_boot",
        ".text.unik_exception_vectors",
        ".unik_stacks",
    ];
    const PREFIXES: &[&str] = &[".init_array.", ".ctors.", ".fini_array.", ".dtors."];
    EXACT.contains(&name) || PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// LLD's `isReserved` (MarkLive.cpp): sections `--gc-sections` never collects.
fn reserved_by_lld(name: &str, section_type: elf::SectionType, in_group: bool) -> bool {
    if [
        elf::SHT_INIT_ARRAY,
        elf::SHT_FINI_ARRAY,
        elf::SHT_PREINIT_ARRAY,
    ]
    .contains(&section_type)
    {
        return true;
    }
    if section_type == elf::SHT_NOTE {
        return !in_group;
    }
    name == ".init"
        || name == ".fini"
        || name.starts_with(".init_array")
        || name == ".jcr"
        || name.starts_with(".ctors")
        || name.starts_with(".dtors")
}

impl ParsedObject {
    fn parse(bytes: &[u8]) -> Result<ParsedObject, String> {
        let file = ElfFile64::<Endianness>::parse(bytes)
            .map_err(|error| format!("truncated or corrupt ELF file: {error}"))?;
        let endian = file.endian();
        let headers = file
            .elf_header()
            .section_headers(endian, bytes)
            .map_err(|error| format!("corrupt section headers: {error}"))?;
        let mut parsed = ParsedObject {
            sections: vec![SectionFacts::default(); headers.len()],
            ..ParsedObject::default()
        };
        // Groups first: membership decides which notes are reserved.
        for header in headers {
            if header.sh_type(endian) != elf::SHT_GROUP {
                continue;
            }
            let words = header
                .data_as_array::<object::U32<Endianness>, _>(endian, bytes)
                .map_err(|error| format!("corrupt section group: {error}"))?;
            let members: Vec<usize> = words
                .iter()
                .skip(1)
                .map(|word| word.get(endian) as usize)
                .filter(|&index| index < headers.len())
                .collect();
            let group = parsed.groups.len();
            for &member in &members {
                parsed.sections[member].group = Some(group);
            }
            parsed.groups.push(members);
        }
        for section in file.sections() {
            let index = section.index().0;
            let header = section.elf_section_header();
            let flags = header.sh_flags(endian).0;
            let section_type = header.sh_type(endian);
            if flags & elf::SHF_ALLOC.0 == 0 {
                // Debug information and the like: kept, but it keeps nothing.
                continue;
            }
            let name = section
                .name()
                .map_err(|error| format!("corrupt section name: {error}"))?
                .to_string();
            let facts = &mut parsed.sections[index];
            facts.retained = reserved_by_lld(&name, section_type, facts.group.is_some())
                || flags & elf::SHF_GNU_RETAIN.0 != 0
                || kept_by_linker_script(&name);
            facts.executable = flags & elf::SHF_EXECINSTR.0 != 0;
            facts.link_order = flags & elf::SHF_LINK_ORDER.0 != 0;
            facts.eh_frame = name == ".eh_frame";
            if facts.link_order {
                let parent = header.sh_link(endian) as usize;
                parsed.attached.entry(parent).or_default().push(index);
            }
            let mut relocations = Vec::new();
            let mut previous_type = None;
            for (offset, relocation) in section.relocations() {
                let relocation_type = match relocation.flags() {
                    object::RelocationFlags::Elf { r_type } => Some(r_type),
                    _ => None,
                };
                let follows_general_dynamic = matches!(
                    (file.elf_header().e_machine(endian), previous_type),
                    (
                        elf::EM_X86_64,
                        Some(elf::R_X86_64_TLSGD | elf::R_X86_64_TLSLD)
                    )
                );
                previous_type = relocation_type;
                let target = match relocation.target() {
                    RelocationTarget::Section(target) => Target::Section(target.0),
                    RelocationTarget::Symbol(symbol_index) => {
                        let symbol = file.symbol_by_index(symbol_index).map_err(|error| {
                            format!("corrupt relocation in {name} at {offset:#x}: {error}")
                        })?;
                        let symbol_name = symbol.name().unwrap_or_default();
                        match symbol.section() {
                            SymbolSection::Section(target) if symbol.is_local() => {
                                Target::Section(target.0)
                            }
                            SymbolSection::Undefined if symbol.is_weak() => Target::Nothing,
                            SymbolSection::Absolute => Target::Nothing,
                            // x86-64 psABI TLS relaxation: in a static link LLD
                            // rewrites a general- or local-dynamic access to
                            // local-exec, and the call that follows it is gone.
                            _ if follows_general_dynamic && symbol_name == "__tls_get_addr" => {
                                Target::Nothing
                            }
                            _ if symbol.is_local() || symbol_name.is_empty() => Target::Nothing,
                            _ => Target::Global(symbol_name.to_string()),
                        }
                    }
                    _ => Target::Nothing,
                };
                relocations.push((offset, target));
            }
            relocations.sort_by_key(|(offset, _)| *offset);
            let facts = &mut parsed.sections[index];
            facts.relocations = relocations;
            if facts.eh_frame {
                facts.records = eh_frame_records(section.data().unwrap_or_default());
            }
            facts.name = name;
        }
        for symbol in file.symbols() {
            if symbol.is_local() || symbol.is_undefined() {
                continue;
            }
            let Ok(name) = symbol.name() else { continue };
            if name.is_empty() {
                continue;
            }
            let section = match symbol.section() {
                SymbolSection::Section(index) => Some(index.0),
                _ => None,
            };
            parsed
                .definitions
                .push((name.to_string(), section, symbol.is_weak()));
        }
        Ok(parsed)
    }
}

/// The records of an `.eh_frame` section (DWARF 5 §6.4.1 as LSB's `.eh_frame` lays it
/// out): `(start, end, is_cie)`, up to the zero terminator or the end of the data.
fn eh_frame_records(data: &[u8]) -> Vec<(u64, u64, bool)> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let mut records = Vec::new();
    let mut offset = 0usize;
    while let Some(length) = word(offset) {
        if length == 0 {
            break;
        }
        let (length, header) = if length == u32::MAX {
            let Some(bytes) = data.get(offset + 4..offset + 12) else {
                break;
            };
            let Ok(bytes) = <[u8; 8]>::try_from(bytes) else {
                break;
            };
            (u64::from_le_bytes(bytes) as usize, 12)
        } else {
            (length as usize, 4)
        };
        let Some(identifier) = word(offset + header) else {
            break;
        };
        let end = offset.saturating_add(header).saturating_add(length);
        records.push((offset as u64, end as u64, identifier == 0));
        offset = end;
    }
    records
}

/// The marking itself (module docs), not following `incidental` references.
fn mark(
    objects: &[ParsedObject],
    roots: &Roots,
    incidental: &[Incidental],
) -> BTreeMap<String, Vec<usize>> {
    // The winning definition of each global: the first strong one, else the first weak.
    let mut winners: HashMap<&str, (usize, Option<usize>, bool)> = HashMap::new();
    for (object_index, object) in objects.iter().enumerate() {
        for (name, section, weak) in &object.definitions {
            match winners.get(name.as_str()) {
                Some((_, _, false)) => {}
                Some((_, _, true)) if *weak => {}
                _ => {
                    winners.insert(name, (object_index, *section, *weak));
                }
            }
        }
    }
    let mut sections_by_name: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for (object_index, object) in objects.iter().enumerate() {
        for (section_index, facts) in object.sections.iter().enumerate() {
            if !facts.name.is_empty() {
                sections_by_name
                    .entry(facts.name.as_str())
                    .or_default()
                    .push((object_index, section_index));
            }
        }
    }
    let mut marker = Marker {
        objects,
        live: objects
            .iter()
            .map(|object| vec![false; object.sections.len()])
            .collect(),
        queue: Vec::new(),
        needed: BTreeMap::new(),
        winners,
        sections_by_name,
        incidental,
    };
    for name in roots.symbols.iter().chain(&roots.runtime_names) {
        if let Some(&(object, Some(section), _)) = marker.winners.get(name.as_str()) {
            marker.enqueue(object, section);
        }
    }
    for (object_index, object) in objects.iter().enumerate() {
        for (section_index, facts) in object.sections.iter().enumerate() {
            if facts.retained && !facts.eh_frame {
                marker.enqueue(object_index, section_index);
            }
        }
    }
    // .eh_frame: CIEs' references, and FDEs' references to LSDAs.
    for (object_index, object) in objects.iter().enumerate() {
        for facts in object.sections.iter().filter(|facts| facts.eh_frame) {
            for (offset, target) in &facts.relocations {
                match record_at(&facts.records, *offset) {
                    Some((_, _, true)) => marker.resolve(object_index, target, false),
                    Some((_, _, false)) => marker.resolve(object_index, target, true),
                    None => {}
                }
            }
        }
    }
    marker.run();
    // An FDE's undefined references count when the function it describes is live
    // (its first relocation, the initial location).
    for (object_index, object) in objects.iter().enumerate() {
        for facts in object.sections.iter().filter(|facts| facts.eh_frame) {
            for &(start, end, is_cie) in &facts.records {
                if is_cie {
                    continue;
                }
                let in_record: Vec<&Target> = facts
                    .relocations
                    .iter()
                    .filter(|(offset, _)| (start..end).contains(offset))
                    .map(|(_, target)| target)
                    .collect();
                let Some(first) = in_record.first() else {
                    continue;
                };
                if marker.target_is_live(object_index, first) {
                    for target in &in_record[1..] {
                        if let Target::Global(name) = target
                            && !marker.winners.contains_key(name.as_str())
                        {
                            marker.need(name, object_index);
                        }
                    }
                }
            }
        }
    }
    marker.needed
}

fn record_at(records: &[(u64, u64, bool)], offset: u64) -> Option<(u64, u64, bool)> {
    let index = records.partition_point(|&(start, _, _)| start <= offset);
    let record = *records.get(index.checked_sub(1)?)?;
    (offset < record.1).then_some(record)
}

struct Marker<'a> {
    objects: &'a [ParsedObject],
    live: Vec<Vec<bool>>,
    queue: Vec<(usize, usize)>,
    needed: BTreeMap<String, Vec<usize>>,
    winners: HashMap<&'a str, (usize, Option<usize>, bool)>,
    sections_by_name: HashMap<&'a str, Vec<(usize, usize)>>,
    /// References not followed ([`INCIDENTAL`]).
    incidental: &'a [Incidental],
}

impl Marker<'_> {
    fn enqueue(&mut self, object: usize, section: usize) {
        let Some(flag) = self
            .live
            .get_mut(object)
            .and_then(|sections| sections.get_mut(section))
        else {
            return;
        };
        if *flag || self.objects[object].sections[section].name.is_empty() {
            return;
        }
        *flag = true;
        self.queue.push((object, section));
    }

    fn need(&mut self, name: &str, object: usize) {
        let referencing = self.needed.entry(name.to_string()).or_default();
        if !referencing.contains(&object) {
            referencing.push(object);
        }
    }

    /// Where `target` (in `object`) lands: `(object, section)`, if in a section.
    fn destination(&self, object: usize, target: &Target) -> Option<(usize, usize)> {
        match target {
            Target::Section(section) => Some((object, *section)),
            Target::Global(name) => {
                let &(defining, section, _) = self.winners.get(name.as_str())?;
                Some((defining, section?))
            }
            Target::Nothing => None,
        }
    }

    fn target_is_live(&self, object: usize, target: &Target) -> bool {
        self.destination(object, target)
            .is_some_and(|(object, section)| self.live[object][section])
    }

    /// LLD's `resolveReloc`: marks what a relocation of `object` keeps.
    fn resolve(&mut self, object: usize, target: &Target, from_fde: bool) {
        if let Some((defining, section)) = self.destination(object, target) {
            let facts = &self.objects[defining].sections[section];
            if from_fde && (facts.executable || facts.link_order || facts.group.is_some()) {
                return;
            }
            self.enqueue(defining, section);
            return;
        }
        let Target::Global(name) = target else {
            return;
        };
        if self.winners.contains_key(name.as_str()) || from_fde {
            // A common symbol (no section), or an FDE's reference (counted later).
            return;
        }
        if let Some(section_name) = name
            .strip_prefix("__start_")
            .or_else(|| name.strip_prefix("__stop_"))
            && let Some(sections) = self.sections_by_name.get(section_name).cloned()
        {
            for (defining, section) in sections {
                self.enqueue(defining, section);
            }
        }
        self.need(name, object);
    }

    fn run(&mut self) {
        while let Some((object, section)) = self.queue.pop() {
            let objects = self.objects;
            let facts = &objects[object].sections[section];
            if facts.eh_frame {
                continue;
            }
            let skipped: Vec<&Incidental> = self
                .incidental
                .iter()
                .filter(|rule| facts.name.contains(rule.from))
                .collect();
            for (_, target) in &facts.relocations {
                let incidental = skipped.iter().any(|rule| {
                    rule.symbols.is_empty()
                        || matches!(target, Target::Global(name) if rule.symbols.contains(&name.as_str()))
                });
                if !incidental {
                    self.resolve(object, target, false);
                }
            }
            if let Some(group) = facts.group {
                for &member in &objects[object].groups[group] {
                    self.enqueue(object, member);
                }
            }
            if let Some(attached) = objects[object].attached.get(&section) {
                for &dependent in attached {
                    self.enqueue(object, dependent);
                }
            }
        }
    }
}

/// The roots the link options add, and whether the link collects garbage at all: `-u
/// NAME`/`--undefined[=]NAME`/`--require-defined[=]NAME` and `-e NAME`/`--entry[=]NAME`
/// are roots; the last of `--gc-sections`/`--no-gc-sections` decides (on by default:
/// every unik link passes `--gc-sections`).
pub fn options_roots<'a>(options: impl IntoIterator<Item = &'a str>) -> (BTreeSet<String>, bool) {
    let mut names = BTreeSet::new();
    let mut collect = true;
    let mut options = options.into_iter();
    while let Some(option) = options.next() {
        match option {
            "--gc-sections" => collect = true,
            "--no-gc-sections" => collect = false,
            "-u" | "--undefined" | "-undefined" | "--require-defined" | "-e" | "--entry" => {
                if let Some(name) = options.next() {
                    names.insert(name.to_string());
                }
            }
            _ => {
                let joined = [
                    "--undefined=",
                    "-undefined=",
                    "--require-defined=",
                    "--entry=",
                ]
                .iter()
                .find_map(|prefix| option.strip_prefix(prefix))
                .or_else(|| option.strip_prefix("-u").filter(|rest| !rest.is_empty()));
                if let Some(name) = joined {
                    names.insert(name.to_string());
                }
            }
        }
    }
    (names, collect)
}

#[cfg(test)]
mod tests;
