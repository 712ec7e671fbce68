//! Naming lints in the spirit of client_golang's `promlint` (what `promtool check metrics` runs).

use kagari_exposition::{Format, MetricFamily, MetricType};

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Problem {
    /// The metric (family) name.
    pub(crate) metric: String,
    /// What is wrong.
    pub(crate) text: String,
}

/// Non-base units and the base unit to use instead.
const UNITS: &[(&str, &str)] = &[
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("milliseconds", "seconds"),
    ("microseconds", "seconds"),
    ("nanoseconds", "seconds"),
    ("kilobytes", "bytes"),
    ("megabytes", "bytes"),
    ("gigabytes", "bytes"),
    ("terabytes", "bytes"),
    ("kilograms", "grams"),
    ("milligrams", "grams"),
    ("kilometers", "meters"),
    ("centimeters", "meters"),
    ("millimeters", "meters"),
    ("kilometres", "metres"),
    ("millivolts", "volts"),
    ("kilovolts", "volts"),
    ("milliamperes", "amperes"),
    ("kilojoules", "joules"),
    ("fahrenheit", "celsius"),
    ("bits", "bytes"),
];

fn is_camel_case(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.is_ascii_lowercase() && b.is_ascii_uppercase()))
}

/// Lints the families; findings are sorted by metric name and text.
pub(crate) fn lint(families: &[MetricFamily], format: Format) -> Vec<Problem> {
    let mut out = Vec::new();
    // Like Go's parser, families that only have metadata are not linted.
    for fam in families.iter().filter(|f| !f.samples.is_empty()) {
        let name = fam.name.as_str();
        let untyped = fam.metric_type == MetricType::Unknown;
        let mut add = |text: String| {
            out.push(Problem {
                metric: name.to_owned(),
                text,
            })
        };
        if fam.help.as_deref().is_none_or(str::is_empty) {
            add("no help text".into());
        }
        let is_counter = fam.metric_type == MetricType::Counter;
        // In OpenMetrics the family name of a counter never carries `_total`; its samples do.
        if is_counter && format == Format::Text && !name.ends_with("_total") {
            add("counter metrics should have \"_total\" suffix".into());
        }
        if !is_counter && !untyped && name.ends_with("_total") {
            add("non-counter metrics should not have \"_total\" suffix".into());
        }
        let hist = matches!(
            fam.metric_type,
            MetricType::Histogram | MetricType::GaugeHistogram
        );
        let summ_or_hist = hist || fam.metric_type == MetricType::Summary;
        if !hist && !untyped && name.ends_with("_bucket") {
            add("non-histogram metrics should not have \"_bucket\" suffix".into());
        }
        for suffix in ["_count", "_sum"] {
            if !summ_or_hist && !untyped && name.ends_with(suffix) {
                add(format!(
                    "non-histogram and non-summary metrics should not have {suffix:?} suffix"
                ));
            }
        }
        if is_camel_case(name) {
            add("metric names should be written in 'snake_case' not 'camelCase'".into());
        }
        if fam
            .samples
            .iter()
            .flat_map(|s| s.labels.iter())
            .any(|(l, _)| is_camel_case(l))
        {
            add("label names should be written in 'snake_case' not 'camelCase'".into());
        }
        if name.contains(':') {
            add("metric names should not contain ':'".into());
        }
        for part in name.split('_') {
            if let Some((bad, base)) = UNITS.iter().find(|(u, _)| u.eq_ignore_ascii_case(part)) {
                add(format!("use base unit {base:?} instead of {bad:?}"));
            }
        }
        if !untyped {
            for t in ["counter", "gauge", "summary", "histogram", "gaugehistogram"] {
                let inner = format!("_{t}_");
                if name.contains(&inner) || name.strip_suffix(t).is_some_and(|p| p.ends_with('_')) {
                    add(format!("metric name should not include type '{t}'"));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<String> {
        let fams = kagari_exposition::parse_text(input.as_bytes()).unwrap_or_default();
        lint(&fams, Format::Text)
            .into_iter()
            .map(|p| format!("{} {}", p.metric, p.text))
            .collect()
    }

    #[test]
    fn finds_the_usual_problems() {
        let got = texts(
            "# TYPE reqs counter\nreqs 1\n# HELP fooBar x\n# TYPE fooBar gauge\nfooBar{someLabel=\"1\"} 1\n\
             # HELP latency_milliseconds x\n# TYPE latency_milliseconds gauge\nlatency_milliseconds 1\n",
        );
        assert!(
            got.contains(&"reqs counter metrics should have \"_total\" suffix".to_owned()),
            "{got:?}"
        );
        assert!(got.contains(&"reqs no help text".to_owned()));
        assert!(got
            .iter()
            .any(|g| g.starts_with("fooBar metric names should be written in 'snake_case'")));
        assert!(got.iter().any(|g| g.starts_with("fooBar label names")));
        assert!(got.contains(
            &"latency_milliseconds use base unit \"seconds\" instead of \"milliseconds\""
                .to_owned()
        ));
        assert!(texts("# HELP ok_total x\n# TYPE ok_total counter\nok_total 1\n").is_empty());
    }
}
