//! The bytes of a head chunk file: header check, record encoding and a validating iterator.
//!
//! ```text
//! be64 series ref | be64 mint | be64 maxt | u8 encoding | uvarint len | data | be32 CRC32C
//! ```
//! The CRC covers everything from the series ref through the data.

use super::{HEADER_SIZE, HEAD_CHUNKS_FORMAT_V1, MAGIC_HEAD_CHUNKS, MAX_HEAD_CHUNK_META_SIZE};
use crate::error::{Error, Result};

/// One record as read from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawRecord {
    /// Offset of the record (its series ref) in the file: the chunk's head chunk ref offset.
    pub(crate) offset: usize,
    pub(crate) series_ref: u64,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) encoding: u8,
    /// Offset and length of the chunk data in the file.
    pub(crate) data_at: usize,
    pub(crate) data_len: usize,
    /// Offset just past the record's CRC.
    pub(crate) end: usize,
}

/// Checks magic and version of a file's first bytes.
pub(crate) fn check_header(bytes: &[u8], file: &str) -> Result<()> {
    let Some(h) = bytes.get(..HEADER_SIZE) else {
        return Err(Error::corrupt(
            file,
            0,
            format!("invalid head chunk file header: {} bytes", bytes.len()),
        ));
    };
    let magic = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    if magic != MAGIC_HEAD_CHUNKS {
        return Err(Error::Unsupported {
            file: file.to_string(),
            what: "magic",
            found: u64::from(magic),
        });
    }
    if h[4] != HEAD_CHUNKS_FORMAT_V1 {
        return Err(Error::Unsupported {
            file: file.to_string(),
            what: "version",
            found: u64::from(h[4]),
        });
    }
    Ok(())
}

/// The file header: magic, version 1, three zero bytes.
pub(crate) fn header() -> [u8; HEADER_SIZE] {
    let m = MAGIC_HEAD_CHUNKS.to_be_bytes();
    [m[0], m[1], m[2], m[3], HEAD_CHUNKS_FORMAT_V1, 0, 0, 0]
}

/// Appends one record to `out`; returns the offset of the data inside the appended bytes.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    series_ref: u64,
    min_t: i64,
    max_t: i64,
    encoding: u8,
    data: &[u8],
) -> usize {
    let start = out.len();
    out.extend_from_slice(&series_ref.to_be_bytes());
    out.extend_from_slice(&min_t.to_be_bytes());
    out.extend_from_slice(&max_t.to_be_bytes());
    out.push(encoding);
    let mut n = data.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    let data_at = out.len() - start;
    out.extend_from_slice(data);
    let crc = crc32c::crc32c(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
    data_at
}

/// Iterates the records of one file's bytes (header included). Ends at the end of the bytes,
/// at trailing zero bytes (preallocated space) or at a record whose series ref, mint and maxt
/// are all zero; anything else that does not parse is an [`Error::Corruption`] or
/// [`Error::Checksum`] naming the record's offset, after which the iterator is exhausted.
#[derive(Debug)]
pub(crate) struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    file: &'a str,
    done: bool,
}

impl<'a> Records<'a> {
    /// Starts after the header (which the caller has checked).
    pub(crate) fn new(bytes: &'a [u8], file: &'a str) -> Self {
        Records {
            bytes,
            pos: HEADER_SIZE,
            file,
            done: false,
        }
    }

    /// Offset just past the last record returned (where valid data ends).
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn be64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        if let Some(s) = self.bytes.get(at..at + 8) {
            b.copy_from_slice(s);
        }
        u64::from_be_bytes(b)
    }

    fn corrupt(&mut self, at: usize, reason: String) -> Option<Result<RawRecord>> {
        self.done = true;
        Some(Err(Error::corrupt(self.file, at as u64, reason)))
    }

    fn read(&mut self) -> Option<Result<RawRecord>> {
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        if rest.len() < MAX_HEAD_CHUNK_META_SIZE {
            if rest.iter().all(|&b| b == 0) {
                return None;
            }
            return self.corrupt(
                start,
                format!(
                    "head chunk file has some unread data ({} bytes), but not enough to read a chunk header",
                    rest.len()
                ),
            );
        }
        let series_ref = self.be64(start);
        let min_t = self.be64(start + 8) as i64;
        let max_t = self.be64(start + 16) as i64;
        if series_ref == 0 && min_t == 0 && max_t == 0 {
            return None;
        }
        let encoding = rest.get(24).copied().unwrap_or(0);
        let mut len: u64 = 0;
        let mut shift = 0u32;
        let mut at = start + 25;
        loop {
            let Some(&b) = self.bytes.get(at) else {
                return self.corrupt(start, "truncated chunk length".into());
            };
            at += 1;
            if shift >= 63 && b > 1 {
                return self.corrupt(start, "chunk length varint overflows".into());
            }
            len |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        let data_at = at;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| data_at.checked_add(l))
            .and_then(|e| e.checked_add(4));
        let Some(end) = end.filter(|&e| e <= self.bytes.len()) else {
            return self.corrupt(
                start,
                format!(
                    "head chunk file doesn't include enough bytes to read the chunk: need {len} data bytes and a CRC, have {}",
                    self.bytes.len().saturating_sub(data_at)
                ),
            );
        };
        let covered = self.bytes.get(start..end - 4).unwrap_or_default();
        let computed = crc32c::crc32c(covered);
        let stored = self.be64(end - 8) as u32;
        if stored != computed {
            self.done = true;
            return Some(Err(Error::Checksum {
                file: self.file.to_string(),
                offset: start as u64,
                stored,
                computed,
            }));
        }
        if series_ref == 0 {
            return self.corrupt(start, "chunk with series ref 0".into());
        }
        if max_t < min_t {
            return self.corrupt(start, format!("chunk maxt {max_t} < mint {min_t}"));
        }
        self.pos = end;
        Some(Ok(RawRecord {
            offset: start,
            series_ref,
            min_t,
            max_t,
            encoding,
            data_at,
            data_len: end - 4 - data_at,
            end,
        }))
    }
}

impl Iterator for Records<'_> {
    type Item = Result<RawRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.read();
        if r.is_none() {
            self.done = true;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(records: &[(u64, i64, i64, &[u8])], zeros: usize) -> Vec<u8> {
        let mut f = header().to_vec();
        for (r, a, b, d) in records {
            encode(&mut f, *r, *a, *b, 1, d);
        }
        f.resize(f.len() + zeros, 0);
        f
    }

    fn all(bytes: &[u8]) -> Vec<Result<RawRecord>> {
        Records::new(bytes, "chunks_head/000001").collect()
    }

    #[test]
    fn round_trip_with_and_without_trailing_zeros() {
        let data: &[u8] = &[0, 1, 0x80, 5, 6, 7, 8, 9, 10];
        for zeros in [0, 10, 33, 34, 1000] {
            // Real XOR chunks hold at least one sample, so a record is never shorter than
            // the 34-byte tail rule (upstream relies on that too).
            let f = file_with(&[(1, 10, 20, data), (7, 30, 40, &[0; 9])], zeros);
            check_header(&f, "x").unwrap();
            let recs: Vec<RawRecord> = all(&f).into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(recs.len(), 2, "zeros={zeros}");
            assert_eq!(recs[0].offset, 8);
            assert_eq!(
                (recs[0].series_ref, recs[0].min_t, recs[0].max_t),
                (1, 10, 20)
            );
            assert_eq!(
                &f[recs[0].data_at..recs[0].data_at + recs[0].data_len],
                data
            );
            assert_eq!(recs[1].offset, recs[0].end);
            assert_eq!(recs[1].series_ref, 7);
        }
    }

    #[test]
    fn long_data_uses_a_multi_byte_length() {
        let data = vec![7u8; 300];
        let f = file_with(&[(3, -5, 5, &data)], 0);
        let r = all(&f).remove(0).unwrap();
        assert_eq!(r.data_len, 300);
        assert_eq!(r.data_at, 8 + 25 + 2);
        assert_eq!((r.min_t, r.max_t), (-5, 5));
    }

    #[test]
    fn damage_is_reported_at_the_record() {
        let d: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let good = file_with(&[(1, 10, 20, d), (2, 30, 40, d)], 0);
        let second = 8 + 8 + 8 + 8 + 1 + 1 + 10 + 4;
        // Flipped data byte: checksum error at the second record.
        let mut f = good.clone();
        let n = f.len();
        f[n - 6] ^= 0xff;
        let got = all(&f);
        assert!(got[0].is_ok());
        assert!(matches!(&got[1], Err(Error::Checksum { offset, .. }) if *offset == second as u64));
        assert_eq!(got.len(), 2);
        // Truncated in the middle of the second record.
        let f = &good[..good.len() - 2];
        let got = all(f);
        assert!(
            matches!(&got[1], Err(Error::Corruption { offset, .. }) if *offset == second as u64)
        );
        // Garbage shorter than a record header.
        let mut f = file_with(&[(1, 10, 20, d)], 0);
        f.extend_from_slice(&[0, 0, 9]);
        let got = all(&f);
        assert!(got[0].is_ok());
        assert!(
            matches!(&got[1], Err(Error::Corruption { reason, .. }) if reason.contains("unread data"))
        );
        // Bad header.
        assert!(matches!(
            check_header(&[1, 2], "f"),
            Err(Error::Corruption { .. })
        ));
        let mut h = header();
        h[4] = 2;
        assert!(matches!(
            check_header(&h, "f"),
            Err(Error::Unsupported {
                what: "version",
                ..
            })
        ));
        h[0] = 9;
        assert!(matches!(
            check_header(&h, "f"),
            Err(Error::Unsupported { what: "magic", .. })
        ));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400 {
            let mut f = header().to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                f.push(x as u8);
            }
            for r in all(&f).into_iter().flatten() {
                assert!(r.end <= f.len());
            }
        }
    }
}
