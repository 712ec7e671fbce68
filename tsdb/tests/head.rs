//! Head scenarios through the public API: selection by matchers, chunk cutting as seen by a
//! querier, label listing, and concurrent appenders racing head compaction.

use std::sync::Arc;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::head::{Head, HeadOptions};
use kagari_tsdb::{Error, Querier};

const HOUR: i64 = 3_600_000;

fn m(t: MatchType, n: &str, v: &str) -> Matcher {
    Matcher::new(t, n, v).unwrap()
}

fn head_querier(head: &Arc<Head>) -> Querier {
    Querier::new(Some(head.clone()), Vec::new(), i64::MIN, i64::MAX)
}

#[test]
fn matchers_select_sorted_series_and_labels_are_listed() {
    let head = Arc::new(Head::default());
    let mut app = head.appender();
    for (name, job, inst) in [
        ("up", "api", "a"),
        ("up", "web", "b"),
        ("up", "web", "a"),
        ("req", "web", "c"),
        ("req", "db", "d"),
    ] {
        let l = Labels::from_pairs([("__name__", name), ("job", job), ("instance", inst)]).unwrap();
        app.append(None, &l, 1_000, 1.0).unwrap();
    }
    let nojob = Labels::from_pairs([("__name__", "up"), ("instance", "z")]).unwrap();
    app.append(None, &nojob, 1_000, 1.0).unwrap();
    app.commit().unwrap();

    let q = head_querier(&head);
    let names = |ms: &[Matcher]| -> Vec<String> {
        q.select(ms)
            .unwrap()
            .iter()
            .map(|s| s.labels().to_string())
            .collect()
    };
    assert_eq!(
        names(&[
            m(MatchType::Equal, "__name__", "up"),
            m(MatchType::Equal, "job", "web")
        ]),
        vec![
            r#"up{instance="a", job="web"}"#,
            r#"up{instance="b", job="web"}"#
        ]
    );
    // `job=""` selects series without the label.
    assert_eq!(
        names(&[m(MatchType::Equal, "job", "")]),
        vec![r#"up{instance="z"}"#]
    );
    assert_eq!(
        names(&[
            m(MatchType::NotRegex, "job", "web|api"),
            m(MatchType::Regex, "__name__", "re.")
        ]),
        vec![r#"req{instance="d", job="db"}"#]
    );
    assert_eq!(names(&[m(MatchType::Regex, "instance", "[ab]")]).len(), 3);
    assert_eq!(names(&[]).len(), 6);
    assert_eq!(
        q.label_values("job", &[]).unwrap(),
        vec!["api", "db", "web"]
    );
    assert_eq!(
        q.label_values("instance", &[m(MatchType::Equal, "job", "web")])
            .unwrap(),
        vec!["a", "b", "c"]
    );
    assert_eq!(
        q.label_names(&[]).unwrap(),
        vec!["__name__", "instance", "job"]
    );
    // A time range without samples selects nothing.
    let empty = Querier::new(Some(head.clone()), Vec::new(), 2_000, 3_000);
    assert!(empty.select(&[]).unwrap().is_empty());
}

#[test]
fn chunks_hold_120_samples_and_respect_the_2h_boundary() {
    let head = Arc::new(Head::new(HeadOptions::default()));
    let l = Labels::from_pairs([("__name__", "x")]).unwrap();
    let mut r = None;
    // 15 s scrapes for 3 h starting at 1h30: 360 before the 2 h... boundary at 2 h.
    let start = HOUR + HOUR / 2;
    let n = 3 * 240;
    for i in 0..n {
        let mut app = head.appender();
        r = Some(app.append(r, &l, start + i * 15_000, i as f64).unwrap());
        app.commit().unwrap();
    }
    let q = head_querier(&head);
    let series = q.select(&[]).unwrap();
    let chunks = series[0].chunks().unwrap();
    let counts: Vec<u16> = chunks
        .iter()
        .map(|c| u16::from_be_bytes([c.data[0], c.data[1]]))
        .collect();
    assert_eq!(
        counts.iter().map(|&c| usize::from(c)).sum::<usize>(),
        n as usize
    );
    assert!(counts.iter().all(|&c| c <= 240), "{counts:?}");
    for c in &chunks {
        assert_eq!(c.min_time / (2 * HOUR), c.max_time / (2 * HOUR), "{c:?}");
    }
    // After the boundary at 2 h (4 h is not reached) the 2 h range splits into 4 chunks of 120.
    let after: Vec<u16> = chunks
        .iter()
        .zip(&counts)
        .filter(|(c, _)| c.min_time >= 2 * HOUR)
        .map(|(_, &n)| n)
        .collect();
    assert_eq!(&after[..4], &[120, 120, 120, 120]);
    assert_eq!(head.stats().chunks(), chunks.len() as u64);
    assert_eq!(series[0].samples().unwrap().len(), n as usize);
}

#[test]
fn concurrent_appenders_and_compaction_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        block_range: 60_000,
        ..Options::default()
    };
    let db = Arc::new(Db::open(dir.path(), opts).unwrap());
    const THREADS: usize = 4;
    const SERIES: usize = 25;
    const COMMITS: i64 = 400;
    let writers: Vec<_> = (0..THREADS)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let labels: Vec<Labels> = (0..SERIES)
                    .map(|i| {
                        Labels::from_pairs([
                            ("__name__", "c"),
                            ("w", &w.to_string()),
                            ("i", &i.to_string()),
                        ])
                        .unwrap()
                    })
                    .collect();
                let mut refs = vec![None; SERIES];
                let mut rejected = 0u64;
                for k in 1..=COMMITS {
                    let mut app = db.appender();
                    for (l, r) in labels.iter().zip(refs.iter_mut()) {
                        // Other writers move the head's max time ahead: older samples can be
                        // out of bounds; nothing else may fail.
                        match app.append(*r, l, k * 1_000, k as f64) {
                            Ok(x) => *r = Some(x),
                            Err(Error::OutOfBounds { .. }) => rejected += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    // A series that only ever gets rolled back: it must be garbage-collectable.
                    let ghost =
                        Labels::from_pairs([("__name__", "ghost"), ("k", &k.to_string())]).unwrap();
                    app.commit().unwrap();
                    let mut app = db.appender();
                    let _ = app.append(None, &ghost, k * 1_000, 0.0);
                    app.rollback();
                }
                rejected
            })
        })
        .collect();
    let compactor = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut blocks = 0;
            for _ in 0..200 {
                blocks += db.compact().unwrap().blocks_written.len();
                std::thread::yield_now();
            }
            blocks
        })
    };
    let rejected: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let blocks = compactor.join().unwrap();
    db.compact().unwrap();
    let q = db.querier(i64::MIN, i64::MAX);
    let series = q.select(&[m(MatchType::Equal, "__name__", "c")]).unwrap();
    assert_eq!(series.len(), THREADS * SERIES);
    for s in &series {
        let got = s.samples().unwrap();
        let want: Vec<(i64, f64)> = (1..=COMMITS).map(|k| (k * 1_000, k as f64)).collect();
        // Samples racing a head truncation can be rejected at commit as out of bounds; every
        // sample that was accepted is there exactly once, in order.
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(got.iter().all(|x| want.contains(x)));
    }
    drop(series);
    drop(q);
    let dropped = db.head().stats().samples_dropped_on_commit();
    let db = Arc::try_unwrap(db).unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    let q = db.querier(i64::MIN, i64::MAX);
    let total: usize = q
        .select(&[m(MatchType::Equal, "__name__", "c")])
        .unwrap()
        .iter()
        .map(|s| s.samples().unwrap().len())
        .sum();
    // Every sample was either rejected (append or commit) or is stored exactly once.
    assert_eq!(
        total as u64 + dropped + rejected,
        (THREADS * SERIES) as u64 * COMMITS as u64
    );
    println!(
        "concurrent: {total} samples stored, {rejected} out of bounds at append, {dropped} dropped at commit, {blocks} blocks cut while appending"
    );
}
