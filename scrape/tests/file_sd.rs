//! file_sd end to end: targets added to and removed from a JSON or YAML file are picked up
//! by file watching (mtime polling) and, with watching effectively off, by the
//! `refresh_interval` re-read; every series of a removed target gets one staleness marker.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{eventually, Exporter, MemStorage, Response};
use kagari_model::{is_stale, Labels};
use kagari_scrape::{Config, ManagerOptions, ScrapeManager};

const BODY: &str = "# TYPE fsd_requests_total counter\nfsd_requests_total{code=\"200\"} 7\n\
fsd_requests_total{code=\"500\"} 1\n# TYPE fsd_temp gauge\nfsd_temp 21.5\n";

/// The series a target produces: three exposed plus the five report series.
const SERIES_PER_TARGET: usize = 8;

/// Writes the target list in the file's format, replacing the file atomically (as
/// configuration management tools do) or in place.
fn write_targets(path: &Path, targets: &[String], atomic: bool) {
    let yaml = path.extension().is_some_and(|e| e != "json");
    let content = if yaml {
        let mut s = String::from("- labels: {env: e2e}\n  targets:\n");
        for t in targets {
            s.push_str(&format!("    - '{t}'\n"));
        }
        s
    } else {
        let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        format!(
            r#"[{{"targets": [{}], "labels": {{"env": "e2e"}}}}]"#,
            list.join(", ")
        )
    };
    if atomic {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    } else {
        std::fs::write(path, content).unwrap();
    }
}

/// Every committed sample of one target, by series.
fn by_series(st: &MemStorage, instance: &str) -> BTreeMap<Labels, Vec<f64>> {
    let mut out: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
    for s in st.all() {
        if s.labels.get("instance") == Some(instance) {
            out.entry(s.labels.clone()).or_default().push(s.v);
        }
    }
    out
}

fn up_once(st: &MemStorage, instance: &str) -> bool {
    by_series(st, instance)
        .iter()
        .any(|(l, v)| l.metric_name() == Some("up") && v.contains(&1.0))
}

/// `ext` is the file extension; `poll` the mtime polling period; `refresh` the
/// `refresh_interval`.
async fn add_and_remove(ext: &str, poll: Duration, refresh: &str, atomic: bool) {
    let a = Exporter::start(Response::text(BODY)).await;
    let b = Exporter::start(Response::text(BODY)).await;
    let c = Exporter::start(Response::text(BODY)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("targets.{ext}"));
    write_targets(&file, &[a.target(), b.target()], atomic);
    let yaml = format!(
        "scrape_configs:\n  - job_name: fsd\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n    file_sd_configs: [{{files: ['{}/*.{ext}'], refresh_interval: {refresh}}}]\n",
        dir.path().display()
    );
    let st = MemStorage::default();
    let opts = ManagerOptions {
        offset_seed: Some(0),
        file_sd_poll: poll,
        ..Default::default()
    };
    let mut m = ScrapeManager::new(Arc::new(st.clone()), opts);
    m.apply_config(&Config::from_yaml(&yaml).unwrap()).unwrap();
    eventually("a and b scraped", || {
        up_once(&st, &a.target()) && up_once(&st, &b.target())
    })
    .await;
    let t = m.active_targets();
    assert_eq!(t.len(), 2);
    assert!(t.iter().all(|t| t.labels.get("env") == Some("e2e")));
    // Let b report a few times so its series are well established.
    let n = st.values("up").len();
    eventually("more scrapes", || st.values("up").len() >= n + 4).await;

    // Replace b by c.
    let changed = Instant::now();
    write_targets(&file, &[a.target(), c.target()], atomic);
    eventually("c scraped", || up_once(&st, &c.target())).await;
    eprintln!(
        "{ext} (poll {poll:?}, refresh {refresh}): new target scraped {:?} after the change",
        changed.elapsed()
    );
    let active: Vec<String> = m
        .active_targets()
        .into_iter()
        .map(|t| t.labels.get("instance").unwrap_or("").to_string())
        .collect();
    assert_eq!(active.len(), 2);
    assert!(active.contains(&a.target()) && active.contains(&c.target()));

    // Every series of b ends with exactly one staleness marker, written after its samples.
    eventually("b's series all stale", || {
        let s = by_series(&st, &b.target());
        !s.is_empty() && s.values().all(|v| v.last().is_some_and(|x| is_stale(*x)))
    })
    .await;
    let b_series = by_series(&st, &b.target());
    let names: Vec<&str> = b_series.keys().filter_map(Labels::metric_name).collect();
    // No marker for a series the loop never wrote (the extra report series are off).
    assert_eq!(b_series.len(), SERIES_PER_TARGET, "{names:?}");
    for want in [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "fsd_requests_total",
        "fsd_temp",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for (l, v) in &b_series {
        let markers = v.iter().filter(|x| is_stale(**x)).count();
        assert_eq!(markers, 1, "{l}: {v:?}");
        assert!(v.len() > 1, "{l} has real samples before its marker: {v:?}");
    }
    // Nothing of a or c is marked stale.
    for t in [a.target(), c.target()] {
        for (l, v) in by_series(&st, &t) {
            assert!(v.iter().all(|x| !is_stale(*x)), "{l}: {v:?}");
        }
    }
    // b is no longer scraped: its sample count stays put while a keeps going.
    let frozen = st
        .all()
        .iter()
        .filter(|s| s.labels.get("instance") == Some(&b.target()))
        .count();
    let n = st.values("up").len();
    eventually("more scrapes of a and c", || st.values("up").len() >= n + 4).await;
    let later = st
        .all()
        .iter()
        .filter(|s| s.labels.get("instance") == Some(&b.target()))
        .count();
    assert_eq!(frozen, later);

    // Emptying the file ends every target.
    write_targets(&file, &[], atomic);
    eventually("no targets", || m.active_targets().is_empty()).await;
    m.apply_config(&Config::from_yaml("scrape_configs: []").unwrap())
        .unwrap();
    m.stop().await;
}

#[tokio::test]
async fn json_changes_are_picked_up_by_watching() {
    // A one-hour refresh interval: only watching can see the change.
    add_and_remove("json", Duration::from_millis(50), "1h", false).await;
}

#[tokio::test]
async fn yaml_changes_are_picked_up_by_watching() {
    add_and_remove("yml", Duration::from_millis(50), "1h", true).await;
}

#[tokio::test]
async fn json_changes_are_picked_up_by_the_refresh_interval() {
    // Polling once an hour: only the refresh re-read can see the change.
    add_and_remove("json", Duration::from_secs(3600), "1s", true).await;
}

#[tokio::test]
async fn yaml_changes_are_picked_up_by_the_refresh_interval() {
    add_and_remove("yaml", Duration::from_secs(3600), "1s", false).await;
}
