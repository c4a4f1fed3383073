//! Calendar arithmetic without a time crate: the RFC 2822 `Date` header Duo
//! signs (English names whatever the locale, or Duo answers 40104) and the ISO
//! 8601 timestamps Duo returns.

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01
/// (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `Tue, 21 Aug 2012 17:29:18 -0000` for a Unix time in seconds (UTC).
pub fn rfc2822(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} -0000",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Milliseconds since the epoch of an ISO 8601 timestamp such as
/// `2020-02-13T18:56:20.351346+00:00`, `2022-10-25T16:07:45.304526Z` or
/// `2019-03-04T15:04:00` (taken as UTC). Sub-millisecond digits are truncated,
/// which is how Duo derives `next_offset` from `isotimestamp`.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)? as u32;
    let day = digits(b, 8, 2)? as u32;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b' '))
    {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            millis += i64::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_secs = match b.get(i) {
        None | Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let om = if b.get(i + 3) == Some(&b':') {
                digits(b, i + 4, 2)?
            } else {
                digits(b, i + 3, 2)?
            };
            let total = oh * 3600 + om * 60;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2822_matches_duo_examples() {
        assert_eq!(rfc2822(1_345_570_158), "Tue, 21 Aug 2012 17:29:18 -0000");
        assert_eq!(rfc2822(1_354_900_680), "Fri, 07 Dec 2012 17:18:00 -0000");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 -0000");
        // leap day, and a date before the epoch
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 -0000");
        assert_eq!(rfc2822(-86_400), "Wed, 31 Dec 1969 00:00:00 -0000");
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn iso8601_variants() {
        assert_eq!(
            parse_iso8601_ms("2020-02-13T18:56:20.351346+00:00"),
            Some(1_581_620_180_351)
        );
        assert_eq!(
            parse_iso8601_ms("2020-02-13T18:56:20.351Z"),
            Some(1_581_620_180_351)
        );
        assert_eq!(
            parse_iso8601_ms("2020-02-13T19:56:20.351+01:00"),
            Some(1_581_620_180_351)
        );
        assert_eq!(
            parse_iso8601_ms("2020-02-13T18:56:20"),
            Some(1_581_620_180_000)
        );
        assert_eq!(parse_iso8601_ms("2020-02-13"), None);
        assert_eq!(parse_iso8601_ms("not a date at all"), None);
        assert_eq!(parse_iso8601_ms("2020-13-13T18:56:20Z"), None);
    }
}
