//! Where the driver finds (and, when needed, builds) a target's sysroot: the glue
//! between toolchain discovery and the `unik-sysroot` builder.

use std::path::{Path, PathBuf};

use unik_sysroot::{BuildReason, BuildRequest, Location, Sysroot, Toolchain};

use crate::discovery::{self, CCompiler, Environment};
use crate::error::Result;
use crate::target::TargetSpec;

/// The unik source tree the runtime is built from: `$UNIK_SOURCE_DIR`, else the
/// checkout this driver was built from.
pub fn source_directory(environment: &Environment) -> PathBuf {
    environment
        .get("UNIK_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            // `/work/unik` reads better than `/work/unik/driver/..` in messages.
            built_from.canonicalize().unwrap_or(built_from)
        })
}

/// The sysroot cache root (see [`unik_sysroot::default_root`]).
pub fn root(environment: &Environment) -> Result<PathBuf> {
    Ok(unik_sysroot::default_root(|name| {
        environment.get_text(name)
    })?)
}

/// `<root>/<target>`, whether or not it exists yet.
pub fn directory(environment: &Environment, spec: &TargetSpec) -> Result<PathBuf> {
    Ok(unik_sysroot::target_directory(
        &root(environment)?,
        &spec.name,
    ))
}

/// Options of one [`ensure`] call.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnsureOptions<'a> {
    /// The C compiler for the libc's C layer (discovered when `None`).
    pub c_compiler: Option<&'a CCompiler>,
    /// Rebuild even when up to date.
    pub force: bool,
    /// Show cargo's output as it runs.
    pub verbose: bool,
}

/// The target's sysroot, built first if missing or stale. Discovery of rustc and
/// cargo happens only when a build is needed, so an up-to-date sysroot costs a
/// hash of the sources and no process.
pub fn ensure(
    environment: &Environment,
    spec: &TargetSpec,
    options: EnsureOptions<'_>,
    before_build: impl FnMut(BuildReason),
) -> Result<Sysroot> {
    let root = root(environment)?;
    let source = source_directory(environment);
    let location = Location {
        target_name: &spec.name,
        source_dir: &source,
        root: &root,
    };
    if !options.force
        && let Some(sysroot) = unik_sysroot::open_if_fresh(&location)?
    {
        return Ok(sysroot);
    }
    let rust_triple = spec.rust_triple.to_string();
    let rust = discovery::find_rust(environment, &rust_triple)?;
    let discovered;
    let c_compiler = match options.c_compiler {
        Some(compiler) => compiler,
        None => {
            discovered = discovery::find_c_compiler(environment, None, spec)?;
            &discovered
        }
    };
    let toolchain = Toolchain {
        cargo: rust.cargo,
        rustc: rust.rustc,
        c_compiler: c_compiler.path.clone(),
        c_compiler_arguments: c_compiler.target_arguments(spec),
    };
    let request = BuildRequest {
        location,
        rust_triple: &rust_triple,
        target_spec_text: spec.source_text,
        toolchain: &toolchain,
        force: options.force,
        verbose: options.verbose,
    };
    Ok(unik_sysroot::ensure(&request, before_build)?)
}

/// The progress line shown before a build: builds take a while and would
/// otherwise look like a hang.
pub fn progress_line(program: &str, spec: &TargetSpec, reason: BuildReason) -> String {
    format!(
        "{program}: building the {} sysroot ({reason}; ~1 min)…",
        spec.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_source_directory_defaults_to_this_checkout() {
        let environment = Environment::from_pairs([]);
        assert!(
            source_directory(&environment)
                .join("driver")
                .join("Cargo.toml")
                .is_file()
        );
        let environment = Environment::from_pairs([("UNIK_SOURCE_DIR", OsStr::new("/elsewhere"))]);
        assert_eq!(source_directory(&environment), PathBuf::from("/elsewhere"));
    }

    #[test]
    fn the_progress_line_says_why() {
        let spec = TargetSpec::find("x86_64").unwrap();
        assert_eq!(
            progress_line("unikcc", &spec, BuildReason::Missing),
            "unikcc: building the x86_64 sysroot (first use; ~1 min)…"
        );
        assert_eq!(
            progress_line("unik", &spec, BuildReason::Changed),
            "unik: building the x86_64 sysroot (the runtime sources changed; ~1 min)…"
        );
    }
}
