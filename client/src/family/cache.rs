//! A per-thread cache of a family's recently used series, so that looking up an existing
//! series takes no lock and writes no shared memory.
//!
//! Each thread that looks series up gets its own small direct-mapped table (one per family, in a
//! [`ThreadLocal`]) of `(key, handle)` slots. A hit compares the packed label values
//! ([`Key`]: lengths and bytes, never only a hash) and hands out the cached handle. Removing or
//! resetting series bumps the family's generation; a cache from an older generation misses
//! until the next fill clears it, so a removed series is never handed out again.
//!
//! Behind the slots the thread keeps the family's shared read-only [`Snapshot`] it last took:
//! a slot miss looks there next, still without a lock.
//!
//! A thread that cycles through more series than the slots hold would pay for refilling a
//! slot (two reference-count updates) on every miss; a miss refills an occupied slot only
//! every [`REPLACE_EVERY`] misses, and after [`MISS_STREAK`] misses in a row the slots go cold:
//! the next [`BYPASS`] misses fill nothing.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use thread_local::ThreadLocal;

use super::key::{Key, Packed};
use super::snapshot::{refresh_after, Snapshot};

/// Slots per thread and family (a power of two).
const SLOTS: usize = 16;
/// A miss replaces an occupied slot only once in this many misses, so a thread cycling through
/// more series than slots does not pay a refill (two reference-count updates) on every miss.
const REPLACE_EVERY: u32 = 4;
/// Misses in a row after which the slots go cold.
const MISS_STREAK: u32 = 32;
/// Misses that fill no slot after a miss streak.
const BYPASS: u32 = 256;

#[derive(Debug)]
struct Slot<M> {
    key: Key,
    metric: M,
}

/// One thread's cache for one family.
#[derive(Debug)]
pub(super) struct ThreadCache<M> {
    /// The family generation the slots belong to.
    generation: u64,
    misses: Cell<u32>,
    /// Misses since the last hit.
    streak: Cell<u32>,
    /// Misses left that fill no slot.
    cold: Cell<u32>,
    slots: [Option<Slot<M>>; SLOTS],
    snapshot: Option<Arc<Snapshot<M>>>,
    /// Lookups that missed the snapshot but found their series in the family.
    snapshot_misses: u32,
}

/// The per-thread caches of one family.
pub(super) type Caches<M> = ThreadLocal<RefCell<ThreadCache<M>>>;

/// The slot for a key's quick hash (see [`Key::pack`]).
#[inline]
fn slot_index(quick: u64) -> usize {
    (quick >> 60) as usize & (SLOTS - 1)
}

impl<M> ThreadCache<M> {
    pub(super) fn new(generation: u64) -> Self {
        ThreadCache {
            generation,
            misses: Cell::new(0),
            streak: Cell::new(0),
            cold: Cell::new(0),
            slots: std::array::from_fn(|_| None),
            snapshot: None,
            snapshot_misses: 0,
        }
    }

    /// The cached series for `key`, if cached during `generation`.
    #[inline]
    pub(super) fn get(&self, key: &Packed, generation: u64) -> Option<&M> {
        if self.generation != generation {
            return None;
        }
        match self.slots.get(slot_index(key.quick)) {
            Some(Some(slot)) if key.is(&slot.key) => {
                self.streak.set(0);
                Some(&slot.metric)
            }
            _ => None,
        }
    }

    /// If the slots are cold (take nothing), counts a slot miss and returns `true`.
    #[inline]
    pub(super) fn cold_miss(&self) -> bool {
        let cold = self.cold.get();
        self.cold.set(cold.saturating_sub(1));
        cold > 0
    }

    /// Counts a slot miss for `key`; returns whether the series, found during `generation`,
    /// should fill its slot ([`Self::fill`]): not while cold, and an occupied slot only once
    /// in [`REPLACE_EVERY`] misses.
    pub(super) fn wants(&self, key: &Packed, generation: u64) -> bool {
        let cold = self.cold.get();
        if cold > 0 {
            self.cold.set(cold - 1);
            return false;
        }
        if generation < self.generation {
            return false; // found in an older generation than the slots'
        }
        let misses = self.misses.get().wrapping_add(1);
        self.misses.set(misses);
        let streak = self.streak.get() + 1;
        if streak >= MISS_STREAK {
            self.streak.set(0);
            self.cold.set(BYPASS);
            return false;
        }
        self.streak.set(streak);
        let occupied = generation == self.generation
            && matches!(self.slots.get(slot_index(key.quick)), Some(Some(_)));
        !occupied || misses % REPLACE_EVERY == 0
    }

    /// Puts `metric`, the series of `key` found during `generation`, in its slot (emptying the
    /// other slots if they belong to an older generation).
    pub(super) fn fill(&mut self, key: &Packed, generation: u64, metric: M) {
        if generation != self.generation {
            if generation < self.generation {
                return;
            }
            self.slots.iter_mut().for_each(|s| *s = None);
            self.generation = generation;
        }
        if let Some(slot) = self.slots.get_mut(slot_index(key.quick)) {
            *slot = Some(Slot {
                key: key.key,
                metric,
            });
        }
    }

    /// The series of `key` (hash `hash`) in this thread's snapshot, if it is of `generation`.
    #[inline]
    pub(super) fn snapshot_get(&self, hash: u64, key: &Packed, generation: u64) -> Option<&M> {
        match &self.snapshot {
            Some(s) if s.generation() == generation => s.get(hash, key),
            _ => None,
        }
    }

    /// Counts a lookup that missed the snapshot but found its series in the family; returns
    /// whether it is time to take a newer snapshot.
    pub(super) fn snapshot_missed(&mut self) -> bool {
        self.snapshot_misses += 1;
        let len = self.snapshot.as_ref().map_or(0, |s| s.len());
        self.snapshot_misses >= refresh_after(len)
    }

    /// Uses `snapshot` from now on.
    pub(super) fn set_snapshot(&mut self, snapshot: Arc<Snapshot<M>>) {
        self.snapshot = Some(snapshot);
        self.snapshot_misses = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packed key of one value, in the slot of `quick`.
    fn key(value: &str, quick: u64) -> Packed {
        let mut p = Key::pack(&[value]).unwrap();
        p.quick = quick;
        p
    }

    /// A miss: fills the slot if the cache wants it; returns whether it did.
    fn offer(c: &mut ThreadCache<u32>, k: &Packed, generation: u64, m: u32) -> bool {
        let wants = c.wants(k, generation);
        if wants {
            c.fill(k, generation, m);
        }
        wants
    }

    #[test]
    fn hits_need_equal_keys_and_the_current_generation() {
        let mut c = ThreadCache::<u32>::new(0);
        // Two keys in the same slot (same quick hash).
        let q = 5 << 60;
        let (k1, k2) = (key("a", q), key("b", q));
        assert!(offer(&mut c, &k1, 0, 10));
        assert_eq!(c.get(&k1, 0), Some(&10));
        // Same slot, other key: a miss, never the other series.
        assert_eq!(c.get(&k2, 0), None);
        assert_eq!(c.get(&k1, 1), None);
        // An occupied slot is replaced once every REPLACE_EVERY misses.
        let replaced = (0..REPLACE_EVERY)
            .filter(|_| offer(&mut c, &k2, 0, 20))
            .count();
        assert_eq!(replaced, 1);
        assert_eq!(c.get(&k2, 0), Some(&20));
        assert_eq!(c.get(&k1, 0), None);
        // A newer generation empties the cache; an older one is not cached.
        assert!(offer(&mut c, &key("a", 6 << 60), 3, 30));
        assert_eq!(c.get(&k2, 3), None);
        assert!(!offer(&mut c, &k2, 2, 40));
    }

    #[test]
    fn a_miss_streak_leaves_the_cache_cold_for_a_while() {
        let mut c = ThreadCache::<u32>::new(0);
        let keys: Vec<String> = (0..MISS_STREAK).map(|i| i.to_string()).collect();
        let slot = |i: u32| u64::from(i % 16) << 60;
        for i in 0..MISS_STREAK - 1 {
            offer(&mut c, &key(&keys[i as usize], slot(i)), 0, 1);
        }
        assert_eq!(c.get(&key(&keys[0], 0), 0), Some(&1));
        // The hit reset the streak, so MISS_STREAK - 1 more misses (in other slots) keep the
        // cache warm.
        for i in 0..MISS_STREAK - 1 {
            offer(&mut c, &key(&keys[1], slot(i % 15 + 1)), 0, 1);
        }
        assert_eq!(c.get(&key(&keys[0], 0), 0), Some(&1));
        // A full streak: cold (nothing cached) for BYPASS misses.
        for i in 0..MISS_STREAK {
            offer(&mut c, &key(&keys[2], slot(i)), 0, 1);
        }
        let refused = (0..BYPASS * 2)
            .take_while(|_| !offer(&mut c, &key(&keys[3], 0), 0, 9))
            .count();
        // Then the occupied slot is replaced at the next REPLACE_EVERY turn.
        let refused = refused as u32;
        assert!(
            (BYPASS..BYPASS + REPLACE_EVERY).contains(&refused),
            "{refused}"
        );
        assert_eq!(c.get(&key(&keys[3], 0), 0), Some(&9));
    }

    #[test]
    fn snapshots_are_used_at_their_generation_and_refreshed_after_misses() {
        let mut c = ThreadCache::<u32>::new(0);
        let k = key("a", 0);
        assert_eq!(c.snapshot_get(1, &k, 0), None);
        let mut s = Snapshot::new(2, 1);
        s.insert(1, k.key, 7);
        c.set_snapshot(Arc::new(s));
        assert_eq!(c.snapshot_get(1, &k, 2), Some(&7));
        assert_eq!(c.snapshot_get(1, &k, 3), None);
        let misses = (1..=100).take_while(|_| !c.snapshot_missed()).count();
        assert_eq!(misses + 1, refresh_after(1) as usize);
    }
}
