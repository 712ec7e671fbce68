//! Sample iterators over one queried series: one cursor per source (head or block), merged
//! by timestamp with duplicates (equal timestamps) removed.

use crate::block::Block;
use crate::chunkenc::{Encoding, ValueType, XorIterator};
use crate::error::{Error, Result};
use crate::head::series::ClosedChunk;
use crate::index::ChunkMeta;
use crate::tombstones::Interval;

/// Where a part's chunks live.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src<'a> {
    Head(&'a [ClosedChunk]),
    Block(&'a Block, &'a [ChunkMeta]),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::Head(c) => c.len(),
            Src::Block(_, c) => c.len(),
        }
    }

    /// `(min_time, max_time)` of chunk `i`.
    pub(crate) fn range(&self, i: usize) -> Option<(i64, i64)> {
        match self {
            Src::Head(c) => c.get(i).map(|c| (c.min_t, c.max_t)),
            Src::Block(_, c) => c.get(i).map(|c| (c.min_time, c.max_time)),
        }
    }

    /// The XOR bytes of chunk `i`.
    pub(crate) fn bytes(&self, i: usize) -> Result<Option<&'a [u8]>> {
        match self {
            Src::Head(c) => Ok(c.get(i).map(|c| &*c.data)),
            Src::Block(b, c) => {
                let Some(meta) = c.get(i) else {
                    return Ok(None);
                };
                match b.chunks().chunk(meta.chunk_ref)? {
                    (Encoding::Xor, data) => Ok(Some(data)),
                    (enc, _) => Err(Error::Unsupported {
                        file: b.dir().display().to_string(),
                        what: "chunk encoding",
                        found: u64::from(enc.as_u8()),
                    }),
                }
            }
        }
    }
}

/// A cursor over one part, holding its current sample (`cur`) as a look-ahead.
#[derive(Debug)]
struct PartIter<'a> {
    src: Src<'a>,
    next_chunk: usize,
    cur_max: i64,
    it: XorIterator<'a>,
    deleted: &'a [Interval],
    mint: i64,
    maxt: i64,
    /// The look-ahead sample not yet returned (`None` once exhausted).
    cur: Option<(i64, f64)>,
    /// Whether `cur` must be refilled before use (initially, and after it was returned).
    need: bool,
}

impl<'a> PartIter<'a> {
    fn advance(&mut self, err: &mut Option<Error>) {
        self.need = false;
        loop {
            if self.it.next() == ValueType::Float {
                let (t, v) = self.it.at();
                if t < self.mint || self.deleted.iter().any(|iv| iv.contains(t)) {
                    continue;
                }
                if t > self.maxt {
                    break;
                }
                self.cur = Some((t, v));
                return;
            }
            if let Some(e) = self.it.take_err() {
                *err = Some(e);
                break;
            }
            if !self.load_next(err) {
                break;
            }
        }
        self.cur = None;
        self.next_chunk = self.src.len();
    }

    /// Loads the next chunk; false at the end or on error.
    fn load_next(&mut self, err: &mut Option<Error>) -> bool {
        let i = self.next_chunk;
        self.next_chunk += 1;
        match self.src.bytes(i) {
            Ok(Some(data)) => {
                self.cur_max = self.src.range(i).map_or(i64::MAX, |r| r.1);
                self.it.reset(data);
                true
            }
            Ok(None) => false,
            Err(e) => {
                *err = Some(e);
                false
            }
        }
    }

    fn seek(&mut self, t: i64, err: &mut Option<Error>) {
        if !self.need && self.cur.is_none_or(|(ct, _)| ct >= t) {
            return;
        }
        if self.cur_max < t {
            // Skip whole chunks that end before `t` without decoding them.
            while self.src.range(self.next_chunk).is_some_and(|r| r.1 < t) {
                self.next_chunk += 1;
            }
            self.it.reset(&[]);
        }
        loop {
            self.advance(err);
            match self.cur {
                Some((ct, _)) if ct < t => continue,
                _ => return,
            }
        }
    }
}

/// Iterates the samples of a [`QuerySeries`](super::QuerySeries) in time order, restricted to
/// the querier's time range, with deleted samples removed.
///
/// Several parts (the same series in blocks and the head) are merged; when two parts hold a
/// sample at the same timestamp, the one from the earlier part (older block) is returned.
#[derive(Debug)]
pub struct SeriesIterator<'a> {
    parts: Vec<PartIter<'a>>,
    cur: (i64, f64),
    valid: bool,
    err: Option<Error>,
}

impl<'a> SeriesIterator<'a> {
    pub(crate) fn new(
        srcs: impl Iterator<Item = (Src<'a>, &'a [Interval])>,
        mint: i64,
        maxt: i64,
    ) -> Self {
        SeriesIterator {
            parts: srcs
                .map(|(src, deleted)| PartIter {
                    src,
                    next_chunk: 0,
                    cur_max: i64::MIN,
                    it: XorIterator::new(&[]),
                    deleted,
                    mint,
                    maxt,
                    cur: None,
                    need: true,
                })
                .collect(),
            cur: (i64::MIN, 0.0),
            valid: false,
            err: None,
        }
    }

    /// Picks the smallest look-ahead as the current sample and advances every part that
    /// holds that timestamp.
    fn pick(&mut self) -> ValueType {
        self.valid = false;
        if self.err.is_some() {
            return ValueType::None;
        }
        let mut best: Option<(i64, f64)> = None;
        for p in &self.parts {
            if let Some((t, v)) = p.cur {
                if best.is_none_or(|(bt, _)| t < bt) {
                    best = Some((t, v));
                }
            }
        }
        let Some((t, v)) = best else {
            return ValueType::None;
        };
        self.cur = (t, v);
        for p in &mut self.parts {
            if p.cur.is_some_and(|(pt, _)| pt == t) {
                p.need = true;
            }
        }
        self.valid = true;
        ValueType::Float
    }

    /// Advances to the next sample.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ValueType {
        for p in &mut self.parts {
            if p.need {
                p.advance(&mut self.err);
            }
        }
        self.pick()
    }

    /// Moves to the first sample at or after `t`; stays when the current one qualifies.
    pub fn seek(&mut self, t: i64) -> ValueType {
        if self.valid && self.cur.0 >= t {
            return ValueType::Float;
        }
        for p in &mut self.parts {
            p.seek(t, &mut self.err);
        }
        self.pick()
    }

    /// The current sample.
    pub fn at(&self) -> (i64, f64) {
        self.cur
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
