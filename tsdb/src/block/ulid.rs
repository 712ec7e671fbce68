//! ULIDs, the names of block directories: 48-bit millisecond time + 80 random bits, written as
//! 26 characters of Crockford base32.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A 128-bit ULID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(pub u128);

impl Ulid {
    /// A new ULID for the current time with 80 random bits.
    ///
    /// The random part comes from the standard library's randomly keyed hasher mixed with a
    /// process-wide counter: unique enough for block names, not meant for cryptography.
    pub fn new() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Self::from_parts(ms as u64, random_u128())
    }

    /// Builds a ULID from a millisecond timestamp (low 48 bits) and randomness (low 80 bits).
    pub fn from_parts(ms: u64, random: u128) -> Self {
        let time = u128::from(ms & ((1 << 48) - 1));
        Ulid((time << 80) | (random & ((1u128 << 80) - 1)))
    }

    /// The millisecond timestamp part.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }
}

impl Default for Ulid {
    fn default() -> Self {
        Self::new()
    }
}

fn random_u128() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let state = std::collections::hash_map::RandomState::new();
    let mut out = 0u128;
    for i in 0..2u64 {
        let mut h = state.build_hasher();
        h.write_u64(n);
        h.write_u64(i);
        h.write_u32(std::process::id());
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out = (out << 64) | u128::from(h.finish());
    }
    out
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 26];
        for (i, b) in buf.iter_mut().rev().enumerate() {
            let idx = ((self.0 >> (5 * i)) & 31) as usize;
            *b = ALPHABET.get(idx).copied().unwrap_or(b'0');
        }
        f.write_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl FromStr for Ulid {
    type Err = Error;

    /// Strict parse: 26 Crockford base32 characters (either case), first one `0`-`7`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::corrupt("ULID", 0, format!("{s:?}: {reason}"));
        if s.len() != 26 {
            return Err(bad("must be 26 characters"));
        }
        let mut v = 0u128;
        for (i, c) in s.bytes().enumerate() {
            let c = c.to_ascii_uppercase();
            let d = ALPHABET
                .iter()
                .position(|&a| a == c)
                .ok_or_else(|| bad("invalid character"))?;
            if i == 0 && d > 7 {
                return Err(bad("overflows 128 bits"));
            }
            v = (v << 5) | d as u128;
        }
        Ok(Ulid(v))
    }
}

impl serde::Serialize for Ulid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Ulid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_promtool_ulid() {
        let s = "01M80PNGX1209N705AFM892FHF";
        let u: Ulid = s.parse().unwrap();
        assert_eq!(u.to_string(), s);
        assert_eq!(s.to_lowercase().parse::<Ulid>().unwrap(), u);
        assert!("81M80PNGX1209N705AFM892FHF".parse::<Ulid>().is_err());
        assert!("01M80PNGX1209N705AFM892FH".parse::<Ulid>().is_err());
        assert!("01M80PNGX1209N705AFM892FHU".parse::<Ulid>().is_err());
    }

    #[test]
    fn new_ulids_carry_time_and_differ() {
        let a = Ulid::new();
        let b = Ulid::new();
        assert_ne!(a, b);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(a.timestamp_ms() <= now && now - a.timestamp_ms() < 60_000);
        assert_eq!(
            Ulid::from_parts(1, 2).to_string(),
            "00000000010000000000000002"
        );
    }
}
