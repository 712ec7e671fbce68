//! The `chunks_head` module's only `unsafe`: one memory-mapped head chunk file.
//!
//! A file is mapped once for its whole possible size. Files found at open are mapped read-only
//! at their length and never written. The file being written is mapped read-write for
//! [`MAX_HEAD_CHUNK_FILE_SIZE`](super::MAX_HEAD_CHUNK_FILE_SIZE) bytes while the file itself is
//! grown with `set_len` ahead of the writes, as Prometheus does (`OpenMmapFileWithSize`).
//!
//! **Invariant**: bytes are only ever appended, at or after `written`, by the single writer
//! (the mapper, under its lock) and `written` is raised (release) only after the copy; readers
//! get slices of `[0, written)` only. So a shared slice never aliases a region being written,
//! and no access reaches past the end of the file. The remaining risk is the usual one of
//! mapped files: if another process truncates the file, or the disk is full when a page of
//! the sparse file is first written, the access raises SIGBUS (Prometheus takes the same risk).
#![allow(unsafe_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};

/// One mapped head chunk file, shared by the mapper and every chunk that lives in it.
#[derive(Debug)]
pub(crate) struct HeadFile {
    map: MmapRaw,
    /// Bytes `[0, written)` are initialised and immutable.
    written: AtomicUsize,
    /// The number in the file name (`000007` → 7).
    number: u32,
    path: PathBuf,
}

impl HeadFile {
    /// Maps an existing file read-only; all of its bytes count as written.
    pub(crate) fn open_read_only(path: &Path, number: u32) -> Result<HeadFile> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat", path, e))?
            .len();
        let len = usize::try_from(len).map_err(|_| {
            Error::corrupt(display_name(path), 0, "head chunk file larger than memory")
        })?;
        // A zero-length mapping is an error on Linux; map one byte past the end instead of
        // special-casing: `written` is 0, so it is never read.
        let map = MmapOptions::new()
            .len(len.max(1))
            .map_raw_read_only(&file)
            .map_err(|e| Error::io("mmap", path, e))?;
        Ok(HeadFile {
            map,
            written: AtomicUsize::new(len),
            number,
            path: path.to_path_buf(),
        })
    }

    /// Maps `file` (open for reading and writing, `written` bytes long already) read-write
    /// for `capacity` bytes.
    pub(crate) fn map_for_writing(
        file: &File,
        path: &Path,
        number: u32,
        written: usize,
        capacity: usize,
    ) -> Result<HeadFile> {
        let map = MmapOptions::new()
            .len(capacity)
            .map_raw(file)
            .map_err(|e| Error::io("mmap", path, e))?;
        Ok(HeadFile {
            map,
            written: AtomicUsize::new(written),
            number,
            path: path.to_path_buf(),
        })
    }

    /// The number in the file name.
    pub(crate) fn number(&self) -> u32 {
        self.number
    }

    /// The path of the file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.written.load(Ordering::Acquire)
    }

    /// The written prefix of the file.
    pub(crate) fn bytes(&self) -> &[u8] {
        let n = self.written().min(self.map.len());
        // SAFETY: `[0, n)` lies inside the mapping and inside the file (files found at open
        // are mapped at their length; the written file is grown before each write), it was
        // initialised before `written` was raised to cover it (release/acquire), and no
        // writer touches it again (append-only invariant in the module docs).
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), n) }
    }

    /// Appends `data` at the current end. The caller is the single writer (the mapper holds
    /// its lock) and has grown the file so that `written + data.len()` bytes exist on disk.
    /// Returns the offset the data was written at.
    pub(crate) fn append(&self, data: &[u8]) -> Result<usize> {
        let at = self.written.load(Ordering::Acquire);
        let end = at
            .checked_add(data.len())
            .filter(|&e| e <= self.map.len())
            .ok_or_else(|| Error::InvalidInput {
                writer: "head chunk mapper",
                reason: format!(
                    "{} bytes at offset {at} exceed the mapping of {}",
                    data.len(),
                    self.path.display()
                ),
            })?;
        // SAFETY: `[at, end)` is inside the read-write mapping (checked above) and inside the
        // file (the caller grew it); no reader can see it yet because `written` is still `at`,
        // and the mapper's lock excludes a second writer. Source and destination do not overlap
        // (`data` is a caller's buffer, not part of this mapping's unwritten tail).
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr().add(at), data.len());
        }
        self.written.store(end, Ordering::Release);
        Ok(at)
    }

    /// Maps in `[from, from + len)` writable ahead of the writes (`MADV_POPULATE_WRITE`,
    /// Linux 5.14+), so the appends into it take no page fault each. Best effort: an error
    /// (older kernel, range past the file) only means the appends fault the pages in.
    pub(crate) fn populate(&self, from: usize, len: usize) {
        let len = len.min(self.map.len().saturating_sub(from));
        if len == 0 {
            return;
        }
        #[cfg(target_os = "linux")]
        crate::wlog::mapped::populate(&self.map, from, len);
    }

    /// Flushes dirty pages of the mapping to disk (`msync`).
    pub(crate) fn flush(&self) -> Result<()> {
        self.map
            .flush()
            .map_err(|e| Error::io("msync", &self.path, e))
    }
}

/// `chunks_head/000001` style name for errors.
pub(crate) fn display_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{}/{file}", super::CHUNKS_HEAD_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    #[test]
    fn appended_bytes_are_visible_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("000001");
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)
            .unwrap();
        f.set_len(64).unwrap();
        let hf = HeadFile::map_for_writing(&f, &p, 1, 0, 64).unwrap();
        assert_eq!(hf.append(b"abc").unwrap(), 0);
        assert_eq!(hf.append(b"de").unwrap(), 3);
        assert_eq!(hf.bytes(), b"abcde");
        assert!(hf.append(&[0u8; 60]).is_err());
        hf.flush().unwrap();
        drop(hf);
        let ro = HeadFile::open_read_only(&p, 1).unwrap();
        assert_eq!(ro.bytes().len(), 64);
        assert_eq!(ro.bytes().get(..5).unwrap(), b"abcde");
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let e = HeadFile::open_read_only(&dir.path().join("empty"), 2).unwrap();
        assert!(e.bytes().is_empty());
        assert_eq!(display_name(&p), "chunks_head/000001");
    }
}
