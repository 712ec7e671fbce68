//! Interoperability with real promtool 2.42: after a run that appends through the WAL and
//! cuts blocks (some merged into a level-2 block; the data dir holds blocks, a WAL
//! checkpoint and WAL segments),
//! `promtool tsdb dump` (which opens blocks and replays the WAL) prints exactly what we wrote.
//!
//! Needs `promtool` on PATH; when missing the test prints a SKIP line and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

use std::collections::BTreeMap;
use std::process::Command;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::wlog::PAGE_SIZE;

mod promtool_common;
use promtool_common::{dump_lines, peer_available, run};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const T0: i64 = 1_700_000_000_000;

#[test]
fn promtool_dump_of_our_data_dir_equals_what_we_wrote() {
    if !peer_available(
        "promtool_dump_of_our_data_dir_equals_what_we_wrote",
        "promtool",
        "--version",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        wal_segment_size: 8 * PAGE_SIZE,
        ..Options::default()
    };
    let mut want: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    {
        let db = Db::open(dir.path(), opts).unwrap();
        let series: Vec<Labels> = (0..12)
            .map(|i| {
                Labels::from_pairs([
                    ("__name__", if i % 3 == 0 { "a_total" } else { "b" }),
                    ("instance", &format!("host-{i}:9100")),
                    ("path", if i % 2 == 0 { "/x y" } else { "q\"uote" }),
                ])
                .unwrap()
            })
            .collect();
        let mut refs = vec![None; series.len()];
        let mut t = T0;
        let mut k = 0u64;
        while t < T0 + 13 * HOUR {
            let mut app = db.appender();
            for (i, (l, r)) in series.iter().zip(refs.iter_mut()).enumerate() {
                // Skip some samples so series have gaps; vary values in magnitude.
                if (k + i as u64) % 7 == 3 {
                    continue;
                }
                let v = match (k + i as u64) % 5 {
                    0 => k as f64,
                    1 => -(k as f64) / 8.0,
                    2 => 1.5e9 + k as f64,
                    3 => 1e-7 * k as f64,
                    _ => 0.1 * i as f64,
                };
                *r = Some(app.append(*r, l, t, v).unwrap());
                want.entry(l.clone()).or_default().push((t, v));
            }
            app.commit().unwrap();
            t += 30_000 + (k % 3) as i64 * 1_000;
            k += 1;
        }
        let report = db.compact().unwrap();
        assert!(!report.blocks_written.is_empty());
        // Enough 2 h blocks for the leveled planner to merge some into a 6 h block.
        assert!(!report.blocks_merged.is_empty(), "{report:?}");
        assert!(report.checkpointed);
        // More appends after the cut go to the new WAL segment only.
        let mut app = db.appender();
        let extra = series[1].clone();
        app.append(None, &extra, t, 42.0).unwrap();
        app.commit().unwrap();
        want.entry(extra).or_default().push((t, 42.0));
        // Our own reader agrees before promtool is asked.
        let q = db.querier(i64::MIN, i64::MAX);
        let ours: BTreeMap<Labels, Vec<(i64, f64)>> = q
            .select(&[Matcher::new(MatchType::Regex, "__name__", ".+").unwrap()])
            .unwrap()
            .iter()
            .map(|s| (s.labels().clone(), s.samples().unwrap()))
            .collect();
        assert_eq!(ours, want);
        db.close().unwrap();
    }
    assert!(std::fs::read_dir(dir.path().join("wal")).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("checkpoint.")));
    let dump = run(Command::new("promtool")
        .args(["tsdb", "dump", "--min-time=0", "--max-time=4000000000000"])
        .arg(dir.path()));
    let expected = dump_lines(&want);
    if dump != expected {
        let diff = dump.lines().zip(expected.lines()).find(|(a, b)| a != b);
        panic!(
            "promtool dump ({} lines) differs from what we wrote ({} lines); first difference (promtool, ours): {diff:?}",
            dump.lines().count(),
            expected.lines().count()
        );
    }
    println!(
        "promtool dump of our data dir matched {} samples of {} series (level-1 and merged blocks, checkpoint, WAL)",
        expected.lines().count(),
        want.len()
    );
}
