//! Target health as the `/api/v1/targets` API shows it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kagari_model::Labels;

/// `health` of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `"unknown"`, `"up"` or `"down"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of the last scrape of a target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeHealth {
    /// Up, down or unknown.
    pub health: Health,
    /// The last error message (empty when healthy).
    pub last_error: String,
    /// Start time of the last scrape.
    pub last_scrape: Option<SystemTime>,
    /// Duration of the last scrape.
    pub last_scrape_duration: Duration,
}

pub(crate) type SharedHealth = Arc<Mutex<ScrapeHealth>>;

pub(crate) fn read(h: &SharedHealth) -> ScrapeHealth {
    h.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

pub(crate) fn write(h: &SharedHealth, v: ScrapeHealth) {
    *h.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = v;
}

/// An active target: labels, URL and last-scrape health.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// The job (`scrapePool`).
    pub job: String,
    /// Public labels (no `__` labels).
    pub labels: Labels,
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// The scrape URL.
    pub scrape_url: String,
    /// Interval.
    pub scrape_interval: Duration,
    /// Timeout.
    pub scrape_timeout: Duration,
    /// Last scrape outcome.
    pub health: ScrapeHealth,
}

/// A target dropped by relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    /// The job.
    pub job: String,
    /// Labels before relabeling.
    pub discovered_labels: Labels,
}
