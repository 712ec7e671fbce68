//! JSON encoding of API values exactly as Prometheus writes them: float values as strings
//! (Go's shortest `'f'`/`'e'` forms), timestamps as seconds with a 3-digit millisecond part,
//! label sets as sorted objects.

use std::fmt::Write;

use kagari_model::Labels;
use kagari_promql::engine::Value;

/// Appends `s` as a JSON string literal.
pub(crate) use kagari_model::push_json_string_go as push_str;

/// Go's `strconv.FormatFloat(f, 'e', -1, 64)` layout from Rust's shortest `{:e}`.
fn push_exp(out: &mut String, f: f64) {
    let s = format!("{f:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    out.push_str(mant);
    out.push('e');
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    out.push(sign);
    if digits.len() < 2 {
        out.push('0');
    }
    out.push_str(digits);
}

fn push_special(out: &mut String, f: f64) -> bool {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f == f64::INFINITY {
        out.push_str("+Inf");
    } else if f == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        return false;
    }
    true
}

/// Appends a sample value as a JSON string (`jsonutil.MarshalFloat`).
pub(crate) fn push_float(out: &mut String, f: f64) {
    out.push('"');
    if !push_special(out, f) {
        let a = f.abs();
        if a != 0.0 && !(1e-6..1e21).contains(&a) {
            push_exp(out, f);
        } else {
            let _ = write!(out, "{f}");
        }
    }
    out.push('"');
}

/// Appends a scalar result's value (`'f'` format, never an exponent).
fn push_scalar_float(out: &mut String, f: f64) {
    out.push('"');
    if !push_special(out, f) {
        let _ = write!(out, "{f}");
    }
    out.push('"');
}

/// Appends a millisecond timestamp as seconds: `1435781451.780`, `1435781451`.
pub(crate) fn push_ts(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let a = t.unsigned_abs();
    let _ = write!(out, "{}", a / 1000);
    if a % 1000 != 0 {
        let _ = write!(out, ".{:03}", a % 1000);
    }
}

/// Appends a scalar/string result's timestamp (a plain float of seconds).
fn push_float_ts(out: &mut String, t: i64) {
    let _ = write!(out, "{}", t as f64 / 1000.0);
}

/// Appends a label set as a JSON object.
pub(crate) fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, &l.name);
        out.push(':');
        push_str(out, &l.value);
    }
    out.push('}');
}

/// Appends `["a","b"]`.
pub(crate) fn push_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, s.as_ref());
    }
    out.push(']');
}

/// Appends `{"resultType":…,"result":…}` for a query result.
pub(crate) fn push_query_data(out: &mut String, v: &Value) {
    out.push_str("{\"resultType\":");
    push_str(out, v.type_name());
    out.push_str(",\"result\":");
    match v {
        Value::Scalar { t, f } => {
            out.push('[');
            push_float_ts(out, *t);
            out.push(',');
            push_scalar_float(out, *f);
            out.push(']');
        }
        Value::String { t, s } => {
            out.push('[');
            push_float_ts(out, *t);
            out.push(',');
            push_str(out, s);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push('[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &s.metric);
                out.push_str(",\"value\":[");
                push_ts(out, s.t);
                out.push(',');
                push_float(out, s.f);
                out.push_str("]}");
            }
            out.push(']');
        }
        Value::Matrix(series) => {
            out.push('[');
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &s.metric);
                if !s.floats.is_empty() {
                    out.push_str(",\"values\":[");
                    for (j, p) in s.floats.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        out.push('[');
                        push_ts(out, p.t);
                        out.push(',');
                        push_float(out, p.f);
                        out.push(']');
                    }
                    out.push(']');
                }
                out.push('}');
            }
            out.push(']');
        }
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut s = String::new();
        push_float(&mut s, f);
        s
    }

    fn ts(t: i64) -> String {
        let mut s = String::new();
        push_ts(&mut s, t);
        s
    }

    #[test]
    fn floats_like_go_marshal_float() {
        let cases: &[(f64, &str)] = &[
            (1.0, "\"1\""),
            (0.1, "\"0.1\""),
            (1234567.5, "\"1234567.5\""),
            (1e20, "\"100000000000000000000\""),
            (1e21, "\"1e+21\""),
            (1.5e-7, "\"1.5e-07\""),
            (-0.000001, "\"-0.000001\""),
            (0.0, "\"0\""),
            (-0.0, "\"-0\""),
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"+Inf\""),
            (f64::NEG_INFINITY, "\"-Inf\""),
            (1.2345e100, "\"1.2345e+100\""),
        ];
        for (f, want) in cases {
            assert_eq!(float(*f), *want, "{f}");
        }
    }

    #[test]
    fn timestamps_keep_three_fraction_digits() {
        assert_eq!(ts(1_435_781_451_781), "1435781451.781");
        assert_eq!(ts(1_435_781_451_780), "1435781451.780");
        assert_eq!(ts(1_435_781_451_050), "1435781451.050");
        assert_eq!(ts(1_435_781_451_000), "1435781451");
        assert_eq!(ts(-1_500), "-1.500");
    }

    #[test]
    fn scalar_and_vector_shapes() {
        let mut s = String::new();
        push_query_data(&mut s, &Value::Scalar { t: 4000, f: 2.0 });
        assert_eq!(s, r#"{"resultType":"scalar","result":[4,"2"]}"#);
        let mut s = String::new();
        push_query_data(&mut s, &Value::Scalar { t: 1781, f: 1e21 });
        assert_eq!(
            s,
            r#"{"resultType":"scalar","result":[1.781,"1000000000000000000000"]}"#
        );
        let mut s = String::new();
        push_query_data(&mut s, &Value::Vector(vec![]));
        assert_eq!(s, r#"{"resultType":"vector","result":[]}"#);
        let mut s = String::new();
        let up = Labels::from_pairs([("__name__", "up"), ("job", "a<b")]).unwrap();
        push_query_data(
            &mut s,
            &Value::Vector(vec![kagari_promql::engine::Sample {
                metric: up,
                t: 1_700_000_000_000,
                f: 1.0,
                drop_name: false,
            }]),
        );
        assert_eq!(
            s,
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\u003cb"},"value":[1700000000,"1"]}]}"#
        );
    }
}
