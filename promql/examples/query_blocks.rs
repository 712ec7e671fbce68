//! Runs the bench queries against a `kagari_tsdb::Db` directory (e.g. gen-openmetrics data
//! backfilled by promtool) without the HTTP server: the engine and storage work alone, for
//! profiling with callgrind (`--toggle-collect='kagari_promql::engine::Engine::query*'`).
//!
//! ```text
//! cargo run --release -p kagari-promql --example query_blocks -- \
//!     DIR [--queries FILE] [--runs N] [--only LINE] [--mode instant|range|both] \
//!     [--time UNIX_S] [--range-hours H] [--step S]
//! ```
//!
//! Defaults match `scripts/bench-server` on 1,000 series × 6 h from 1699999200: instant at
//! 1700020770 (the :30 before the data ends), range over the last 2 h at a 60 s step. Prints
//! the best time of `runs` per query (only a rough guide on a loaded machine).

use std::error::Error;
use std::time::Instant;

use kagari_promql::engine::{Engine, EngineOptions, QueryTime};
use kagari_tsdb::db::{Db, Options};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: query_blocks DIR [options]")?;
    let mut queries = String::from("testdata/bench/queries.txt");
    let (mut runs, mut only, mut mode) = (3_usize, 0_usize, String::from("both"));
    let (mut time, mut hours, mut step) = (1_700_020_770_i64, 2_i64, 60_i64);
    while let Some(flag) = args.next() {
        let v = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--queries" => queries = v,
            "--runs" => runs = v.parse()?,
            "--only" => only = v.parse()?,
            "--mode" => mode = v,
            "--time" => time = v.parse()?,
            "--range-hours" => hours = v.parse()?,
            "--step" => step = v.parse()?,
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    let db = Db::open(&dir, Options::default())?;
    let text = std::fs::read_to_string(&queries)?;
    let qs: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let end = time * 1000;
    let range = QueryTime::Range {
        start: end - hours * 3_600_000,
        end,
        step: step * 1000,
    };
    let engine = Engine::new(EngineOptions::default());
    let (mut sum_i, mut sum_r) = (0.0, 0.0);
    for (i, q) in qs.iter().enumerate() {
        if only != 0 && only != i + 1 {
            continue;
        }
        let expr = kagari_promql::parse(q)?;
        let (mut best_i, mut best_r) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..runs {
            if mode != "range" {
                let t = Instant::now();
                std::hint::black_box(engine.query(&db, &expr, QueryTime::Instant(end), None)?);
                best_i = best_i.min(t.elapsed().as_secs_f64() * 1e3);
            }
            if mode != "instant" {
                let t = Instant::now();
                std::hint::black_box(engine.query(&db, &expr, range, None)?);
                best_r = best_r.min(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        if best_i.is_finite() {
            sum_i += best_i;
        }
        if best_r.is_finite() {
            sum_r += best_r;
        }
        println!(
            "{:2} instant {best_i:8.3} ms  range {best_r:8.3} ms  {q}",
            i + 1
        );
    }
    println!("sum instant {sum_i:.2} ms  range {sum_r:.2} ms");
    Ok(())
}
