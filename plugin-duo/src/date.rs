//! The ISO 8601 timestamps Duo returns, read without a time crate (the
//! calendar, and the RFC 2822 `Date` header Duo signs, are `oort-time`'s).

use oort_time::days_from_civil;

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
