//! Parser throughput on the 29 dashboard queries of `testdata/bench/queries.txt` (read at bench
//! time): all of them in one iteration, then each one alone.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kagari_promql::parse;

const QUERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/bench/queries.txt");

/// The non-comment, non-blank lines of the query file, with their 1-based line numbers.
fn queries() -> Vec<(usize, String)> {
    let text =
        std::fs::read_to_string(QUERIES).unwrap_or_else(|e| panic!("reading {QUERIES}: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i, l.to_owned()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let qs = queries();
    assert_eq!(
        qs.len(),
        29,
        "{QUERIES} should hold the 29 dashboard queries"
    );
    for (line, q) in &qs {
        if let Err(e) = parse(q) {
            panic!("{QUERIES}:{line}: {q}: {e}");
        }
    }
    let bytes: usize = qs.iter().map(|(_, q)| q.len()).sum();

    let mut g = c.benchmark_group("parse");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("all 29 queries", |b| {
        b.iter(|| {
            for (_, q) in &qs {
                black_box(parse(black_box(q)).is_ok());
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("parse_each");
    g.sample_size(10);
    for (line, q) in &qs {
        g.throughput(Throughput::Bytes(q.len() as u64));
        g.bench_function(format!("L{line:02} {q}"), |b| {
            b.iter(|| black_box(parse(black_box(q)).is_ok()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
