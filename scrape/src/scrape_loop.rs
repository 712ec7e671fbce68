//! One target's scrape loop: scheduling, one scrape attempt, report series, staleness.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kagari_model::{Labels, METRIC_NAME, STALE_NAN};
use tokio::sync::watch;

use crate::appender::{Appendable, SeriesRef};
use crate::cache::ScrapeCache;
use crate::error::ScrapeError;
use crate::health::{self, Health, ScrapeHealth, SharedHealth};
use crate::http_client::HttpScraper;
use crate::process::{append_body, SampleCfg, Scratch, Stats};
use crate::target::Target;

/// Per-job settings shared by all loops of the job; replaced on reload.
#[derive(Debug, Clone)]
pub(crate) struct LoopParams {
    /// The HTTP client, or why it could not be built.
    pub(crate) scraper: Result<Arc<HttpScraper>, String>,
    pub(crate) samples: Arc<SampleCfg>,
    /// Set when the whole job is in a forced-error state (`target_limit`).
    pub(crate) forced_error: Option<String>,
    pub(crate) extra_metrics: bool,
    pub(crate) sample_limit: u64,
}

/// Longest tick period used (about ten years).
const MAX_PERIOD: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// How a loop is asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Server shutdown or hand-over to a replacement loop: no markers.
    Quiet,
    /// The target went away: end-of-run staleness markers.
    Gone,
}

const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];
const EXTRA_NAMES: [&str; 3] = [
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];

pub(crate) struct ScrapeLoop {
    pub(crate) target: Arc<Target>,
    pub(crate) params: watch::Receiver<Arc<LoopParams>>,
    pub(crate) appendable: Arc<dyn Appendable>,
    pub(crate) health: SharedHealth,
    pub(crate) seed: u64,
    cache: ScrapeCache,
    scratch: Scratch,
    buf: Vec<u8>,
    /// The target's URL, parsed once.
    url: Option<reqwest::Url>,
    report: Vec<(Labels, Option<SeriesRef>)>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

impl std::fmt::Debug for ScrapeLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeLoop")
            .field("url", &self.target.url())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl ScrapeLoop {
    pub(crate) fn new(
        target: Arc<Target>,
        params: watch::Receiver<Arc<LoopParams>>,
        appendable: Arc<dyn Appendable>,
        health: SharedHealth,
        seed: u64,
    ) -> Self {
        let report = REPORT_NAMES
            .iter()
            .chain(EXTRA_NAMES.iter())
            .map(|n| (target.public_labels().with(METRIC_NAME, n), None))
            .collect();
        let url = reqwest::Url::parse(target.url()).ok();
        ScrapeLoop {
            target,
            params,
            appendable,
            health,
            seed,
            cache: ScrapeCache::default(),
            scratch: Scratch::default(),
            buf: Vec::new(),
            url,
            report,
            first_ts: None,
            last_ts: None,
        }
    }

    /// Runs until `stop` says otherwise.
    pub(crate) async fn run(mut self, mut stop: watch::Receiver<Option<Stop>>) {
        let interval = self.target.interval();
        let ival_ns = u64::try_from(interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0));
        let offset = u64::try_from(self.target.offset(self.seed).as_nanos()).unwrap_or(0);
        let mut wait = (ival_ns - now_ns % ival_ns).saturating_add(offset);
        if wait > ival_ns {
            wait -= ival_ns;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_nanos(wait)) => {}
            m = wait_stop(&mut stop) => return self.finish(m).await,
        }
        // Clamp absurd intervals so instant arithmetic cannot overflow.
        let mut ticker = tokio::time::interval(interval.min(MAX_PERIOD));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                m = wait_stop(&mut stop) => return self.finish(m).await,
            }
            // A stop request during a scrape is honoured after the scrape.
            self.scrape_once().await;
            let requested = *stop.borrow();
            if let Some(m) = requested {
                return self.finish(m).await;
            }
        }
    }

    async fn finish(mut self, mode: Stop) {
        if mode == Stop::Quiet {
            return;
        }
        let interval = self.target.interval();
        let ts = self.last_ts.map_or_else(now_ms, |t| {
            t + i64::try_from(interval.as_millis()).unwrap_or(0)
        });
        tokio::time::sleep(interval.saturating_mul(2).saturating_add(interval / 10)).await;
        let mut app = self.appendable.appender();
        let mut res = self.cache.mark_all_stale(app.as_mut(), ts);
        if self.last_ts.is_some() {
            // Only the report series this loop writes: the extra ones when enabled.
            let n = if self.params.borrow().extra_metrics {
                self.report.len()
            } else {
                REPORT_NAMES.len()
            };
            for (l, r) in self.report.iter().take(n) {
                if let Err(e) = app.append(*r, l, ts, STALE_NAN) {
                    if !e.is_sample_error() {
                        res = Err(e.into());
                    }
                }
            }
        }
        let done = match res {
            Ok(()) => app.commit(),
            Err(_) => app.rollback(),
        };
        if let Err(e) = done {
            tracing::warn!(url = %self.target.url(), error = %e, "writing end-of-run staleness markers");
        }
    }

    fn timestamp(&mut self, ival_ms: i64) -> i64 {
        let mut ts = now_ms();
        match self.first_ts {
            None => self.first_ts = Some(ts),
            Some(first) if ival_ms > 0 => {
                let k = (ts - first + ival_ms / 2).div_euclid(ival_ms);
                let ideal = first + k * ival_ms;
                if (ts - ideal).abs() <= (ival_ms / 100).min(2) {
                    ts = ideal;
                }
            }
            Some(_) => {}
        }
        ts
    }

    /// One scrape attempt: fetch, append or roll back, report series, health.
    pub(crate) async fn scrape_once(&mut self) {
        let params = self.params.borrow().clone();
        let ival_ms = i64::try_from(self.target.interval().as_millis()).unwrap_or(i64::MAX);
        let ts = self.timestamp(ival_ms);
        let started = SystemTime::now();
        let clock = Instant::now();
        self.cache.begin();
        let mut body_size: f64 = 0.0;
        let fetched: Result<_, String> = match (&params.forced_error, &params.scraper) {
            (Some(e), _) | (None, Err(e)) => Err(e.clone()),
            (None, Ok(s)) => match s
                .scrape(
                    self.target.url(),
                    self.url.as_ref(),
                    self.target.timeout(),
                    &mut self.buf,
                )
                .await
            {
                Ok(f) => Ok(f),
                Err(e) => {
                    if matches!(e, ScrapeError::BodySizeLimit) {
                        body_size = -1.0;
                    }
                    Err(e.to_string())
                }
            },
        };
        let mut stats = Stats::default();
        let mut app = self.appendable.appender();
        let result: Result<(), String> = match fetched {
            Ok(format) => {
                body_size = self.buf.len() as f64;
                append_body(
                    app.as_mut(),
                    &mut self.cache,
                    &mut self.scratch,
                    &params.samples,
                    self.target.public_labels(),
                    &self.buf,
                    format,
                    ts,
                    &mut stats,
                )
                .and_then(|()| self.cache.finish_ok(app.as_mut(), ts))
                .map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        // As upstream, the reported duration covers fetching, parsing and appending but
        // not the commit.
        let duration = clock.elapsed();
        let result = match result {
            Ok(()) => app.commit().map_err(|e| e.to_string()),
            Err(e) => {
                if let Err(re) = app.rollback() {
                    tracing::warn!(error = %re, "rollback failed");
                }
                self.cache.forget_uncommitted();
                Err(e)
            }
        };
        let mut app = self.appendable.appender();
        let mut report_err = None;
        if result.is_err() {
            if let Err(e) = self.cache.mark_all_stale(app.as_mut(), ts) {
                report_err = Some(e.to_string());
            }
        }
        let up = if result.is_ok() { 1.0 } else { 0.0 };
        let mut values = vec![
            up,
            duration.as_secs_f64(),
            stats.scraped as f64,
            stats.post_relabel as f64,
            stats.added as f64,
        ];
        if params.extra_metrics {
            values.extend([
                self.target.timeout().as_secs_f64(),
                params.sample_limit as f64,
                body_size,
            ]);
        }
        for ((l, r), v) in self.report.iter_mut().zip(values) {
            match app.append(*r, l, ts, v) {
                Ok(nr) => *r = Some(nr),
                Err(e) if e.is_sample_error() => {}
                Err(e) => report_err = Some(e.to_string()),
            }
        }
        if let Err(e) = app.commit() {
            report_err = Some(e.to_string());
        }
        if let Some(e) = report_err {
            tracing::warn!(url = %self.target.url(), error = %e, "appending report series");
        }
        self.last_ts = Some(ts);
        let (health, last_error) = match result {
            Ok(()) => (Health::Up, String::new()),
            Err(e) => (Health::Down, e),
        };
        health::write(
            &self.health,
            ScrapeHealth {
                health,
                last_error,
                last_scrape: Some(started),
                last_scrape_duration: duration,
            },
        );
    }
}

async fn wait_stop(stop: &mut watch::Receiver<Option<Stop>>) -> Stop {
    loop {
        let requested = *stop.borrow_and_update();
        if let Some(m) = requested {
            return m;
        }
        if stop.changed().await.is_err() {
            // The manager is gone without a word: treat as shutdown.
            return Stop::Quiet;
        }
    }
}
