//! The state shared by all handlers: storage, engine options, configuration, scrape manager,
//! metrics and the shutdown signal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use kagari_promql::engine::EngineOptions;
use kagari_scrape::ScrapeManager;
use kagari_tsdb::Db;
use tokio::sync::{Notify, Semaphore};

use crate::config::{self, Loaded};
use crate::flags::Flags;
use crate::metrics::Metrics;

/// Everything the HTTP handlers need.
#[derive(Debug)]
pub(crate) struct AppState {
    /// Storage (queried through kagari-promql's `Queryable`).
    pub(crate) db: Arc<Db>,
    /// Engine defaults from the flags.
    pub(crate) engine: EngineOptions,
    /// Bounds concurrently running queries (`--query.max-concurrency`).
    pub(crate) query_slots: Semaphore,
    /// The command line.
    pub(crate) flags: Flags,
    /// Parser options from `--enable-feature`.
    pub(crate) parser: kagari_promql::ParserOptions,
    /// The external URL and the route prefix.
    pub(crate) web: crate::weburl::WebUrls,
    /// The current configuration.
    pub(crate) config: RwLock<Loaded>,
    /// The scrape manager (`None` once stopped).
    pub(crate) scrape: Mutex<Option<ScrapeManager>>,
    /// Self-monitoring.
    pub(crate) metrics: Metrics,
    /// The target of the embedded self-scrape config (used again on reload).
    pub(crate) self_target: String,
    /// Notified when `/-/quit` asks for termination.
    pub(crate) quit: Notify,
    /// Set once termination was requested.
    pub(crate) quitting: AtomicBool,
    /// When the server started.
    pub(crate) start_time: SystemTime,
    /// Rule evaluation and the notifier.
    pub(crate) rules: Arc<crate::rules::Rules>,
}

impl AppState {
    /// The current configuration (a clone).
    pub(crate) fn config(&self) -> Loaded {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` on the scrape manager, if it still runs.
    pub(crate) fn with_scrape<T>(&self, f: impl FnOnce(&mut ScrapeManager) -> T) -> Option<T> {
        let mut g = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        g.as_mut().map(f)
    }

    /// Re-reads the configuration (the file, or the embedded default) and applies it to
    /// scraping. On error nothing changes.
    pub(crate) fn reload(&self) -> Result<(), String> {
        let loaded = match &self.flags.config_file {
            Some(p) => config::load_file(p),
            None => config::load_embedded(&self.self_target, &self.web.route("/metrics")),
        }
        .map_err(|e| e.to_string())?;
        self.rules
            .apply(&loaded.config, self.flags.config_file.as_deref())?;
        self.with_scrape(|m| m.apply_config(&loaded.config))
            .transpose()
            .map_err(|e| e.to_string())?;
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        tracing::info!("configuration reloaded");
        Ok(())
    }

    /// Requests termination; returns false if it was already requested.
    pub(crate) fn request_quit(&self) -> bool {
        let first = !self.quitting.swap(true, Ordering::AcqRel);
        if first {
            self.quit.notify_one();
        }
        first
    }
}
