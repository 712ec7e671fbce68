//! Go's `time` printing, in UTC: `Time.String()`, `Time.Format(layout)` and
//! `Duration.String()`, for output that must match Prometheus's byte for byte (template
//! functions, notifier timestamps, promtool-style listings).
//!
//! ```
//! use kagari_model::{go_duration_string, go_time_format, go_time_string};
//!
//! let ns = 1_600_000_000_500_000_000_i128; // 2020-09-13 12:26:40.5 UTC
//! assert_eq!(go_time_string(ns), "2020-09-13 12:26:40.5 +0000 UTC");
//! assert_eq!(go_time_format(ns, "2006-01-02T15:04:05.000Z07:00"), "2020-09-13T12:26:40.500Z");
//! assert_eq!(go_duration_string(90_000_000_000), "1m30s");
//! ```

use std::fmt::Write;

/// Civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    weekday: usize,
    yday: u32,
}

fn parts(ns: i128) -> Parts {
    let secs = ns
        .div_euclid(1_000_000_000)
        .clamp(i128::from(i64::MIN / 2), i128::from(i64::MAX / 2)) as i64;
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil(days);
    let (jan1, _, _) = (civil_to_days(year, 1, 1), 0, 0);
    Parts {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
        nanos,
        weekday: (days + 4).rem_euclid(7) as usize,
        yday: (days - jan1 + 1) as u32,
    }
}

fn civil_to_days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

type Emit<'a> = &'a dyn Fn(&mut String);

/// Go's `time.Time.String()` for a UTC time given in nanoseconds since the epoch:
/// `2006-01-02 15:04:05.999999999 +0000 UTC` (trailing zeros of the fraction dropped).
pub fn go_time_string(ns: i128) -> String {
    go_time_format(ns, "2006-01-02 15:04:05.999999999 -0700 MST")
}

/// Go's `Time.Format(layout)` for a UTC time given in nanoseconds since the epoch: the
/// reference-time elements (`2006`, `01`, `Jan`, `_2`, `15`, `03`, `PM`, `.000`, `.999`,
/// `Z07:00`, `MST`...); anything else is copied.
pub fn go_time_format(ns: i128, layout: &str) -> String {
    let p = parts(ns);
    let mut out = String::new();
    let mut rest = layout;
    let month = MONTHS.get(p.month as usize - 1).copied().unwrap_or("");
    let wday = DAYS.get(p.weekday).copied().unwrap_or("");
    let h12 = if p.hour % 12 == 0 { 12 } else { p.hour % 12 };
    while let Some(c) = rest.chars().next() {
        let tokens: &[(&str, Emit<'_>)] = &[
            ("January", &|o| o.push_str(month)),
            ("Jan", &|o| o.push_str(month.get(..3).unwrap_or(""))),
            ("Monday", &|o| o.push_str(wday)),
            ("Mon", &|o| o.push_str(wday.get(..3).unwrap_or(""))),
            ("MST", &|o| o.push_str("UTC")),
            ("2006", &|o| {
                let _ = write!(o, "{:04}", p.year);
            }),
            ("-07:00:00", &|o| o.push_str("+00:00:00")),
            ("-0700", &|o| o.push_str("+0000")),
            ("-07:00", &|o| o.push_str("+00:00")),
            ("-07", &|o| o.push_str("+00")),
            ("Z07:00", &|o| o.push('Z')),
            ("Z0700", &|o| o.push('Z')),
            ("Z07", &|o| o.push('Z')),
            ("002", &|o| {
                let _ = write!(o, "{:03}", p.yday);
            }),
            ("01", &|o| {
                let _ = write!(o, "{:02}", p.month);
            }),
            ("02", &|o| {
                let _ = write!(o, "{:02}", p.day);
            }),
            ("_2", &|o| {
                let _ = write!(o, "{:>2}", p.day);
            }),
            ("06", &|o| {
                let _ = write!(o, "{:02}", p.year.rem_euclid(100));
            }),
            ("15", &|o| {
                let _ = write!(o, "{:02}", p.hour);
            }),
            ("03", &|o| {
                let _ = write!(o, "{h12:02}");
            }),
            ("04", &|o| {
                let _ = write!(o, "{:02}", p.min);
            }),
            ("05", &|o| {
                let _ = write!(o, "{:02}", p.sec);
            }),
            ("PM", &|o| {
                o.push_str(if p.hour >= 12 { "PM" } else { "AM" })
            }),
            ("pm", &|o| {
                o.push_str(if p.hour >= 12 { "pm" } else { "am" })
            }),
            ("1", &|o| {
                let _ = write!(o, "{}", p.month);
            }),
            ("2", &|o| {
                let _ = write!(o, "{}", p.day);
            }),
            ("3", &|o| {
                let _ = write!(o, "{h12}");
            }),
            ("4", &|o| {
                let _ = write!(o, "{}", p.min);
            }),
            ("5", &|o| {
                let _ = write!(o, "{}", p.sec);
            }),
        ];
        // Fractional seconds: ".000" / ",000" (fixed) or ".999" (trimmed).
        if (c == '.' || c == ',') && rest.len() > 1 {
            let frac = rest.get(1..).unwrap_or("");
            let n0 = frac.bytes().take_while(|b| *b == b'0').count();
            let n9 = frac.bytes().take_while(|b| *b == b'9').count();
            let next_digit = |n: usize| frac.as_bytes().get(n).is_some_and(u8::is_ascii_digit);
            if (n0 > 0 && !next_digit(n0)) || (n9 > 0 && !next_digit(n9)) {
                let n = n0.max(n9);
                let digits = format!("{:09}", p.nanos);
                let mut d = digits.get(..n.min(9)).unwrap_or("").to_string();
                if n9 > 0 {
                    while d.ends_with('0') {
                        d.pop();
                    }
                    if !d.is_empty() {
                        out.push(c);
                        out.push_str(&d);
                    }
                } else {
                    out.push(c);
                    out.push_str(&d);
                }
                rest = frac.get(n..).unwrap_or("");
                continue;
            }
        }
        if let Some((tok, f)) = tokens.iter().find(|(t, _)| rest.starts_with(t)) {
            f(&mut out);
            rest = rest.get(tok.len()..).unwrap_or("");
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
    }
    out
}

/// Go's `time.Duration.String()` of a duration in nanoseconds: `1h2m3.5s`, `1.5s`,
/// `150ms`, `0s`.
pub fn go_duration_string(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let frac = |out: &mut String, v: u64, unit: u64, suffix: &str| {
        let _ = write!(out, "{}", v / unit);
        let mut f = format!("{:0w$}", v % unit, w = unit.ilog10() as usize);
        while f.ends_with('0') {
            f.pop();
        }
        if !f.is_empty() {
            out.push('.');
            out.push_str(&f);
        }
        out.push_str(suffix);
    };
    if u < 1_000 {
        let _ = write!(out, "{u}ns");
    } else if u < 1_000_000 {
        frac(&mut out, u, 1_000, "µs");
    } else if u < 1_000_000_000 {
        frac(&mut out, u, 1_000_000, "ms");
    } else {
        let secs = u / 1_000_000_000;
        let (h, m) = (secs / 3600, secs / 60 % 60);
        if h > 0 {
            let _ = write!(out, "{h}h{m}m");
        } else if m > 0 {
            let _ = write!(out, "{m}m");
        }
        frac(&mut out, u % 60_000_000_000, 1_000_000_000, "s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i128 = 1_600_000_000 * 1_000_000_000;

    #[test]
    fn time_strings() {
        assert_eq!(go_time_string(T), "2020-09-13 12:26:40 +0000 UTC");
        assert_eq!(
            go_time_string(1_600_000_000_500_000_000),
            "2020-09-13 12:26:40.5 +0000 UTC"
        );
        assert_eq!(go_time_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time_string(1_699_999_207 * 1_000_000_000),
            "2023-11-14 22:00:07 +0000 UTC"
        );
        assert_eq!(
            go_time_string(-1_000_000_000),
            "1969-12-31 23:59:59 +0000 UTC"
        );
        assert_eq!(
            go_time_string(951_782_400 * 1_000_000_000),
            "2000-02-29 00:00:00 +0000 UTC"
        );
    }

    #[test]
    fn layouts() {
        assert_eq!(go_time_format(T, "2006-01-02"), "2020-09-13");
        assert_eq!(
            go_time_format(T, "Mon Jan _2 15:04:05 2006"),
            "Sun Sep 13 12:26:40 2020"
        );
        assert_eq!(
            go_time_format(T, "2006-01-02T15:04:05Z07:00"),
            "2020-09-13T12:26:40Z"
        );
        assert_eq!(
            go_time_format(T + 5_000_000, "15:04:05.000 .999 PM 002 Monday January"),
            "12:26:40.005 .005 PM 257 Sunday September"
        );
        assert_eq!(go_time_format(T, "3:4:5 pm -0700"), "12:26:40 pm +0000");
    }

    #[test]
    fn durations() {
        assert_eq!(go_duration_string(0), "0s");
        assert_eq!(go_duration_string(90_000_000_000), "1m30s");
        assert_eq!(go_duration_string(1_500_000_000), "1.5s");
        assert_eq!(go_duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration_string(7_185_001_000_000), "1h59m45.001s");
        assert_eq!(go_duration_string(150_000_000), "150ms");
        assert_eq!(go_duration_string(1_500), "1.5µs");
        assert_eq!(go_duration_string(999), "999ns");
        assert_eq!(go_duration_string(-90_000_000_000), "-1m30s");
    }
}
