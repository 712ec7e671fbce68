//! Self-monitoring: the server's own metrics (upstream names where they match) in a
//! kagari-client [`Registry`], served at `/metrics`.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use kagari_client::{
    Collector, Desc, HistogramVec, IntCounterVec, MetricType, MetricWriter, Opts, ProcessCollector,
    Registry, SummaryOpts, SummaryVec, Value,
};
use kagari_tsdb::Db;

use crate::storage::AppendStats;

/// Upstream's `prometheus_http_request_duration_seconds` buckets.
const HTTP_BUCKETS: [f64; 9] = [0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0];

/// The server's metric handles.
#[derive(Debug)]
pub(crate) struct Metrics {
    /// The registry served at `/metrics`.
    pub(crate) registry: Registry,
    /// `prometheus_http_requests_total{handler,code}`.
    pub(crate) http_requests: IntCounterVec,
    /// `prometheus_http_request_duration_seconds{handler}`.
    pub(crate) http_duration: HistogramVec,
    /// `prometheus_engine_query_duration_seconds{slice}`.
    pub(crate) engine_duration: SummaryVec,
}

/// Reads TSDB and append counters at scrape time.
#[derive(Debug)]
struct TsdbCollector {
    db: Arc<Db>,
    append: Arc<AppendStats>,
}

const TSDB_FAMILIES: [(&str, MetricType, &str); 6] = [
    (
        "prometheus_tsdb_head_series",
        MetricType::Gauge,
        "Total number of series in the head block.",
    ),
    (
        "prometheus_tsdb_head_samples_appended",
        MetricType::Counter,
        "Total number of appended samples.",
    ),
    (
        "prometheus_tsdb_out_of_order_samples",
        MetricType::Counter,
        "Total number of out of order, duplicate or out of bounds samples rejected.",
    ),
    (
        "prometheus_tsdb_blocks_loaded",
        MetricType::Gauge,
        "Number of currently loaded data blocks.",
    ),
    (
        "prometheus_tsdb_compactions",
        MetricType::Counter,
        "Total number of compactions that were executed for the partition.",
    ),
    (
        "prometheus_tsdb_wal_storage_size_bytes",
        MetricType::Gauge,
        "Size of the write log directory.",
    ),
];

impl Collector for TsdbCollector {
    fn describe(&self) -> Vec<Desc> {
        TSDB_FAMILIES
            .iter()
            .map(|(name, metric_type, help)| Desc {
                name: (*name).to_string(),
                metric_type: *metric_type,
                help: (*help).to_string(),
                label_names: vec![],
            })
            .collect()
    }

    fn collect(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        let values = [
            self.db.head().num_series() as u64,
            self.append.appended.load(Ordering::Relaxed),
            self.append.rejected.load(Ordering::Relaxed),
            self.db.blocks().len() as u64,
            self.db.stats().compactions(),
            self.db.wal_size(),
        ];
        for ((name, metric_type, help), v) in TSDB_FAMILIES.iter().zip(values) {
            w.family(name, *metric_type, help, None)?;
            let suffix = if *metric_type == MetricType::Counter {
                "_total"
            } else {
                ""
            };
            w.sample(suffix, &[], None, Value::UInt(v), None, None)?;
        }
        Ok(())
    }
}

/// Why the metrics could not be set up (a naming bug; reported at startup).
pub(crate) type SetupError = kagari_client::Error;

impl Metrics {
    /// Registers everything; `db` and `append` feed the TSDB families.
    pub(crate) fn new(db: Arc<Db>, append: Arc<AppendStats>) -> Result<Self, SetupError> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(&["handler", "code"])?;
        registry.register(
            Opts::new("prometheus_http_requests", "Counter of HTTP requests."),
            http_requests.clone(),
        )?;
        let http_duration = HistogramVec::with_buckets(&["handler"], HTTP_BUCKETS.to_vec())?;
        registry.register(
            Opts::new(
                "prometheus_http_request_duration_seconds",
                "Histogram of latencies for HTTP requests.",
            ),
            http_duration.clone(),
        )?;
        let summary = SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.9, 0.01)
            .objective(0.99, 0.001);
        let engine_duration = SummaryVec::with_opts(&["slice"], summary)?;
        registry.register(
            Opts::new("prometheus_engine_query_duration_seconds", "Query timings"),
            engine_duration.clone(),
        )?;
        registry.register_collector(ProcessCollector::new())?;
        registry.register_collector(TsdbCollector { db, append })?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            engine_duration,
        })
    }

    /// Records one HTTP request.
    pub(crate) fn observe_http(&self, handler: &str, code: u16, secs: f64) {
        let code = code.to_string();
        if let Ok(c) = self
            .http_requests
            .with_label_values(&[handler, code.as_str()])
        {
            c.inc();
        }
        if let Ok(h) = self.http_duration.with_label_values(&[handler]) {
            h.observe(secs);
        }
    }

    /// Records one query's phases.
    pub(crate) fn observe_query(&self, prepare: f64, eval: f64) {
        for (slice, v) in [("prepare_time", prepare), ("inner_eval", eval)] {
            if let Ok(s) = self.engine_duration.with_label_values(&[slice]) {
                s.observe(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_upstream_names() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(dir.path(), kagari_tsdb::Options::default()).unwrap());
        let m = Metrics::new(db, Arc::default()).unwrap();
        m.observe_http("/api/v1/query", 200, 0.01);
        m.observe_query(0.001, 0.002);
        let text = m
            .registry
            .encode_to_string(kagari_client::Format::Text)
            .unwrap();
        for want in [
            "prometheus_http_requests_total{handler=\"/api/v1/query\",code=\"200\"} 1",
            "prometheus_http_request_duration_seconds_count{handler=\"/api/v1/query\"} 1",
            "prometheus_engine_query_duration_seconds_count{slice=\"inner_eval\"} 1",
            "prometheus_tsdb_head_series 0",
            "prometheus_tsdb_head_samples_appended_total 0",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
    }
}
