//! Fuzz the 0.0.4 parsers: never panic; whatever parses re-encodes (both formats) into output
//! that parses again.
#![no_main]

use kagari_exposition::{
    encode_families, parse_openmetrics, parse_text, Entry, Format, TextParser,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = TextParser::new(data);
    while let Ok(e) = p.next_entry() {
        match e {
            Entry::Eof => break,
            Entry::Sample(s) => {
                let _ = s.labels.iter().count();
            }
            _ => {}
        }
    }
    if let Ok(fams) = parse_text(data) {
        let mut text = Vec::new();
        encode_families(&mut text, &fams, Format::Text).expect("encode text");
        let again = parse_text(&text).expect("re-encoded text must parse");
        let count = |f: &[kagari_exposition::MetricFamily]| {
            f.iter().map(|f| f.samples.len()).sum::<usize>()
        };
        assert_eq!(count(&again), count(&fams));
        let mut om = Vec::new();
        if encode_families(&mut om, &fams, Format::OpenMetrics).is_ok() {
            parse_openmetrics(&om).expect("encoded OpenMetrics must parse");
        }
    }
});
