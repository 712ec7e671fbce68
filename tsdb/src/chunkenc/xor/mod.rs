//! The XOR float chunk (encoding 1): Gorilla-style delta-of-delta timestamps and XOR values,
//! bit-for-bit as Prometheus writes it. See `docs/format/chunkenc.md`.

use super::bstream::{BitReader, BitWriter};
use super::ValueType;
use crate::error::{Error, Result};

/// Size of the big-endian sample-count header at the start of every XOR chunk.
const HEADER: usize = 2;
/// Sentinel for "no XOR window yet" in a fresh chunk's appender.
const NO_WINDOW: u8 = 0xff;

/// An XOR-encoded float chunk: `be16` sample count followed by the bit stream.
///
/// ```
/// use kagari_tsdb::chunkenc::{ValueType, XorChunk};
/// let mut c = XorChunk::new();
/// let mut app = c.appender().unwrap();
/// app.append(1000, 1.5).unwrap();
/// app.append(2000, 2.5).unwrap();
/// let mut it = c.iter();
/// assert_eq!(it.next(), ValueType::Float);
/// assert_eq!(it.at(), (1000, 1.5));
/// ```
///
/// The chunk keeps the encoder state (sample count, last timestamp, value and delta, and the
/// current XOR window) next to its bytes, so appending is O(1): no sample is decoded again.
/// A chunk made by [`from_bytes`](Self::from_bytes) decodes its samples once to recover the
/// state.
#[derive(Debug, Clone)]
pub struct XorChunk {
    stream: BitWriter,
    enc: EncState,
}

/// What the encoder needs to continue a chunk.
#[derive(Debug, Clone, Copy)]
struct EncState {
    /// Samples written (equal to the header's count).
    num: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    /// Leading zeros of the current XOR window, or [`NO_WINDOW`] before the first XOR value.
    leading: u8,
    trailing: u8,
}

impl EncState {
    const EMPTY: EncState = EncState {
        num: 0,
        t: 0,
        v_bits: 0,
        t_delta: 0,
        leading: NO_WINDOW,
        trailing: 0,
    };
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk (just the zero sample count).
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&[0, 0]);
        XorChunk {
            stream: BitWriter::from_bytes(bytes, 0),
            enc: EncState::EMPTY,
        }
    }

    /// Empties the chunk for reuse, keeping its buffer (no allocation for the next chunk).
    pub fn clear(&mut self) {
        let bytes = self.stream.bytes_mut();
        bytes.clear();
        bytes.extend_from_slice(&[0, 0]);
        self.stream.reset_free();
        self.enc = EncState::EMPTY;
    }

    /// Wraps existing chunk data (header included), e.g. read from a chunk file.
    ///
    /// The data is checked only for the header; samples are validated while iterating.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < HEADER {
            return Err(Error::corrupt(
                "XOR chunk",
                0,
                "shorter than the 2-byte header",
            ));
        }
        let mut chunk = XorChunk {
            stream: BitWriter::from_bytes(bytes, 0),
            enc: EncState::EMPTY,
        };
        if num_samples(chunk.stream.bytes()) > 0 {
            // Recover the encoder state and position the writer after the last sample so
            // appends continue the stream.
            let (s, used_bits) = Self::replay(chunk.stream.bytes())?;
            chunk.enc = EncState {
                num: s.num_read,
                t: s.t,
                v_bits: s.v_bits,
                t_delta: s.t_delta,
                // As Prometheus: the iterator's window even after one sample (0, 0), so a
                // resumed one-sample chunk encodes its next value as Prometheus does.
                leading: s.leading,
                trailing: s.trailing,
            };
            let total_bits = chunk.stream.bytes().len() * 8;
            let free = total_bits.saturating_sub(used_bits);
            if free >= 8 {
                return Err(Error::corrupt(
                    "XOR chunk",
                    (used_bits / 8) as u64,
                    "trailing bytes after the last sample",
                ));
            }
            chunk.stream = BitWriter::from_bytes(chunk.stream.into_bytes(), free as u8);
        }
        Ok(chunk)
    }

    /// The encoded bytes (header and bit stream), as stored in chunk files.
    pub fn bytes(&self) -> &[u8] {
        self.stream.bytes()
    }

    /// Consumes the chunk, returning its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.stream.into_bytes()
    }

    /// Number of samples, from the header.
    pub fn num_samples(&self) -> u16 {
        self.enc.num
    }

    /// An appender that continues after the chunk's last sample, in O(1) (the encoder state
    /// is kept in the chunk). Never fails today; the `Result` leaves room for encodings whose
    /// appenders can.
    pub fn appender(&mut self) -> Result<XorAppender<'_>> {
        Ok(XorAppender { chunk: self })
    }

    /// Appends one sample; see [`XorAppender::append`].
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) -> Result<()> {
        XorAppender { chunk: self }.append(t, v)
    }

    /// An iterator over this chunk's samples.
    pub fn iter(&self) -> XorIterator<'_> {
        XorIterator::new(self.stream.bytes())
    }

    /// An iterator over this chunk's samples that reuses `prev` when given (Prometheus's
    /// `Iterator(it)` shape); the iterator borrows the chunk bytes and owns nothing else.
    pub fn iterator<'b>(&'b self, prev: Option<XorIterator<'b>>) -> XorIterator<'b> {
        match prev {
            Some(mut it) => {
                it.reset(self.stream.bytes());
                it
            }
            None => XorIterator::new(self.stream.bytes()),
        }
    }

    /// Decodes all samples, returning the final decoder state and the number of bits used.
    fn replay(bytes: &[u8]) -> Result<(XorIterator<'_>, usize)> {
        let mut it = XorIterator::new(bytes);
        while it.next() == ValueType::Float {}
        if let Some(e) = it.take_err() {
            return Err(e);
        }
        let used = HEADER * 8 + it.br.bit_pos();
        Ok((it, used))
    }
}

fn num_samples(bytes: &[u8]) -> u16 {
    match bytes {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// Appends samples to an [`XorChunk`]; timestamps must be strictly increasing.
#[derive(Debug)]
pub struct XorAppender<'a> {
    chunk: &'a mut XorChunk,
}

/// `true` if `x` fits the `nbits` delta-of-delta bucket: `-(2^(n-1)-1) ≤ x ≤ 2^(n-1)`.
fn bit_range(x: i64, nbits: u8) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

impl XorAppender<'_> {
    /// Appends one sample. Fails if `t` is not after the previous sample or the chunk already
    /// holds 65535 samples (the header's limit).
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) -> Result<()> {
        let XorChunk { stream: w, enc } = &mut *self.chunk;
        let num = enc.num;
        if num == u16::MAX {
            return Err(Error::InvalidInput {
                writer: "XOR appender",
                reason: "chunk is full (65535 samples)".into(),
            });
        }
        if num > 0 && t <= enc.t {
            return Err(Error::InvalidInput {
                writer: "XOR appender",
                reason: format!("timestamp {t} not after previous {}", enc.t),
            });
        }
        let v_bits = v.to_bits();
        let mut t_delta = 0u64;
        match num {
            0 => {
                write_varint(w, t);
                w.write_bits(v_bits, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(enc.t) as u64;
                write_uvarint(w, t_delta);
                xor_write(w, v_bits, enc.v_bits, &mut enc.leading, &mut enc.trailing);
            }
            _ => {
                t_delta = t.wrapping_sub(enc.t) as u64;
                let dod = t_delta.wrapping_sub(enc.t_delta) as i64;
                // The timestamp prefix and payload (`prefix << n | low n bits of dod`) and the
                // value's control bits and payload go out in as few calls as fit in 64 bits:
                // one in the steady state (same interval, same XOR window).
                let low = |n: u8| (dod as u64) & ((1u64 << n) - 1);
                let (tb, tn) = if dod == 0 {
                    (0, 1)
                } else if bit_range(dod, 14) {
                    ((0b10 << 14) | low(14), 16)
                } else if bit_range(dod, 17) {
                    ((0b110 << 17) | low(17), 20)
                } else if bit_range(dod, 20) {
                    ((0b1110 << 20) | low(20), 24)
                } else {
                    w.write_bits(0b1111, 4);
                    w.write_bits(dod as u64, 64);
                    (0, 0)
                };
                let (cb, cn, pb, pn) =
                    xor_parts(v_bits, enc.v_bits, &mut enc.leading, &mut enc.trailing);
                // `cn ≥ 1`, so `pn < 64` whenever the sum fits, and every shift is < 64.
                if tn + cn + pn <= 64 {
                    w.write_bits((((tb << cn) | cb) << pn) | pb, tn + cn + pn);
                } else {
                    w.write_bits((tb << cn) | cb, tn + cn);
                    w.write_bits(pb, pn);
                }
            }
        }
        enc.t = t;
        enc.v_bits = v_bits;
        enc.t_delta = t_delta;
        enc.num = num + 1;
        if let Some(h) = w.bytes_mut().get_mut(..HEADER) {
            h.copy_from_slice(&enc.num.to_be_bytes());
        }
        Ok(())
    }
}

fn write_varint(w: &mut BitWriter, x: i64) {
    write_uvarint(w, ((x << 1) ^ (x >> 63)) as u64);
}

fn write_uvarint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write_byte((x as u8) | 0x80);
        x >>= 7;
    }
    w.write_byte(x as u8);
}

/// The bits of a value XORed against the previous one, as two fields written one after the
/// other: control bits (with the window header when the window changes) and the meaningful
/// bits. Updates the window.
fn xor_parts(new: u64, cur: u64, leading: &mut u8, trailing: &mut u8) -> (u64, u8, u64, u8) {
    let delta = new ^ cur;
    if delta == 0 {
        return (0, 1, 0, 0);
    }
    let new_leading = (delta.leading_zeros() as u8).min(31);
    let new_trailing = delta.trailing_zeros() as u8;
    if *leading != NO_WINDOW && new_leading >= *leading && new_trailing >= *trailing {
        return (0b10, 2, delta >> *trailing, 64 - *leading - *trailing);
    }
    *leading = new_leading;
    *trailing = new_trailing;
    let sig = 64 - new_leading - new_trailing;
    // Control bits `11`, 5 bits of leading zeros, 6 bits of significant length (64 is
    // written as 0), as one 13-bit field.
    let header = (0b11 << 11) | (u64::from(new_leading) << 6) | (u64::from(sig) & 0x3f);
    (header, 13, delta >> new_trailing, sig)
}

fn xor_write(w: &mut BitWriter, new: u64, cur: u64, leading: &mut u8, trailing: &mut u8) {
    let (cb, cn, pb, pn) = xor_parts(new, cur, leading, trailing);
    w.write_bits(cb, cn);
    w.write_bits(pb, pn);
}

/// Iterates an XOR chunk's samples.
///
/// The shape follows Prometheus: [`next`](Self::next) and [`seek`](Self::seek) return a
/// [`ValueType`] (`None` at the end or on error), [`at`](Self::at) reads the current sample, and
/// [`err`](Self::err) tells whether the end was caused by corrupt data. An iterator can be
/// reused for another chunk with [`reset`](Self::reset), which keeps no allocation because there
/// is none: the iterator only borrows the chunk bytes, which stay owned by the caller.
#[derive(Debug)]
pub struct XorIterator<'a> {
    br: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    err: Option<Error>,
}

impl<'a> XorIterator<'a> {
    /// An iterator over chunk data (header included).
    pub fn new(data: &'a [u8]) -> Self {
        let mut it = XorIterator {
            br: BitReader::new(&[]),
            num_total: 0,
            num_read: 0,
            t: i64::MIN,
            v_bits: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            err: None,
        };
        it.reset(data);
        it
    }

    /// Restarts the iterator on other chunk data (header included).
    pub fn reset(&mut self, data: &'a [u8]) {
        self.num_total = num_samples(data);
        self.br = BitReader::new(data.get(HEADER..).unwrap_or(&[]));
        self.num_read = 0;
        self.t = i64::MIN;
        self.v_bits = 0;
        self.t_delta = 0;
        self.leading = 0;
        self.trailing = 0;
        self.err = if data.len() < HEADER && !data.is_empty() {
            Some(Error::corrupt(
                "XOR chunk",
                0,
                "shorter than the 2-byte header",
            ))
        } else {
            None
        };
    }

    /// The current sample (valid after `next`/`seek` returned [`ValueType::Float`]).
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v_bits))
    }

    /// The current timestamp.
    pub fn at_t(&self) -> i64 {
        self.t
    }

    /// The error that stopped iteration, if any.
    pub fn err(&self) -> Option<&Error> {
        self.err.as_ref()
    }

    /// Takes the error out of the iterator.
    pub fn take_err(&mut self) -> Option<Error> {
        self.err.take()
    }

    /// Advances to the first sample with timestamp ≥ `t` (or stays if already there).
    pub fn seek(&mut self, t: i64) -> ValueType {
        if self.err.is_some() {
            return ValueType::None;
        }
        while self.num_read == 0 || t > self.t {
            if self.next() == ValueType::None {
                return ValueType::None;
            }
        }
        ValueType::Float
    }

    fn fail(&mut self, reason: &str) -> ValueType {
        let offset = (HEADER + self.br.bit_pos() / 8) as u64;
        self.err = Some(Error::corrupt(
            "XOR chunk",
            offset,
            format!("sample {}: {reason}", self.num_read),
        ));
        ValueType::None
    }

    /// Advances to the next sample.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ValueType {
        if self.err.is_some() || self.num_read == self.num_total {
            return ValueType::None;
        }
        if self.num_read == 0 {
            let (Some(t), Some(v)) = (self.br.read_varint(), self.br.read_bits(64)) else {
                return self.fail("truncated first sample");
            };
            self.t = t;
            self.v_bits = v;
            self.num_read = 1;
            return ValueType::Float;
        }
        if self.num_read == 1 {
            let Some(d) = self.br.read_uvarint() else {
                return self.fail("truncated timestamp delta");
            };
            self.t_delta = d;
        } else {
            let mut prefix = 0u8;
            for _ in 0..4 {
                prefix <<= 1;
                match self.br.read_bit() {
                    Some(true) => prefix |= 1,
                    Some(false) => break,
                    None => return self.fail("truncated timestamp prefix"),
                }
            }
            let sz: u8 = match prefix {
                0b0 => 0,
                0b10 => 14,
                0b110 => 17,
                0b1110 => 20,
                _ => 64,
            };
            let dod = if sz == 0 {
                0
            } else {
                let Some(mut bits) = self.br.read_bits(sz) else {
                    return self.fail("truncated delta-of-delta");
                };
                if sz < 64 && bits > (1u64 << (sz - 1)) {
                    bits = bits.wrapping_sub(1u64 << sz);
                }
                bits as i64
            };
            self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
        }
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.read_value()
    }

    fn read_value(&mut self) -> ValueType {
        match self.br.read_bit() {
            None => return self.fail("truncated value"),
            Some(false) => {}
            Some(true) => {
                match self.br.read_bit() {
                    None => return self.fail("truncated value control bit"),
                    Some(false) => {}
                    Some(true) => {
                        let (Some(l), Some(s)) = (self.br.read_bits(5), self.br.read_bits(6))
                        else {
                            return self.fail("truncated XOR window");
                        };
                        let sig = if s == 0 { 64 } else { s as u8 };
                        let l = l as u8;
                        if u16::from(l) + u16::from(sig) > 64 {
                            return self.fail("XOR window wider than 64 bits");
                        }
                        self.leading = l;
                        self.trailing = 64 - l - sig;
                    }
                }
                let sig = 64 - self.leading - self.trailing;
                let Some(bits) = self.br.read_bits(sig) else {
                    return self.fail("truncated XOR value");
                };
                // sig ≥ 1 here, so trailing ≤ 63 and the shift is in range.
                self.v_bits ^= bits << self.trailing;
            }
        }
        self.num_read += 1;
        ValueType::Float
    }
}

#[cfg(test)]
mod tests;
