//! Request parameters: the merged GET/form-POST multimap, and the API's time, duration and
//! limit syntaxes (`parseTime`, `parseDuration` of Prometheus's `web/api/v1/api.go`).

use axum::http::{header, HeaderMap};

use super::time::{parse_rfc3339_ms, MAX_TIME, MIN_TIME};

/// All parameters of a request: form body values first, then URL values (Go's `FormValue`
/// semantics: the body wins for single-valued parameters, `[]` parameters collect all).
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Collects the body (only for `application/x-www-form-urlencoded`) and the query string.
    pub(crate) fn from_request(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Params {
        let mut out = Vec::new();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if is_form {
            out.extend(form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = query {
            out.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Params(out)
    }

    /// The first value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or `""`.
    pub(crate) fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Every value of `name`.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `<rfc3339 | unix_timestamp>` to milliseconds.
pub(crate) fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {s:?} to a valid timestamp");
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(bad());
        }
        let secs = f.trunc();
        let ms = ((f - secs) * 1000.0).round();
        // Saturating float-to-int casts clamp huge values (Grafana sends milliseconds).
        let t = (secs as i64).saturating_mul(1000).saturating_add(ms as i64);
        return Ok(t);
    }
    if let Some(t) = parse_rfc3339_ms(s) {
        return Ok(t);
    }
    if s == "292277025-08-18T07:12:54.999999999Z" {
        return Ok(MAX_TIME);
    }
    if s == "-292273086-05-16T16:47:06Z" {
        return Ok(MIN_TIME);
    }
    Err(bad())
}

/// An optional time parameter: absent or empty gives `default`.
pub(crate) fn time_or(p: &Params, name: &str, default: i64) -> Result<i64, String> {
    match p.get(name) {
        None | Some("") => Ok(default),
        Some(v) => parse_time(v).map_err(|e| {
            format!("invalid parameter {name:?}: invalid time value for '{name}': {e}")
        }),
    }
}

/// A required time parameter.
pub(crate) fn time_required(p: &Params, name: &str) -> Result<i64, String> {
    parse_time(p.value(name)).map_err(|e| format!("invalid parameter {name:?}: {e}"))
}

/// Parses `<duration | float seconds>` to milliseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ns = f * 1e9;
        if !ns.is_finite() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    kagari_promql::parse_duration(s).map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

/// `limit`: empty → 0 (no limit); negative → error.
pub(crate) fn limit(p: &Params) -> Result<usize, String> {
    let s = p.value("limit");
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s
        .parse()
        .map_err(|_| format!("invalid parameter \"limit\": cannot parse {s:?} to an integer"))?;
    usize::try_from(n).map_err(|_| "limit must be non-negative".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str, query: &str) -> Params {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        Params::from_request(&h, Some(query), body.as_bytes())
    }

    #[test]
    fn body_wins_and_repeated_params_collect() {
        let p = params("query=a&match%5B%5D=x", "query=b&match[]=y");
        assert_eq!(p.get("query"), Some("a"));
        assert_eq!(p.all("match[]").collect::<Vec<_>>(), ["x", "y"]);
        let p = Params::from_request(&HeaderMap::new(), Some("query=b"), b"query=a");
        assert_eq!(p.get("query"), Some("b"), "non-form bodies are ignored");
    }

    #[test]
    fn times_parse_like_prometheus() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1435781451", Some(1_435_781_451_000)),
            ("1435781451.781", Some(1_435_781_451_781)),
            ("1.4e9", Some(1_400_000_000_000)),
            ("-5", Some(-5_000)),
            ("2015-07-01T20:10:51.781Z", Some(1_435_781_451_781)),
            ("2015-07-01T22:10:51+02:00", Some(1_435_781_451_000)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("292277025-08-18T07:12:54.999999999Z", Some(MAX_TIME)),
            ("abc", None),
            ("", None),
            ("NaN", None),
            ("2015-13-01T00:00:00Z", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time(s).ok(), *want, "{s}");
        }
        assert_eq!(
            parse_time("x").unwrap_err(),
            "cannot parse \"x\" to a valid timestamp"
        );
    }

    #[test]
    fn durations_parse_like_prometheus() {
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("15"), Ok(15_000));
        assert_eq!(parse_duration("0.5"), Ok(500));
        assert!(parse_duration("30m1h").is_err());
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("1e300").is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(&params("", "")), Ok(0));
        assert_eq!(limit(&params("", "limit=3")), Ok(3));
        assert!(limit(&params("", "limit=-1")).is_err());
        assert!(limit(&params("", "limit=x")).is_err());
    }
}
