//! Blocks written by `BlockWriter` read back through `Block` with every sample bit-exact.

use std::collections::BTreeMap;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::block::{open_blocks, Block, BlockWriter};
use kagari_tsdb::chunkenc::ValueType;
use kagari_tsdb::tombstones::{Interval, Tombstones};
use kagari_tsdb::Error;

/// Deterministic pseudo-random numbers (xorshift) so the data is varied but reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn dataset() -> BTreeMap<Labels, Vec<(i64, f64)>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = BTreeMap::new();
    for job in ["api", "db", "web"] {
        for i in 0..7 {
            let labels = Labels::from_pairs([
                (
                    "__name__",
                    if i % 2 == 0 {
                        "requests_total"
                    } else {
                        "temperature"
                    },
                ),
                ("job", job),
                ("instance", &format!("host-{i}:9100")),
            ])
            .unwrap();
            let n = 1 + (rng.next() % 400) as usize;
            let mut t = 1_700_000_000_000i64 + (rng.next() % 10_000) as i64;
            let mut v = 0.0f64;
            let mut samples = Vec::with_capacity(n);
            for k in 0..n {
                t += match rng.next() % 10 {
                    0 => 1,
                    1 => 1_000_000,
                    2 => 15_000 + (rng.next() % 20_000) as i64,
                    _ => 15_000,
                };
                v = match k % 37 {
                    5 => f64::NAN,
                    6 => f64::from_bits(0x7FF0_0000_0000_0002),
                    7 => f64::NEG_INFINITY,
                    _ if i % 2 == 0 => v + (rng.next() % 100) as f64,
                    _ => (rng.next() % 10_000) as f64 / 7.0 - 500.0,
                };
                samples.push((t, v));
            }
            out.insert(labels, samples);
        }
    }
    out
}

fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
    s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

#[test]
fn write_then_read_every_sample() {
    let data = dataset();
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    w.set_segment_size(4096); // force several chunk segment files
                              // Add in reverse order: the writer sorts.
    for (l, s) in data.iter().rev() {
        w.add_series(l.clone(), s).unwrap();
    }
    let meta = w.write(dir.path()).unwrap();
    let total: usize = data.values().map(Vec::len).sum();
    assert_eq!(meta.stats.num_samples, total as u64);
    assert_eq!(meta.stats.num_series, data.len() as u64);
    let want_chunks: usize = data.values().map(|s| s.len().div_ceil(120)).sum();
    assert_eq!(meta.stats.num_chunks, want_chunks as u64);
    let first = data.values().map(|s| s[0].0).min().unwrap();
    let last = data.values().map(|s| s[s.len() - 1].0).max().unwrap();
    assert_eq!((meta.min_time, meta.max_time), (first, last + 1));

    let blocks = open_blocks(dir.path()).unwrap();
    assert_eq!(blocks.len(), 1);
    let b = &blocks[0];
    assert_eq!(b.meta(), &meta);
    assert!(b.chunks().num_segments() > 1);
    let mut seen = 0;
    for s in b.select(&[]).unwrap() {
        let s = s.unwrap();
        let want = &data[&s.labels];
        assert!(s.chunks.iter().all(|c| c.min_time <= c.max_time));
        assert_eq!(bits(&s.samples().unwrap()), bits(want), "{}", s.labels);
        seen += 1;
    }
    assert_eq!(seen, data.len());
    // Labels came back in sorted order with sorted refs.
    let labels: Vec<Labels> = b.select(&[]).unwrap().map(|s| s.unwrap().labels).collect();
    assert_eq!(labels, data.keys().cloned().collect::<Vec<_>>());
}

#[test]
fn seek_across_chunks_and_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    let samples: Vec<(i64, f64)> = (0..1000).map(|i| (i * 10, i as f64)).collect();
    w.add_series(Labels::from_pairs([("__name__", "x")]).unwrap(), &samples)
        .unwrap();
    let meta = w.write(dir.path()).unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let mut t = Tombstones::new();
    t.add(
        b_ref(&bdir),
        Interval {
            min_time: 5000,
            max_time: 6000,
        },
    );
    t.write(&bdir).unwrap();
    let b = Block::open(&bdir).unwrap();
    let s = b.select(&[]).unwrap().next().unwrap().unwrap();
    assert_eq!(s.chunks.len(), 9);
    let mut it = s.iter();
    assert_eq!(it.seek(2405), ValueType::Float);
    assert_eq!(it.at(), (2410, 241.0));
    assert_eq!(it.seek(100), ValueType::Float, "seeking backwards stays");
    assert_eq!(it.at().0, 2410);
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at().0, 2420);
    assert_eq!(it.seek(5000), ValueType::Float, "deleted range is skipped");
    assert_eq!(it.at().0, 6010);
    assert_eq!(it.seek(9990), ValueType::Float);
    assert_eq!(it.next(), ValueType::None);
    let mut it = s.iter();
    assert_eq!(it.seek(10_000), ValueType::None);
}

#[test]
fn select_by_matchers() {
    let data = dataset();
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    for (l, s) in &data {
        w.add_series(l.clone(), s).unwrap();
    }
    let meta = w.write(dir.path()).unwrap();
    let b = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
    let cases = [
        vec![Matcher::new(MatchType::Equal, "job", "db").unwrap()],
        vec![Matcher::new(MatchType::Regex, "instance", "host-[0-2]:.*").unwrap()],
        vec![
            Matcher::new(MatchType::NotEqual, "__name__", "temperature").unwrap(),
            Matcher::new(MatchType::NotRegex, "job", "api|web").unwrap(),
        ],
        vec![Matcher::new(MatchType::Equal, "missing", "").unwrap()],
        vec![Matcher::new(MatchType::Equal, "job", "nope").unwrap()],
    ];
    for ms in cases {
        let want: Vec<&Labels> = data
            .keys()
            .filter(|l| ms.iter().all(|m| m.matches(l.get(m.name()).unwrap_or(""))))
            .collect();
        let got: Vec<Labels> = b.select(&ms).unwrap().map(|s| s.unwrap().labels).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{ms:?}");
    }
    assert_eq!(b.index().label_values("job"), vec!["api", "db", "web"]);
}

#[test]
fn tombstones_hide_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    let samples: Vec<(i64, f64)> = (0..300).map(|i| (i * 10, i as f64)).collect();
    w.add_series(Labels::from_pairs([("__name__", "x")]).unwrap(), &samples)
        .unwrap();
    let meta = w.write(dir.path()).unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let mut t = Tombstones::new();
    t.add(
        b_ref(&bdir),
        Interval {
            min_time: 100,
            max_time: 1500,
        },
    );
    t.write(&bdir).unwrap();
    let b = Block::open(&bdir).unwrap();
    let s = b.select(&[]).unwrap().next().unwrap().unwrap();
    let got = s.samples().unwrap();
    let want: Vec<(i64, f64)> = samples
        .into_iter()
        .filter(|(t, _)| !(100..=1500).contains(t))
        .collect();
    assert_eq!(got, want);
    // The iterator form gives the same thing.
    let mut it = s.iter();
    let mut n = 0;
    while it.next() == ValueType::Float {
        n += 1;
    }
    assert_eq!(n, want.len());
}

fn b_ref(dir: &std::path::Path) -> u32 {
    Block::open(dir).unwrap().index().all_postings().unwrap()[0]
}

#[test]
fn writer_rejects_bad_input() {
    let l = Labels::from_pairs([("__name__", "x")]).unwrap();
    let mut w = BlockWriter::new();
    assert!(matches!(
        w.add_series(l.clone(), &[(2, 1.0), (1, 1.0)]),
        Err(Error::InvalidInput { .. })
    ));
    assert!(w.add_series(Labels::empty(), &[(1, 1.0)]).is_err());
    let dir = tempfile::tempdir().unwrap();
    assert!(BlockWriter::new().write(dir.path()).is_err(), "empty block");
    let mut w = BlockWriter::new();
    w.add_series(l.clone(), &[(1, 1.0)]).unwrap();
    w.add_series(l.clone(), &[(5, 1.0)]).unwrap();
    assert!(w.write(dir.path()).is_err(), "duplicate series");
    let mut w = BlockWriter::new();
    w.add_series(l, &[(1, 1.0), (7_200_000, 2.0)]).unwrap();
    w.set_time_range(0, 7_200_000).unwrap();
    assert!(
        w.write(dir.path()).is_err(),
        "sample at the exclusive max time"
    );
    // Nothing half-written is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn corrupt_chunk_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::new();
    w.add_series(
        Labels::from_pairs([("__name__", "x")]).unwrap(),
        &[(1, 1.0), (2, 2.0)],
    )
    .unwrap();
    let meta = w.write(dir.path()).unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let seg = bdir.join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = bytes.len() - 6;
    bytes[last] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let b = Block::open(&bdir).unwrap();
    let s = b.select(&[]).unwrap().next().unwrap().unwrap();
    assert!(matches!(s.samples(), Err(Error::Checksum { .. })));
}
