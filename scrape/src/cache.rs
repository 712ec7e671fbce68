//! The per-target series cache: raw exposition series → relabeled labels and storage ref,
//! plus the bookkeeping that decides which series get staleness markers.
//!
//! Entries live in a slab (`slots`) indexed through a hash map keyed by the raw series bytes.
//! Targets almost always expose the same series in the same order, so the cache also keeps a
//! positional token per sample in exposition order in a contiguous arena (the key, or for
//! the text format the line's bytes before the value), rewritten only where it changes; a
//! scrape first compares sample `i` with the token at position `i` (a sequential memory
//! walk) and only hashes on a mismatch.

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

#[derive(Debug)]
struct Slot {
    entry: Entry,
    live: bool,
    /// Bumped when the slot is freed, so a stale positional hint cannot match a new tenant.
    reuse: u32,
}

/// One sample position of a scrape: its key in the arena and the slot it resolved to.
#[derive(Debug, Clone, Copy)]
struct Position {
    start: usize,
    end: usize,
    slot: u32,
    reuse: u32,
}

/// Raw series bytes (`name 0xff raw-labels`) to [`Entry`].
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    index: HashMap<Box<[u8]>, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Positional tokens in exposition order, updated in place: while a scrape runs,
    /// positions before the current sample hold this scrape's tokens and the others the
    /// previous scrape's. A position whose token repeats is not rewritten.
    order: Vec<Position>,
    /// Token bytes of `order` (plus overwritten ones, counted in `garbage`).
    tokens: Vec<u8>,
    garbage: usize,
    /// Samples recorded in the current scrape.
    recorded: usize,
    /// The current scrape attempt (starts at 1).
    pub(crate) iter: u64,
    /// The last successful scrape whose series have not been marked stale yet.
    pub(crate) prev_ok: Option<u64>,
}

impl ScrapeCache {
    /// Starts a new scrape attempt.
    pub(crate) fn begin(&mut self) -> u64 {
        self.iter += 1;
        self.recorded = 0;
        self.iter
    }

    /// The previous scrape's positional token at sample position `pos` and the slot it
    /// resolved to, if that slot still holds the same series.
    pub(crate) fn prev_token(&self, pos: usize) -> Option<(&[u8], u32)> {
        let p = self.order.get(pos)?;
        let token = self.tokens.get(p.start..p.end)?;
        let slot = self.slots.get(p.slot as usize)?;
        (slot.live && slot.reuse == p.reuse).then_some((token, p.slot))
    }

    /// The slot of `key` if the previous scrape had exactly this token at position `pos`.
    pub(crate) fn hint(&self, pos: usize, key: &[u8]) -> Option<u32> {
        self.prev_token(pos)
            .and_then(|(token, slot)| (token == key).then_some(slot))
    }

    /// The slot of `key` by hash.
    pub(crate) fn lookup(&self, key: &[u8]) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// Records that the current scrape's next sample position resolved to `slot`, with the
    /// positional `token` the next scrape compares against (the series key, or for the
    /// text format the line's bytes before the value).
    pub(crate) fn record(&mut self, token: &[u8], slot: u32) {
        let pos = self.recorded;
        self.recorded += 1;
        let reuse = self.slots.get(slot as usize).map_or(0, |s| s.reuse);
        if let Some(p) = self.order.get(pos) {
            if p.slot == slot && p.reuse == reuse && self.tokens.get(p.start..p.end) == Some(token)
            {
                return;
            }
            self.garbage += p.end - p.start;
        }
        let start = self.tokens.len();
        self.tokens.extend_from_slice(token);
        let p = Position {
            start,
            end: self.tokens.len(),
            slot,
            reuse,
        };
        match self.order.get_mut(pos) {
            Some(old) => *old = p,
            None => self.order.push(p),
        }
    }

    /// Records that the current scrape's next sample repeats the previous scrape's token and
    /// slot at its position (a [`prev_token`](Self::prev_token) hit): nothing to rewrite.
    pub(crate) fn keep(&mut self) {
        self.recorded += 1;
    }

    /// The entry in `slot` (from a hint, [`lookup`](Self::lookup) or [`insert`](Self::insert)).
    pub(crate) fn entry(&mut self, slot: u32) -> Option<&mut Entry> {
        self.slots
            .get_mut(slot as usize)
            .filter(|s| s.live)
            .map(|s| &mut s.entry)
    }

    /// Adds a new entry for `key` (which [`lookup`](Self::lookup) did not know). Returns its
    /// slot; the caller [`record`](Self::record)s it.
    pub(crate) fn insert(&mut self, key: &[u8], entry: Entry) -> u32 {
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    s.entry = entry;
                    s.live = true;
                }
                i
            }
            None => {
                self.slots.push(Slot {
                    entry,
                    live: true,
                    reuse: 0,
                });
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.index.insert(key.into(), slot);
        slot
    }

    /// Ends the recording of this scrape's order (call once per attempt that parsed).
    fn end_order(&mut self) {
        let n = self.recorded;
        if let Some(dropped) = self.order.get(n..) {
            self.garbage += dropped.iter().map(|p| p.end - p.start).sum::<usize>();
        }
        self.order.truncate(n);
        if self.garbage > 4096 && self.garbage > self.tokens.len() / 2 {
            // Compact: copy the live tokens into a fresh arena.
            let mut tokens = Vec::with_capacity(self.tokens.len() - self.garbage);
            for p in &mut self.order {
                let start = tokens.len();
                tokens.extend_from_slice(self.tokens.get(p.start..p.end).unwrap_or(&[]));
                (p.start, p.end) = (start, tokens.len());
            }
            self.tokens = tokens;
            self.garbage = 0;
        }
    }

    /// How often the slot of `key` has been freed (tests: an entry kept across scrapes
    /// keeps 0).
    #[cfg(test)]
    pub(crate) fn reuse_of(&self, key: &[u8]) -> Option<u32> {
        let slot = self.lookup(key)?;
        self.slots.get(slot as usize).map(|s| s.reuse)
    }

    fn live_entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().filter(|s| s.live).map(|s| &s.entry)
    }

    fn live_entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.slots
            .iter_mut()
            .filter(|s| s.live)
            .map(|s| &mut s.entry)
    }

    /// After a successful scrape: marks vanished series stale, records this scrape as the
    /// previous one, evicts long-unseen entries.
    pub(crate) fn finish_ok(&mut self, app: &mut dyn Appender, ts: i64) -> Result<(), ScrapeError> {
        let iter = self.iter;
        let prev = self.prev_ok;
        let mut oldest = iter;
        for e in self.live_entries_mut() {
            oldest = oldest.min(e.cur_iter);
            if e.cur_iter == iter {
                e.ok_iter = iter;
            } else if prev == Some(e.ok_iter) && e.track {
                if let Some(l) = &e.labels {
                    stale(app, e.sref, l, ts)?;
                }
            }
        }
        self.prev_ok = Some(iter);
        self.end_order();
        if oldest + EVICT_AFTER > iter {
            // Nothing to evict (the usual case): skip the walk over the index.
            return Ok(());
        }
        let (slots, free) = (&mut self.slots, &mut self.free);
        self.index.retain(|_, slot| {
            let Some(s) = slots.get_mut(*slot as usize) else {
                return false;
            };
            if s.entry.cur_iter + EVICT_AFTER > iter {
                return true;
            }
            s.live = false;
            s.reuse = s.reuse.wrapping_add(1);
            s.entry.labels = None;
            free.push(*slot);
            false
        });
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
        for e in self.live_entries() {
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
        for e in self.live_entries_mut() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the OpenMetrics path does per sample: position first, then hash; records it.
    impl ScrapeCache {
        fn find(&mut self, pos: usize, key: &[u8]) -> Option<u32> {
            let found = self.hint(pos, key).or_else(|| self.lookup(key));
            if let Some(slot) = found {
                self.record(key, slot);
            }
            found
        }
    }

    fn entry(g: u64) -> Entry {
        Entry {
            labels: None,
            sref: None,
            cur_iter: 0,
            ok_iter: 0,
            track: true,
            generation: g,
        }
    }

    #[test]
    fn positional_hints_never_resolve_to_the_wrong_series() {
        let mut c = ScrapeCache::default();
        c.begin();
        assert_eq!(c.find(0, b"a"), None);
        let a = c.insert(b"a", entry(1));
        c.record(b"a", a);
        assert_eq!(c.find(1, b"b"), None);
        let b = c.insert(b"b", entry(2));
        c.record(b"b", b);
        c.end_order();
        c.begin();
        // Same order: found by position; swapped order: found by hash.
        assert_eq!(c.find(0, b"b"), Some(b));
        assert_eq!(c.find(1, b"a"), Some(a));
        assert_eq!(c.find(2, b"c"), None);
        c.end_order();
        // A freed and reused slot does not match the old hint.
        c.begin();
        c.index.remove(b"b".as_slice());
        let s = c.slots.get_mut(b as usize).unwrap();
        s.live = false;
        s.reuse += 1;
        c.free.push(b);
        assert_eq!(c.find(0, b"b"), None);
        let x = c.insert(b"x", entry(3));
        c.record(b"x", x);
        assert_eq!(x, b, "slot reused");
        assert_eq!(c.find(1, b"a"), Some(a));
        c.end_order();
        c.begin();
        assert_eq!(c.find(0, b"x"), Some(x));
        assert_eq!(c.entry(x).map(|e| e.generation), Some(3));
        assert_eq!(c.find(1, b"b"), None);
    }
}
