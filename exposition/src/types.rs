//! Small shared types: [`Format`], [`MetricType`], [`Value`], [`Timestamp`].

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text format.
    OpenMetrics,
}

impl Format {
    /// The HTTP `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// A metric family type (the OpenMetrics set; 0.0.4 `untyped` is [`MetricType::Unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics only).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics only).
    Info,
    /// `stateset` (OpenMetrics only).
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in 0.0.4.
    Unknown,
}

impl MetricType {
    /// Parses an OpenMetrics type word.
    pub fn from_openmetrics(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Parses a 0.0.4 type word (case-insensitive, and `gauge_histogram` too, as the Go parser
    /// does).
    pub fn from_text(s: &str) -> Option<MetricType> {
        let t = |w: &str| s.eq_ignore_ascii_case(w);
        Some(if t("counter") {
            MetricType::Counter
        } else if t("gauge") {
            MetricType::Gauge
        } else if t("histogram") {
            MetricType::Histogram
        } else if t("summary") {
            MetricType::Summary
        } else if t("gauge_histogram") {
            MetricType::GaugeHistogram
        } else if t("untyped") {
            MetricType::Unknown
        } else {
            return None;
        })
    }

    /// The OpenMetrics spelling.
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The sample-name suffixes OpenMetrics allows for a family of this type.
    pub fn openmetrics_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Histogram => &["_count", "_sum", "_bucket", "_created"],
            MetricType::GaugeHistogram => &["_gcount", "_gsum", "_bucket"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }
}

/// A sample value for the streaming [`Encoder`](crate::Encoder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A float, written Go-style (`+Inf`, `-Inf`, `NaN`, shortest round-trip).
    Float(f64),
    /// A signed integer, written exactly.
    Int(i64),
    /// An unsigned integer, written exactly.
    UInt(u64),
}

/// A sample timestamp as the input wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timestamp {
    /// 0.0.4: integer milliseconds since the epoch.
    Millis(i64),
    /// OpenMetrics: (possibly fractional) seconds since the epoch.
    Seconds(f64),
}

impl Timestamp {
    /// Milliseconds since the epoch (rounded for fractional seconds, saturating).
    pub fn as_millis(self) -> i64 {
        match self {
            Timestamp::Millis(ms) => ms,
            // `as` saturates for out-of-range floats.
            Timestamp::Seconds(s) => (s * 1000.0).round() as i64,
        }
    }

    /// Seconds since the epoch.
    pub fn as_seconds(self) -> f64 {
        match self {
            Timestamp::Millis(ms) => ms as f64 / 1000.0,
            Timestamp::Seconds(s) => s,
        }
    }
}
