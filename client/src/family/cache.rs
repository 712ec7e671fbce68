//! A per-thread cache of a family's recently used series, so that looking up an existing
//! series takes no lock and writes no shared memory.
//!
//! Each thread that looks series up gets its own small direct-mapped table (one per family, in a
//! [`ThreadLocal`]) of `(key, handle)` slots. A hit compares the packed label values
//! ([`Key`]: lengths and bytes, never only a hash) and hands out the cached handle. Removing or
//! resetting series bumps the family's generation; a cache from an older generation misses
//! until the next fill clears it, so a removed series is never handed out again.

use std::cell::RefCell;

use thread_local::ThreadLocal;

use super::key::Key;

/// Slots per thread and family (a power of two).
const SLOTS: usize = 16;
/// A miss replaces an occupied slot only once in this many misses, so a thread cycling through
/// more series than slots does not pay a refill (two reference-count updates) on every miss.
const REPLACE_EVERY: u32 = 4;

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
    slots: [Option<Slot<M>>; SLOTS],
}

/// The per-thread caches of one family.
pub(super) type Caches<M> = ThreadLocal<RefCell<ThreadCache<M>>>;

/// The slot for a key's quick hash (see [`Key::new`]).
#[inline]
fn slot_index(quick: u64) -> usize {
    (quick >> 60) as usize & (SLOTS - 1)
}

impl<M> ThreadCache<M> {
    pub(super) fn new(generation: u64) -> Self {
        ThreadCache {
            generation,
            misses: 0,
            slots: std::array::from_fn(|_| None),
        }
    }

    /// The cached series for `key`, if cached during `generation`.
    #[inline]
    pub(super) fn get(&self, key: &Key, quick: u64, generation: u64) -> Option<&M> {
        if self.generation != generation {
            return None;
        }
        match self.slots.get(slot_index(quick)) {
            Some(Some(slot)) if slot.key == *key => Some(&slot.metric),
            _ => None,
        }
    }

    /// Caches `metric` (found in the family during `generation`) unless its slot is taken and
    /// it is not this miss's turn to replace; returns the cached handle, or gives `metric` back.
    pub(super) fn insert(
        &mut self,
        key: Key,
        quick: u64,
        generation: u64,
        metric: M,
    ) -> Result<&M, M> {
        if generation != self.generation {
            if generation < self.generation {
                return Err(metric);
            }
            self.slots.iter_mut().for_each(|s| *s = None);
            self.generation = generation;
        }
        self.misses = self.misses.wrapping_add(1);
        let Some(slot) = self.slots.get_mut(slot_index(quick)) else {
            return Err(metric);
        };
        if slot.is_some() && self.misses % REPLACE_EVERY != 0 {
            return Err(metric);
        }
        Ok(&slot.insert(Slot { key, metric }).metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_need_equal_keys_and_the_current_generation() {
        let mut c = ThreadCache::<u32>::new(0);
        // Two keys in the same slot (same quick hash).
        let (k1, k2) = (Key::new(&["a"]).unwrap().0, Key::new(&["b"]).unwrap().0);
        let q = 5 << 60;
        assert_eq!(c.insert(k1, q, 0, 10), Ok(&10));
        assert_eq!(c.get(&k1, q, 0), Some(&10));
        // Same slot, other key: a miss, never the other series.
        assert_eq!(c.get(&k2, q, 0), None);
        assert_eq!(c.get(&k1, q, 1), None);
        // An occupied slot is replaced once every REPLACE_EVERY misses.
        let replaced = (0..REPLACE_EVERY)
            .filter(|_| c.insert(k2, q, 0, 20).is_ok())
            .count();
        assert_eq!(replaced, 1);
        assert_eq!(c.get(&k2, q, 0), Some(&20));
        assert_eq!(c.get(&k1, q, 0), None);
        // A newer generation empties the cache; an older one is not cached.
        assert_eq!(c.insert(k1, 6 << 60, 3, 30), Ok(&30));
        assert_eq!(c.get(&k2, q, 3), None);
        assert_eq!(c.insert(k2, q, 2, 40), Err(40));
    }
}
