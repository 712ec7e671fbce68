//! The synthetic dataset shared by the engine benches: 10,000 series × 2 h at 15 s.
//!
//! * 9,000 counters `http_requests_total{job, instance, status, handler}`: 10 jobs × 30
//!   instances × 5 statuses × 6 handlers;
//! * 1,000 classic-histogram buckets `http_request_duration_seconds_bucket{job, le}`: 100 jobs ×
//!   10 buckets (the last one `+Inf`).
//!
//! Values come from a fixed-seed generator, so every run sees the same data.

use kagari_model::Labels;
use kagari_promql::engine::Value;

/// Samples per series: 2 h at 15 s.
pub(crate) const SAMPLES: i64 = 480;
/// Scrape interval (ms).
pub(crate) const INTERVAL: i64 = 15_000;
/// Instant queries run here: the end of the 2 h (the last sample is at 7,185 s).
pub(crate) const END: i64 = SAMPLES * INTERVAL;
/// Range queries run over the full 2 h at this step (ms): 121 steps.
pub(crate) const STEP: i64 = 60_000;

const JOBS: usize = 10;
const INSTANCES: usize = 30;
const STATUSES: [&str; 5] = ["200", "201", "404", "500", "503"];
const HANDLERS: [&str; 6] = [
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/cart",
    "/api/v1/search",
    "/login",
    "/healthz",
];
const HIST_JOBS: usize = 100;
const LE: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];
/// Share of observations at or below each bucket bound (cumulative, ends at 1).
const CDF: [f64; 10] = [0.05, 0.12, 0.3, 0.5, 0.7, 0.85, 0.93, 0.97, 0.99, 1.0];

/// The benchmark queries: (name, PromQL, number of result series of the instant query). A
/// range query returns the same series, except `topk`, which picks its 10 per step, so the
/// range result holds every series that was in the top 10 at some step (at least 10).
pub(crate) const QUERIES: [(&str, &str, usize); 4] = [
    ("rate", "rate(http_requests_total[5m])", 9_000),
    (
        "sum_by",
        "sum by (job, status) (rate(http_requests_total[5m]))",
        JOBS * STATUSES.len(),
    ),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))",
        HIST_JOBS,
    ),
    (
        "topk",
        "topk(10, sum by (instance) (rate(http_requests_total[5m])))",
        10,
    ),
];

/// Panics unless `value` (an instant or range result of query `name`) has `want` series (at
/// least `want` for a range `topk`), each with at least one value, all finite: a bench over an
/// empty or wrong result measures nothing.
pub(crate) fn check(name: &str, value: &Value, want: usize) {
    let (got, finite) = match value {
        Value::Vector(v) => (v.len(), v.iter().all(|s| s.f.is_finite())),
        Value::Matrix(m) => (
            m.len(),
            m.iter()
                .all(|s| !s.floats.is_empty() && s.floats.iter().all(|p| p.f.is_finite())),
        ),
        other => panic!("{name}: unexpected {} result", other.type_name()),
    };
    if name == "topk" && matches!(value, Value::Matrix(_)) {
        assert!(
            got >= want,
            "{name}: {got} result series, want at least {want}"
        );
    } else {
        assert_eq!(got, want, "{name}: result series");
    }
    assert!(finite, "{name}: empty series or non-finite values");
}

/// A small fixed-seed generator (splitmix64); good enough for synthetic increments.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One series: its labels and its 480 values (sample `k` is at `k * INTERVAL`).
pub(crate) type SeriesData = (Labels, Vec<f64>);

/// Builds the 10,000 series.
pub(crate) fn dataset() -> Vec<SeriesData> {
    let mut rng = Rng(0x6b61_6761_7269);
    let mut out = Vec::with_capacity(JOBS * INSTANCES * STATUSES.len() * HANDLERS.len() + 1_000);
    for j in 0..JOBS {
        let job = format!("job-{j}");
        for i in 0..INSTANCES {
            let instance = format!("host-{j}-{i}:9100");
            for status in STATUSES {
                for handler in HANDLERS {
                    let labels = Labels::from_pairs([
                        ("__name__", "http_requests_total"),
                        ("job", job.as_str()),
                        ("instance", instance.as_str()),
                        ("status", status),
                        ("handler", handler),
                    ])
                    .expect("valid labels");
                    let rate = 1 + rng.below(50);
                    let mut v = rng.below(10_000) as f64;
                    let values = (0..SAMPLES)
                        .map(|_| {
                            v += (rate * 15 + rng.below(rate * 3 + 1)) as f64;
                            v
                        })
                        .collect();
                    out.push((labels, values));
                }
            }
        }
    }
    for j in 0..HIST_JOBS {
        let job = format!("svc-{j:02}");
        let mut total = 0.0;
        let totals: Vec<f64> = (0..SAMPLES)
            .map(|_| {
                total += (100 + rng.below(400)) as f64;
                total
            })
            .collect();
        for (le, share) in LE.iter().zip(CDF) {
            let labels = Labels::from_pairs([
                ("__name__", "http_request_duration_seconds_bucket"),
                ("job", job.as_str()),
                ("le", *le),
            ])
            .expect("valid labels");
            out.push((labels, totals.iter().map(|t| (t * share).floor()).collect()));
        }
    }
    out
}
