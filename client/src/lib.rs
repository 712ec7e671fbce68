//! Instrument a Rust program for Prometheus: counters, gauges, histograms, summaries,
//! labelled families, registries, custom collectors, a `/metrics` server and Pushgateway push.
//!
//! Metrics are cheap `Arc` handles over relaxed atomics. Families are keyed by the full label
//! values and look existing series up without allocating. Encoding goes through
//! `kagari_exposition::Encoder` in the Prometheus text or OpenMetrics format.
//!
//! Map of the crate:
//! - Metric types: [`Counter`]/[`IntCounter`], [`Gauge`]/[`IntGauge`] (in-progress guard,
//!   timer), [`Histogram`] (hot/cold shards, exemplars, [`linear_buckets`],
//!   [`exponential_buckets`]), [`Summary`] (CKMS quantiles over a sliding window), and
//!   opt-in unsynchronised [`LocalCounter`]/[`LocalHistogram`] buffers.
//! - Families: [`Family`] and its aliases ([`CounterVec`], [`HistogramVec`], ...), typed label
//!   sets via [`LabelSet`] and [`label_set!`].
//! - Registration and encoding: [`Registry`] (prefix, constant labels, name validation,
//!   duplicate/inconsistency errors), [`Opts`], [`Collector`] for scrape-time families,
//!   [`default_registry`], [`register_build_info`], [`ProcessCollector`] (feature `process`).
//! - Serving: [`start_http_server`] (std only) and [`scrape`] for any HTTP stack; `adapters`
//!   for hyper and axum (features `hyper`, `axum`).
//! - Pushing: [`Pusher`] and the [`push`](mod@push) module (feature `push`, blocking `ureq`).
//!
//! ```
//! use kagari_client::{Format, Histogram, IntCounterVec, Opts, Registry};
//!
//! let registry = Registry::new();
//! let requests = IntCounterVec::new(&["code"]).unwrap();
//! registry.register(Opts::new("http_requests", "Requests served."), requests.clone()).unwrap();
//! let latency = Histogram::with_buckets(vec![0.1, 1.0]).unwrap();
//! registry.register(("http_latency_seconds", "Request latency."), latency.clone()).unwrap();
//!
//! requests.with_label_values(&["200"]).unwrap().inc();
//! latency.observe(0.25);
//!
//! let text = registry.encode_to_string(Format::Text).unwrap();
//! let expected = [
//!     "# HELP http_requests_total Requests served.",
//!     "# TYPE http_requests_total counter",
//!     "http_requests_total{code=\"200\"} 1",
//!     "# HELP http_latency_seconds Request latency.",
//!     "# TYPE http_latency_seconds histogram",
//!     "http_latency_seconds_bucket{le=\"0.1\"} 0",
//!     "http_latency_seconds_bucket{le=\"1\"} 1",
//!     "http_latency_seconds_bucket{le=\"+Inf\"} 1",
//!     "http_latency_seconds_sum 0.25",
//!     "http_latency_seconds_count 1",
//! ];
//! assert_eq!(text.lines().collect::<Vec<_>>(), expected);
//! ```
#![forbid(unsafe_code)]

#[cfg(any(feature = "hyper", feature = "axum"))]
pub mod adapters;
mod atomic;
#[cfg(feature = "push")]
mod base64;
mod ckms;
mod collector;
mod counter;
mod error;
mod exemplar;
mod family;
mod gauge;
mod histogram;
mod info;
mod labels;
mod local;
#[cfg(feature = "process")]
mod process;
#[cfg(feature = "push")]
pub mod push;
mod registry;
mod render;
mod server;
mod summary;
mod timer;

pub use atomic::{AtomicF64, Number};
pub use collector::{Collector, Desc, Metric, MetricWriter, Series, SeriesLabels};
pub use counter::{Counter, GenericCounter, IntCounter};
pub use error::Error;
pub use family::{
    CounterVec, Family, GaugeVec, HistogramVec, IntCounterVec, IntGaugeVec, SummaryVec, TypedFamily,
};
pub use gauge::{Gauge, GaugeTimer, GenericGauge, InProgressGuard, IntGauge};
pub use histogram::{
    exponential_buckets, linear_buckets, Histogram, HistogramSnapshot, HistogramTimer,
    DEFAULT_BUCKETS,
};
pub use info::register_build_info;
pub use kagari_exposition::{negotiate, Exemplar, Format, MetricType, Value};
pub use labels::LabelSet;
pub use local::{LocalCounter, LocalHistogram};
#[cfg(feature = "process")]
pub use process::{ProcessCollector, ProcessStats};
#[cfg(feature = "push")]
pub use push::Pusher;
pub use registry::{default_registry, Opts, Registry, RegistryBuilder};
pub use server::{scrape, start_http_server, MetricsServer, ScrapeResponse};
pub use summary::{Summary, SummaryOpts, DEFAULT_AGE_BUCKETS, DEFAULT_BUF_CAP, DEFAULT_MAX_AGE};
pub use timer::{Observe, Timer};
