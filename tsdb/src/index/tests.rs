//! Index writer/reader tests, including bytes pinned to the promtool 2.42 fixture block.

use std::path::PathBuf;

use kagari_model::{Labels, MatchType, Matcher};

use super::*;

fn fixture_index() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/promtool-2.42/01M80PNGX1209N705AFM892FHF/index")
}

fn example_series() -> Vec<(Labels, ChunkMeta)> {
    let t0 = 1_700_000_000_000;
    let l = |p: &[(&str, &str)]| Labels::from_pairs(p.iter().copied()).unwrap();
    vec![
        (
            l(&[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("method", "get"),
            ]),
            ChunkMeta {
                min_time: t0,
                max_time: t0 + 45_500,
                chunk_ref: ChunkRef(8),
            },
        ),
        (
            l(&[
                ("__name__", "http_requests_total"),
                ("code", "500"),
                ("method", "get"),
            ]),
            ChunkMeta {
                min_time: t0,
                max_time: t0 + 15_000,
                chunk_ref: ChunkRef(40),
            },
        ),
        (
            l(&[("__name__", "up"), ("job", "a")]),
            ChunkMeta {
                min_time: t0,
                max_time: t0 + 15_000,
                chunk_ref: ChunkRef(65),
            },
        ),
    ]
}

const SYMBOLS: [&str; 11] = [
    "",
    "200",
    "500",
    "__name__",
    "a",
    "code",
    "get",
    "http_requests_total",
    "job",
    "method",
    "up",
];

fn write_example(path: &std::path::Path) {
    let mut w = IndexWriter::new(path).unwrap();
    w.add_symbols(SYMBOLS).unwrap();
    let ids: Vec<_> = example_series()
        .iter()
        .map(|(l, c)| w.add_series(l, &[*c]).unwrap())
        .collect();
    assert_eq!(ids, vec![5, 7, 9]);
    w.finish().unwrap();
}

/// Reference §3.9: symbols and series are byte-identical to promtool's; the 3.x layout puts the
/// postings at 0xa4 and the postings offset table at 0x124, 455 bytes in total.
#[test]
fn writer_matches_promtool_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    write_example(&path);
    let ours = std::fs::read(&path).unwrap();
    let theirs = std::fs::read(fixture_index()).unwrap();
    assert_eq!(ours.len(), 455);
    assert_eq!(
        ours[..0xa4],
        theirs[..0xa4],
        "header, symbols and series differ"
    );
    // Postings lists are the same bytes, only placed after the series instead of after the
    // legacy label index sections.
    assert_eq!(ours[0xa4..0xa4 + 0x80], theirs[0xfc..0xfc + 0x80]);
    let r = IndexReader::open(&path).unwrap();
    assert_eq!(
        r.toc(),
        Toc {
            symbols: 5,
            series: 0x50,
            label_indices: 0xa4,
            label_offset_table: 0x124,
            postings: 0xa4,
            postings_offset_table: 0x124
        }
    );
}

fn check_example_reader(r: &IndexReader) {
    assert_eq!(r.symbols().collect::<Result<Vec<_>, _>>().unwrap(), SYMBOLS);
    assert_eq!(r.label_names(), vec!["__name__", "code", "job", "method"]);
    assert_eq!(r.label_values("code"), vec!["200", "500"]);
    assert!(r.label_values("nope").is_empty());
    assert_eq!(r.all_postings().unwrap(), vec![5, 7, 9]);
    assert_eq!(r.postings("method", "get").unwrap(), vec![5, 7]);
    assert!(r.postings("method", "put").unwrap().is_empty());
    let mut chunks = Vec::new();
    for (id, (labels, meta)) in [5u32, 7, 9].into_iter().zip(example_series()) {
        assert_eq!(r.series(id, &mut chunks).unwrap(), labels);
        assert_eq!(chunks, vec![meta]);
    }
    assert!(r.series(6, &mut chunks).is_err());
    assert!(matches!(
        r.series(1, &mut chunks),
        Err(crate::Error::BadReference { .. })
    ));

    let sel = |ms: &[(MatchType, &str, &str)]| {
        let ms: Vec<Matcher> = ms
            .iter()
            .map(|(t, n, v)| Matcher::new(*t, n, v).unwrap())
            .collect();
        r.postings_for_matchers(&ms).unwrap()
    };
    assert_eq!(sel(&[]), vec![5, 7, 9]);
    assert_eq!(
        sel(&[(MatchType::Equal, "__name__", "http_requests_total")]),
        vec![5, 7]
    );
    assert_eq!(sel(&[(MatchType::Regex, "code", "2..|5..")]), vec![5, 7]);
    assert_eq!(sel(&[(MatchType::NotEqual, "code", "200")]), vec![7, 9]);
    assert_eq!(sel(&[(MatchType::Equal, "code", "")]), vec![9]);
    assert_eq!(
        sel(&[
            (MatchType::NotRegex, "job", "a"),
            (MatchType::Equal, "method", "get")
        ]),
        vec![5, 7]
    );
    assert_eq!(sel(&[(MatchType::Regex, "job", ".+")]), vec![9]);
    assert_eq!(sel(&[(MatchType::Regex, "job", ".*")]), vec![5, 7, 9]);
    assert_eq!(
        sel(&[
            (MatchType::Equal, "__name__", "up"),
            (MatchType::Equal, "code", "200")
        ]),
        Vec::<u32>::new()
    );
}

#[test]
fn reads_our_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    write_example(&path);
    check_example_reader(&IndexReader::open(&path).unwrap());
}

#[test]
fn reads_promtool_index_with_legacy_sections() {
    let r = IndexReader::open(&fixture_index()).unwrap();
    assert_eq!(r.version(), 2);
    assert_eq!(r.toc().label_offset_table, 0x17c);
    check_example_reader(&r);
}

#[test]
fn writer_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = IndexWriter::new(&dir.path().join("index")).unwrap();
    assert!(w.add_symbols(["b", "a"]).is_err());
    w.add_symbols(["", "__name__", "a", "b"]).unwrap();
    let a = Labels::from_pairs([("__name__", "a")]).unwrap();
    let b = Labels::from_pairs([("__name__", "b")]).unwrap();
    let c = |min, max, r| ChunkMeta {
        min_time: min,
        max_time: max,
        chunk_ref: ChunkRef(r),
    };
    assert!(
        w.add_series(&b, &[c(0, 10, 8), c(10, 20, 30)]).is_err(),
        "overlapping chunks"
    );
    w.add_series(&b, &[c(0, 10, 8), c(11, 20, 30)]).unwrap();
    assert!(w.add_series(&a, &[]).is_err(), "labels out of order");
    let x = Labels::from_pairs([("__name__", "x")]).unwrap();
    assert!(w.add_series(&x, &[]).is_err(), "unknown symbol");
}

#[test]
fn corruption_is_reported_not_panicking() {
    let good = std::fs::read(fixture_index()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    // Flip every byte in turn: opening and reading either works or returns an error.
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        std::fs::write(&path, &bad).unwrap();
        if let Ok(r) = IndexReader::open(&path) {
            let mut chunks = Vec::new();
            for id in r.all_postings().unwrap_or_default() {
                let _ = r.series(id, &mut chunks);
            }
            for n in r.label_names() {
                for v in r.label_values(n) {
                    let _ = r.postings(n, v);
                }
            }
        }
    }
    // Truncations too.
    for len in [0, 4, 5, 56, 100, good.len() - 1] {
        std::fs::write(&path, &good[..len]).unwrap();
        assert!(IndexReader::open(&path).is_err(), "truncated to {len}");
    }
}
