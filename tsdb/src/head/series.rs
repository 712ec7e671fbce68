//! One in-memory series: its labels, closed XOR chunks and the open chunk being appended to.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use kagari_model::Labels;
use parking_lot::Mutex;

use crate::chunkenc::{XorChunk, SAMPLES_PER_CHUNK};
use crate::chunks_head::ChunkBytes;
use crate::error::{Error, Result};

/// A head series reference: allocated from a monotonic counter, never reused while the
/// process runs, and the same number that appears in WAL records.
pub type SeriesRef = u64;

/// A chunk is re-estimated when it holds this many samples (upstream: a quarter of the target).
const ESTIMATE_AT: u16 = (SAMPLES_PER_CHUNK / 4) as u16;
/// Hard cap on samples per chunk (upstream cuts at twice the target).
const MAX_SAMPLES: u16 = (SAMPLES_PER_CHUNK * 2) as u16;
/// Newer Prometheus versions cut a chunk that has grown past this many bytes.
const MAX_CHUNK_BYTES: usize = 1005;

/// A chunk that no longer receives samples; shared with queriers without copying.
#[derive(Debug, Clone)]
pub(crate) struct ClosedChunk {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    /// Heap bytes, or a view into `chunks_head/` once written there (see `head::chunks_disk`).
    pub(crate) data: crate::chunks_head::ChunkBytes,
}

/// The chunk currently appended to.
#[derive(Debug)]
pub(crate) struct OpenChunk {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    /// Cut a new chunk at or after this timestamp.
    next_at: i64,
    pub(crate) chunk: XorChunk,
}

/// The mutable part of a series, behind the series lock.
#[derive(Debug)]
pub(crate) struct SeriesState {
    pub(crate) closed: Vec<ClosedChunk>,
    pub(crate) open: Option<OpenChunk>,
    /// Timestamp of the newest sample ever appended (kept after truncation, for ordering).
    pub(crate) max_t: i64,
    /// Bit pattern of the newest sample's value.
    pub(crate) last_bits: u64,
    /// The open transaction that last added a sample of this series.
    pub(crate) tx: TxSlot,
}

/// Which open append transaction last added a sample of this series, and at which index of
/// its series list, so an appender finds "this series is already in my transaction" without
/// a map of its own (the transaction keeps the newest pending sample per index). Transaction
/// ids are never reused; when two open transactions append to one series, the later
/// overwrites the slot and the earlier adds the series again with the committed state (its
/// commit re-validates every sample anyway).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TxSlot {
    /// Transaction id (0: none).
    pub(crate) id: u64,
    /// Index of the series in that transaction.
    pub(crate) idx: u32,
}

/// What appending a sample with timestamp `t` to a series would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A new, newer sample.
    Append,
    /// The same timestamp and value bits as the newest sample: dropped silently.
    Duplicate,
}

/// Upstream's in-order appendability rules against the newest sample `(max_t, last_bits)`.
pub(crate) fn check_order(
    series_ref: SeriesRef,
    max_t: i64,
    last_bits: u64,
    t: i64,
    v: f64,
) -> Result<Verdict> {
    if t > max_t {
        Ok(Verdict::Append)
    } else if t == max_t {
        if v.to_bits() == last_bits {
            Ok(Verdict::Duplicate)
        } else {
            Err(Error::DuplicateSampleForTimestamp { series_ref, t })
        }
    } else {
        Err(Error::OutOfOrderSample {
            series_ref,
            t,
            max_t,
        })
    }
}

/// The end (exclusive) of the `width`-aligned range holding `t`.
pub(crate) fn range_end(t: i64, width: i64) -> i64 {
    let width = width.max(1);
    t.div_euclid(width)
        .saturating_mul(width)
        .saturating_add(width)
}

/// Upstream's `computeChunkEndTime`: spreads the rest of the range over chunks of equal size.
fn compute_chunk_end(start: i64, cur: i64, max: i64) -> i64 {
    let n = (max - start) as f64 / ((cur - start + 1) as f64 * 4.0);
    if n <= 1.0 {
        return max;
    }
    (start as f64 + (max - start) as f64 / n.floor()) as i64
}

/// A head series.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub(crate) series_ref: SeriesRef,
    pub(crate) labels: Labels,
    pub(crate) state: Mutex<SeriesState>,
    /// Whether its series record is in the WAL.
    pub(crate) logged: AtomicBool,
}

impl MemSeries {
    pub(crate) fn new(series_ref: SeriesRef, labels: Labels, logged: bool) -> Self {
        MemSeries {
            series_ref,
            labels,
            state: Mutex::new(SeriesState {
                closed: Vec::new(),
                open: None,
                max_t: i64::MIN,
                last_bits: 0,
                tx: TxSlot::default(),
            }),
            logged: AtomicBool::new(logged),
        }
    }
}

impl SeriesState {
    /// Appends a sample already checked with [`check_order`]; returns whether a new chunk was
    /// started. `chunk_range` is the head chunk range (2 h): chunks never cross its multiples.
    pub(crate) fn append(&mut self, t: i64, v: f64, chunk_range: i64) -> Result<bool> {
        self.append_with(t, v, chunk_range, |_, _, _| None)
    }

    /// [`append`](Self::append), handing a chunk that is cut to `store` first: given its
    /// `(min_t, max_t, bytes)` it may write them elsewhere (`chunks_head/`) and return where;
    /// with `None` the closed chunk is copied to the heap. The open chunk's buffer is reused
    /// for the next chunk, so a cut written to `chunks_head/` allocates nothing.
    #[inline]
    pub(crate) fn append_with(
        &mut self,
        t: i64,
        v: f64,
        chunk_range: i64,
        store: impl FnOnce(i64, i64, &[u8]) -> Option<ChunkBytes>,
    ) -> Result<bool> {
        let mut cut = false;
        match self.open.as_mut() {
            None => {
                self.open = Some(OpenChunk {
                    min_t: t,
                    max_t: t,
                    next_at: range_end(t, chunk_range),
                    chunk: XorChunk::new(),
                });
                cut = true;
            }
            Some(o) => {
                let n = o.chunk.num_samples();
                if t >= o.next_at || n >= MAX_SAMPLES || o.chunk.bytes().len() > MAX_CHUNK_BYTES {
                    let bytes = o.chunk.bytes();
                    let data = store(o.min_t, o.max_t, bytes)
                        .unwrap_or_else(|| Arc::<[u8]>::from(bytes).into());
                    self.closed.push(ClosedChunk {
                        min_t: o.min_t,
                        max_t: o.max_t,
                        data,
                    });
                    o.chunk.clear();
                    o.min_t = t;
                    o.max_t = t;
                    o.next_at = range_end(t, chunk_range);
                    cut = true;
                }
            }
        }
        let Some(o) = self.open.as_mut() else {
            return Ok(cut);
        };
        o.chunk.append(t, v)?;
        o.max_t = t;
        if o.chunk.num_samples() == ESTIMATE_AT {
            o.next_at = compute_chunk_end(o.min_t, t, o.next_at);
        }
        self.max_t = t;
        self.last_bits = v.to_bits();
        Ok(cut)
    }

    /// Drops every chunk that ends before `mint`; returns how many were dropped.
    pub(crate) fn truncate_before(&mut self, mint: i64) -> usize {
        let before = self.closed.len();
        self.closed.retain(|c| c.max_t >= mint);
        let mut dropped = before - self.closed.len();
        if self.open.as_ref().is_some_and(|o| o.max_t < mint) {
            self.open = None;
            dropped += 1;
        }
        dropped
    }

    /// Whether the series holds no samples.
    pub(crate) fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_none()
    }

    /// Timestamp of the oldest sample held.
    pub(crate) fn min_time(&self) -> Option<i64> {
        self.closed
            .first()
            .map(|c| c.min_t)
            .or(self.open.as_ref().map(|o| o.min_t))
    }

    /// Copies (by reference for closed chunks) the chunks overlapping `[mint, maxt]`.
    pub(crate) fn chunks_in(&self, mint: i64, maxt: i64, out: &mut Vec<ClosedChunk>) {
        out.extend(
            self.closed
                .iter()
                .filter(|c| c.max_t >= mint && c.min_t <= maxt)
                .cloned(),
        );
        if let Some(o) = &self.open {
            if o.max_t >= mint && o.min_t <= maxt {
                out.push(ClosedChunk {
                    min_t: o.min_t,
                    max_t: o.max_t,
                    data: Arc::<[u8]>::from(o.chunk.bytes()).into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::ValueType;
    use crate::chunkenc::XorIterator;

    const HOUR: i64 = 3_600_000;

    fn state() -> SeriesState {
        MemSeries::new(1, Labels::empty(), false).state.into_inner()
    }

    fn all_samples(s: &SeriesState) -> Vec<(i64, f64)> {
        let mut chunks = Vec::new();
        s.chunks_in(i64::MIN, i64::MAX, &mut chunks);
        let mut out = Vec::new();
        for c in &chunks {
            let mut it = XorIterator::new(&c.data);
            while it.next() == ValueType::Float {
                out.push(it.at());
            }
        }
        out
    }

    #[test]
    fn order_rules() {
        assert_eq!(
            check_order(1, 10, 1.0f64.to_bits(), 11, 0.0).unwrap(),
            Verdict::Append
        );
        assert_eq!(
            check_order(1, 10, 1.0f64.to_bits(), 10, 1.0).unwrap(),
            Verdict::Duplicate
        );
        assert!(matches!(
            check_order(1, 10, 1.0f64.to_bits(), 10, 2.0),
            Err(Error::DuplicateSampleForTimestamp {
                series_ref: 1,
                t: 10
            })
        ));
        assert!(matches!(
            check_order(7, 10, 0, 9, 0.0),
            Err(Error::OutOfOrderSample {
                series_ref: 7,
                t: 9,
                max_t: 10
            })
        ));
    }

    #[test]
    fn steady_15s_scrapes_cut_at_120_samples() {
        let mut s = state();
        // 15 s interval: 480 samples per 2 h; upstream cuts 4 chunks of 120.
        for i in 0..480 {
            s.append(i * 15_000, i as f64, 2 * HOUR).unwrap();
        }
        let mut chunks = Vec::new();
        s.chunks_in(i64::MIN, i64::MAX, &mut chunks);
        let counts: Vec<u16> = chunks
            .iter()
            .map(|c| u16::from_be_bytes([c.data[0], c.data[1]]))
            .collect();
        assert_eq!(counts, vec![120, 120, 120, 120]);
        assert_eq!(all_samples(&s).len(), 480);
    }

    #[test]
    fn chunks_never_cross_the_chunk_range_boundary() {
        let mut s = state();
        // Start 10 samples before the 2 h boundary, 60 s apart.
        let start = 2 * HOUR - 10 * 60_000;
        for i in 0..20 {
            s.append(start + i * 60_000, 1.0, 2 * HOUR).unwrap();
        }
        let mut chunks = Vec::new();
        s.chunks_in(i64::MIN, i64::MAX, &mut chunks);
        assert_eq!(chunks.len(), 2);
        assert!(chunks[0].max_t < 2 * HOUR);
        assert_eq!(chunks[1].min_t, 2 * HOUR);
    }

    #[test]
    fn stale_nan_is_stored_bit_exact() {
        let mut s = state();
        let stale = f64::from_bits(0x7FF0_0000_0000_0002);
        s.append(1, 1.0, 2 * HOUR).unwrap();
        s.append(2, stale, 2 * HOUR).unwrap();
        let got = all_samples(&s);
        assert_eq!(got[1].1.to_bits(), 0x7FF0_0000_0000_0002);
        assert_eq!(s.last_bits, 0x7FF0_0000_0000_0002);
    }

    #[test]
    fn truncation_drops_old_chunks_but_keeps_order_state() {
        let mut s = state();
        for i in 0..300 {
            s.append(i * 60_000, 1.0, 2 * HOUR).unwrap();
        }
        let dropped = s.truncate_before(2 * HOUR);
        assert!(dropped >= 1);
        assert!(s.min_time().unwrap() >= 2 * HOUR);
        assert_eq!(s.max_t, 299 * 60_000);
        s.truncate_before(i64::MAX);
        assert!(s.is_empty());
        assert_eq!(s.max_t, 299 * 60_000);
    }
}
