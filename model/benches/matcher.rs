//! Matcher fast paths against the plain anchored regex.
//!
//! Run: `cargo bench -p kagari-model --bench matcher`.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kagari_model::{compile_regex, relabel, Labels, MatchType, Matcher, RelabelConfig};
use std::hint::black_box;

const VALUES: &[&str] = &[
    "api-server-7f9c",
    "web",
    "node_exporter",
    "prometheus",
    "api",
    "a-much-longer-label-value-that-does-not-match-anything-in-particular",
    "",
    "db-primary",
];

fn matchers(c: &mut Criterion) {
    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Elements(VALUES.len() as u64));
    for pattern in [
        "web",
        "api|web|db-primary",
        ".*",
        ".+",
        "api.*",
        ".*exporter",
        ".*-server-.*",
        "(api|web)-[0-9a-f]+",
    ] {
        let fast = Matcher::new(MatchType::Regex, "job", pattern).unwrap();
        let plain = compile_regex(pattern).unwrap();
        g.bench_with_input(BenchmarkId::new("fast", pattern), &fast, |b, m| {
            b.iter(|| VALUES.iter().filter(|v| m.matches(black_box(v))).count())
        });
        g.bench_with_input(BenchmarkId::new("regex", pattern), &plain, |b, r| {
            b.iter(|| VALUES.iter().filter(|v| r.is_match(black_box(v))).count())
        });
    }
    g.finish();
}

fn relabeling(c: &mut Criterion) {
    let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(
        r"
- {source_labels: [__name__], regex: 'go_.*', action: drop}
- {source_labels: [__address__], regex: '([^:]+):\d+', target_label: host}
- {regex: 'tmp_.*', action: labeldrop}
- {source_labels: [__address__], modulus: 8, target_label: __tmp_hash, action: hashmod}
",
    )
    .unwrap();
    let labels = Labels::from_pairs([
        ("__name__", "http_requests_total"),
        ("__address__", "10.0.0.5:9100"),
        ("job", "api"),
        ("tmp_x", "1"),
        ("code", "200"),
    ])
    .unwrap();
    let mut g = c.benchmark_group("relabel");
    g.throughput(Throughput::Elements(1));
    g.bench_function("four_rules", |b| {
        b.iter(|| relabel(black_box(&labels), &rules))
    });
    g.finish();
}

criterion_group!(benches, matchers, relabeling);
criterion_main!(benches);
