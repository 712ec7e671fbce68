//! The `wlog` module's only `unsafe`: the memory-mapped segment file being written.
//!
//! [`WalWriter`](super::WalWriter) copies its pages into a shared mapping of the segment
//! instead of calling `write(2)` once per `log`: the bytes are in the page cache as soon as
//! the copy is done, exactly as after a `write(2)`, so a process crash loses nothing that was
//! logged (a machine crash loses what was not synced, as before). The file is allocated on
//! disk (`posix_fallocate`, falling back to `set_len` where unsupported) in steps of
//! [`GROW_STEP`] ahead of the writes, so a full disk is an error at allocation time rather
//! than a SIGBUS at the copy. The unwritten rest of the last step is zeros, which readers
//! (Kagari's and Prometheus's) treat as page padding; [`MappedSegment::trim`] cuts it off
//! when the segment is closed or the writer dropped.
//!
//! **Invariant**: the mapping is only written through [`MappedSegment::write_at`], by the
//! single owner (`&mut self`), inside `[0, allocated)`; nothing hands out references into
//! it. The remaining risk is the usual one of mapped files: another process truncating the
//! segment while it is written raises SIGBUS.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};

/// The file is allocated in steps of this many bytes.
pub(crate) const GROW_STEP: u64 = 1 << 20;

/// A segment file open for writing through a shared mapping.
#[derive(Debug)]
pub(crate) struct MappedSegment {
    file: File,
    /// Shared with [`Prefault`]s still to run.
    map: Arc<MmapRaw>,
    /// Bytes allocated on disk: the file's length.
    allocated: u64,
    path: PathBuf,
    /// Pages allocated ahead of the writes, to be mapped in by the caller off its lock.
    prefault: Option<Prefault>,
    /// Pages below this offset are handed to a [`Prefault`] for unmapping (never written again).
    released: usize,
}

/// Pages of a segment to map in writable ahead of the writes (`MADV_POPULATE_WRITE`, Linux
/// 5.14+). Getting a page of a file into the page cache costs the kernel several
/// microseconds; done here, by whoever runs [`run`](Self::run) outside the WAL's lock, the
/// writer's later copies into these pages take no page fault. Best effort: if it has not
/// run (or failed, e.g. on an older kernel), the copies fault the pages in themselves.
#[derive(Debug)]
pub struct Prefault {
    map: Arc<MmapRaw>,
    from: usize,
    len: usize,
    /// Already written pages to unmap (`MADV_DONTNEED`): their bytes stay in the page cache
    /// (dirty ones are written back as usual), they just stop counting in this process's
    /// resident memory and need no write-protect walk when the segment is synced.
    unmap: (usize, usize),
}

impl Prefault {
    /// Maps the pages in (errors are ignored: this is only a hint).
    pub fn run(self) {
        let (from, len) = self.unmap;
        if len > 0 {
            // SAFETY: a shared file mapping: dropping its pages loses no data (the page cache
            // keeps them), and `[from, from + len)` lies below every offset the writer will
            // write again (writes only go forward) and inside the mapping (checked when the
            // range was made), so no later copy depends on these page table entries.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, len)
            };
        }
        #[cfg(target_os = "linux")]
        populate(&self.map, self.from, self.len);
        #[cfg(not(target_os = "linux"))]
        let _ = (self.map, self.from, self.len);
    }
}

impl MappedSegment {
    /// Creates the file `path` (it must not exist) and maps `capacity` bytes of it (the file
    /// grows into the mapping as it is written; a write past `capacity` remaps).
    pub(crate) fn create(path: &Path, capacity: usize) -> Result<MappedSegment> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io("create segment", path, e))?;
        let map = Arc::new(map(&file, path, capacity.max(1))?);
        Ok(MappedSegment {
            file,
            map,
            allocated: 0,
            path: path.to_path_buf(),
            prefault: None,
            released: 0,
        })
    }

    /// Copies `data` to offset `at` of the file, allocating and remapping as needed.
    pub(crate) fn write_at(&mut self, at: usize, data: &[u8]) -> Result<()> {
        let end = at
            .checked_add(data.len())
            .ok_or_else(|| Error::InvalidInput {
                writer: "WAL writer",
                reason: "segment offset overflow".to_string(),
            })?;
        if end > self.map.len() {
            let len = end.max(self.map.len().saturating_mul(2));
            self.map = Arc::new(map(&self.file, &self.path, len)?);
        }
        if end as u64 > self.allocated {
            let to = (end as u64).div_ceil(GROW_STEP) * GROW_STEP;
            self.allocate_to(to)?;
        }
        // Keep one step allocated ahead of the writes, for the caller to prefault.
        if self.allocated - (end as u64) < GROW_STEP && self.allocated < self.map.len() as u64 {
            let from = self.allocated;
            self.allocate_to(from + GROW_STEP)?;
            if let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(self.allocated)) {
                let to = to.min(self.map.len());
                // Everything below the step being written is done with.
                let done = (at / GROW_STEP as usize) * GROW_STEP as usize;
                let unmap = if done > self.released {
                    (self.released, done - self.released)
                } else {
                    (0, 0)
                };
                self.released = self.released.max(done);
                self.prefault = Some(Prefault {
                    map: Arc::clone(&self.map),
                    from,
                    len: to.saturating_sub(from),
                    unmap,
                });
            }
        }
        // SAFETY: `[at, end)` lies inside the read-write mapping (remapped above if needed)
        // and inside the file (allocated above), so the copy neither leaves the mapping nor
        // touches pages past the end of the file. This is the only write into the mapping,
        // under `&mut self`, and no reference into the mapping exists (module invariant), so
        // nothing aliases the destination; `data` is a caller's buffer, not the mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr().add(at), data.len());
        }
        Ok(())
    }

    fn allocate_to(&mut self, to: u64) -> Result<()> {
        allocate(&self.file, self.allocated, to)
            .map_err(|e| Error::io("allocate segment", &self.path, e))?;
        self.allocated = to;
        Ok(())
    }

    /// The pages allocated ahead of the writes since the last call, to map in off the lock.
    pub(crate) fn take_prefault(&mut self) -> Option<Prefault> {
        self.prefault.take()
    }

    /// Writes the dirty pages to disk (`msync`, then `fdatasync` for the file's metadata).
    pub(crate) fn sync(&self) -> Result<()> {
        self.map
            .flush()
            .map_err(|e| Error::io("msync", &self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| Error::io("fsync", &self.path, e))
    }

    /// Cuts the file to `len` bytes (dropping the allocated but unwritten zeros).
    pub(crate) fn trim(&mut self, len: u64) -> Result<()> {
        self.prefault = None;
        if len < self.allocated {
            self.file
                .set_len(len)
                .map_err(|e| Error::io("truncate segment", &self.path, e))?;
            self.allocated = len;
        }
        Ok(())
    }
}

/// Bytes mapped in per `madvise` call: the call holds the process's memory-map lock, which
/// page faults and heap growth (`mprotect`) of other threads wait for; 64 KiB keeps that
/// wait to some tens of microseconds.
const POPULATE_PIECE: usize = 64 * 1024;

/// `MADV_POPULATE_WRITE` over `[from, from + len)` in pieces of [`POPULATE_PIECE`] (errors
/// are ignored: this is only a hint).
#[cfg(target_os = "linux")]
pub(crate) fn populate(map: &MmapRaw, from: usize, len: usize) {
    let end = from.saturating_add(len).min(map.len());
    let mut at = from;
    while at < end {
        let n = POPULATE_PIECE.min(end - at);
        if map
            .advise_range(memmap2::Advice::PopulateWrite, at, n)
            .is_err()
        {
            return;
        }
        at += n;
    }
}

fn map(file: &File, path: &Path, len: usize) -> Result<MmapRaw> {
    MmapOptions::new()
        .len(len)
        .map_raw(file)
        .map_err(|e| Error::io("mmap", path, e))
}

/// Grows `file` from `from` to `to` bytes with blocks allocated on disk.
#[cfg(target_os = "linux")]
fn allocate(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(len)) = (
        libc::off_t::try_from(from),
        libc::off_t::try_from(to.saturating_sub(from)),
    ) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    // SAFETY: plain FFI call on a file descriptor owned by `file` for the whole call; it
    // touches no memory of this process.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), off, len) };
    match rc {
        0 => Ok(()),
        // File systems without fallocate: a sparse file, as `chunks_head/` files are.
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(to),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

/// Grows `file` to `to` bytes (sparse where fallocate is not available).
#[cfg(not(target_os = "linux"))]
fn allocate(file: &File, _from: u64, to: u64) -> std::io::Result<()> {
    file.set_len(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_land_in_the_file_and_trim_cuts_the_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("00000000");
        let mut s = MappedSegment::create(&p, 4096).unwrap();
        s.write_at(0, b"abc").unwrap();
        // Past the mapping: remapped; past the first step: allocated further.
        s.write_at(GROW_STEP as usize + 10, b"xyz").unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len() as u64, 2 * GROW_STEP);
        assert_eq!(&bytes[..3], b"abc");
        assert_eq!(
            &bytes[GROW_STEP as usize + 10..GROW_STEP as usize + 13],
            b"xyz"
        );
        assert!(bytes[3..GROW_STEP as usize + 10].iter().all(|&b| b == 0));
        s.sync().unwrap();
        s.trim(3).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        assert!(
            MappedSegment::create(&p, 4096).is_err(),
            "never reuses a file"
        );
    }
}
