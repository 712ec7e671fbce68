//! Writing the block that merges parent blocks, series by series, as upstream's compactor
//! does: a chunk that overlaps no other chunk of its series is copied byte for byte; a run of
//! overlapping chunks (vertical compaction) is decoded, merged by timestamp keeping one sample
//! per timestamp (the chunk of the earlier parent wins) and re-encoded in chunks of at most 120
//! samples. Only one series' chunks are held at a time. Parents with tombstones go through
//! the querier's sample iterator instead (deleted samples dropped), re-encoding everything.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::block::{sync_dir, Block, BlockCompaction, BlockMeta, BlockStats, Ulid, META_VERSION};
use crate::chunkenc::{Encoding, ValueType, XorChunk, XorIterator, SAMPLES_PER_CHUNK};
use crate::chunks::{ChunkWriter, DEFAULT_SEGMENT_SIZE};
use crate::error::{Error, Result};
use crate::index::{ChunkMeta, IndexWriter};
use crate::querier::{Querier, QueryChunk};
use crate::tombstones::Tombstones;

/// Counts of what [`write_merged`] wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct MergeStats {
    pub(super) series: u64,
    pub(super) chunks: u64,
    pub(super) samples: u64,
    /// Chunks copied without decoding.
    pub(super) copied: u64,
}

/// Writes chunks to the block's chunk files and collects their metas for one series.
struct SeriesOut<'a> {
    cw: &'a mut ChunkWriter,
    metas: Vec<ChunkMeta>,
    stats: &'a mut MergeStats,
}

impl SeriesOut<'_> {
    fn raw(&mut self, min_time: i64, max_time: i64, data: &[u8], samples: u64) -> Result<()> {
        let chunk_ref = self.cw.write_chunk(Encoding::Xor, data)?;
        self.metas.push(ChunkMeta {
            min_time,
            max_time,
            chunk_ref,
        });
        self.stats.chunks += 1;
        self.stats.samples += samples;
        Ok(())
    }

    /// Encodes `samples` (strictly increasing times) in chunks of at most 120.
    fn encode(&mut self, samples: &[(i64, f64)]) -> Result<()> {
        for part in samples.chunks(SAMPLES_PER_CHUNK) {
            let (Some(first), Some(last)) = (part.first(), part.last()) else {
                continue;
            };
            let mut c = XorChunk::new();
            let mut app = c.appender()?;
            for &(t, v) in part {
                app.append(t, v)?;
            }
            self.raw(first.0, last.0, c.bytes(), part.len() as u64)?;
        }
        Ok(())
    }
}

/// Sample count in an XOR chunk's 2-byte header.
fn chunk_samples(data: &[u8]) -> u64 {
    match data {
        [a, b, ..] => u64::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    }
}

/// Decodes the chunks `run` (each with its source priority) and merges them by time into
/// `buf`, one sample per timestamp (the lowest priority number wins): a k-way merge of the
/// chunks' iterators, k being the few chunks of one overlapping run.
fn merge_run(run: &[(QueryChunk<'_>, usize)], buf: &mut Vec<(i64, f64)>) {
    struct Head<'a> {
        it: XorIterator<'a>,
        prio: usize,
        cur: Option<(i64, f64)>,
    }
    let advance = |h: &mut Head<'_>| {
        h.cur = (h.it.next() == ValueType::Float).then(|| h.it.at());
    };
    let mut heads: Vec<Head<'_>> = run
        .iter()
        .map(|(c, prio)| {
            let mut h = Head {
                it: XorIterator::new(c.data),
                prio: *prio,
                cur: None,
            };
            advance(&mut h);
            h
        })
        .collect();
    buf.clear();
    loop {
        let mut best: Option<(i64, usize, f64)> = None;
        for h in &heads {
            if let Some((t, v)) = h.cur {
                if best.is_none_or(|(bt, bp, _)| (t, h.prio) < (bt, bp)) {
                    best = Some((t, h.prio, v));
                }
            }
        }
        let Some((t, _, v)) = best else {
            return;
        };
        buf.push((t, v));
        for h in &mut heads {
            while h.cur.is_some_and(|(ht, _)| ht <= t) {
                advance(h);
            }
        }
    }
}

/// Writes one series: chunks sorted by min time; runs of overlapping chunks merged.
fn write_series(out: &mut SeriesOut<'_>, chunks: Vec<QueryChunk<'_>>) -> Result<()> {
    let mut chunks: Vec<(QueryChunk<'_>, usize)> = chunks.into_iter().zip(0..).collect();
    chunks.sort_by_key(|(c, prio)| (c.min_time, *prio));
    let mut buf = Vec::new();
    let mut i = 0;
    while let Some((first, _)) = chunks.get(i) {
        let mut run_max = first.max_time;
        let mut j = i + 1;
        while let Some((c, _)) = chunks.get(j).filter(|(c, _)| c.min_time <= run_max) {
            run_max = run_max.max(c.max_time);
            j += 1;
        }
        if j == i + 1 {
            out.raw(
                first.min_time,
                first.max_time,
                first.data,
                chunk_samples(first.data),
            )?;
            out.stats.copied += 1;
        } else {
            merge_run(chunks.get(i..j).unwrap_or_default(), &mut buf);
            out.encode(&buf)?;
        }
        i = j;
    }
    Ok(())
}

/// Writes the merge of `parents` over `[mint, maxt)` into `dir` (a new, empty directory):
/// chunks, index and an empty tombstones file; returns the counts. `None` when no sample is
/// left (nothing useful is in `dir` then).
fn write_contents(
    dir: &Path,
    parents: &[Arc<Block>],
    mint: i64,
    maxt: i64,
) -> Result<Option<MergeStats>> {
    let q = Querier::new(None, parents.to_vec(), mint, maxt.saturating_sub(1));
    let series = q.select(&[])?;
    let tombstones = parents.iter().any(|b| !b.tombstones().is_empty());
    let mut symbols: BTreeSet<&str> = BTreeSet::new();
    symbols.insert("");
    for s in &series {
        for l in s.labels().iter() {
            symbols.insert(&l.name);
            symbols.insert(&l.value);
        }
    }
    let mut cw = ChunkWriter::with_segment_size(&dir.join("chunks"), DEFAULT_SEGMENT_SIZE)?;
    let mut iw = IndexWriter::new(&dir.join("index"))?;
    iw.add_symbols(symbols.iter().copied())?;
    let mut stats = MergeStats::default();
    let mut samples = Vec::new();
    for s in &series {
        let mut out = SeriesOut {
            cw: &mut cw,
            metas: Vec::new(),
            stats: &mut stats,
        };
        if tombstones {
            samples.clear();
            let mut it = s.iter();
            while it.next() == ValueType::Float {
                samples.push(it.at());
            }
            if let Some(e) = it.take_err() {
                return Err(e);
            }
            out.encode(&samples)?;
        } else {
            write_series(&mut out, s.chunks()?)?;
        }
        let metas = out.metas;
        if !metas.is_empty() {
            iw.add_series(s.labels(), &metas)?;
            stats.series += 1;
        }
    }
    cw.finish()?;
    iw.finish()?;
    if stats.samples == 0 {
        return Ok(None);
    }
    Tombstones::new().write(dir)?;
    Ok(Some(stats))
}

/// Writes the block merging `parents` (sorted by `(min_time, ulid)`) under
/// `data_dir/<ULID>` through `<ULID>.tmp-for-creation` and a rename, with level = max parent
/// level + 1, the parents' sources and the parents themselves in its meta. `None` (and
/// nothing on disk) when no sample is left.
pub(super) fn write_merged(
    data_dir: &Path,
    parents: &[Arc<Block>],
) -> Result<Option<(BlockMeta, MergeStats)>> {
    let mint = parents.iter().map(|b| b.meta().min_time).min().unwrap_or(0);
    let maxt = parents.iter().map(|b| b.meta().max_time).max().unwrap_or(1);
    let ulid = Ulid::new();
    let name = ulid.to_string();
    let tmp = data_dir.join(format!("{name}.tmp-for-creation"));
    let dir = data_dir.join(&name);
    fs::create_dir_all(&tmp).map_err(|e| Error::io("create dir", &tmp, e))?;
    let written = match write_contents(&tmp, parents, mint, maxt) {
        Ok(Some(stats)) => stats,
        Ok(None) => {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove dir", &tmp, e))?;
            return Ok(None);
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let mut sources: Vec<Ulid> = parents
        .iter()
        .flat_map(|b| b.meta().compaction.sources.iter().copied())
        .collect();
    sources.sort();
    sources.dedup();
    let meta = BlockMeta {
        ulid,
        min_time: mint,
        max_time: maxt,
        stats: BlockStats {
            num_samples: written.samples,
            num_series: written.series,
            num_chunks: written.chunks,
            ..Default::default()
        },
        compaction: BlockCompaction {
            level: parents
                .iter()
                .map(|b| b.meta().compaction.level)
                .max()
                .unwrap_or(1)
                + 1,
            sources,
            parents: parents
                .iter()
                .map(|b| crate::block::BlockDesc {
                    ulid: b.meta().ulid,
                    min_time: b.meta().min_time,
                    max_time: b.meta().max_time,
                })
                .collect(),
            ..Default::default()
        },
        version: META_VERSION,
    };
    meta.write(&tmp)?;
    sync_dir(&tmp)?;
    fs::rename(&tmp, &dir).map_err(|e| Error::io("rename", &tmp, e))?;
    sync_dir(data_dir)?;
    Ok(Some((meta, written)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockWriter;

    const H: i64 = 3_600_000;

    fn block(dir: &Path, mint: i64, maxt: i64, step: i64, sign: f64) -> Arc<Block> {
        let mut w = BlockWriter::new();
        w.set_time_range(mint, maxt).unwrap();
        for s in ["a", "b"] {
            let l = kagari_model::Labels::from_pairs([("s", s)]).unwrap();
            let samples: Vec<(i64, f64)> = (0..)
                .map(|i| mint + i * step)
                .take_while(|&t| t < maxt)
                .map(|t| (t, sign * (t / 1000) as f64))
                .collect();
            w.add_series(l, &samples).unwrap();
        }
        let meta = w.write(dir).unwrap();
        Arc::new(Block::open(&dir.join(meta.ulid.to_string())).unwrap())
    }

    fn all_chunks(b: &Block) -> Vec<Vec<u8>> {
        let q = Querier::new(
            None,
            vec![Arc::new(Block::open(b.dir()).unwrap())],
            i64::MIN,
            i64::MAX,
        );
        let mut out = Vec::new();
        for s in q.select(&[]).unwrap() {
            for c in s.chunks().unwrap() {
                out.push(c.data.to_vec());
            }
        }
        out
    }

    #[test]
    fn adjacent_blocks_are_merged_by_copying_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = [
            block(dir.path(), 0, 2 * H, 15_000, 1.0),
            block(dir.path(), 2 * H, 4 * H, 15_000, 1.0),
        ];
        let (meta, st) = write_merged(dir.path(), &p).unwrap().unwrap();
        assert_eq!(st.copied, st.chunks);
        assert_eq!(st.samples, 2 * 4 * H as u64 / 15_000);
        assert_eq!((meta.min_time, meta.max_time), (0, 4 * H));
        let merged = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
        let mut want = Vec::new();
        // Series a's chunks of both parents, then series b's.
        for s in 0..2 {
            for b in &p {
                let c = all_chunks(b);
                want.extend(c[s * c.len() / 2..(s + 1) * c.len() / 2].to_vec());
            }
        }
        assert_eq!(all_chunks(&merged), want);
        assert_eq!(meta.stats.num_samples, st.samples);
    }

    #[test]
    fn overlapping_chunks_are_merged_with_the_earlier_block_winning() {
        let dir = tempfile::tempdir().unwrap();
        // Both blocks cover [0, 2h); the second has other values and every 10 s.
        let p = [
            block(dir.path(), 0, 2 * H, 15_000, 1.0),
            block(dir.path(), 0, 2 * H, 10_000, -1.0),
        ];
        let (meta, st) = write_merged(dir.path(), &p).unwrap().unwrap();
        assert_eq!(st.copied, 0);
        let per_series = (2 * H / 15_000 + 2 * H / 10_000 - 2 * H / 30_000) as u64;
        assert_eq!(st.samples, 2 * per_series);
        let merged = Arc::new(Block::open(&dir.path().join(meta.ulid.to_string())).unwrap());
        let q = Querier::new(None, vec![merged], i64::MIN, i64::MAX);
        for s in q.select(&[]).unwrap() {
            let got = s.samples().unwrap();
            assert_eq!(got.len() as u64, per_series);
            for (t, v) in got {
                let from_first = t % 15_000 == 0;
                assert_eq!(v, if from_first { 1.0 } else { -1.0 } * (t / 1000) as f64);
            }
        }
    }
}
