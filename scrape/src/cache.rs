//! The per-target series cache: raw exposition series → relabeled labels and storage ref,
//! plus the bookkeeping that decides which series get staleness markers.

use hashbrown::HashMap;

use kagari_model::{Labels, STALE_NAN};

use crate::appender::{Appender, SeriesRef};
use crate::error::ScrapeError;

/// How many scrapes an unseen entry survives before it is evicted.
const EVICT_AFTER: u64 = 10;

#[derive(Debug)]
pub(crate) struct Entry {
    /// Final sample labels; `None` when metric relabeling drops the series.
    pub(crate) labels: Option<Labels>,
    pub(crate) sref: Option<SeriesRef>,
    /// Scrape attempt in which the series was last seen.
    pub(crate) cur_iter: u64,
    /// Successful scrape in which the series was last committed.
    pub(crate) ok_iter: u64,
    /// Whether the series gets staleness markers (no explicit timestamp, or tracked).
    pub(crate) track: bool,
    /// The settings generation the labels were computed with.
    pub(crate) generation: u64,
}

/// Raw series bytes (`name 0xff raw-labels`) to [`Entry`].
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    pub(crate) entries: HashMap<Box<[u8]>, Entry>,
    /// The current scrape attempt (starts at 1).
    pub(crate) iter: u64,
    /// The last successful scrape whose series have not been marked stale yet.
    pub(crate) prev_ok: Option<u64>,
}

impl ScrapeCache {
    /// Starts a new scrape attempt.
    pub(crate) fn begin(&mut self) -> u64 {
        self.iter += 1;
        self.iter
    }

    /// After a successful scrape: marks vanished series stale, records this scrape as the
    /// previous one, evicts long-unseen entries.
    pub(crate) fn finish_ok(&mut self, app: &mut dyn Appender, ts: i64) -> Result<(), ScrapeError> {
        let iter = self.iter;
        let prev = self.prev_ok;
        for e in self.entries.values_mut() {
            if e.cur_iter == iter {
                e.ok_iter = iter;
            } else if prev == Some(e.ok_iter) && e.track {
                if let Some(l) = &e.labels {
                    stale(app, e.sref, l, ts)?;
                }
            }
        }
        self.prev_ok = Some(iter);
        self.entries.retain(|_, e| e.cur_iter + EVICT_AFTER > iter);
        Ok(())
    }

    /// After a failed scrape (or when the target goes away): every series of the last
    /// successful scrape becomes stale, once.
    pub(crate) fn mark_all_stale(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
    ) -> Result<(), ScrapeError> {
        let Some(prev) = self.prev_ok.take() else {
            return Ok(());
        };
        for e in self.entries.values() {
            if e.ok_iter == prev && e.track {
                if let Some(l) = &e.labels {
                    stale(app, e.sref, l, ts)?;
                }
            }
        }
        Ok(())
    }

    /// After a rolled-back scrape: forget refs handed out by the discarded transaction for
    /// series that were never committed.
    pub(crate) fn forget_uncommitted(&mut self) {
        let iter = self.iter;
        for e in self.entries.values_mut() {
            if e.cur_iter == iter && e.ok_iter == 0 {
                e.sref = None;
            }
        }
    }
}

fn stale(
    app: &mut dyn Appender,
    sref: Option<SeriesRef>,
    labels: &Labels,
    ts: i64,
) -> Result<(), ScrapeError> {
    match app.append(sref, labels, ts, STALE_NAN) {
        Ok(_) => Ok(()),
        Err(e) if e.is_sample_error() => Ok(()),
        Err(e) => Err(e.into()),
    }
}
