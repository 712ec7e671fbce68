//! Range-query throughput over the in-memory storage: raw samples scanned per second.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kagari_model::Labels;
use kagari_promql::engine::Engine;
use kagari_promql::parse;
use kagari_promql::storage::MemStorage;

const SERIES: usize = 50;
const SAMPLES: i64 = 480; // 2 h at 15 s

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    for i in 0..SERIES {
        let job = format!("job{}", i % 5);
        let inst = format!("i{i}");
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("job", &job),
            ("instance", &inst),
        ])
        .expect("valid labels");
        for k in 0..SAMPLES {
            s.append(&l, k * 15_000, (k * (i as i64 + 1)) as f64)
                .expect("in order");
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let s = storage();
    let engine = Engine::default();
    let mut g = c.benchmark_group("range_query");
    g.throughput(Throughput::Elements(SERIES as u64 * SAMPLES as u64));
    for q in [
        "rate(http_requests_total[5m])",
        "sum by (job) (rate(http_requests_total[5m]))",
        "http_requests_total * 2",
    ] {
        let expr = parse(q).expect("valid query");
        g.bench_function(q, |b| {
            b.iter(|| {
                engine
                    .range_query(&s, &expr, 3_600_000, 7_200_000, 60_000)
                    .expect("query runs")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
