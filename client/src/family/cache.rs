//! A per-thread cache of a family's recently used series, so that looking up an existing
//! series takes no lock and writes no shared memory.
//!
//! Each thread that looks series up gets its own small direct-mapped table (one per family, in a
//! [`ThreadLocal`]) of `(key, handle)` slots. A hit compares the packed label values
//! ([`Key`]: lengths and bytes, never only a hash) and hands out the cached handle. Removing or
//! resetting series bumps the family's generation; a cache from an older generation misses
//! until the next fill clears it, so a removed series is never handed out again.
//!
//! A thread that cycles through more series than the cache holds would pay for packing a key,
//! probing and refilling on every lookup; after [`MISS_STREAK`] misses in a row its cache
//! empties and goes cold: the next [`BYPASS`] lookups go straight to the map.

use std::cell::{Cell, RefCell};

use thread_local::ThreadLocal;

use super::key::{Key, Packed};

/// Slots per thread and family (a power of two).
const SLOTS: usize = 16;
/// A miss replaces an occupied slot only once in this many misses, so a thread cycling through
/// more series than slots does not pay a refill (two reference-count updates) on every miss.
const REPLACE_EVERY: u32 = 4;
/// Misses in a row after which the cache is bypassed.
const MISS_STREAK: u32 = 32;
/// Lookups that skip a cold cache after a miss streak.
const BYPASS: u32 = 256;
/// The generation of a cold cache (family generations never get there).
const COLD: u64 = u64::MAX;

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
    misses: u32,
    /// Misses since the last hit.
    streak: Cell<u32>,
    /// Misses left that leave the cache cold (cache nothing).
    cold: u32,
    slots: [Option<Slot<M>>; SLOTS],
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
            misses: 0,
            streak: Cell::new(0),
            cold: 0,
            slots: std::array::from_fn(|_| None),
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

    /// Caches a clone of `metric` (found in the family during `generation`) unless its slot
    /// is taken and it is not this miss's turn to replace; returns whether it did.
    pub(super) fn offer(&mut self, key: &Packed, generation: u64, metric: &M) -> bool
    where
        M: Clone,
    {
        if self.cold > 0 {
            self.cold -= 1;
            return false;
        }
        if generation != self.generation {
            if self.generation != COLD && generation < self.generation {
                return false;
            }
            self.slots.iter_mut().for_each(|s| *s = None);
            self.generation = generation;
        }
        self.misses = self.misses.wrapping_add(1);
        let streak = self.streak.get() + 1;
        self.streak.set(streak % MISS_STREAK);
        if streak >= MISS_STREAK {
            self.cold = BYPASS;
            self.generation = COLD;
            self.slots.iter_mut().for_each(|s| *s = None);
            return false;
        }
        let Some(slot) = self.slots.get_mut(slot_index(key.quick)) else {
            return false;
        };
        if slot.is_some() && self.misses % REPLACE_EVERY != 0 {
            return false;
        }
        *slot = Some(Slot {
            key: key.key,
            metric: metric.clone(),
        });
        true
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

    #[test]
    fn hits_need_equal_keys_and_the_current_generation() {
        let mut c = ThreadCache::<u32>::new(0);
        // Two keys in the same slot (same quick hash).
        let q = 5 << 60;
        let (k1, k2) = (key("a", q), key("b", q));
        assert!(c.offer(&k1, 0, &10));
        assert_eq!(c.get(&k1, 0), Some(&10));
        // Same slot, other key: a miss, never the other series.
        assert_eq!(c.get(&k2, 0), None);
        assert_eq!(c.get(&k1, 1), None);
        // An occupied slot is replaced once every REPLACE_EVERY misses.
        let replaced = (0..REPLACE_EVERY).filter(|_| c.offer(&k2, 0, &20)).count();
        assert_eq!(replaced, 1);
        assert_eq!(c.get(&k2, 0), Some(&20));
        assert_eq!(c.get(&k1, 0), None);
        // A newer generation empties the cache; an older one is not cached.
        assert!(c.offer(&key("a", 6 << 60), 3, &30));
        assert_eq!(c.get(&k2, 3), None);
        assert!(!c.offer(&k2, 2, &40));
    }

    #[test]
    fn a_miss_streak_leaves_the_cache_cold_for_a_while() {
        let mut c = ThreadCache::<u32>::new(0);
        let keys: Vec<String> = (0..MISS_STREAK).map(|i| i.to_string()).collect();
        let slot = |i: u32| u64::from(i % 16) << 60;
        for i in 0..MISS_STREAK - 1 {
            c.offer(&key(&keys[i as usize], slot(i)), 0, &1);
        }
        assert_eq!(c.get(&key(&keys[0], 0), 0), Some(&1));
        // The hit reset the streak, so MISS_STREAK - 1 more misses (in other slots) keep the
        // cache warm.
        for i in 0..MISS_STREAK - 1 {
            c.offer(&key(&keys[1], slot(i % 15 + 1)), 0, &1);
        }
        assert_eq!(c.get(&key(&keys[0], 0), 0), Some(&1));
        // A full streak: cold (every probe misses, nothing cached) for BYPASS misses.
        for i in 0..MISS_STREAK {
            c.offer(&key(&keys[2], slot(i)), 0, &1);
        }
        assert_eq!(c.get(&key(&keys[0], 0), 0), None);
        let refused = (0..BYPASS * 2)
            .take_while(|_| !c.offer(&key(&keys[3], 0), 0, &9))
            .count();
        assert_eq!(refused, BYPASS as usize);
        assert_eq!(c.get(&key(&keys[3], 0), 0), Some(&9));
    }
}
