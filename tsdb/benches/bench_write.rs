//! The write benchmark of `promtool tsdb bench write`, on the same schedule, for Kagari's `Db`.
//!
//! ```sh
//! cargo bench -p kagari-tsdb --bench bench_write -- [--metrics 10000] [--scrapes 3000] [--threads N] [--out DIR] LABELS.json
//! ```
//!
//! The label sets come from a file with one JSON object of labels per line (promtool's
//! format: no `:` or `,` inside names or values; repeated sets are skipped). The first
//! `metrics` sets are appended `scrapes` times, 30 s apart, through the WAL of a fresh
//! database in `DIR/storage` (`DIR` is removed first, as promtool does):
//!
//! * scrapes go in rounds of 100; in each round the series are split into workers of 1,000
//!   series, each appending its 100 scrapes with one commit per scrape; the workers run on
//!   `--threads` OS threads (default: one per core, as Go runs promtool's goroutines on
//!   GOMAXPROCS threads);
//! * a worker starts without series refs (its first append of a round goes by labels) and
//!   with every value at 123456789, adding 1000 per scrape;
//! * compaction does not run (Kagari's `Db` only compacts when asked; promtool disables it).
//!
//! It prints promtool's figures (`total samples`, `samples/sec`) plus the resident memory
//! after ingestion. Run by `cargo test` (no `--bench` argument), it does a small run on
//! generated label sets instead and checks that every sample is replayed from the WAL.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kagari_model::Labels;
use kagari_tsdb::db::{Db, Options};

/// Milliseconds between two scrapes (promtool's `timeDelta`).
const TIME_DELTA: i64 = 30_000;
/// Scrapes per round; every round starts new workers.
const SCRAPES_PER_ROUND: usize = 100;
/// Series per worker.
const SERIES_PER_WORKER: usize = 1_000;
/// First value of every series in a worker.
const START_VALUE: i64 = 123_456_789;

/// An error of the benchmark, with the file or argument involved.
type BenchError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BenchError> {
    let mut args = std::env::args().skip(1);
    let (mut metrics, mut scrapes, mut out, mut file, mut bench) =
        (10_000, 3_000, None, None, false);
    // Like GOMAXPROCS: one thread per core.
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--bench" => bench = true,
            "--metrics" => metrics = value("--metrics")?.parse()?,
            "--scrapes" => scrapes = value("--scrapes")?.parse()?,
            "--threads" => threads = value("--threads")?.parse()?,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            f if f.starts_with('-') => return Err(format!("unknown flag {f}").into()),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    match (bench, file) {
        (true, Some(file)) => {
            let out = out.unwrap_or_else(|| PathBuf::from("benchout"));
            run_write(&file, &out, metrics, scrapes, threads).map(|_| ())
        }
        (true, None) => Err(
            "usage: bench_write [--metrics N] [--scrapes N] [--threads N] [--out DIR] LABELS.json"
                .into(),
        ),
        (false, _) => self_check(),
    }
}

/// The `cargo test` run: 2,100 generated series (two full workers and a partial one) ×
/// 200 scrapes, then the database is reopened and every sample must come back from the WAL.
fn self_check() -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("labels.json");
    let lines: String = (0..2_500)
        .map(|i| format!("{{\"__name__\":\"m\",\"i\":\"{}\"}}\n", i % 2_200))
        .collect();
    fs::write(&file, lines)?;
    let out = dir.path().join("out");
    // Three threads for three workers: commits of different workers interleave.
    let total = run_write(&file, &out, 2_100, 200, 3)?;
    let db = Db::open(out.join("storage"), Options::default())?;
    let want = 2_100 * 200;
    // Every sample is back after reopening (from the WAL and `chunks_head/`).
    let m = kagari_model::Matcher::new(kagari_model::MatchType::Equal, "__name__", "m")?;
    let series = db.querier(i64::MIN, i64::MAX).select(&[m])?;
    let mut replayed = 0u64;
    for s in &series {
        replayed += s.samples()?.len() as u64;
    }
    let got = (total, replayed, series.len(), db.head().max_time());
    if got != (want, want, 2_100, 200 * TIME_DELTA) {
        return Err(format!(
            "self-check: got {got:?}, want ({want}, {want}, 2100, {})",
            200 * TIME_DELTA
        )
        .into());
    }
    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{\"a\":\"1\"}\nnot json\n")?;
    match read_labels(&bad, 5) {
        Err(e) if e.to_string().contains(":2:") => {}
        other => return Err(format!("self-check: bad line not reported: {other:?}").into()),
    }
    println!("bench_write self-check: ok ({want} samples written and read back)");
    Ok(())
}

/// Runs the benchmark; returns the number of samples appended.
fn run_write(
    labels_file: &Path,
    out: &Path,
    metrics: usize,
    scrapes: usize,
    threads: usize,
) -> Result<u64, BenchError> {
    if out.exists() {
        fs::remove_dir_all(out).map_err(|e| format!("remove {}: {e}", out.display()))?;
    }
    fs::create_dir_all(out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let data = out.join("storage");
    let db = Db::open(&data, Options::default())?;

    let (labels, took) = timed(|| read_labels(labels_file, metrics));
    let labels = labels?;
    println!(">> completed stage=readData duration={took:?}");
    println!(" > threads: {threads}");

    let rss_before = rss_kb("VmRSS:");
    let cpu_before = cpu_seconds();
    let (total, took) = timed(|| ingest(&db, &labels, scrapes, threads));
    let cpu_after = cpu_seconds();
    let total = total?;
    println!(">> completed stage=ingestScrapes duration={took:?}");
    println!(" > total samples: {total}");
    println!(" > samples/sec: {:.0}", total as f64 / took.as_secs_f64());
    if let (Some(b), Some(a)) = (cpu_before, cpu_after) {
        println!(
            " > ingest CPU: {:.2} s user+sys, {:.0} ns per sample, {:.2} cores busy",
            a - b,
            (a - b) * 1e9 / total.max(1) as f64,
            (a - b) / took.as_secs_f64()
        );
    }
    let rss_after = rss_kb("VmRSS:");
    if let (Some(b), Some(a), Some(peak)) = (rss_before, rss_after, rss_kb("VmHWM:")) {
        println!(
            " > RSS: {a} KB after ingestion ({} KB more than before it), peak {peak} KB; {:.0} bytes per series",
            a.saturating_sub(b),
            a.saturating_sub(b) as f64 * 1024.0 / labels.len().max(1) as f64
        );
    }
    let (closed, took) = timed(|| db.close());
    closed?;
    println!(">> completed stage=stopStorage duration={took:?}");
    Ok(total)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let v = f();
    (v, started.elapsed())
}

/// Appends `scrapes` scrapes of every series, in rounds of 100 with one worker per 1,000
/// series; returns the number of samples appended. The workers of a round run on `threads`
/// OS threads that take them from a queue, as promtool's goroutines run on GOMAXPROCS
/// threads (one per core by default); the samples, commits and WAL records are the same
/// whatever the number of threads.
fn ingest(db: &Db, labels: &[Labels], scrapes: usize, threads: usize) -> Result<u64, BenchError> {
    let mut total = 0u64;
    let batches: Vec<&[Labels]> = labels.chunks(SERIES_PER_WORKER).collect();
    for round in (0..scrapes).step_by(SCRAPES_PER_ROUND) {
        let base = TIME_DELTA * round as i64;
        // promtool always runs 100 scrapes per round; this runs `scrapes` in total.
        let n = SCRAPES_PER_ROUND.min(scrapes - round);
        let next = AtomicUsize::new(0);
        let threads = batches.len().min(threads).max(1);
        let results: Vec<Result<u64, BenchError>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = 0;
                        while let Some(batch) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                            done += ingest_shard(db, batch, n, base)?;
                        }
                        Ok(done)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|_| Err("worker panicked".into())))
                .collect()
        });
        for r in results {
            total += r?;
        }
    }
    Ok(total)
}

/// One worker: `scrapes` commits of one sample per series.
fn ingest_shard(db: &Db, labels: &[Labels], scrapes: usize, base: i64) -> Result<u64, BenchError> {
    let mut refs = vec![None; labels.len()];
    let mut values = vec![START_VALUE; labels.len()];
    let mut t = base;
    let mut total = 0;
    for _ in 0..scrapes {
        let mut app = db.appender();
        t += TIME_DELTA;
        for ((l, r), v) in labels.iter().zip(&mut refs).zip(&mut values) {
            *v += 1000;
            *r = Some(app.append(*r, l, t, *v as f64)?);
            total += 1;
        }
        app.commit()?;
    }
    Ok(total)
}

/// Reads up to `n` label sets, one JSON object per line, the way promtool does: braces
/// stripped, pairs split at `,`, name and value at `:`, quotes trimmed.
fn read_labels(path: &Path, n: usize) -> Result<Vec<Labels>, BenchError> {
    let text = fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if out.len() >= n {
            break;
        }
        let parse_err = |column: usize, reason: &str| -> BenchError {
            format!("{}:{}:{column}: {reason}", path.display(), i + 1).into()
        };
        let body = line
            .trim()
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .ok_or_else(|| parse_err(1, "expected a JSON object on one line"))?;
        let mut pairs = Vec::new();
        for pair in body.split(',') {
            let (name, value) = pair
                .split_once(':')
                .ok_or_else(|| parse_err(1, "expected \"name\":\"value\""))?;
            pairs.push((
                name.trim().trim_matches('"'),
                value.trim().trim_matches('"'),
            ));
        }
        let labels = Labels::from_pairs(pairs).map_err(|e| parse_err(1, &e.to_string()))?;
        // promtool skips repeated label sets.
        if seen.insert(labels.clone()) {
            out.push(labels);
        }
    }
    if out.len() < n {
        return Err(format!(
            "{}: {} distinct label sets, {n} requested",
            path.display(),
            out.len()
        )
        .into());
    }
    Ok(out)
}

/// User plus system CPU seconds of this process so far, from `/proc/self/stat` (clock ticks
/// of 10 ms; Linux only, `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A field of `/proc/self/status` in KB (Linux only; `None` elsewhere).
fn rss_kb(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
