//! Date handling without a date crate: Duo only needs RFC 2822 request dates
//! (English names, numeric or GMT zone) and ISO-8601 `isotimestamp`s.

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Tue, 21 Aug 2012 17:29:18 -0000`, the form Python's `email.utils.formatdate()` produces.
pub fn format_rfc2822(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} -0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 2822 / RFC 1123 date into Unix seconds. Non-English day or month
/// names are rejected, as Duo does (it answers 40104 for them).
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    let s = s.trim();
    let rest = match s.split_once(',') {
        Some((day, rest)) => {
            if !DAYS.contains(&day.trim()) {
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
        assert_eq!(format_rfc2822(secs), "Tue, 21 Aug 2012 17:29:18 -0000");
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
