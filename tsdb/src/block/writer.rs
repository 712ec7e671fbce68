//! Writes a complete block directory from series and their samples.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use kagari_model::Labels;

use super::{sync_dir, BlockCompaction, BlockMeta, BlockStats, Ulid, META_VERSION};
use crate::chunkenc::{Encoding, XorChunk, SAMPLES_PER_CHUNK};
use crate::chunks::{ChunkRef, ChunkWriter, DEFAULT_SEGMENT_SIZE};
use crate::error::{Error, Result};
use crate::index::{ChunkMeta, IndexWriter};
use crate::tombstones::Tombstones;

const WRITER: &str = "block writer";

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        writer: WRITER,
        reason: reason.into(),
    }
}

#[derive(Debug)]
struct EncodedChunk {
    min_time: i64,
    max_time: i64,
    chunk: XorChunk,
}

/// Collects series (samples are encoded into XOR chunks of at most 120 samples as they are
/// added) and writes them as one level-1 block.
///
/// ```
/// use kagari_model::Labels;
/// use kagari_tsdb::block::{Block, BlockWriter};
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut w = BlockWriter::new();
/// w.add_series(Labels::from_pairs([("__name__", "up")]).unwrap(), &[(1000, 1.0), (2000, 0.0)]).unwrap();
/// let meta = w.write(dir.path()).unwrap();
/// assert_eq!((meta.min_time, meta.max_time, meta.stats.num_samples), (1000, 2001, 2));
/// let block = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
/// assert_eq!(block.meta().stats.num_series, 1);
/// ```
#[derive(Debug, Default)]
pub struct BlockWriter {
    series: Vec<(Labels, Vec<EncodedChunk>)>,
    num_samples: u64,
    min_time: i64,
    max_time: i64,
    range: Option<(i64, i64)>,
    segment_size: Option<u64>,
}

impl BlockWriter {
    /// An empty writer.
    pub fn new() -> Self {
        BlockWriter {
            min_time: i64::MAX,
            max_time: i64::MIN,
            ..Default::default()
        }
    }

    /// Sets the block's time range `[min_time, max_time)` explicitly (for example aligned to
    /// 2 h). Without it the range is first sample .. last sample + 1, as promtool writes it.
    pub fn set_time_range(&mut self, min_time: i64, max_time: i64) -> Result<()> {
        if min_time >= max_time {
            return Err(invalid(format!(
                "empty time range [{min_time}, {max_time})"
            )));
        }
        self.range = Some((min_time, max_time));
        Ok(())
    }

    /// Sets the chunk segment file size (default 512 MiB).
    pub fn set_segment_size(&mut self, bytes: u64) {
        self.segment_size = Some(bytes);
    }

    /// Adds one series with samples sorted by strictly increasing time. A series without
    /// samples is skipped, as Prometheus does; an empty label set is an error.
    pub fn add_series(&mut self, labels: Labels, samples: &[(i64, f64)]) -> Result<()> {
        if labels.is_empty() {
            return Err(invalid("series with an empty label set"));
        }
        if samples.is_empty() {
            return Ok(());
        }
        let mut chunks = Vec::with_capacity(samples.len().div_ceil(SAMPLES_PER_CHUNK));
        for part in samples.chunks(SAMPLES_PER_CHUNK) {
            let mut chunk = XorChunk::new();
            let mut app = chunk.appender()?;
            for &(t, v) in part {
                app.append(t, v).map_err(|_| {
                    invalid(format!(
                        "samples of {labels} not strictly increasing at {t}"
                    ))
                })?;
            }
            let (Some(first), Some(last)) = (part.first(), part.last()) else {
                continue;
            };
            chunks.push(EncodedChunk {
                min_time: first.0,
                max_time: last.0,
                chunk,
            });
        }
        // Chunk boundaries: the next chunk must start after the previous one ends.
        if chunks.windows(2).any(|w| w[1].min_time <= w[0].max_time) {
            return Err(invalid(format!(
                "samples of {labels} not strictly increasing"
            )));
        }
        if let (Some(f), Some(l)) = (samples.first(), samples.last()) {
            self.min_time = self.min_time.min(f.0);
            self.max_time = self.max_time.max(l.0);
        }
        self.num_samples += samples.len() as u64;
        self.series.push((labels, chunks));
        Ok(())
    }

    /// Writes the block under `data_dir/<ULID>` (through `<ULID>.tmp-for-creation` and a rename)
    /// and returns its meta. Fails if no samples were added or two series have the same labels.
    pub fn write(mut self, data_dir: &Path) -> Result<BlockMeta> {
        if self.num_samples == 0 {
            return Err(invalid("a block needs at least one sample"));
        }
        let (min_time, max_time) = match self.range {
            Some((lo, hi)) => {
                if self.min_time < lo || self.max_time >= hi {
                    return Err(invalid(format!(
                        "samples span [{}, {}] outside the block range [{lo}, {hi})",
                        self.min_time, self.max_time
                    )));
                }
                (lo, hi)
            }
            None => (self.min_time, self.max_time.saturating_add(1)),
        };
        self.series.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = self.series.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(invalid(format!("duplicate series {}", w[0].0)));
        }

        let ulid = Ulid::new();
        let name = ulid.to_string();
        let tmp = data_dir.join(format!("{name}.tmp-for-creation"));
        let dir = data_dir.join(&name);
        fs::create_dir_all(&tmp).map_err(|e| Error::io("create dir", &tmp, e))?;
        let result = self.write_contents(&tmp, ulid, min_time, max_time);
        let meta = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        sync_dir(&tmp)?;
        fs::rename(&tmp, &dir).map_err(|e| Error::io("rename", &tmp, e))?;
        sync_dir(data_dir)?;
        Ok(meta)
    }

    fn write_contents(
        &self,
        dir: &Path,
        ulid: Ulid,
        min_time: i64,
        max_time: i64,
    ) -> Result<BlockMeta> {
        let mut cw = ChunkWriter::with_segment_size(
            &dir.join("chunks"),
            self.segment_size.unwrap_or(DEFAULT_SEGMENT_SIZE),
        )?;
        let mut metas: Vec<Vec<ChunkMeta>> = Vec::with_capacity(self.series.len());
        let mut num_chunks = 0u64;
        for (_, chunks) in &self.series {
            let mut m = Vec::with_capacity(chunks.len());
            for c in chunks {
                let r: ChunkRef = cw.write_chunk(Encoding::Xor, c.chunk.bytes())?;
                m.push(ChunkMeta {
                    min_time: c.min_time,
                    max_time: c.max_time,
                    chunk_ref: r,
                });
            }
            num_chunks += m.len() as u64;
            metas.push(m);
        }
        cw.finish()?;

        let mut symbols: BTreeSet<&str> = BTreeSet::new();
        symbols.insert("");
        for (labels, _) in &self.series {
            for l in labels.iter() {
                symbols.insert(&l.name);
                symbols.insert(&l.value);
            }
        }
        let mut iw = IndexWriter::new(&dir.join("index"))?;
        iw.add_symbols(symbols.iter().copied())?;
        for ((labels, _), m) in self.series.iter().zip(&metas) {
            iw.add_series(labels, m)?;
        }
        iw.finish()?;

        let meta = BlockMeta {
            ulid,
            min_time,
            max_time,
            stats: BlockStats {
                num_samples: self.num_samples,
                num_series: self.series.len() as u64,
                num_chunks,
                ..Default::default()
            },
            compaction: BlockCompaction {
                level: 1,
                sources: vec![ulid],
                ..Default::default()
            },
            version: META_VERSION,
        };
        meta.write(dir)?;
        Tombstones::new().write(dir)?;
        Ok(meta)
    }
}
