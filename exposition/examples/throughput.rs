//! Measures parser and encoder throughput on one file (default: the node_exporter 1.5.0 scrape).
//!
//! ```text
//! cargo run --release -p kagari-exposition --example throughput [-- FILE [text|openmetrics]]
//! ```

use std::time::{Duration, Instant};

use kagari_exposition::{
    encode_families, parse_openmetrics, parse_text, Entry, Format, OpenMetricsParser, TextParser,
};

fn measure(what: &str, bytes: usize, mut f: impl FnMut() -> usize) {
    // Warm up, then run for about a second.
    let mut sink = f();
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        sink = sink.wrapping_add(f());
        iters += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let mbps = (bytes as f64 * iters as f64) / secs / 1e6;
    println!("{what:<28} {mbps:>8.1} MB/s  ({iters} iterations, checksum {sink})");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/exposition/text/good/node_exporter-1.5.0-live-scrape.prom"
        )
        .to_owned()
    });
    let format = match args.get(2).map(String::as_str) {
        Some("openmetrics") => Format::OpenMetrics,
        _ => Format::Text,
    };
    let input = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    println!("{path}: {} bytes, {format:?}", input.len());
    match format {
        Format::Text => {
            measure("pull parser (TextParser)", input.len(), || {
                let mut p = TextParser::new(&input);
                let mut n = 0;
                while let Ok(e) = p.next_entry() {
                    match e {
                        Entry::Eof => break,
                        Entry::Sample(s) => n += s.labels.raw().len(),
                        _ => n += 1,
                    }
                }
                n
            });
            measure("parse_text (families)", input.len(), || {
                parse_text(&input).map(|f| f.len()).unwrap_or(0)
            });
        }
        Format::OpenMetrics => {
            measure("pull parser (OpenMetrics)", input.len(), || {
                let mut p = OpenMetricsParser::new(&input);
                let mut n = 0;
                while let Ok(e) = p.next_entry() {
                    match e {
                        Entry::Eof => break,
                        _ => n += 1,
                    }
                }
                n
            });
            measure("parse_openmetrics (families)", input.len(), || {
                parse_openmetrics(&input).map(|f| f.len()).unwrap_or(0)
            });
        }
    }
    let families = match format {
        Format::Text => parse_text(&input),
        Format::OpenMetrics => parse_openmetrics(&input),
    };
    let Ok(families) = families else {
        eprintln!("input does not parse");
        std::process::exit(1);
    };
    if format == Format::Text {
        // The same data as OpenMetrics (converted by the encoder), to measure that parser too.
        let mut om = Vec::new();
        if encode_families(&mut om, &families, Format::OpenMetrics).is_ok() {
            println!("as OpenMetrics: {} bytes", om.len());
            measure("pull parser (OpenMetrics)", om.len(), || {
                let mut p = OpenMetricsParser::new(&om);
                let mut n = 0;
                while let Ok(e) = p.next_entry() {
                    match e {
                        Entry::Eof => break,
                        _ => n += 1,
                    }
                }
                n
            });
            measure("parse_openmetrics (families)", om.len(), || {
                parse_openmetrics(&om).map(|f| f.len()).unwrap_or(0)
            });
        }
    }
    let mut out = Vec::with_capacity(input.len() * 2);
    measure("encode_families (text)", input.len(), || {
        out.clear();
        encode_families(&mut out, &families, Format::Text)
            .map(|()| out.len())
            .unwrap_or(0)
    });
}
