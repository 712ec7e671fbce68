//! Hot-path lookup structures that avoid hashing whole label sets once per point.
//!
//! A [`Labels`] is an `Arc`: clones of one label set share one allocation, so the data pointer
//! identifies a label set as long as a clone of it is kept alive. Every structure here keeps
//! the clone it keys by, so a pointer can never be reused by another label set while it is a
//! key. Equal label sets in different allocations are still found, through their
//! [`Labels::stable_hash`] plus an equality check, and their pointer is then remembered too.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use kagari_model::Labels;

use super::value::{FPoint, Matrix, Series};
use super::EngineError;

/// A hasher for keys that are already well-spread integers (pointers, 64-bit hashes): one
/// multiply and a fold of the high half into the low half.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let x = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A `HashMap` keyed by integers, hashed with [`IntHasher`].
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// The identity of a label set's allocation (valid while a clone is alive).
pub(crate) fn ptr(l: &Labels) -> usize {
    l.as_slice().as_ptr() as usize
}

/// A fast (not stable across versions) hash of a label set's content: 8 bytes at a time.
pub(crate) fn content_hash(l: &Labels) -> u64 {
    let mut h = IntHasher::default();
    for lbl in l.iter() {
        for part in [lbl.name.as_bytes(), lbl.value.as_bytes()] {
            let mut chunks = part.chunks_exact(8);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                h.write_u64(u64::from_le_bytes(w));
            }
            let mut w = [0u8; 8];
            let rest = chunks.remainder();
            w.get_mut(..rest.len())
                .unwrap_or(&mut [])
                .copy_from_slice(rest);
            // The length separates `a="bc"` from `ab="c"`.
            h.write_u64(u64::from_le_bytes(w) ^ ((part.len() as u64) << 56));
        }
    }
    h.finish()
}

/// Finds the slot of a label set: by allocation first, then by content.
#[derive(Debug, Default)]
pub(crate) struct LabelsIndex {
    by_ptr: IntMap<usize, usize>,
    by_hash: IntMap<u64, Vec<usize>>,
    /// Clones keeping every pointer key of `by_ptr` alive.
    alive: Vec<Labels>,
}

impl LabelsIndex {
    /// The slot of `l`, where `labels_of(slot)` gives a slot's label set; `None` if unknown.
    pub(crate) fn get<'a>(
        &mut self,
        l: &Labels,
        labels_of: impl Fn(usize) -> Option<&'a Labels>,
    ) -> Option<usize> {
        let p = ptr(l);
        if let Some(&slot) = self.by_ptr.get(&p) {
            return Some(slot);
        }
        let h = content_hash(l);
        let slot = *self
            .by_hash
            .get(&h)?
            .iter()
            .find(|&&s| labels_of(s).is_some_and(|x| x == l))?;
        self.by_ptr.insert(p, slot);
        self.alive.push(l.clone());
        Some(slot)
    }

    /// Records `l` (not yet known) at `slot`.
    pub(crate) fn insert(&mut self, l: &Labels, slot: usize) {
        self.by_ptr.insert(ptr(l), slot);
        self.by_hash.entry(content_hash(l)).or_default().push(slot);
        self.alive.push(l.clone());
    }
}

/// The most points a new series is allocated room for up front (1 KiB): a query with many
/// steps over many sparse series must not reserve steps × series points.
const MAX_POINTS_HINT: usize = 64;

/// Builds a range result point by point: one series per distinct label set.
#[derive(Debug, Default)]
pub(crate) struct MatrixBuilder {
    index: LabelsIndex,
    out: Matrix,
    /// Points a new series is allocated room for.
    points_hint: usize,
}

impl MatrixBuilder {
    /// A builder whose series will hold up to about `points` points each.
    pub(crate) fn with_points_hint(points: usize) -> Self {
        MatrixBuilder {
            points_hint: points.clamp(1, MAX_POINTS_HINT),
            ..MatrixBuilder::default()
        }
    }

    /// Adds the point `(t, f)` to the series `metric`. Two points of one label set at the same
    /// `t` (two equal label sets in one step's result) are an error.
    pub(crate) fn push(
        &mut self,
        metric: Labels,
        drop: bool,
        t: i64,
        f: f64,
    ) -> Result<(), EngineError> {
        let out = &self.out;
        match self
            .index
            .get(&metric, |i| out.get(i).map(|s: &Series| &s.metric))
        {
            Some(i) => {
                if let Some(s) = self.out.get_mut(i) {
                    if s.floats.last().is_some_and(|p| p.t == t) {
                        return Err(EngineError::DuplicateLabelset);
                    }
                    s.floats.push(FPoint { t, f });
                    s.drop_name |= drop;
                }
            }
            None => {
                self.index.insert(&metric, self.out.len());
                let mut floats = Vec::with_capacity(self.points_hint.max(1));
                floats.push(FPoint { t, f });
                self.out.push(Series {
                    metric,
                    floats,
                    drop_name: drop,
                });
            }
        }
        Ok(())
    }

    /// The series built so far, in order of first appearance.
    pub(crate) fn series(&self) -> &[Series] {
        &self.out
    }

    /// The series built so far, to drop old points from (pushing still checks the last one).
    pub(crate) fn series_mut(&mut self) -> &mut [Series] {
        &mut self.out
    }

    /// The series built so far, in order of first appearance.
    pub(crate) fn finish(self) -> Matrix {
        self.out
    }
}

/// Per-input-series results computed once per query (grouping keys, parsed `le` values),
/// keyed by the input label set's allocation. Derived label sets are interned, so equal
/// results share one allocation and can themselves be keyed by [`ptr`] (the cache keeps them
/// alive).
#[derive(Debug, Default)]
pub(crate) struct DerivedCache {
    by_ptr: IntMap<usize, (Labels, Option<(Labels, f64)>)>,
    intern: HashMap<Labels, Labels>,
}

/// Entries after which [`DerivedCache`] forgets its per-input entries: inputs that are fresh
/// allocations at every step would otherwise grow it without bound.
const DERIVED_CACHE_LIMIT: usize = 1 << 20;

impl DerivedCache {
    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.by_ptr.clear();
        self.intern.clear();
    }

    /// The derived label set (interned) and number for `input`, computing them with `f` the
    /// first time; `None` if `f` says the input has none.
    pub(crate) fn get(
        &mut self,
        input: &Labels,
        f: impl FnOnce(&Labels) -> Option<(Labels, f64)>,
    ) -> Option<(Labels, f64)> {
        let p = ptr(input);
        if let Some((_, v)) = self.by_ptr.get(&p) {
            return v.clone();
        }
        let v = f(input).map(|(l, x)| {
            let l = self.intern.entry(l.clone()).or_insert(l).clone();
            (l, x)
        });
        if self.by_ptr.len() >= DERIVED_CACHE_LIMIT {
            self.by_ptr.clear();
        }
        self.by_ptr.insert(p, (input.clone(), v.clone()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &str) -> Labels {
        Labels::from_pairs([("a", v)]).unwrap()
    }

    #[test]
    fn matrix_builder_merges_equal_label_sets_in_other_allocations() {
        let mut b = MatrixBuilder::default();
        b.push(l("1"), false, 0, 1.0).unwrap();
        b.push(l("2"), false, 0, 2.0).unwrap();
        // A fresh allocation of an existing label set: found by content.
        b.push(l("1"), true, 10, 3.0).unwrap();
        let m = b.finish();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].floats,
            vec![FPoint { t: 0, f: 1.0 }, FPoint { t: 10, f: 3.0 }]
        );
        assert!(m[0].drop_name);
        assert_eq!(m[1].floats.len(), 1);
    }

    #[test]
    fn content_hash_separates_label_boundaries() {
        let a = Labels::from_pairs([("a", "bc")]).unwrap();
        let b = Labels::from_pairs([("ab", "c")]).unwrap();
        let long = Labels::from_pairs([("name_longer_than_8", "value_longer_than_8")]).unwrap();
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(
            content_hash(&long),
            content_hash(&long.clone().with("x", "1").without("x"))
        );
        assert_ne!(content_hash(&long), content_hash(&long.with("x", "1")));
    }

    #[test]
    fn matrix_builder_rejects_duplicates_within_a_step() {
        let mut b = MatrixBuilder::default();
        let x = l("1");
        b.push(x.clone(), false, 0, 1.0).unwrap();
        assert!(matches!(
            b.push(l("1"), false, 0, 2.0),
            Err(EngineError::DuplicateLabelset)
        ));
        assert!(matches!(
            b.push(x, false, 0, 2.0),
            Err(EngineError::DuplicateLabelset)
        ));
    }

    #[test]
    fn derived_cache_computes_once_and_interns() {
        let mut c = DerivedCache::default();
        let (x, y) = (l("1"), l("2"));
        let mut calls = 0;
        let mut derive = |input: &Labels| {
            calls += 1;
            (input.get("a") == Some("1")).then(|| (l("g"), 1.5))
        };
        let g1 = c.get(&x, &mut derive);
        let g2 = c.get(&x, &mut derive);
        assert_eq!(c.get(&y, &mut derive), None);
        assert_eq!(calls, 2);
        let (g1, g2) = (g1.unwrap(), g2.unwrap());
        assert_eq!(g1.1, 1.5);
        assert_eq!(ptr(&g1.0), ptr(&g2.0));
        // Equal derived label sets of different inputs share one allocation.
        let x2 = l("1");
        let g3 = c.get(&x2, |_| Some((l("g"), 0.0))).unwrap();
        assert_eq!(ptr(&g1.0), ptr(&g3.0));
    }
}
