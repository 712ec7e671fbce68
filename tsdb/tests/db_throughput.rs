//! Append-through-the-WAL and replay figures for a scrape-like load (printed; run with
//! `--release --nocapture` for meaningful numbers). The assertions check the data, not time.

use std::time::Instant;

use kagari_model::Labels;
use kagari_tsdb::db::{Db, Options};

const SERIES: usize = 10_000;
const SCRAPES: i64 = 60;

#[test]
fn scrape_like_appends_through_the_wal_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("m_{}", i % 100)),
                ("instance", format!("host-{}", i / 100)),
                ("job", "node".to_string()),
            ])
            .unwrap()
        })
        .collect();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut refs = vec![None; SERIES];
    let started = Instant::now();
    for k in 0..SCRAPES {
        // One commit per "target" of 100 series, as a scrape loop does.
        for (chunk_l, chunk_r) in labels.chunks(100).zip(refs.chunks_mut(100)) {
            let mut app = db.appender();
            for (l, r) in chunk_l.iter().zip(chunk_r.iter_mut()) {
                *r = Some(app.append(*r, l, k * 15_000, k as f64).unwrap());
            }
            app.commit().unwrap();
        }
    }
    let append = started.elapsed();
    let total = SERIES as u64 * SCRAPES as u64;
    assert_eq!(db.head().stats().samples_appended(), total);
    let wal = db.wal_size();
    drop(db);

    let started = Instant::now();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let replay = started.elapsed();
    assert_eq!(db.replay_stats().samples, total);
    assert_eq!(db.head().num_series(), SERIES);
    println!(
        "{SERIES} series x {SCRAPES} scrapes, commits of 100 samples: append+WAL {:.2} M samples/s, WAL {:.1} B/sample, replay {:.2} M samples/s",
        total as f64 / append.as_secs_f64() / 1e6,
        wal as f64 / total as f64,
        total as f64 / replay.as_secs_f64() / 1e6
    );
}

/// Concurrent commits on the same series (apply happens after the append lock is released,
/// under the series locks): what is in memory equals what the WAL replays, sample for sample.
#[test]
fn concurrent_commits_on_shared_series_replay_to_the_same_samples() {
    use kagari_model::{MatchType, Matcher};
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<Labels> = (0..200)
        .map(|i| Labels::from_pairs([("__name__", "shared"), ("i", &i.to_string())]).unwrap())
        .collect();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    std::thread::scope(|s| {
        for w in 0..4i64 {
            let (db, labels) = (&db, &labels);
            s.spawn(move || {
                for k in 0..300i64 {
                    let mut app = db.appender();
                    for l in labels {
                        // Out-of-order samples (another worker got ahead) are expected.
                        let _ = app.append(None, l, k * 4 + w, (k * 4 + w) as f64);
                    }
                    app.commit().unwrap();
                }
            });
        }
    });
    let m = Matcher::new(MatchType::Equal, "__name__", "shared").unwrap();
    let read = |db: &Db| -> Vec<Vec<(i64, f64)>> {
        let q = db.querier(i64::MIN, i64::MAX);
        q.select(std::slice::from_ref(&m))
            .unwrap()
            .iter()
            .map(|s| s.samples().unwrap())
            .collect()
    };
    let before = read(&db);
    assert_eq!(before.len(), 200);
    for s in &before {
        assert!(s.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.iter().all(|&(t, v)| v == t as f64));
        assert!(s.len() >= 300, "{} samples", s.len());
    }
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(read(&db), before);
}
