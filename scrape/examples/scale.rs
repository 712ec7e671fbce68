//! Scale harness: the scrape manager scraping `--targets` loopback exporters (ports
//! `--port` upward, e.g. from the `fake_exporter` example or `shared/bench/fake-exporter`)
//! every `--interval`, appending into a real `kagari_tsdb::Db` (head + WAL in `--data` or a
//! temporary directory), the way the `kagari` server wires them. `--storage null` appends
//! nowhere (each appender only counts), which isolates the scrape side's own cost.
//!
//! After `--warmup` seconds it measures `--duration` seconds and prints `key value` lines:
//! samples per second, this process's CPU seconds (user + system from `/proc/self/stat`)
//! per million samples, RSS, and scrape regularity: the scrapes each target completed in
//! the window, missed scrapes (a gap of `k` intervals between two consecutive scrape
//! timestamps of a target counts `k - 1`), failed scrapes (`up == 0`) and scrape durations.
//!
//! ```text
//! cargo run --release -p kagari-scrape --example fake_exporter -- --targets 100 --port 19200 &
//! cargo run --release -p kagari-scrape --example scale -- --targets 100 --port 19200 --interval 1s --duration 60
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kagari_model::Labels;
use kagari_scrape::{
    AppendError, Appendable, Appender, Config, ManagerOptions, ScrapeManager, SeriesRef,
};
use kagari_tsdb::{Db, Error as TsdbError, Options, OwnedAppender};

/// What the harness observes on the append path.
#[derive(Default)]
struct Observed {
    /// Whether samples are being counted (the measurement window).
    measuring: AtomicBool,
    committed: AtomicU64,
    rejected: AtomicU64,
    /// The scrape interval in ms.
    interval_ms: i64,
    /// Per instance, in the window.
    up: Mutex<HashMap<String, PerTarget>>,
    durations: Mutex<Vec<f64>>,
}

/// Scrapes of one target in the window.
#[derive(Debug, Default, Clone, Copy)]
struct PerTarget {
    ok: u64,
    failed: u64,
    /// Timestamp of the last scrape (its `up` sample).
    last_t: Option<i64>,
    /// Ticks skipped: a gap of `k` intervals between consecutive scrapes misses `k - 1`.
    missed: u64,
}

#[derive(Clone)]
struct DbAppendable {
    db: Arc<Db>,
    seen: Arc<Observed>,
    /// `--storage null`: count, but store nothing (isolates the scrape side's cost).
    null: bool,
}

/// A sample kept for the scrape-regularity figures.
struct Kept {
    labels: Labels,
    t: i64,
    v: f64,
}

/// One scrape's head transaction, as the server's `storage.rs` wires it: an owned head
/// appender, appended to directly (by the refs the scrape cache keeps).
struct DbAppender {
    app: OwnedAppender,
    seen: Arc<Observed>,
    rejected: u64,
    /// The first two samples (a report transaction starts with `up` and
    /// `scrape_duration_seconds`).
    head: Vec<Kept>,
}

/// `--storage null`: counts samples and keeps the first two.
struct NullAppender {
    seen: Arc<Observed>,
    n: u64,
    head: Vec<Kept>,
}

impl Appendable for DbAppendable {
    fn appender(&self) -> Box<dyn Appender> {
        if self.null {
            return Box::new(NullAppender {
                seen: self.seen.clone(),
                n: 0,
                head: Vec::new(),
            });
        }
        Box::new(DbAppender {
            app: self.db.appender_owned(),
            seen: self.seen.clone(),
            rejected: 0,
            head: Vec::new(),
        })
    }
}

fn keep(head: &mut Vec<Kept>, labels: &Labels, t: i64, v: f64) {
    if head.len() < 2 {
        head.push(Kept {
            labels: labels.clone(),
            t,
            v,
        });
    }
}

impl Appender for NullAppender {
    fn append(
        &mut self,
        _: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        keep(&mut self.head, labels, t, v);
        self.n += 1;
        Ok(SeriesRef(0))
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        if self.seen.measuring.load(Ordering::Relaxed) {
            self.seen.committed.fetch_add(self.n, Ordering::Relaxed);
            observe_report(&self.seen, &self.head);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<(), AppendError> {
        Ok(())
    }
}

impl Appender for DbAppender {
    fn append(
        &mut self,
        sref: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        keep(&mut self.head, labels, t, v);
        let err = match self.app.append(sref.map(|r| r.0), labels, t, v) {
            Ok(r) => return Ok(SeriesRef(r)),
            Err(TsdbError::OutOfOrderSample { .. }) => AppendError::OutOfOrder,
            Err(TsdbError::DuplicateSampleForTimestamp { .. }) => AppendError::Duplicate,
            Err(TsdbError::OutOfBounds { .. }) => AppendError::OutOfBounds,
            Err(e) => return Err(AppendError::Storage(Box::new(e))),
        };
        self.rejected += 1;
        Err(err)
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        let DbAppender {
            app,
            seen,
            rejected,
            head,
        } = *self;
        let n = app.len() as u64;
        app.commit()
            .map_err(|e| AppendError::Storage(Box::new(e)))?;
        if seen.measuring.load(Ordering::Relaxed) {
            seen.committed.fetch_add(n, Ordering::Relaxed);
            seen.rejected.fetch_add(rejected, Ordering::Relaxed);
            observe_report(&seen, &head);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<(), AppendError> {
        self.app.rollback();
        Ok(())
    }
}

/// Report series come in their own transaction, which starts with `up`.
fn observe_report(seen: &Observed, pending: &[Kept]) {
    let Some(first) = pending.first() else {
        return;
    };
    if first.labels.metric_name() != Some("up") {
        return;
    }
    let instance = first.labels.get("instance").unwrap_or("");
    {
        let mut up = seen.up.lock().unwrap_or_else(|e| e.into_inner());
        let e = match up.get_mut(instance) {
            Some(e) => e,
            None => up.entry(instance.to_string()).or_default(),
        };
        if first.v == 1.0 {
            e.ok += 1;
        } else {
            e.failed += 1;
        }
        let ival = seen.interval_ms.max(1);
        if let Some(last) = e.last_t {
            let gap = first.t - last;
            if gap * 2 > ival * 3 {
                e.missed += u64::try_from((gap + ival / 2) / ival - 1).unwrap_or(0);
            }
        }
        e.last_t = Some(first.t);
    }
    if let Some(d) = pending
        .iter()
        .find(|p| p.labels.metric_name() == Some("scrape_duration_seconds"))
    {
        seen.durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(d.v);
    }
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / hz
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let targets: u16 = arg(&args, "--targets", "100").parse()?;
    let port: u16 = arg(&args, "--port", "19200").parse()?;
    let interval = arg(&args, "--interval", "1s");
    let warmup: f64 = arg(&args, "--warmup", "15").parse()?;
    let duration: f64 = arg(&args, "--duration", "60").parse()?;
    let threads: usize = arg(&args, "--threads", "2").parse()?;
    let data = arg(&args, "--data", "");
    let storage = arg(&args, "--storage", "tsdb");
    if storage != "tsdb" && storage != "null" {
        return Err(format!("--storage must be tsdb or null, not {storage}").into());
    }

    let tmp = tempfile::tempdir()?;
    let dir = if data.is_empty() {
        tmp.path().to_path_buf()
    } else {
        data.into()
    };
    let db = Arc::new(Db::open(&dir, Options::default())?);
    let mut yaml = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\nscrape_configs:\n  - job_name: fake\n    static_configs:\n      - targets:\n"
    );
    for i in 0..targets {
        yaml.push_str(&format!("          - 127.0.0.1:{}\n", port + i));
    }
    let cfg = Config::from_yaml(&yaml)?;
    let ival = cfg
        .scrape_configs
        .first()
        .map_or(Duration::from_secs(1), |c| c.interval().as_duration());

    let seen = Arc::new(Observed {
        interval_ms: i64::try_from(ival.as_millis()).unwrap_or(i64::MAX),
        ..Default::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async {
        let appendable = DbAppendable {
            db: db.clone(),
            seen: seen.clone(),
            null: storage == "null",
        };
        let mut manager = ScrapeManager::new(Arc::new(appendable), ManagerOptions::default());
        manager.apply_config(&cfg)?;
        eprintln!(
            "scale: {targets} targets from 127.0.0.1:{port} every {interval}; warm-up {warmup}s, measuring {duration}s"
        );
        tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
        let (t0, c0) = (Instant::now(), cpu_seconds());
        seen.measuring.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs_f64(duration)).await;
        seen.measuring.store(false, Ordering::Relaxed);
        let (dt, c1) = (t0.elapsed().as_secs_f64(), cpu_seconds());
        let active = manager.active_targets();
        manager.stop().await;

        let samples = seen.committed.load(Ordering::Relaxed) as f64;
        let cpu = c1 - c0;
        let up = seen.up.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let expected = (dt / ival.as_secs_f64()).floor() as u64;
        let ok: u64 = up.values().map(|v| v.ok).sum();
        let failed: u64 = up.values().map(|v| v.failed).sum();
        let missed: u64 = up.values().map(|v| v.missed).sum();
        let min_per_target = if up.len() < usize::from(targets) {
            0
        } else {
            up.values().map(|v| v.ok + v.failed).min().unwrap_or(0)
        };
        let mut d = seen
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        d.sort_by(f64::total_cmp);
        let q = |p: f64| {
            d.get(((d.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        let avg = d.iter().sum::<f64>() / d.len().max(1) as f64;
        println!("window_s              {dt:.1}");
        println!("samples_per_s         {:.0}", samples / dt);
        println!("cpu_s                 {cpu:.2}");
        println!("cpu_pct               {:.1}", 100.0 * cpu / dt);
        println!("cpu_s_per_M_samples   {:.3}", cpu / samples * 1e6);
        println!("rss_bytes             {}", rss_bytes());
        println!("head_series           {}", db.head().num_series());
        println!("targets_active        {}", active.len());
        println!("scrapes_expected      {}", expected * u64::from(targets));
        println!("scrapes_ok            {ok}");
        println!("scrapes_failed        {failed}");
        println!("scrapes_missed        {missed}");
        println!("min_scrapes_per_target {min_per_target}");
        println!("rejected_samples      {}", seen.rejected.load(Ordering::Relaxed));
        println!("scrape_s_avg          {avg:.4}");
        println!("scrape_s_p99          {:.4}", q(0.99));
        println!("scrape_s_max          {:.4}", q(1.0));
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    db.close()?;
    Ok(())
}
