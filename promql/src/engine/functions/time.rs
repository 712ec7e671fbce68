//! Calendar kernels on timestamps in seconds (UTC): `year`, `month`, `day_of_month`, ...

/// A broken-down UTC date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 1970.
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day of month 1–31.
    pub day: u32,
    /// Hour 0–23.
    pub hour: u32,
    /// Minute 0–59.
    pub minute: u32,
    /// Day of week 0–6, Sunday = 0.
    pub weekday: u32,
    /// Day of year 1–366.
    pub yday: u32,
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1–12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Breaks `secs` since the epoch (fraction truncated towards -Inf) into UTC fields; `None`
/// for NaN or values too large to be a date.
pub fn civil(secs: f64) -> Option<Civil> {
    if !secs.is_finite() || secs.abs() > 1e17 {
        return None;
    }
    let s = secs.floor() as i64;
    let days = s.div_euclid(86_400);
    let rem = s.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let cum: u32 = (1..month).map(|m| days_in_month(year, m)).sum();
    Some(Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        yday: cum + day,
    })
}

/// Evaluates calendar function `name` on `secs`; `None` if `name` is not one.
pub fn calendar(name: &str, secs: f64) -> Option<f64> {
    let c = civil(secs);
    let f = |g: fn(&Civil) -> f64| c.as_ref().map_or(f64::NAN, g);
    Some(match name {
        "year" => f(|c| c.year as f64),
        "month" => f(|c| f64::from(c.month)),
        "day_of_month" => f(|c| f64::from(c.day)),
        "day_of_week" => f(|c| f64::from(c.weekday)),
        "day_of_year" => f(|c| f64::from(c.yday)),
        "days_in_month" => f(|c| f64::from(days_in_month(c.year, c.month))),
        "hour" => f(|c| f64::from(c.hour)),
        "minute" => f(|c| f64::from(c.minute)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_leap_days() {
        let c = civil(0.0).unwrap();
        assert_eq!(
            (c.year, c.month, c.day, c.weekday, c.yday),
            (1970, 1, 1, 4, 1)
        );
        // 2020-02-29T13:45:00Z = 1582983900.
        let c = civil(1_582_983_900.0).unwrap();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2020, 2, 29, 13, 45)
        );
        assert_eq!(c.yday, 60);
        assert_eq!(c.weekday, 6);
        assert_eq!(calendar("days_in_month", 1_582_983_900.0), Some(29.0));
        // One second before the epoch is 1969-12-31T23:59:59, a Wednesday.
        let c = civil(-1.0).unwrap();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.weekday, c.yday),
            (1969, 12, 31, 23, 3, 365)
        );
        assert!(calendar("hour", f64::NAN).unwrap().is_nan());
    }
}
