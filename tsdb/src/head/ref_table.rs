//! [`RefSlots`]: one stripe of the head's series-by-ref table, a dense array indexed by
//! `ref / STRIPES`.
//!
//! Refs come from a counter and go to stripes in blocks of [`BLOCK`] consecutive refs
//! ([`stripe_of`]), so one stripe holds blocks `stripe, stripe + STRIPES, …` and a lookup is an
//! index into an array instead of a hash probe (which cost a cache miss on the control bytes
//! and another on the bucket for every appended sample). Blocks rather than single refs keep
//! the series one writer created together (a scrape target's, a bench worker's) on few stripe
//! locks, so writers on different cores rarely take the same lock's cache line. The array covers the
//! live refs only: empty slots at either end are dropped as series are removed, so memory
//! follows the range of live refs (8 bytes per ref in that range). A ref far outside the
//! range (a replayed WAL with an odd ref) goes to a small map instead of growing the array.

use std::collections::VecDeque;

use super::hash::U64Map;
use super::STRIPES;

/// The stripe count as a `u64` (a power of two: the divisions below are shifts).
const N: u64 = STRIPES as u64;
/// Consecutive refs that share a stripe (a power of two).
pub(crate) const BLOCK: u64 = 64;

/// The stripe of ref `r`.
#[inline]
pub(crate) fn stripe_of(r: u64) -> usize {
    ((r / BLOCK) % N) as usize
}

/// The position of ref `r` within its stripe.
#[inline]
fn key(r: u64) -> u64 {
    (r / (BLOCK * N)) * BLOCK + r % BLOCK
}

/// How far (in slots) past either end of the array a ref may land and still be stored
/// densely; farther ones go to the overflow map.
const MAX_GAP: u64 = 1 << 16;

/// One stripe: values by ref, for refs `r` with `stripe_of(r) == stripe` (the caller picks
/// the stripe; a ref of another stripe must not be passed).
#[derive(Debug)]
pub(crate) struct RefSlots<T> {
    /// `key(ref)` of `slots[0]`.
    base: u64,
    slots: VecDeque<Option<T>>,
    /// Values whose ref was too far from the dense range.
    far: U64Map<T>,
    /// Number of values (dense and far).
    len: usize,
}

impl<T> RefSlots<T> {
    /// An empty stripe.
    pub(crate) fn new() -> Self {
        RefSlots {
            base: 0,
            slots: VecDeque::new(),
            far: U64Map::default(),
            len: 0,
        }
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The array index of ref `r`, if it falls in the dense range.
    #[inline]
    fn index(&self, r: u64) -> Option<usize> {
        let k = key(r);
        let i = k.checked_sub(self.base)?;
        (i < self.slots.len() as u64).then_some(i as usize)
    }

    /// The value for ref `r`.
    #[inline]
    pub(crate) fn get(&self, r: &u64) -> Option<&T> {
        if let Some(i) = self.index(*r) {
            if let Some(Some(v)) = self.slots.get(i) {
                return Some(v);
            }
        }
        if self.far.is_empty() {
            None
        } else {
            self.far.get(r)
        }
    }

    /// Stores `v` for ref `r`, returning the previous value.
    pub(crate) fn insert(&mut self, r: u64, v: T) -> Option<T> {
        let k = key(r);
        if self.slots.is_empty() {
            self.base = k;
        }
        let end = self.base + self.slots.len() as u64;
        let old = if k >= self.base && k < end {
            self.slots
                .get_mut((k - self.base) as usize)
                .and_then(|slot| slot.replace(v))
        } else if k >= end && k - end <= MAX_GAP {
            self.slots.resize_with((k - self.base) as usize, || None);
            self.slots.push_back(Some(v));
            None
        } else if k < self.base && self.base - k <= MAX_GAP {
            for _ in k + 1..self.base {
                self.slots.push_front(None);
            }
            self.slots.push_front(Some(v));
            self.base = k;
            None
        } else {
            self.far.insert(r, v)
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes and returns the value for ref `r`.
    pub(crate) fn remove(&mut self, r: &u64) -> Option<T> {
        let old = match self.index(*r) {
            Some(i) => self.slots.get_mut(i).and_then(Option::take),
            None => None,
        };
        let old = match old {
            Some(v) => {
                while matches!(self.slots.front(), Some(None)) {
                    self.slots.pop_front();
                    self.base += 1;
                }
                while matches!(self.slots.back(), Some(None)) {
                    self.slots.pop_back();
                }
                Some(v)
            }
            None => self.far.remove(r),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// All values, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten().chain(self.far.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_range_follows_live_refs() {
        let mut t = RefSlots::new();
        // Refs of stripe 1: blocks 1, 1 + N, 1 + 2N, ...
        let r = |k: u64| (1 + (k / BLOCK) * N) * BLOCK + k % BLOCK;
        assert!((0..500).all(|k| stripe_of(r(k)) == 1));
        for k in 0..100 {
            assert_eq!(key(r(k)), k);
            assert!(t.insert(r(k), k * 10).is_none());
        }
        assert_eq!(t.len(), 100);
        assert_eq!(t.get(&r(1)), Some(&10));
        assert_eq!(t.get(&r(100)), None);
        for k in 0..75 {
            assert_eq!(t.remove(&r(k)), Some(k * 10));
        }
        assert_eq!(t.len(), 25);
        assert_eq!(t.slots.len(), 25); // the emptied front was dropped
        assert_eq!(t.get(&r(75)), Some(&750));
        assert_eq!(t.remove(&r(75)), Some(750));
        assert_eq!(t.remove(&r(75)), None);
        // Below the range, above it, and far away.
        let far = r(1 << 40);
        assert!(t.insert(r(0), 1).is_none());
        assert!(t.insert(r(1000), 2).is_none());
        assert!(t.insert(far, 3).is_none());
        assert_eq!(t.insert(r(0), 4), Some(1));
        assert_eq!(
            (t.get(&r(0)), t.get(&r(1000)), t.get(&far)),
            (Some(&4), Some(&2), Some(&3))
        );
        assert!(t.slots.len() < 2_000);
        let mut all: Vec<_> = t.values().copied().collect();
        all.sort();
        assert_eq!(all.len(), t.len());
        assert_eq!(t.remove(&far), Some(3));
        assert_eq!(t.len(), all.len() - 1);
    }
}
