//! Kagari's client side by side with the `prometheus` (tikv) and `prometheus-client` crates,
//! every row measured for all three in the same run.
//!
//! `cargo bench -p kagari-benches --bench client -- --warm-up-time 1 --measurement-time 3`
//!
//! Rows (group name / implementation):
//! - `counter_inc`: integer counter, `inc()`.
//! - `gauge_set`: float gauge, `set(x)`.
//! - `histogram_observe`: the same 11 default buckets, one observation.
//! - `labelled_lookup_inc`: 2 label values of a series that already exists, lookup then `inc()`
//!   (Kagari twice: `with_label_values` returns a cloned handle like the tikv crate does;
//!   `with_series` runs a closure on the series in place, like prometheus-client's guard).
//! - `labelled_lookup_inc_1000_series`: the same, cycling over 1,000 existing series
//!   (`["/api/v1/item/<i>", method]`), more than Kagari's per-thread cache holds (Kagari
//!   twice again).
//! - `contended_inc_2_threads`: two threads incrementing one counter; time per increment.
//! - `encode_10000_series_text`: 10,000 labelled counter series in the text format.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use prometheus::Encoder as _;

/// Prometheus's (and all three crates') default buckets, so the histograms do the same work.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "404", "500", "503"];

type PcLabels = [(&'static str, &'static str); 2];

fn counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");
    g.throughput(Throughput::Elements(1));
    let k = kagari_client::IntCounter::new();
    g.bench_function("kagari", |b| b.iter(|| black_box(&k).inc()));
    let p = prometheus::IntCounter::new("c", "c").expect("valid counter");
    g.bench_function("prometheus", |b| b.iter(|| black_box(&p).inc()));
    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    g.bench_function("prometheus-client", |b| b.iter(|| black_box(&pc).inc()));
    g.finish();
}

fn gauge_set(c: &mut Criterion) {
    let mut g = c.benchmark_group("gauge_set");
    g.throughput(Throughput::Elements(1));
    let k = kagari_client::Gauge::new();
    g.bench_function("kagari", |b| b.iter(|| black_box(&k).set(black_box(1.5))));
    let p = prometheus::Gauge::new("g", "g").expect("valid gauge");
    g.bench_function("prometheus", |b| {
        b.iter(|| black_box(&p).set(black_box(1.5)))
    });
    let pc: prometheus_client::metrics::gauge::Gauge<f64, AtomicU64> = Default::default();
    g.bench_function("prometheus-client", |b| {
        b.iter(|| black_box(&pc).set(black_box(1.5)))
    });
    g.finish();
}

fn histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");
    g.throughput(Throughput::Elements(1));
    // A value that walks all buckets so no implementation benefits from one lucky branch.
    let mut x = 0.0f64;
    let mut next = move || {
        x = (x + 0.618_033_988_7) % 12.0;
        x
    };
    let k = kagari_client::Histogram::with_buckets(BUCKETS.to_vec()).expect("valid buckets");
    g.bench_function("kagari", |b| b.iter(|| k.observe(black_box(next()))));
    let p = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("h", "h").buckets(BUCKETS.to_vec()),
    )
    .expect("valid histogram");
    g.bench_function("prometheus", |b| b.iter(|| p.observe(black_box(next()))));
    let pc = prometheus_client::metrics::histogram::Histogram::new(BUCKETS);
    g.bench_function("prometheus-client", |b| {
        b.iter(|| pc.observe(black_box(next())))
    });
    g.finish();
}

fn labelled_lookup_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("labelled_lookup_inc");
    g.throughput(Throughput::Elements(1));
    let k = kagari_client::IntCounterVec::new(&["method", "code"]).expect("valid family");
    let p = prometheus::IntCounterVec::new(prometheus::Opts::new("r", "r"), &["method", "code"])
        .expect("valid family");
    let pc = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    for m in METHODS {
        for code in CODES {
            k.with_label_values(&[m, code]).expect("2 values").inc();
            p.with_label_values(&[m, code]).inc();
            pc.get_or_create(&[("method", m), ("code", code)]).inc();
        }
    }
    g.bench_function("kagari", |b| {
        b.iter(|| {
            k.with_label_values(black_box(&["POST", "404"]))
                .expect("2 values")
                .inc()
        })
    });
    g.bench_function("kagari_with_series", |b| {
        b.iter(|| {
            k.with_series(black_box(&["POST", "404"]), |c| c.inc())
                .expect("2 values")
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| p.with_label_values(black_box(&["POST", "404"])).inc())
    });
    g.bench_function("prometheus-client", |b| {
        b.iter(|| {
            pc.get_or_create(black_box(&[("method", "POST"), ("code", "404")]))
                .inc()
        })
    });
    g.finish();
}

/// Label values of `MANY` series: `["/api/v1/item/<i>", method]`.
const MANY: usize = 1000;

fn many_values() -> Vec<[String; 2]> {
    (0..MANY)
        .map(|i| [format!("/api/v1/item/{i}"), METHODS[i % 4].to_owned()])
        .collect()
}

/// Lookup + inc cycling over 1,000 existing series (more than any per-thread cache holds):
/// the cost of a lookup that misses Kagari's thread cache.
fn labelled_lookup_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("labelled_lookup_inc_1000_series");
    g.throughput(Throughput::Elements(1));
    let values = many_values();
    let k = kagari_client::IntCounterVec::new(&["path", "method"]).expect("valid family");
    let p = prometheus::IntCounterVec::new(prometheus::Opts::new("r", "r"), &["path", "method"])
        .expect("valid family");
    let pc = prometheus_client::metrics::family::Family::<
        [(&'static str, String); 2],
        prometheus_client::metrics::counter::Counter,
    >::default();
    let pc_values: Vec<[(&'static str, String); 2]> = values
        .iter()
        .map(|[a, b]| [("path", a.clone()), ("method", b.clone())])
        .collect();
    for ([a, b], l) in values.iter().zip(&pc_values) {
        k.with_label_values(&[a, b]).expect("2 values").inc();
        p.with_label_values(&[a, b]).inc();
        pc.get_or_create(l).inc();
    }
    let mut i = 0;
    let mut next = move || {
        i = (i + 1) % MANY;
        i
    };
    g.bench_function("kagari", |b| {
        b.iter(|| {
            let [x, y] = &values[next()];
            k.with_label_values(&[x, y]).expect("2 values").inc()
        })
    });
    g.bench_function("kagari_with_series", |b| {
        b.iter(|| {
            let [x, y] = &values[next()];
            k.with_series(&[x, y], |c| c.inc()).expect("2 values")
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            let [x, y] = &values[next()];
            p.with_label_values(&[x, y]).inc()
        })
    });
    g.bench_function("prometheus-client", |b| {
        b.iter(|| {
            pc.get_or_create(&pc_values[next()]).inc();
        })
    });
    g.finish();
}

/// Runs `iters` increments split over two threads and returns the wall time.
fn two_threads(iters: u64, inc: &(dyn Fn() + Sync)) -> Duration {
    let half = iters / 2;
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| (0..half).for_each(|_| inc()));
        (0..iters - half).for_each(|_| inc());
    });
    start.elapsed()
}

fn contended_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended_inc_2_threads");
    g.throughput(Throughput::Elements(1));
    let k = kagari_client::IntCounter::new();
    g.bench_function("kagari", |b| {
        b.iter_custom(|n| two_threads(n, &|| black_box(&k).inc()))
    });
    let p = prometheus::IntCounter::new("c", "c").expect("valid counter");
    g.bench_function("prometheus", |b| {
        b.iter_custom(|n| two_threads(n, &|| black_box(&p).inc()))
    });
    let pc: prometheus_client::metrics::counter::Counter = Default::default();
    g.bench_function("prometheus-client", |b| {
        b.iter_custom(|n| {
            two_threads(n, &|| {
                black_box(&pc).inc();
            })
        })
    });
    g.finish();
}

const SERIES: usize = 10_000;

/// The label values of series `i`: 500 paths × 4 methods × 5 codes = 10,000.
fn series_values(i: usize) -> (String, &'static str, &'static str) {
    (
        format!("/api/v1/item/{}", i / 20),
        METHODS[i % 4],
        CODES[(i / 4) % 5],
    )
}

/// The same 10,000 series registered in each crate's registry.
fn encode_setup() -> (
    kagari_client::Registry,
    prometheus::Registry,
    prometheus_client::registry::Registry,
) {
    let kr = kagari_client::Registry::new();
    let kf: kagari_client::IntCounterVec = kr
        .create_family(
            kagari_client::Opts::new("http_requests", "Requests served."),
            &["path", "method", "code"],
        )
        .expect("valid family");
    let pr = prometheus::Registry::new();
    let pf = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests_total", "Requests served."),
        &["path", "method", "code"],
    )
    .expect("valid family");
    pr.register(Box::new(pf.clone())).expect("registers");
    let mut pcr = prometheus_client::registry::Registry::default();
    let pcf = prometheus_client::metrics::family::Family::<
        Vec<(&'static str, String)>,
        prometheus_client::metrics::counter::Counter,
    >::default();
    pcr.register("http_requests", "Requests served.", pcf.clone());

    for i in 0..SERIES {
        let (path, method, code) = series_values(i);
        let n = (i as u64 * 7919) % 100_000 + 1;
        kf.with_label_values(&[path.as_str(), method, code])
            .expect("3 values")
            .inc_by(n);
        pf.with_label_values(&[path.as_str(), method, code])
            .inc_by(n);
        pcf.get_or_create(&vec![
            ("path", path.clone()),
            ("method", method.to_owned()),
            ("code", code.to_owned()),
        ])
        .inc_by(n);
    }

    (kr, pr, pcr)
}

fn encode_10000(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_10000_series_text");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(20);

    let (kr, pr, pcr) = encode_setup();

    let mut buf = Vec::with_capacity(1 << 20);
    g.bench_function(BenchmarkId::from_parameter("kagari"), |b| {
        b.iter(|| {
            buf.clear();
            kr.encode(&mut buf, kagari_client::Format::Text)
                .expect("encodes");
            black_box(buf.len())
        })
    });
    let enc = prometheus::TextEncoder::new();
    g.bench_function(BenchmarkId::from_parameter("prometheus"), |b| {
        b.iter(|| {
            buf.clear();
            enc.encode(&pr.gather(), &mut buf).expect("encodes");
            black_box(buf.len())
        })
    });
    let mut s = String::with_capacity(1 << 20);
    g.bench_function(BenchmarkId::from_parameter("prometheus-client"), |b| {
        b.iter(|| {
            s.clear();
            prometheus_client::encoding::text::encode(&mut s, &pcr).expect("encodes");
            black_box(s.len())
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    counter_inc,
    gauge_set,
    histogram_observe,
    labelled_lookup_inc,
    labelled_lookup_many,
    contended_inc,
    encode_10000
);

fn main() {
    // `KAGARI_CLIENT_ONESHOT=<row>/<impl>:<n>` runs one row's operation `n` times without
    // criterion, for `valgrind --tool=callgrind` (see `mod oneshot`).
    if let Ok(spec) = std::env::var("KAGARI_CLIENT_ONESHOT") {
        if let Err(e) = oneshot::run(&spec) {
            eprintln!("KAGARI_CLIENT_ONESHOT={spec}: {e}");
            std::process::exit(2);
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

/// Runs one row's operation a given number of times, outside criterion, so that
/// `valgrind --tool=callgrind` can count instructions per operation (two runs with different
/// counts, the difference divided by the difference of counts: setup cancels out).
mod oneshot {
    use super::*;

    pub(super) fn run(spec: &str) -> Result<(), String> {
        let (what, n) = spec.split_once(':').ok_or("expected <row>/<impl>:<n>")?;
        let n: u64 = n.parse().map_err(|e| format!("bad count: {e}"))?;
        let (row, imp) = what.split_once('/').ok_or("expected <row>/<impl>")?;
        let mut op = setup(row, imp)?;
        for _ in 0..n {
            op();
        }
        Ok(())
    }

    fn setup(row: &str, imp: &str) -> Result<Box<dyn FnMut()>, String> {
        Ok(match (row, imp) {
            ("counter_inc", "kagari") => {
                let k = kagari_client::IntCounter::new();
                Box::new(move || black_box(&k).inc())
            }
            ("counter_inc", "prometheus") => {
                let p = prometheus::IntCounter::new("c", "c").map_err(|e| e.to_string())?;
                Box::new(move || black_box(&p).inc())
            }
            ("counter_inc", "prometheus-client") => {
                let pc: prometheus_client::metrics::counter::Counter = Default::default();
                Box::new(move || {
                    black_box(&pc).inc();
                })
            }
            ("histogram_observe", _) => {
                let mut x = 0.0f64;
                let mut next = move || {
                    x = (x + 0.618_033_988_7) % 12.0;
                    x
                };
                match imp {
                    "kagari" => {
                        let k = kagari_client::Histogram::with_buckets(BUCKETS.to_vec())
                            .map_err(|e| e.to_string())?;
                        Box::new(move || k.observe(black_box(next())))
                    }
                    "prometheus" => {
                        let p = prometheus::Histogram::with_opts(
                            prometheus::HistogramOpts::new("h", "h").buckets(BUCKETS.to_vec()),
                        )
                        .map_err(|e| e.to_string())?;
                        Box::new(move || p.observe(black_box(next())))
                    }
                    "prometheus-client" => {
                        let pc = prometheus_client::metrics::histogram::Histogram::new(BUCKETS);
                        Box::new(move || pc.observe(black_box(next())))
                    }
                    _ => return Err(format!("unknown impl {imp}")),
                }
            }
            ("labelled_lookup_inc", _) => {
                let k = kagari_client::IntCounterVec::new(&["method", "code"])
                    .map_err(|e| e.to_string())?;
                let p = prometheus::IntCounterVec::new(
                    prometheus::Opts::new("r", "r"),
                    &["method", "code"],
                )
                .map_err(|e| e.to_string())?;
                let pc = prometheus_client::metrics::family::Family::<
                    PcLabels,
                    prometheus_client::metrics::counter::Counter,
                >::default();
                for m in METHODS {
                    for code in CODES {
                        k.with_label_values(&[m, code])
                            .map_err(|e| e.to_string())?
                            .inc();
                        p.with_label_values(&[m, code]).inc();
                        pc.get_or_create(&[("method", m), ("code", code)]).inc();
                    }
                }
                match imp {
                    "kagari" => Box::new(move || {
                        if let Ok(c) = k.with_label_values(black_box(&["POST", "404"])) {
                            c.inc();
                        }
                    }),
                    "kagari_with_series" => Box::new(move || {
                        let _ = k.with_series(black_box(&["POST", "404"]), |c| c.inc());
                    }),
                    "prometheus" => {
                        Box::new(move || p.with_label_values(black_box(&["POST", "404"])).inc())
                    }
                    "prometheus-client" => Box::new(move || {
                        pc.get_or_create(black_box(&[("method", "POST"), ("code", "404")]))
                            .inc();
                    }),
                    _ => return Err(format!("unknown impl {imp}")),
                }
            }
            ("labelled_lookup_inc_1000_series", _) => {
                let values = many_values();
                let k = kagari_client::IntCounterVec::new(&["path", "method"])
                    .map_err(|e| e.to_string())?;
                let p = prometheus::IntCounterVec::new(
                    prometheus::Opts::new("r", "r"),
                    &["path", "method"],
                )
                .map_err(|e| e.to_string())?;
                let pc = prometheus_client::metrics::family::Family::<
                    [(&'static str, String); 2],
                    prometheus_client::metrics::counter::Counter,
                >::default();
                let pc_values: Vec<[(&'static str, String); 2]> = values
                    .iter()
                    .map(|[a, b]| [("path", a.clone()), ("method", b.clone())])
                    .collect();
                for ([a, b], l) in values.iter().zip(&pc_values) {
                    k.with_label_values(&[a, b])
                        .map_err(|e| e.to_string())?
                        .inc();
                    p.with_label_values(&[a, b]).inc();
                    pc.get_or_create(l).inc();
                }
                let mut i = 0;
                match imp {
                    "kagari" => Box::new(move || {
                        i = (i + 1) % MANY;
                        let [x, y] = &values[i];
                        if let Ok(c) = k.with_label_values(&[x, y]) {
                            c.inc();
                        }
                    }),
                    "kagari_with_series" => Box::new(move || {
                        i = (i + 1) % MANY;
                        let [x, y] = &values[i];
                        let _ = k.with_series(&[x, y], |c| c.inc());
                    }),
                    "prometheus" => Box::new(move || {
                        i = (i + 1) % MANY;
                        let [x, y] = &values[i];
                        p.with_label_values(&[x, y]).inc();
                    }),
                    "prometheus-client" => Box::new(move || {
                        i = (i + 1) % MANY;
                        pc.get_or_create(&pc_values[i]).inc();
                    }),
                    _ => return Err(format!("unknown impl {imp}")),
                }
            }
            ("encode_10000_series_text", _) => {
                let (kr, pr, pcr) = encode_setup();
                let mut buf = Vec::with_capacity(1 << 20);
                let mut s = String::with_capacity(1 << 20);
                let enc = prometheus::TextEncoder::new();
                match imp {
                    "kagari" => Box::new(move || {
                        buf.clear();
                        let _ = kr.encode(&mut buf, kagari_client::Format::Text);
                        black_box(buf.len());
                    }),
                    "prometheus" => Box::new(move || {
                        buf.clear();
                        let _ = enc.encode(&pr.gather(), &mut buf);
                        black_box(buf.len());
                    }),
                    "prometheus-client" => Box::new(move || {
                        s.clear();
                        let _ = prometheus_client::encoding::text::encode(&mut s, &pcr);
                        black_box(s.len());
                    }),
                    _ => return Err(format!("unknown impl {imp}")),
                }
            }
            _ => return Err(format!("unknown row/impl {row}/{imp}")),
        })
    }
}
