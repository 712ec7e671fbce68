//! Tests of labelled families: identity by full values, caches, snapshots, removal.

use super::*;
use crate::{Counter, Histogram, IntCounter, IntCounterVec};

#[test]
fn same_values_same_series_different_values_different_series() {
    let f = Family::<IntCounter>::new(&["a", "b"]).unwrap();
    f.with_label_values(&["x", "y"]).unwrap().inc();
    f.with_label_values(&["x", "y"]).unwrap().inc();
    f.with_label_values(&["xy", ""]).unwrap().inc();
    f.with_label_values(&[String::from("y"), String::from("x")])
        .unwrap()
        .inc();
    assert_eq!(f.len(), 3);
    assert_eq!(f.with_label_values(&["x", "y"]).unwrap().get(), 2);
    assert_eq!(f.with_label_values(&["xy", ""]).unwrap().get(), 1);
}

#[test]
fn cardinality_and_name_errors() {
    let f = Family::<Counter>::new(&["a"]).unwrap();
    assert!(matches!(
        f.with_label_values(&["1", "2"]),
        Err(Error::InconsistentCardinality {
            expected: 1,
            got: 2
        })
    ));
    assert!(Family::<Counter>::new(&["a", "a"]).is_err());
    assert!(Family::<Counter>::new(&["__a"]).is_err());
    assert!(Family::<Counter>::new(&["a-b"]).is_err());
    assert!(Family::<Histogram>::new(&["le"]).is_err());
    assert!(Family::<crate::Summary>::new(&["quantile"]).is_err());
    assert!(Family::<Histogram>::with_buckets(&["x"], vec![3.0, 1.0]).is_err());
}

#[test]
fn remove_and_reset() {
    let f = Family::<IntCounter>::new(&["a"]).unwrap();
    f.with_label_values(&["1"]).unwrap().inc();
    f.with_label_values(&["2"]).unwrap().inc();
    assert!(f.contains(&["1"]));
    assert!(f.remove(&["1"]).unwrap());
    assert!(!f.remove(&["1"]).unwrap());
    assert!(!f.contains(&["1"]));
    assert_eq!(f.len(), 1);
    f.reset();
    assert!(f.is_empty());
    // A removed series starts again from zero.
    assert_eq!(f.with_label_values(&["2"]).unwrap().get(), 0);
}

#[test]
fn many_series_spread_over_shards() {
    let f = Family::<IntCounter>::new(&["i"]).unwrap();
    for i in 0..1000 {
        f.with_label_values(&[i.to_string()]).unwrap().inc_by(i);
    }
    assert_eq!(f.len(), 1000);
    for i in (0..1000).step_by(37) {
        assert_eq!(f.with_label_values(&[i.to_string()]).unwrap().get(), i);
    }
    let used = f
        .inner
        .shards
        .iter()
        .filter(|s| !s.read().is_empty())
        .count();
    assert!(used > 8, "only {used} shards used");
}

#[test]
fn encodes_every_series_across_batches() {
    let r = crate::Registry::new();
    let f: IntCounterVec = r
        .create_family(crate::Opts::new("hits", "Hits."), &["i"])
        .unwrap();
    let n = ENCODE_BATCH as u64 * SHARDS as u64 * 3 + 5;
    for i in 0..n {
        f.with_label_values(&[i.to_string()]).unwrap().inc_by(i + 1);
    }
    let text = r.encode_to_string(crate::Format::Text).unwrap();
    let mut seen: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("hits_total{i=\""))
        .map(|l| {
            let (i, v) = l.split_once("\"} ").unwrap();
            let i: u64 = i.parse().unwrap();
            assert_eq!(v.parse::<u64>().unwrap(), i + 1);
            i
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

#[test]
fn pre_rendered_labels_encode_like_plain_ones() {
    let r = crate::Registry::builder()
        .const_label("env", "p\"d")
        .build()
        .unwrap();
    let f: IntCounterVec = r
        .create_family(crate::Opts::new("m", "M."), &["a", "b", "c"])
        .unwrap();
    f.with_label_values(&["q\"\\\n", "ü", "x\"y"])
        .unwrap()
        .inc();
    let h = crate::HistogramVec::with_buckets(&["a", "b"], vec![1.0]).unwrap();
    r.register(crate::Opts::new("h", "H."), h.clone()).unwrap();
    h.with_label_values(&["1\\", "2"]).unwrap().observe(0.5);
    let text = r.encode_to_string(crate::Format::Text).unwrap();
    assert!(
        text.contains("m_total{env=\"p\\\"d\",a=\"q\\\"\\\\\\n\",b=\"ü\",c=\"x\\\"y\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("h_bucket{env=\"p\\\"d\",a=\"1\\\\\",b=\"2\",le=\"1\"} 1\n"),
        "{text}"
    );
}

#[test]
fn with_series_updates_in_place_and_creates() {
    let f = Family::<IntCounter>::new(&["a"]).unwrap();
    assert_eq!(f.with_series(&["x"], |c| c.get()).unwrap(), 0);
    f.with_series(&["x"], |c| c.inc_by(2)).unwrap();
    assert_eq!(f.with_label_values(&["x"]).unwrap().get(), 2);
    assert_eq!(f.len(), 1);
    assert!(matches!(
        f.with_series(&["x", "y"], |c| c.inc()),
        Err(Error::InconsistentCardinality { .. })
    ));
}

/// A family whose every hash is 42 (the `constant_hash` test hook).
fn colliding() -> Family<IntCounter> {
    let mut f = Family::<IntCounter>::new(&["a", "b"]).unwrap();
    Arc::get_mut(&mut f.inner).unwrap().constant_hash = true;
    f
}

#[test]
fn colliding_hashes_give_separate_series() {
    let f = colliding();
    let long = "v".repeat(100); // too long for a key: the uncached path
    let sets: [[&str; 2]; 5] = [
        ["x", "y"],
        ["y", "x"],
        ["xy", ""],
        [&long, "y"],
        [&long[1..], "y"],
    ];
    assert_eq!(f.hash(&sets[0]), f.hash(&sets[1]));
    for (i, values) in sets.iter().enumerate() {
        // Twice each, so the second lookup goes through the thread cache (same slot for
        // all: the hash is the same) and must still compare the values.
        for _ in 0..2 {
            f.with_label_values(values).unwrap().inc_by(i as u64 + 1);
            f.with_series(values, |c| c.inc_by(i as u64 + 1)).unwrap();
        }
    }
    assert_eq!(f.len(), sets.len());
    for (i, values) in sets.iter().enumerate() {
        assert_eq!(
            f.with_label_values(values).unwrap().get(),
            4 * (i as u64 + 1)
        );
        assert_eq!(
            f.with_series(values, |c| c.get()).unwrap(),
            4 * (i as u64 + 1)
        );
    }
    assert!(f.remove(&sets[1]).unwrap());
    assert_eq!(f.with_label_values(&sets[0]).unwrap().get(), 4);
    assert_eq!(f.with_label_values(&sets[1]).unwrap().get(), 0);
}

#[test]
fn removal_on_another_thread_invalidates_this_threads_cache() {
    let f = Family::<IntCounter>::new(&["a"]).unwrap();
    for _ in 0..3 {
        f.with_label_values(&["x"]).unwrap().inc(); // cached on this thread
    }
    let g = f.clone();
    std::thread::spawn(move || {
        assert!(g.remove(&["x"]).unwrap());
    })
    .join()
    .unwrap();
    // Not the removed (cached) series: a new one.
    assert_eq!(f.with_series(&["x"], |c| c.get()).unwrap(), 0);
    f.with_label_values(&["x"]).unwrap().inc();
    f.reset();
    assert_eq!(f.with_label_values(&["x"]).unwrap().get(), 0);
    assert_eq!(f.len(), 1);
}

#[test]
fn with_series_may_use_the_family_inside_its_closure() {
    let f = Family::<IntCounter>::new(&["a"]).unwrap();
    f.with_series(&["x"], |_| ()).unwrap();
    f.with_series(&["x"], |outer| {
        // Cache borrowed by the outer call: these go to the map.
        f.with_series(&["x"], |inner| inner.inc()).unwrap();
        f.with_label_values(&["y"]).unwrap().inc();
        assert!(f.remove(&["y"]).unwrap());
        outer.inc();
    })
    .unwrap();
    assert_eq!(f.with_series(&["x"], |c| c.get()).unwrap(), 2);
    assert_eq!(f.len(), 1);
}

#[test]
fn more_series_than_cache_slots_stay_correct() {
    let f = Family::<IntCounter>::new(&["i", "j"]).unwrap();
    for round in 0..5u64 {
        for i in 0..300u64 {
            let (a, b) = (i.to_string(), (i % 7).to_string());
            f.with_label_values(&[&a, &b]).unwrap().inc_by(round + 1);
        }
    }
    assert_eq!(f.len(), 300);
    for i in 0..300u64 {
        let (a, b) = (i.to_string(), (i % 7).to_string());
        assert_eq!(f.with_series(&[&a, &b], |c| c.get()).unwrap(), 15);
    }
}

#[test]
fn snapshots_never_hand_out_removed_series_and_miss_new_ones() {
    let f = colliding(); // every hash equal: snapshot lookups must compare keys
    let v = |i: u64| [i.to_string(), "x".repeat(i as usize % 20)];
    for round in 1..=3u64 {
        for i in 0..200 {
            f.with_series(&v(i), |c| c.inc_by(round)).unwrap();
        }
    }
    assert!(f.inner.latest.lock().is_some(), "a snapshot was taken");
    let g = f.clone();
    std::thread::spawn(move || assert!(g.remove(&v(7)).unwrap()))
        .join()
        .unwrap();
    for i in 0..200 {
        let expected = if i == 7 { 0 } else { 6 };
        assert_eq!(f.with_series(&v(i), |c| c.get()).unwrap(), expected, "{i}");
    }
    // Series created after the snapshot: found in the shards, then in a newer snapshot.
    for round in 0..3 {
        for i in 200..400 {
            assert_eq!(f.with_label_values(&v(i)).unwrap().get(), round);
            f.with_label_values(&v(i)).unwrap().inc();
        }
    }
    f.reset();
    assert_eq!(f.with_series(&v(3), |c| c.get()).unwrap(), 0);
    assert_eq!(f.len(), 1);
}

crate::label_set! {
    /// Labels of an HTTP request.
    struct Req { method: &'static str, code: String }
}

crate::label_set! {
    struct Other { code: String, method: &'static str }
}

#[test]
fn typed_labels() {
    let f = Family::<IntCounter>::new(&["method", "code"]).unwrap();
    let t = f.typed::<Req>().unwrap();
    let r = Req {
        method: "GET",
        code: "200".into(),
    };
    t.get(&r).inc();
    assert_eq!(f.with_label_values(&["GET", "200"]).unwrap().get(), 1);
    assert_eq!(f.with_labels(&r).unwrap().get(), 1);
    assert!(f.typed::<Other>().is_err());
    assert!(f
        .with_labels(&Other {
            code: "1".into(),
            method: "x"
        })
        .is_err());
    assert!(t.remove(&r));
    assert!(f.is_empty());
}
