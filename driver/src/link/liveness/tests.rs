use super::*;
use crate::link::inputs::{ObjectInput, parse_object};
use object::write::{Object as WriteObject, Relocation, SectionId, Symbol, SymbolId};
use object::{
    Architecture, BinaryFormat, RelocationEncoding, RelocationFlags, RelocationKind, SectionKind,
    SymbolFlags, SymbolKind, SymbolScope,
};

/// Builds relocatable objects section by section.
struct Builder {
    object: WriteObject<'static>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            object: WriteObject::new(
                BinaryFormat::Elf,
                Architecture::X86_64,
                object::Endianness::Little,
            ),
        }
    }

    fn section(&mut self, name: &str, kind: SectionKind, size: usize) -> SectionId {
        let id = self
            .object
            .add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        self.object.append_section_data(id, &vec![0; size], 1);
        id
    }

    fn data(&mut self, name: &str, kind: SectionKind, bytes: &[u8]) -> SectionId {
        let id = self
            .object
            .add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        self.object.append_section_data(id, bytes, 1);
        id
    }

    /// A global function at the start of `section`.
    fn define(&mut self, name: &str, section: SectionId, weak: bool) -> SymbolId {
        self.object.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Linkage,
            weak,
            section: object::write::SymbolSection::Section(section),
            flags: SymbolFlags::None,
        })
    }

    fn undefined(&mut self, name: &str) -> SymbolId {
        if let Some(id) = self.object.symbol_id(name.as_bytes()) {
            return id;
        }
        self.object.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Linkage,
            weak: false,
            section: object::write::SymbolSection::Undefined,
            flags: SymbolFlags::None,
        })
    }

    fn refer(&mut self, from: SectionId, offset: u64, to: SymbolId) {
        self.object
            .add_relocation(
                from,
                Relocation {
                    offset,
                    symbol: to,
                    addend: 0,
                    flags: RelocationFlags::Generic {
                        kind: RelocationKind::Absolute,
                        encoding: RelocationEncoding::Generic,
                        size: 32,
                    },
                },
            )
            .expect("relocation");
    }

    /// A reference from `from` to the undefined (or global) `name`.
    fn needs(&mut self, from: SectionId, offset: u64, name: &str) {
        let symbol = self.undefined(name);
        self.refer(from, offset, symbol);
    }

    fn refer_to_section(&mut self, from: SectionId, offset: u64, to: SectionId) {
        let symbol = self.object.section_symbol(to);
        self.refer(from, offset, symbol);
    }

    fn build(self, name: &str) -> ObjectInput {
        let bytes = self.object.write().expect("object");
        parse_object(bytes, name.to_string(), Architecture::X86_64).expect("parse")
    }
}

fn needed(objects: &[&ObjectInput], roots: &[&str]) -> Vec<(String, Vec<usize>)> {
    let resolution = Resolution {
        loaded: objects.to_vec(),
        undefined: BTreeMap::new(),
    };
    let roots = Roots {
        symbols: roots.iter().map(|name| name.to_string()).collect(),
        runtime_names: ["memcpy".to_string()].into(),
    };
    let live = live_undefined(&resolution, &roots).expect("liveness");
    assert!(live.incidental.is_empty(), "{live:?}");
    live.needed.into_iter().collect()
}

fn names(needed: &[(String, Vec<usize>)]) -> Vec<&str> {
    needed.iter().map(|(name, _)| name.as_str()).collect()
}

#[test]
fn only_references_from_sections_reachable_from_main_are_needed() {
    let mut main = Builder::new();
    let text_main = main.section(".text.main", SectionKind::Text, 16);
    main.define("main", text_main, false);
    let helper = main.undefined("helper");
    main.refer(text_main, 0, helper);
    let puts = main.undefined("puts");
    main.refer(text_main, 4, puts);
    // A local call within the object, through the section symbol.
    let text_local = main.section(".text.local", SectionKind::Text, 8);
    main.refer_to_section(text_main, 8, text_local);
    let malloc = main.undefined("malloc");
    main.refer(text_local, 0, malloc);
    // Dead: nothing reaches it.
    let text_dead = main.section(".text.dead", SectionKind::Text, 8);
    main.define("unused", text_dead, false);
    main.needs(text_dead, 0, "socket");
    let main = main.build("main.o");

    let mut library = Builder::new();
    let text_helper = library.section(".text.helper", SectionKind::Text, 8);
    library.define("helper", text_helper, false);
    let write = library.undefined("write");
    library.refer(text_helper, 0, write);
    let text_fork = library.section(".text.spawn", SectionKind::Text, 8);
    library.define("spawn", text_fork, false);
    library.needs(text_fork, 0, "fork");
    let library = library.build("lib.a(helper.o)");

    let needed = needed(&[&main, &library], &["main"]);
    assert_eq!(names(&needed), ["malloc", "puts", "write"]);
    assert_eq!(
        needed[2].1,
        [1],
        "write is referenced by the library member"
    );
}

#[test]
fn incidental_references_are_set_apart_unless_other_live_code_needs_them() {
    // Rust std's start-up: it calls main, and poll/fcntl/open64 for descriptors 0-2.
    let start = "_RNvNtCs1_3std2rt19lang_start_internal";
    let symbolizer = "_RNvNtNtCs1_3std12backtrace_rs9symbolize7resolve";
    let open_file = "_RNvNtCs1_3std2fs9File_open";
    let mut std = Builder::new();
    let text_start = std.section(&format!(".text.{start}"), SectionKind::Text, 16);
    std.define(start, text_start, false);
    std.needs(text_start, 0, "main");
    std.needs(text_start, 4, "poll");
    std.needs(text_start, 8, "open64");
    std.needs(text_start, 12, "malloc");
    // The symbolizer: nothing it references counts, not even through std's own code
    // (File::open -> open64, close).
    let text_symbolizer = std.section(&format!(".text.{symbolizer}"), SectionKind::Text, 12);
    std.define(symbolizer, text_symbolizer, false);
    std.needs(text_symbolizer, 0, "malloc");
    std.needs(text_symbolizer, 4, open_file);
    let text_open = std.section(&format!(".text.{open_file}"), SectionKind::Text, 8);
    std.define(open_file, text_open, false);
    std.needs(text_open, 0, "open64");
    std.needs(text_open, 4, "close");
    let std = std.build("libstd.rlib(std.o)");

    // A program that prints a backtrace: the symbolizer is live, yet needs nothing.
    let mut program = Builder::new();
    let text_main = program.section(".text.main", SectionKind::Text, 8);
    program.define("main", text_main, false);
    program.needs(text_main, 0, start);
    program.needs(text_main, 4, symbolizer);
    let program = program.build("main.o");
    let resolution = Resolution {
        loaded: vec![&program, &std],
        undefined: BTreeMap::new(),
    };
    let roots = Roots {
        symbols: ["main".to_string()].into(),
        runtime_names: Default::default(),
    };
    let live = live_undefined(&resolution, &roots).expect("liveness");
    assert_eq!(live.needed.keys().collect::<Vec<_>>(), ["malloc"]);
    assert_eq!(
        live.incidental.keys().collect::<Vec<_>>(),
        ["close", "open64", "poll"]
    );
    assert_eq!(live.incidental["open64"], [1]);

    // The same std with a program that opens a file itself: open64 and close are
    // needed; poll stays incidental.
    let mut program = Builder::new();
    let text_main = program.section(".text.main", SectionKind::Text, 8);
    program.define("main", text_main, false);
    program.needs(text_main, 0, start);
    program.needs(text_main, 4, open_file);
    let program = program.build("main.o");
    let resolution = Resolution {
        loaded: vec![&program, &std],
        undefined: BTreeMap::new(),
    };
    let live = live_undefined(&resolution, &roots).expect("liveness");
    assert_eq!(
        live.needed.keys().collect::<Vec<_>>(),
        ["close", "malloc", "open64"]
    );
    assert_eq!(live.incidental.keys().collect::<Vec<_>>(), ["poll"]);
}

#[test]
fn reserved_kept_and_runtime_named_sections_are_roots_and_strong_definitions_win() {
    let mut object = Builder::new();
    let init = object.section(".init_array", SectionKind::Data, 8);
    object.object.section_mut(init).flags = object::SectionFlags::Elf {
        sh_type: elf::SHT_INIT_ARRAY,
        sh_flags: elf::SectionFlags(elf::SHF_ALLOC.0 | elf::SHF_WRITE.0),
    };
    let text_constructor = object.section(".text.constructor", SectionKind::Text, 8);
    object.refer_to_section(init, 0, text_constructor);
    let getenv = object.undefined("getenv");
    object.refer(text_constructor, 0, getenv);
    // A PROGBITS .init_array.N (Rust's std) is reserved by name.
    let init_priority = object.section(".init_array.00099", SectionKind::Data, 8);
    object.needs(init_priority, 0, "args_init");
    // Kept by the linker script.
    let boot = object.section(".text.unik_boot", SectionKind::Text, 8);
    let boot_needs = object.undefined("boot_needs");
    object.refer(boot, 0, boot_needs);
    // A program memcpy: the runtime may call it.
    let text_memcpy = object.section(".text.memcpy", SectionKind::Text, 8);
    object.define("memcpy", text_memcpy, false);
    let memcpy_needs = object.undefined("memcpy_needs");
    object.refer(text_memcpy, 0, memcpy_needs);
    // A weak definition loses to a strong one elsewhere: its references are dead.
    let text_weak = object.section(".text.hook", SectionKind::Text, 8);
    object.define("hook", text_weak, true);
    object.needs(text_weak, 0, "weak_needs");
    let text_main = object.section(".text.main", SectionKind::Text, 8);
    object.define("main", text_main, false);
    let hook = object.undefined("hook");
    object.refer(text_main, 0, hook);
    // __start_/__stop_ keep the sections of that name.
    object.needs(text_main, 4, "__start_my_table");
    let table = object.section("my_table", SectionKind::Data, 8);
    let table_needs = object.undefined("table_needs");
    object.refer(table, 0, table_needs);
    // Debug sections are not roots.
    let debug = object.section(".debug_info", SectionKind::Debug, 8);
    object.needs(debug, 0, "debug_needs");
    let first = object.build("first.o");

    let mut strong = Builder::new();
    let text_hook = strong.section(".text.hook", SectionKind::Text, 8);
    strong.define("hook", text_hook, false);
    let strong_needs = strong.undefined("strong_needs");
    strong.refer(text_hook, 0, strong_needs);
    let strong = strong.build("strong.o");

    let needed = needed(&[&first, &strong], &["main"]);
    assert_eq!(
        names(&needed),
        [
            "__start_my_table",
            "args_init",
            "boot_needs",
            "getenv",
            "memcpy_needs",
            "strong_needs",
            "table_needs"
        ]
    );
}

/// An `.eh_frame` with one CIE (12 bytes of body) and one FDE (16 bytes of body).
fn eh_frame_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend(12u32.to_le_bytes());
    bytes.extend(0u32.to_le_bytes());
    bytes.extend([0; 8]);
    bytes.extend(16u32.to_le_bytes());
    bytes.extend(20u32.to_le_bytes());
    bytes.extend([0; 12]);
    bytes.extend(0u32.to_le_bytes());
    bytes
}

#[test]
fn eh_frame_keeps_personalities_and_lsdas_but_not_the_functions() {
    assert_eq!(
        eh_frame_records(&eh_frame_bytes()),
        [(0, 16, true), (16, 36, false)]
    );
    let build = |function_live: bool| {
        let mut object = Builder::new();
        let text_main = object.section(".text.main", SectionKind::Text, 8);
        object.define("main", text_main, false);
        let text_function = object.section(".text.function", SectionKind::Text, 8);
        object.define("function", text_function, false);
        let function_needs = object.undefined("function_needs");
        object.refer(text_function, 0, function_needs);
        if function_live {
            let function = object.object.symbol_id(b"function").expect("symbol");
            object.refer(text_main, 0, function);
        }
        let lsda = object.section(".gcc_except_table.function", SectionKind::ReadOnlyData, 8);
        let type_info = object.undefined("lsda_type_info");
        object.refer(lsda, 0, type_info);
        let eh_frame = object.data(".eh_frame", SectionKind::ReadOnlyData, &eh_frame_bytes());
        let personality = object.undefined("rust_eh_personality");
        object.refer(eh_frame, 8, personality);
        object.refer_to_section(eh_frame, 24, text_function);
        object.refer_to_section(eh_frame, 28, lsda);
        let fde_needs = object.undefined("fde_needs");
        object.refer(eh_frame, 32, fde_needs);
        object.build("unwind.o")
    };
    let dead = build(false);
    assert_eq!(
        names(&needed(&[&dead], &["main"])),
        ["lsda_type_info", "rust_eh_personality"]
    );
    let live = build(true);
    assert_eq!(
        names(&needed(&[&live], &["main"])),
        [
            "fde_needs",
            "function_needs",
            "lsda_type_info",
            "rust_eh_personality"
        ]
    );
}

#[test]
fn link_options_add_roots_and_can_turn_collection_off() {
    let (roots, collect) = options_roots([
        "-u",
        "first",
        "--undefined=second",
        "-uthird",
        "--entry",
        "start",
        "--require-defined=fourth",
        "--whole-archive",
    ]);
    assert!(collect);
    assert_eq!(
        roots.iter().map(String::as_str).collect::<Vec<_>>(),
        ["first", "fourth", "second", "start", "third"]
    );
    let (_, collect) = options_roots(["--gc-sections", "--no-gc-sections"]);
    assert!(!collect);
}

#[test]
fn every_keep_of_the_linker_scripts_is_known() {
    let mut checked = 0;
    for script in [
        include_str!("../../../../sysroot/link/x86_64.ld"),
        include_str!("../../../../sysroot/link/aarch64.ld"),
    ] {
        for (_, rest) in script
            .match_indices("KEEP(")
            .map(|(at, _)| script.split_at(at + 5))
        {
            let body = &rest[..rest.find('\n').unwrap_or(rest.len())];
            let names = body
                .split(|c: char| c.is_whitespace() || "()*".contains(c))
                .filter(|word| word.starts_with('.'));
            for name in names {
                let sample = name.replace(".*", ".00100");
                assert!(kept_by_linker_script(&sample), "{name} in `KEEP({body}`");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} KEEP patterns found");
}
