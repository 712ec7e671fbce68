//! WAL record codecs, byte-compatible with Prometheus's `tsdb/record` (see
//! `docs/format/wal.md`): series, samples, tombstones, exemplars, mmap markers, metadata and
//! native histogram samples.
//!
//! Encoders append to a caller-owned `Vec<u8>` and decoders append to a caller-owned
//! `Vec<T>`, so a replay loop reuses its buffers and allocates nothing per sample.
//!
//! ```
//! use kagari_model::Labels;
//! use kagari_tsdb::record::{self, RefSample, RefSeries};
//!
//! let mut buf = Vec::new();
//! let labels = Labels::from_pairs([("__name__", "up")]).unwrap();
//! let series = [RefSeries { series_ref: 1, labels }];
//! record::encode_series(&series, &mut buf);
//! let mut out = Vec::new();
//! record::decode_series(&buf, &mut out).unwrap();
//! assert_eq!(out, series);
//!
//! buf.clear();
//! record::encode_samples(&[RefSample { series_ref: 1, t: 1000, v: 1.0 }], &mut buf);
//! assert_eq!(record::RecordType::of(&buf), record::RecordType::Samples);
//! ```

mod buf;
mod codec;
mod histogram;

use kagari_model::Labels;

pub use codec::{
    decode, decode_exemplars, decode_metadata, decode_mmap_markers, decode_samples, decode_series,
    decode_tombstones, encode_exemplars, encode_metadata, encode_mmap_markers, encode_samples,
    encode_series, encode_tombstones, SamplesEncoder,
};
pub use histogram::{
    decode_float_histogram_samples, decode_histogram_samples, encode_float_histogram_samples,
    encode_histogram_samples, FloatHistogram, Histogram, RefFloatHistogramSample,
    RefHistogramSample, Span,
};

/// A head series reference: the number space of WAL series records (≥ 1).
pub type HeadSeriesRef = u64;

/// The type of a record: its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// 1: series definitions.
    Series,
    /// 2: float samples.
    Samples,
    /// 3: deleted intervals.
    Tombstones,
    /// 4: exemplars.
    Exemplars,
    /// 5: out-of-order mmap markers (WBL only).
    MmapMarkers,
    /// 6: metric metadata.
    Metadata,
    /// 7: integer native histogram samples.
    HistogramSamples,
    /// 8: float native histogram samples.
    FloatHistogramSamples,
    /// Any other byte (Prometheus skips these), or an empty record (0).
    Unknown(u8),
}

impl RecordType {
    /// The type of `record` (its first byte; [`RecordType::Unknown`]`(0)` if empty).
    pub fn of(record: &[u8]) -> RecordType {
        RecordType::from_byte(record.first().copied().unwrap_or(0))
    }

    /// Maps a type byte.
    pub fn from_byte(b: u8) -> RecordType {
        match b {
            1 => RecordType::Series,
            2 => RecordType::Samples,
            3 => RecordType::Tombstones,
            4 => RecordType::Exemplars,
            5 => RecordType::MmapMarkers,
            6 => RecordType::Metadata,
            7 => RecordType::HistogramSamples,
            8 => RecordType::FloatHistogramSamples,
            other => RecordType::Unknown(other),
        }
    }

    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            RecordType::Series => 1,
            RecordType::Samples => 2,
            RecordType::Tombstones => 3,
            RecordType::Exemplars => 4,
            RecordType::MmapMarkers => 5,
            RecordType::Metadata => 6,
            RecordType::HistogramSamples => 7,
            RecordType::FloatHistogramSamples => 8,
            RecordType::Unknown(b) => b,
        }
    }
}

/// Why a record did not decode (carried by [`crate::Error::Record`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordErrorKind {
    /// The record ends in the middle of an entry.
    #[error("unexpected end of record")]
    UnexpectedEnd,
    /// A varint is longer than 10 bytes or overflows 64 bits.
    #[error("varint overflows 64 bits")]
    VarintOverflow,
    /// A string is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A label name appears twice in one label set.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// The record's type byte is not the one the decoder handles.
    #[error("expected record type {expected}")]
    WrongType {
        /// The type byte the decoder expected.
        expected: u8,
    },
}

/// One series definition: a head ref and its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSeries {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// The series' labels.
    pub labels: Labels,
}

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// Value (bit pattern preserved, including stale-marker NaNs).
    pub v: f64,
}

/// A closed interval `[mint, maxt]` of deleted samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// First deleted timestamp (inclusive).
    pub mint: i64,
    /// Last deleted timestamp (inclusive).
    pub maxt: i64,
}

/// Deleted intervals of one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stone {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Deleted intervals (on disk, one entry per interval).
    pub intervals: Vec<Interval>,
}

/// One exemplar of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct RefExemplar {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// Value.
    pub v: f64,
    /// Exemplar labels (e.g. `trace_id`).
    pub labels: Labels,
}

/// An out-of-order mmap marker (WBL): the series' OOO samples so far are in `mmap_ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefMmapMarker {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Head chunk reference (`file << 32 | offset`); 0 is the initial marker.
    pub mmap_ref: u64,
}

/// Metric type of a metadata record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricType {
    /// 0 (also used for bytes this crate does not know).
    #[default]
    Unknown,
    /// 1.
    Counter,
    /// 2.
    Gauge,
    /// 3.
    Histogram,
    /// 4.
    GaugeHistogram,
    /// 5.
    Summary,
    /// 6.
    Info,
    /// 7.
    StateSet,
}

impl MetricType {
    /// Maps the on-disk byte; unknown values map to [`MetricType::Unknown`] as in Prometheus.
    pub fn from_byte(b: u8) -> MetricType {
        match b {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::GaugeHistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::StateSet,
            _ => MetricType::Unknown,
        }
    }

    /// The on-disk byte.
    pub fn byte(self) -> u8 {
        match self {
            MetricType::Unknown => 0,
            MetricType::Counter => 1,
            MetricType::Gauge => 2,
            MetricType::Histogram => 3,
            MetricType::GaugeHistogram => 4,
            MetricType::Summary => 5,
            MetricType::Info => 6,
            MetricType::StateSet => 7,
        }
    }
}

/// Metadata of one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefMetadata {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Metric type.
    pub metric_type: MetricType,
    /// Unit (field `UNIT`).
    pub unit: String,
    /// Help text (field `HELP`).
    pub help: String,
}

/// A decoded record of any type, for callers that do not need buffer reuse.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Record {
    /// Type 1.
    Series(Vec<RefSeries>),
    /// Type 2.
    Samples(Vec<RefSample>),
    /// Type 3.
    Tombstones(Vec<Stone>),
    /// Type 4.
    Exemplars(Vec<RefExemplar>),
    /// Type 5.
    MmapMarkers(Vec<RefMmapMarker>),
    /// Type 6.
    Metadata(Vec<RefMetadata>),
    /// Type 7.
    HistogramSamples(Vec<RefHistogramSample>),
    /// Type 8.
    FloatHistogramSamples(Vec<RefFloatHistogramSample>),
    /// A type this crate does not decode (3.x additions, unknown bytes): skipped.
    Other(RecordType),
}
