//! `kagari-tool tsdb ...` end to end, against real promtool 2.42 where it is installed.
//!
//! Without promtool (or the data generator) the peer tests print SKIP, unless
//! `KAGARI_REQUIRE_PEERS=true`, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kagari_model::Labels;
use kagari_tsdb::{Db, Options};

const PROMTOOL: &str = "/usr/bin/promtool";
fn tool() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kagari-tool"))
}

/// True when the peers are there; otherwise SKIP (or fail when they are required).
fn peers_present(test: &str) -> bool {
    let generator = kagari_testkit::gen_openmetrics_path();
    kagari_testkit::available(
        Path::new(PROMTOOL).exists() && generator.exists(),
        test,
        &format!("{PROMTOOL} or {} missing", generator.display()),
    )
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn ours(args: &[&str]) -> String {
    ok(
        tool().args(args).output().expect("run kagari-tool"),
        &format!("kagari-tool {args:?}"),
    )
}

fn promtool(args: &[&str]) -> String {
    ok(
        Command::new(PROMTOOL)
            .args(args)
            .output()
            .expect("run promtool"),
        &format!("promtool {args:?}"),
    )
}

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

/// A generated OpenMetrics file plus our and promtool's backfill of it.
struct Backfilled {
    _tmp: tempfile::TempDir,
    ours: PathBuf,
    theirs: PathBuf,
}

fn backfill(series: u32, hours: u32) -> Backfilled {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("in.om");
    let gen = Command::new(kagari_testkit::gen_openmetrics_path())
        .args([
            "--series",
            &series.to_string(),
            "--hours",
            &hours.to_string(),
        ])
        .arg("--out")
        .arg(&file)
        .output()
        .expect("run generator");
    assert!(gen.status.success(), "generator failed");
    let ours_dir = tmp.path().join("ours");
    let theirs = tmp.path().join("theirs");
    let f = file.to_str().expect("path");
    ours(&[
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        f,
        ours_dir.to_str().expect("path"),
    ]);
    promtool(&[
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        f,
        theirs.to_str().expect("path"),
    ]);
    // promtool opens the directory as a database: it needs `wal/`.
    for d in [&ours_dir, &theirs] {
        std::fs::create_dir_all(d.join("wal")).expect("wal dir");
    }
    Backfilled {
        _tmp: tmp,
        ours: ours_dir,
        theirs,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Per block (by min time): (min, max, samples, series), from `tsdb list` output.
fn list_counts(out: &str) -> Vec<(String, String, u64, u64)> {
    let mut rows: Vec<_> = out
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 8, "row {l:?}");
            (
                f[1].to_string(),
                f[2].to_string(),
                f[4].parse().expect("samples"),
                f[6].parse().expect("series"),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn backfill_and_dump_agree_with_promtool() {
    if !peers_present("backfill_and_dump_agree_with_promtool") {
        return;
    }
    let b = backfill(100, 4);
    let ours_of_ours = ours(&["tsdb", "dump", s(&b.ours)]);
    let theirs_of_ours = promtool(&["tsdb", "dump", s(&b.ours)]);
    let theirs_of_theirs = promtool(&["tsdb", "dump", s(&b.theirs)]);
    assert!(ours_of_ours.lines().count() > 10_000);
    assert_eq!(sorted_lines(&ours_of_ours), sorted_lines(&theirs_of_ours));
    assert_eq!(sorted_lines(&ours_of_ours), sorted_lines(&theirs_of_theirs));

    // Same blocks (time ranges, samples, series) listed by either tool on either dir.
    let ours_list = list_counts(&ours(&["tsdb", "list", s(&b.ours)]));
    assert!(ours_list.len() >= 2);
    assert_eq!(
        ours_list,
        list_counts(&promtool(&["tsdb", "list", s(&b.ours)]))
    );
    assert_eq!(
        ours_list,
        list_counts(&promtool(&["tsdb", "list", s(&b.theirs)]))
    );
}

#[test]
fn list_output_is_byte_identical() {
    if !peers_present("list_output_is_byte_identical") {
        return;
    }
    let b = backfill(50, 4);
    for human in [false, true] {
        let mut args = vec!["tsdb", "list"];
        if human {
            args.push("-r");
        }
        args.push(s(&b.theirs));
        assert_eq!(ours(&args), promtool(&args), "list (human={human})");
    }
}

#[test]
fn dump_with_selector_and_time_range_matches_promtool() {
    if !peers_present("dump_with_selector_and_time_range_matches_promtool") {
        return;
    }
    let b = backfill(50, 4);
    // A range across the block boundary 2023-11-15T00:00:00Z.
    let args = |dir: &Path| {
        vec![
            "tsdb".to_string(),
            "dump".to_string(),
            "--match".to_string(),
            r#"{__name__=~"http_.+", status!="500"}"#.to_string(),
            "--min-time".to_string(),
            "1700005000000".to_string(),
            "--max-time".to_string(),
            "1700008000123".to_string(),
            s(dir).to_string(),
        ]
    };
    let a = args(&b.theirs);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let ours_out = ours(&a);
    let theirs = promtool(&a);
    assert!(ours_out.lines().count() > 100);
    assert!(ours_out.lines().all(|l| !l.contains("status=\"500\"")));
    assert_eq!(sorted_lines(&ours_out), sorted_lines(&theirs));
}

/// Header lines equal; each section lists the same counts (keys of equal counts may differ:
/// promtool orders ties randomly).
#[test]
fn analyze_matches_promtool_up_to_tie_order() {
    if !peers_present("analyze_matches_promtool_up_to_tie_order") {
        return;
    }
    let b = backfill(100, 4);
    let block = std::fs::read_dir(&b.theirs)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with('0'))
        .max()
        .expect("a block");
    let args = ["tsdb", "analyze", s(&b.theirs), &block];
    let (o, t) = (ours(&args), promtool(&args));
    let shape = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| match l.split_once(' ') {
                Some((n, _)) if n.parse::<u64>().is_ok() => n.to_string(),
                _ => l.to_string(),
            })
            .collect()
    };
    assert_eq!(shape(&o), shape(&t));
    assert!(o.contains(&format!("Block ID: {block}\n")));
    // Sections without ties at the cut are exactly equal as sets.
    let section = |out: &str, title: &str| -> Vec<String> {
        let mut v: Vec<String> = out
            .split(&format!("\n{title}:\n"))
            .nth(1)
            .expect("section")
            .lines()
            .take_while(|l| !l.is_empty())
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    for title in [
        "Label names with highest cumulative label value length",
        "Highest cardinality labels",
    ] {
        assert_eq!(section(&o, title), section(&t, title), "{title}");
    }
}

/// Samples only in the WAL (no blocks) are dumped, as promtool dumps them.
#[test]
fn dump_reads_the_head_from_the_wal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = Db::open(tmp.path(), Options::default()).expect("open db");
    let mut expected = Vec::new();
    let mut app = db.appender();
    for (i, job) in ["a", "b\"q"].iter().enumerate() {
        let l = Labels::from_pairs([("__name__", "wal_metric"), ("job", job)]).expect("labels");
        for k in 0..50i64 {
            let (t, v) = (1_000 + k * 15_000, k as f64 * 0.25 + i as f64 * 1e7);
            app.append(None, &l, t, v).expect("append");
            expected.push((l.clone(), t, v));
        }
    }
    app.commit().expect("commit");
    db.close().expect("close");
    drop(db);

    let out = ours(&["tsdb", "dump", s(tmp.path())]);
    assert_eq!(out.lines().count(), 100);
    assert!(out.starts_with("{__name__=\"wal_metric\", job=\"a\"} 0 1000\n"));
    assert!(out.contains("{__name__=\"wal_metric\", job=\"b\\\"q\"} 1e+07 1000\n"));
    assert!(out.contains("{__name__=\"wal_metric\", job=\"a\"} 12.25 736000\n"));
    // The directory was not written to: no new WAL segment beyond what Db left.
    let before: Vec<_> = std::fs::read_dir(tmp.path().join("wal"))
        .expect("wal")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    ours(&["tsdb", "dump", s(tmp.path())]);
    let after: Vec<_> = std::fs::read_dir(tmp.path().join("wal"))
        .expect("wal")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(before.len(), after.len());

    if Path::new(PROMTOOL).exists() {
        let theirs = promtool(&["tsdb", "dump", s(tmp.path())]);
        assert_eq!(sorted_lines(&out), sorted_lines(&theirs));
    }
}

#[test]
fn backfill_errors_name_the_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("bad.om");
    std::fs::write(&file, "# TYPE a gauge\na 1 1700000000\na 2\n# EOF\n").expect("write");
    let out = tool()
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.om:3:"), "{err}");
    assert!(err.contains("expected timestamp"), "{err}");
    assert!(
        !tmp.path().join("out").exists(),
        "no output dir on a parse error"
    );

    std::fs::write(
        &file,
        "a 1 1700000000\na{x=\"1\"} 2 1700000000\na 3 1700000000\n# EOF\n",
    )
    .expect("write");
    let out = tool()
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("two values at timestamp 1700000000000"),
        "{err}"
    );

    let out = tool()
        .args(["tsdb", "dump", "--match", "rate(x[5m])"])
        .arg(tmp.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a series selector"));
}

#[test]
fn backfill_respects_max_block_duration() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("in.om");
    // 10 hours of one gauge, one sample a minute, from 2023-11-14T22:00:00Z (a 2h boundary).
    let mut text = String::from("# TYPE g gauge\n");
    let start = 1_699_999_200i64;
    for i in 0..600 {
        text.push_str(&format!("g{{k=\"v\"}} {i} {}\n", start + i * 60));
    }
    text.push_str("# EOF\n");
    std::fs::write(&file, text).expect("write");
    // 6h windows are aligned to the epoch (as promtool aligns them): 22-24h, 0-6h, 6-8h.
    for (dur, blocks) in [("2h", 5), ("6h", 3)] {
        let out_dir = tmp.path().join(dur);
        ours(&[
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            "--max-block-duration",
            dur,
            s(&file),
            s(&out_dir),
        ]);
        let list = ours(&["tsdb", "list", s(&out_dir)]);
        let rows = list_counts(&list);
        assert_eq!(rows.len(), blocks, "{dur}: {list}");
        assert_eq!(rows.iter().map(|r| r.2).sum::<u64>(), 600);
        let dump = ours(&["tsdb", "dump", s(&out_dir)]);
        assert_eq!(dump.lines().count(), 600);
        assert!(dump.contains("{__name__=\"g\", k=\"v\"} 599 1700035140000\n"));
    }
}

/// `analyze --extended`'s chunk fullness histogram equals promtool's, on promtool-written
/// chunks of 50, 120 + 10 and 120 + 80 samples.
#[test]
fn analyze_extended_histogram_matches_promtool() {
    if !peers_present("analyze_extended_histogram_matches_promtool") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("in.om");
    let mut text = String::from("# TYPE g gauge\n");
    for (name, n) in [("a", 50), ("b", 130), ("c", 200)] {
        for i in 0..n {
            text.push_str(&format!(
                "g{{s=\"{name}\"}} {i} {}\n",
                1_699_999_200 + i * 15
            ));
        }
    }
    text.push_str("# EOF\n");
    std::fs::write(&file, text).expect("write");
    let dir = tmp.path().join("theirs");
    promtool(&[
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        s(&file),
        s(&dir),
    ]);
    std::fs::create_dir_all(dir.join("wal")).expect("wal dir");
    let args = ["tsdb", "analyze", "--extended", s(&dir)];
    let (o, t) = (ours(&args), promtool(&args));
    let tail = |out: &str| {
        out.split("\nCompaction analysis:\n")
            .nth(1)
            .map(String::from)
    };
    assert!(
        tail(&o).is_some_and(|h| h.contains("     10%: #") && h.contains("     20%: \n")),
        "{o}"
    );
    assert_eq!(tail(&o), tail(&t));
}

/// A directory with backfilled blocks and a WAL holding later samples: dump shows both, in
/// one series per label set, as promtool does.
#[test]
fn dump_merges_blocks_and_head() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("in.om");
    let mut text = String::from("# TYPE g gauge\n");
    for i in 0..300 {
        text.push_str(&format!("g{{s=\"old\"}} {i} {}\n", 1_699_999_200 + i * 30));
    }
    text.push_str("# EOF\n");
    std::fs::write(&file, text).expect("write");
    let dir = tmp.path().join("db");
    ours(&[
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        s(&file),
        s(&dir),
    ]);

    let db = Db::open(&dir, Options::default()).expect("open db");
    assert_eq!(db.blocks().len(), 2);
    let old = Labels::from_pairs([("__name__", "g"), ("s", "old")]).expect("labels");
    let new = Labels::from_pairs([("__name__", "g"), ("s", "new")]).expect("labels");
    let t0 = (1_699_999_200 + 300 * 30) * 1000;
    let mut app = db.appender();
    for k in 0..20i64 {
        app.append(None, &old, t0 + k * 30_000, 1000.0 + k as f64)
            .expect("append");
        app.append(None, &new, t0 + k * 30_000, -0.5)
            .expect("append");
    }
    app.commit().expect("commit");
    db.close().expect("close");
    drop(db);

    let out = ours(&["tsdb", "dump", s(&dir)]);
    assert_eq!(out.lines().count(), 340);
    let old_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("{__name__=\"g\", s=\"old\"}"))
        .collect();
    assert_eq!(old_lines.len(), 320);
    assert_eq!(
        old_lines.last().copied(),
        Some(format!("{{__name__=\"g\", s=\"old\"}} 1019 {}", t0 + 19 * 30_000).as_str())
    );
    let head_only = ours(&["tsdb", "dump", "--min-time", &t0.to_string(), s(&dir)]);
    assert_eq!(head_only.lines().count(), 40);

    if Path::new(PROMTOOL).exists() {
        let theirs = promtool(&["tsdb", "dump", s(&dir)]);
        assert_eq!(sorted_lines(&out), sorted_lines(&theirs));
    }
}
