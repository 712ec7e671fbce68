//! Group and rule validation, with upstream's messages.

use std::collections::HashSet;

use super::locate::{Locations, RuleLoc};
use super::{
    GroupErrorKind, ParseOptions, Pos, RawFile, RawRule, Rule, RuleErrorKind, RuleFileError,
    RuleGroup,
};

fn duration(s: &Option<String>) -> Result<Option<i64>, String> {
    match s {
        None => Ok(None),
        Some(s) => kagari_promql::parse_duration(s)
            .map(Some)
            .map_err(|_| s.clone()),
    }
}

/// The first duration field that does not parse, in file order.
pub(super) fn first_bad_duration(raw: &RawFile) -> Option<String> {
    for g in &raw.groups {
        for d in [&g.interval, &g.query_offset] {
            if let Err(s) = duration(d) {
                return Some(s);
            }
        }
        for r in &g.rules {
            for d in [&r.for_, &r.keep_firing_for] {
                if let Err(s) = duration(d) {
                    return Some(s);
                }
            }
        }
    }
    None
}

pub(super) fn validate(
    file: &str,
    raw: RawFile,
    locs: &Locations,
    opts: &ParseOptions,
    errs: &mut Vec<RuleFileError>,
) -> Vec<RuleGroup> {
    let mut seen = HashSet::new();
    let mut groups = Vec::with_capacity(raw.groups.len());
    let mut rule_no = 0usize;
    for (gi, g) in raw.groups.into_iter().enumerate() {
        let gpos = locs.groups.get(gi).copied();
        let gerr = |kind| RuleFileError::Group {
            file: file.to_string(),
            pos: gpos,
            kind,
        };
        if g.name.is_empty() {
            errs.push(gerr(GroupErrorKind::EmptyName));
        }
        if !seen.insert(g.name.clone()) {
            errs.push(gerr(GroupErrorKind::Repeated(g.name.clone())));
        }
        for k in g.labels.keys() {
            if !opts.name_validation.is_valid_label_name(k) || k == "__name__" {
                errs.push(gerr(GroupErrorKind::InvalidLabelName(k.clone())));
            }
        }
        let interval = duration(&g.interval).unwrap_or_else(|s| {
            errs.push(gerr(GroupErrorKind::BadDuration(s)));
            None
        });
        let query_offset = duration(&g.query_offset).unwrap_or_else(|s| {
            errs.push(gerr(GroupErrorKind::BadDuration(s)));
            None
        });
        let mut rules = Vec::with_capacity(g.rules.len());
        for (ri, r) in g.rules.into_iter().enumerate() {
            let loc = locs.rules.get(rule_no).copied().unwrap_or_default();
            rule_no += 1;
            let mut found = Vec::new();
            let rule = validate_rule(r, opts, &loc, &mut found);
            for (kind, pos, pos_alt) in found {
                errs.push(RuleFileError::Rule {
                    file: file.to_string(),
                    pos,
                    pos_alt,
                    group: g.name.clone(),
                    index: ri + 1,
                    name: rule.name().to_string(),
                    kind,
                });
            }
            rules.push(rule);
        }
        groups.push(RuleGroup {
            name: g.name,
            interval,
            query_offset,
            limit: g.limit,
            labels: g.labels,
            rules,
        });
    }
    groups
}

type Found = Vec<(RuleErrorKind, Option<Pos>, Option<Pos>)>;

fn validate_rule(r: RawRule, opts: &ParseOptions, loc: &RuleLoc, out: &mut Found) -> Rule {
    let zero = Some(loc.record.unwrap_or_default());
    let zero_alt = loc.alert;
    let record = r.record.filter(|s| !s.is_empty());
    let alert = r.alert.filter(|s| !s.is_empty());
    match (&record, &alert) {
        (Some(_), Some(_)) => out.push((RuleErrorKind::BothRecordAndAlert, zero, zero_alt)),
        (None, None) => out.push((RuleErrorKind::NeitherRecordNorAlert, zero, zero_alt)),
        _ => {}
    }
    let expr_pos = Some(loc.expr.unwrap_or_default());
    if r.expr.is_empty() {
        out.push((RuleErrorKind::MissingExpr, expr_pos, None));
    } else if !opts.skip_expr_check {
        if let Err(e) = kagari_promql::parse(&r.expr) {
            out.push((RuleErrorKind::BadExpr(e.to_string()), expr_pos, None));
        }
    }
    let mut dur = |s: &Option<String>| match duration(s) {
        Ok(d) => d.unwrap_or(0),
        Err(s) => {
            out.push((RuleErrorKind::BadDuration(s), None, None));
            0
        }
    };
    let for_ms = dur(&r.for_);
    let keep_firing_for_ms = dur(&r.keep_firing_for);
    if let Some(rec) = &record {
        if !r.annotations.is_empty() {
            out.push((
                RuleErrorKind::FieldInRecordingRule("annotations"),
                zero,
                None,
            ));
        }
        if for_ms != 0 {
            out.push((RuleErrorKind::FieldInRecordingRule("for"), zero, None));
        }
        if keep_firing_for_ms != 0 {
            out.push((
                RuleErrorKind::FieldInRecordingRule("keep_firing_for"),
                zero,
                None,
            ));
        }
        if !opts.name_validation.is_valid_metric_name(rec) {
            out.push((RuleErrorKind::InvalidRecordName(rec.clone()), zero, None));
        }
        if rec.contains('{') || rec.contains('}') {
            out.push((RuleErrorKind::BracesInRecordName(rec.clone()), zero, None));
        }
    }
    for k in r.labels.keys() {
        if !opts.name_validation.is_valid_label_name(k) || k == "__name__" {
            out.push((RuleErrorKind::InvalidLabelName(k.clone()), None, None));
        }
    }
    for k in r.annotations.keys() {
        if !opts.name_validation.is_valid_label_name(k) {
            out.push((RuleErrorKind::InvalidAnnotationName(k.clone()), None, None));
        }
    }
    if let (Some(name), None) = (&alert, &record) {
        for (k, v) in &r.labels {
            if let Err(e) = crate::template::check_alert_template(name, v) {
                out.push((
                    RuleErrorKind::LabelTemplate(k.clone(), e.to_string()),
                    None,
                    None,
                ));
            }
        }
        for (k, v) in &r.annotations {
            if let Err(e) = crate::template::check_alert_template(name, v) {
                out.push((
                    RuleErrorKind::AnnotationTemplate(k.clone(), e.to_string()),
                    None,
                    None,
                ));
            }
        }
    }
    Rule {
        record,
        alert,
        expr: r.expr,
        for_ms,
        keep_firing_for_ms,
        labels: r.labels,
        annotations: r.annotations,
    }
}
