//! Encoders and decoders for each record type.

use super::buf::{put_be64, put_labels, put_str, put_uvarint, put_varint, Decbuf};
use super::{
    Interval, MetricType, Record, RecordErrorKind, RecordType, RefExemplar, RefMetadata,
    RefMmapMarker, RefSample, RefSeries, Stone,
};
use crate::error::Result;

const UNIT_FIELD: &str = "UNIT";
const HELP_FIELD: &str = "HELP";

/// Appends a Series record: `u8 1`, then per series `be64 ref | uvarint n | n × (str, str)`.
pub fn encode_series(series: &[RefSeries], buf: &mut Vec<u8>) {
    buf.push(RecordType::Series.byte());
    for s in series {
        put_be64(buf, s.series_ref);
        put_labels(buf, &s.labels);
    }
}

/// Appends a Samples record: `u8 2 | be64 base ref | be64 base t`, then per sample (the first
/// included) `varint dref | varint dt | be64 value`. No samples: just the type byte.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    let mut enc = SamplesEncoder::new(buf);
    for s in samples {
        enc.push(s.series_ref, s.t, s.v);
    }
}

/// Writes the zigzag varint of `v` into `tmp` at `at` (two varints fit in 20 bytes); returns
/// the position after it.
#[inline]
fn put_varint_into(tmp: &mut [u8; 32], mut at: usize, v: i64) -> usize {
    let mut x = ((v << 1) ^ (v >> 63)) as u64;
    while x >= 0x80 {
        if let Some(b) = tmp.get_mut(at) {
            *b = (x as u8) | 0x80;
        }
        at += 1;
        x >>= 7;
    }
    if let Some(b) = tmp.get_mut(at) {
        *b = x as u8;
    }
    at + 1
}

/// Writes a Samples record sample by sample (the bytes of [`encode_samples`]), so a caller
/// need not collect [`RefSample`]s first.
///
/// ```
/// use kagari_tsdb::record::{encode_samples, RefSample, SamplesEncoder};
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// let mut enc = SamplesEncoder::new(&mut a);
/// enc.push(7, 1_000, 1.5);
/// enc.push(3, 1_015, 2.5);
/// encode_samples(
///     &[RefSample { series_ref: 7, t: 1_000, v: 1.5 }, RefSample { series_ref: 3, t: 1_015, v: 2.5 }],
///     &mut b,
/// );
/// assert_eq!(a, b);
/// ```
#[derive(Debug)]
pub struct SamplesEncoder<'a> {
    buf: &'a mut Vec<u8>,
    /// The first sample's ref and time, once written.
    base: Option<(u64, i64)>,
}

impl<'a> SamplesEncoder<'a> {
    /// Starts a record at the end of `buf` (writes the type byte).
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(RecordType::Samples.byte());
        SamplesEncoder { buf, base: None }
    }

    /// Appends one sample.
    #[inline]
    pub fn push(&mut self, series_ref: u64, t: i64, v: f64) {
        let (base_ref, base_t) = match self.base {
            Some(b) => b,
            None => {
                put_be64(self.buf, series_ref);
                put_be64(self.buf, t as u64);
                self.base = Some((series_ref, t));
                (series_ref, t)
            }
        };
        // Both varints and the value go out in one copy from a stack buffer.
        let mut tmp = [0u8; 32];
        let mut n = put_varint_into(
            &mut tmp,
            0,
            (series_ref as i64).wrapping_sub(base_ref as i64),
        );
        n = put_varint_into(&mut tmp, n, t.wrapping_sub(base_t));
        if let Some(dst) = tmp.get_mut(n..n + 8) {
            dst.copy_from_slice(&v.to_bits().to_be_bytes());
        }
        // A fixed-size copy (inlined moves, no `memcpy` call), then cut to the bytes used.
        let len = self.buf.len();
        self.buf.extend_from_slice(&tmp);
        self.buf.truncate(len + n + 8);
    }
    /// Whether no sample was pushed.
    pub fn is_empty(&self) -> bool {
        self.base.is_none()
    }
}

/// Appends a Tombstones record: one `be64 ref | varint mint | varint maxt` per interval.
pub fn encode_tombstones(stones: &[Stone], buf: &mut Vec<u8>) {
    buf.push(RecordType::Tombstones.byte());
    for s in stones {
        for iv in &s.intervals {
            put_be64(buf, s.series_ref);
            put_varint(buf, iv.mint);
            put_varint(buf, iv.maxt);
        }
    }
}

/// Appends an Exemplars record: like samples, each entry followed by its labels.
pub fn encode_exemplars(exemplars: &[RefExemplar], buf: &mut Vec<u8>) {
    buf.push(RecordType::Exemplars.byte());
    let Some(first) = exemplars.first() else {
        return;
    };
    put_be64(buf, first.series_ref);
    put_be64(buf, first.t as u64);
    for e in exemplars {
        put_varint(
            buf,
            (e.series_ref as i64).wrapping_sub(first.series_ref as i64),
        );
        put_varint(buf, e.t.wrapping_sub(first.t));
        put_be64(buf, e.v.to_bits());
        put_labels(buf, &e.labels);
    }
}

/// Appends an MmapMarkers record: `be64 ref | be64 mmap ref` per marker.
pub fn encode_mmap_markers(markers: &[RefMmapMarker], buf: &mut Vec<u8>) {
    buf.push(RecordType::MmapMarkers.byte());
    for m in markers {
        put_be64(buf, m.series_ref);
        put_be64(buf, m.mmap_ref);
    }
}

/// Appends a Metadata record: per series `uvarint ref | u8 type | uvarint 2 | ("UNIT", unit) |
/// ("HELP", help)`, as Prometheus writes it.
pub fn encode_metadata(metadata: &[RefMetadata], buf: &mut Vec<u8>) {
    buf.push(RecordType::Metadata.byte());
    for m in metadata {
        put_uvarint(buf, m.series_ref);
        buf.push(m.metric_type.byte());
        put_uvarint(buf, 2);
        put_str(buf, UNIT_FIELD);
        put_str(buf, &m.unit);
        put_str(buf, HELP_FIELD);
        put_str(buf, &m.help);
    }
}

fn expect_type(d: &mut Decbuf<'_>, want: RecordType) -> Result<()> {
    let b = d.u8()?;
    if b != want.byte() {
        return Err(d.err(RecordErrorKind::WrongType {
            expected: want.byte(),
        }));
    }
    Ok(())
}

/// Decodes a Series record, appending to `out`.
pub fn decode_series(rec: &[u8], out: &mut Vec<RefSeries>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::Series)?;
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let labels = d.labels()?;
        out.push(RefSeries { series_ref, labels });
    }
    Ok(())
}

/// Decodes a Samples record, appending to `out` (no allocation beyond `out`'s growth).
pub fn decode_samples(rec: &[u8], out: &mut Vec<RefSample>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::Samples)?;
    if d.is_empty() {
        return Ok(());
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    // Each sample takes at least 10 bytes.
    out.reserve(d.remaining() / 10);
    while !d.is_empty() {
        let dref = d.varint()?;
        let dt = d.varint()?;
        let v = f64::from_bits(d.be64()?);
        out.push(RefSample {
            series_ref: base_ref.wrapping_add(dref) as u64,
            t: base_t.wrapping_add(dt),
            v,
        });
    }
    Ok(())
}

/// Decodes a Tombstones record, appending one [`Stone`] per on-disk entry to `out`.
pub fn decode_tombstones(rec: &[u8], out: &mut Vec<Stone>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::Tombstones)?;
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let mint = d.varint()?;
        let maxt = d.varint()?;
        out.push(Stone {
            series_ref,
            intervals: vec![Interval { mint, maxt }],
        });
    }
    Ok(())
}

/// Decodes an Exemplars record, appending to `out`.
pub fn decode_exemplars(rec: &[u8], out: &mut Vec<RefExemplar>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::Exemplars)?;
    if d.is_empty() {
        return Ok(());
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    while !d.is_empty() {
        let dref = d.varint()?;
        let dt = d.varint()?;
        let v = f64::from_bits(d.be64()?);
        let labels = d.labels()?;
        out.push(RefExemplar {
            series_ref: base_ref.wrapping_add(dref) as u64,
            t: base_t.wrapping_add(dt),
            v,
            labels,
        });
    }
    Ok(())
}

/// Decodes an MmapMarkers record, appending to `out`.
pub fn decode_mmap_markers(rec: &[u8], out: &mut Vec<RefMmapMarker>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::MmapMarkers)?;
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let mmap_ref = d.be64()?;
        out.push(RefMmapMarker {
            series_ref,
            mmap_ref,
        });
    }
    Ok(())
}

/// Decodes a Metadata record, appending to `out`; unknown field names are skipped.
pub fn decode_metadata(rec: &[u8], out: &mut Vec<RefMetadata>) -> Result<()> {
    let mut d = Decbuf::new(rec);
    expect_type(&mut d, RecordType::Metadata)?;
    while !d.is_empty() {
        let series_ref = d.uvarint()?;
        let metric_type = MetricType::from_byte(d.u8()?);
        let n = d.uvarint()?;
        let mut unit = String::new();
        let mut help = String::new();
        for _ in 0..n {
            let name = d.str()?;
            let value = d.str()?;
            match name {
                UNIT_FIELD => value.clone_into(&mut unit),
                HELP_FIELD => value.clone_into(&mut help),
                _ => {}
            }
        }
        out.push(RefMetadata {
            series_ref,
            metric_type,
            unit,
            help,
        });
    }
    Ok(())
}

/// Decodes any record into a fresh [`Record`]; types without a decoder give
/// [`Record::Other`].
pub fn decode(rec: &[u8]) -> Result<Record> {
    Ok(match RecordType::of(rec) {
        RecordType::Series => {
            let mut v = Vec::new();
            decode_series(rec, &mut v)?;
            Record::Series(v)
        }
        RecordType::Samples => {
            let mut v = Vec::new();
            decode_samples(rec, &mut v)?;
            Record::Samples(v)
        }
        RecordType::Tombstones => {
            let mut v = Vec::new();
            decode_tombstones(rec, &mut v)?;
            Record::Tombstones(v)
        }
        RecordType::Exemplars => {
            let mut v = Vec::new();
            decode_exemplars(rec, &mut v)?;
            Record::Exemplars(v)
        }
        RecordType::MmapMarkers => {
            let mut v = Vec::new();
            decode_mmap_markers(rec, &mut v)?;
            Record::MmapMarkers(v)
        }
        RecordType::Metadata => {
            let mut v = Vec::new();
            decode_metadata(rec, &mut v)?;
            Record::Metadata(v)
        }
        RecordType::HistogramSamples => {
            let mut v = Vec::new();
            super::decode_histogram_samples(rec, &mut v)?;
            Record::HistogramSamples(v)
        }
        RecordType::FloatHistogramSamples => {
            let mut v = Vec::new();
            super::decode_float_histogram_samples(rec, &mut v)?;
            Record::FloatHistogramSamples(v)
        }
        other => Record::Other(other),
    })
}

#[cfg(test)]
mod tests {
    use kagari_model::{Labels, STALE_NAN};

    use super::*;
    use crate::Error;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn series_round_trip_and_bytes() {
        let series = vec![
            RefSeries {
                series_ref: 1,
                labels: labels(&[("__name__", "up"), ("job", "a")]),
            },
            RefSeries {
                series_ref: 300,
                labels: Labels::empty(),
            },
        ];
        let mut buf = Vec::new();
        encode_series(&series, &mut buf);
        let mut want = vec![1u8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 8];
        want.extend_from_slice(b"__name__");
        want.push(2);
        want.extend_from_slice(b"up");
        want.extend_from_slice(&[3, b'j', b'o', b'b', 1, b'a']);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 0x2c, 0]);
        assert_eq!(buf, want);
        assert_eq!(decode(&buf).unwrap(), Record::Series(series));
    }

    #[test]
    fn samples_round_trip_keeps_nan_bits_and_negative_deltas() {
        let samples = vec![
            RefSample {
                series_ref: 10,
                t: 1_700_000_000_000,
                v: 1.5,
            },
            RefSample {
                series_ref: 3,
                t: 1_699_999_999_000,
                v: STALE_NAN,
            },
            RefSample {
                series_ref: u64::MAX,
                t: i64::MIN,
                v: -0.0,
            },
        ];
        let mut buf = Vec::new();
        encode_samples(&samples, &mut buf);
        // First sample: deltas 0, 0.
        assert_eq!(&buf[17..19], &[0, 0]);
        let mut out = Vec::new();
        decode_samples(&buf, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        for (a, b) in samples.iter().zip(&out) {
            assert_eq!(
                (a.series_ref, a.t, a.v.to_bits()),
                (b.series_ref, b.t, b.v.to_bits())
            );
        }
        buf.clear();
        encode_samples(&[], &mut buf);
        assert_eq!(buf, [2]);
        assert_eq!(decode(&buf).unwrap(), Record::Samples(vec![]));
    }

    #[test]
    fn tombstones_exemplars_markers_metadata_round_trip() {
        let stones = vec![
            Stone {
                series_ref: 5,
                intervals: vec![Interval {
                    mint: -10,
                    maxt: 20,
                }],
            },
            Stone {
                series_ref: 6,
                intervals: vec![Interval {
                    mint: 0,
                    maxt: i64::MAX,
                }],
            },
        ];
        let mut buf = Vec::new();
        encode_tombstones(&stones, &mut buf);
        assert_eq!(decode(&buf).unwrap(), Record::Tombstones(stones));

        let ex = vec![
            RefExemplar {
                series_ref: 7,
                t: 100,
                v: 0.25,
                labels: labels(&[("trace_id", "abc")]),
            },
            RefExemplar {
                series_ref: 2,
                t: 90,
                v: 3.0,
                labels: Labels::empty(),
            },
        ];
        buf.clear();
        encode_exemplars(&ex, &mut buf);
        assert_eq!(decode(&buf).unwrap(), Record::Exemplars(ex));

        let markers = vec![RefMmapMarker {
            series_ref: 1,
            mmap_ref: (1 << 32) | 8,
        }];
        buf.clear();
        encode_mmap_markers(&markers, &mut buf);
        assert_eq!(buf.len(), 17);
        assert_eq!(decode(&buf).unwrap(), Record::MmapMarkers(markers));

        let md = vec![RefMetadata {
            series_ref: 300,
            metric_type: MetricType::Counter,
            unit: "seconds".into(),
            help: "Total time.".into(),
        }];
        buf.clear();
        encode_metadata(&md, &mut buf);
        assert_eq!(&buf[..4], &[6, 0xac, 0x02, 1]);
        assert_eq!(decode(&buf).unwrap(), Record::Metadata(md));
    }

    #[test]
    fn unknown_types_are_other() {
        assert_eq!(
            decode(&[9, 1, 2]).unwrap(),
            Record::Other(RecordType::Unknown(9))
        );
        assert_eq!(
            decode(&[42]).unwrap(),
            Record::Other(RecordType::Unknown(42))
        );
        assert_eq!(decode(&[]).unwrap(), Record::Other(RecordType::Unknown(0)));
    }

    #[test]
    fn decode_errors_are_typed_with_offsets() {
        let mut buf = Vec::new();
        encode_samples(
            &[RefSample {
                series_ref: 1,
                t: 2,
                v: 3.0,
            }],
            &mut buf,
        );
        buf.pop();
        let err = decode(&buf).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Record {
                    record_type: 2,
                    offset: 19,
                    reason: RecordErrorKind::UnexpectedEnd
                }
            ),
            "{err:?}"
        );
        let mut out = Vec::new();
        let err = decode_series(&buf, &mut out).unwrap_err();
        assert!(matches!(
            err,
            Error::Record {
                reason: RecordErrorKind::WrongType { expected: 1 },
                ..
            }
        ));
        // Duplicate label names.
        let mut rec = vec![1u8, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        for _ in 0..2 {
            rec.extend_from_slice(&[1, b'a', 1, b'b']);
        }
        assert!(matches!(
            decode(&rec).unwrap_err(),
            Error::Record {
                reason: RecordErrorKind::DuplicateLabel(_),
                ..
            }
        ));
        // Invalid UTF-8.
        let rec = [1u8, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0xff, 1, b'x'];
        assert!(matches!(
            decode(&rec).unwrap_err(),
            Error::Record {
                reason: RecordErrorKind::InvalidUtf8,
                offset: 11,
                ..
            }
        ));
    }

    #[test]
    fn unsorted_labels_are_sorted() {
        let mut rec = vec![1u8, 0, 0, 0, 0, 0, 0, 0, 9, 2];
        rec.extend_from_slice(&[1, b'z', 1, b'1', 1, b'a', 1, b'2']);
        let Record::Series(s) = decode(&rec).unwrap() else {
            panic!("not series")
        };
        assert_eq!(s[0].labels, labels(&[("a", "2"), ("z", "1")]));
    }
}
