//! Kagari's shared vocabulary: labels, matchers, sample values, staleness and relabeling.
//!
//! Every other Kagari crate speaks in these types, so they are small, cheap to clone and
//! validated the way Prometheus validates them.
//!
//! Contents:
//! - [`Labels`], [`LabelsBuilder`], name validation ([`NameValidationScheme`]), serde as a JSON
//!   object;
//! - [`quote_go`]: Go `strconv.Quote`, used wherever Prometheus prints label values;
//! - Go `time` printing: [`go_time_string`], [`go_time_format`], [`go_duration_string`];
//! - sample values and the staleness marker ([`STALE_NAN`], [`is_stale`]);
//! - with the default `regex` feature: [`Matcher`], Go-dialect regexes ([`compile_regex`],
//!   [`Regexp`]) and relabeling ([`relabel()`], [`RelabelConfig`]).
//!
//! ```
//! use kagari_model::Labels;
//!
//! let labels = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
//! assert_eq!(labels.get("job"), Some("node"));
//! assert_eq!(labels.with("env", "a\tb").to_string(), r#"up{env="a\tb", job="node"}"#);
//!
//! # #[cfg(feature = "regex")]
//! # {
//! use kagari_model::{relabel, MatchType, Matcher, RelabelConfig};
//!
//! let m = Matcher::new(MatchType::Regex, "job", "no.*").unwrap();
//! assert!(m.matches(labels.get("job").unwrap_or("")));
//! assert_eq!(m.prefix(), Some("no"));
//!
//! let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(
//!     "- {source_labels: [job], target_label: team, replacement: 'ops-$1'}",
//! ).unwrap();
//! let out = relabel(&labels, &rules).unwrap();
//! assert_eq!(out.to_string(), r#"up{job="node", team="ops-node"}"#);
//! # }
//! ```

mod error;
mod gotime;
mod labels;
mod labels_serde;
#[cfg(feature = "regex")]
mod matcher;
mod quote;
#[cfg(feature = "regex")]
mod re2;
#[cfg(feature = "regex")]
mod relabel;
mod value;

pub use error::Error;
pub use gotime::{go_duration_string, go_time_format, go_time_string};
pub use labels::{
    is_valid_label_name, is_valid_metric_name, Label, Labels, LabelsBuilder, NameValidationScheme,
    METRIC_NAME,
};
#[cfg(feature = "regex")]
pub use matcher::{MatchType, Matcher};
pub use quote::{push_json_string_go, quote_go, quote_go_bytes, write_quoted_go};
#[cfg(feature = "regex")]
pub use re2::{compile_regex, Regexp};
#[cfg(feature = "regex")]
pub use relabel::{relabel, relabel_builder, Action, RelabelConfig, RelabelConfigError};
pub use value::{is_stale, Timestamp, STALE_NAN, STALE_NAN_BITS};
