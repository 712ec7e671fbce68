//! Series lines of `load` blocks and expectations, read with the parser's
//! series-description parser ([`crate::parse_series_desc`]).

use kagari_model::Labels;

use crate::parser::{parse_series_desc, SequenceValue};

/// One position of an expanded series line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesValue {
    /// No sample at this position (`_`).
    Omitted,
    /// A float sample (staleness markers included).
    Float(f64),
    /// A native histogram sample (content not used: the engine does not support them).
    Histogram,
}

/// Whether a load line carries start timestamps (`series@st ...`), which are not supported.
pub(crate) fn is_start_timestamp_line(line: &str) -> bool {
    line.split([' ', '\t'])
        .next()
        .is_some_and(|w| w.ends_with("@st"))
}

/// Parses a series line into its labels and expanded values.
pub fn parse_series_line(line: &str) -> Result<(Labels, Vec<SeriesValue>), String> {
    let desc = parse_series_desc(line.trim()).map_err(|e| e.to_string())?;
    let values = desc
        .values
        .iter()
        .map(|v| match v {
            None => SeriesValue::Omitted,
            Some(SequenceValue::Float(f)) => SeriesValue::Float(*f),
            Some(SequenceValue::Histogram(_)) => SeriesValue::Histogram,
        })
        .collect();
    Ok((desc.labels, values))
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
        assert!(matches!(vals("a stale").as_slice(), [Float(f)] if is_stale(*f)));
        assert_eq!(
            vals("a {{schema:0 sum:1 buckets:[1 2]}}x1"),
            [Histogram, Histogram]
        );
        assert!(is_start_timestamp_line(r#"x{a="b"}@st _ -30s"#));
        assert!(!is_start_timestamp_line(r#"x{a="b"} 1"#));
    }

    #[test]
    fn labels() {
        let (l, _) = parse_series_line(r#"{__name__="x:y", a="b c"} 1"#).unwrap();
        assert_eq!(l.metric_name(), Some("x:y"));
        assert_eq!(l.get("a"), Some("b c"));
        let (l, _) = parse_series_line("{} 1").unwrap();
        assert!(l.is_empty());
    }
}
