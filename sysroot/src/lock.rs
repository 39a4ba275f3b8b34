//! Advisory file locks (`flock(2)` through std's `File::lock*`) that serialise
//! sysroot builds against each other and against readers.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::{Error, Result};

/// An open lock file holding a shared or exclusive lock until dropped (closing the
/// file releases the lock).
#[derive(Debug)]
pub(crate) struct LockFile {
    _file: File,
}

impl LockFile {
    /// Blocks until a shared (reader) lock is held.
    pub(crate) fn shared(path: &Path) -> Result<Self> {
        let file = open(path)?;
        file.lock_shared()
            .map_err(|error| Error::io("cannot lock", path, error))?;
        Ok(LockFile { _file: file })
    }

    /// Blocks until the exclusive (builder) lock is held.
    pub(crate) fn exclusive(path: &Path) -> Result<Self> {
        let file = open(path)?;
        file.lock()
            .map_err(|error| Error::io("cannot lock", path, error))?;
        Ok(LockFile { _file: file })
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|error| Error::io("cannot open the lock file", path, error))
}
