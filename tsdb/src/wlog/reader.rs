//! [`WalReader`]: reassembles records from the fragments of a range of segments.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::segment::{segment_path, SegmentRange};
use super::{
    CorruptionReason, FragmentType, FRAGMENT_HEADER_SIZE, PAGE_SIZE, SNAPPY_FLAG, TYPE_MASK,
    ZSTD_FLAG,
};
use crate::error::{Error, Result};

/// Reads the records of a range of segments, in order.
///
/// [`next_record`](Self::next_record) lends the record bytes (decompressed, without fragment
/// headers) until the following call; the reader owns and reuses that buffer, so reading
/// allocates only when a record is larger than every record before it.
///
/// Each segment is read page by page. A segment may end early (the newest one, or one that
/// was repaired): the rest of its last page counts as zero padding. A segment that ends in
/// the middle of a record, a bad CRC, or any other deviation from the format is reported
/// as [`Error::WalCorruption`] with the segment number and the byte offset of the start of
/// the damaged record, which is exactly what [`repair`](super::repair) needs. After an error
/// the reader is finished.
#[derive(Debug)]
pub struct WalReader {
    /// (directory, segment number) pairs, read in this order.
    segments: Vec<(PathBuf, u32)>,
    /// Index into `segments` of the segment being read.
    idx: usize,
    file: Option<File>,
    page: Vec<u8>,
    /// Valid bytes in `page` (less than `PAGE_SIZE` only for the last page of a segment).
    page_len: usize,
    /// Read position inside `page`.
    pos: usize,
    /// Offset of `page` inside its segment.
    page_off: u64,
    page_loaded: bool,
    rec: Vec<u8>,
    out: Vec<u8>,
    /// Where the last returned record lives.
    out_kind: OutKind,
    decoder: snap::raw::Decoder,
    /// (segment, offset) where the record being assembled (or the next one) starts.
    rec_start: (u32, u64),
    done: bool,
}

impl WalReader {
    /// A reader over the segments of `range` that exist when this is called.
    pub fn open(range: &SegmentRange) -> Result<WalReader> {
        WalReader::open_ranges(std::slice::from_ref(range))
    }

    /// A reader over several ranges, one after the other (e.g. a checkpoint, then the WAL).
    pub fn open_ranges(ranges: &[SegmentRange]) -> Result<WalReader> {
        let mut segs = Vec::new();
        for r in ranges {
            segs.extend(r.resolve()?.into_iter().map(|n| (r.dir.clone(), n)));
        }
        Ok(WalReader::from_list(segs))
    }

    /// A reader for replaying the WAL in `wal_dir` as Prometheus does: every segment of the
    /// newest `checkpoint.N` (if any), then the WAL segments numbered above `N`.
    ///
    /// Prometheus treats corruption inside a checkpoint as fatal; check
    /// [`current_dir`](Self::current_dir) before repairing.
    pub fn open_replay(wal_dir: &Path) -> Result<WalReader> {
        match super::last_checkpoint(wal_dir)? {
            Some((cp, n)) => WalReader::open_ranges(&[
                SegmentRange::all(cp),
                SegmentRange::new(wal_dir, n.checked_add(1), None),
            ]),
            None => WalReader::open(&SegmentRange::all(wal_dir)),
        }
    }

    /// A reader over the given segment numbers of `dir` (read in the given order).
    pub fn from_segments(dir: impl Into<PathBuf>, segments: Vec<u32>) -> WalReader {
        let dir = dir.into();
        WalReader::from_list(segments.into_iter().map(|n| (dir.clone(), n)).collect())
    }

    fn from_list(segments: Vec<(PathBuf, u32)>) -> WalReader {
        let first = segments.first().map(|(_, n)| *n).unwrap_or(0);
        WalReader {
            segments,
            idx: 0,
            file: None,
            page: vec![0; PAGE_SIZE],
            page_len: 0,
            pos: 0,
            page_off: 0,
            page_loaded: false,
            rec: Vec::new(),
            out: Vec::new(),
            out_kind: OutKind::Assembled,
            decoder: snap::raw::Decoder::new(),
            rec_start: (first, 0),
            done: false,
        }
    }

    /// The directory of the segment being read (`None` before the first and after the last).
    pub fn current_dir(&self) -> Option<&Path> {
        self.segments.get(self.idx).map(|(d, _)| d.as_path())
    }

    /// The segment and byte offset just past the last record returned (where the next record
    /// starts, not counting page padding).
    pub fn position(&self) -> (u32, u64) {
        self.rec_start
    }

    /// The next record, `Ok(None)` at the end of the last segment.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>> {
        if self.done {
            return Ok(None);
        }
        match self.next_inner() {
            Ok(true) => Ok(Some(match self.out_kind {
                OutKind::Assembled => self.rec.as_slice(),
                OutKind::Decompressed => self.out.as_slice(),
                OutKind::InPage { start, end } => self.page.get(start..end).unwrap_or(&[]),
            })),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn corruption(&self, reason: CorruptionReason) -> Error {
        Error::WalCorruption {
            dir: self
                .current_dir()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            segment: self.rec_start.0,
            offset: self.rec_start.1,
            reason,
        }
    }

    fn current_segment(&self) -> Option<u32> {
        self.segments.get(self.idx).map(|(_, n)| *n)
    }

    fn segment_file(&self, seg: u32) -> PathBuf {
        segment_path(self.current_dir().unwrap_or(Path::new("")), seg)
    }

    /// Loads the next page of the current segment; `false` at the end of the segment.
    fn load_page(&mut self) -> Result<bool> {
        let Some(seg) = self.current_segment() else {
            return Ok(false);
        };
        if self.page_loaded {
            if self.page_len < PAGE_SIZE {
                return Ok(false); // a short page is always the last one
            }
            self.page_off += PAGE_SIZE as u64;
        }
        if self.file.is_none() {
            let path = self.segment_file(seg);
            self.file = Some(File::open(&path).map_err(|e| Error::io("open segment", path, e))?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        let mut n = 0;
        while n < PAGE_SIZE {
            let buf = self.page.get_mut(n..).unwrap_or(&mut []);
            match file.read(buf) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("read segment", self.segment_file(seg), e)),
            }
        }
        self.page_len = n;
        self.pos = 0;
        self.page_loaded = true;
        Ok(n > 0)
    }

    /// Moves to the next segment; `false` when there is none.
    fn advance_segment(&mut self) -> bool {
        self.idx += 1;
        self.file = None;
        self.page_loaded = false;
        self.page_len = 0;
        self.pos = 0;
        self.page_off = 0;
        match self.current_segment() {
            Some(seg) => {
                self.rec_start = (seg, 0);
                true
            }
            None => false,
        }
    }

    fn next_inner(&mut self) -> Result<bool> {
        self.rec.clear();
        self.out_kind = OutKind::Assembled;
        let mut fragments = 0usize;
        let mut snappy = false;
        loop {
            if (!self.page_loaded || self.pos >= self.page_len) && !self.load_page()? {
                if fragments > 0 {
                    return Err(self.corruption(CorruptionReason::TornRecord));
                }
                if !self.advance_segment() {
                    return Ok(false);
                }
                continue;
            }
            let frag_off = self.page_off + self.pos as u64;
            if fragments == 0 {
                self.rec_start = (self.current_segment().unwrap_or(0), frag_off);
            }
            let page = self.page.get(..self.page_len).unwrap_or(&[]);
            let rest = page.get(self.pos..).unwrap_or(&[]);
            let Some(&type_byte) = rest.first() else {
                continue;
            };
            if type_byte & !(TYPE_MASK | SNAPPY_FLAG | ZSTD_FLAG) != 0 {
                return Err(self.corruption(CorruptionReason::InvalidType(type_byte)));
            }
            let Some(ftype) = FragmentType::from_bits(type_byte) else {
                return Err(self.corruption(CorruptionReason::InvalidType(type_byte)));
            };
            if ftype == FragmentType::PageTerm {
                if rest.iter().any(|&b| b != 0) {
                    return Err(self.corruption(CorruptionReason::NonZeroPadding));
                }
                self.pos = self.page_len;
                if fragments == 0 {
                    // The next record starts on the next page.
                    let next = self.page_off + PAGE_SIZE as u64;
                    self.rec_start.1 = next.min(self.page_off + self.page_len as u64);
                }
                continue;
            }
            let Some(&[_, l0, l1, c0, c1, c2, c3]) = rest.first_chunk::<FRAGMENT_HEADER_SIZE>()
            else {
                return Err(self.corruption(CorruptionReason::TruncatedFragment));
            };
            let length = u16::from_be_bytes([l0, l1]);
            let stored = u32::from_be_bytes([c0, c1, c2, c3]);
            let end = FRAGMENT_HEADER_SIZE + length as usize;
            if length as usize > PAGE_SIZE - FRAGMENT_HEADER_SIZE || self.pos + end > PAGE_SIZE {
                return Err(self.corruption(CorruptionReason::BadLength { length }));
            }
            let Some(payload) = rest.get(FRAGMENT_HEADER_SIZE..end) else {
                return Err(self.corruption(CorruptionReason::TruncatedFragment));
            };
            let computed = crc32c::crc32c(payload);
            if computed != stored {
                return Err(self.corruption(CorruptionReason::Checksum { stored, computed }));
            }
            let in_record = fragments > 0;
            let ok = match ftype {
                FragmentType::Full | FragmentType::First => !in_record,
                FragmentType::Middle | FragmentType::Last => in_record,
                FragmentType::PageTerm => true,
            };
            if !ok {
                return Err(self.corruption(CorruptionReason::OutOfSequence {
                    found: ftype.bits(),
                }));
            }
            if type_byte & ZSTD_FLAG != 0 {
                return Err(self.corruption(CorruptionReason::Zstd));
            }
            snappy |= type_byte & SNAPPY_FLAG != 0;
            let payload_start = self.pos + FRAGMENT_HEADER_SIZE;
            let payload_end = self.pos + end;
            if ftype == FragmentType::Full {
                // A whole record in one fragment: lend it from the page, no copy.
                self.out_kind = OutKind::InPage {
                    start: payload_start,
                    end: payload_end,
                };
            } else {
                self.rec.extend_from_slice(payload);
            }
            self.pos = payload_end;
            fragments += 1;
            if matches!(ftype, FragmentType::Full | FragmentType::Last) {
                if snappy {
                    let src = match self.out_kind {
                        OutKind::InPage { start, end } => self.page.get(start..end),
                        _ => Some(self.rec.as_slice()),
                    };
                    let res = decompress_into(&mut self.decoder, src.unwrap_or(&[]), &mut self.out);
                    res.map_err(|e| self.corruption(CorruptionReason::Snappy(e.to_string())))?;
                    self.out_kind = OutKind::Decompressed;
                }
                self.rec_start.1 = self.page_off + self.pos as u64;
                return Ok(true);
            }
        }
    }
}

/// Where [`WalReader::next_record`]'s result lives.
#[derive(Debug, Clone, Copy)]
enum OutKind {
    /// In `rec` (fragments concatenated).
    Assembled,
    /// In `out` (decompressed).
    Decompressed,
    /// A single uncompressed fragment, lent straight from the page.
    InPage { start: usize, end: usize },
}

/// Snappy-decompresses `src` into `out` (resized to fit, reused across calls).
fn decompress_into(
    decoder: &mut snap::raw::Decoder,
    src: &[u8],
    out: &mut Vec<u8>,
) -> std::result::Result<(), snap::Error> {
    let n = snap::raw::decompress_len(src)?;
    out.resize(n, 0);
    let got = decoder.decompress(src, out)?;
    out.truncate(got);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{WalOptions, WalWriter};
    use super::*;

    fn read_all(dir: &std::path::Path) -> Result<Vec<Vec<u8>>> {
        let mut r = WalReader::open(&SegmentRange::all(dir))?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn empty_and_missing_content() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_all(dir.path()).unwrap().is_empty());
        let w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        w.close().unwrap();
        assert!(read_all(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn empty_record_and_exact_page_fill() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        // Leaves exactly 7 bytes in the page, so the next record starts with an empty fragment.
        let a = vec![1u8; PAGE_SIZE - 2 * FRAGMENT_HEADER_SIZE];
        let b = vec![2u8; 10];
        w.log(&[a.as_slice(), &[], b.as_slice()]).unwrap();
        w.close().unwrap();
        let recs = read_all(dir.path()).unwrap();
        assert_eq!(recs, vec![a, vec![], b]);
    }

    #[test]
    fn bad_crc_is_reported_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        w.log(&[b"first".as_slice(), b"second"]).unwrap();
        drop(w);
        let p = segment_path(dir.path(), 0);
        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&p, &bytes).unwrap();
        let err = read_all(dir.path()).unwrap_err();
        match err {
            Error::WalCorruption {
                segment,
                offset,
                reason,
                ..
            } => {
                assert_eq!(segment, 0);
                assert_eq!(offset, (FRAGMENT_HEADER_SIZE + 5) as u64);
                assert!(matches!(reason, CorruptionReason::Checksum { .. }));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn zstd_record_is_reported_as_not_repairable() {
        let dir = tempfile::tempdir().unwrap();
        let payload = b"\x28\xb5\x2f\xfd";
        let mut seg = vec![1 | ZSTD_FLAG, 0, payload.len() as u8];
        seg.extend_from_slice(&crc32c::crc32c(payload).to_be_bytes());
        seg.extend_from_slice(payload);
        std::fs::write(segment_path(dir.path(), 0), &seg).unwrap();
        match read_all(dir.path()).unwrap_err() {
            Error::WalCorruption { reason, .. } => {
                assert_eq!(reason, CorruptionReason::Zstd);
                assert!(!reason.is_repairable());
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn replay_reads_newest_checkpoint_then_later_segments() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path();
        let mut w = WalWriter::open(wal, WalOptions::default()).unwrap();
        for i in 0..4u8 {
            w.log_record(&[i]).unwrap();
            w.next_segment().unwrap();
        }
        w.close().unwrap();
        let cp = wal.join("checkpoint.00000001");
        let mut w = WalWriter::open(&cp, WalOptions::default()).unwrap();
        w.log_record(b"cp").unwrap();
        w.close().unwrap();
        std::fs::create_dir(wal.join("checkpoint.00000000")).unwrap();
        let mut r = WalReader::open_replay(wal).unwrap();
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            got.push(rec.to_vec());
        }
        assert_eq!(got, vec![b"cp".to_vec(), vec![2], vec![3]]);
        // Without a checkpoint, every segment.
        std::fs::remove_dir_all(&cp).unwrap();
        std::fs::remove_dir_all(wal.join("checkpoint.00000000")).unwrap();
        let mut r = WalReader::open_replay(wal).unwrap();
        let mut n = 0;
        while r.next_record().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 4);
    }

    #[test]
    fn torn_record_at_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), WalOptions::default()).unwrap();
        w.log_record(b"ok").unwrap();
        w.log_record(&vec![5u8; PAGE_SIZE * 2]).unwrap();
        drop(w);
        let p = segment_path(dir.path(), 0);
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..PAGE_SIZE + 10]).unwrap();
        let mut r = WalReader::open(&SegmentRange::all(dir.path())).unwrap();
        assert_eq!(r.next_record().unwrap(), Some(&b"ok"[..]));
        let err = r.next_record().unwrap_err();
        assert!(
            matches!(
                err,
                Error::WalCorruption {
                    segment: 0,
                    offset: 9,
                    reason: CorruptionReason::TruncatedFragment,
                    ..
                }
            ),
            "{err:?}"
        );
        std::fs::write(&p, &bytes[..PAGE_SIZE]).unwrap();
        let err = read_all(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::WalCorruption {
                    reason: CorruptionReason::TornRecord,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
