//! Prometheus-compatible scraping: configuration, service discovery, targets and the scrape
//! loop, appending to storage through the small [`Appender`] trait.
//!
//! Contents:
//! - configuration ([`Config`], [`ScrapeConfig`], [`PromDuration`], [`ByteSize`]): strict
//!   `prometheus.yml` decoding with Prometheus's defaults and validation;
//! - [`discovery`]: the [`Discoverer`](discovery::Discoverer) trait, static and file SD;
//! - targets ([`Target`], [`targets_from_group`], [`scrape_url`]): label derivation and
//!   target relabeling;
//! - storage seam ([`Appendable`], [`Appender`], [`SeriesRef`]);
//! - [`ScrapeManager`]: scrape loops per target, report series, staleness, target health,
//!   reload.
//!
//! - examples: `scale` (the scale harness: the manager into a kagari-tsdb head, CPU per
//!   sample and missed scrapes; `scripts/bench-scrape` runs it next to Prometheus) and
//!   `fake_exporter` (loopback exporters serving the bench kit's content).
//!
//! Data flow: providers ([`discovery::Discoverer`]) → per-job merge
//! ([`discovery::JobDiscovery`]) → target derivation and relabeling ([`targets_from_group`]) →
//! one scrape loop per distinct target (hash of labels and URL) → [`Appender`] transaction per
//! scrape.
//!
//! **Architecture Invariant:** the scrape loop never knows where targets come from; new
//! discovery mechanisms implement [`discovery::Discoverer`] (or come in through
//! [`ManagerOptions::extra_discovery`]) and nothing else changes.
//!
//! **Architecture Invariant:** a scrape is all-or-nothing: samples go through one appender
//! that is committed only if the whole body parsed and passed the limits; report series
//! (`up`, `scrape_*`) and staleness markers of a failed scrape go through a second one.
//!
//! **API Boundary:** storage sees only [`Appendable`]/[`Appender`]; refs ([`SeriesRef`])
//! handed out by `append` must stay valid for the same labels across transactions.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use kagari_model::Labels;
//! use kagari_scrape::{Appendable, AppendError, Appender, Config, ManagerOptions, ScrapeManager, SeriesRef};
//!
//! /// Counts appended samples.
//! #[derive(Default)]
//! struct Count(Arc<Mutex<usize>>);
//! struct CountApp(Arc<Mutex<usize>>, usize);
//! impl Appender for CountApp {
//!     fn append(&mut self, _: Option<SeriesRef>, _: &Labels, _: i64, _: f64) -> Result<SeriesRef, AppendError> {
//!         self.1 += 1;
//!         Ok(SeriesRef(0))
//!     }
//!     fn commit(self: Box<Self>) -> Result<(), AppendError> { *self.0.lock().unwrap() += self.1; Ok(()) }
//!     fn rollback(self: Box<Self>) -> Result<(), AppendError> { Ok(()) }
//! }
//! impl Appendable for Count {
//!     fn appender(&self) -> Box<dyn Appender> { Box::new(CountApp(self.0.clone(), 0)) }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let cfg = Config::from_yaml("scrape_configs: [{job_name: x, static_configs: [{targets: ['127.0.0.1:1']}]}]")?;
//! let mut manager = ScrapeManager::new(Arc::new(Count::default()), ManagerOptions::default());
//! manager.apply_config(&cfg)?;
//! // Targets appear once discovery has reported them.
//! while manager.active_targets().is_empty() {
//!     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
//! }
//! assert_eq!(manager.active_targets()[0].scrape_url, "http://127.0.0.1:1/metrics");
//! manager.stop().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod appender;
mod cache;
mod config;
pub mod discovery;
mod error;
mod health;
mod http_client;
mod manager;
mod process;
mod scrape_loop;
mod target;
mod text_lines;
mod tls;

pub use appender::{AppendError, Appendable, Appender, SeriesRef};
pub use config::{
    Authorization, BasicAuth, ByteSize, Config, ConfigError, FileSdConfig, GlobalConfig,
    PromDuration, ScrapeConfig, ScrapeProtocol, StaticConfig, TlsConfig, UnitParseError,
};
pub use error::ScrapeError;
pub use health::{DroppedTarget, Health, ScrapeHealth, TargetStatus};
pub use manager::{DiscoveryFactory, ManagerOptions, ScrapeManager};
pub use target::{
    discovered_labels, populate_labels, scrape_url, targets_from_group, GroupTargets, Target,
    TargetError,
};
