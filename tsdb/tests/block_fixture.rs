//! Read compatibility without peers: a block written by promtool 2.42 (committed under
//! `testdata/`) is opened and its samples compared with the OpenMetrics input it was made from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::block::{open_blocks, Block};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/promtool-2.42")
}

/// Parses the tiny OpenMetrics subset of `input.om.txt`: `name{a="b",...} value seconds`.
fn parse_input() -> BTreeMap<Labels, Vec<(i64, f64)>> {
    let text = std::fs::read_to_string(fixture_dir().join("input.om.txt")).unwrap();
    let mut out: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, rest) = line.rsplit_once('}').unwrap();
        let (name, labels) = series.split_once('{').unwrap();
        let mut pairs = vec![("__name__".to_string(), name.to_string())];
        for kv in labels.split(',') {
            let (k, v) = kv.split_once('=').unwrap();
            pairs.push((k.to_string(), v.trim_matches('"').to_string()));
        }
        let mut fields = rest.split_whitespace();
        let value: f64 = fields.next().unwrap().parse().unwrap();
        let secs: f64 = fields.next().unwrap().parse().unwrap();
        let t = (secs * 1000.0).round() as i64;
        out.entry(Labels::from_pairs(pairs).unwrap())
            .or_default()
            .push((t, value));
    }
    out
}

#[test]
fn promtool_block_reads_back_its_input() {
    let want = parse_input();
    assert_eq!(want.len(), 3);
    let blocks = open_blocks(&fixture_dir()).unwrap();
    assert_eq!(blocks.len(), 1);
    let b = &blocks[0];
    let m = b.meta();
    assert_eq!(
        m.ulid.to_string(),
        b.dir().file_name().unwrap().to_str().unwrap()
    );
    let n: usize = want.values().map(Vec::len).sum();
    assert_eq!(m.stats.num_samples, n as u64);
    assert_eq!(m.stats.num_series, 3);
    assert_eq!(m.compaction.level, 1);
    let first = want.values().map(|s| s[0].0).min().unwrap();
    let last = want.values().map(|s| s[s.len() - 1].0).max().unwrap();
    assert_eq!((m.min_time, m.max_time), (first, last + 1));
    assert!(b.tombstones().is_empty());

    let mut got: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for s in b.select(&[]).unwrap() {
        let s = s.unwrap();
        got.insert(s.labels.clone(), s.samples().unwrap());
    }
    assert_eq!(got, want);
}

#[test]
fn promtool_block_matchers() {
    let b = Block::open(&fixture_dir().join("01M80PNGX1209N705AFM892FHF")).unwrap();
    let ms = [Matcher::new(MatchType::Equal, "code", "500").unwrap()];
    let got: Vec<String> = b
        .select(&ms)
        .unwrap()
        .map(|s| s.unwrap().labels.to_string())
        .collect();
    assert_eq!(
        got,
        vec![r#"http_requests_total{code="500", method="get"}"#]
    );
    assert_eq!(
        b.index().label_names(),
        vec!["__name__", "code", "job", "method"]
    );
}
