//! Prometheus text format 0.0.4 and OpenMetrics 1.0: parsers, encoder, content negotiation.
//!
//! * Pull parsers, zero-copy over `&[u8]`: [`TextParser`] and [`OpenMetricsParser`] yield
//!   [`Entry`] values (HELP, TYPE, UNIT, comments, samples) that borrow from the input.
//! * Family-level parsers: [`parse_text`] (as strict as Go's `expfmt`) and
//!   [`parse_openmetrics`] (all OpenMetrics semantic rules) return [`MetricFamily`] values.
//! * Encoding: the streaming [`Encoder`] (what `kagari-client` uses) and [`encode_families`]
//!   for parsed families, in either [`Format`].
//! * [`negotiate`] picks a [`Format`] from an HTTP `Accept` header.
//!
//! This crate does no I/O of its own and never panics on input.
//!
//! ```
//! use kagari_exposition::{encode_families, parse_openmetrics, parse_text, Format};
//!
//! let text = b"# HELP up Is it up.\n# TYPE up gauge\nup{job=\"node\"} 1\n";
//! let families = parse_text(text)?;
//! let mut om = Vec::new();
//! encode_families(&mut om, &families, Format::OpenMetrics).expect("writing to a Vec");
//! assert_eq!(
//!     String::from_utf8_lossy(&om),
//!     "# HELP up Is it up.\n# TYPE up gauge\nup{job=\"node\"} 1\n# EOF\n"
//! );
//! assert_eq!(parse_openmetrics(&om)?[0].samples, families[0].samples);
//! # Ok::<(), kagari_exposition::ParseError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod encode;
mod entry;
mod error;
mod escape;
mod families_encode;
mod family;
mod lex;
mod negotiate;
mod number;
mod openmetrics;
mod text;
mod types;

pub use encode::{encode_families, Encoder, Exemplar};
pub use entry::{Entry, ExemplarEntry, SampleEntry};
pub use error::{EncodeError, ErrorKind, ParseError};
pub use family::{parse_text, ExemplarData, MetricFamily, Sample};
pub use lex::{is_valid_label_name, is_valid_metric_name, LabelIter, LabelSet};
pub use negotiate::negotiate;
pub use openmetrics::parse::OpenMetricsParser;
pub use openmetrics::rules::parse_openmetrics;
pub use text::parse::TextParser;
pub use types::{Format, MetricType, Timestamp, Value};
