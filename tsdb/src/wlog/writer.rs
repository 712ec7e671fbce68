//! [`WalWriter`]: appends records to the newest segment, page by page.

use std::fs;
use std::path::{Path, PathBuf};

use super::mapped::{MappedSegment, Prefault};
use super::segment::{segment_path, segments, sync_dir};
use super::{FragmentType, FRAGMENT_HEADER_SIZE, PAGE_SIZE, SNAPPY_FLAG};
use crate::error::{Error, Result};

/// How records are compressed before being split into fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Records are stored as they are.
    #[default]
    None,
    /// Each record is compressed with snappy (raw block format) when that makes it smaller;
    /// Prometheus 2.42 writes this by default and reads both.
    Snappy,
}

/// When the writer calls `fsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Only when a segment is closed (cut or [`WalWriter::close`]) or on an explicit
    /// [`WalWriter::sync`]; this is what Prometheus does. Records logged since the last sync
    /// are in the OS page cache and can be lost by a machine crash (not by a process crash).
    #[default]
    OnSegmentClose,
    /// After every [`WalWriter::log`] call: when `log` returns `Ok`, the records are durable.
    EveryLog,
}

/// Options of a [`WalWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// Target segment size in bytes; a multiple of [`PAGE_SIZE`], at least one page.
    pub segment_size: usize,
    /// Record compression.
    pub compression: Compression,
    /// Fsync policy.
    pub sync: SyncPolicy,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: super::DEFAULT_SEGMENT_SIZE,
            compression: Compression::None,
            sync: SyncPolicy::OnSegmentClose,
        }
    }
}

/// Appends records to a WAL directory.
///
/// Opening always starts a new segment numbered one past the newest existing one, as
/// Prometheus does; existing segments are never appended to. Each [`log`](Self::log) call
/// writes its records and then flushes the partly filled page to the file. The segment is
/// written through a shared memory mapping (see `wlog::mapped`): once `log` returns, the
/// bytes are in the page cache, as after a `write(2)`, without a system call per `log`.
/// While a segment is written its file may end in up to 1 MiB of allocated zeros (page
/// padding to any reader); closing the segment, or dropping the writer, cuts them off.
///
/// After an I/O error the writer is poisoned: every later call returns
/// [`Error::WalPoisoned`], because the on-disk tail is in an unknown state (reopen and
/// [`repair`](super::repair) instead).
#[derive(Debug)]
pub struct WalWriter {
    dir: PathBuf,
    opts: WalOptions,
    file: Option<MappedSegment>,
    segment: u32,
    /// Bytes of `page` in use.
    alloc: usize,
    /// Bytes of `page` already written to the file.
    flushed: usize,
    /// Full pages written to the current segment.
    done_pages: usize,
    compress_buf: Vec<u8>,
    encoder: snap::raw::Encoder,
    poisoned: bool,
    /// Whether the owner collects [`Deferred`] work with [`take_deferred`](Self::take_deferred).
    defer: bool,
    /// Background fsyncs of segments cut inside `log` (when deferring), joined by `sync`,
    /// `next_segment` and `close`.
    syncing: Vec<std::thread::JoinHandle<Result<()>>>,
    /// The first error of a background fsync reaped by `take_deferred`, reported by the next
    /// `sync`, `next_segment` or `close`.
    sync_error: Option<Error>,
}

/// Work a [`WalWriter`] leaves to its owner to run after releasing the lock around it (see
/// [`WalWriter::set_deferred`]): mapping in pages allocated ahead of the writes.
#[derive(Debug)]
pub struct Deferred {
    prefault: Prefault,
}

impl Deferred {
    /// Runs the work.
    pub fn run(self) {
        self.prefault.run();
    }
}

impl WalWriter {
    /// Opens (creating if needed) the WAL directory `dir` and starts a new segment.
    pub fn open(dir: impl AsRef<Path>, opts: WalOptions) -> Result<WalWriter> {
        let dir = dir.as_ref().to_path_buf();
        if opts.segment_size < PAGE_SIZE || opts.segment_size % PAGE_SIZE != 0 {
            return Err(Error::InvalidInput {
                writer: "WAL writer",
                reason: format!(
                    "segment size {} is not a positive multiple of {PAGE_SIZE}",
                    opts.segment_size
                ),
            });
        }
        fs::create_dir_all(&dir).map_err(|e| Error::io("create dir", &dir, e))?;
        let next = match segments(&dir)?.last() {
            Some(last) => last.checked_add(1).ok_or_else(|| Error::InvalidInput {
                writer: "WAL writer",
                reason: "segment number overflow".to_string(),
            })?,
            None => 0,
        };
        let mut w = WalWriter {
            dir,
            opts,
            file: None,
            segment: next,
            alloc: 0,
            flushed: 0,
            done_pages: 0,
            compress_buf: Vec::new(),
            encoder: snap::raw::Encoder::new(),
            poisoned: false,
            defer: false,
            syncing: Vec::new(),
            sync_error: None,
        };
        w.create_segment(next)?;
        Ok(w)
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of the segment currently written.
    pub fn segment(&self) -> u32 {
        self.segment
    }

    /// Bytes written to the current segment so far (its length on disk).
    pub fn segment_offset(&self) -> u64 {
        (self.done_pages * PAGE_SIZE + self.flushed) as u64
    }

    /// Logs records in order, then flushes the partly filled page (and fsyncs if the policy
    /// says so). A record never spans two segments: if it does not fit in the current one, a
    /// new segment is started first.
    pub fn log<R: AsRef<[u8]>>(&mut self, records: &[R]) -> Result<()> {
        self.check_poisoned()?;
        let res = self.log_inner(records);
        self.poison_on_err(res)
    }

    /// Logs one record (see [`log`](Self::log)).
    pub fn log_record(&mut self, record: &[u8]) -> Result<()> {
        self.log(&[record])
    }

    /// With `true`, the owner promises to call [`take_deferred`](Self::take_deferred) after
    /// each `log` and run the result outside its lock (pages of the segment are then
    /// allocated ahead of the writes for it to map in), and a segment cut inside `log` is
    /// fsynced by a background thread, as Prometheus does, instead of inside `log`; `sync`,
    /// `next_segment` and `close` wait for those fsyncs and report their errors. With `false`
    /// (the default) `log` fsyncs cut segments itself.
    pub fn set_deferred(&mut self, defer: bool) {
        self.defer = defer;
    }

    /// The work left by `log` calls since the last call (see [`set_deferred`](Self::set_deferred)).
    pub fn take_deferred(&mut self) -> Option<Deferred> {
        if !self.defer {
            return None;
        }
        if self.syncing.iter().any(|h| h.is_finished()) {
            let (done, running): (Vec<_>, Vec<_>) =
                self.syncing.drain(..).partition(|h| h.is_finished());
            self.syncing = running;
            for h in done {
                if let Err(e) = join_sync(h) {
                    self.sync_error.get_or_insert(e);
                }
            }
        }
        let prefault = self.file.as_mut().and_then(MappedSegment::take_prefault)?;
        Some(Deferred { prefault })
    }

    /// Waits for the background fsyncs of cut segments; the first error, if any.
    fn join_syncing(&mut self) -> Result<()> {
        let mut res = match self.sync_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        };
        for h in self.syncing.drain(..) {
            let r = join_sync(h);
            if res.is_ok() {
                res = r;
            }
        }
        res
    }

    /// Flushes and fsyncs the current segment.
    pub fn sync(&mut self) -> Result<()> {
        self.check_poisoned()?;
        let res = self
            .join_syncing()
            .and_then(|()| self.flush_partial())
            .and_then(|()| self.fsync());
        self.poison_on_err(res)
    }

    /// Closes the current segment (zero-padding its last page, fsyncing it) and starts the
    /// next one; returns the new segment's number.
    pub fn next_segment(&mut self) -> Result<u32> {
        self.check_poisoned()?;
        let res = self.next_segment_inner();
        self.poison_on_err(res)
    }

    /// Pads the last page, fsyncs and closes the current segment.
    pub fn close(mut self) -> Result<()> {
        self.check_poisoned()?;
        let res = self.join_syncing().and_then(|()| self.finish_segment());
        self.file = None;
        res
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::WalPoisoned {
                dir: self.dir.clone(),
            });
        }
        Ok(())
    }

    fn poison_on_err<T>(&mut self, res: Result<T>) -> Result<T> {
        if res.is_err() {
            self.poisoned = true;
        }
        res
    }

    fn log_inner<R: AsRef<[u8]>>(&mut self, records: &[R]) -> Result<()> {
        for r in records {
            self.log_one(r.as_ref())?;
        }
        self.flush_partial()?;
        if self.opts.sync == SyncPolicy::EveryLog {
            self.fsync()?;
        }
        Ok(())
    }

    fn log_one(&mut self, record: &[u8]) -> Result<()> {
        // Compress into a buffer owned by the writer; keep the compressed form only if smaller.
        let mut compressed = false;
        if self.opts.compression == Compression::Snappy && !record.is_empty() {
            let max = snap::raw::max_compress_len(record.len());
            self.compress_buf.resize(max, 0);
            match self.encoder.compress(record, &mut self.compress_buf) {
                Ok(n) if n < record.len() => {
                    self.compress_buf.truncate(n);
                    compressed = true;
                }
                _ => {}
            }
        }
        let data = std::mem::take(&mut self.compress_buf);
        let res = self.write_fragments(if compressed { &data } else { record }, compressed);
        self.compress_buf = data;
        res
    }

    fn write_fragments(&mut self, mut rest: &[u8], compressed: bool) -> Result<()> {
        if PAGE_SIZE - self.alloc < FRAGMENT_HEADER_SIZE {
            self.flush_page(true)?;
        }
        // Space left in this segment if the record was split over all its remaining pages.
        let pages_per_segment = (self.opts.segment_size / PAGE_SIZE) as i64;
        let left = (PAGE_SIZE - self.alloc - FRAGMENT_HEADER_SIZE) as i64
            + (PAGE_SIZE - FRAGMENT_HEADER_SIZE) as i64
                * (pages_per_segment - self.done_pages as i64 - 1);
        if rest.len() as i64 > left {
            self.cut_segment(self.defer)?;
        }
        let flag = if compressed { SNAPPY_FLAG } else { 0 };
        let mut first = true;
        loop {
            let room = PAGE_SIZE - self.alloc - FRAGMENT_HEADER_SIZE;
            let n = rest.len().min(room);
            let (part, tail) = rest.split_at(n);
            rest = tail;
            let typ = match (first, rest.is_empty()) {
                (true, true) => FragmentType::Full,
                (true, false) => FragmentType::First,
                (false, true) => FragmentType::Last,
                (false, false) => FragmentType::Middle,
            };
            let crc = crc32c::crc32c(part);
            let start = self.alloc;
            let end = start + FRAGMENT_HEADER_SIZE + n;
            if end > PAGE_SIZE {
                return Err(Error::InvalidInput {
                    writer: "WAL writer",
                    reason: "fragment exceeds page".to_string(),
                });
            }
            let [l0, l1] = (n as u16).to_be_bytes();
            let [c0, c1, c2, c3] = crc.to_be_bytes();
            let header = [typ.bits() | flag, l0, l1, c0, c1, c2, c3];
            // Straight into the segment's mapping (no page buffer in between).
            let at = self.done_pages * PAGE_SIZE + start;
            let Some(file) = self.file.as_mut() else {
                return Err(Error::WalPoisoned {
                    dir: self.dir.clone(),
                });
            };
            file.write_at(at, &header)?;
            file.write_at(at + FRAGMENT_HEADER_SIZE, part)?;
            self.alloc = end;
            self.flushed = end;
            if PAGE_SIZE - self.alloc < FRAGMENT_HEADER_SIZE {
                self.flush_page(true)?;
            }
            if rest.is_empty() {
                return Ok(());
            }
            first = false;
        }
    }

    /// Finishes the page when it is full or with `pad`: the rest of a padded page is already
    /// zeros in the file (allocated, never written), so nothing is copied.
    fn flush_page(&mut self, pad: bool) -> Result<()> {
        if self.file.is_none() {
            return Err(Error::WalPoisoned {
                dir: self.dir.clone(),
            });
        }
        if pad {
            self.alloc = PAGE_SIZE;
        }
        self.flushed = self.alloc;
        if self.alloc == PAGE_SIZE {
            self.alloc = 0;
            self.flushed = 0;
            self.done_pages += 1;
        }
        Ok(())
    }

    /// Fragments go to the file as they are laid out; nothing is pending between `log` calls.
    fn flush_partial(&mut self) -> Result<()> {
        if self.alloc > self.flushed {
            self.flush_page(false)?;
        }
        Ok(())
    }

    fn fsync(&mut self) -> Result<()> {
        if let Some(f) = self.file.as_ref() {
            f.sync()?;
        }
        Ok(())
    }

    /// Pads the current page if it is in use, writes it, cuts the file to its pages and
    /// fsyncs the segment.
    fn finish_segment(&mut self) -> Result<()> {
        if self.alloc > 0 {
            self.flush_page(true)?;
        }
        let len = self.segment_offset();
        if let Some(f) = self.file.as_mut() {
            f.trim(len)?;
        }
        self.fsync()
    }

    fn next_segment_inner(&mut self) -> Result<u32> {
        self.join_syncing()?;
        self.cut_segment(false)
    }

    /// Finishes the current segment (leaving its fsync to the owner with `defer`) and starts
    /// the next one; returns its number.
    fn cut_segment(&mut self, defer: bool) -> Result<u32> {
        if defer {
            if self.alloc > 0 {
                self.flush_page(true)?;
            }
            let len = self.segment_offset();
            if let Some(mut f) = self.file.take() {
                f.trim(len)?;
                let f = std::sync::Arc::new(f);
                let spawned = std::thread::Builder::new()
                    .name("kagari-wal-fsync".into())
                    .spawn({
                        let f = std::sync::Arc::clone(&f);
                        move || f.sync()
                    });
                match spawned {
                    Ok(h) => self.syncing.push(h),
                    // No thread: fsync here, as without deferral.
                    Err(_) => f.sync()?,
                }
            }
        } else {
            self.finish_segment()?;
        }
        let next = self
            .segment
            .checked_add(1)
            .ok_or_else(|| Error::InvalidInput {
                writer: "WAL writer",
                reason: "segment number overflow".to_string(),
            })?;
        self.create_segment(next)?;
        Ok(next)
    }

    fn create_segment(&mut self, n: u32) -> Result<()> {
        let path = segment_path(&self.dir, n);
        // Drop the previous segment's mapping first (it was trimmed and synced).
        self.file = None;
        let file = MappedSegment::create(&path, self.opts.segment_size)?;
        sync_dir(&self.dir)?;
        self.file = Some(file);
        self.segment = n;
        self.alloc = 0;
        self.flushed = 0;
        self.done_pages = 0;
        Ok(())
    }
}

/// The result of a background fsync thread (a panic counts as an error).
fn join_sync(h: std::thread::JoinHandle<Result<()>>) -> Result<()> {
    h.join().unwrap_or_else(|_| {
        Err(Error::InvalidInput {
            writer: "WAL writer",
            reason: "background fsync of a cut segment panicked".to_string(),
        })
    })
}

impl Drop for WalWriter {
    /// A writer dropped without [`close`](Self::close) leaves its segment as a process that
    /// died after its last `log` would with `write(2)`: the bytes written so far, without
    /// the allocated zeros behind them.
    fn drop(&mut self) {
        let len = self.segment_offset();
        if let Some(f) = self.file.as_mut() {
            // Best effort: zeros left behind are page padding to every reader.
            let _ = f.trim(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(segment_size: usize) -> WalOptions {
        WalOptions {
            segment_size,
            ..WalOptions::default()
        }
    }

    #[test]
    fn rejects_bad_segment_size() {
        let dir = tempfile::tempdir().unwrap();
        assert!(WalWriter::open(dir.path(), opts(1000)).is_err());
        assert!(WalWriter::open(dir.path(), opts(0)).is_err());
    }

    #[test]
    fn small_record_layout_matches_prometheus() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        w.log_record(b"abc").unwrap();
        let bytes = fs::read(segment_path(dir.path(), 0)).unwrap();
        let crc = crc32c::crc32c(b"abc").to_be_bytes();
        let want = [&[1u8, 0, 3][..], &crc, b"abc"].concat();
        // While open, the file ends in allocated zeros (page padding to readers).
        assert_eq!(bytes[..want.len()], want[..]);
        assert!(bytes[want.len()..].iter().all(|&b| b == 0));
        assert_eq!(w.segment_offset(), want.len() as u64);
        w.close().unwrap();
        let bytes = fs::read(segment_path(dir.path(), 0)).unwrap();
        assert_eq!(bytes.len(), PAGE_SIZE, "close pads the last page");
    }

    #[test]
    fn large_record_is_split_into_first_middle_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        let rec = vec![7u8; 2 * PAGE_SIZE + 100];
        w.log_record(&rec).unwrap();
        let bytes = fs::read(segment_path(dir.path(), 0)).unwrap();
        assert_eq!(bytes[0], 2);
        assert_eq!(bytes[PAGE_SIZE], 3);
        assert_eq!(bytes[2 * PAGE_SIZE], 4);
        let last_len = u16::from_be_bytes([bytes[2 * PAGE_SIZE + 1], bytes[2 * PAGE_SIZE + 2]]);
        assert_eq!(
            last_len as usize,
            rec.len() - 2 * (PAGE_SIZE - FRAGMENT_HEADER_SIZE)
        );
    }

    #[test]
    fn reopening_starts_a_new_segment_and_cut_pads() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), opts(PAGE_SIZE * 2)).unwrap();
        w.log_record(b"x").unwrap();
        assert_eq!(w.next_segment().unwrap(), 1);
        w.close().unwrap();
        assert_eq!(
            fs::metadata(segment_path(dir.path(), 0)).unwrap().len(),
            PAGE_SIZE as u64
        );
        let w = WalWriter::open(dir.path(), opts(PAGE_SIZE * 2)).unwrap();
        assert_eq!(w.segment(), 2);
    }

    #[test]
    fn record_that_does_not_fit_goes_to_next_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), opts(PAGE_SIZE)).unwrap();
        w.log_record(&[1u8; 20_000]).unwrap();
        w.log_record(&[2u8; 20_000]).unwrap();
        assert_eq!(w.segment(), 1);
        // Bigger than a whole segment: written to a fresh segment that grows past the target.
        w.log_record(&[3u8; 3 * PAGE_SIZE]).unwrap();
        assert_eq!(w.segment(), 2);
        w.log_record(b"after").unwrap();
        assert_eq!(w.segment(), 3);
    }

    #[test]
    fn snappy_sets_flag_only_when_smaller() {
        let dir = tempfile::tempdir().unwrap();
        let o = WalOptions {
            compression: Compression::Snappy,
            ..WalOptions::default()
        };
        let mut w = WalWriter::open(dir.path(), o).unwrap();
        w.log_record(&[0u8; 1000]).unwrap();
        w.log_record(b"ab").unwrap();
        let bytes = fs::read(segment_path(dir.path(), 0)).unwrap();
        assert_eq!(bytes[0], 1 | SNAPPY_FLAG);
        let len = u16::from_be_bytes([bytes[1], bytes[2]]) as usize;
        assert!(len < 1000);
        assert_eq!(
            bytes[FRAGMENT_HEADER_SIZE + len],
            1,
            "incompressible record stays plain"
        );
    }

    #[test]
    fn deferred_cut_leaves_the_fsync_to_the_owner_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), opts(PAGE_SIZE * 2)).unwrap();
        w.set_deferred(true);
        let recs: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i; 9_000]).collect();
        for r in &recs {
            w.log_record(r).unwrap();
            if let Some(d) = w.take_deferred() {
                d.run();
            }
        }
        assert!(w.segment() >= 1);
        w.sync().unwrap(); // waits for the background fsyncs of the cut segments
        assert!(w.syncing.is_empty());
        // Cut segments are trimmed to whole pages; the open one ends in allocated zeros.
        for n in 0..w.segment() {
            let len = fs::metadata(segment_path(dir.path(), n)).unwrap().len();
            assert_eq!(len % PAGE_SIZE as u64, 0);
            assert!(len > 0 && len <= 2 * PAGE_SIZE as u64);
        }
        let open = fs::metadata(segment_path(dir.path(), w.segment()))
            .unwrap()
            .len();
        assert_eq!(open, super::super::mapped::GROW_STEP);
        // Readable while open (the zeros are page padding), and after a drop without close
        // the file is cut to the bytes logged.
        let mut got = Vec::new();
        let mut rd =
            super::super::WalReader::from_segments(dir.path(), (0..=w.segment()).collect());
        while let Some(r) = rd.next_record().unwrap() {
            got.push(r.to_vec());
        }
        assert_eq!(got, recs);
        let (seg, end) = (w.segment(), w.segment_offset());
        drop(w);
        assert_eq!(
            fs::metadata(segment_path(dir.path(), seg)).unwrap().len(),
            end
        );
        // Without deferral nothing is handed out.
        let mut w = WalWriter::open(dir.path(), opts(PAGE_SIZE * 2)).unwrap();
        for r in &recs {
            w.log_record(r).unwrap();
            assert!(w.take_deferred().is_none());
        }
    }
}
