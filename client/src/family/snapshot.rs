//! A read-only copy of a family's keyed series, shared by the threads that look series up, so
//! that a lookup missing the thread's small cache still takes no lock and writes no shared
//! memory.
//!
//! A snapshot is a hash table of `(hash, key, handle)` built from all shards at one family
//! generation. It is never changed: series created after it are missing (a lookup for them
//! falls through to the shards, and enough such misses build a newer snapshot, see
//! [`refresh_after`]), and a removal or reset bumps the family generation, which makes every
//! older snapshot unusable (so a removed series is never handed out again). The family keeps
//! the latest snapshot; each thread cache holds an `Arc` to the one it uses.
//!
//! Values that do not fit a [`Key`] are never in a snapshot.

use hashbrown::HashTable;

use super::key::{Key, Packed};

/// A read-only table of a family's keyed series at one generation.
#[derive(Debug)]
pub(super) struct Snapshot<M> {
    generation: u64,
    table: HashTable<(u64, Key, M)>,
}

impl<M> Snapshot<M> {
    /// An empty snapshot of generation `generation`, with room for `capacity` series.
    pub(super) fn new(generation: u64, capacity: usize) -> Self {
        Snapshot {
            generation,
            table: HashTable::with_capacity(capacity),
        }
    }

    /// Adds a series (building only: the caller adds each key once).
    pub(super) fn insert(&mut self, hash: u64, key: Key, metric: M) {
        self.table.insert_unique(hash, (hash, key, metric), |e| e.0);
    }

    /// The family generation this snapshot was built at.
    #[inline]
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of series.
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    /// The series of `key` (whose hash is `hash`), if it is in the snapshot.
    #[inline]
    pub(super) fn get(&self, hash: u64, key: &Packed) -> Option<&M> {
        self.table
            .find(hash, |(h, k, _)| *h == hash && *k == key.key)
            .map(|(_, _, m)| m)
    }
}

/// Lookups missing a snapshot of `len` series (but finding their series in the shards) after
/// which a thread refreshes it: building costs `O(len)`, so refreshing at most once per
/// `len / 8` misses keeps the cost per miss constant.
pub(super) fn refresh_after(len: usize) -> u32 {
    u32::try_from(len / 8).unwrap_or(u32::MAX).max(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_equal_keys_even_with_equal_hashes() {
        let mut s = Snapshot::new(3, 4);
        let a = Key::pack(&["a", "1"]).unwrap();
        let b = Key::pack(&["a", "2"]).unwrap();
        let long = "x".repeat(40);
        let c = Key::pack(&[long.as_str(), "1"]).unwrap();
        s.insert(7, a.key, 1);
        s.insert(7, c.key, 3); // same hash: the keys tell them apart
        assert_eq!(s.get(7, &a), Some(&1));
        assert_eq!(s.get(7, &b), None);
        assert_eq!(s.get(7, &c), Some(&3));
        assert_eq!(s.get(8, &a), None);
        assert_eq!((s.generation(), s.len()), (3, 2));
        assert_eq!(refresh_after(0), 32);
        assert_eq!(refresh_after(8000), 1000);
    }
}
