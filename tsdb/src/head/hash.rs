//! A fast hasher for maps keyed by series refs and label-set hashes.
//!
//! The default SipHash guards against hash flooding by untrusted keys; head maps are keyed by
//! refs the head allocates itself (sequential numbers) and by xxHash64 values of label sets,
//! so one multiply-and-fold is enough to spread them over a table, at a fraction of the cost.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by a `u64` (series ref or label hash) with [`U64Hasher`].
pub(crate) type U64Map<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

/// Hashes one `u64` with a 128-bit multiply folded to 64 bits, so that sequential keys spread
/// over both the low bits (bucket) and the high bits (hashbrown's control tag).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct U64Hasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for U64Hasher {
    #[inline]
    fn finish(&self) -> u64 {
        let p = u128::from(self.0 ^ K).wrapping_mul(u128::from(K));
        (p as u64) ^ ((p >> 64) as u64)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u64` keys; still a correct (if slow) hash for other keys.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 ^= x;
    }
}

/// The series sharing one label-set hash: almost always one, kept without a heap allocation
/// (a `Vec` per hash cost 32–48 bytes per series).
#[derive(Debug, Clone)]
pub(crate) enum Bucket<T> {
    /// The usual case.
    One(T),
    /// Hash collisions (never empty).
    Many(Vec<T>),
}

impl<T> Bucket<T> {
    /// The entries.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            Bucket::One(x) => std::slice::from_ref(x).iter(),
            Bucket::Many(v) => v.iter(),
        }
    }

    /// Adds an entry.
    pub(crate) fn push(&mut self, x: T) {
        match self {
            Bucket::Many(v) => v.push(x),
            Bucket::One(_) => {
                let Bucket::One(first) =
                    std::mem::replace(self, Bucket::Many(Vec::with_capacity(2)))
                else {
                    return;
                };
                if let Bucket::Many(v) = self {
                    v.push(first);
                    v.push(x);
                }
            }
        }
    }

    /// Keeps the entries `keep` accepts; returns the bucket, or `None` when none is left.
    pub(crate) fn retain(self, mut keep: impl FnMut(&T) -> bool) -> Option<Bucket<T>> {
        match self {
            Bucket::One(x) => keep(&x).then_some(Bucket::One(x)),
            Bucket::Many(mut v) => {
                v.retain(|x| keep(x));
                match v.len() {
                    0 => None,
                    1 => v.pop().map(Bucket::One),
                    _ => Some(Bucket::Many(v)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn bucket_push_and_retain() {
        let mut b = Bucket::One(1);
        b.push(2);
        b.push(3);
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        let b = b.retain(|&x| x != 2).unwrap();
        let b = b.retain(|&x| x != 1).unwrap();
        assert!(matches!(b, Bucket::One(3)));
        assert!(b.retain(|_| false).is_none());
    }

    #[test]
    fn sequential_keys_spread_over_low_and_high_bits() {
        let b = BuildHasherDefault::<U64Hasher>::default();
        let mut low = [0u32; 64];
        let mut high = [0u32; 128];
        for k in 0..64_000u64 {
            let h = b.hash_one(k);
            low[(h & 63) as usize] += 1;
            high[(h >> 57) as usize] += 1;
        }
        // 1,000 per low bucket and 500 per tag on average; a poor mix leaves some near zero.
        assert!(low.iter().all(|&n| (700..1300).contains(&n)), "{low:?}");
        assert!(high.iter().all(|&n| (300..700).contains(&n)), "{high:?}");
    }

    #[test]
    fn map_round_trip() {
        let mut m: U64Map<u64> = U64Map::default();
        for k in 0..10_000u64 {
            m.insert(k * 7, k);
        }
        assert!((0..10_000u64).all(|k| m.get(&(k * 7)) == Some(&k)));
        assert_eq!(m.get(&1), None);
    }
}
