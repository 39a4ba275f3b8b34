//! Link phase 3, selection: resolves the program's undefined symbols against the
//! component manifest, takes the closure over `requires` and orders the result so
//! that every component comes after what it requires (the order init functions run
//! in). Symbols nobody provides are collected for the diagnostics phase.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use unik_sysroot::manifest::Manifest;

use super::symbols::Resolution;

/// Why a component is in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// The program references one of its symbols (the first, by name).
    Symbol { symbol: String, object: String },
    /// Another selected component requires it.
    RequiredBy {
        #[serde(rename = "by")]
        component: String,
    },
    /// Every image has it (the entry).
    Always,
    /// `--all-components`.
    Forced,
    /// Its functions stand in for these, which the program's code references only
    /// incidentally (link/liveness.rs) and whose component is not linked, or which
    /// the link cut off (link/symbolizer.rs).
    StandIns { symbols: Vec<String> },
}

/// One selected component and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selected {
    pub component: String,
    #[serde(flatten)]
    pub reason: Reason,
}

/// The selection: components in dependency order, and what could not be resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub components: Vec<Selected>,
    /// Undefined symbols no component and no toolchain library provides.
    pub missing: Vec<String>,
}

impl Selection {
    /// The init functions of the selected components, in order.
    pub fn init_functions<'a>(&self, manifest: &'a Manifest) -> Vec<&'a str> {
        self.components
            .iter()
            .filter_map(|selected| manifest.component(&selected.component)?.init.as_deref())
            .collect()
    }
}

/// Selects the components `resolution` needs (all of them when `all_components`).
pub fn select(resolution: &Resolution<'_>, manifest: &Manifest, all_components: bool) -> Selection {
    // The direct reason of each component reached so far.
    let mut reasons: BTreeMap<&str, Reason> = BTreeMap::new();
    let mut missing = Vec::new();
    for component in &manifest.components {
        if component.always {
            reasons.insert(&component.name, Reason::Always);
        }
    }
    for symbol in resolution.undefined.keys() {
        if let Some(component) = manifest.symbols.get(symbol) {
            reasons.entry(component).or_insert_with(|| Reason::Symbol {
                symbol: symbol.clone(),
                object: resolution
                    .first_reference(symbol)
                    .map(|object| object.display_name.clone())
                    // No object refers to it: a `-u` option asked for it.
                    .unwrap_or_else(|| "-u".to_string()),
            });
        } else if !manifest.toolchain_symbols.contains(symbol) {
            missing.push(symbol.clone());
        }
    }
    if all_components {
        for component in &manifest.components {
            reasons.entry(&component.name).or_insert(Reason::Forced);
        }
    }
    // The closure, breadth first in manifest order, so "required by" names the
    // component nearest to the program.
    let mut queue: Vec<&str> = manifest
        .components
        .iter()
        .map(|component| component.name.as_str())
        .filter(|name| reasons.contains_key(name))
        .collect();
    let mut cursor = 0;
    while let Some(&name) = queue.get(cursor) {
        cursor += 1;
        let Some(component) = manifest.component(name) else {
            continue;
        };
        for required in &component.requires {
            if !reasons.contains_key(required.as_str()) {
                reasons.insert(
                    required,
                    Reason::RequiredBy {
                        component: name.to_string(),
                    },
                );
                queue.push(required);
            }
        }
    }
    let order = dependency_order(manifest, &reasons.keys().copied().collect());
    Selection {
        components: order
            .into_iter()
            .filter_map(|name| {
                Some(Selected {
                    component: name.to_string(),
                    reason: reasons.get(name)?.clone(),
                })
            })
            .collect(),
        missing,
    }
}

/// The prefix of a stand-in's name: `__unik_absent_NAME` answers for `NAME` in an
/// image without NAME's component (runtime/libc/src/stand_ins.rs).
pub const STAND_IN_PREFIX: &str = "__unik_absent_";

/// [`select`], given also the symbols the program's live code references only
/// incidentally (link/liveness.rs: `incidental`, name → referencing objects). Each of
/// those whose component the other references do not bring in is bound to its
/// stand-in ([`STAND_IN_PREFIX`]), whose component then comes in with
/// [`Reason::StandIns`]; one without a stand-in is needed like any other reference
/// (its component comes in, and with it the real functions for every incidental
/// symbol it provides). Returns the selection and the names bound to stand-ins, which
/// the link defines as their stand-ins (`--defsym`). Adds what it needs to
/// `resolution.undefined`.
pub fn select_with_stand_ins(
    resolution: &mut Resolution<'_>,
    manifest: &Manifest,
    all_components: bool,
    mut incidental: BTreeMap<String, Vec<usize>>,
) -> (Selection, Vec<String>) {
    let stand_in = |name: &str| format!("{STAND_IN_PREFIX}{name}");
    loop {
        let selection = select(resolution, manifest, all_components);
        let selected: BTreeSet<&str> = selection
            .components
            .iter()
            .map(|selected| selected.component.as_str())
            .collect();
        let provided = |name: &str| {
            manifest
                .symbols
                .get(name)
                .is_some_and(|component| selected.contains(component.as_str()))
        };
        let unanswered: Vec<String> = incidental
            .keys()
            .filter(|name| !provided(name) && !manifest.symbols.contains_key(&stand_in(name)))
            .cloned()
            .collect();
        if !unanswered.is_empty() {
            for name in unanswered {
                let objects = incidental.remove(&name).unwrap_or_default();
                resolution.undefined.insert(name, objects);
            }
            continue;
        }
        let bound: Vec<String> = incidental
            .keys()
            .filter(|name| !provided(name))
            .cloned()
            .collect();
        let mut selection = if bound.is_empty() {
            selection
        } else {
            for name in &bound {
                let objects = incidental.get(name).cloned().unwrap_or_default();
                resolution.undefined.insert(stand_in(name), objects);
            }
            select(resolution, manifest, all_components)
        };
        // A component selected for a stand-in (bound here, or referenced directly, as
        // cargo unik's copy of std references the symbolizer's: link/symbolizer.rs)
        // names every function it stands in for.
        for selected in &mut selection.components {
            if let Reason::Symbol { symbol, .. } = &selected.reason
                && symbol.starts_with(STAND_IN_PREFIX)
            {
                selected.reason = Reason::StandIns {
                    symbols: resolution
                        .undefined
                        .keys()
                        .filter(|name| manifest.symbols.get(*name) == Some(&selected.component))
                        .filter_map(|name| name.strip_prefix(STAND_IN_PREFIX))
                        .map(str::to_string)
                        .collect(),
                };
            }
        }
        return (selection, bound);
    }
}

/// `chosen` ordered so that requirements come first; ties (and cycles) in manifest
/// order: a depth-first post-order walk started from each component in turn.
fn dependency_order<'a>(manifest: &'a Manifest, chosen: &BTreeSet<&str>) -> Vec<&'a str> {
    fn visit<'a>(
        manifest: &'a Manifest,
        name: &'a str,
        chosen: &BTreeSet<&str>,
        visited: &mut BTreeSet<&'a str>,
        order: &mut Vec<&'a str>,
    ) {
        if !chosen.contains(name) || !visited.insert(name) {
            return;
        }
        if let Some(component) = manifest.component(name) {
            for required in &component.requires {
                visit(manifest, required, chosen, visited, order);
            }
        }
        order.push(name);
    }
    let mut visited = BTreeSet::new();
    let mut order = Vec::new();
    for component in &manifest.components {
        visit(manifest, &component.name, chosen, &mut visited, &mut order);
    }
    order
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::link::inputs::ObjectInput;
    use unik_sysroot::manifest::{Component, MANIFEST_FORMAT};

    pub(crate) fn manifest() -> Manifest {
        let component =
            |name: &str, requires: &[&str], init: Option<&str>, symbols: &[&str]| Component {
                name: name.into(),
                summary: format!("the {name} component"),
                requires: requires.iter().map(|s| s.to_string()).collect(),
                always: name == "boot",
                init: init.map(str::to_string),
                symbols: symbols.iter().map(|s| s.to_string()).collect(),
                modules: vec![format!("unik_libc::{name}")],
                size: 100,
            };
        let components = vec![
            component("boot", &["start"], None, &["unik_main"]),
            component("start", &["alloc"], None, &["program_invocation_name"]),
            component(
                "stdio",
                &["console", "alloc"],
                Some("unik_stdio_init"),
                &["printf", "puts"],
            ),
            component("console", &[], Some("unik_console_init"), &["write"]),
            component("alloc", &[], Some("unik_alloc_init"), &["malloc", "free"]),
            component("stdlib", &["alloc"], None, &["qsort", "strtod"]),
        ];
        let symbols = components
            .iter()
            .flat_map(|c| c.symbols.iter().map(|s| (s.clone(), c.name.clone())))
            .collect();
        Manifest {
            format: MANIFEST_FORMAT,
            target: "x86_64".into(),
            components,
            symbols,
            toolchain_symbols: ["__udivti3".to_string()].into(),
            planned: Default::default(),
            unavailable: [("fork".to_string(), "single program".to_string())].into(),
        }
    }

    fn object(name: &str, undefined: &[&str]) -> ObjectInput {
        ObjectInput {
            display_name: name.into(),
            bytes: Vec::new(),
            defined: vec!["main".into()],
            undefined: undefined.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn names(selection: &Selection) -> Vec<&str> {
        selection
            .components
            .iter()
            .map(|s| s.component.as_str())
            .collect()
    }

    #[test]
    fn the_closure_is_in_dependency_order_with_reasons() {
        let main = object("main.o", &["printf", "fork", "__udivti3", "frok"]);
        let resolution = Resolution {
            loaded: vec![&main],
            undefined: main
                .undefined
                .iter()
                .map(|s| (s.clone(), vec![0]))
                .collect(),
        };
        let manifest = manifest();
        let selection = select(&resolution, &manifest, false);
        assert_eq!(
            names(&selection),
            ["alloc", "start", "boot", "console", "stdio"]
        );
        assert_eq!(selection.missing, ["fork", "frok"]);
        let reason = |name: &str| {
            selection
                .components
                .iter()
                .find(|s| s.component == name)
                .map(|s| s.reason.clone())
        };
        assert_eq!(reason("boot"), Some(Reason::Always));
        assert_eq!(
            reason("stdio"),
            Some(Reason::Symbol {
                symbol: "printf".into(),
                object: "main.o".into()
            })
        );
        // Breadth first from the roots in manifest order (boot, then the program's
        // stdio): stdio is expanded before start, which boot only reaches.
        assert_eq!(
            reason("alloc"),
            Some(Reason::RequiredBy {
                component: "stdio".into()
            })
        );
        assert_eq!(
            selection.init_functions(&manifest),
            ["unik_alloc_init", "unik_console_init", "unik_stdio_init"]
        );
    }

    #[test]
    fn all_components_forces_the_rest_in() {
        let main = object("main.o", &[]);
        let resolution = Resolution {
            loaded: vec![&main],
            undefined: BTreeMap::new(),
        };
        let manifest = manifest();
        let selection = select(&resolution, &manifest, true);
        assert_eq!(
            names(&selection),
            ["alloc", "start", "boot", "console", "stdio", "stdlib"]
        );
        let without = select(&resolution, &manifest, false);
        assert_eq!(names(&without), ["alloc", "start", "boot"]);
    }

    /// The test manifest with `files` (open64, close) and the stand-in of open64.
    fn manifest_with_stand_ins() -> Manifest {
        let mut manifest = manifest();
        for (name, requires, symbols) in [
            ("files", vec!["alloc"], vec!["open64", "close"]),
            ("stand-ins", vec![], vec!["__unik_absent_open64"]),
        ] {
            manifest.components.push(Component {
                name: name.into(),
                summary: String::new(),
                requires: requires.into_iter().map(str::to_string).collect(),
                always: false,
                init: None,
                symbols: symbols.iter().map(|s| s.to_string()).collect(),
                modules: Vec::new(),
                size: 0,
            });
            for symbol in symbols {
                manifest.symbols.insert(symbol.into(), name.into());
            }
        }
        manifest
    }

    #[test]
    fn incidental_symbols_get_stand_ins_only_without_their_component() {
        let manifest = manifest_with_stand_ins();
        let std = object("libstd.rlib(std.o)", &[]);
        let run = |needed: &[&str], incidental: &[&str]| {
            let mut resolution = Resolution {
                loaded: vec![&std],
                undefined: needed.iter().map(|s| (s.to_string(), vec![0])).collect(),
            };
            let incidental = incidental
                .iter()
                .map(|s| (s.to_string(), vec![0]))
                .collect();
            let (selection, bound) =
                select_with_stand_ins(&mut resolution, &manifest, false, incidental);
            let names: Vec<String> = names(&selection).into_iter().map(str::to_string).collect();
            (names, selection, bound)
        };
        // Only incidental references to open64: its stand-in, and no files.
        let (names, selection, bound) = run(&["puts"], &["open64"]);
        assert_eq!(bound, ["open64"]);
        assert!(!names.contains(&"files".to_string()), "{names:?}");
        let stand_ins = selection
            .components
            .iter()
            .find(|selected| selected.component == "stand-ins")
            .expect("the stand-ins component");
        assert_eq!(
            stand_ins.reason,
            Reason::StandIns {
                symbols: vec!["open64".into()]
            }
        );
        // The program needs close (files) itself: open64 is files' own.
        let (names, _, bound) = run(&["close"], &["open64"]);
        assert!(bound.is_empty());
        assert!(names.contains(&"files".to_string()));
        assert!(!names.contains(&"stand-ins".to_string()), "{names:?}");
        // close has no stand-in: files comes in for it, and open64 with it.
        let (names, selection, bound) = run(&["puts"], &["open64", "close"]);
        assert!(bound.is_empty());
        assert!(names.contains(&"files".to_string()));
        assert!(!names.contains(&"stand-ins".to_string()), "{names:?}");
        assert!(selection.missing.is_empty());
        // An incidental symbol nobody provides is missing, as any other.
        let (_, selection, bound) = run(&[], &["frok"]);
        assert!(bound.is_empty());
        assert_eq!(selection.missing, ["frok"]);
    }
}
