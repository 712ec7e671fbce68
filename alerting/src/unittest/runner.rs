//! Running a test file: rule loading, the evaluation loop and the comparisons.

use std::collections::HashMap;

use kagari_model::{is_stale, Labels, STALE_NAN};
use kagari_promql::engine::{Engine, EngineOptions, Value};
use kagari_promql::storage::MemStorage;
use kagari_promql::SequenceValue;

use super::file::{self, RawFile, RawTestGroup, Scalar};
use super::glob::glob;
use super::report::{AlertDesc, PairList, SampleDesc};
use super::{FileOutcome, UnitTestError, UnitTestOptions};
use crate::rulefmt::{parse_rule_file, ParseOptions};
use crate::rules::{EvalEnv, Group, Rule};
use crate::AlertState;

const DEFAULT_EVAL_INTERVAL_MS: i64 = 60_000;

/// Runs the test groups of the test file at `path` (rule files are resolved relative to its
/// directory).
pub fn run_test_file(path: &str, opts: &UnitTestOptions) -> FileOutcome {
    let mut out = FileOutcome::default();
    let content = match std::fs::read_to_string(path) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(read_error(path, &e));
            return out;
        }
    };
    let raw = match file::decode(&content) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let base = match path.rfind('/') {
        Some(i) => path.get(..i).unwrap_or("."),
        None => ".",
    };
    let base = if base.is_empty() { "/" } else { base };
    let mut rule_files = Vec::new();
    for rf in &raw.rule_files {
        let pattern = if rf.0.is_empty() || rf.0.starts_with('/') {
            rf.0.clone()
        } else {
            clean_join(base, &rf.0)
        };
        match glob(&pattern) {
            Err(_) => {
                out.errors.push(UnitTestError::BadGlob { pattern });
                return out;
            }
            Ok(m) if m.is_empty() => out
                .warnings
                .push(format!("  WARNING: no file match pattern {pattern}")),
            Ok(m) => {
                for f in m {
                    if !rule_files.contains(&f) {
                        rule_files.push(f);
                    }
                }
            }
        }
    }
    match run_file(&raw, &rule_files, opts) {
        Ok(errs) | Err(errs) => out.errors = errs,
    }
    out
}

/// Go's wording of a failed `os.ReadFile`: the failing operation and the OS reason.
fn go_io_error(e: &std::io::Error) -> (&'static str, String) {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => ("open", "no such file or directory".to_string()),
        ErrorKind::PermissionDenied => ("open", "permission denied".to_string()),
        ErrorKind::IsADirectory => ("read", "is a directory".to_string()),
        _ => ("open", e.to_string()),
    }
}

fn read_error(path: &str, e: &std::io::Error) -> UnitTestError {
    let (op, reason) = go_io_error(e);
    UnitTestError::Read {
        op,
        path: path.to_string(),
        reason,
    }
}

fn rule_file_read_error(path: &str, e: &std::io::Error) -> UnitTestError {
    let (op, reason) = go_io_error(e);
    UnitTestError::RuleFileRead {
        op,
        path: path.to_string(),
        reason,
    }
}

/// Go's `filepath.Join(dir, rel)`: joined and cleaned (`.` and `..` resolved lexically).
fn clean_join(dir: &str, rel: &str) -> String {
    let joined = format!("{dir}/{rel}");
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&"..") | None if !absolute => parts.push(".."),
                Some(&"..") | None => {}
                Some(_) => {
                    parts.pop();
                }
            },
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

fn run_file(
    raw: &RawFile,
    rule_files: &[String],
    opts: &UnitTestOptions,
) -> Result<Vec<UnitTestError>, Vec<UnitTestError>> {
    let eval_interval = match &raw.evaluation_interval {
        Some(s) => file::duration(s).map_err(|e| vec![e])?,
        None => 0,
    };
    let eval_interval = if eval_interval <= 0 {
        DEFAULT_EVAL_INTERVAL_MS
    } else {
        eval_interval
    };
    let mut order: HashMap<&str, usize> = HashMap::new();
    for (i, g) in raw.group_eval_order.iter().enumerate() {
        if order.insert(g.0.as_str(), i).is_some() {
            return Err(vec![UnitTestError::RepeatedEvalOrder(g.0.clone())]);
        }
    }
    let ctx = FileCtx {
        eval_interval,
        order,
        rule_files,
        fuzzy: raw.fuzzy_compare,
    };
    let mut errs = Vec::new();
    for tg in &raw.tests {
        if opts.run.as_ref().is_some_and(|re| !re.is_match(&tg.name.0)) {
            continue;
        }
        errs.extend(ctx.run_group(tg));
    }
    Ok(errs)
}

struct FileCtx<'a> {
    eval_interval: i64,
    order: HashMap<&'a str, usize>,
    rule_files: &'a [String],
    fuzzy: bool,
}

/// One input sample, ready to append.
struct InputSample {
    t: i64,
    labels: Labels,
    v: Option<f64>,
}

impl FileCtx<'_> {
    /// Loads the rule files into groups ordered by `group_eval_order` (listed groups first,
    /// the rest in file order).
    fn load_groups(&self, interval: i64) -> Result<Vec<Group>, Vec<UnitTestError>> {
        let mut groups = Vec::new();
        for f in self.rule_files {
            let content =
                std::fs::read_to_string(f).map_err(|e| vec![rule_file_read_error(f, &e)])?;
            let parsed = parse_rule_file(f, &content, &ParseOptions::default()).map_err(|es| {
                es.into_iter()
                    .map(|e| UnitTestError::RuleFile(Box::new(e)))
                    .collect::<Vec<_>>()
            })?;
            for g in &parsed.groups {
                let mut group = Group::from_config(f, g, interval, 0)
                    .map_err(|e| vec![UnitTestError::RuleGroup(e)])?;
                // As promtool: alerting rules count as restored, so `ALERTS` and
                // `ALERTS_FOR_STATE` are written from the first evaluation.
                for r in group.rules_mut() {
                    if let Rule::Alerting(a) = r {
                        a.set_restored(true);
                    }
                }
                groups.push(group);
            }
        }
        groups.sort_by_key(|g| self.order.get(g.name()).copied().unwrap_or(usize::MAX));
        Ok(groups)
    }

    fn run_group(&self, tg: &RawTestGroup) -> Vec<UnitTestError> {
        match self.try_run_group(tg) {
            Ok(errs) | Err(errs) => errs,
        }
    }

    fn try_run_group(&self, tg: &RawTestGroup) -> Result<Vec<UnitTestError>, Vec<UnitTestError>> {
        let one = |e: UnitTestError| vec![e];
        let interval = match &tg.interval {
            Some(s) => file::duration(s).map_err(one)?,
            None => 0,
        };
        let interval = if interval <= 0 {
            self.eval_interval
        } else {
            interval
        };
        let start = match &tg.start_timestamp {
            Some(s) => file::start_timestamp(s).map_err(one)?,
            None => 0,
        };
        let test_group = (!tg.name.0.is_empty()).then(|| tg.name.0.clone());
        let mut inputs = parse_inputs(tg, start, interval).map_err(one)?;
        let mut groups = self.load_groups(interval)?;

        let mut alert_tests = Vec::with_capacity(tg.alert_rule_test.len());
        for at in &tg.alert_rule_test {
            let eval_time = opt_duration(&at.eval_time).map_err(one)?;
            if at.alertname.0.is_empty() {
                return Err(one(UnitTestError::MissingAlertname {
                    eval_time_ms: eval_time,
                    test_group,
                }));
            }
            alert_tests.push((eval_time, at));
        }
        let mut expr_tests = Vec::with_capacity(tg.promql_expr_test.len());
        for et in &tg.promql_expr_test {
            expr_tests.push((opt_duration(&et.eval_time).map_err(one)?, et));
        }
        let mut alert_times: Vec<i64> = alert_tests.iter().map(|(t, _)| *t).collect();
        alert_times.sort_unstable();
        alert_times.dedup();
        let max_eval = alert_times
            .iter()
            .chain(expr_tests.iter().map(|(t, _)| t))
            .copied()
            .max()
            .unwrap_or(0);

        let external_labels = Labels::from_pairs(
            tg.external_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.0.as_str())),
        )
        .map_err(|e| {
            one(UnitTestError::Yaml {
                message: format!("external_labels: {e}"),
            })
        })?;
        let env = EvalEnv {
            engine: Engine::new(EngineOptions {
                default_subquery_step: self.eval_interval,
                ..EngineOptions::default()
            }),
            external_labels,
            external_url: tg.external_url.0.clone(),
        };
        let mut storage = MemStorage::new();
        inputs.sort_by_key(|s| s.t);
        let mut next_input = 0usize;
        let mut errs = Vec::new();
        let mut curr = 0usize;
        let mut ts = start;
        let end = start.saturating_add(max_eval);
        while ts <= end {
            while let Some(s) = inputs.get(next_input).filter(|s| s.t <= ts) {
                let res = match s.v {
                    Some(v) => storage.append(&s.labels, s.t, v),
                    None => storage.append_histogram_marker(&s.labels, s.t),
                };
                if let Err(e) = res {
                    errs.push(UnitTestError::LoadSeries {
                        message: e.to_string(),
                    });
                    return Err(errs);
                }
                next_input += 1;
            }
            let mut eval_errs = Vec::new();
            for g in &mut groups {
                for (i, e) in g.eval(ts, &env, &mut storage) {
                    eval_errs.push(UnitTestError::RuleEval {
                        rule: g
                            .rules()
                            .get(i)
                            .map(|r| r.name().to_string())
                            .unwrap_or_default(),
                        time_ms: ts - start,
                        source: e,
                    });
                }
            }
            if !eval_errs.is_empty() {
                errs.extend(eval_errs);
                return Err(errs);
            }
            // Alert checks at eval_time E happen after the step ts with ts <= E < ts + interval.
            while let Some(&t) = alert_times.get(curr) {
                let rel = ts - start;
                if !(rel <= t && t < rel + self.eval_interval) {
                    break;
                }
                for (_, at) in alert_tests.iter().filter(|(et, _)| *et == t) {
                    let got = firing_alerts(&groups, &at.alertname.0);
                    let exp = expected_alerts(at);
                    if exp != got {
                        errs.push(UnitTestError::AlertMismatch {
                            test_group: test_group.clone(),
                            alertname: at.alertname.0.clone(),
                            eval_time_ms: t,
                            exp,
                            got,
                        });
                    }
                }
                curr += 1;
            }
            match ts.checked_add(self.eval_interval) {
                Some(next) => ts = next,
                None => break,
            }
        }
        for (eval_time, et) in expr_tests {
            if let Some(e) = self.check_expr(&env, &storage, start, eval_time, et) {
                errs.push(e);
            }
        }
        Ok(errs)
    }

    fn check_expr(
        &self,
        env: &EvalEnv,
        storage: &MemStorage,
        start: i64,
        eval_time: i64,
        et: &super::file::RawExprTest,
    ) -> Option<UnitTestError> {
        let fail = |message: String| UnitTestError::ExprFailed {
            expr: et.expr.0.clone(),
            eval_time_ms: eval_time,
            message,
        };
        let expr = match kagari_promql::parse(&et.expr.0) {
            Ok(e) => e,
            Err(e) => return Some(fail(e.to_string())),
        };
        let res = match env
            .engine
            .instant_query(storage, &expr, start.saturating_add(eval_time))
        {
            Ok(r) => r,
            Err(e) => return Some(fail(e.to_string())),
        };
        let mut got: Vec<SampleDesc> = match res.value {
            Value::Vector(v) => v
                .into_iter()
                .map(|s| SampleDesc {
                    labels: pairs(&s.metric),
                    value: s.f,
                })
                .collect(),
            Value::Scalar { f, .. } => vec![SampleDesc {
                labels: PairList::default(),
                value: f,
            }],
            _ => return Some(fail("rule result is not a vector or scalar".to_string())),
        };
        let mut exp = Vec::with_capacity(et.exp_samples.len());
        for s in &et.exp_samples {
            if s.histogram.is_some() {
                return Some(fail(format!(
                    "labels {}: native histogram expectations are not supported",
                    kagari_model::quote_go(&s.labels.0)
                )));
            }
            match kagari_promql::parse_series_desc(&s.labels.0) {
                Ok(d) => exp.push(SampleDesc {
                    labels: pairs(&d.labels),
                    value: s.value,
                }),
                Err(e) => {
                    return Some(fail(format!(
                        "labels {}: {e}",
                        kagari_model::quote_go(&s.labels.0)
                    )))
                }
            }
        }
        exp.sort_by(|a, b| a.labels.cmp(&b.labels));
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        let same = exp.len() == got.len()
            && exp
                .iter()
                .zip(&got)
                .all(|(a, b)| a.labels == b.labels && values_equal(a.value, b.value, self.fuzzy));
        (!same).then(|| UnitTestError::ExprMismatch {
            expr: et.expr.0.clone(),
            eval_time_ms: eval_time,
            exp,
            got,
        })
    }
}

/// Exact float equality (NaN never equal, as Go's `reflect.DeepEqual`), or within one ulp
/// with `fuzzy_compare`.
fn values_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a == b {
        return true;
    }
    if !fuzzy || a.is_nan() || b.is_nan() || a.is_sign_negative() != b.is_sign_negative() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= 1
}

fn opt_duration(s: &Option<Scalar>) -> Result<i64, UnitTestError> {
    s.as_ref().map_or(Ok(0), file::duration)
}

fn parse_inputs(
    tg: &RawTestGroup,
    start: i64,
    interval: i64,
) -> Result<Vec<InputSample>, UnitTestError> {
    // A series listed twice keeps only its last definition, as promtool's loader does.
    let mut descs: Vec<kagari_promql::SeriesDesc> = Vec::with_capacity(tg.input_series.len());
    for s in &tg.input_series {
        let text = format!("{} {}", s.series.0, s.values.0);
        let desc =
            kagari_promql::parse_series_desc(&text).map_err(|e| UnitTestError::InputSeries {
                message: e.to_string(),
            })?;
        match descs.iter_mut().find(|d| d.labels == desc.labels) {
            Some(old) => *old = desc,
            None => descs.push(desc),
        }
    }
    let mut out = Vec::new();
    for desc in &descs {
        for (i, v) in desc.values.iter().enumerate() {
            let t = start.saturating_add((i as i64).saturating_mul(interval));
            let v = match v {
                None => continue,
                Some(SequenceValue::Float(f)) if is_stale(*f) => Some(STALE_NAN),
                Some(SequenceValue::Float(f)) => Some(*f),
                Some(SequenceValue::Histogram(_)) => None,
            };
            out.push(InputSample {
                t,
                labels: desc.labels.clone(),
                v,
            });
        }
    }
    Ok(out)
}

fn pairs(l: &Labels) -> PairList {
    PairList(
        l.iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect(),
    )
}

/// Firing instances of every alerting rule named `name`, over all groups, sorted.
fn firing_alerts(groups: &[Group], name: &str) -> Vec<AlertDesc> {
    let mut out = Vec::new();
    for g in groups {
        for r in g.rules() {
            let Rule::Alerting(ar) = r else { continue };
            if ar.name() != name {
                continue;
            }
            for a in ar.alerts() {
                if a.state == AlertState::Firing {
                    out.push(AlertDesc {
                        labels: pairs(&a.labels),
                        annotations: PairList(
                            a.annotations
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The expected alerts of a test case, `alertname` added, sorted.
fn expected_alerts(at: &super::file::RawAlertTest) -> Vec<AlertDesc> {
    let mut out: Vec<AlertDesc> = at
        .exp_alerts
        .iter()
        .map(|a| {
            let mut labels: Vec<(String, String)> = a
                .exp_labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect();
            labels.push(("alertname".to_string(), at.alertname.0.clone()));
            AlertDesc {
                labels: PairList::sorted(labels),
                annotations: PairList::sorted(
                    a.exp_annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone()))
                        .collect(),
                ),
            }
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_go_filepath() {
        assert_eq!(clean_join(".", "r.yml"), "r.yml");
        assert_eq!(clean_join("a/b", "../r.yml"), "a/r.yml");
        assert_eq!(clean_join("/x", "./y/z.yml"), "/x/y/z.yml");
        assert_eq!(clean_join(".", "../r.yml"), "../r.yml");
        assert_eq!(clean_join("/", "../r.yml"), "/r.yml");
    }

    #[test]
    fn fuzzy_equality() {
        let a = 1.2f64;
        let b = f64::from_bits(a.to_bits() + 1);
        assert!(!values_equal(a, b, false));
        assert!(values_equal(a, b, true));
        assert!(!values_equal(a, f64::from_bits(a.to_bits() + 2), true));
        assert!(!values_equal(f64::NAN, f64::NAN, true));
    }
}
