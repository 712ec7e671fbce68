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
