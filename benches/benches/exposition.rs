//! Parse and encode a real node_exporter scrape in both formats, side by side with the
//! `prometheus-parse` crate on the same bytes.
//!
//! `cargo bench -p kagari-benches --bench exposition`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use kagari_exposition::{
    encode_families, parse_openmetrics, parse_text, Entry, Format, OpenMetricsParser, TextParser,
};

const NODE: &str = "exposition/text/good/node_exporter-1.5.0-live-scrape.prom";

/// What a scraper does with each sample: read name, every label pair, value and timestamp.
fn consume_text(input: &[u8]) -> usize {
    let mut p = TextParser::new(input);
    let mut n = 0usize;
    loop {
        match p.next_entry() {
            Ok(Entry::Sample(s)) => {
                n += s.name.len();
                for (k, v) in s.labels.iter() {
                    n += k.len() + v.len();
                }
                n += s.value.to_bits() as usize & 1;
                n += s.timestamp.is_some() as usize;
            }
            Ok(Entry::Eof) => return n,
            Ok(_) => {}
            Err(e) => panic!("node_exporter scrape must parse: {e}"),
        }
    }
}

fn consume_om(input: &[u8]) -> usize {
    let mut p = OpenMetricsParser::new(input);
    let mut n = 0usize;
    loop {
        match p.next_entry() {
            Ok(Entry::Sample(s)) => {
                n += s.name.len();
                for (k, v) in s.labels.iter() {
                    n += k.len() + v.len();
                }
                n += s.value.to_bits() as usize & 1;
                n += s.timestamp.is_some() as usize;
            }
            Ok(Entry::Eof) => return n,
            Ok(_) => {}
            Err(e) => panic!("OpenMetrics rendering must parse: {e}"),
        }
    }
}

fn prometheus_parse(input: &[u8]) -> usize {
    let text = std::str::from_utf8(input).expect("utf-8");
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("prometheus-parse accepts it");
    scrape.samples.len()
}

fn bench(c: &mut Criterion) {
    let text = kagari_benches::read_testdata(NODE);
    let families = parse_text(&text).expect("node_exporter scrape parses");
    let mut om = Vec::new();
    encode_families(&mut om, &families, Format::OpenMetrics).expect("encode to Vec");
    let om_families = parse_openmetrics(&om).expect("our OpenMetrics rendering parses");

    let mut g = c.benchmark_group("parse_node_exporter_text");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("kagari_pull", |b| b.iter(|| consume_text(black_box(&text))));
    g.bench_function("kagari_families", |b| {
        b.iter(|| parse_text(black_box(&text)).map(|f| f.len()))
    });
    g.bench_function("prometheus_parse", |b| {
        b.iter(|| prometheus_parse(black_box(&text)))
    });
    g.finish();

    let mut g = c.benchmark_group("parse_node_exporter_openmetrics");
    g.throughput(Throughput::Bytes(om.len() as u64));
    g.bench_function("kagari_pull", |b| b.iter(|| consume_om(black_box(&om))));
    g.bench_function("kagari_families", |b| {
        b.iter(|| parse_openmetrics(black_box(&om)).map(|f| f.len()))
    });
    g.finish();

    let mut g = c.benchmark_group("encode_node_exporter");
    let mut buf = Vec::with_capacity(text.len() * 2);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("kagari_text", |b| {
        b.iter(|| {
            buf.clear();
            encode_families(&mut buf, black_box(&families), Format::Text).map(|_| buf.len())
        })
    });
    g.throughput(Throughput::Bytes(om.len() as u64));
    g.bench_function("kagari_openmetrics", |b| {
        b.iter(|| {
            buf.clear();
            encode_families(&mut buf, black_box(&om_families), Format::OpenMetrics)
                .map(|_| buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
