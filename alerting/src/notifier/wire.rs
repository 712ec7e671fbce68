//! The Alertmanager API v2 request body: a JSON array of `{labels, annotations, startsAt,
//! endsAt, generatorURL}`, times as RFC 3339 with milliseconds (go-openapi `DateTime`).

use kagari_model::Timestamp;

use crate::rules::NotifierAlert;

/// Go's zero time as `strfmt.DateTime` prints it (an unset `startsAt`).
const ZERO_TIME: &str = "0001-01-01T00:00:00.000Z";

/// `ms` since the epoch as `2006-01-02T15:04:05.000Z` (UTC).
pub(crate) fn datetime(ms: Option<Timestamp>) -> String {
    match ms {
        None => ZERO_TIME.to_string(),
        Some(ms) => crate::template::timefmt::format(
            i128::from(ms) * 1_000_000,
            "2006-01-02T15:04:05.000Z07:00",
        ),
    }
}

use kagari_model::push_json_string_go as push_str;

fn push_map<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push('{');
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        push_str(out, v);
    }
    out.push('}');
}

/// The request body for `alerts`.
pub(crate) fn encode(alerts: &[NotifierAlert]) -> String {
    let mut out = String::with_capacity(alerts.len() * 256 + 2);
    out.push('[');
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"annotations\":");
        push_map(
            &mut out,
            a.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        out.push_str(",\"endsAt\":");
        push_str(&mut out, &datetime(a.ends_at));
        out.push_str(",\"generatorURL\":");
        push_str(&mut out, &a.generator_url);
        out.push_str(",\"labels\":");
        push_map(
            &mut out,
            a.labels.iter().map(|l| (l.name.as_ref(), l.value.as_ref())),
        );
        out.push_str(",\"startsAt\":");
        push_str(&mut out, &datetime(a.starts_at));
        out.push('}');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::Labels;

    #[test]
    fn body_matches_the_api_v2_shape() {
        let a = NotifierAlert {
            labels: Labels::from_pairs([("alertname", "X"), ("job", "a\"b")]).unwrap(),
            annotations: [("summary".to_string(), "x < 1 & y".to_string())].into(),
            starts_at: Some(1_714_557_960_000),
            ends_at: Some(1_714_558_200_123),
            generator_url: "http://p/graph?g0.expr=up&g0.tab=1".into(),
        };
        let body = encode(&[
            a.clone(),
            NotifierAlert {
                starts_at: None,
                ..a
            },
        ]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["labels"]["job"], "a\"b");
        assert_eq!(v[0]["annotations"]["summary"], "x < 1 & y");
        assert_eq!(v[0]["startsAt"], "2024-05-01T10:06:00.000Z");
        assert_eq!(v[0]["endsAt"], "2024-05-01T10:10:00.123Z");
        assert_eq!(v[1]["startsAt"], ZERO_TIME);
        assert!(body.contains("\\u0026g0.tab=1"), "{body}");
        assert!(body.contains("x \\u003c 1"), "{body}");
    }
}
