//! Sample iterators over one queried series: one cursor per source (head or block), merged
//! by timestamp with duplicates (equal timestamps) removed.

use crate::block::Block;
use crate::chunkenc::{Encoding, ValueType};
use crate::error::{Error, Result};
use crate::head::series::ClosedChunk;
use crate::index::ChunkMeta;
use crate::tombstones::Interval;

use super::decode::decode_xor;

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
///
/// Chunks are decoded whole by the bulk decoder: into `buf` when they are read sample by
/// sample (seeks, merges, windows that end inside the chunk), or straight to the consumer by
/// [`PartIter::run`] when they lie wholly in the requested window.
#[derive(Debug)]
struct PartIter<'a> {
    src: Src<'a>,
    next_chunk: usize,
    /// Last sample time of the chunk in `buf`.
    cur_max: i64,
    /// The decoded samples of the current chunk, read from `bpos` on.
    buf: Vec<(i64, f64)>,
    bpos: usize,
    deleted: &'a [Interval],
    mint: i64,
    maxt: i64,
    /// The look-ahead sample not yet returned (`None` once exhausted).
    cur: Option<(i64, f64)>,
    /// Whether `cur` must be refilled before use (initially, and after it was returned).
    need: bool,
}

impl<'a> PartIter<'a> {
    fn new(src: Src<'a>, deleted: &'a [Interval], mint: i64, maxt: i64) -> Self {
        PartIter {
            src,
            next_chunk: 0,
            cur_max: i64::MIN,
            buf: Vec::new(),
            bpos: 0,
            deleted,
            mint,
            maxt,
            cur: None,
            need: true,
        }
    }

    fn advance(&mut self, err: &mut Option<Error>) {
        self.need = false;
        loop {
            if let Some(&(t, v)) = self.buf.get(self.bpos) {
                self.bpos += 1;
                if t < self.mint || self.deleted.iter().any(|iv| iv.contains(t)) {
                    continue;
                }
                if t > self.maxt {
                    break;
                }
                self.cur = Some((t, v));
                return;
            }
            if !self.load_next(err) {
                break;
            }
        }
        self.cur = None;
        self.next_chunk = self.src.len();
    }

    /// Decodes the next chunk into `buf`; false at the end or on error.
    fn load_next(&mut self, err: &mut Option<Error>) -> bool {
        let i = self.next_chunk;
        self.next_chunk += 1;
        self.buf.clear();
        self.bpos = 0;
        match self.src.bytes(i) {
            Ok(Some(data)) => {
                self.cur_max = self.src.range(i).map_or(i64::MAX, |r| r.1);
                if let Some(&[a, b]) = data.get(..2) {
                    self.buf.reserve(usize::from(u16::from_be_bytes([a, b])));
                }
                let buf = &mut self.buf;
                if let Err(e) = decode_xor(data, &mut |t, v| buf.push((t, v))) {
                    *err = Some(e);
                    return false;
                }
                true
            }
            Ok(None) => false,
            Err(e) => {
                *err = Some(e);
                false
            }
        }
    }

    /// Pushes this part's samples up to `limit`, starting with the look-ahead (which must
    /// be valid); stops with the first later sample as the look-ahead (or none at the end).
    fn run(&mut self, limit: i64, push: &mut impl FnMut(i64, f64), err: &mut Option<Error>) {
        loop {
            if self.need
                && self.cur.is_some()
                && self.deleted.is_empty()
                && self.cur_max <= limit.min(self.maxt)
            {
                // The sample just pushed lies in the range, and so does the rest of its
                // chunk (chunk samples ascend): push it out, then the following chunks that
                // lie wholly in the range, decoded straight to `push`.
                for &(t, v) in self.buf.get(self.bpos..).unwrap_or_default() {
                    push(t, v);
                    self.cur = Some((t, v));
                }
                self.bpos = self.buf.len();
                if !self.bulk(limit, push, err) {
                    return;
                }
            }
            if self.need {
                self.advance(err);
            }
            match self.cur {
                Some((t, v)) if t <= limit => {
                    push(t, v);
                    self.need = true;
                }
                _ => return,
            }
        }
    }

    /// With `buf` read out: decodes the following chunks that lie wholly in `[mint, min(limit,
    /// maxt)]` straight to `push`, leaving the last sample pushed as `cur` and `next_chunk`
    /// past them. False on an error (then stored in `err`, and the part is finished).
    fn bulk(
        &mut self,
        limit: i64,
        push: &mut impl FnMut(i64, f64),
        err: &mut Option<Error>,
    ) -> bool {
        let hi_ok = limit.min(self.maxt);
        while let Some((lo, hi)) = self.src.range(self.next_chunk) {
            if hi > hi_ok || lo < self.mint {
                break;
            }
            let data = match self.src.bytes(self.next_chunk) {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => return self.fail(e, err),
            };
            self.next_chunk += 1;
            let mut last = None;
            let res = decode_xor(data, &mut |t, v| {
                push(t, v);
                last = Some((t, v));
            });
            if let Err(e) = res {
                return self.fail(e, err);
            }
            if last.is_some() {
                self.cur = last;
            }
        }
        true
    }

    fn fail(&mut self, e: Error, err: &mut Option<Error>) -> bool {
        *err = Some(e);
        self.cur = None;
        self.need = false;
        self.next_chunk = self.src.len();
        false
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
            self.buf.clear();
            self.bpos = 0;
        }
        loop {
            // Jump over the decoded samples before `t`.
            if let Some(rest) = self.buf.get(self.bpos..) {
                self.bpos += rest.partition_point(|s| s.0 < t);
            }
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
                .map(|(src, deleted)| PartIter::new(src, deleted, mint, maxt))
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

    /// Bulk [`next`](Self::next): calls `push` with every sample up to `maxt` (inclusive) and
    /// stops on the first later sample or at the end, positioned there as if `next` had
    /// returned it; returns that sample's kind.
    ///
    /// Parts are not merged sample by sample: the part holding the earliest sample is read in
    /// one run up to the next sample of any other part (a series in consecutive blocks is read
    /// block after block), whole chunks inside the run decoded in a tight loop.
    pub fn next_floats(&mut self, maxt: i64, mut push: impl FnMut(i64, f64)) -> ValueType {
        loop {
            for p in &mut self.parts {
                if p.need {
                    p.advance(&mut self.err);
                }
            }
            if self.err.is_some() {
                return self.pick();
            }
            // The part with the earliest sample, and the earliest sample of the others.
            let mut best: Option<(usize, i64)> = None;
            let mut second = i64::MAX;
            for (i, p) in self.parts.iter().enumerate() {
                let Some((t, _)) = p.cur else { continue };
                match best {
                    Some((_, bt)) if t >= bt => second = second.min(t),
                    _ => {
                        if let Some((_, bt)) = best {
                            second = second.min(bt);
                        }
                        best = Some((i, t));
                    }
                }
            }
            let Some((i, t)) = best else {
                return self.pick();
            };
            if t > maxt {
                return self.pick();
            }
            if t == second {
                // Parts share this timestamp: let `pick` choose and advance them all.
                self.pick();
                push(self.cur.0, self.cur.1);
                continue;
            }
            if let Some(p) = self.parts.get_mut(i) {
                p.run(maxt.min(second - 1), &mut push, &mut self.err);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorChunk;

    /// A part of chunks of `per` samples each, from `(t, v)` pairs in time order.
    fn part(samples: &[(i64, f64)], per: usize) -> Vec<ClosedChunk> {
        samples
            .chunks(per)
            .map(|c| {
                let mut x = XorChunk::new();
                for &(t, v) in c {
                    x.append(t, v).unwrap();
                }
                let data: std::sync::Arc<[u8]> = x.into_bytes().into();
                ClosedChunk {
                    min_t: c.first().unwrap().0,
                    max_t: c.last().unwrap().0,
                    data: data.into(),
                }
            })
            .collect()
    }

    /// `next_floats` with any limit pushes exactly what `next` returns one by one, and leaves
    /// the iterator on the same sample: one part, consecutive parts, overlapping parts with
    /// shared timestamps (the earlier part wins), tombstones, and seeks into a chunk.
    #[test]
    fn next_floats_equals_next_one_by_one() {
        let a: Vec<(i64, f64)> = (0..300).map(|i| (i * 10, i as f64)).collect();
        let b: Vec<(i64, f64)> = (300..500).map(|i| (i * 10, i as f64)).collect();
        // Overlaps `a`'s end with some equal timestamps and other values.
        let c: Vec<(i64, f64)> = (0..100).map(|i| (2_500 + i * 15, -(i as f64))).collect();
        let (pa, pb, pc) = (part(&a, 120), part(&b, 120), part(&c, 30));
        let del = [Interval {
            min_time: 1_000,
            max_time: 1_200,
        }];
        let layouts: Vec<Vec<(Src<'_>, &[Interval])>> = vec![
            vec![(Src::Head(&pa), &[])],
            vec![(Src::Head(&pa), &del)],
            vec![(Src::Head(&pa), &[]), (Src::Head(&pb), &[])],
            vec![(Src::Head(&pa), &del), (Src::Head(&pb), &[])],
            vec![
                (Src::Head(&pa), &[]),
                (Src::Head(&pc), &[]),
                (Src::Head(&pb), &[]),
            ],
            vec![(Src::Head(&pc), &del), (Src::Head(&pa), &[])],
        ];
        for (n, parts) in layouts.iter().enumerate() {
            for (mint, maxt) in [(0, 10_000), (5, 4_444), (1_195, 3_000), (2_600, 2_700)] {
                for seek in [None, Some(mint + 7), Some(1_150), Some(2_555)] {
                    for limit in [mint - 1, mint + 100, 1_205, 2_999, 3_600, maxt, i64::MAX] {
                        let mk = || SeriesIterator::new(parts.iter().copied(), mint, maxt);
                        let (mut one, mut bulk) = (mk(), mk());
                        let start = match seek {
                            Some(t) => (one.seek(t), bulk.seek(t)),
                            None => (one.next(), bulk.next()),
                        };
                        assert_eq!(start.0, start.1);
                        let mut want = Vec::new();
                        let mut vt = start.0;
                        if vt == ValueType::Float && one.at().0 <= limit {
                            want.push(one.at());
                            loop {
                                vt = one.next();
                                if vt != ValueType::Float || one.at().0 > limit {
                                    break;
                                }
                                want.push(one.at());
                            }
                        }
                        let mut got = Vec::new();
                        let mut bvt = start.1;
                        if bvt == ValueType::Float && bulk.at().0 <= limit {
                            got.push(bulk.at());
                            bvt = bulk.next_floats(limit, |t, v| got.push((t, v)));
                        }
                        let ctx = format!("layout {n} [{mint},{maxt}] seek {seek:?} limit {limit}");
                        assert_eq!(got, want, "{ctx}");
                        assert_eq!(bvt, vt, "{ctx}");
                        if vt == ValueType::Float {
                            assert_eq!(bulk.at(), one.at(), "{ctx}");
                        }
                        // Both go on identically.
                        for _ in 0..5 {
                            let vt = one.next();
                            assert_eq!(bulk.next(), vt, "{ctx}");
                            if vt == ValueType::Float {
                                assert_eq!(bulk.at(), one.at(), "{ctx}");
                            }
                        }
                    }
                }
            }
        }
    }
}
