//! Bulk decoding of a whole XOR chunk for queries: every sample is handed to a callback in
//! one tight loop, with a 64-bit buffered bit reader (a refill per few fields instead of a
//! bounds-checked 8-byte load per field), no per-sample state machine and no per-sample
//! error bookkeeping. Same format as [`crate::chunkenc::XorIterator`], which stays the
//! cursor for seeks and partial chunks.

use crate::error::{Error, Result};

/// Bytes of the chunk header (the sample count).
const HEADER: usize = 2;

/// A big-endian bit reader that keeps up to 64 unread bits in `buf`, most significant first.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `buf`.
    pos: usize,
    buf: u64,
    /// Valid bits at the top of `buf`. The bits below them are the stream's following bits
    /// or zero, so loading the same bytes again is harmless.
    n: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            n: 0,
        }
    }

    /// Tops `buf` up to at least 56 valid bits (fewer only at the end of the data).
    #[inline]
    fn refill(&mut self) {
        if let Some(b) = self.data.get(self.pos..self.pos + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            // n < 56 here (callers refill only when short), so the shift is in range.
            self.buf |= u64::from_be_bytes(a) >> self.n;
            let take = (63 - self.n) >> 3;
            self.pos += take as usize;
            self.n += take * 8;
        } else {
            while self.n <= 56 {
                let Some(&b) = self.data.get(self.pos) else {
                    break;
                };
                self.buf |= u64::from(b) << (56 - self.n);
                self.pos += 1;
                self.n += 8;
            }
        }
    }

    /// Reads `k` bits, 1 ≤ k ≤ 56; `None` past the end.
    #[inline(always)]
    fn read(&mut self, k: u32) -> Option<u64> {
        if self.n < k {
            self.refill();
            if self.n < k {
                return None;
            }
        }
        let v = self.buf >> (64 - k);
        self.buf <<= k;
        self.n -= k;
        Some(v)
    }

    /// Reads `k` bits, 1 ≤ k ≤ 64.
    #[inline(always)]
    fn read_wide(&mut self, k: u32) -> Option<u64> {
        if k <= 56 {
            return self.read(k);
        }
        let hi = self.read(k - 32)?;
        let lo = self.read(32)?;
        Some((hi << 32) | lo)
    }

    #[inline]
    fn bit(&mut self) -> Option<bool> {
        self.read(1).map(|b| b == 1)
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let b = self.read(8)?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return None;
                }
                return Some(x | (b << s));
            }
            x |= (b & 0x7f) << s;
            s += 7;
        }
        None
    }

    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Bits consumed so far.
    fn bit_pos(&self) -> usize {
        self.pos * 8 - self.n as usize
    }
}

/// Calls `push` with every sample of an XOR chunk (header included) in order and returns
/// the number of samples. Corrupt data ends decoding with an error carrying the byte offset
/// in the chunk; the samples before it have been pushed.
pub(crate) fn decode_xor(data: &[u8], push: &mut impl FnMut(i64, f64)) -> Result<usize> {
    let total = match data {
        [] => return Ok(0),
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        [_] => return Err(corrupt(0, 0, "shorter than the 2-byte header")),
    };
    let mut br = Bits::new(data.get(HEADER..).unwrap_or_default());
    if total == 0 {
        return Ok(0);
    }
    let (Some(mut t), Some(mut v)) = (br.varint(), br.read_wide(64)) else {
        return Err(corrupt(br.bit_pos(), 0, "truncated first sample"));
    };
    push(t, f64::from_bits(v));
    let mut delta = 0u64;
    let (mut leading, mut trailing) = (0u32, 0u32);
    for i in 1..total {
        if i == 1 {
            let Some(d) = br.uvarint() else {
                return Err(corrupt(br.bit_pos(), i, "truncated timestamp delta"));
            };
            delta = d;
        } else {
            let mut prefix = 0u32;
            while prefix < 4 {
                match br.bit() {
                    Some(true) => prefix += 1,
                    Some(false) => break,
                    None => return Err(corrupt(br.bit_pos(), i, "truncated timestamp prefix")),
                }
            }
            let sz = match prefix {
                0 => 0,
                1 => 14,
                2 => 17,
                3 => 20,
                _ => 64,
            };
            if sz > 0 {
                let Some(mut bits) = br.read_wide(sz) else {
                    return Err(corrupt(br.bit_pos(), i, "truncated delta-of-delta"));
                };
                if sz < 64 && bits > (1u64 << (sz - 1)) {
                    bits = bits.wrapping_sub(1u64 << sz);
                }
                delta = (delta as i64).wrapping_add(bits as i64) as u64;
            }
        }
        t = t.wrapping_add(delta as i64);
        match br.bit() {
            None => return Err(corrupt(br.bit_pos(), i, "truncated value")),
            Some(false) => {}
            Some(true) => {
                match br.bit() {
                    None => return Err(corrupt(br.bit_pos(), i, "truncated value control bit")),
                    Some(false) => {}
                    Some(true) => {
                        let Some(w) = br.read(11) else {
                            return Err(corrupt(br.bit_pos(), i, "truncated XOR window"));
                        };
                        let l = (w >> 6) as u32;
                        let sig = match (w & 0x3f) as u32 {
                            0 => 64,
                            s => s,
                        };
                        if l + sig > 64 {
                            return Err(corrupt(br.bit_pos(), i, "XOR window wider than 64 bits"));
                        }
                        leading = l;
                        trailing = 64 - l - sig;
                    }
                }
                // ≥ 1: a window has at least one significant bit (0 stands for 64).
                let sig = 64 - leading - trailing;
                let Some(bits) = br.read_wide(sig) else {
                    return Err(corrupt(br.bit_pos(), i, "truncated XOR value"));
                };
                v ^= bits << trailing;
            }
        }
        push(t, f64::from_bits(v));
    }
    Ok(total)
}

fn corrupt(bit_pos: usize, sample: usize, reason: &str) -> Error {
    Error::corrupt(
        "XOR chunk",
        (HEADER + bit_pos / 8) as u64,
        format!("sample {sample}: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::{ValueType, XorChunk, XorIterator};

    fn via_iterator(data: &[u8]) -> (Vec<(i64, u64)>, bool) {
        let mut it = XorIterator::new(data);
        let mut out = Vec::new();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            out.push((t, v.to_bits()));
        }
        (out, it.err().is_some())
    }

    fn via_bulk(data: &[u8]) -> (Vec<(i64, u64)>, bool) {
        let mut out = Vec::new();
        let r = decode_xor(data, &mut |t, v: f64| out.push((t, v.to_bits())));
        if let Ok(n) = r {
            assert_eq!(n, out.len());
        }
        (out, r.is_err())
    }

    /// A small deterministic generator (xorshift) so the test needs no dependency.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn bulk_decoding_equals_the_iterator_on_varied_chunks() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for case in 0..300 {
            let mut c = XorChunk::new();
            let n = 1 + rng(&mut seed) % 200;
            let mut t = (rng(&mut seed) % 1_000_000) as i64 - 500_000;
            let mut v = 0.0_f64;
            for _ in 0..n {
                // Steady steps, jitter, and the occasional huge gap (64-bit delta-of-delta).
                t += match rng(&mut seed) % 10 {
                    0 => (rng(&mut seed) % (1 << 40)) as i64,
                    1..=3 => 15_000 + (rng(&mut seed) % 2_000) as i64 - 1_000,
                    _ => 15_000,
                };
                v = match (case % 5, rng(&mut seed) % 6) {
                    (0, _) => v + 1.0,
                    (1, 0) => f64::from_bits(rng(&mut seed)),
                    (_, 0) => v,
                    (_, 1) => kagari_model::STALE_NAN,
                    (_, 2) => -v * 1.5,
                    _ => v + (rng(&mut seed) % 1000) as f64 / 7.0,
                };
                c.append(t, v).unwrap();
            }
            let bytes = c.bytes();
            let (want, werr) = via_iterator(bytes);
            assert!(!werr, "case {case}");
            assert_eq!(via_bulk(bytes), (want, false), "case {case}");
            // Every truncation: the bulk decoder pushes what the iterator returns and fails
            // where it fails (or both end cleanly), never panics.
            for cut in 0..bytes.len() {
                let part = bytes.get(..cut).unwrap();
                let (w, we) = via_iterator(part);
                let (b, be) = via_bulk(part);
                assert_eq!((&b, be), (&w, we), "case {case} cut {cut}");
            }
        }
    }

    #[test]
    fn empty_and_header_only_chunks() {
        assert_eq!(via_bulk(&[]), (vec![], false));
        assert_eq!(via_bulk(&[0, 0]), (vec![], false));
        assert!(via_bulk(&[0]).1);
        assert!(via_bulk(&[0, 3]).1);
    }
}
