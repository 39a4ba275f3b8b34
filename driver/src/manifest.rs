//! Reading a sysroot's component manifest (`<sysroot>/<target>/manifest.json`,
//! written by `unik sysroot build`; format in sysroot/MANIFEST.md).

use std::path::Path;

use unik_sysroot::manifest::{MANIFEST_FILE, Manifest};

use crate::error::{Error, Result};
use crate::target::TargetSpec;

/// Loads the manifest of the sysroot in `directory`.
pub fn load(directory: &Path) -> Result<Manifest> {
    let path = directory.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| {
        Error::Usage(format!(
            "cannot read the component manifest {}: {source} (rebuild the sysroot: `unik sysroot build --force`)",
            path.display()
        ))
    })?;
    Ok(Manifest::from_json(&text, &path.display().to_string())?)
}

/// The `object` crate's name for the target's architecture.
pub fn object_architecture(spec: &TargetSpec) -> Result<object::Architecture> {
    match spec.arch {
        target_lexicon::Architecture::X86_64 => Ok(object::Architecture::X86_64),
        target_lexicon::Architecture::Aarch64(_) => Ok(object::Architecture::Aarch64),
        other => Err(Error::Usage(format!(
            "target {}: no linking support for the {other} architecture",
            spec.name
        ))),
    }
}
