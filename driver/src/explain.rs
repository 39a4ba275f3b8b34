//! `unik explain app.img`: the components in an image and why each is there, read
//! from the `.unik.components` section unikcc writes (sysroot/MANIFEST.md).

use std::path::Path;

use crate::error::{Error, Result};
use crate::link::generated::{self, ComponentsRecord};

/// Reads the selection record of the image at `path`.
pub fn read(path: &Path) -> Result<ComponentsRecord> {
    let bytes = std::fs::read(path).map_err(|source| Error::io("cannot read", path, source))?;
    record_of(&bytes, path)
}

/// The record inside an image's bytes; `path` names it in errors.
pub fn record_of(bytes: &[u8], path: &Path) -> Result<ComponentsRecord> {
    if crate::image_format::is_arm64_image(bytes) {
        return Err(Error::NotAnImage {
            path: path.to_path_buf(),
            message: crate::image_format::NO_RECORD_IN_IMAGE.to_string(),
        });
    }
    let file = object::File::parse(bytes).map_err(|error| Error::NotAnImage {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    match generated::read_record(&file) {
        Some(Ok(record)) => Ok(record),
        Some(Err(message)) => Err(Error::NotAnImage {
            path: path.to_path_buf(),
            message: format!(
                "its {} section is corrupt: {message}",
                generated::COMPONENTS_SECTION
            ),
        }),
        None => Err(Error::NotAnImage {
            path: path.to_path_buf(),
            message: format!(
                "it has no {} section; was it linked by unikcc?",
                generated::COMPONENTS_SECTION
            ),
        }),
    }
}

/// The text `unik explain` prints.
pub fn render(record: &ComponentsRecord) -> String {
    let mut text = String::new();
    for line in crate::link::explain_lines(record) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The JSON `unik explain --json` prints (the record itself).
pub fn render_json(record: &ComponentsRecord) -> String {
    let mut text = serde_json::to_string_pretty(record).unwrap_or_default();
    text.push('\n');
    text
}
