//! Encoding a family: every series of every shard, touched in batches first so the cache
//! misses of a batch overlap.

use std::io;

use kagari_exposition::MetricType;

use super::{Entry, Family, ENCODE_BATCH};
use crate::collector::{Metric, MetricWriter, Series, SeriesLabels};

impl<M: Series> Metric for Family<M> {
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn label_names(&self) -> &[Box<str>] {
        &self.inner.names
    }

    fn reserved_label(&self) -> Option<&'static str> {
        M::RESERVED_LABEL
    }

    fn encode_samples(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        // Encoding many series is bound by cache misses (entry -> values -> bytes, and the
        // metric's own allocation). A first pass over a batch only touches that memory: its
        // loads are independent, so the CPU overlaps the misses; the second pass then encodes
        // from cache. The batch lives on the stack: nothing is allocated.
        for shard in self.inner.shards.iter() {
            let table = shard.read();
            let mut entries = table.iter();
            let mut batch: [Option<&Entry<M>>; ENCODE_BATCH] = [None; ENCODE_BATCH];
            loop {
                let mut n = 0;
                for (slot, e) in batch.iter_mut().zip(entries.by_ref()) {
                    *slot = Some(e);
                    n += 1;
                }
                if n == 0 {
                    break;
                }
                let batch = batch.iter().take(n).flatten();
                // Two touch passes: the second's loads depend on the first's (the rendered
                // labels behind the entry), so splitting keeps each pass's loads independent.
                let mut touched = 0u64;
                for e in batch.clone() {
                    touched ^=
                        e.metric.touch() ^ e.rendered.as_ref().map_or(0, |r| r.full().len() as u64);
                }
                for e in batch.clone() {
                    let first = |v: &str| u64::from(v.as_bytes().first().copied().unwrap_or(0));
                    touched ^= e.rendered.as_ref().map_or(0, |r| first(r.full()));
                }
                std::hint::black_box(touched);
                for e in batch {
                    e.metric.encode_series(
                        w,
                        SeriesLabels::new(&self.inner.names, &e.values, e.rendered.as_ref()),
                    )?;
                }
            }
        }
        Ok(())
    }
}
