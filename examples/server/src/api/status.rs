//! Status endpoints: `targets`, `scrape_pools`, `status/{buildinfo,config,flags,runtimeinfo}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use kagari_model::Labels;
use kagari_scrape::PromDuration;
use serde_json::{json, Map, Value};

use super::params::Params;
use super::response::{ApiError, Success};
use super::time::format_system_time;
use crate::flags::fmt_duration;
use crate::state::AppState;

/// The Prometheus version reported by `buildinfo` (Grafana uses it for feature detection).
pub(crate) const PROMETHEUS_VERSION: &str = "3.14.0";

fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|x| (x.name.to_string(), Value::String(x.value.to_string())))
            .collect::<Map<_, _>>(),
    )
}

fn to_success(v: &Value) -> Result<Success, ApiError> {
    serde_json::to_string(v)
        .map(Success::data)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The scrape URL with a loopback host replaced by this machine's host name.
fn global_url(url: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        return url.to_string();
    }
    for lo in ["localhost", "127.0.0.1", "[::1]"] {
        for scheme in ["http://", "https://"] {
            let prefix = format!("{scheme}{lo}");
            if let Some(rest) = url.strip_prefix(&prefix) {
                if rest.is_empty() || rest.starts_with(':') || rest.starts_with('/') {
                    return format!("{scheme}{host}{rest}");
                }
            }
        }
    }
    url.to_string()
}

/// `/api/v1/targets`.
pub(crate) async fn targets(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    let state = p.value("state").to_ascii_lowercase();
    let (show_active, show_dropped) = match state.as_str() {
        "" | "any" => (true, true),
        "active" => (true, false),
        "dropped" => (false, true),
        _ => (false, false),
    };
    let pool = p.get("scrapePool").filter(|s| !s.is_empty());
    let keep = |job: &str| pool.is_none_or(|p| p == job);
    let (mut active, mut dropped, pools) = st
        .with_scrape(|m| (m.active_targets(), m.dropped_targets(), m.job_names()))
        .unwrap_or_default();
    active.sort_by(|a, b| a.job.cmp(&b.job));
    dropped.sort_by(|a, b| a.job.cmp(&b.job));
    let active: Vec<Value> = active
        .iter()
        .filter(|t| show_active && keep(&t.job))
        .map(|t| {
            json!({
                "discoveredLabels": labels_json(&t.discovered_labels),
                "labels": labels_json(&t.labels),
                "scrapePool": t.job,
                "scrapeUrl": t.scrape_url,
                "globalUrl": global_url(&t.scrape_url),
                "lastError": t.health.last_error,
                "lastScrape": format_system_time(t.health.last_scrape),
                "lastScrapeDuration": t.health.last_scrape_duration.as_secs_f64(),
                "health": t.health.health.as_str(),
                "scrapeInterval": fmt_duration(PromDuration::new(t.scrape_interval)),
                "scrapeTimeout": fmt_duration(PromDuration::new(t.scrape_timeout)),
            })
        })
        .collect();
    // Every pool has a count, zero included (upstream's `TargetsDroppedCounts`).
    let mut counts: BTreeMap<&str, u64> = pools
        .iter()
        .filter(|p| keep(p))
        .map(|p| (p.as_str(), 0))
        .collect();
    let dropped: Vec<Value> = dropped
        .iter()
        .filter(|t| show_dropped && keep(&t.job))
        .map(|t| {
            *counts.entry(t.job.as_str()).or_default() += 1;
            json!({
                "discoveredLabels": labels_json(&t.discovered_labels),
                "scrapePool": t.job,
            })
        })
        .collect();
    let counts = if show_dropped {
        json!(counts)
    } else {
        Value::Null
    };
    to_success(&json!({
        "activeTargets": active,
        "droppedTargets": dropped,
        "droppedTargetCounts": counts,
    }))
}

/// `/api/v1/scrape_pools`.
pub(crate) async fn scrape_pools(st: Arc<AppState>) -> Result<Success, ApiError> {
    let mut pools: Vec<String> = st
        .config()
        .config
        .scrape_configs
        .iter()
        .map(|s| s.job_name.clone())
        .collect();
    pools.sort();
    to_success(&json!({ "scrapePools": pools }))
}

/// `/api/v1/status/buildinfo`.
pub(crate) async fn buildinfo() -> Result<Success, ApiError> {
    to_success(&json!({
        "version": PROMETHEUS_VERSION,
        "revision": option_env!("KAGARI_GIT_SHA").unwrap_or("unknown"),
        "branch": "HEAD",
        "buildUser": "kagari",
        "buildDate": "unknown",
        "goVersion": concat!("kagari-server ", env!("CARGO_PKG_VERSION"), " (Rust)"),
    }))
}

/// `/api/v1/status/config`: the configuration's YAML text; accepted-but-unimplemented
/// sections are listed as warnings.
pub(crate) async fn config(st: Arc<AppState>) -> Result<Success, ApiError> {
    let loaded = st.config();
    let mut s = to_success(&json!({ "yaml": loaded.yaml }))?;
    s.warnings = loaded.warnings;
    Ok(s)
}

/// `/api/v1/status/flags`.
pub(crate) async fn flags(st: Arc<AppState>) -> Result<Success, ApiError> {
    let mut map: Map<String, Value> = st
        .flags
        .as_map()
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    // As upstream: the external URL as given, the route prefix as resolved.
    map.insert(
        "web.route-prefix".to_string(),
        Value::String(st.web.route_prefix.clone()),
    );
    to_success(&Value::Object(map))
}

/// `/api/v1/status/runtimeinfo` (informative fields, upstream names and types).
pub(crate) async fn runtimeinfo(st: Arc<AppState>) -> Result<Success, ApiError> {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    to_success(&json!({
        "startTime": format_system_time(Some(st.start_time)),
        "CWD": cwd,
        "hostname": hostname,
        "serverTime": format_system_time(Some(std::time::SystemTime::now())),
        "reloadConfigSuccess": true,
        "lastConfigTime": format_system_time(Some(st.start_time)),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "GOMEMLIMIT": i64::MAX,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": crate::flags::fmt_duration(st.flags.retention()),
    }))
}
