//! Prometheus durations (`1m30s`, `1d`, `500ms`) and sizes (`10MB`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Prometheus duration: `0` or `[0-9]+(y|w|d|h|m|s|ms)` pairs in decreasing unit order.
///
/// Printed in canonical form (`1m30s`, `1d`, `0s`), as `model.Duration.String()` does.
///
/// ```
/// use kagari_scrape::PromDuration;
/// let d: PromDuration = "1m30s".parse().unwrap();
/// assert_eq!(d.as_duration().as_secs(), 90);
/// assert_eq!(d.to_string(), "1m30s");
/// assert_eq!("90s".parse::<PromDuration>().unwrap().to_string(), "1m30s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(Duration);

/// Why a duration or size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitParseError {
    /// Not a duration.
    #[error("not a valid duration string: {0:?}")]
    Duration(String),
    /// Not a size.
    #[error("units: unknown unit or invalid size {0:?}")]
    Size(String),
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl PromDuration {
    /// Wraps a std duration (sub-millisecond precision is kept but not printed).
    pub const fn new(d: Duration) -> Self {
        PromDuration(d)
    }

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        PromDuration(Duration::from_secs(s))
    }

    /// The std duration.
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl std::str::FromStr for PromDuration {
    type Err = UnitParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || UnitParseError::Duration(s.to_string());
        if s == "0" {
            return Ok(PromDuration::default());
        }
        if s.is_empty() {
            return Err(err());
        }
        let b = s.as_bytes();
        let mut pos = 0;
        let mut next_unit = 0; // index into UNITS: units must decrease and appear once
        let mut total: u64 = 0;
        while pos < b.len() {
            let start = pos;
            while pos < b.len() && b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            if pos == start {
                return Err(err());
            }
            let n: u64 = s
                .get(start..pos)
                .and_then(|d| d.parse().ok())
                .ok_or_else(err)?;
            let ustart = pos;
            while pos < b.len() && b.get(pos).is_some_and(u8::is_ascii_alphabetic) {
                pos += 1;
            }
            let unit = s.get(ustart..pos).ok_or_else(err)?;
            let idx = UNITS
                .get(next_unit..)
                .unwrap_or(&[])
                .iter()
                .position(|(u, _)| *u == unit)
                .map(|i| i + next_unit)
                .ok_or_else(err)?;
            let (_, ms) = UNITS.get(idx).copied().ok_or_else(err)?;
            total = n
                .checked_mul(ms)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(err)?;
            next_unit = idx + 1;
        }
        Ok(PromDuration(Duration::from_millis(total)))
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            let n = ms / size;
            if n > 0 {
                write!(f, "{n}{unit}")?;
                ms -= n * size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A byte size written with a base-2 unit (`10MB` = 10 MiB); `0` means "no limit".
///
/// ```
/// use kagari_scrape::ByteSize;
/// assert_eq!("10MB".parse::<ByteSize>().unwrap().bytes(), 10 * 1024 * 1024);
/// assert_eq!("0".parse::<ByteSize>().unwrap().bytes(), 0);
/// assert!("10".parse::<ByteSize>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size in bytes (0 = unlimited).
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl std::str::FromStr for ByteSize {
    type Err = UnitParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || UnitParseError::Size(s.to_string());
        if s == "0" {
            return Ok(ByteSize(0));
        }
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (num, unit) = s.split_at(split);
        let n: u64 = num.parse().map_err(|_| err())?;
        let shift = match unit {
            "B" => 0,
            "KB" | "KiB" => 10,
            "MB" | "MiB" => 20,
            "GB" | "GiB" => 30,
            "TB" | "TiB" => 40,
            "PB" | "PiB" => 50,
            "EB" | "EiB" => 60,
            _ => return Err(err()),
        };
        n.checked_mul(1u64 << shift).map(ByteSize).ok_or_else(err)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        for (unit, shift) in [
            ("EB", 60),
            ("PB", 50),
            ("TB", 40),
            ("GB", 30),
            ("MB", 20),
            ("KB", 10),
        ] {
            if self.0 % (1u64 << shift) == 0 {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_canonically() {
        let cases = [
            ("0", Some(0u64), "0s"),
            ("0s", Some(0), "0s"),
            ("15s", Some(15_000), "15s"),
            ("90s", Some(90_000), "1m30s"),
            ("1m30s", Some(90_000), "1m30s"),
            ("1h30m", Some(5_400_000), "1h30m"),
            ("1d", Some(86_400_000), "1d"),
            ("2w", Some(14 * 86_400_000), "2w"),
            ("1y", Some(365 * 86_400_000), "1y"),
            ("500ms", Some(500), "500ms"),
            ("1s500ms", Some(1500), "1s500ms"),
            ("", None, ""),
            ("1.5s", None, ""),
            ("-1s", None, ""),
            ("1s1m", None, ""),
            ("1s1s", None, ""),
            ("10", None, ""),
            ("5x", None, ""),
        ];
        for (input, ms, canon) in cases {
            let got = input.parse::<PromDuration>();
            match ms {
                Some(ms) => {
                    let d = got.unwrap_or_else(|e| panic!("{input}: {e}"));
                    assert_eq!(d.as_duration().as_millis(), u128::from(ms), "{input}");
                    assert_eq!(d.to_string(), canon, "{input}");
                }
                None => assert!(got.is_err(), "{input} should fail"),
            }
        }
    }

    #[test]
    fn sizes() {
        assert_eq!("1KB".parse::<ByteSize>().unwrap().bytes(), 1024);
        assert_eq!("3B".parse::<ByteSize>().unwrap().bytes(), 3);
        assert_eq!("2GB".parse::<ByteSize>().unwrap().bytes(), 2 << 30);
        assert_eq!("5MB".parse::<ByteSize>().unwrap().to_string(), "5MB");
        for bad in ["", "MB", "10", "10XB", "-1MB", "1.5MB"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad}");
        }
    }
}
