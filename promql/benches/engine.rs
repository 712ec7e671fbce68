//! Engine latency over [`MemStorage`]: `rate`, `sum by`, `histogram_quantile` and `topk` over
//! 10,000 series × 2 h at 15 s (4.8 M samples, see `common`), as instant queries at the end of
//! the 2 h and as range queries over the full 2 h at a 60 s step.
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kagari_promql::engine::Engine;
use kagari_promql::parse;
use kagari_promql::storage::MemStorage;

use common::{check, dataset, END, INTERVAL, QUERIES, STEP};

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    for (labels, values) in dataset() {
        for (k, v) in values.into_iter().enumerate() {
            s.append(&labels, k as i64 * INTERVAL, v).expect("in order");
        }
    }
    assert_eq!(s.num_series(), 10_000);
    s
}

fn bench(c: &mut Criterion) {
    let s = storage();
    let engine = Engine::default();
    let mut g = c.benchmark_group("mem");
    g.sample_size(10);
    for (name, q, want) in QUERIES {
        let expr = parse(q).expect("valid query");
        let instant = engine.instant_query(&s, &expr, END).expect("query runs");
        check(name, &instant.value, want);
        let range = engine
            .range_query(&s, &expr, 0, END, STEP)
            .expect("query runs");
        check(name, &range.value, want);
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| black_box(engine.instant_query(&s, &expr, END).expect("query runs")))
        });
        g.bench_function(format!("range/{name}"), |b| {
            b.iter(|| {
                black_box(
                    engine
                        .range_query(&s, &expr, 0, END, STEP)
                        .expect("query runs"),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
