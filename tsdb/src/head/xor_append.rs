//! An XOR chunk that keeps its encoder state between appends.
//!
//! [`XorChunk::appender`](crate::chunkenc::XorChunk::appender) recovers the encoder state by
//! decoding the whole chunk, which is right for chunks read from disk but makes every head
//! append O(samples in chunk). The head keeps the state instead. The bytes produced are
//! identical to `XorChunk`'s (checked by a property test below), so everything reading XOR
//! chunks reads these.

/// Marks "no previous leading/trailing window" (the first XOR-encoded value).
const NO_WINDOW: u8 = 0xff;

/// An XOR chunk being appended to, with its encoder state.
#[derive(Debug, Clone)]
pub(crate) struct XorBuilder {
    /// Chunk bytes: 2-byte big-endian sample count, then the bit stream.
    bytes: Vec<u8>,
    /// Unused low bits of the last byte.
    free: u8,
    num: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl XorBuilder {
    pub(crate) fn new() -> Self {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(&[0, 0]);
        XorBuilder {
            bytes,
            free: 0,
            num: 0,
            t: 0,
            v_bits: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// The encoded chunk.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes the builder, returning the chunk bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub(crate) fn num_samples(&self) -> u16 {
        self.num
    }

    /// Writes the `n` low bits of `v`, highest first.
    fn write_bits(&mut self, v: u64, n: u8) {
        let mut n = n.min(64);
        let mut v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = self.free.min(n);
            let bits = ((v >> (n - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= bits << (self.free - take);
            }
            self.free -= take;
            n -= take;
            if n < 64 {
                v &= (1u64 << n).wrapping_sub(1);
            }
        }
    }

    fn write_uvarint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.write_bits(u64::from((x as u8) | 0x80), 8);
            x >>= 7;
        }
        self.write_bits(x, 8);
    }

    fn write_xor(&mut self, new: u64) {
        let delta = new ^ self.v_bits;
        if delta == 0 {
            self.write_bits(0, 1);
            return;
        }
        let lead = (delta.leading_zeros() as u8).min(31);
        let trail = delta.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && lead >= self.leading && trail >= self.trailing {
            self.write_bits(0b10, 2);
            self.write_bits(delta >> self.trailing, 64 - self.leading - self.trailing);
            return;
        }
        self.leading = lead;
        self.trailing = trail;
        let sig = 64 - lead - trail;
        self.write_bits(
            (0b11 << 11) | (u64::from(lead) << 6) | (u64::from(sig) & 0x3f),
            13,
        );
        self.write_bits(delta >> trail, sig);
    }

    /// Appends a sample; the caller guarantees `t` is after the previous sample and the chunk
    /// holds fewer than 65535 samples (the head cuts chunks long before).
    pub(crate) fn append(&mut self, t: i64, v: f64) {
        let v_bits = v.to_bits();
        let mut t_delta = 0;
        match self.num {
            0 => {
                self.write_uvarint(((t << 1) ^ (t >> 63)) as u64);
                self.write_bits(v_bits, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                self.write_uvarint(t_delta);
                self.write_xor(v_bits);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                let low = |n: u8| (dod as u64) & ((1u64 << n) - 1);
                let fits = |n: u8| {
                    let half = 1i64 << (n - 1);
                    -(half - 1) <= dod && dod <= half
                };
                if dod == 0 {
                    self.write_bits(0, 1);
                } else if fits(14) {
                    self.write_bits((0b10 << 14) | low(14), 16);
                } else if fits(17) {
                    self.write_bits((0b110 << 17) | low(17), 20);
                } else if fits(20) {
                    self.write_bits((0b1110 << 20) | low(20), 24);
                } else {
                    self.write_bits(0b1111, 4);
                    self.write_bits(dod as u64, 64);
                }
                self.write_xor(v_bits);
            }
        }
        self.t = t;
        self.v_bits = v_bits;
        self.t_delta = t_delta;
        self.num = self.num.saturating_add(1);
        let header = self.num.to_be_bytes();
        if let Some(h) = self.bytes.get_mut(..2) {
            h.copy_from_slice(&header);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorChunk;
    use proptest::prelude::*;

    fn reference(samples: &[(i64, u64)]) -> Vec<u8> {
        let mut c = XorChunk::new();
        let mut app = c.appender().unwrap();
        for &(t, v) in samples {
            app.append(t, f64::from_bits(v)).unwrap();
        }
        c.into_bytes()
    }

    fn ours(samples: &[(i64, u64)]) -> Vec<u8> {
        let mut b = XorBuilder::new();
        for &(t, v) in samples {
            b.append(t, f64::from_bits(v));
        }
        b.into_bytes()
    }

    fn series() -> impl Strategy<Value = Vec<(i64, u64)>> {
        let delta = prop_oneof![
            Just(15_000i64),
            1i64..100,
            1i64..20_000_000,
            1i64..(1i64 << 40),
        ];
        let value = prop_oneof![
            Just(0x7FF0_0000_0000_0002u64),
            Just(1.0f64.to_bits()),
            (0u32..100).prop_map(|x| f64::from(x).to_bits()),
            any::<u64>(),
        ];
        (
            -(1i64 << 41)..(1i64 << 41),
            prop::collection::vec((delta, value), 0..200),
        )
            .prop_map(|(start, steps)| {
                let mut t = start;
                steps
                    .into_iter()
                    .map(|(d, v)| {
                        t += d;
                        (t, v)
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn bytes_equal_the_chunkenc_appender(samples in series()) {
            prop_assert_eq!(ours(&samples), reference(&samples));
        }
    }

    #[test]
    fn scrape_like_series_match() {
        let s: Vec<(i64, u64)> = (0..120)
            .map(|i| {
                (
                    1_700_000_000_000 + i * 15_000 + i % 3,
                    (i as f64 * 0.5).to_bits(),
                )
            })
            .collect();
        assert_eq!(ours(&s), reference(&s));
    }
}
