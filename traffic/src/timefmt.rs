//! RFC 3339 timestamps, HTTP dates and access-log times without a
//! date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-22T20:30:00Z` for `t`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Days since 1970-01-01 of a civil date (the inverse of `civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 instant: `2026-12-03T14:00:00Z`, with optional
/// fractional seconds and a `+01:00`-style offset.
pub fn parse_rfc3339(s: &str) -> Result<SystemTime, String> {
    let bad = || format!("`{s}` is not an RFC 3339 time like 2026-12-03T14:00:00Z");
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
        s.get(r).and_then(|v| v.parse().ok()).ok_or_else(bad)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':'
        || b[16] != b':'
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return Err(bad());
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &f[..digits])
            .parse::<f64>()
            .map_err(|_| bad())?;
        rest = &f[digits..];
    }
    let offset_s: i64 = match rest {
        "Z" | "z" => 0,
        // ASCII first: a byte index into anything else may split a char.
        o if o.is_ascii() && o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
            let hh: i64 = o[1..3].parse().map_err(|_| bad())?;
            let mm: i64 = o[4..6].parse().map_err(|_| bad())?;
            let v = hh * 3600 + mm * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset_s;
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    Ok(
        UNIX_EPOCH
            + std::time::Duration::from_secs(secs)
            + std::time::Duration::from_secs_f64(frac),
    )
}

/// Parses an HTTP date in the form servers must send (RFC 9110's
/// IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`. The obsolete RFC 850 and
/// asctime forms are not read.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let mut parts = s.trim().split(' ');
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?.strip_suffix(',')?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let m = MONTHS.iter().position(|&x| x == month)? as u32 + 1;
    let (d, y): (u32, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<u32> = time
        .split(':')
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, sec] = hms[..] else { return None };
    if time.len() != 8 || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + i64::from(h * 3600 + mi * 60 + sec);
    Some(UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).ok()?))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an access log's time, as nginx's `$time_local` and Apache's `%t`
/// write it (brackets removed): `10/Oct/2000:13:55:36 -0700`, with optional
/// fractional seconds (`%{msec}`-style logs). Seconds since the epoch.
pub fn parse_clf(s: &str) -> Result<f64, String> {
    let bad = || format!("`{s}` is not an access-log time like 10/Oct/2000:13:55:36 -0700");
    let (stamp, zone) = s.trim().split_once(' ').ok_or_else(bad)?;
    let mut parts = stamp.splitn(4, ['/', ':']);
    let (day, month, year, clock) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    let m = MONTHS.iter().position(|&x| x == month).ok_or_else(bad)? as u32 + 1;
    let d: u32 = day.parse().map_err(|_| bad())?;
    let y: i64 = year.parse().map_err(|_| bad())?;
    let mut hms = clock.splitn(3, ':');
    let mut num = |max: f64| -> Result<f64, String> {
        let v: f64 = hms.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if (0.0..=max).contains(&v) {
            Ok(v)
        } else {
            Err(bad())
        }
    };
    let (h, mi, sec) = (num(23.0)?, num(59.0)?, num(60.999_999)?);
    let z = zone.as_bytes();
    if !zone.is_ascii() || z.len() != 5 || !matches!(z[0], b'+' | b'-') || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let hh: i64 = zone[1..3].parse().map_err(|_| bad())?;
    let mm: i64 = zone[3..5].parse().map_err(|_| bad())?;
    let offset_s = (hh * 3600 + mm * 60) * if z[0] == b'-' { -1 } else { 1 };
    let days = days_from_civil(y, m, d);
    Ok((days * 86_400 - offset_s) as f64 + h * 3600.0 + mi * 60.0 + sec)
}

/// `20261122-203000`, for directory names.
pub fn compact(t: SystemTime) -> String {
    rfc3339(t)
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn http_dates_in_the_fixed_form_are_read_and_others_refused() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(784_111_777));
        assert_eq!(
            parse_http_date(" Thu, 03 Dec 2026 14:00:00 GMT "),
            parse_rfc3339("2026-12-03T14:00:00Z").ok()
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_parses_back_what_it_writes_and_offsets() {
        for secs in [0u64, 951_782_400, 1_795_377_000, 4_102_444_799] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_rfc3339(&rfc3339(t)), Ok(t));
        }
        let z = parse_rfc3339("2026-12-03T14:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-12-03T15:30:00+01:30"), Ok(z));
        assert_eq!(parse_rfc3339("2026-12-03T13:00:00-01:00"), Ok(z));
        let frac = parse_rfc3339("2026-12-03T14:00:00.25Z").unwrap();
        assert_eq!(frac.duration_since(z).unwrap(), Duration::from_millis(250));
        for bad in [
            "2026-12-03",
            "2026-13-03T14:00:00Z",
            "2026-12-03T14:00:00",
            "soon",
        ] {
            assert!(
                parse_rfc3339(bad).unwrap_err().contains("RFC 3339"),
                "{bad}"
            );
        }
    }

    #[test]
    fn access_log_times_read_with_their_offset() {
        let z = parse_rfc3339("2000-10-10T20:55:36Z").unwrap();
        let secs = z.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert_eq!(parse_clf("10/Oct/2000:13:55:36 -0700"), Ok(secs));
        assert_eq!(parse_clf("10/Oct/2000:20:55:36 +0000"), Ok(secs));
        assert_eq!(parse_clf("10/Oct/2000:22:55:36.250 +0200"), Ok(secs + 0.25));
        for bad in [
            "10/Oct/2000:13:55:36",
            "10/Foo/2000:13:55:36 -0700",
            "32/Oct/2000:13:55:36 -0700",
            "10/Oct/2000:24:55:36 -0700",
            "10/Oct/2000 -0700",
            "",
        ] {
            assert!(parse_clf(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Trace rows, `--start-at` and results.json feed these whatever
        /// text they hold: an error, never a panic.
        #[test]
        fn any_text_is_an_error_or_a_time(s in "\\PC{0,40}", tail in "[0-9:+\\-Zé .]{0,8}") {
            for text in [s.clone(), format!("2026-12-03T14:00:00{tail}"), format!("10/Oct/2000:13:55:36 {tail}")] {
                let _ = parse_rfc3339(&text);
                let _ = parse_clf(&text);
                let _ = parse_http_date(&text);
            }
        }
    }

    #[test]
    fn multibyte_text_where_digits_belong_is_refused() {
        assert!(parse_rfc3339("2026-12-03T14:00:00é:000").is_err());
        assert!(parse_clf("10/Oct/2000:13:55:36 -é00").is_err());
    }

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_377_000)),
            "2026-11-22T19:50:00Z"
        );
        assert_eq!(
            compact(UNIX_EPOCH + Duration::from_secs(1_795_377_000)),
            "20261122-195000"
        );
    }
}
