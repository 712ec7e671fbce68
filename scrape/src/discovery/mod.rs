//! Service discovery: the [`Discoverer`] trait, static and file discovery, and the per-job
//! [`JobDiscovery`] that merges their updates.
//!
//! - `static_sd.rs`: [`StaticDiscoverer`] for `static_configs`;
//! - `file.rs`: [`FileDiscoverer`] for `file_sd_configs` (JSON/YAML, globs, mtime polling);
//! - `manager.rs`: [`JobDiscovery`], one merged view of all providers of a job.
//!
//! A new mechanism (Kubernetes, DNS, HTTP, …) only implements [`Discoverer`]; the scrape loop
//! never changes.

mod file;
mod manager;
mod static_sd;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

pub use file::{parse_file_sd, FileDiscoverer};
pub use manager::JobDiscovery;
pub use static_sd::StaticDiscoverer;

/// A discovered label set (names to values, sorted).
pub type LabelSet = BTreeMap<String, String>;

/// A group of targets sharing labels, identified by `source` within its provider.
///
/// An update with an empty `targets` list for a known source removes that group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its provider (e.g. `path:index` for file SD).
    pub source: String,
    /// One label set per target; each has at least `__address__`.
    pub targets: Vec<LabelSet>,
    /// Labels for every target of the group (a target's own labels win).
    pub labels: LabelSet,
}

/// A boxed future, as returned by [`Discoverer::run`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A source of target groups.
///
/// `run` sends updates (changed groups only, or everything) on `tx` until `tx` is closed or
/// the task is aborted. The first send should be the complete initial state.
pub trait Discoverer: Send + std::fmt::Debug {
    /// Runs discovery, sending updates on `tx`.
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> BoxFuture<()>;
}

/// Why a discovery source could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// JSON decoding failed (line and column in the message).
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// YAML decoding failed (line and column in the message).
    #[error("{path}: {source}")]
    Yaml {
        /// The file.
        path: String,
        /// The cause.
        source: serde_yaml_ng::Error,
    },
    /// A list element was `null`.
    #[error("{path}: nil target group item found (index {index})")]
    NullGroup {
        /// The file.
        path: String,
        /// The list index.
        index: usize,
    },
    /// A group label name is invalid.
    #[error("{path}: {name:?} is not a valid label name")]
    BadLabelName {
        /// The file.
        path: String,
        /// The name.
        name: String,
    },
    /// The extension is not json/yml/yaml.
    #[error("{path}: unknown file extension")]
    BadExtension {
        /// The file.
        path: String,
    },
}
