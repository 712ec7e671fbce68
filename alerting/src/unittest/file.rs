//! The promtool rule unit-test file format, decoded strictly (unknown keys are errors).

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::UnitTestError;

/// A scalar that Go's YAML decoder would accept into a `string` field: a string, a number
/// or a boolean.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Scalar(pub(super) String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml_ng::Value::deserialize(d)? {
            serde_yaml_ng::Value::String(s) => Ok(Scalar(s)),
            serde_yaml_ng::Value::Number(n) => Ok(Scalar(n.to_string())),
            serde_yaml_ng::Value::Bool(b) => Ok(Scalar(b.to_string())),
            serde_yaml_ng::Value::Null => Ok(Scalar(String::new())),
            _ => Err(de::Error::custom(
                "cannot unmarshal a sequence or mapping into a string",
            )),
        }
    }
}

/// The top level of a test file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) rule_files: Vec<Scalar>,
    #[serde(default)]
    pub(super) evaluation_interval: Option<Scalar>,
    #[serde(default)]
    pub(super) group_eval_order: Vec<Scalar>,
    #[serde(default)]
    pub(super) fuzzy_compare: bool,
    #[serde(default)]
    pub(super) tests: Vec<RawTestGroup>,
}

/// One entry of `tests:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTestGroup {
    #[serde(default)]
    pub(super) interval: Option<Scalar>,
    #[serde(default)]
    pub(super) input_series: Vec<RawSeries>,
    #[serde(default)]
    pub(super) alert_rule_test: Vec<RawAlertTest>,
    #[serde(default)]
    pub(super) promql_expr_test: Vec<RawExprTest>,
    #[serde(default)]
    pub(super) external_labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub(super) external_url: Scalar,
    #[serde(default)]
    pub(super) name: Scalar,
    #[serde(default)]
    pub(super) start_timestamp: Option<Scalar>,
}

/// One `input_series` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeries {
    #[serde(default)]
    pub(super) series: Scalar,
    #[serde(default)]
    pub(super) values: Scalar,
}

/// One `alert_rule_test` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlertTest {
    #[serde(default)]
    pub(super) eval_time: Option<Scalar>,
    #[serde(default)]
    pub(super) alertname: Scalar,
    #[serde(default)]
    pub(super) exp_alerts: Vec<RawExpAlert>,
}

/// One expected alert.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpAlert {
    #[serde(default)]
    pub(super) exp_labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub(super) exp_annotations: BTreeMap<String, Scalar>,
}

/// One `promql_expr_test` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExprTest {
    #[serde(default)]
    pub(super) expr: Scalar,
    #[serde(default)]
    pub(super) eval_time: Option<Scalar>,
    #[serde(default)]
    pub(super) exp_samples: Vec<RawSample>,
}

/// One expected sample.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSample {
    #[serde(default)]
    pub(super) labels: Scalar,
    #[serde(default)]
    pub(super) value: f64,
    #[serde(default)]
    pub(super) histogram: Option<Scalar>,
}

/// Decodes a test file; errors read like Go's yaml.v2 `UnmarshalStrict`.
pub(super) fn decode(content: &str) -> Result<RawFile, UnitTestError> {
    let mut docs = serde_yaml_ng::Deserializer::from_str(content);
    let Some(doc) = docs.next() else {
        return Ok(RawFile::default());
    };
    match Option::<RawFile>::deserialize(doc) {
        Ok(f) => Ok(f.unwrap_or_default()),
        Err(e) => Err(UnitTestError::Yaml {
            message: go_yaml_message(&e),
        }),
    }
}

/// `yaml: unmarshal errors:\n  line N: field X not found in type main.T` for unknown fields,
/// serde's own message otherwise.
fn go_yaml_message(e: &serde_yaml_ng::Error) -> String {
    let msg = e.to_string();
    let line = e.location().map(|l| l.line());
    let field = msg
        .split_once("unknown field `")
        .and_then(|(_, r)| r.split_once('`'))
        .map(|(f, _)| f);
    if let (Some(f), Some(line)) = (field, line) {
        let path = msg.split_once(": unknown field").map_or("", |(p, _)| p);
        let last = path
            .rsplit('.')
            .next()
            .unwrap_or("")
            .split('[')
            .next()
            .unwrap_or("");
        let ty = match last {
            "tests" => "testGroup",
            "input_series" => "series",
            "alert_rule_test" => "alertTestCase",
            "exp_alerts" => "alert",
            "promql_expr_test" => "promqlTestCase",
            "exp_samples" => "sample",
            _ => "unitTestFile",
        };
        return format!(
            "yaml: unmarshal errors:\n  line {line}: field {f} not found in type main.{ty}"
        );
    }
    // `invalid type: string "x", expected f64` is Go's "cannot unmarshal !!str `x` into float64".
    let bad_float = msg
        .split_once("invalid type: string \"")
        .and_then(|(_, r)| r.split_once("\", expected f64"))
        .map(|(v, _)| v);
    if let (Some(v), Some(line)) = (bad_float, line) {
        return format!(
            "yaml: unmarshal errors:\n  line {line}: cannot unmarshal !!str `{v}` into float64"
        );
    }
    format!("yaml: {msg}")
}

/// Parses a Prometheus duration (`model.Duration`), in ms.
pub(super) fn duration(s: &Scalar) -> Result<i64, UnitTestError> {
    kagari_promql::parse_duration(&s.0).map_err(|_| UnitTestError::Yaml {
        message: format!(
            "not a valid duration string: {}",
            kagari_model::quote_go(&s.0)
        ),
    })
}

/// Parses `start_timestamp`: Unix seconds (possibly fractional) or RFC 3339, in ms.
pub(super) fn start_timestamp(s: &Scalar) -> Result<i64, UnitTestError> {
    let bad = || UnitTestError::Yaml {
        message: format!(
            "start_timestamp: cannot parse {} as unix seconds or RFC 3339",
            kagari_model::quote_go(&s.0)
        ),
    };
    if let Ok(secs) = s.0.trim().parse::<f64>() {
        if secs.is_finite() {
            return Ok((secs * 1000.0).round() as i64);
        }
        return Err(bad());
    }
    rfc3339_ms(s.0.trim()).ok_or_else(bad)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix ms.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let num = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok());
    let b = s.as_bytes();
    if b.len() < 20 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = s.get(start..i)?;
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        frac_ms = padded.parse().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() => {
            let oh = num(i + 1, i + 3)?;
            let om = num(i + 4, i + 6)?;
            let sign = if *c == b'-' { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + frac_ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("2020-09-13T12:26:40Z"), Some(1_600_000_000_000));
        assert_eq!(
            rfc3339_ms("2020-09-13T14:26:40.5+02:00"),
            Some(1_600_000_000_500)
        );
        assert_eq!(rfc3339_ms("2020-09-13"), None);
    }

    #[test]
    fn unknown_field_names_go_type() {
        let e = decode("tests:\n  - input_series:\n      - series: a\n        valuez: '1'\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 4: field valuez not found in type main.series"
        );
        let e = decode("bogus: 1\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 1: field bogus not found in type main.unitTestFile"
        );
    }

    #[test]
    fn bad_floats_read_like_go() {
        let e = decode(
            "tests:\n  - promql_expr_test:\n      - exp_samples:\n          - value: -Inf\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `-Inf` into float64"
        );
    }

    #[test]
    fn scalars_accept_numbers() {
        let f =
            decode("evaluation_interval: 0\ntests:\n  - alert_rule_test:\n      - alertname: 5\n")
                .unwrap();
        assert_eq!(f.evaluation_interval, Some(Scalar("0".into())));
        assert_eq!(f.tests[0].alert_rule_test[0].alertname.0, "5");
    }
}
