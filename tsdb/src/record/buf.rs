//! Byte-level helpers for record codecs: a checked decoding cursor and encoding functions.

use kagari_model::{Label, Labels};

use super::RecordErrorKind;
use crate::error::Error;

/// A cursor over one record that never reads out of bounds; every error names the record
/// type and the byte offset inside the record.
#[derive(Debug)]
pub(crate) struct Decbuf<'a> {
    data: &'a [u8],
    pos: usize,
    record_type: u8,
}

impl<'a> Decbuf<'a> {
    /// A cursor over `data` (a whole record, type byte included), positioned at byte 0.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Decbuf {
            data,
            pos: 0,
            record_type: data.first().copied().unwrap_or(0),
        }
    }

    pub(crate) fn err(&self, reason: RecordErrorKind) -> Error {
        Error::Record {
            record_type: self.record_type,
            offset: self.pos,
            reason,
        }
    }

    /// Bytes not consumed yet.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err(RecordErrorKind::UnexpectedEnd))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.err(RecordErrorKind::UnexpectedEnd))?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let s = self.take(1)?;
        s.first()
            .copied()
            .ok_or_else(|| self.err(RecordErrorKind::UnexpectedEnd))
    }

    pub(crate) fn be64(&mut self) -> Result<u64, Error> {
        let s = self.take(8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        Ok(u64::from_be_bytes(b))
    }

    /// Unsigned LEB128, at most 10 bytes, rejecting values that overflow 64 bits.
    pub(crate) fn uvarint(&mut self) -> Result<u64, Error> {
        let mut x: u64 = 0;
        let mut shift = 0u32;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return Err(self.err(RecordErrorKind::VarintOverflow));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
        }
        Err(self.err(RecordErrorKind::VarintOverflow))
    }

    /// Zig-zag signed varint (Go `binary.Varint`).
    pub(crate) fn varint(&mut self) -> Result<i64, Error> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A `uvarint` length followed by that many UTF-8 bytes.
    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.err(RecordErrorKind::UnexpectedEnd))?;
        let start = self.pos;
        let b = self.take(n)?;
        std::str::from_utf8(b).map_err(|_| {
            self.pos = start;
            self.err(RecordErrorKind::InvalidUtf8)
        })
    }

    /// `uvarint` count followed by that many (name, value) string pairs.
    ///
    /// Labels out of order are sorted; a repeated name is an error; empty values are dropped
    /// (an empty label does not exist in Prometheus).
    pub(crate) fn labels(&mut self) -> Result<Labels, Error> {
        let n = self.uvarint()?;
        // Each label needs at least two bytes, which bounds the allocation on bad input.
        let cap = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.remaining() / 2);
        let mut out: Vec<Label> = Vec::with_capacity(cap);
        let mut sorted = true;
        for _ in 0..n {
            let name = self.str()?;
            let value = self.str()?;
            if value.is_empty() {
                continue;
            }
            if let Some(prev) = out.last() {
                if *prev.name >= *name {
                    sorted = false;
                }
            }
            out.push(Label {
                name: name.into(),
                value: value.into(),
            });
        }
        if !sorted {
            out.sort_by(|a, b| a.name.cmp(&b.name));
            for w in out.windows(2) {
                if let [a, b] = w {
                    if a.name == b.name {
                        return Err(self.err(RecordErrorKind::DuplicateLabel(a.name.to_string())));
                    }
                }
            }
        }
        Ok(Labels::from_sorted_unchecked(out))
    }
}

pub(crate) fn put_be64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels.iter() {
        put_str(buf, &l.name);
        put_str(buf, &l.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_go() {
        let cases: [(i64, &[u8]); 5] = [
            (0, &[0]),
            (-1, &[1]),
            (1, &[2]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
        ];
        for (v, want) in cases {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b, want, "{v}");
            let mut d = Decbuf::new(&b);
            assert_eq!(d.varint().unwrap(), v);
        }
        for v in [i64::MIN, i64::MAX, u32::MAX as i64] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Decbuf::new(&b).varint().unwrap(), v);
        }
        let mut b = Vec::new();
        put_uvarint(&mut b, u64::MAX);
        assert_eq!(b.len(), 10);
        assert_eq!(Decbuf::new(&b).uvarint().unwrap(), u64::MAX);
    }

    #[test]
    fn bad_varints_are_errors() {
        let over = [0xffu8; 10];
        assert!(matches!(
            Decbuf::new(&over).uvarint(),
            Err(Error::Record {
                reason: RecordErrorKind::VarintOverflow,
                ..
            })
        ));
        let short = [0x80u8, 0x80];
        assert!(matches!(
            Decbuf::new(&short).uvarint(),
            Err(Error::Record {
                reason: RecordErrorKind::UnexpectedEnd,
                offset: 2,
                ..
            })
        ));
    }
}
