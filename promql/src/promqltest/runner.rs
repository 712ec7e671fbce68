//! Executes a parsed script against [`MemStorage`] and the [`Engine`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kagari_model::Labels;

use crate::engine::{Annotations, Engine, EngineError, EngineOptions, QueryTime, Value};
use crate::parser::ParserOptions;
use crate::storage::{MemStorage, StorageError};

use super::compare::float_eq;
use super::pin;
use super::script::{parse_script, Command, EvalCmd, EvalKind, ScriptError, TextMatch};
use super::series::{is_start_timestamp_line, parse_series_line, SeriesValue};

/// The reason of every eval that needs native histograms, which the engine does not evaluate
/// yet (a later issue). Such an eval is never counted as passed, not even when it expects an
/// error; callers count these apart (`reason.ends_with(NATIVE_HISTOGRAMS)`).
pub const NATIVE_HISTOGRAMS: &str = "native histograms not supported";
use crate::parser::ast::Expr;

/// The outcome of one `eval` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOutcome {
    /// 1-based line of the eval header.
    pub line: usize,
    /// The expression.
    pub expr: String,
    /// `Ok` when the eval passed, otherwise why it failed.
    pub result: Result<(), String>,
}

/// The engine configuration the reference scripts assume (5 m lookback, 1 m default subquery
/// step, experimental aggregations on).
pub fn script_engine_options() -> EngineOptions {
    EngineOptions {
        experimental_aggregations: true,
        ..EngineOptions::default()
    }
}

/// Runner switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Also check every instant eval in range mode and with `@`-pinned selectors at other
    /// evaluation times, as the reference runner does (section 5.6 of the DSL spec).
    pub cross_checks: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { cross_checks: true }
    }
}

/// Runs a whole script with [`RunOptions::default`]; returns one outcome per eval.
pub fn run_script(src: &str) -> Result<Vec<EvalOutcome>, ScriptError> {
    run_script_with(src, RunOptions::default())
}

/// Runs a whole script; returns one outcome per eval, in file order.
pub fn run_script_with(src: &str, opts: RunOptions) -> Result<Vec<EvalOutcome>, ScriptError> {
    let cmds = parse_script(src)?;
    let engine = Engine::new(script_engine_options());
    let mut storage = MemStorage::new();
    let mut load_error: Option<String> = None;
    let mut out = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Clear => {
                storage.clear();
                load_error = None;
            }
            Command::Load {
                line,
                interval,
                with_nhcb,
                series,
            } => {
                if let Err(e) = load(&mut storage, interval, with_nhcb, &series) {
                    load_error = Some(format!("load at line {line} failed: {e}"));
                }
            }
            Command::Eval(e) => {
                let result = match &load_error {
                    Some(err) => Err(err.clone()),
                    None => run_eval(&engine, &storage, &e, opts),
                };
                out.push(EvalOutcome {
                    line: e.line,
                    expr: e.expr.clone(),
                    result,
                });
            }
        }
    }
    Ok(out)
}

fn load(
    storage: &mut MemStorage,
    interval: i64,
    with_nhcb: bool,
    lines: &[(usize, String)],
) -> Result<(), String> {
    // Later lines with the same labels replace earlier ones.
    let mut block: BTreeMap<Labels, Vec<SeriesValue>> = BTreeMap::new();
    for (line, text) in lines {
        if is_start_timestamp_line(text) {
            // Start timestamps are not stored; the sample line that follows loads normally.
            continue;
        }
        let (labels, values) = parse_series_line(text).map_err(|e| format!("line {line}: {e}"))?;
        block.insert(labels, values);
    }
    let mut nhcb: BTreeMap<Labels, Vec<i64>> = BTreeMap::new();
    for (labels, values) in &block {
        for (k, v) in values.iter().enumerate() {
            let t = k as i64 * interval;
            match v {
                SeriesValue::Omitted => {}
                SeriesValue::Float(f) => {
                    storage.append(labels, t, *f).map_err(|e| e.to_string())?
                }
                SeriesValue::Histogram => storage
                    .append_histogram_marker(labels, t)
                    .map_err(|e| e.to_string())?,
            }
            if with_nhcb && !matches!(v, SeriesValue::Omitted) {
                if let Some(base) = nhcb_target(labels) {
                    nhcb.entry(base).or_default().push(t);
                }
            }
        }
    }
    for (labels, mut ts) in nhcb {
        ts.sort_unstable();
        ts.dedup();
        for t in ts {
            // Custom-bucket histograms are represented by markers: queries touching them fail.
            let _ = storage.append_histogram_marker(&labels, t);
        }
    }
    Ok(())
}

/// For `load_with_nhcb`: the NHCB series a classic-histogram series feeds, if any.
fn nhcb_target(labels: &Labels) -> Option<Labels> {
    let name = labels.metric_name()?;
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    let mut b = labels.to_builder();
    b.set("__name__", base).del("le");
    Some(b.build())
}

fn check_annotations(
    kind: &str,
    got: &[String],
    expect: &[TextMatch],
    forbid: bool,
) -> Result<(), String> {
    if forbid && !got.is_empty() {
        return Err(format!("unexpected {kind} annotations: {got:?}"));
    }
    if expect.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(format!("expected {kind} annotation(s) but got none"));
    }
    for e in expect {
        if !got.iter().any(|g| e.matches(g)) {
            return Err(format!(
                "expected {kind} annotation matching {e} but got {got:?}"
            ));
        }
    }
    for g in got {
        if !expect.iter().any(|e| e.matches(g)) {
            return Err(format!("unexpected {kind} annotation {g:?}"));
        }
    }
    Ok(())
}

fn run_eval(
    engine: &Engine,
    storage: &MemStorage,
    e: &EvalCmd,
    opts: RunOptions,
) -> Result<(), String> {
    let expr = match crate::parser::parse_with_options(&e.expr, &ParserOptions::all()) {
        Ok(x) => x,
        Err(p) => {
            let msg = p.to_string();
            // Prometheus reports some checks (e.g. the `smoothed`/`anchored` function list)
            // at evaluation time without a position; ours are parse errors, so the bare
            // reason is accepted too.
            let reason = p.message.to_string();
            return match &e.fail {
                Some(m) if m.matches(&msg) || m.matches(&reason) => Ok(()),
                Some(m) => Err(format!("expected error {m} but got {msg:?}")),
                None => Err(format!("parse error: {msg}")),
            };
        }
    };
    let time = match (e.kind, e.range_vector) {
        (EvalKind::Instant { .. }, Some((_, to, _))) => QueryTime::Instant(to),
        (EvalKind::Instant { at }, None) => QueryTime::Instant(at),
        (EvalKind::Range { start, end, step }, _) => QueryTime::Range { start, end, step },
    };
    check_once(engine, storage, e, &expr, time)?;
    let QueryTime::Instant(at) = time else {
        return Ok(());
    };
    if !opts.cross_checks || e.range_vector.is_some() {
        return Ok(());
    }
    range_check(engine, storage, e, &expr, at)
        .map_err(|r| format!("range-mode check at {at}: {r}"))?;
    let Some(pinned) = pin::pin_at(&expr, at) else {
        return Ok(());
    };
    let times: Vec<i64> = if at == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![at.saturating_mul(-10), 0, at / 5, at, at.saturating_mul(10)]
    };
    for t in times {
        check_once(engine, storage, e, &pinned, QueryTime::Instant(t))
            .and_then(|()| range_check(engine, storage, e, &pinned, t))
            .map_err(|r| format!("@-pinned check at {t} ({pinned}): {r}"))?;
    }
    Ok(())
}

/// One evaluation checked against all expectations (errors, annotations, values).
fn check_once(
    engine: &Engine,
    storage: &MemStorage,
    e: &EvalCmd,
    expr: &Expr,
    time: QueryTime,
) -> Result<(), String> {
    let res = match (engine.query(storage, expr, time, None), &e.fail) {
        // Never counted as an expected failure: the eval is not evaluated at all.
        (
            Err(
                EngineError::NativeHistogramsNotSupported
                | EngineError::Storage(StorageError::NativeHistogramsNotSupported),
            ),
            _,
        ) => return Err(NATIVE_HISTOGRAMS.into()),
        (Err(err), Some(m)) => {
            let msg = err.to_string();
            return if m.matches(&msg) {
                Ok(())
            } else {
                Err(format!("expected error {m} but got {msg:?}"))
            };
        }
        (Err(err), None) => return Err(format!("error: {err}")),
        (Ok(_), Some(m)) => return Err(format!("expected error ({m}) but the query succeeded")),
        (Ok(r), None) => r,
    };
    let Annotations { warnings, infos } = &res.annotations;
    check_annotations("warn", warnings, &e.warn, e.no_warn)?;
    check_annotations("info", infos, &e.info, e.no_info)?;
    compare_value(e, &res.value)
}

/// The reference's range-mode cross-check of an instant eval at `t`.
fn range_check(
    engine: &Engine,
    storage: &MemStorage,
    e: &EvalCmd,
    expr: &Expr,
    t: i64,
) -> Result<(), String> {
    let text = e.expr.as_str();
    if e.fail.is_some()
        || e.ordered
        || e.string.is_some()
        || ["start()", "end()", "range()", "step()"]
            .iter()
            .any(|f| text.contains(f))
    {
        return Ok(());
    }
    let res = engine
        .query(
            storage,
            expr,
            QueryTime::Range {
                start: t.saturating_sub(60_000),
                end: t.saturating_add(60_000),
                step: 60_000,
            },
            None,
        )
        .map_err(|err| format!("error: {err}"))?;
    let Value::Matrix(m) = res.value else {
        return Err(format!("range query returned {}", res.value.type_name()));
    };
    if !m
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.metric <= b.metric))
    {
        return Err("range result is not sorted by labels".into());
    }
    let at_t = |s: &crate::engine::Series| s.floats.iter().find(|p| p.t == t).map(|p| p.f);
    let value = if e.scalar.is_some() {
        let f = m.first().and_then(at_t).unwrap_or(f64::NAN);
        Value::Scalar { t, f }
    } else {
        Value::Vector(
            m.iter()
                .filter_map(|s| {
                    at_t(s).map(|f| crate::engine::Sample {
                        metric: s.metric.clone(),
                        t,
                        f,
                        drop_name: false,
                    })
                })
                .collect(),
        )
    };
    let mut unordered = e.clone();
    unordered.ordered = false;
    compare_value(&unordered, &value)
}

fn expected_series(e: &EvalCmd) -> Result<Vec<(Labels, Vec<SeriesValue>)>, String> {
    e.series
        .iter()
        .map(|(line, text)| parse_series_line(text).map_err(|err| format!("line {line}: {err}")))
        .collect()
}

fn compare_value(e: &EvalCmd, got: &Value) -> Result<(), String> {
    if let Some(want) = e.scalar {
        return match got {
            Value::Scalar { f, .. } if float_eq(want, *f) => Ok(()),
            Value::Scalar { f, .. } => Err(format!("expected scalar {want} but got {f}")),
            other => Err(format!("expected scalar but got {}", other.type_name())),
        };
    }
    if let Some(want) = &e.string {
        return match got {
            Value::String { s, .. } if s == want => Ok(()),
            other => Err(format!("expected string {want:?} but got {other:?}")),
        };
    }
    let expected = expected_series(e)?;
    if expected
        .iter()
        .any(|(_, v)| v.iter().any(|x| matches!(x, SeriesValue::Histogram)))
    {
        return Err(NATIVE_HISTOGRAMS.into());
    }
    let grid = match (e.kind, e.range_vector) {
        (EvalKind::Range { start, end, step }, _) => Some((start, end, step)),
        (EvalKind::Instant { .. }, Some(r)) => Some(r),
        (EvalKind::Instant { .. }, None) => None,
    };
    match (grid, got) {
        (None, Value::Vector(v)) => {
            let mut want = Vec::with_capacity(expected.len());
            for (labels, vals) in &expected {
                match vals.as_slice() {
                    [SeriesValue::Float(f)] => want.push((labels, *f)),
                    _ => {
                        return Err(format!(
                            "expected series {labels} must have exactly one float value"
                        ))
                    }
                }
            }
            if want.len() != v.len() {
                return Err(format!(
                    "expected {} samples but got {}: {}",
                    want.len(),
                    v.len(),
                    show_vector(v)
                ));
            }
            if e.ordered {
                for (i, ((wl, wf), s)) in want.iter().zip(v).enumerate() {
                    if **wl != s.metric || !float_eq(*wf, s.f) {
                        return Err(format!(
                            "at position {}: expected {wl} {wf} but got {} {}",
                            i + 1,
                            s.metric,
                            s.f
                        ));
                    }
                }
                return Ok(());
            }
            for (wl, wf) in &want {
                match v.iter().find(|s| s.metric == **wl) {
                    Some(s) if float_eq(*wf, s.f) => {}
                    Some(s) => return Err(format!("for {wl}: expected {wf} but got {}", s.f)),
                    None => {
                        return Err(format!(
                            "expected series {wl} not in result: {}",
                            show_vector(v)
                        ))
                    }
                }
            }
            Ok(())
        }
        (Some((start, end, step)), Value::Matrix(m)) => {
            if grid.is_some()
                && matches!(e.kind, EvalKind::Range { .. })
                && !m
                    .windows(2)
                    .all(|w| matches!(w, [a, b] if a.metric <= b.metric))
            {
                return Err("range result is not sorted by labels".into());
            }
            let steps = if step > 0 {
                (end - start) / step + 1
            } else {
                1
            };
            if expected.len() != m.len() {
                return Err(format!(
                    "expected {} series but got {}: {}",
                    expected.len(),
                    m.len(),
                    show_matrix(m)
                ));
            }
            for (labels, vals) in &expected {
                if vals.len() as i64 > steps {
                    return Err(format!(
                        "expected series {labels} has more values than steps"
                    ));
                }
                let want: Vec<(i64, f64)> = vals
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| match v {
                        SeriesValue::Float(f) => Some((start + k as i64 * step, *f)),
                        _ => None,
                    })
                    .collect();
                let Some(s) = m.iter().find(|s| s.metric == *labels) else {
                    return Err(format!(
                        "expected series {labels} not in result: {}",
                        show_matrix(m)
                    ));
                };
                let ok = want.len() == s.floats.len()
                    && want
                        .iter()
                        .zip(&s.floats)
                        .all(|((t, f), p)| *t == p.t && float_eq(*f, p.f));
                if !ok {
                    let got: Vec<String> = s
                        .floats
                        .iter()
                        .map(|p| format!("{}@{}", p.f, p.t))
                        .collect();
                    let exp: Vec<String> = want.iter().map(|(t, f)| format!("{f}@{t}")).collect();
                    return Err(format!(
                        "for {labels}: expected [{}] but got [{}]",
                        exp.join(" "),
                        got.join(" ")
                    ));
                }
            }
            Ok(())
        }
        (None, other) => Err(format!(
            "expected an instant vector but got {}",
            other.type_name()
        )),
        (Some(_), other) => Err(format!("expected a matrix but got {}", other.type_name())),
    }
}

fn show_vector(v: &[crate::engine::Sample]) -> String {
    let mut s = String::new();
    for x in v.iter().take(8) {
        let _ = write!(s, "{} {}; ", x.metric, x.f);
    }
    s
}

fn show_matrix(m: &[crate::engine::Series]) -> String {
    let mut s = String::new();
    for x in m.iter().take(8) {
        let _ = write!(s, "{} ({} points); ", x.metric, x.floats.len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_readme_examples_and_reports_failures() {
        let src = r#"
load 1m
    http_requests{job="api", instance="0"} 0+10x10
    flaky 1 _ 3 stale 5

eval instant at 5m http_requests
    http_requests{job="api", instance="0"} 50

eval instant at 5m scalar(http_requests)
    50

eval range from 0 to 2m step 1m http_requests * 2
    {job="api", instance="0"} 0 20 40

eval range from 0 to 4m step 1m flaky
    flaky 1 1 3 _ 5

eval instant at 5m http_requests
    http_requests{job="api", instance="0"} 51

eval range from 0 to 2m step 1m http_requests * 2
    {job="api", instance="0"} 0 20

eval instant at 0 sort(flaky)
    expect warn
    flaky 1

eval instant at 0 1 +
    expect fail
"#;
        let out = run_script(src).unwrap();
        let results: Vec<bool> = out.iter().map(|o| o.result.is_ok()).collect();
        // The last four: wrong value, too few points, a warning that is not emitted, and a
        // parse error that was expected.
        assert_eq!(
            results,
            [true, true, true, true, false, false, false, true],
            "{out:#?}"
        );
    }
}
