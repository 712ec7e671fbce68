//! Writes chunk segment files.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{
    segment_file_name, ChunkRef, CHUNKS_FORMAT_V1, DEFAULT_SEGMENT_SIZE, MAGIC_CHUNKS,
    SEGMENT_HEADER_SIZE,
};
use crate::chunkenc::Encoding;
use crate::error::{Error, Result};
use crate::index::encoding::put_uvarint;

/// Appends chunks to `chunks/NNNNNN` segment files, starting a new file when the next chunk
/// would push the current one over the segment size (a single larger chunk still gets a file).
#[derive(Debug)]
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    /// Current file, its 0-based index, its path and its size so far.
    cur: Option<(BufWriter<File>, u32, PathBuf)>,
    cur_size: u64,
    next_index: u32,
    scratch: Vec<u8>,
}

impl ChunkWriter {
    /// Creates `dir` (if needed) and a writer with the default 512 MiB segment size.
    pub fn new(dir: &Path) -> Result<Self> {
        Self::with_segment_size(dir, DEFAULT_SEGMENT_SIZE)
    }

    /// Like [`new`](Self::new) with an explicit segment size (mostly for tests).
    pub fn with_segment_size(dir: &Path, segment_size: u64) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            segment_size,
            cur: None,
            cur_size: 0,
            next_index: 0,
            scratch: Vec::with_capacity(64),
        })
    }

    fn cut(&mut self) -> Result<()> {
        self.finish_current()?;
        let index = self.next_index;
        let path = self.dir.join(segment_file_name(index));
        let file = File::create(&path).map_err(|e| Error::io("create", &path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut header = Vec::with_capacity(8);
        header.extend_from_slice(&MAGIC_CHUNKS.to_be_bytes());
        header.push(CHUNKS_FORMAT_V1);
        header.extend_from_slice(&[0, 0, 0]);
        w.write_all(&header)
            .map_err(|e| Error::io("write", &path, e))?;
        self.cur = Some((w, index, path));
        self.cur_size = SEGMENT_HEADER_SIZE;
        self.next_index += 1;
        Ok(())
    }

    /// Writes one chunk and returns its reference.
    pub fn write_chunk(&mut self, encoding: Encoding, data: &[u8]) -> Result<ChunkRef> {
        self.scratch.clear();
        put_uvarint(&mut self.scratch, data.len() as u64);
        let total = self.scratch.len() as u64 + 1 + data.len() as u64 + 4;
        let need_cut = match self.cur {
            None => true,
            Some(_) => {
                self.cur_size > SEGMENT_HEADER_SIZE && self.cur_size + total > self.segment_size
            }
        };
        if need_cut {
            self.cut()?;
        }
        let offset = u32::try_from(self.cur_size).map_err(|_| Error::InvalidInput {
            writer: "chunk writer",
            reason: format!("segment offset {} exceeds 4 GiB", self.cur_size),
        })?;
        let enc = [encoding.as_u8()];
        let mut crc = crc32c::crc32c(&enc);
        crc = crc32c::crc32c_append(crc, data);
        let Some((w, index, path)) = self.cur.as_mut() else {
            return Err(Error::InvalidInput {
                writer: "chunk writer",
                reason: "no open segment".into(),
            });
        };
        let r = ChunkRef::new(*index, offset);
        let res = w
            .write_all(&self.scratch)
            .and_then(|()| w.write_all(&enc))
            .and_then(|()| w.write_all(data))
            .and_then(|()| w.write_all(&crc.to_be_bytes()));
        res.map_err(|e| Error::io("write", path.clone(), e))?;
        self.cur_size += total;
        Ok(r)
    }

    fn finish_current(&mut self) -> Result<()> {
        if let Some((w, _, path)) = self.cur.take() {
            let file = w
                .into_inner()
                .map_err(|e| Error::io("flush", &path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io("fsync", &path, e))?;
        }
        Ok(())
    }

    /// Flushes and fsyncs the last segment. Returns the number of segment files written.
    pub fn finish(mut self) -> Result<u32> {
        self.finish_current()?;
        Ok(self.next_index)
    }
}
