//! Bit streams, most significant bit first, as used inside XOR (and histogram) chunks.

/// Appends bits to a byte vector, filling each byte from bit 7 down to bit 0.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Free bits remaining in the last byte (0 means a new byte is needed).
    free: u8,
}

impl BitWriter {
    /// Starts from existing bytes whose last byte has `free` unused low bits.
    pub(crate) fn from_bytes(bytes: Vec<u8>, free: u8) -> Self {
        BitWriter {
            bytes,
            free: free.min(7),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Marks the last byte as full (after the caller replaced the bytes with whole ones).
    pub(crate) fn reset_free(&mut self) {
        self.free = 0;
    }

    /// Writes the `n` low bits of `v` (n ≤ 64), highest of them first.
    #[inline]
    pub(crate) fn write_bits(&mut self, v: u64, n: u8) {
        let n = u32::from(n.min(64));
        if n == 0 {
            return;
        }
        // The used high bits of the last byte (if it has free bits) and the new bits, as one
        // left-aligned 128-bit window that replaces the last byte: at most 7 + 64 bits.
        let (start, used, head) = match self.bytes.last() {
            Some(&last) if self.free > 0 => (self.bytes.len() - 1, 8 - u32::from(self.free), last),
            _ => (self.bytes.len(), 0, 0),
        };
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let window = (u128::from(head) << 120) | (u128::from(v) << (128 - used - n));
        let total = used + n;
        let nbytes = total.div_ceil(8);
        // A fixed 16-byte copy and a truncate are cheaper than a copy of `nbytes` bytes, which
        // goes through `memcpy`.
        self.bytes.truncate(start);
        self.bytes.extend_from_slice(&window.to_be_bytes());
        self.bytes.truncate(start + nbytes as usize);
        self.free = (nbytes * 8 - total) as u8;
    }

    /// Writes a whole byte bit by bit (byte-aligned only if the stream is).
    #[inline]
    pub(crate) fn write_byte(&mut self, b: u8) {
        self.write_bits(u64::from(b), 8);
    }
}

/// Reads bits from a byte slice, most significant bit first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Current position in bits.
    pub(crate) fn bit_pos(&self) -> usize {
        self.pos
    }

    /// Reads `n` bits (n ≤ 64); `None` at end of data.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u8) -> Option<u64> {
        let n = n.min(64);
        if n == 0 {
            return Some(0);
        }
        if self.pos + usize::from(n) > self.data.len() * 8 {
            return None;
        }
        let byte = self.pos >> 3;
        let off = (self.pos & 7) as u32;
        // Fast path: one big-endian word holds all the bits we need.
        if u32::from(n) + off <= 64 {
            if let Some(b) = self.data.get(byte..byte + 8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let w = u64::from_be_bytes(a);
                self.pos += usize::from(n);
                return Some((w << off) >> (64 - u32::from(n)));
            }
        }
        self.read_bits_slow(n)
    }

    fn read_bits_slow(&mut self, n: u8) -> Option<u64> {
        let mut need = n;
        let mut out = 0u64;
        while need > 0 {
            let byte = u64::from(*self.data.get(self.pos >> 3)?);
            let off = (self.pos & 7) as u8;
            let avail = 8 - off;
            let take = avail.min(need);
            let bits = (byte >> (avail - take)) & ((1u64 << take) - 1);
            out = (out << take) | bits;
            need -= take;
            self.pos += usize::from(take);
        }
        Some(out)
    }

    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        self.read_bits(1).map(|b| b == 1)
    }

    #[inline]
    pub(crate) fn read_byte(&mut self) -> Option<u8> {
        self.read_bits(8).map(|b| b as u8)
    }

    /// Reads an unsigned LEB128 varint from the bit stream (byte by byte).
    pub(crate) fn read_uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let b = self.read_byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return None;
                }
                return Some(x | (u64::from(b) << s));
            }
            x |= u64::from(b & 0x7f) << s;
            s += 7;
        }
        None
    }

    /// Reads a zig-zag signed varint from the bit stream.
    pub(crate) fn read_varint(&mut self) -> Option<i64> {
        let u = self.read_uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_byte_boundaries() {
        let mut w = BitWriter::default();
        let fields: &[(u64, u8)] = &[
            (1, 1),
            (0b101, 3),
            (0xABCD, 16),
            (u64::MAX, 64),
            (0, 5),
            (0x1F, 5),
            (0x123456789, 37),
        ];
        for &(v, n) in fields {
            w.write_bits(v, n);
        }
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for &(v, n) in fields {
            assert_eq!(r.read_bits(n), Some(v), "field of {n} bits");
        }
        // The padding is at most 7 bits, then the stream is exhausted.
        assert!(bytes.len() * 8 - r.bit_pos() < 8);
        assert_eq!(r.read_bits(8), None);
    }

    #[test]
    fn random_fields_round_trip() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut fields = Vec::new();
        let mut w = BitWriter::default();
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 65) as u8;
            let v = x.rotate_left(17) & if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            w.write_bits(v, n);
            fields.push((v, n));
        }
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for (i, &(v, n)) in fields.iter().enumerate() {
            assert_eq!(r.read_bits(n), Some(v), "field {i} of {n} bits");
        }
        assert_eq!(bytes.len(), r.bit_pos().div_ceil(8));
    }

    #[test]
    fn msb_first_layout() {
        let mut w = BitWriter::default();
        w.write_bits(1, 1);
        w.write_bits(0b01, 2);
        w.write_byte(0xFF);
        assert_eq!(w.bytes(), &[0b1011_1111, 0b1110_0000]);
    }
}
