//! The experimental `info(v, {selector})` function: adds data labels of info series
//! (default `target_info`) that share the identifying labels `instance` and `job`.

use std::collections::HashMap;

use kagari_model::{Labels, MatchType, Matcher, METRIC_NAME};

use crate::parser::ast::{Call, Expr};

use super::eval::Evaluator;
use super::value::{Sample, Value};
use super::EngineError;

const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// The signature joining a series to an info metric: the info metric's name plus the
/// identifying labels present on the series.
fn signature(info_name: &str, l: &Labels) -> String {
    let mut s = String::from(info_name);
    for name in IDENTIFYING {
        if let Some(v) = l.get(name) {
            s.push('\u{ff}');
            s.push_str(name);
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

pub(crate) fn eval_info(ev: &mut Evaluator<'_>, c: &Call, ts: i64) -> Result<Value, EngineError> {
    let base_expr = c
        .args
        .first()
        .ok_or_else(|| EngineError::Unsupported("info() without arguments".into()))?;
    let base = ev.vector_arg(base_expr, ts)?;
    let selector: Vec<Matcher> = match c.args.get(1) {
        Some(Expr::VectorSelector(vs)) => vs.matchers.clone(),
        _ => Vec::new(),
    };
    let mut name_matchers: Vec<&Matcher> = selector
        .iter()
        .filter(|m| m.name() == METRIC_NAME)
        .collect();
    let default_name = Matcher::new(MatchType::Equal, METRIC_NAME, "target_info").ok();
    if name_matchers.is_empty() {
        name_matchers.extend(default_name.as_ref());
    }
    let data_matchers: Vec<&Matcher> = selector
        .iter()
        .filter(|m| m.name() != METRIC_NAME)
        .collect();
    let has_equal_name = name_matchers
        .iter()
        .any(|m| m.match_type() == MatchType::Equal);

    // Newest info sample per signature; equal timestamps with the same signature conflict.
    let mut infos: HashMap<String, Sample> = HashMap::new();
    let mut info_names: Vec<String> = Vec::new();
    for s in ev.info_series(c, ts) {
        let name = s.metric.metric_name().unwrap_or("").to_string();
        if !has_equal_name && !name.ends_with("_info") {
            continue;
        }
        let sig = signature(&name, &s.metric);
        if !info_names.contains(&name) {
            info_names.push(name);
        }
        match infos.get(&sig) {
            Some(existing) if existing.t > s.t => {}
            Some(existing) if existing.t == s.t => {
                return Err(EngineError::Unsupported(format!(
                    "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                    existing.metric, existing.t, s.metric, s.t
                )));
            }
            _ => {
                infos.insert(sig, s);
            }
        }
    }
    let all_match_empty = data_matchers.iter().all(|m| m.matches_empty());
    let mut out = Vec::with_capacity(base.len());
    for mut bs in base {
        bs.t = ts;
        let name = bs.metric.metric_name().unwrap_or("");
        let positive = name_matchers
            .iter()
            .any(|m| matches!(m.match_type(), MatchType::Equal | MatchType::Regex));
        if positive && name_matchers.iter().all(|m| m.matches(name)) {
            // Info series themselves are not enriched.
            out.push(bs);
            continue;
        }
        let mut added: Vec<(String, String)> = Vec::new();
        let mut found = false;
        for info_name in &info_names {
            let Some(is) = infos.get(&signature(info_name, &bs.metric)) else {
                continue;
            };
            found = true;
            for l in is.metric.iter() {
                if &*l.name == METRIC_NAME
                    || (!data_matchers.is_empty()
                        && !data_matchers.iter().any(|m| m.name() == &*l.name))
                {
                    continue;
                }
                if let Some((_, v)) = added.iter().find(|(n, _)| **n == *l.name) {
                    if **v != *l.value {
                        return Err(EngineError::Unsupported(format!(
                            "conflicting label: {}",
                            l.name
                        )));
                    }
                    continue;
                }
                if bs.metric.has(&l.name) {
                    continue;
                }
                added.push((l.name.to_string(), l.value.to_string()));
            }
        }
        if !found && !all_match_empty {
            continue;
        }
        if !added.is_empty() {
            let mut b = bs.metric.to_builder();
            for (n, v) in &added {
                b.set(n, v);
            }
            bs.metric = b.build();
        }
        out.push(bs);
    }
    Ok(Value::Vector(out))
}
