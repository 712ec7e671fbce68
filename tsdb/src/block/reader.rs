//! Opens a block directory and reads its series, chunks and samples.

use std::fs;
use std::path::{Path, PathBuf};

use kagari_model::{Labels, Matcher};

use super::{BlockMeta, Ulid};
use crate::chunkenc::{Encoding, ValueType, XorIterator};
use crate::chunks::ChunkReader;
use crate::error::{Error, Result};
use crate::index::{ChunkMeta, IndexReader, SeriesRef};
use crate::tombstones::{Interval, Tombstones};

/// An open, immutable block: meta, index, chunk files (memory-mapped) and tombstones.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
}

impl Block {
    /// Opens the block in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join("index"))?;
        let chunks = ChunkReader::open(&dir.join("chunks"))?;
        let tombstones = Tombstones::read(dir)?;
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            tombstones,
        })
    }

    /// The block directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed `meta.json`.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The index.
    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    /// The chunk files.
    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }

    /// The tombstones (deleted intervals).
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// The series matching all `matchers` (every series for none), in label order.
    pub fn select(&self, matchers: &[Matcher]) -> Result<SeriesSet<'_>> {
        let refs = self.index.postings_for_matchers(matchers)?;
        Ok(SeriesSet {
            block: self,
            refs: refs.into_iter(),
        })
    }

    /// One series by reference.
    pub fn series(&self, r: SeriesRef) -> Result<BlockSeries<'_>> {
        let mut chunks = Vec::new();
        let labels = self.index.series(r, &mut chunks)?;
        Ok(BlockSeries {
            block: self,
            series_ref: r,
            labels,
            chunks,
        })
    }
}

/// Iterator over the series selected by [`Block::select`].
#[derive(Debug)]
pub struct SeriesSet<'a> {
    block: &'a Block,
    refs: std::vec::IntoIter<SeriesRef>,
}

impl<'a> Iterator for SeriesSet<'a> {
    type Item = Result<BlockSeries<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        let r = self.refs.next()?;
        Some(self.block.series(r))
    }
}

/// One series of a block: labels and chunk metas; samples are decoded on demand.
#[derive(Debug)]
pub struct BlockSeries<'a> {
    block: &'a Block,
    /// The series reference in the block's index.
    pub series_ref: SeriesRef,
    /// The series labels.
    pub labels: Labels,
    /// Its chunks, sorted by time.
    pub chunks: Vec<ChunkMeta>,
}

impl<'a> BlockSeries<'a> {
    /// Iterates the samples of all chunks, skipping those deleted by tombstones.
    pub fn iter(&self) -> SampleIter<'a> {
        SampleIter {
            block: self.block,
            chunks: self.chunks.clone().into_iter(),
            deleted: self.block.tombstones.get(self.series_ref).to_vec(),
            it: XorIterator::new(&[]),
            cur_max: i64::MIN,
            valid: false,
            err: None,
        }
    }

    /// All (non-deleted) samples.
    pub fn samples(&self) -> Result<Vec<(i64, f64)>> {
        let mut out = Vec::new();
        let mut it = self.iter();
        while it.next() == ValueType::Float {
            out.push(it.at());
        }
        match it.take_err() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// Sample iterator over a series' chunks; one [`XorIterator`] is reused for every chunk.
#[derive(Debug)]
pub struct SampleIter<'a> {
    block: &'a Block,
    chunks: std::vec::IntoIter<ChunkMeta>,
    deleted: Vec<Interval>,
    it: XorIterator<'a>,
    /// Max time of the chunk being decoded.
    cur_max: i64,
    /// Whether the iterator is positioned on a sample.
    valid: bool,
    err: Option<Error>,
}

impl SampleIter<'_> {
    /// Advances to the next sample.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ValueType {
        let vt = self.advance();
        self.valid = vt == ValueType::Float;
        vt
    }

    /// Moves to the first sample at or after `t` (staying put if already there); chunks that
    /// end before `t` are skipped without being decoded.
    pub fn seek(&mut self, t: i64) -> ValueType {
        if self.valid && self.it.at_t() >= t {
            return ValueType::Float;
        }
        if !self.valid || self.cur_max < t {
            while self
                .chunks
                .as_slice()
                .first()
                .is_some_and(|m| m.max_time < t)
            {
                self.chunks.next();
            }
            self.it.reset(&[]);
        }
        while self.next() == ValueType::Float {
            if self.it.at_t() >= t {
                return ValueType::Float;
            }
        }
        ValueType::None
    }

    fn advance(&mut self) -> ValueType {
        loop {
            if self.err.is_some() {
                return ValueType::None;
            }
            if self.it.next() == ValueType::Float {
                let t = self.it.at_t();
                if self.deleted.iter().any(|iv| iv.contains(t)) {
                    continue;
                }
                return ValueType::Float;
            }
            if let Some(e) = self.it.take_err() {
                self.err = Some(e);
                return ValueType::None;
            }
            let Some(meta) = self.chunks.next() else {
                return ValueType::None;
            };
            self.cur_max = meta.max_time;
            match self.block.chunks.chunk(meta.chunk_ref) {
                Ok((Encoding::Xor, data)) => self.it.reset(data),
                Ok((enc, _)) => {
                    self.err = Some(Error::Unsupported {
                        file: self.block.dir.display().to_string(),
                        what: "chunk encoding",
                        found: u64::from(enc.as_u8()),
                    });
                }
                Err(e) => self.err = Some(e),
            }
        }
    }

    /// The current sample.
    pub fn at(&self) -> (i64, f64) {
        self.it.at()
    }

    /// The error that ended iteration, if any.
    pub fn err(&self) -> Option<&Error> {
        self.err.as_ref()
    }

    /// Takes the error out.
    pub fn take_err(&mut self) -> Option<Error> {
        self.err.take()
    }
}

/// Opens every block directory (name = ULID) in `data_dir`, sorted by min time.
pub fn open_blocks(data_dir: &Path) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    for entry in fs::read_dir(data_dir).map_err(|e| Error::io("read dir", data_dir, e))? {
        let entry = entry.map_err(|e| Error::io("read dir", data_dir, e))?;
        let is_block = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.parse::<Ulid>().is_ok());
        if is_block && entry.path().is_dir() {
            blocks.push(Block::open(&entry.path())?);
        }
    }
    blocks.sort_by_key(|b| (b.meta.min_time, b.meta.ulid));
    Ok(blocks)
}
