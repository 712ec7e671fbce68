//! Byte-level helpers shared by the block file formats: big-endian integers, varints,
//! length-prefixed strings and CRC32C checks, with errors that carry the file and offset.

use crate::error::{Error, Result};

/// Appends a big-endian `u32`.
pub(crate) fn put_be32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian `u64`.
pub(crate) fn put_be64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends an unsigned LEB128 varint.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends a zig-zag signed varint.
pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a uvarint length followed by the bytes.
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// Checks that CRC32C(`data`) equals `stored`.
pub(crate) fn check_crc(file: &str, offset: u64, data: &[u8], stored: u32) -> Result<()> {
    let computed = crc32c::crc32c(data);
    if computed != stored {
        return Err(Error::Checksum {
            file: file.to_string(),
            offset,
            stored,
            computed,
        });
    }
    Ok(())
}

/// A cursor over bytes of a file; every read is bounds-checked and reports the absolute offset.
#[derive(Debug, Clone)]
pub(crate) struct Decbuf<'a> {
    data: &'a [u8],
    pos: usize,
    /// Absolute file offset of `data[0]`.
    base: u64,
    file: &'a str,
}

impl<'a> Decbuf<'a> {
    pub(crate) fn new(file: &'a str, data: &'a [u8], base: u64) -> Self {
        Decbuf {
            data,
            pos: 0,
            base,
            file,
        }
    }

    /// Absolute file offset of the cursor.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::corrupt(self.file, self.offset(), reason)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err("length overflow"))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.err(format!("need {n} bytes, {} left", self.remaining())))?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn byte(&mut self) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn be32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn be64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let start = self.offset();
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let b = self.byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    break;
                }
                return Ok(x | (u64::from(b) << s));
            }
            x |= u64::from(b & 0x7f) << s;
            s += 7;
        }
        Err(Error::corrupt(self.file, start, "varint overflows 64 bits"))
    }

    pub(crate) fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A uvarint-length-prefixed byte string.
    pub(crate) fn str_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.err("string length overflow"))?;
        self.bytes(n)
    }

    /// A uvarint-length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let start = self.offset();
        let b = self.str_bytes()?;
        std::str::from_utf8(b)
            .map_err(|e| Error::corrupt(self.file, start, format!("invalid UTF-8: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_go() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0]),
            (-1, &[1]),
            (1, &[2]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 1]),
        ];
        for (v, want) in cases {
            let mut b = Vec::new();
            put_varint(&mut b, *v);
            assert_eq!(&b, want);
            assert_eq!(Decbuf::new("t", &b, 0).varint().unwrap(), *v);
        }
        let mut b = Vec::new();
        put_varint(&mut b, 1700000000000);
        assert_eq!(b, [0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62]);
        for v in [0u64, 127, 128, 300, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(Decbuf::new("t", &b, 0).uvarint().unwrap(), v);
        }
    }

    #[test]
    fn errors_carry_offsets() {
        let data = [0xffu8; 11];
        let e = Decbuf::new("f", &data, 100).uvarint().unwrap_err();
        assert!(matches!(e, Error::Corruption { offset: 100, .. }), "{e}");
        let mut d = Decbuf::new("f", &[1, 2], 10);
        d.byte().unwrap();
        assert!(matches!(
            d.be32(),
            Err(Error::Corruption { offset: 11, .. })
        ));
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert!(check_crc("f", 0, b"123456789", 0xE306_9283).is_ok());
        assert!(matches!(
            check_crc("f", 3, b"x", 0),
            Err(Error::Checksum { offset: 3, .. })
        ));
    }
}
