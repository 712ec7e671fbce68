//! Text forms promtool uses in its failure messages: Go `labels.Labels.String()`,
//! `strconv.FormatFloat(v, 'E', -1, 64)`, `time.Duration.String()`, and the alert-list layout.

use std::cmp::Ordering;
use std::fmt::{self, Write};

use kagari_model::write_quoted_go;

/// A sorted list of name/value pairs printed like Go's `labels.Labels` (`{a="b", c="d"}`, the
/// metric name inside the braces as `__name__`). Unlike [`kagari_model::Labels`] it keeps
/// empty values, which annotations may have.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PairList(pub Vec<(String, String)>);

impl PairList {
    /// Sorts the pairs by name (then value), as Go's `labels.New` does.
    pub fn sorted(mut pairs: Vec<(String, String)>) -> PairList {
        pairs.sort();
        PairList(pairs)
    }
}

impl fmt::Display for PairList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('{')?;
        for (i, (n, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(n)?;
            f.write_char('=')?;
            write_quoted_go(f, v)?;
        }
        f.write_char('}')
    }
}

/// One alert as promtool compares it: labels and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDesc {
    /// All labels, `alertname` included.
    pub labels: PairList,
    /// All annotations.
    pub annotations: PairList,
}

impl PartialOrd for AlertDesc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AlertDesc {
    fn cmp(&self, other: &Self) -> Ordering {
        self.labels
            .cmp(&other.labels)
            .then_with(|| self.annotations.cmp(&other.annotations))
    }
}

/// One sample as promtool compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDesc {
    /// The labels (`__name__` included).
    pub labels: PairList,
    /// The value.
    pub value: f64,
}

impl fmt::Display for SampleDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.labels, format_float_e(self.value))
    }
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: shortest digits, `1.21E+02`, `1E+00`.
pub(super) fn format_float_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    // Rust's `{:e}` prints the shortest round-trip digits: `1.21e2`, `-1.5e-7`, `0e0`.
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}E{sign}{:02}", exp.unsigned_abs())
}

/// Go's `time.Duration.String()` for a whole number of milliseconds (`1m0s`, `1.5s`, `0s`).
pub(super) fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let abs = ms.unsigned_abs();
    if abs < 1000 {
        let _ = write!(out, "{abs}ms");
        return out;
    }
    let (h, rest) = (abs / 3_600_000, abs % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}m");
    }
    let _ = write!(out, "{s}");
    if frac > 0 {
        let f = format!("{frac:03}");
        let _ = write!(out, ".{}", f.trim_end_matches('0'));
    }
    out.push('s');
    out
}

/// Prefixes every line but the first with `indent` (promtool's `indentLines`).
pub(super) fn indent_lines(lines: &str, indent: &str) -> String {
    let mut out = String::with_capacity(lines.len());
    for (i, l) in lines.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
        }
        out.push_str(l);
    }
    out
}

/// promtool's `labelsAndAnnotations.String()`:
/// `[\n0:\n  Labels:{..}\n  Annotations:{..},\n1:...\n]`, or `[]` when empty.
pub(super) fn alert_list(list: &[AlertDesc]) -> String {
    if list.is_empty() {
        return "[]".to_string();
    }
    let mut s = String::from("[\n");
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        let one = format!("\nLabels:{}\nAnnotations:{}", a.labels, a.annotations);
        let _ = write!(s, "{i}:{}", indent_lines(&one, "  "));
    }
    s.push_str("\n]");
    s
}

/// promtool's `parsedSamplesString`: comma-separated samples, or `nil`.
pub(super) fn sample_list(list: &[SampleDesc]) -> String {
    if list.is_empty() {
        return "nil".to_string();
    }
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go_format_e() {
        let cases = [
            (121.0, "1.21E+02"),
            (1.0, "1E+00"),
            (1.5e-7, "1.5E-07"),
            (0.0, "0E+00"),
            (-2.5, "-2.5E+00"),
            (1.2000000000000002, "1.2000000000000002E+00"),
            (1e300, "1E+300"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float_e(v), want);
        }
    }

    #[test]
    fn durations_like_go() {
        let cases = [
            (0, "0s"),
            (60_000, "1m0s"),
            (90_000, "1m30s"),
            (1500, "1.5s"),
            (500, "500ms"),
            (3_600_000, "1h0m0s"),
            (3_661_250, "1h1m1.25s"),
        ];
        for (ms, want) in cases {
            assert_eq!(go_duration(ms), want);
        }
    }

    #[test]
    fn alert_list_layout() {
        let a = AlertDesc {
            labels: PairList::sorted(vec![("alertname".into(), "X".into())]),
            annotations: PairList::default(),
        };
        assert_eq!(alert_list(&[]), "[]");
        assert_eq!(
            alert_list(&[a.clone(), a]),
            "[\n0:\n  Labels:{alertname=\"X\"}\n  Annotations:{},\n1:\n  Labels:{alertname=\"X\"}\n  Annotations:{}\n]"
        );
    }
}
