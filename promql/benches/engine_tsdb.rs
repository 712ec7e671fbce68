//! The queries of `engine.rs` over a `kagari_tsdb::Db` head (through its `promql` feature)
//! instead of `MemStorage`: the same 10,000 series × 2 h at 15 s, appended one scrape (all
//! 10,000 series at one timestamp) per commit, as a scraper would.
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kagari_promql::engine::Engine;
use kagari_promql::parse;
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::SeriesRef;

use common::{check, dataset, END, INTERVAL, QUERIES, SAMPLES, STEP};

fn fill(db: &Db) {
    let data = dataset();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; data.len()];
    for k in 0..SAMPLES {
        let mut app = db.appender();
        for ((labels, values), r) in data.iter().zip(refs.iter_mut()) {
            let v = values[k as usize];
            *r = Some(app.append(*r, labels, k * INTERVAL, v).expect("append"));
        }
        app.commit().expect("commit");
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(dir.path(), Options::default()).expect("open db");
    fill(&db);
    let engine = Engine::default();
    let mut g = c.benchmark_group("tsdb_head");
    g.sample_size(10);
    for (name, q, want) in QUERIES {
        let expr = parse(q).expect("valid query");
        let instant = engine.instant_query(&db, &expr, END).expect("query runs");
        check(name, &instant.value, want);
        let range = engine
            .range_query(&db, &expr, 0, END, STEP)
            .expect("query runs");
        check(name, &range.value, want);
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| black_box(engine.instant_query(&db, &expr, END).expect("query runs")))
        });
        g.bench_function(format!("range/{name}"), |b| {
            b.iter(|| {
                black_box(
                    engine
                        .range_query(&db, &expr, 0, END, STEP)
                        .expect("query runs"),
                )
            })
        });
    }
    g.finish();
    db.close().expect("close db");
}

criterion_group!(benches, bench);
criterion_main!(benches);
