//! The crate's only `unsafe`: read-only memory maps of immutable block files.
//!
//! Block files are written once (under a temporary directory, then renamed into place) and never
//! modified afterwards, so a read-only map of them is sound as long as nobody truncates or
//! rewrites the file behind our back. If another process does, accessing the map can raise
//! SIGBUS; this is the same risk Prometheus takes with its mmapped blocks.
#![allow(unsafe_code)]

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use crate::error::{Error, Result};

/// A read-only mapping of a whole file (an empty file maps to an empty slice).
#[derive(Debug)]
pub(crate) struct MappedFile {
    map: Option<Mmap>,
}

impl MappedFile {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat", path, e))?
            .len();
        if len == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: the file is an immutable block file opened read-only; Kagari never writes to
        // a block file after it has been renamed into place, and the mapping is read-only, so no
        // aliasing `&mut` exists. External truncation is the documented SIGBUS risk above.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io("mmap", path, e))?;
        Ok(MappedFile { map: Some(map) })
    }
}

impl Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_contents_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello block").unwrap();
        assert_eq!(&*MappedFile::open(&p).unwrap(), b"hello block");
        let e = dir.path().join("empty");
        std::fs::write(&e, b"").unwrap();
        assert!(MappedFile::open(&e).unwrap().is_empty());
        assert!(matches!(
            MappedFile::open(&dir.path().join("missing")),
            Err(Error::Io { op: "open", .. })
        ));
    }
}
