//! Kagari's shared vocabulary: labels, matchers, sample values, staleness and relabeling.
//!
//! Every other Kagari crate speaks in these types, so they are small, cheap to clone and
//! validated the way Prometheus validates them.
//!
//! ```
//! use kagari_model::{Labels, MatchType, Matcher};
//!
//! let labels = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
//! assert_eq!(labels.get("job"), Some("node"));
//!
//! let m = Matcher::new(MatchType::Regex, "job", "no.*").unwrap();
//! assert!(m.matches(labels.get("job").unwrap_or("")));
//! ```

mod error;
mod labels;
#[cfg(feature = "regex")]
mod matcher;
mod value;

pub use error::Error;
pub use labels::{is_valid_label_name, is_valid_metric_name, Label, Labels, LabelsBuilder, METRIC_NAME};
#[cfg(feature = "regex")]
pub use matcher::{MatchType, Matcher};
pub use value::{is_stale, Timestamp, STALE_NAN, STALE_NAN_BITS};
