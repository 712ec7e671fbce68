//! Reading across the head and the persisted blocks over a time range.
//!
//! A [`Querier`] holds the head and the blocks that overlap its range (shared, so blocks
//! deleted by retention stay readable until the querier is dropped). [`Querier::select`]
//! returns [`QuerySeries`] sorted by labels; a series present in several blocks and the head
//! is one `QuerySeries` whose [`SeriesIterator`] merges them by time.

mod decode;
mod iter;

use std::collections::BTreeSet;
use std::sync::Arc;

use kagari_model::{Labels, Matcher};

pub use iter::SeriesIterator;

use crate::block::Block;
use crate::chunkenc::ValueType;
use crate::error::Result;
use crate::head::series::ClosedChunk;
use crate::head::Head;
use crate::index::ChunkMeta;
use crate::tombstones::Interval;
use iter::Src;

/// One source of a series' samples.
#[derive(Debug)]
enum Part {
    Head {
        chunks: Vec<ClosedChunk>,
        deleted: Vec<Interval>,
    },
    Block {
        block: Arc<Block>,
        chunks: Vec<ChunkMeta>,
        deleted: Vec<Interval>,
    },
}

impl Part {
    fn src(&self) -> (Src<'_>, &[Interval]) {
        match self {
            Part::Head { chunks, deleted } => (Src::Head(chunks), deleted),
            Part::Block {
                block,
                chunks,
                deleted,
            } => (Src::Block(block, chunks), deleted),
        }
    }
}

/// One encoded chunk of a queried series, as stored (XOR encoding, header included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryChunk<'a> {
    /// First sample time.
    pub min_time: i64,
    /// Last sample time.
    pub max_time: i64,
    /// The XOR chunk bytes.
    pub data: &'a [u8],
}

/// A series selected by a [`Querier`].
#[derive(Debug)]
pub struct QuerySeries {
    labels: Labels,
    parts: Vec<Part>,
    mint: i64,
    maxt: i64,
}

impl QuerySeries {
    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// A sample iterator over the querier's range.
    pub fn iter(&self) -> SeriesIterator<'_> {
        SeriesIterator::new(self.parts.iter().map(Part::src), self.mint, self.maxt)
    }

    /// All samples in the querier's range.
    pub fn samples(&self) -> Result<Vec<(i64, f64)>> {
        let mut it = self.iter();
        let mut out = Vec::new();
        while it.next() == ValueType::Float {
            out.push(it.at());
        }
        match it.take_err() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// The encoded chunks overlapping the range, per source in order (older blocks first, the
    /// head last). Chunks are returned whole: they may hold samples outside the range or
    /// deleted by tombstones.
    pub fn chunks(&self) -> Result<Vec<QueryChunk<'_>>> {
        let mut out = Vec::new();
        for p in &self.parts {
            let (src, _) = p.src();
            let mut i = 0;
            while let (Some((min_time, max_time)), Some(data)) = (src.range(i), src.bytes(i)?) {
                out.push(QueryChunk {
                    min_time,
                    max_time,
                    data,
                });
                i += 1;
            }
        }
        Ok(out)
    }
}

/// A read view over `[mint, maxt]` (inclusive) of the head and a set of blocks.
#[derive(Debug)]
pub struct Querier {
    head: Option<Arc<Head>>,
    blocks: Vec<Arc<Block>>,
    mint: i64,
    maxt: i64,
}

impl Querier {
    /// A querier over the given sources; blocks not overlapping `[mint, maxt]` are ignored.
    /// Pass blocks oldest first: on equal timestamps the earlier source wins.
    pub fn new(head: Option<Arc<Head>>, blocks: Vec<Arc<Block>>, mint: i64, maxt: i64) -> Self {
        let blocks = blocks
            .into_iter()
            .filter(|b| b.meta().min_time <= maxt && b.meta().max_time > mint)
            .collect();
        Querier {
            head: head.filter(|h| h.max_time() >= mint && h.min_time() <= maxt),
            blocks,
            mint,
            maxt,
        }
    }

    /// The time range.
    pub fn range(&self) -> (i64, i64) {
        (self.mint, self.maxt)
    }

    /// The series matching all `matchers` that have chunks in the range, sorted by labels.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<QuerySeries>> {
        let mut all: Vec<(Labels, Part)> = Vec::new();
        let mut metas = Vec::new();
        for block in &self.blocks {
            for r in block.index().postings_for_matchers(matchers)? {
                let labels = block.index().series(r, &mut metas)?;
                let chunks: Vec<ChunkMeta> = metas
                    .iter()
                    .filter(|c| c.max_time >= self.mint && c.min_time <= self.maxt)
                    .copied()
                    .collect();
                if chunks.is_empty() {
                    continue;
                }
                let deleted = block.tombstones().get(r).to_vec();
                all.push((
                    labels,
                    Part::Block {
                        block: block.clone(),
                        chunks,
                        deleted,
                    },
                ));
            }
        }
        if let Some(head) = &self.head {
            for s in head.select(matchers, self.mint, self.maxt) {
                all.push((
                    s.labels,
                    Part::Head {
                        chunks: s.chunks,
                        deleted: s.deleted,
                    },
                ));
            }
        }
        // Stable: parts of one series stay in source order (blocks oldest first, head last).
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<QuerySeries> = Vec::new();
        for (labels, part) in all {
            match out.last_mut() {
                Some(last) if last.labels == labels => last.parts.push(part),
                _ => out.push(QuerySeries {
                    labels,
                    parts: vec![part],
                    mint: self.mint,
                    maxt: self.maxt,
                }),
            }
        }
        Ok(out)
    }

    /// Sorted label names of the series matching `matchers` (all series for none).
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut set = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                set.extend(b.index().label_names().into_iter().map(str::to_string));
            }
            if let Some(h) = &self.head {
                set.extend(h.label_names());
            }
        } else {
            for s in self.select(matchers)? {
                set.extend(s.labels.iter().map(|l| l.name.to_string()));
            }
        }
        Ok(set.into_iter().collect())
    }

    /// Sorted values of label `name` on series matching `matchers` (all series for none).
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut set = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                set.extend(b.index().label_values(name).into_iter().map(str::to_string));
            }
            if let Some(h) = &self.head {
                set.extend(h.label_values(name));
            }
        } else {
            for s in self.select(matchers)? {
                if let Some(v) = s.labels.get(name) {
                    set.insert(v.to_string());
                }
            }
        }
        Ok(set.into_iter().collect())
    }
}
