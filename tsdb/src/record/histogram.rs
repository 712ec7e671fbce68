//! Native histogram sample records (types 7 and 8).
//!
//! Layout after the type byte: `be64 base ref | be64 base t`, then per sample
//! `varint dref | varint dt` and one histogram:
//!
//! ```text
//! u8 counter-reset hint | varint schema | be64 zero threshold (f64) |
//! zero count | count | be64 sum (f64) |
//! uvarint #positive spans, each (varint offset, uvarint length) | same for negative spans |
//! uvarint #positive buckets, each bucket | uvarint #negative buckets, each bucket
//! ```
//!
//! Integer histograms (type 7) store counts as `uvarint` and buckets as `varint` deltas; float
//! histograms (type 8) store counts and buckets as `be64` floats.

use super::buf::{put_be64, put_uvarint, put_varint, Decbuf};
use super::{HeadSeriesRef, RecordErrorKind, RecordType};
use crate::error::{Error, Result};

/// A run of consecutive buckets: `offset` buckets after the previous span, `length` long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Gap to the previous span (or the start index for the first span).
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// An integer native histogram as stored in the WAL (buckets as deltas).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    /// Counter-reset hint: 0 unknown, 1 reset, 2 not reset, 3 gauge.
    pub counter_reset_hint: u8,
    /// Resolution schema.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans.
    pub positive_spans: Vec<Span>,
    /// Negative bucket spans.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts, each a delta to the previous bucket.
    pub positive_buckets: Vec<i64>,
    /// Negative bucket counts, each a delta to the previous bucket.
    pub negative_buckets: Vec<i64>,
}

/// A float native histogram as stored in the WAL (absolute bucket counts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter-reset hint: 0 unknown, 1 reset, 2 not reset, 3 gauge.
    pub counter_reset_hint: u8,
    /// Resolution schema.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans.
    pub positive_spans: Vec<Span>,
    /// Negative bucket spans.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts.
    pub positive_buckets: Vec<f64>,
    /// Negative bucket counts.
    pub negative_buckets: Vec<f64>,
}

/// One integer histogram sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct RefHistogramSample {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The histogram.
    pub h: Histogram,
}

/// One float histogram sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct RefFloatHistogramSample {
    /// The series' head ref.
    pub series_ref: HeadSeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The histogram.
    pub fh: FloatHistogram,
}

fn put_spans(buf: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(buf, spans.len() as u64);
    for s in spans {
        put_varint(buf, i64::from(s.offset));
        put_uvarint(buf, u64::from(s.length));
    }
}

fn put_header(buf: &mut Vec<u8>, ty: RecordType, first: Option<(HeadSeriesRef, i64)>) {
    buf.push(ty.byte());
    if let Some((r, t)) = first {
        put_be64(buf, r);
        put_be64(buf, t as u64);
    }
}

/// Appends an integer HistogramSamples record (type 7).
pub fn encode_histogram_samples(samples: &[RefHistogramSample], buf: &mut Vec<u8>) {
    let first = samples.first().map(|s| (s.series_ref, s.t));
    put_header(buf, RecordType::HistogramSamples, first);
    let Some((base_ref, base_t)) = first else {
        return;
    };
    for s in samples {
        put_varint(buf, (s.series_ref as i64).wrapping_sub(base_ref as i64));
        put_varint(buf, s.t.wrapping_sub(base_t));
        let h = &s.h;
        buf.push(h.counter_reset_hint);
        put_varint(buf, i64::from(h.schema));
        put_be64(buf, h.zero_threshold.to_bits());
        put_uvarint(buf, h.zero_count);
        put_uvarint(buf, h.count);
        put_be64(buf, h.sum.to_bits());
        put_spans(buf, &h.positive_spans);
        put_spans(buf, &h.negative_spans);
        for b in [&h.positive_buckets, &h.negative_buckets] {
            put_uvarint(buf, b.len() as u64);
            for &d in b.iter() {
                put_varint(buf, d);
            }
        }
    }
}

/// Appends a FloatHistogramSamples record (type 8).
pub fn encode_float_histogram_samples(samples: &[RefFloatHistogramSample], buf: &mut Vec<u8>) {
    let first = samples.first().map(|s| (s.series_ref, s.t));
    put_header(buf, RecordType::FloatHistogramSamples, first);
    let Some((base_ref, base_t)) = first else {
        return;
    };
    for s in samples {
        put_varint(buf, (s.series_ref as i64).wrapping_sub(base_ref as i64));
        put_varint(buf, s.t.wrapping_sub(base_t));
        let h = &s.fh;
        buf.push(h.counter_reset_hint);
        put_varint(buf, i64::from(h.schema));
        put_be64(buf, h.zero_threshold.to_bits());
        put_be64(buf, h.zero_count.to_bits());
        put_be64(buf, h.count.to_bits());
        put_be64(buf, h.sum.to_bits());
        put_spans(buf, &h.positive_spans);
        put_spans(buf, &h.negative_spans);
        for b in [&h.positive_buckets, &h.negative_buckets] {
            put_uvarint(buf, b.len() as u64);
            for &v in b.iter() {
                put_be64(buf, v.to_bits());
            }
        }
    }
}

fn overflow(d: &Decbuf<'_>) -> Error {
    d.err(RecordErrorKind::VarintOverflow)
}

fn get_spans(d: &mut Decbuf<'_>, out: &mut Vec<Span>) -> Result<()> {
    let n = d.uvarint()?;
    for _ in 0..n {
        let offset = i32::try_from(d.varint()?).map_err(|_| overflow(d))?;
        let length = u32::try_from(d.uvarint()?).map_err(|_| overflow(d))?;
        out.push(Span { offset, length });
    }
    Ok(())
}

/// Reads the type byte and base; `None` for a record with no samples.
fn get_header(d: &mut Decbuf<'_>, want: RecordType) -> Result<Option<(i64, i64)>> {
    let b = d.u8()?;
    if b != want.byte() {
        return Err(d.err(RecordErrorKind::WrongType {
            expected: want.byte(),
        }));
    }
    if d.is_empty() {
        return Ok(None);
    }
    Ok(Some((d.be64()? as i64, d.be64()? as i64)))
}

/// Decodes an integer HistogramSamples record (type 7), appending to `out`.
pub fn decode_histogram_samples(rec: &[u8], out: &mut Vec<RefHistogramSample>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    let Some((base_ref, base_t)) = get_header(&mut d, RecordType::HistogramSamples)? else {
        return Ok(());
    };
    while !d.is_empty() {
        let series_ref = base_ref.wrapping_add(d.varint()?) as u64;
        let t = base_t.wrapping_add(d.varint()?);
        let mut h = Histogram {
            counter_reset_hint: d.u8()?,
            schema: i32::try_from(d.varint()?).map_err(|_| overflow(&d))?,
            zero_threshold: f64::from_bits(d.be64()?),
            zero_count: d.uvarint()?,
            count: d.uvarint()?,
            sum: f64::from_bits(d.be64()?),
            ..Histogram::default()
        };
        get_spans(&mut d, &mut h.positive_spans)?;
        get_spans(&mut d, &mut h.negative_spans)?;
        for b in [&mut h.positive_buckets, &mut h.negative_buckets] {
            let n = d.uvarint()?;
            for _ in 0..n {
                b.push(d.varint()?);
            }
        }
        out.push(RefHistogramSample { series_ref, t, h });
    }
    Ok(())
}

/// Decodes a FloatHistogramSamples record (type 8), appending to `out`.
pub fn decode_float_histogram_samples(
    rec: &[u8],
    out: &mut Vec<RefFloatHistogramSample>,
) -> Result<()> {
    let mut d = Decbuf::new(rec);
    let Some((base_ref, base_t)) = get_header(&mut d, RecordType::FloatHistogramSamples)? else {
        return Ok(());
    };
    while !d.is_empty() {
        let series_ref = base_ref.wrapping_add(d.varint()?) as u64;
        let t = base_t.wrapping_add(d.varint()?);
        let mut fh = FloatHistogram {
            counter_reset_hint: d.u8()?,
            schema: i32::try_from(d.varint()?).map_err(|_| overflow(&d))?,
            zero_threshold: f64::from_bits(d.be64()?),
            zero_count: f64::from_bits(d.be64()?),
            count: f64::from_bits(d.be64()?),
            sum: f64::from_bits(d.be64()?),
            ..FloatHistogram::default()
        };
        get_spans(&mut d, &mut fh.positive_spans)?;
        get_spans(&mut d, &mut fh.negative_spans)?;
        for b in [&mut fh.positive_buckets, &mut fh.negative_buckets] {
            let n = d.uvarint()?;
            for _ in 0..n {
                b.push(f64::from_bits(d.be64()?));
            }
        }
        out.push(RefFloatHistogramSample { series_ref, t, fh });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_h() -> Histogram {
        Histogram {
            counter_reset_hint: 0,
            schema: 1,
            zero_threshold: 0.001,
            zero_count: 2,
            count: 12,
            sum: 18.4,
            positive_spans: vec![
                Span {
                    offset: 0,
                    length: 2,
                },
                Span {
                    offset: 1,
                    length: 2,
                },
            ],
            negative_spans: vec![Span {
                offset: -2,
                length: 1,
            }],
            positive_buckets: vec![1, 1, -1, 0],
            negative_buckets: vec![3],
        }
    }

    #[test]
    fn integer_histograms_round_trip_with_known_prefix() {
        let s = vec![
            RefHistogramSample {
                series_ref: 4,
                t: 1000,
                h: sample_h(),
            },
            RefHistogramSample {
                series_ref: 2,
                t: 900,
                h: Histogram::default(),
            },
        ];
        let mut buf = Vec::new();
        encode_histogram_samples(&s, &mut buf);
        // type, base ref 4, base t 1000, dref 0, dt 0, hint 0, schema 1 (zig-zag 2).
        assert_eq!(
            &buf[..22],
            &[7, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 3, 0xe8, 0, 0, 0, 2, 0x3f]
        );
        let mut out = Vec::new();
        decode_histogram_samples(&buf, &mut out).unwrap();
        assert_eq!(out, s);
        buf.clear();
        encode_histogram_samples(&[], &mut buf);
        assert_eq!(buf, [7]);
    }

    #[test]
    fn float_histograms_round_trip_and_truncation_is_an_error() {
        let fh = FloatHistogram {
            counter_reset_hint: 3,
            schema: -2,
            zero_threshold: 0.0,
            zero_count: 0.5,
            count: 7.5,
            sum: -3.25,
            positive_spans: vec![Span {
                offset: 1,
                length: 2,
            }],
            negative_spans: vec![],
            positive_buckets: vec![2.5, 4.5],
            negative_buckets: vec![],
        };
        let s = vec![RefFloatHistogramSample {
            series_ref: 9,
            t: -5,
            fh,
        }];
        let mut buf = Vec::new();
        encode_float_histogram_samples(&s, &mut buf);
        let mut out = Vec::new();
        decode_float_histogram_samples(&buf, &mut out).unwrap();
        assert_eq!(out, s);
        buf.pop();
        out.clear();
        assert!(matches!(
            decode_float_histogram_samples(&buf, &mut out),
            Err(Error::Record {
                record_type: 8,
                reason: RecordErrorKind::UnexpectedEnd,
                ..
            })
        ));
    }
}
