//! [`ChunkDiskMapper`]: writes full head chunks to `chunks_head/` and hands out mapped views.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::file::{display_name, HeadFile};
use super::records::{self, Records};
use super::{HeadChunkRef, HEADER_SIZE, MAX_HEAD_CHUNK_FILE_SIZE, OOO_ENCODING_FLAG};
use crate::error::{Error, Result};

/// The file is grown (`set_len`) in steps of this many bytes ahead of the writes.
const GROW_STEP: u64 = 1 << 20;

/// A chunk stored in a head chunk file: a view of its data in the file's mapping. Cloning is
/// cheap; the file stays mapped (and on disk) while any view of it is alive.
#[derive(Debug, Clone)]
pub struct MappedChunk {
    file: Arc<HeadFile>,
    /// Offset of the record (the chunk's [`HeadChunkRef`] offset).
    record_at: u32,
    data_at: u32,
    data_len: u32,
}

impl MappedChunk {
    /// The chunk's reference: file number and record offset.
    pub fn chunk_ref(&self) -> HeadChunkRef {
        HeadChunkRef::new(self.file.number(), self.record_at)
    }

    fn new(file: Arc<HeadFile>, record_at: usize, data_at: usize, len: usize) -> Result<Self> {
        let conv = |v: usize| {
            u32::try_from(v).map_err(|_| Error::InvalidInput {
                writer: "head chunk mapper",
                reason: format!("offset {v} beyond 4 GiB"),
            })
        };
        Ok(MappedChunk {
            record_at: conv(record_at)?,
            data_at: conv(data_at)?,
            data_len: conv(len)?,
            file,
        })
    }
}

impl Deref for MappedChunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        let (a, n) = (self.data_at as usize, self.data_len as usize);
        self.file.bytes().get(a..a + n).unwrap_or_default()
    }
}

/// A chunk found in `chunks_head/` at open.
#[derive(Debug, Clone)]
pub struct LoadedChunk {
    /// The head series it belongs to (a WAL series ref).
    pub series_ref: u64,
    /// First sample time.
    pub min_t: i64,
    /// Last sample time.
    pub max_t: i64,
    /// Encoding byte (1 = XOR; bit 7 marks out-of-order chunks).
    pub encoding: u8,
    /// The chunk bytes.
    pub chunk: MappedChunk,
}

impl LoadedChunk {
    /// Whether the out-of-order bit (0x80) of the encoding is set.
    pub fn is_out_of_order(&self) -> bool {
        self.encoding & OOO_ENCODING_FLAG != 0
    }
}

/// What [`ChunkDiskMapper::open`] found.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// Every intact in-order chunk (encoding without the out-of-order bit), in file order.
    pub chunks: Vec<LoadedChunk>,
    /// Intact out-of-order chunks (encoding bit 7 set, e.g. 0x81, written by Prometheus with
    /// an out-of-order window): not in `chunks`, kept by the mapper until
    /// [`ChunkDiskMapper::take_ooo_chunks`] (their files are not truncated meanwhile).
    pub ooo_chunks: usize,
    /// Set when a damaged record was found: the error, and the file and offset where the
    /// valid data ends (that file was truncated there and every later file deleted).
    pub repaired: Option<(Error, u32, u64)>,
    /// Files removed at open (empty last file, or files after a damaged one).
    pub files_removed: Vec<u32>,
}

/// The file currently written to.
#[derive(Debug)]
struct Active {
    file: Arc<HeadFile>,
    fd: File,
    /// Bytes allocated on disk (`set_len`).
    allocated: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Mapped files by number, contiguous; the active file is the last one.
    files: BTreeMap<u32, Arc<HeadFile>>,
    /// Out-of-order chunks found at open, until taken.
    ooo: Vec<LoadedChunk>,
    active: Option<Active>,
    closed: bool,
}

/// Counters of a [`ChunkDiskMapper`].
#[derive(Debug, Default)]
pub struct MapperStats {
    chunks_written: AtomicU64,
    bytes_written: AtomicU64,
    files_deleted: AtomicU64,
    write_failures: AtomicU64,
}

impl MapperStats {
    /// Chunks written since open.
    pub fn chunks_written(&self) -> u64 {
        self.chunks_written.load(Ordering::Relaxed)
    }
    /// Record bytes written since open.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }
    /// Chunks the head could not write (they stayed on the heap).
    pub fn write_failures(&self) -> u64 {
        self.write_failures.load(Ordering::Relaxed)
    }
    pub(crate) fn count_write_failure(&self) {
        self.write_failures.fetch_add(1, Ordering::Relaxed);
    }
    /// Files deleted by truncation since open.
    pub fn files_deleted(&self) -> u64 {
        self.files_deleted.load(Ordering::Relaxed)
    }
}

/// A range of a head chunk file to map in after the mapper's lock: `(file, from, len)`.
type Populate = (Arc<HeadFile>, usize, usize);

thread_local! {
    /// Per-thread buffer for encoding chunk records outside the mapper's lock.
    static ENCODE_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Owner of `chunks_head/`: appends full head chunks to numbered files of at most
/// [`MAX_HEAD_CHUNK_FILE_SIZE`] bytes in Prometheus's format, and deletes the oldest files
/// once no chunk in them is referenced any more. Files found at open are never written;
/// writing starts a new file.
#[derive(Debug)]
pub struct ChunkDiskMapper {
    dir: PathBuf,
    inner: Mutex<Inner>,
    stats: MapperStats,
    max_file_size: u64,
}

fn parse_number(name: &str) -> Option<u32> {
    (name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

impl ChunkDiskMapper {
    /// Opens `dir` (creating it), maps every file and reads every record. As Prometheus does,
    /// a last file too short to hold a magic number, or with a zero magic, is deleted; file
    /// numbers must be contiguous; a bad magic or version is an error. A damaged record
    /// (torn write, CRC mismatch) does not fail the open: the file is truncated at the last
    /// intact record and every later file deleted (the WAL still holds those samples).
    pub fn open(dir: impl AsRef<Path>) -> Result<(ChunkDiskMapper, OpenReport)> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create dir", &dir, e))?;
        let mut numbers = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| Error::io("read dir", &dir, e))? {
            let entry = entry.map_err(|e| Error::io("read dir", &dir, e))?;
            if let Some(n) = entry.file_name().to_str().and_then(parse_number) {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        let mut report = OpenReport::default();
        if let Some(&last) = numbers.last() {
            let p = dir.join(format!("{last:06}"));
            let mut magic = Vec::with_capacity(4);
            File::open(&p)
                .and_then(|f| f.take(4).read_to_end(&mut magic))
                .map_err(|e| Error::io("read", &p, e))?;
            let magic_zero = magic.len() < 4 || magic == [0, 0, 0, 0];
            if magic_zero {
                fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
                numbers.pop();
                report.files_removed.push(last);
            }
        }
        for w in numbers.windows(2) {
            if let [a, b] = *w {
                if b != a + 1 {
                    return Err(Error::corrupt(
                        super::CHUNKS_HEAD_DIR,
                        0,
                        format!("found unsequential head chunk files {a:06} and {b:06}"),
                    ));
                }
            }
        }
        let mut files = BTreeMap::new();
        for &n in &numbers {
            let p = dir.join(format!("{n:06}"));
            let f = HeadFile::open_read_only(&p, n)?;
            records::check_header(f.bytes(), &display_name(&p))?;
            files.insert(n, Arc::new(f));
        }
        let mut damaged: Option<(u32, usize, Error)> = None;
        let mut ooo = Vec::new();
        'files: for (&n, f) in &files {
            let name = display_name(f.path());
            let mut it = Records::new(f.bytes(), &name);
            for r in it.by_ref() {
                match r {
                    Ok(r) => {
                        let c = LoadedChunk {
                            series_ref: r.series_ref,
                            min_t: r.min_t,
                            max_t: r.max_t,
                            encoding: r.encoding,
                            chunk: MappedChunk::new(f.clone(), r.offset, r.data_at, r.data_len)?,
                        };
                        if c.is_out_of_order() {
                            ooo.push(c);
                        } else {
                            report.chunks.push(c);
                        }
                    }
                    Err(e) => {
                        damaged = Some((n, it.position(), e));
                        break 'files;
                    }
                }
            }
        }
        if let Some((n, valid_end, err)) = damaged {
            let later: Vec<u32> = files.range(n + 1..).map(|(&k, _)| k).collect();
            for k in later {
                if let Some(f) = files.remove(&k) {
                    fs::remove_file(f.path()).map_err(|e| Error::io("remove", f.path(), e))?;
                    report.files_removed.push(k);
                }
            }
            let p = dir.join(format!("{n:06}"));
            let fd = OpenOptions::new()
                .write(true)
                .open(&p)
                .map_err(|e| Error::io("open", &p, e))?;
            fd.set_len(valid_end as u64)
                .and_then(|()| fd.sync_all())
                .map_err(|e| Error::io("truncate", &p, e))?;
            // Remap at the new length so no view reaches past the end of the file.
            let remapped = Arc::new(HeadFile::open_read_only(&p, n)?);
            for c in report
                .chunks
                .iter_mut()
                .chain(ooo.iter_mut())
                .filter(|c| c.chunk.file.number() == n)
            {
                c.chunk.file = remapped.clone();
            }
            files.insert(n, remapped);
            report.repaired = Some((err, n, valid_end as u64));
        }
        report.ooo_chunks = ooo.len();
        let mapper = ChunkDiskMapper {
            dir,
            inner: Mutex::new(Inner {
                files,
                ooo,
                ..Inner::default()
            }),
            stats: MapperStats::default(),
            max_file_size: MAX_HEAD_CHUNK_FILE_SIZE,
        };
        Ok((mapper, report))
    }

    /// Rotates files at `bytes` instead of [`MAX_HEAD_CHUNK_FILE_SIZE`] (clamped to at most
    /// that and at least 4 KiB); for tests and small deployments.
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes.clamp(4096, MAX_HEAD_CHUNK_FILE_SIZE);
        self
    }

    /// The `chunks_head` directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Counters.
    pub fn stats(&self) -> &MapperStats {
        &self.stats
    }

    /// Numbers of the files currently in the directory, ascending.
    pub fn file_numbers(&self) -> Vec<u32> {
        self.inner.lock().files.keys().copied().collect()
    }

    /// Copies of the views of the out-of-order chunks found at open (see
    /// [`OpenReport::ooo_chunks`]), in file order, until they are taken.
    pub fn ooo_chunks(&self) -> Vec<LoadedChunk> {
        self.inner.lock().ooo.clone()
    }

    /// The out-of-order chunks found at open, in file order; later calls return nothing.
    /// Once every view is dropped, truncation may delete their files.
    pub fn take_ooo_chunks(&self) -> Vec<LoadedChunk> {
        std::mem::take(&mut self.inner.lock().ooo)
    }

    /// Appends one chunk record (encoding 1, XOR) and returns a mapped view of its data.
    pub fn write_chunk(
        &self,
        series_ref: u64,
        min_t: i64,
        max_t: i64,
        data: &[u8],
    ) -> Result<MappedChunk> {
        self.write_chunk_encoded(series_ref, min_t, max_t, 1, data)
    }

    /// Appends one chunk record with the given encoding byte (1 = XOR, 0x81 = out-of-order
    /// XOR, as Prometheus writes with an out-of-order window) and returns a mapped view of
    /// its data.
    pub fn write_chunk_encoded(
        &self,
        series_ref: u64,
        min_t: i64,
        max_t: i64,
        encoding: u8,
        data: &[u8],
    ) -> Result<MappedChunk> {
        // The record is encoded (copy and CRC) before the lock is taken, in a per-thread
        // buffer; under the lock it is only placed and copied into the file.
        ENCODE_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            buf.clear();
            let data_off = records::encode(&mut buf, series_ref, min_t, max_t, encoding, data);
            let (chunk, prefault) = self.place(&buf, data_off, data.len())?;
            if let Some((file, from, len)) = prefault {
                file.populate(from, len);
            }
            Ok(chunk)
        })
    }

    /// Appends an encoded record to the active file under the lock; returns its view and,
    /// when the file was grown, the new range for the caller to map in after the lock.
    fn place(
        &self,
        record: &[u8],
        data_off: usize,
        data_len: usize,
    ) -> Result<(MappedChunk, Option<Populate>)> {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        if inner.closed {
            return Err(Error::InvalidInput {
                writer: "head chunk mapper",
                reason: "the mapper is closed".into(),
            });
        }
        let size = record.len() as u64;
        let full = inner
            .active
            .as_ref()
            .is_none_or(|a| a.file.written() as u64 + size > self.max_file_size);
        if full {
            self.cut(inner)?;
        }
        let Some(active) = inner.active.as_mut() else {
            return Err(Error::InvalidInput {
                writer: "head chunk mapper",
                reason: "no file to write to".into(),
            });
        };
        let need = active.file.written() as u64 + size;
        let mut prefault = None;
        if need > active.allocated {
            let to = need
                .div_ceil(GROW_STEP)
                .saturating_mul(GROW_STEP)
                .min(self.max_file_size)
                .max(need);
            active
                .fd
                .set_len(to)
                .map_err(|e| Error::io("grow", active.file.path(), e))?;
            // Map in the part of the new step the write below does not touch, off the lock.
            let from = usize::try_from(need).unwrap_or(usize::MAX);
            let end = usize::try_from(to).unwrap_or(0);
            if end > from {
                prefault = Some((active.file.clone(), from, end - from));
            }
            active.allocated = to;
        }
        let at = active.file.append(record)?;
        self.stats.chunks_written.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_written.fetch_add(size, Ordering::Relaxed);
        let chunk = MappedChunk::new(active.file.clone(), at, at + data_off, data_len)?;
        Ok((chunk, prefault))
    }

    /// Finishes the active file (flush, trim the preallocated tail) and starts the next one.
    fn cut(&self, inner: &mut Inner) -> Result<()> {
        if let Some(a) = inner.active.take() {
            finish(&a)?;
        }
        let n = inner.files.keys().next_back().map_or(1, |&n| n + 1);
        let p = self.dir.join(format!("{n:06}"));
        let fd = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| Error::io("create", &p, e))?;
        let cap = self.max_file_size as usize;
        let first = GROW_STEP.min(self.max_file_size);
        fd.set_len(first).map_err(|e| Error::io("grow", &p, e))?;
        let file = Arc::new(HeadFile::map_for_writing(&fd, &p, n, 0, cap)?);
        file.append(&records::header())?;
        sync_dir(&self.dir)?;
        inner.files.insert(n, file.clone());
        inner.active = Some(Active {
            file,
            fd,
            allocated: first,
        });
        Ok(())
    }

    /// Deletes the oldest files that no live chunk refers to any more, stopping at the first
    /// one still referenced (numbers stay contiguous) and never deleting the active file.
    /// Returns the numbers deleted.
    pub fn truncate(&self) -> Result<Vec<u32>> {
        let mut inner = self.inner.lock();
        let active = inner.active.as_ref().map(|a| a.file.number());
        let mut deleted = Vec::new();
        while let Some((&n, f)) = inner.files.iter().next() {
            // Only the map holds the file: no chunk view exists and none can be made.
            if Some(n) == active || Arc::strong_count(f) > 1 {
                break;
            }
            fs::remove_file(f.path()).map_err(|e| Error::io("remove", f.path(), e))?;
            inner.files.remove(&n);
            deleted.push(n);
        }
        if !deleted.is_empty() {
            self.stats
                .files_deleted
                .fetch_add(deleted.len() as u64, Ordering::Relaxed);
        }
        Ok(deleted)
    }

    /// Flushes the active file, trims its preallocated tail and stops writing. Chunk views
    /// stay readable.
    pub fn close(&self) -> Result<()> {
        let mut inner = self.inner.lock();
        inner.closed = true;
        match inner.active.take() {
            Some(a) => finish(&a),
            None => Ok(()),
        }
    }

    /// Bytes of the files in the directory (as written; preallocation excluded).
    pub fn size(&self) -> u64 {
        self.inner
            .lock()
            .files
            .values()
            .map(|f| f.written() as u64)
            .sum()
    }
}

impl Drop for ChunkDiskMapper {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn finish(a: &Active) -> Result<()> {
    a.file.flush()?;
    let len = a.file.written() as u64;
    a.fd.set_len(len.max(HEADER_SIZE as u64))
        .and_then(|()| a.fd.sync_all())
        .map_err(|e| Error::io("trim", a.file.path(), e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync dir", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(i: u64) -> Vec<u8> {
        let mut d = vec![0u8, 1];
        d.extend_from_slice(&i.to_be_bytes());
        d.extend_from_slice(&[0xAB; 40]);
        d
    }

    #[test]
    fn write_rotate_reopen_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let chunks_dir = dir.path().join("chunks_head");
        let (m, rep) = ChunkDiskMapper::open(&chunks_dir).unwrap();
        assert!(rep.chunks.is_empty());
        let m = m.with_max_file_size(4096);
        let mut views = Vec::new();
        for i in 0..200u64 {
            let v = m
                .write_chunk(i + 1, i as i64 * 10, i as i64 * 10 + 5, &data(i))
                .unwrap();
            assert_eq!(&*v, &data(i)[..]);
            views.push(v);
        }
        // 200 records of 80 bytes in files of at most 4 KiB: 51 per file.
        assert_eq!(m.file_numbers(), vec![1, 2, 3, 4]);
        assert_eq!(views[0].chunk_ref(), HeadChunkRef::new(1, 8));
        assert_eq!(views[51].chunk_ref(), HeadChunkRef::new(2, 8));
        // Every view stays valid after rotation.
        for (i, v) in views.iter().enumerate() {
            assert_eq!(&**v, &data(i as u64)[..]);
        }
        // Files 1 and 2 unreferenced: deleted; 3 still referenced: kept, and so is 4.
        views.drain(..102);
        assert_eq!(m.truncate().unwrap(), vec![1, 2]);
        views.clear();
        assert_eq!(m.truncate().unwrap(), vec![3]); // 4 is being written
        m.close().unwrap();
        assert!(m.write_chunk(1, 0, 1, &data(0)).is_err());
        let size = fs::metadata(chunks_dir.join("000004")).unwrap().len();
        assert_eq!(size, 8 + (200 - 153) * 80, "trimmed to the data");
        drop(m);

        let (m, rep) = ChunkDiskMapper::open(&chunks_dir).unwrap();
        assert!(rep.repaired.is_none());
        assert_eq!(rep.chunks.len(), 47);
        assert_eq!(rep.chunks[0].series_ref, 154);
        assert_eq!(&*rep.chunks[0].chunk, &data(153)[..]);
        // A new file is started after the existing ones.
        let v = m.write_chunk(9, 0, 1, &data(9)).unwrap();
        assert_eq!(v.chunk_ref().file(), 5);
    }

    #[test]
    fn damaged_tail_is_cut_and_later_files_removed() {
        let dir = tempfile::tempdir().unwrap();
        let chunks_dir = dir.path().join("chunks_head");
        {
            let (m, _) = ChunkDiskMapper::open(&chunks_dir).unwrap();
            let m = m.with_max_file_size(4096);
            for i in 0..120u64 {
                m.write_chunk(i + 1, 0, 1, &data(i)).unwrap();
            }
            m.close().unwrap();
        }
        // Damage record 10 of file 1 (data byte).
        let p1 = chunks_dir.join("000001");
        let mut b = fs::read(&p1).unwrap();
        b[8 + 10 * 80 + 40] ^= 0x55;
        fs::write(&p1, &b).unwrap();
        let (_m, rep) = ChunkDiskMapper::open(&chunks_dir).unwrap();
        let (err, file, off) = rep.repaired.unwrap();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
        assert_eq!((file, off), (1, 8 + 10 * 80));
        assert_eq!(rep.chunks.len(), 10);
        assert_eq!(rep.files_removed, vec![2, 3]);
        assert_eq!(fs::metadata(&p1).unwrap().len(), 8 + 10 * 80);
        assert!(!chunks_dir.join("000002").exists());
    }

    #[test]
    fn open_rules_for_names_and_headers() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let h = records::header();
        fs::write(d.join("000001"), h).unwrap();
        fs::write(d.join("000003"), h).unwrap();
        fs::write(d.join("README"), b"not a chunk file").unwrap();
        let e = ChunkDiskMapper::open(d).unwrap_err();
        assert!(e.to_string().contains("unsequential"), "{e}");
        fs::remove_file(d.join("000003")).unwrap();
        // A last file with a zero magic (preallocated, never written) is removed.
        fs::write(d.join("000002"), [0u8; 16]).unwrap();
        let (_m, rep) = ChunkDiskMapper::open(d).unwrap();
        assert_eq!(rep.files_removed, vec![2]);
        // A wrong magic is an error.
        fs::write(d.join("000002"), [1u8; 16]).unwrap();
        assert!(matches!(
            ChunkDiskMapper::open(d),
            Err(Error::Unsupported { what: "magic", .. })
        ));
    }
}
