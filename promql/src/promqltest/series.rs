//! Series lines of `load` blocks and expectations: `name{labels} value items...`.
//!
//! The label part is parsed by the PromQL parser (as a vector selector with equality
//! matchers); the value items (`1`, `_`, `_xN`, `a+bxN`, `stale`, `{{...}}`) are expanded here.

use kagari_model::{Labels, LabelsBuilder, MatchType, STALE_NAN};

use crate::parser::ast::Expr;
use crate::parser::ParserOptions;

/// One position of an expanded series line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesValue {
    /// No sample at this position (`_`).
    Omitted,
    /// A float sample (staleness markers included).
    Float(f64),
    /// A native histogram sample (content not represented).
    Histogram,
}

/// Splits a line into the series part and the value part.
fn split_series(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut in_quote: Option<u8> = None;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match in_quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    in_quote = None;
                }
            }
            None => {
                if c == b'"' || c == b'\'' || c == b'`' {
                    in_quote = Some(c);
                } else if c == b'}' {
                    return (
                        line.get(..=i).unwrap_or(line),
                        line.get(i + 1..).unwrap_or(""),
                    );
                } else if (c == b' ' || c == b'\t') && !line.get(..i).unwrap_or("").contains('{') {
                    return (line.get(..i).unwrap_or(line), line.get(i..).unwrap_or(""));
                }
            }
        }
        i += 1;
    }
    (line, "")
}

/// Parses the labels of a series description (`name{a="b"}` or `{__name__="x"}`).
pub(crate) fn parse_series_labels(s: &str) -> Result<Labels, String> {
    if s.strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .is_some_and(|x| x.trim().is_empty())
    {
        return Ok(Labels::empty());
    }
    let expr =
        crate::parser::parse_with_options(s, &ParserOptions::all()).map_err(|e| e.to_string())?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!("invalid series description {s:?}"));
    };
    let mut b = LabelsBuilder::new();
    for m in &vs.matchers {
        if m.match_type() != MatchType::Equal {
            return Err(format!(
                "only equality matchers allowed in series description {s:?}"
            ));
        }
        b.set(m.name(), m.value());
    }
    Ok(b.build())
}

fn parse_float(s: &str) -> Option<f64> {
    if s.eq_ignore_ascii_case("stale") {
        return Some(STALE_NAN);
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("-0x") || lower.starts_with("+0x") {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Splits `a+bxN` style items: returns (head, repeat count).
fn split_repeat(item: &str) -> Result<(&str, Option<usize>), String> {
    if let Some(pos) = item.rfind('x') {
        let (head, tail) = (
            item.get(..pos).unwrap_or(""),
            item.get(pos + 1..).unwrap_or(""),
        );
        if !tail.is_empty() && tail.bytes().all(|c| c.is_ascii_digit()) {
            let n = tail
                .parse::<usize>()
                .map_err(|e| format!("invalid repeat {tail:?}: {e}"))?;
            return Ok((head, Some(n)));
        }
    }
    Ok((item, None))
}

/// Finds the `+`/`-` between `a` and `b` in `a+b` (not a sign or an exponent sign).
fn split_step(head: &str) -> Option<(&str, char, &str)> {
    let bytes = head.as_bytes();
    for i in 1..bytes.len() {
        let c = *bytes.get(i)?;
        if c == b'+' || c == b'-' {
            let prev = *bytes.get(i - 1)?;
            if prev == b'e' || prev == b'E' {
                // Exponent sign unless the left part is a word like "Inf" / "stale".
                let left = head.get(..i - 1)?;
                if left.bytes().any(|x| x.is_ascii_digit())
                    && !left.to_ascii_lowercase().contains("inf")
                {
                    continue;
                }
            }
            return Some((head.get(..i)?, c as char, head.get(i + 1..)?));
        }
    }
    None
}

fn tokens(values: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = values.trim_start();
    while !rest.is_empty() {
        let end = if rest.starts_with("{{") {
            // A histogram item may contain spaces; it ends after the last "}}" that is
            // followed by whitespace or the end of the line.
            let mut idx = 0;
            let mut found = rest.len();
            while let Some(p) = rest.get(idx..).and_then(|r| r.find("}}")) {
                let after = idx + p + 2;
                let tail = rest.get(after..).unwrap_or("");
                let next_ws = tail.find([' ', '\t']).unwrap_or(tail.len());
                let suffix = tail.get(..next_ws).unwrap_or("");
                if !suffix.contains("{{") {
                    found = after + next_ws;
                    break;
                }
                idx = after;
            }
            found
        } else {
            rest.find([' ', '\t']).unwrap_or(rest.len())
        };
        out.push(rest.get(..end).unwrap_or(rest));
        rest = rest.get(end..).unwrap_or("").trim_start();
    }
    out
}

/// Parses one value item into `out`.
fn expand(item: &str, out: &mut Vec<SeriesValue>) -> Result<(), String> {
    if item.starts_with("{{") {
        let tail = item
            .rfind("}}")
            .and_then(|p| item.get(p + 2..))
            .unwrap_or("");
        let n = match tail.strip_prefix('x') {
            Some(d) => d
                .parse::<usize>()
                .map_err(|e| format!("invalid repeat in {item:?}: {e}"))?,
            None if tail.is_empty() => 0,
            None => return Err(format!("invalid histogram item {item:?}")),
        };
        out.extend(std::iter::repeat_n(SeriesValue::Histogram, n + 1));
        return Ok(());
    }
    if item == "_" {
        out.push(SeriesValue::Omitted);
        return Ok(());
    }
    let (head, n) = split_repeat(item)?;
    if head == "_" {
        let n = n.ok_or_else(|| format!("invalid value item {item:?}"))?;
        out.extend(std::iter::repeat_n(SeriesValue::Omitted, n));
        return Ok(());
    }
    match n {
        None => {
            let v = parse_float(head).ok_or_else(|| format!("invalid value {item:?}"))?;
            out.push(SeriesValue::Float(v));
        }
        Some(n) => {
            let (a, op, b) = match split_step(head) {
                Some((a, op, b)) => (a, op, Some(b)),
                None => (head, '+', None),
            };
            let start = parse_float(a).ok_or_else(|| format!("invalid value {item:?}"))?;
            let step = match b {
                Some(b) => parse_float(b).ok_or_else(|| format!("invalid value {item:?}"))?,
                None => 0.0,
            };
            let step = if op == '-' { -step } else { step };
            let mut cur = start;
            out.push(SeriesValue::Float(cur));
            for _ in 0..n {
                cur += step;
                out.push(SeriesValue::Float(cur));
            }
        }
    }
    Ok(())
}

/// Parses a series line into its labels and expanded values.
pub fn parse_series_line(line: &str) -> Result<(Labels, Vec<SeriesValue>), String> {
    let (series, values) = split_series(line.trim());
    let labels = parse_series_labels(series.trim())?;
    let mut out = Vec::new();
    for item in tokens(values) {
        expand(item, &mut out)?;
    }
    Ok((labels, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::is_stale;

    fn vals(line: &str) -> Vec<SeriesValue> {
        parse_series_line(line).unwrap().1
    }

    #[test]
    fn expansions() {
        use SeriesValue::*;
        assert_eq!(vals("a 0+10x2"), [Float(0.0), Float(10.0), Float(20.0)]);
        assert_eq!(vals("a 1 _ 3"), [Float(1.0), Omitted, Float(3.0)]);
        assert_eq!(
            vals("a _x2 1x1"),
            [Omitted, Omitted, Float(1.0), Float(1.0)]
        );
        assert_eq!(vals("a -2-1x2"), [Float(-2.0), Float(-3.0), Float(-4.0)]);
        assert_eq!(vals("a 1e3+1e2x1"), [Float(1000.0), Float(1100.0)]);
        assert_eq!(
            vals("a Inf -Inf"),
            [Float(f64::INFINITY), Float(f64::NEG_INFINITY)]
        );
        assert!(matches!(vals("a stale").as_slice(), [Float(f)] if is_stale(*f)));
        assert_eq!(
            vals("a {{schema:0 sum:1 buckets:[1 2]}}x1 {{}}"),
            [Histogram, Histogram, Histogram]
        );
    }

    #[test]
    fn labels() {
        let (l, v) = parse_series_line(r#"{__name__="x:y", a="b c"} 1"#).unwrap();
        assert_eq!(l.metric_name(), Some("x:y"));
        assert_eq!(l.get("a"), Some("b c"));
        assert_eq!(v.len(), 1);
        let (l, _) = parse_series_line(r#"{a="x"} 1"#).unwrap();
        assert_eq!(l.metric_name(), None);
        let (l, v) = parse_series_line("up").unwrap();
        assert_eq!(l.metric_name(), Some("up"));
        assert!(v.is_empty());
    }
}
