//! The streaming [`Encoder`] for both formats.

use std::io::{self, Write};

use crate::escape::{write_help, write_label_value};
use crate::number::format_float;
use crate::{Format, MetricType, Value};

pub use crate::families_encode::encode_families;

/// An exemplar to attach to a sample (OpenMetrics only).
#[derive(Debug, Clone, Copy)]
pub struct Exemplar<'a> {
    /// Exemplar labels.
    pub labels: &'a [(&'a str, &'a str)],
    /// Exemplar value.
    pub value: f64,
    /// Exemplar timestamp in seconds.
    pub timestamp_seconds: Option<f64>,
}

/// Streaming encoder; writes straight into `W`, no allocation per sample.
///
/// ```
/// use kagari_exposition::{Encoder, Format, MetricType, Value};
///
/// let mut enc = Encoder::new(Vec::new(), Format::OpenMetrics);
/// enc.family("requests", MetricType::Counter, "Requests.", None)?;
/// enc.sample("_total", [("path", "/")], None, Value::UInt(7), None, None)?;
/// let out = enc.finish()?;
/// assert_eq!(
///     String::from_utf8_lossy(&out),
///     "# HELP requests Requests.\n# TYPE requests counter\nrequests_total{path=\"/\"} 7\n# EOF\n"
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Encoder<W: Write> {
    w: W,
    format: Format,
    /// Name prefix of the current family's samples.
    name: String,
}

impl<W: Write> Encoder<W> {
    /// An encoder writing `format` into `writer`.
    pub fn new(writer: W, format: Format) -> Self {
        Encoder {
            w: writer,
            format,
            name: String::new(),
        }
    }

    /// Starts a family. `name` is the OpenMetrics family name: for a counter it is without
    /// `_total` (the Text encoder writes HELP/TYPE as `<name>_total`; Info becomes a gauge named
    /// `<name>_info`; StateSet becomes a gauge and GaugeHistogram a histogram). `help` is
    /// written only if non-empty; `unit` only in OpenMetrics.
    pub fn family(
        &mut self,
        name: &str,
        metric_type: MetricType,
        help: &str,
        unit: Option<&str>,
    ) -> io::Result<()> {
        self.name.clear();
        self.name.push_str(name);
        let w = &mut self.w;
        match self.format {
            Format::Text => {
                let (suffix, word) = match metric_type {
                    MetricType::Counter => ("_total", "counter"),
                    MetricType::Gauge | MetricType::StateSet => ("", "gauge"),
                    MetricType::Info => ("_info", "gauge"),
                    MetricType::Histogram | MetricType::GaugeHistogram => ("", "histogram"),
                    MetricType::Summary => ("", "summary"),
                    MetricType::Unknown => ("", "untyped"),
                };
                if !help.is_empty() {
                    write!(w, "# HELP {name}{suffix} ")?;
                    write_help(w, help, Format::Text)?;
                    w.write_all(b"\n")?;
                }
                writeln!(w, "# TYPE {name}{suffix} {word}")
            }
            Format::OpenMetrics => {
                if !help.is_empty() {
                    write!(w, "# HELP {name} ")?;
                    write_help(w, help, Format::OpenMetrics)?;
                    w.write_all(b"\n")?;
                }
                writeln!(w, "# TYPE {name} {}", metric_type.as_openmetrics())?;
                match unit {
                    Some(u) if !u.is_empty() => writeln!(w, "# UNIT {name} {u}"),
                    _ => Ok(()),
                }
            }
        }
    }

    /// One sample line of the current family:
    /// `<name><suffix>{labels..., extra} value [ts] [# exemplar]`. `extra` is a trailing label
    /// holding a float (`le`, `quantile`). In Text, `_created` samples are skipped and
    /// exemplars dropped; timestamps are ms in Text and seconds in OpenMetrics.
    pub fn sample<'l>(
        &mut self,
        suffix: &str,
        labels: impl IntoIterator<Item = (&'l str, &'l str)>,
        extra: Option<(&str, f64)>,
        value: Value,
        timestamp_ms: Option<i64>,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()> {
        if self.format == Format::Text && suffix == "_created" {
            return Ok(());
        }
        let w = &mut self.w;
        w.write_all(self.name.as_bytes())?;
        w.write_all(suffix.as_bytes())?;
        let extra = extra.map(|(n, v)| (n, format_float(v)));
        write_labels_extra(w, labels, extra.as_ref().map(|(n, v)| (*n, v.as_str())))?;
        w.write_all(b" ")?;
        write_value(w, value)?;
        if let Some(ts) = timestamp_ms {
            w.write_all(b" ")?;
            match self.format {
                Format::Text => write!(w, "{ts}")?,
                Format::OpenMetrics => write_millis_as_seconds(w, ts)?,
            }
        }
        if let (Format::OpenMetrics, Some(ex)) = (self.format, exemplar) {
            write_exemplar(w, ex.labels.iter().copied(), ex.value, ex.timestamp_seconds)?;
        }
        w.write_all(b"\n")
    }

    /// Ends the exposition (`# EOF\n` in OpenMetrics) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == Format::OpenMetrics {
            self.w.write_all(b"# EOF\n")?;
        }
        Ok(self.w)
    }
}

/// Writes `{a="1",b="2"}`, or nothing for an empty set.
pub(crate) fn write_labels<'l, W: Write>(
    w: &mut W,
    labels: impl IntoIterator<Item = (&'l str, &'l str)>,
) -> io::Result<()> {
    write_labels_extra(w, labels, None)
}

/// Writes the label set plus an optional trailing label.
fn write_labels_extra<'l, W: Write>(
    w: &mut W,
    labels: impl IntoIterator<Item = (&'l str, &'l str)>,
    extra: Option<(&str, &str)>,
) -> io::Result<()> {
    let mut first = true;
    let mut put = |w: &mut W, n: &str, v: &str| -> io::Result<()> {
        w.write_all(if first { b"{" } else { b"," })?;
        first = false;
        w.write_all(n.as_bytes())?;
        w.write_all(b"=\"")?;
        write_label_value(w, v)?;
        w.write_all(b"\"")
    };
    for (n, v) in labels {
        put(w, n, v)?;
    }
    if let Some((n, v)) = extra {
        put(w, n, v)?;
    }
    if !first {
        w.write_all(b"}")?;
    }
    Ok(())
}

pub(crate) fn write_value<W: Write>(w: &mut W, v: Value) -> io::Result<()> {
    match v {
        Value::Float(f) => w.write_all(format_float(f).as_bytes()),
        Value::Int(i) => write!(w, "{i}"),
        Value::UInt(u) => write!(w, "{u}"),
    }
}

pub(crate) fn write_float<W: Write>(w: &mut W, v: f64) -> io::Result<()> {
    w.write_all(format_float(v).as_bytes())
}

/// Writes a timestamp in seconds in plain decimal (shortest round-trip, never exponent form:
/// prometheus_client mis-handles exponent-form timestamps).
pub(crate) fn write_seconds<W: Write>(w: &mut W, s: f64) -> io::Result<()> {
    write!(w, "{s}")
}

/// Writes integer milliseconds as exact decimal seconds (`1700000000.123`).
pub(crate) fn write_millis_as_seconds<W: Write>(w: &mut W, ms: i64) -> io::Result<()> {
    let abs = ms.unsigned_abs();
    let sign = if ms < 0 { "-" } else { "" };
    let (secs, frac) = (abs / 1000, abs % 1000);
    if frac == 0 {
        write!(w, "{sign}{secs}")
    } else {
        // Trailing zeros trimmed: 1500 ms is `1.5`.
        let (mut frac, mut width) = (frac, 3);
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        write!(w, "{sign}{secs}.{frac:0width$}")
    }
}

/// Writes ` # {labels} value [ts]`.
pub(crate) fn write_exemplar<'l, W: Write>(
    w: &mut W,
    labels: impl IntoIterator<Item = (&'l str, &'l str)>,
    value: f64,
    ts: Option<f64>,
) -> io::Result<()> {
    w.write_all(b" # ")?;
    let mut labels = labels.into_iter().peekable();
    if labels.peek().is_none() {
        w.write_all(b"{}")?;
    } else {
        write_labels(w, labels)?;
    }
    w.write_all(b" ")?;
    write_float(w, value)?;
    if let Some(ts) = ts {
        w.write_all(b" ")?;
        write_seconds(w, ts)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Encoder<Vec<u8>>) -> io::Result<()>) -> (String, String) {
        let run = |format| {
            let mut enc = Encoder::new(Vec::new(), format);
            f(&mut enc).unwrap_or_default();
            String::from_utf8(enc.finish().unwrap_or_default()).unwrap_or_default()
        };
        (run(Format::Text), run(Format::OpenMetrics))
    }

    #[test]
    fn counter_with_created_and_exemplar() {
        let ex = Exemplar {
            labels: &[("trace_id", "abc")],
            value: 0.5,
            timestamp_seconds: Some(1.25),
        };
        let (text, om) = both(|e| {
            e.family(
                "req",
                MetricType::Counter,
                "Requests \"all\"\nof them\\.",
                None,
            )?;
            e.sample(
                "_total",
                [("a", "x\"y")],
                None,
                Value::Float(3.0),
                Some(1_500),
                Some(&ex),
            )?;
            e.sample(
                "_created",
                [("a", "x\"y")],
                None,
                Value::Float(1.7e9),
                Some(1_500),
                None,
            )
        });
        assert_eq!(
            text,
            "# HELP req_total Requests \"all\"\\nof them\\\\.\n# TYPE req_total counter\n\
             req_total{a=\"x\\\"y\"} 3 1500\n"
        );
        assert_eq!(
            om,
            "# HELP req Requests \\\"all\\\"\\nof them\\\\.\n# TYPE req counter\n\
             req_total{a=\"x\\\"y\"} 3 1.5 # {trace_id=\"abc\"} 0.5 1.25\n\
             req_created{a=\"x\\\"y\"} 1.7e+09 1.5\n# EOF\n"
        );
    }

    #[test]
    fn openmetrics_only_types_map_to_text_types() {
        let (text, om) = both(|e| {
            e.family("build", MetricType::Info, "", None)?;
            e.sample("_info", [("v", "1")], None, Value::Int(1), None, None)?;
            e.family("state", MetricType::StateSet, "", None)?;
            e.sample("", [("state", "ok")], None, Value::Int(1), None, None)?;
            e.family("q", MetricType::GaugeHistogram, "", Some("bytes"))?;
            e.sample(
                "_bucket",
                [],
                Some(("le", f64::INFINITY)),
                Value::UInt(2),
                None,
                None,
            )?;
            e.sample("_gcount", [], None, Value::UInt(2), Some(-1_500), None)
        });
        assert_eq!(
            text,
            "# TYPE build_info gauge\nbuild_info{v=\"1\"} 1\n# TYPE state gauge\n\
             state{state=\"ok\"} 1\n# TYPE q histogram\nq_bucket{le=\"+Inf\"} 2\nq_gcount 2 -1500\n"
        );
        assert_eq!(
            om,
            "# TYPE build info\nbuild_info{v=\"1\"} 1\n# TYPE state stateset\nstate{state=\"ok\"} 1\n\
             # TYPE q gaugehistogram\n# UNIT q bytes\nq_bucket{le=\"+Inf\"} 2\nq_gcount 2 -1.5\n# EOF\n"
        );
    }
}
