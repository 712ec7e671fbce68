//! Storage for the latest exemplar of a counter or histogram bucket.

use kagari_exposition::Exemplar;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::atomic::unix_now_seconds;
use crate::Error;

/// OpenMetrics caps the combined length of exemplar label names and values at 128 characters.
const MAX_EXEMPLAR_RUNES: usize = 128;

#[derive(Debug)]
struct Stored {
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_seconds: f64,
}

/// Holds at most one exemplar; empty slots cost one word, a lock byte and a flag, and reading
/// an empty slot takes no lock.
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    set: AtomicBool,
    stored: Mutex<Option<Box<Stored>>>,
}

/// Checks exemplar labels against the OpenMetrics rules.
pub(crate) fn validate_exemplar_labels(labels: &[(&str, &str)]) -> Result<(), Error> {
    let mut runes = 0usize;
    for (i, (n, v)) in labels.iter().enumerate() {
        if !kagari_model::is_valid_label_name(n) {
            return Err(Error::InvalidExemplar {
                reason: "invalid label name",
            });
        }
        if labels.iter().take(i).any(|(m, _)| m == n) {
            return Err(Error::InvalidExemplar {
                reason: "duplicate label name",
            });
        }
        runes += n.chars().count() + v.chars().count();
    }
    if runes > MAX_EXEMPLAR_RUNES {
        return Err(Error::InvalidExemplar {
            reason: "labels longer than 128 characters",
        });
    }
    Ok(())
}

impl ExemplarSlot {
    /// Replaces the stored exemplar (labels must already be validated).
    pub(crate) fn store(&self, labels: &[(&str, &str)], value: f64) {
        let stored = Stored {
            labels: labels
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            value,
            timestamp_seconds: unix_now_seconds(),
        };
        *self.stored.lock() = Some(Box::new(stored));
        self.set.store(true, Ordering::Release);
    }

    /// Calls `f` with the stored exemplar, if any.
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&Exemplar<'_>>) -> R) -> R {
        if !self.set.load(Ordering::Acquire) {
            return f(None);
        }
        let guard = self.stored.lock();
        match guard.as_deref() {
            None => f(None),
            Some(s) => {
                let pairs: Vec<(&str, &str)> = s
                    .labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let ex = Exemplar {
                    labels: &pairs,
                    value: s.value,
                    timestamp_seconds: Some(s.timestamp_seconds),
                };
                f(Some(&ex))
            }
        }
    }

    /// Whether an exemplar is stored.
    #[cfg(test)]
    pub(crate) fn is_set(&self) -> bool {
        self.stored.lock().is_some()
    }

    /// Forgets the stored exemplar.
    pub(crate) fn clear(&self) {
        let mut guard = self.stored.lock();
        self.set.store(false, Ordering::Release);
        *guard = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_bad_and_long_labels() {
        assert!(validate_exemplar_labels(&[("trace_id", "abc")]).is_ok());
        assert!(validate_exemplar_labels(&[("0bad", "x")]).is_err());
        assert!(validate_exemplar_labels(&[("a", "1"), ("a", "2")]).is_err());
        let long = "x".repeat(121); // 8 + 121 > 128
        assert!(validate_exemplar_labels(&[("trace_id", &"x".repeat(120))]).is_ok());
        assert!(validate_exemplar_labels(&[("trace_id", &long)]).is_err());
    }

    #[test]
    fn stores_latest() {
        let s = ExemplarSlot::default();
        assert!(!s.is_set());
        s.store(&[("id", "1")], 1.0);
        s.store(&[("id", "2")], 2.0);
        s.with(|e| {
            let e = e.copied();
            assert!(matches!(e, Some(Exemplar { value, .. }) if value == 2.0));
            assert_eq!(e.map(|e| e.labels.to_vec()), Some(vec![("id", "2")]));
        });
        s.clear();
        assert!(!s.is_set());
    }
}
