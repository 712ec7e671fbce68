//! One fixed query per test over a tenth of the engine benches' dataset (900 counters of
//! `job-0` and the buckets of the first 10 histogram jobs, 2 h at 15 s), for
//! load-independent instruction counts:
//!
//! ```sh
//! cargo bench -p kagari-promql --bench fixed_query --no-run
//! valgrind --tool=callgrind --instr-atstart=no --toggle-collect='*Engine::query*' \
//!     target/release/deps/fixed_query-<hash> --exact range_rate --test-threads 1
//! ```
//!
//! Each test also checks the result shape, so it runs (and can fail) under `cargo test
//! --benches`.
#![allow(missing_docs)]

#[allow(dead_code)] // the shared module also serves the criterion benches
mod common;

use kagari_promql::engine::{Engine, Value};
use kagari_promql::parse;
use kagari_promql::storage::MemStorage;

use common::{dataset, END, INTERVAL, STEP};

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    let subset = dataset().into_iter().filter(|(l, _)| {
        matches!(l.get("job"), Some("job-0"))
            || l.get("job").is_some_and(|j| j.starts_with("svc-0"))
    });
    for (labels, values) in subset {
        for (k, v) in values.into_iter().enumerate() {
            s.append(&labels, k as i64 * INTERVAL, v).expect("in order");
        }
    }
    assert_eq!(s.num_series(), 1_000);
    s
}

fn run(q: &str, range: bool, want: usize) {
    let s = storage();
    let expr = parse(q).expect("valid query");
    let engine = Engine::default();
    let res = if range {
        engine.range_query(&s, &expr, 0, END, STEP)
    } else {
        engine.instant_query(&s, &expr, END)
    }
    .expect("query runs");
    let got = match &res.value {
        Value::Vector(v) => v.len(),
        Value::Matrix(m) => m.len(),
        other => panic!("unexpected {}", other.type_name()),
    };
    if q.starts_with("topk") && range {
        assert!(got >= want, "{q}: {got} series");
    } else {
        assert_eq!(got, want, "{q}");
    }
}

const RATE: &str = "rate(http_requests_total[5m])";
const SUM_BY: &str = "sum by (job, status) (rate(http_requests_total[5m]))";
const HQ: &str =
    "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))";
const TOPK: &str = "topk(10, sum by (instance) (rate(http_requests_total[5m])))";

#[test]
fn range_rate() {
    run(RATE, true, 900);
}

#[test]
fn range_sum_by() {
    run(SUM_BY, true, 5);
}

#[test]
fn range_histogram_quantile() {
    run(HQ, true, 10);
}

#[test]
fn range_topk() {
    run(TOPK, true, 10);
}

const SUBQUERY: &str =
    "max_over_time(rate(http_requests_total{handler=\"/api/v1/users\"}[5m])[1h:1m])";

#[test]
fn range_subquery() {
    run(SUBQUERY, true, 150);
}

#[test]
fn instant_rate() {
    run(RATE, false, 900);
}

#[test]
fn instant_sum_by() {
    run(SUM_BY, false, 5);
}
