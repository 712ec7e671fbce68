//! Expression endpoints: `query`, `query_range`, `format_query`, `parse_query`,
//! `query_exemplars`.

use std::sync::Arc;
use std::time::Duration;

use kagari_promql::engine::{Engine, EngineOptions, QueryResult, QueryTime, Value};
use kagari_promql::Expr;

use super::json::push_query_data;
use super::params::{self, Params};
use super::response::{ApiError, ErrorType, Success};
use super::time::now_ms;
use crate::state::AppState;

/// Upstream's resolution guard for range queries.
const MAX_POINTS: i64 = 11_000;

/// Parses `query` with the parser features of `--enable-feature`.
fn parse_query(st: &AppState, p: &Params) -> Result<Expr, ApiError> {
    kagari_promql::parse_with_options(p.value("query"), &st.parser)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))
}

/// Engine options for one request: `timeout` (capped by `--query.timeout`) and
/// `lookback_delta` override the defaults.
fn request_options(st: &AppState, p: &Params) -> Result<EngineOptions, ApiError> {
    let mut opts = st.engine.clone();
    if let Some(s) = p.get("timeout").filter(|s| !s.is_empty()) {
        let ms = params::parse_duration(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"timeout\": {e}")))?;
        let d = Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0));
        opts.timeout = Some(opts.timeout.map_or(d, |t| t.min(d)));
    }
    if let Some(s) = p.get("lookback_delta").filter(|s| !s.is_empty()) {
        let ms = params::parse_duration(s).map_err(|e| {
            ApiError::bad_data(format!("invalid parameter \"lookback_delta\": {e}"))
        })?;
        if ms > 0 {
            opts.lookback_delta = ms;
        }
    }
    Ok(opts)
}

/// Runs a query in place on this worker thread (see below) and records its phase durations.
async fn run(
    st: &Arc<AppState>,
    opts: EngineOptions,
    expr: Expr,
    time: QueryTime,
) -> Result<QueryResult, ApiError> {
    if opts.timeout.is_some_and(|t| t.is_zero()) {
        // The deadline passed before the query could start (upstream: "in query queue").
        return Err(ApiError {
            kind: ErrorType::Timeout,
            message: "query timed out in query queue".into(),
        });
    }
    // Waiting for a slot counts against the query's deadline, as upstream's queue does.
    let _slot = match opts.timeout {
        Some(t) => tokio::time::timeout(t, st.query_slots.acquire())
            .await
            .map_err(|_| ApiError {
                kind: ErrorType::Timeout,
                message: "query timed out in query queue".into(),
            })?,
        None => st.query_slots.acquire().await,
    }
    .map_err(|e| ApiError::internal(e.to_string()))?;
    // Evaluated on this thread: `block_in_place` hands the runtime's other tasks to another
    // worker, so a long query blocks nobody, and a short one (most of them) costs no thread hop
    // to the blocking pool and back (`spawn_blocking` cost two more context switches and
    // 10-20 us of CPU per request). The price: the handler future cannot be dropped while the
    // query runs, so a client that goes away no longer cancels it; `timeout` still bounds it.
    // A panic in the engine (a bug) answers 500 and leaves the connection usable, as the
    // blocking-pool task's JoinError did.
    let res = tokio::task::block_in_place(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Engine::new(opts).query(st.db.as_ref(), &expr, time, None)
        }))
    })
    .map_err(|_| ApiError::internal("query task failed: the query evaluation panicked"))?
    .map_err(|e| ApiError::from_engine(&e))?;
    st.metrics.observe_query(
        res.stats.prepare_time.as_secs_f64(),
        res.stats.eval_time.as_secs_f64(),
    );
    Ok(res)
}

/// Appends `"stats"` (upstream's basic shape; `peakSamples` is approximated by the samples
/// loaded, and the queue time is not measured).
fn push_stats(data: &mut String, res: &QueryResult) {
    use std::fmt::Write;
    let prep = res.stats.prepare_time.as_secs_f64();
    let eval = res.stats.eval_time.as_secs_f64();
    let n = res.stats.samples_loaded;
    let _ = write!(
        data,
        ",\"stats\":{{\"timings\":{{\"evalTotalTime\":{},\"resultSortTime\":0,\"queryPreparationTime\":{prep},\"innerEvalTime\":{eval},\"execQueueTime\":0,\"execTotalTime\":{}}},\"samples\":{{\"totalQueryableSamples\":{n},\"peakSamples\":{n}}}}}",
        prep + eval,
        prep + eval,
    );
}

/// Encodes a result, applying `limit` (truncation plus a warning) and `stats`.
fn answer(mut res: QueryResult, limit: usize, stats: bool) -> Success {
    let mut warnings = std::mem::take(&mut res.annotations.warnings);
    let truncated = match &mut res.value {
        Value::Vector(v) if limit > 0 && v.len() > limit => {
            v.truncate(limit);
            true
        }
        Value::Matrix(m) if limit > 0 && m.len() > limit => {
            m.truncate(limit);
            true
        }
        _ => false,
    };
    if truncated {
        warnings.push("results truncated due to limit".to_string());
    }
    let mut data = String::new();
    push_query_data(&mut data, &res.value);
    if stats && data.pop() == Some('}') {
        push_stats(&mut data, &res);
        data.push('}');
    }
    Success {
        data,
        warnings,
        infos: std::mem::take(&mut res.annotations.infos),
    }
}

/// `/api/v1/query`.
pub(crate) async fn instant(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    let expr = parse_query(&st, &p)?;
    let t = params::time_or(&p, "time", now_ms())?;
    let limit = params::limit(&p)?;
    let opts = request_options(&st, &p)?;
    let res = run(&st, opts, expr, QueryTime::Instant(t)).await?;
    Ok(answer(res, limit, !p.value("stats").is_empty()))
}

/// `/api/v1/query_range`.
pub(crate) async fn range(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    let start = params::time_required(&p, "start")?;
    let end = params::time_required(&p, "end")?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = params::parse_duration(p.value("step"))
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?;
    if step <= 0 {
        return Err(ApiError::bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if end.saturating_sub(start) / step > MAX_POINTS {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let expr = parse_query(&st, &p)?;
    let limit = params::limit(&p)?;
    let opts = request_options(&st, &p)?;
    let res = run(&st, opts, expr, QueryTime::Range { start, end, step }).await?;
    Ok(answer(res, limit, !p.value("stats").is_empty()))
}

/// `/api/v1/format_query`.
pub(crate) async fn format(st: &AppState, p: Params) -> Result<Success, ApiError> {
    let expr = parse_query(st, &p)?;
    let mut data = String::new();
    super::json::push_str(&mut data, &kagari_promql::prettify(&expr));
    Ok(Success::data(data))
}

/// `/api/v1/parse_query`: the syntax tree as JSON (see `parse.rs` for the shape).
pub(crate) async fn parse_tree(st: &AppState, p: Params) -> Result<Success, ApiError> {
    let expr = parse_query(st, &p)?;
    let mut data = String::new();
    super::parse::push_node(&mut data, &expr, p.value("query"));
    Ok(Success::data(data))
}

/// `/api/v1/query_exemplars`: no exemplar storage yet, so always empty (after checking the
/// parameters like upstream).
pub(crate) async fn exemplars(st: &AppState, p: Params) -> Result<Success, ApiError> {
    parse_query(st, &p)?;
    params::time_or(&p, "start", super::time::MIN_TIME)?;
    params::time_or(&p, "end", super::time::MAX_TIME)?;
    Ok(Success::data("[]".into()))
}
