//! Content negotiation: picks a [`Format`] from an HTTP `Accept` header.

use crate::Format;

/// Picks the format from an HTTP `Accept` header as Prometheus's Go client does: the ranges are
/// taken by descending q-value (header order on ties) and the first that names
/// `application/openmetrics-text` (version `1.0.0`, `0.0.1` or none) or `text/plain` (version
/// `0.0.4` or none) wins; wildcards and other types are skipped; with no match the answer is
/// [`Format::Text`]. Unlike Go, ranges with `q=0` ("not acceptable") are never chosen.
///
/// ```
/// use kagari_exposition::{negotiate, Format};
/// assert_eq!(negotiate(Some("application/openmetrics-text;version=1.0.0")), Format::OpenMetrics);
/// assert_eq!(negotiate(Some("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.4")), Format::Text);
/// assert_eq!(negotiate(None), Format::Text);
/// ```
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    let mut best: Option<(f64, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let mut q = 1.0_f64;
        let mut version: Option<&str> = None;
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            if k.eq_ignore_ascii_case("q") {
                q = v.parse().unwrap_or(0.0);
            } else if k.eq_ignore_ascii_case("version") {
                version = Some(v);
            }
        }
        if q <= 0.0 || q.is_nan() {
            continue;
        }
        let format = if media.eq_ignore_ascii_case("application/openmetrics-text")
            && matches!(version, None | Some("1.0.0") | Some("0.0.1"))
        {
            Format::OpenMetrics
        } else if media.eq_ignore_ascii_case("text/plain")
            && matches!(version, None | Some("0.0.4"))
        {
            Format::Text
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Text, |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_table() {
        let om = Format::OpenMetrics;
        let text = Format::Text;
        for (accept, want) in [
            ("application/openmetrics-text; version=1.0.0; charset=utf-8", om),
            ("application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", om),
            ("application/openmetrics-text;version=2.0.0", text),
            ("application/openmetrics-text;q=0", text),
            ("text/plain;q=0.9,application/openmetrics-text;q=0.8", text),
            ("application/openmetrics-text;q=0.3,text/plain;q=0.9", text),
            ("application/json", text),
            ("*/*", text),
            ("*/*;q=0.9,application/openmetrics-text;q=0.5", om),
            ("", text),
        ] {
            assert_eq!(negotiate(Some(accept)), want, "{accept}");
        }
    }
}
