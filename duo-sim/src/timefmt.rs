//! The date forms Duo reads and writes: RFC 2822 request dates (English
//! names, numeric or GMT zone) and ISO-8601 `isotimestamp`s, over
//! `oort-time`'s calendar.

use oort_time::{MONTHS, WEEKDAYS, civil_from_days, days_from_civil};

/// Parses an RFC 2822 / RFC 1123 date into Unix seconds. Non-English day or month
/// names are rejected, as Duo does (it answers 40104 for them).
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    let s = s.trim();
    let rest = match s.split_once(',') {
        Some((day, rest)) => {
            if !WEEKDAYS.contains(&day.trim()) {
                return None;
            }
            rest
        }
        None => s,
    };
    let mut parts = rest.split_ascii_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next().map_or(Some(0), |v| v.parse().ok())?;
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // A missing zone is read as UTC: Duo's own Python test vector omits it.
    let offset = match parts.next() {
        None | Some("GMT" | "UT" | "UTC" | "Z") => 0,
        Some(z) => parse_zone(z)?,
    };
    if parts.next().is_some() || !(1970..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

fn parse_zone(z: &str) -> Option<i64> {
    let (sign, digits) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hh: i64 = digits[..2].parse().ok()?;
    let mm: i64 = digits[2..].parse().ok()?;
    Some(sign * (hh * 3600 + mm * 60))
}

/// `2020-02-13T18:56:20.351346+00:00`: Duo's isotimestamp carries microseconds.
pub fn format_iso_micros(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `2020-02-13T18:56:20.351000+00:00`-style without sub-millisecond digits (telephony `ts`).
pub fn format_iso_millis(ms: i64) -> String {
    format_iso_micros(ms * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc2822() {
        let secs = 1_345_570_158; // Tue, 21 Aug 2012 17:29:18 UTC
        assert_eq!(oort_time::rfc2822(secs), "Tue, 21 Aug 2012 17:29:18 -0000");
        assert_eq!(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 -0000"), Some(secs));
        assert_eq!(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 +0000"), Some(secs));
        assert_eq!(parse_rfc2822("Tue, 21 Aug 2012 17:29:18 GMT"), Some(secs));
        assert_eq!(parse_rfc2822("Tue, 21 Aug 2012 19:29:18 +0200"), Some(secs));
    }

    #[test]
    fn rejects_non_english_and_garbage() {
        assert_eq!(parse_rfc2822("Mi, 14 Aug 2024 10:00:00 +0000"), None);
        assert_eq!(parse_rfc2822("Tue, 21 Okt 2012 17:29:18 -0000"), None);
        assert_eq!(parse_rfc2822("1345570158"), None);
        assert_eq!(parse_rfc2822(""), None);
    }

    #[test]
    fn iso_format() {
        assert_eq!(
            format_iso_micros(1_581_620_180_351_346),
            "2020-02-13T18:56:20.351346+00:00"
        );
    }
}
