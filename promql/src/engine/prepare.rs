//! Query preparation: the time window every selector needs, computed before loading data.

use std::collections::HashMap;

use kagari_model::{MatchType, Matcher, METRIC_NAME};

use crate::parser::ast::{Call, Expr, VectorSelector};
use crate::parser::functions::FunctionId;

use super::eval::Evaluator;

/// The samples one selector needs: `[mint, maxt]` (inclusive), and its range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) range: i64,
}

/// Windows of all selectors, keyed by node address, plus the overall bounds.
#[derive(Debug)]
pub(crate) struct Plan<'e> {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) selectors: HashMap<usize, (Window, Vec<Matcher>)>,
    _expr: std::marker::PhantomData<&'e Expr>,
}

/// The identity of a selector node during one query.
pub(crate) fn key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

/// The identity of an `info()` call's info-series selection.
pub(crate) fn info_key(c: &Call) -> usize {
    c as *const Call as usize
}

/// Computes the windows for evaluating `expr` at every step of the evaluator's range.
pub(crate) fn windows<'e>(expr: &'e Expr, ev: &Evaluator<'_>) -> Plan<'e> {
    let mut plan = Plan {
        mint: i64::MAX,
        maxt: i64::MIN,
        selectors: HashMap::new(),
        _expr: std::marker::PhantomData,
    };
    walk(expr, ev.start, ev.end, ev, &mut plan);
    if plan.mint > plan.maxt {
        plan.mint = ev.start;
        plan.maxt = ev.end;
    }
    plan
}

fn add<'e>(
    vs: &'e VectorSelector,
    s: i64,
    e: i64,
    range: i64,
    ev: &Evaluator<'_>,
    plan: &mut Plan<'e>,
) {
    let (s, e) = match ev.at_time(vs.at) {
        Some(at) => (at, at),
        None => (s, e),
    };
    let off = ev.offset_ms(vs.offset.as_ref());
    let look = if range > 0 {
        range
    } else {
        ev.opts.lookback_delta
    };
    // `anchored`/`smoothed` look one lookback further back and (smoothed) forward.
    let ext = if vs.extension.is_some() {
        ev.opts.lookback_delta
    } else {
        0
    };
    let w = Window {
        mint: s
            .saturating_sub(off)
            .saturating_sub(look)
            .saturating_sub(ext)
            .saturating_add(1),
        maxt: e.saturating_sub(off).saturating_add(ext),
        range,
    };
    plan.mint = plan.mint.min(w.mint);
    plan.maxt = plan.maxt.max(w.maxt);
    let entry = plan
        .selectors
        .entry(key(vs))
        .or_insert_with(|| (w, vs.matchers.clone()));
    entry.0.mint = entry.0.mint.min(w.mint);
    entry.0.maxt = entry.0.maxt.max(w.maxt);
}

fn walk<'e>(expr: &'e Expr, s: i64, e: i64, ev: &Evaluator<'_>, plan: &mut Plan<'e>) {
    match expr {
        Expr::Number(_) | Expr::String(_) => {}
        Expr::VectorSelector(vs) => add(vs, s, e, 0, ev, plan),
        Expr::MatrixSelector(ms) => {
            let range = ev.duration_ms(&ms.range);
            add(&ms.vector, s, e, range.max(1), ev, plan);
        }
        Expr::Subquery(sq) => {
            let (s, e) = match ev.at_time(sq.at) {
                Some(at) => (at, at),
                None => (s, e),
            };
            let off = ev.offset_ms(sq.offset.as_ref());
            let range = ev.duration_ms(&sq.range);
            walk(
                &sq.expr,
                s.saturating_sub(off).saturating_sub(range),
                e.saturating_sub(off),
                ev,
                plan,
            );
        }
        Expr::Call(c) if c.func.id == FunctionId::Info => {
            if let Some(base) = c.args.first() {
                walk(base, s, e, ev, plan);
            }
            // The info series: instant selections at every step, by the label selector's
            // matchers (default `__name__="target_info"`).
            let mut matchers = match c.args.get(1) {
                Some(Expr::VectorSelector(vs)) => vs.matchers.clone(),
                _ => Vec::new(),
            };
            if !matchers.iter().any(|m| m.name() == METRIC_NAME) {
                if let Ok(m) = Matcher::new(MatchType::Equal, METRIC_NAME, "target_info") {
                    matchers.push(m);
                }
            }
            let w = Window {
                mint: s.saturating_sub(ev.opts.lookback_delta).saturating_add(1),
                maxt: e,
                range: 0,
            };
            plan.mint = plan.mint.min(w.mint);
            plan.maxt = plan.maxt.max(w.maxt);
            plan.selectors.insert(info_key(c), (w, matchers));
        }
        Expr::Call(c) => c.args.iter().for_each(|a| walk(a, s, e, ev, plan)),
        Expr::Aggregate(a) => {
            walk(&a.expr, s, e, ev, plan);
            if let Some(p) = &a.param {
                walk(p, s, e, ev, plan);
            }
        }
        Expr::Binary(b) => {
            walk(&b.lhs, s, e, ev, plan);
            walk(&b.rhs, s, e, ev, plan);
        }
        Expr::Unary(u) => walk(&u.expr, s, e, ev, plan),
        Expr::Paren(p) => walk(&p.expr, s, e, ev, plan),
    }
}
