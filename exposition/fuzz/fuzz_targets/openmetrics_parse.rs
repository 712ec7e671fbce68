//! Fuzz the OpenMetrics parsers: never panic; whatever parses re-encodes into OpenMetrics that
//! parses again with the same samples.
#![no_main]

use kagari_exposition::{
    encode_families, parse_openmetrics, parse_text, Entry, Format, OpenMetricsParser,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = OpenMetricsParser::new(data);
    while let Ok(e) = p.next_entry() {
        match e {
            Entry::Eof => break,
            Entry::Sample(s) => {
                let _ = s.labels.iter().count();
            }
            _ => {}
        }
    }
    if let Ok(fams) = parse_openmetrics(data) {
        let mut om = Vec::new();
        encode_families(&mut om, &fams, Format::OpenMetrics).expect("valid OpenMetrics re-encodes");
        let again = parse_openmetrics(&om).expect("re-encoded OpenMetrics must parse");
        let count = |f: &[kagari_exposition::MetricFamily]| {
            f.iter().map(|f| f.samples.len()).sum::<usize>()
        };
        assert_eq!(count(&again), count(&fams));
        let mut text = Vec::new();
        encode_families(&mut text, &fams, Format::Text).expect("encode text");
        parse_text(&text).expect("text output must parse");
    }
});
