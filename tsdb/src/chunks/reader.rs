//! Reads chunks from memory-mapped segment files by [`ChunkRef`].

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    segment_file_name, ChunkRef, MappedFile, CHUNKS_FORMAT_V1, MAGIC_CHUNKS, SEGMENT_HEADER_SIZE,
};
use crate::chunkenc::Encoding;
use crate::error::{Error, Result};
use crate::index::encoding::{check_crc, Decbuf};

/// Memory-maps every segment of a block's `chunks/` directory.
#[derive(Debug)]
pub struct ChunkReader {
    segments: Vec<(String, MappedFile)>,
}

impl ChunkReader {
    /// Opens all numeric files in `dir`, sorted by number, checking magic and version.
    /// Segment numbers must be contiguous from `000001`.
    pub fn open(dir: &Path) -> Result<Self> {
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        let entries = fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Ok(n) = name.parse::<u64>() {
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                    files.push((n, entry.path()));
                }
            }
        }
        files.sort();
        let mut segments = Vec::with_capacity(files.len());
        for (i, (n, path)) in files.iter().enumerate() {
            let name = format!(
                "chunks/{}",
                path.file_name()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
            );
            if *n != i as u64 + 1 {
                return Err(Error::corrupt(
                    name,
                    0,
                    format!("expected segment {}", segment_file_name(i as u32)),
                ));
            }
            let map = MappedFile::open(path)?;
            let mut d = Decbuf::new(&name, &map, 0);
            let magic = d.be32()?;
            if magic != MAGIC_CHUNKS {
                return Err(Error::Unsupported {
                    file: name,
                    what: "magic",
                    found: u64::from(magic),
                });
            }
            let version = d.byte()?;
            if version != CHUNKS_FORMAT_V1 {
                return Err(Error::Unsupported {
                    file: name,
                    what: "version",
                    found: u64::from(version),
                });
            }
            segments.push((name, map));
        }
        Ok(ChunkReader { segments })
    }

    /// Number of segment files.
    pub fn num_segments(&self) -> usize {
        self.segments.len()
    }

    /// The encoding and data of the chunk at `r`, after checking its CRC.
    pub fn chunk(&self, r: ChunkRef) -> Result<(Encoding, &[u8])> {
        let (name, map) =
            self.segments
                .get(r.segment() as usize)
                .ok_or_else(|| Error::BadReference {
                    kind: "chunk",
                    reference: r.0,
                    file: "chunks".into(),
                })?;
        let off = u64::from(r.offset());
        if off < SEGMENT_HEADER_SIZE || off >= map.len() as u64 {
            return Err(Error::BadReference {
                kind: "chunk",
                reference: r.0,
                file: name.clone(),
            });
        }
        let rest = map.get(off as usize..).unwrap_or(&[]);
        let mut d = Decbuf::new(name, rest, off);
        let len = d.uvarint()?;
        let len = usize::try_from(len).map_err(|_| d.err("chunk length overflow"))?;
        let crc_start = d.offset();
        let enc_and_data = d.bytes(1 + len)?;
        let stored = d.be32()?;
        check_crc(name, crc_start, enc_and_data, stored)?;
        let (enc, data) = enc_and_data
            .split_first()
            .ok_or_else(|| d.err("empty chunk"))?;
        let enc = Encoding::from_u8(*enc).map_err(|_| {
            Error::corrupt(
                name.clone(),
                crc_start,
                format!("invalid chunk encoding {enc}"),
            )
        })?;
        Ok((enc, data))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ChunkWriter;
    use super::*;
    use crate::chunkenc::XorChunk;

    #[test]
    fn write_read_and_cut_segments() {
        let dir = tempfile::tempdir().unwrap();
        let cdir = dir.path().join("chunks");
        let mut w = ChunkWriter::with_segment_size(&cdir, 100).unwrap();
        let mut refs = Vec::new();
        for i in 0..10i64 {
            let mut c = XorChunk::new();
            let mut a = c.appender().unwrap();
            for j in 0..=i {
                a.append(j * 1000, (i * j) as f64).unwrap();
            }
            refs.push((w.write_chunk(Encoding::Xor, c.bytes()).unwrap(), c));
        }
        let n = w.finish().unwrap();
        assert!(n > 1, "expected several segments, got {n}");
        assert!(
            refs.windows(2).all(|p| p[0].0 < p[1].0),
            "refs must increase"
        );
        assert_eq!(refs[0].0, ChunkRef::new(0, 8));
        let r = ChunkReader::open(&cdir).unwrap();
        assert_eq!(r.num_segments(), n as usize);
        for (cref, c) in &refs {
            let (enc, data) = r.chunk(*cref).unwrap();
            assert_eq!(enc, Encoding::Xor);
            assert_eq!(data, c.bytes());
        }
        assert!(matches!(
            r.chunk(ChunkRef::new(99, 8)),
            Err(Error::BadReference { .. })
        ));
        assert!(matches!(
            r.chunk(ChunkRef::new(0, 1 << 30)),
            Err(Error::BadReference { .. })
        ));
    }

    #[test]
    fn damaged_segments_give_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::new(dir.path()).unwrap();
        let mut c = XorChunk::new();
        let mut a = c.appender().unwrap();
        for i in 0..30 {
            a.append(i * 7, i as f64 * 0.5).unwrap();
        }
        let r0 = w.write_chunk(Encoding::Xor, c.bytes()).unwrap();
        w.finish().unwrap();
        let path = dir.path().join("000001");
        let good = std::fs::read(&path).unwrap();
        // Bytes 5..8 are header padding, ignored by Prometheus and by us.
        for i in (0..good.len()).filter(|i| !(5..8).contains(i)) {
            let mut bad = good.clone();
            bad[i] ^= 0x41;
            std::fs::write(&path, &bad).unwrap();
            let res =
                ChunkReader::open(dir.path()).and_then(|r| r.chunk(r0).map(|(_, d)| d.to_vec()));
            assert!(res.is_err(), "flip at byte {i} went unnoticed");
        }
        for len in [0usize, 3, 7, 8, 9, good.len() - 1] {
            std::fs::write(&path, &good[..len]).unwrap();
            let res =
                ChunkReader::open(dir.path()).and_then(|r| r.chunk(r0).map(|(_, d)| d.to_vec()));
            assert!(res.is_err(), "truncation to {len} went unnoticed");
        }
        // A gap in segment numbers is an error.
        std::fs::write(&path, &good).unwrap();
        std::fs::write(dir.path().join("000003"), &good).unwrap();
        assert!(ChunkReader::open(dir.path()).is_err());
    }

    #[test]
    fn golden_segment_from_promtool() {
        // The chunk file of the promtool 2.42 example block (reference §4.3).
        let hex = "85bd40dd01000000\
            1a01 0004 80a0abfef962 4024000000000000 9875 d816da1703e9ac4f 4347d66b\
            1301 0002 80a0abfef962 3ff0000000000000 9875 00 bc49acdb\
            1501 0002 80a0abfef962 3ff0000000000000 9875 c457fe bbbe6aa2";
        let hex: String = hex.split_whitespace().collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(bytes.len(), 92);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("000001"), &bytes).unwrap();
        let r = ChunkReader::open(dir.path()).unwrap();
        for (off, n) in [(8u32, 4u16), (40, 2), (65, 2)] {
            let (_, data) = r.chunk(ChunkRef::new(0, off)).unwrap();
            assert_eq!(
                XorChunk::from_bytes(data.to_vec()).unwrap().num_samples(),
                n
            );
        }
        // Our writer produces the same bytes.
        let wdir = dir.path().join("ours");
        let mut w = ChunkWriter::new(&wdir).unwrap();
        for off in [8u32, 40, 65] {
            let (_, data) = r.chunk(ChunkRef::new(0, off)).unwrap();
            assert_eq!(
                w.write_chunk(Encoding::Xor, data).unwrap(),
                ChunkRef::new(0, off)
            );
        }
        w.finish().unwrap();
        assert_eq!(std::fs::read(wdir.join("000001")).unwrap(), bytes);
        // A flipped bit is caught by the CRC.
        drop(r);
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        std::fs::write(dir.path().join("000001"), &bad).unwrap();
        let r = ChunkReader::open(dir.path()).unwrap();
        assert!(matches!(
            r.chunk(ChunkRef::new(0, 8)),
            Err(Error::Checksum { .. })
        ));
    }
}
