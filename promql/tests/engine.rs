//! Scenario tests of the engine through its public API: limits, cancellation, native
//! histograms, statistics and result shapes.

use std::sync::atomic::AtomicBool;

use kagari_model::Labels;
use kagari_promql::engine::{Engine, EngineError, EngineOptions, QueryTime, Value};
use kagari_promql::parse;
use kagari_promql::storage::MemStorage;

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    for (job, step) in [("a", 1.0), ("b", 2.0)] {
        let l = Labels::from_pairs([("__name__", "requests_total"), ("job", job)]).unwrap();
        for i in 0..=20 {
            s.append(&l, i * 30_000, i as f64 * step).unwrap();
        }
    }
    s
}

#[test]
fn instant_rate_per_job_drops_metric_name() {
    let e = Engine::default();
    let r = e
        .instant_query(
            &storage(),
            &parse("rate(requests_total[2m])").unwrap(),
            600_000,
        )
        .unwrap();
    let Value::Vector(v) = r.value else {
        panic!("expected a vector, got {:?}", r.value)
    };
    assert_eq!(v.len(), 2);
    for s in &v {
        assert_eq!(s.metric.metric_name(), None);
        let want = if s.metric.get("job") == Some("a") {
            1.0 / 30.0
        } else {
            2.0 / 30.0
        };
        assert!((s.f - want).abs() < 1e-12, "{} {}", s.metric, s.f);
    }
    assert_eq!(r.stats.series_loaded, 2);
    assert!(r.stats.samples_loaded > 0);
}

#[test]
fn range_query_is_sorted_and_stepped() {
    let e = Engine::default();
    let expr = parse("sum by (job) (requests_total) * 2").unwrap();
    let r = e
        .range_query(&storage(), &expr, 0, 120_000, 60_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("expected a matrix")
    };
    let jobs: Vec<_> = m
        .iter()
        .map(|s| s.metric.get("job").unwrap_or("").to_string())
        .collect();
    assert_eq!(jobs, ["a", "b"]);
    let pts: Vec<(i64, f64)> = m[1].floats.iter().map(|p| (p.t, p.f)).collect();
    assert_eq!(pts, [(0, 0.0), (60_000, 8.0), (120_000, 16.0)]);
}

#[test]
fn max_samples_limit_is_a_clear_error() {
    let e = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = e
        .instant_query(&storage(), &parse("requests_total[10m]").unwrap(), 600_000)
        .unwrap_err();
    assert!(
        matches!(err, EngineError::TooManySamples { limit: 10 }),
        "{err}"
    );
}

/// Points a subquery or a range query holds in memory count too, as in Prometheus: with a limit
/// of 100 neither 2,000 subquery steps nor a 2,001-step range result fit.
#[test]
fn max_samples_counts_subquery_and_range_points() {
    let e = Engine::new(EngineOptions {
        max_samples: 100,
        ..EngineOptions::default()
    });
    let s = storage();
    let sub = parse("count_over_time(vector(1)[2000s:1s])").unwrap();
    let err = e.instant_query(&s, &sub, 2_000_000).unwrap_err();
    assert!(
        matches!(err, EngineError::TooManySamples { limit: 100 }),
        "{err}"
    );
    let range = QueryTime::Range {
        start: 0,
        end: 2_000_000,
        step: 1000,
    };
    let err = e
        .query(&s, &parse("vector(1)").unwrap(), range, None)
        .unwrap_err();
    assert!(
        matches!(err, EngineError::TooManySamples { limit: 100 }),
        "{err}"
    );
    // Small enough ones still pass.
    let small = parse("count_over_time(vector(1)[50s:1s])").unwrap();
    assert!(e.instant_query(&s, &small, 2_000_000).is_ok());
}

#[test]
fn cancellation_stops_the_query() {
    let e = Engine::default();
    let cancel = AtomicBool::new(true);
    let expr = parse("sum_over_time(requests_total[1m:1s])").unwrap();
    let err = e
        .query(
            &storage(),
            &expr,
            QueryTime::Range {
                start: 0,
                end: 600_000,
                step: 1000,
            },
            Some(&cancel),
        )
        .unwrap_err();
    assert!(matches!(err, EngineError::Cancelled { .. }), "{err}");
}

#[test]
fn native_histograms_fail_cleanly() {
    let mut s = storage();
    let l = Labels::from_pairs([("__name__", "hist")]).unwrap();
    s.append_histogram_marker(&l, 0).unwrap();
    let err = Engine::default()
        .instant_query(&s, &parse("hist").unwrap(), 0)
        .unwrap_err();
    assert_eq!(err.to_string(), "native histograms not supported");
}

#[test]
fn range_query_rejects_range_vectors() {
    let err = Engine::default()
        .range_query(
            &storage(),
            &parse("requests_total[1m]").unwrap(),
            0,
            60_000,
            1000,
        )
        .unwrap_err();
    assert!(
        matches!(err, EngineError::InvalidRangeQueryType("range vector")),
        "{err}"
    );
}

#[test]
fn staleness_marker_ends_lookback() {
    let mut s = MemStorage::new();
    let l = Labels::from_pairs([("__name__", "up")]).unwrap();
    s.append(&l, 0, 1.0).unwrap();
    s.append(&l, 10_000, kagari_model::STALE_NAN).unwrap();
    let e = Engine::default();
    let at = |t| match e.instant_query(&s, &parse("up").unwrap(), t).unwrap().value {
        Value::Vector(v) => v.len(),
        _ => usize::MAX,
    };
    assert_eq!(at(5_000), 1);
    assert_eq!(at(10_000), 0);
}
