//! Micro-benchmarks of the update paths and of encoding (`cargo bench -p kagari-client`).
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kagari_client::{
    Counter, Format, Histogram, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, Summary,
    SummaryOpts,
};

fn updates(c: &mut Criterion) {
    let mut g = c.benchmark_group("update");
    g.throughput(Throughput::Elements(1));
    let ic = IntCounter::new();
    g.bench_function("int_counter_inc", |b| b.iter(|| ic.inc()));
    let fc = Counter::new();
    g.bench_function("float_counter_inc_by", |b| {
        b.iter(|| fc.inc_by(black_box(1.5)))
    });
    let h = Histogram::new();
    g.bench_function("histogram_observe_default_buckets", |b| {
        b.iter(|| h.observe(black_box(0.3)))
    });
    let s = Summary::with_opts(
        SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.9, 0.01)
            .objective(0.99, 0.001),
    )
    .unwrap();
    let mut x = 0.0f64;
    g.bench_function("summary_observe_3_objectives", |b| {
        b.iter(|| {
            x = (x + 0.618_033_988_7) % 1.0;
            s.observe(x)
        })
    });
    let f = IntCounterVec::new(&["method", "code"]).unwrap();
    for code in ["200", "404", "500"] {
        for m in ["GET", "POST", "PUT"] {
            f.with_label_values(&[m, code]).unwrap();
        }
    }
    g.bench_function("family_with_label_values_hit_inc", |b| {
        b.iter(|| {
            f.with_label_values(black_box(&["POST", "404"]))
                .unwrap()
                .inc()
        })
    });
    let mut local = ic.local();
    g.bench_function("local_counter_inc", |b| b.iter(|| local.inc()));
    g.finish();
}

fn encoding(c: &mut Criterion) {
    let r = Registry::new();
    let f: IntCounterVec = r
        .create_family(Opts::new("requests", "Requests."), &["path", "code"])
        .unwrap();
    let h = HistogramVec::new(&["path"]).unwrap();
    r.register(Opts::new("latency_seconds", "Latency."), h.clone())
        .unwrap();
    for i in 0..1000 {
        let p = format!("/p/{i}");
        f.with_label_values(&[p.as_str(), "200"]).unwrap().inc();
        if i < 100 {
            h.with_label_values(&[p.as_str()]).unwrap().observe(0.2);
        }
    }
    // 1000 counter series + 100 histograms × 14 samples.
    let samples = 1000 + 100 * 14;
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(samples));
    let mut buf = Vec::with_capacity(1 << 20);
    for format in [Format::Text, Format::OpenMetrics] {
        g.bench_function(format!("{format:?}_2400_samples"), |b| {
            b.iter(|| {
                buf.clear();
                r.encode(&mut buf, format).unwrap();
                black_box(buf.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, updates, encoding);
criterion_main!(benches);
