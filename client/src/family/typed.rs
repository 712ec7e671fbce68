//! [`TypedFamily`]: a family addressed by a typed label set.

use std::marker::PhantomData;

use super::Family;
use crate::collector::Series;
use crate::LabelSet;

/// A family addressed by a typed label set `L`; see [`Family::typed`].
#[derive(Debug)]
pub struct TypedFamily<L: LabelSet, M: Series> {
    pub(super) family: Family<M>,
    pub(super) _labels: PhantomData<fn(&L)>,
}

impl<L: LabelSet, M: Series> Clone for TypedFamily<L, M> {
    fn clone(&self) -> Self {
        TypedFamily {
            family: self.family.clone(),
            _labels: PhantomData,
        }
    }
}

impl<L: LabelSet, M: Series> TypedFamily<L, M> {
    /// The series for `labels`, created on first use.
    pub fn get(&self, labels: &L) -> M {
        let values = labels.label_values();
        let values = values.as_ref();
        // The length always matches: `L::NAMES` was compared with the family's names.
        self.family
            .with_label_values(values)
            .unwrap_or_else(|_| (self.family.inner.make)())
    }

    /// Removes the series for `labels`; returns whether it existed.
    pub fn remove(&self, labels: &L) -> bool {
        self.family
            .remove(labels.label_values().as_ref())
            .unwrap_or(false)
    }

    /// The untyped family.
    pub fn family(&self) -> &Family<M> {
        &self.family
    }
}
