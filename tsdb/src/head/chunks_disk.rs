//! The head's side of `chunks_head/`: writing cut chunks to the [`ChunkDiskMapper`] and
//! attaching the chunks found there at open to their series.
//!
//! Hooks in other head files (kept to one call each): `append.rs` (commit) and `replay.rs`
//! call [`Head::mmap_closed`] right after `SeriesState::append` reports a cut; `replay.rs`
//! calls [`Head::attach_mmapped`] when a WAL series record creates a series.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::series::{ClosedChunk, MemSeries, SeriesRef, SeriesState};
use super::Head;
use crate::chunkenc::{ValueType, XorIterator};
use crate::chunks_head::{ChunkBytes, ChunkDiskMapper, LoadedChunk};

/// Chunks found in `chunks_head/` at open, by series ref, oldest first.
pub(crate) type MmappedBySeries = HashMap<SeriesRef, Vec<LoadedChunk>>;

/// Groups loaded chunks by series, keeping XOR chunks that end at or after `min_valid`
/// (older ones are covered by blocks) and dropping any that overlap an earlier one.
pub(crate) fn group_loaded(chunks: Vec<LoadedChunk>, min_valid: i64) -> MmappedBySeries {
    let mut by: MmappedBySeries = HashMap::new();
    for c in chunks {
        if c.encoding == 1 && c.max_t >= min_valid {
            by.entry(c.series_ref).or_default().push(c);
        }
    }
    for list in by.values_mut() {
        list.sort_by_key(|c| c.min_t);
        let mut last = i64::MIN;
        list.retain(|c| {
            let keep = c.min_t > last || last == i64::MIN;
            if keep {
                last = c.max_t;
            }
            keep
        });
    }
    by
}

impl Head {
    /// Groups the chunks read from `chunks_head/` for [`replay`](super::replay) (see
    /// [`group_loaded`]), and makes sure no new series gets the ref of a series that has
    /// chunks on disk, so a stale chunk can never be attached to another series later.
    pub(crate) fn prepare_mmapped(&self, chunks: Vec<LoadedChunk>) -> MmappedBySeries {
        if let Some(max) = chunks.iter().map(|c| c.series_ref).max() {
            self.next_ref
                .fetch_max(max.saturating_add(1), Ordering::AcqRel);
        }
        group_loaded(chunks, self.min_valid_time())
    }

    /// Makes the head write every chunk it cuts to `mapper` (`chunks_head/`) and keep only a
    /// mapped view of it. Can be set once; returns `false` if a mapper was already set.
    pub fn set_chunk_mapper(&self, mapper: Arc<ChunkDiskMapper>) -> bool {
        self.chunk_mapper.set(mapper).is_ok()
    }

    /// The head chunk mapper, if one is set.
    pub fn chunk_mapper(&self) -> Option<&Arc<ChunkDiskMapper>> {
        self.chunk_mapper.get()
    }

    /// Writes the newest closed chunk of series `r` to `chunks_head/` if it is still on the
    /// heap. A failed write leaves the chunk on the heap (its samples are in the WAL) and is
    /// counted in the mapper's stats.
    pub(crate) fn mmap_closed(&self, r: SeriesRef, st: &mut SeriesState) {
        let Some(mapper) = self.chunk_mapper.get() else {
            return;
        };
        let Some(c) = st.closed.last_mut() else {
            return;
        };
        if c.data.is_mapped() {
            return;
        }
        match mapper.write_chunk(r, c.min_t, c.max_t, &c.data) {
            Ok(m) => c.data = ChunkBytes::Mapped(m),
            Err(_) => mapper.stats().count_write_failure(),
        }
    }

    /// Writes a chunk being cut from series `r` to `chunks_head/` (the `store` of
    /// `SeriesState::append_with`); `None` without a mapper or when the write fails (counted
    /// in the mapper's stats; the chunk then stays on the heap, its samples are in the WAL).
    pub(crate) fn map_chunk(
        &self,
        r: SeriesRef,
        min_t: i64,
        max_t: i64,
        bytes: &[u8],
    ) -> Option<ChunkBytes> {
        let mapper = self.chunk_mapper.get()?;
        match mapper.write_chunk(r, min_t, max_t, bytes) {
            Ok(m) => Some(ChunkBytes::Mapped(m)),
            Err(_) => {
                mapper.stats().count_write_failure();
                None
            }
        }
    }

    /// Gives a series just created by replay the chunks `chunks_head/` holds for it: they
    /// become its closed chunks, and its newest sample (time and value) is the last chunk's,
    /// so WAL samples already in those chunks are skipped as upstream does.
    pub(crate) fn attach_mmapped(&self, series: &MemSeries, chunks: Vec<LoadedChunk>) {
        let mut st = series.state.lock();
        if !st.is_empty() || chunks.is_empty() {
            return;
        }
        let mut last = None;
        if let Some(c) = chunks.last() {
            let mut it = XorIterator::new(&c.chunk);
            while it.next() == ValueType::Float {
                last = Some(it.at());
            }
            if it.take_err().is_some() {
                return;
            }
        }
        let Some((t, v)) = last else { return };
        let (Some(first), n) = (chunks.first().map(|c| c.min_t), chunks.len() as u64) else {
            return;
        };
        st.closed = chunks
            .into_iter()
            .map(|c| ClosedChunk {
                min_t: c.min_t,
                max_t: c.max_t,
                data: ChunkBytes::Mapped(c.chunk),
            })
            .collect();
        st.max_t = t;
        st.last_bits = v.to_bits();
        drop(st);
        self.observe_time(first, t);
        self.head_stats()
            .chunks_created
            .fetch_add(n, Ordering::Relaxed);
    }

    /// Deletes the oldest head chunk files no chunk in memory refers to any more.
    pub(crate) fn truncate_chunk_files(&self) -> crate::Result<usize> {
        match self.chunk_mapper.get() {
            Some(m) => Ok(m.truncate()?.len()),
            None => Ok(0),
        }
    }

    /// Bytes of chunks held on the heap and in head chunk files: `(heap, mapped)`. Open
    /// chunks count as heap.
    pub fn chunk_bytes(&self) -> (u64, u64) {
        let (mut heap, mut mapped) = (0u64, 0u64);
        for stripe in self.by_ref.iter() {
            for s in stripe.read().values() {
                let st = s.state.lock();
                for c in &st.closed {
                    if c.data.is_mapped() {
                        mapped += c.data.len() as u64;
                    } else {
                        heap += c.data.len() as u64;
                    }
                }
                if let Some(o) = &st.open {
                    heap += o.chunk.bytes().len() as u64;
                }
            }
        }
        (heap, mapped)
    }
}
