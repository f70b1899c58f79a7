//! Timestamps and dates as text, for the hot path: what chrono reads and writes, without its
//! general machinery. The store keeps times in one fixed-width form, and chrono's parser (a
//! format-string interpreter) and its serialiser (a character at a time, each character passed
//! through serde_json's string escaper on its own) were a tenth of a `list_tasks` call. Anything
//! outside the plain forms goes to chrono, so the results are always chrono's.
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Two ASCII digits as a number.
fn two(b: &[u8]) -> Option<u32> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
}

/// `YYYY-MM-DD`.
fn plain_date(b: &[u8]) -> Option<NaiveDate> {
    match b {
        [y @ .., b'-', m1, m2, b'-', d1, d2] if y.len() == 4 => {
            let year = i32::try_from(digits(y)?).ok()?;
            NaiveDate::from_ymd_opt(year, two(&[*m1, *m2])?, two(&[*d1, *d2])?)
        }
        _ => None,
    }
}

/// A date as the store writes it (`YYYY-MM-DD`), or as chrono's `%Y-%m-%d` reads it.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    plain_date(s.as_bytes()).or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// A timestamp as the store writes it (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), or any RFC 3339 text
/// chrono reads.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let fast = (b.len() == 27 && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'.' && b[26] == b'Z')
        .then(|| {
            let date = plain_date(&b[..10])?;
            let time = NaiveTime::from_hms_micro_opt(two(&b[11..13])?, two(&b[14..16])?, two(&b[17..19])?, digits(&b[20..26])?)?;
            Some(date.and_time(time).and_utc())
        })
        .flatten();
    fast.or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)))
}

fn push_two(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
}

fn push_date(out: &mut Vec<u8>, d: NaiveDate) -> Option<()> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    push_two(out, year / 100);
    push_two(out, year % 100);
    out.push(b'-');
    push_two(out, d.month());
    out.push(b'-');
    push_two(out, d.day());
    Some(())
}

/// What chrono's `Serialize` writes for a `DateTime<Utc>` (RFC 3339 with `Z`, as few fractional
/// digits of 0, 3, 6 and 9 as keep the time exact), for years 0 to 9999 and no leap second.
fn format_ts(t: &DateTime<Utc>) -> Option<String> {
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut out = Vec::with_capacity(30);
    push_date(&mut out, t.date_naive())?;
    out.push(b'T');
    for (i, n) in [t.hour(), t.minute(), t.second()].into_iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        push_two(&mut out, n);
    }
    let (digits, value) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    if digits > 0 {
        out.push(b'.');
        out.extend((0..digits).rev().map(|k| b'0' + (value / 10u32.pow(k) % 10) as u8));
    }
    out.push(b'Z');
    String::from_utf8(out).ok()
}

/// `#[serde(serialize_with)]` for a `DateTime<Utc>`: chrono's text, written faster.
pub fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match format_ts(t) {
        Some(text) => s.serialize_str(&text),
        None => t.serialize(s),
    }
}

/// `#[serde(serialize_with)]` for an `Option<DateTime<Utc>>`.
pub fn opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts(t, s),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with)]` for an `Option<NaiveDate>`: `YYYY-MM-DD`, as chrono writes it.
pub fn opt_date<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    let Some(d) = d else { return s.serialize_none() };
    let mut out = Vec::with_capacity(10);
    match push_date(&mut out, *d).and_then(|()| String::from_utf8(out).ok()) {
        Some(text) => s.serialize_str(&text),
        None => d.serialize(s),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn written(t: &DateTime<Utc>) -> String {
        ts(t, serde_json::value::Serializer).unwrap().as_str().unwrap().to_owned()
    }

    proptest! {
        #[test]
        fn timestamps_read_and_write_as_chrono_does(secs in -70_000_000_000i64..260_000_000_000, nanos in 0u32..2_000_000_000, round in 0usize..4) {
            let nanos = [nanos, nanos / 1000 * 1000, nanos / 1_000_000 * 1_000_000, 0][round];
            if let Some(t) = Utc.timestamp_opt(secs, nanos).single() {
                prop_assert_eq!(serde_json::Value::from(written(&t)), serde_json::to_value(t).unwrap());
                // The store's own form, and chrono's reading of any text.
                let stored = t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
                let chrono = DateTime::parse_from_rfc3339(&stored).ok().map(|t| t.with_timezone(&Utc));
                prop_assert_eq!(parse_ts(&stored), chrono);
                let text = written(&t);
                prop_assert_eq!(parse_ts(&text), DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc)));
            }
        }

        #[test]
        fn dates_read_and_write_as_chrono_does(days in -4_000_000i32..4_000_000, text in "[0-9+-]{8,12}") {
            if let Some(d) = NaiveDate::from_num_days_from_ce_opt(days) {
                let mine = opt_date(&Some(d), serde_json::value::Serializer).unwrap();
                prop_assert_eq!(mine, serde_json::to_value(d).unwrap());
                let text = d.format("%Y-%m-%d").to_string();
                prop_assert_eq!(parse_date(&text), NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
            }
            prop_assert_eq!(parse_date(&text), NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
        }
    }

    #[test]
    fn odd_texts_are_chronos_business() {
        for text in [
            "2026-02-30T00:00:00.000000Z",
            "2026-11-30T24:00:00.000000Z",
            "2026-11-30T10:00:60.000000Z",
            "2026-11-30t10:00:00.000000Z",
            "2026-11-30T10:00:00.00000aZ",
        ] {
            assert_eq!(parse_ts(text), DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)), "{text}");
        }
        assert_eq!(opt_ts(&None, serde_json::value::Serializer).unwrap(), serde_json::Value::Null);
    }
}
