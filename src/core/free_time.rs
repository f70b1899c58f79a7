//! `find_free_time`'s rule, without I/O: the free stretches of working hours in a time zone,
//! given the busy events and the current time.
//!
//! - Working hours are wall-clock times in the zone, each day (or each weekday), so across a
//!   daylight-saving change they stay 09:00–17:00 local while their UTC instants move. A wall-clock
//!   time that does not exist that day (in the spring-forward gap) is the first minute after it
//!   that does; one that exists twice (fall-back) is its first occurrence.
//! - An all-day event blocks its days from 00:00 to 00:00 in the zone.
//! - Busy intervals that overlap or touch (back-to-back) merge into one.
//! - Slots never start before `now`, are clipped to `[from, to)` and to each day's working hours,
//!   and are at least `duration` long. A slot never crosses from one day's working hours into the
//!   next day's.
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Something that takes time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// `[start, end)`.
    Timed { start: DateTime<Utc>, end: DateTime<Utc> },
    /// Whole days, first to last inclusive, in the query's time zone.
    AllDay { first: NaiveDate, last: NaiveDate },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub start: NaiveTime,
    /// `None`: until midnight at the end of the day (`24:00`).
    pub end: Option<NaiveTime>,
}

#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub duration: Duration,
    pub tz: Tz,
    pub hours: WorkingHours,
    pub weekdays_only: bool,
}

/// The instant a wall-clock time of a day has in `tz` (see the module's rules for gaps and folds).
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut t = date.and_time(time);
    // Gaps are at most a few hours; give up after a day (no zone has such a gap) and read it as UTC.
    for _ in 0..24 * 60 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&date.and_time(time))
}

/// One day's working hours as instants; `None` on a skipped weekend day or an empty window.
pub fn working_window(q: &Query, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if q.weekdays_only && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return None;
    }
    let start = local_instant(q.tz, date, q.hours.start);
    let end = match q.hours.end {
        Some(end) => local_instant(q.tz, date, end),
        None => local_instant(q.tz, date.succ_opt()?, NaiveTime::MIN),
    };
    (start < end).then_some((start, end))
}

/// The busy intervals as instants, sorted, with overlapping and touching ones merged.
pub fn merged_busy(tz: Tz, busy: &[Busy]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut intervals: Vec<_> = busy
        .iter()
        .filter_map(|b| match *b {
            Busy::Timed { start, end } => Some((start, end)),
            Busy::AllDay { first, last } => {
                Some((local_instant(tz, first, NaiveTime::MIN), local_instant(tz, last.succ_opt()?, NaiveTime::MIN)))
            }
        })
        .filter(|(s, e)| s < e)
        .collect();
    intervals.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The free slots, in time order.
pub fn free_slots(q: &Query, busy: &[Busy]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let busy = merged_busy(q.tz, busy);
    let lower = q.from.max(q.now);
    let mut slots = Vec::new();
    if lower >= q.to || q.duration <= Duration::zero() {
        return slots;
    }
    // A day's working hours may begin (in UTC) on the day before; start a day early.
    let Some(mut date) = lower.with_timezone(&q.tz).date_naive().pred_opt() else { return slots };
    let last = q.to.with_timezone(&q.tz).date_naive();
    while date <= last {
        if let Some((start, end)) = working_window(q, date) {
            let (start, end) = (start.max(lower), end.min(q.to));
            let mut cursor = start;
            // The first busy interval that ends after the window starts.
            let first = busy.partition_point(|b| b.1 <= start);
            for &(b_start, b_end) in &busy[first..] {
                if b_start >= end {
                    break;
                }
                if b_start > cursor && b_start - cursor >= q.duration {
                    slots.push((cursor, b_start));
                }
                cursor = cursor.max(b_end);
            }
            if cursor < end && end - cursor >= q.duration {
                slots.push((cursor, end));
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn query(from: &str, to: &str, tz: Tz, minutes: i64) -> Query {
        Query {
            from: at(from),
            to: at(to),
            now: at("2000-01-01T00:00:00Z"),
            duration: Duration::minutes(minutes),
            tz,
            hours: WorkingHours { start: hm(9, 0), end: Some(hm(17, 0)) },
            weekdays_only: false,
        }
    }

    fn timed(s: &str, e: &str) -> Busy {
        Busy::Timed { start: at(s), end: at(e) }
    }

    #[test]
    fn back_to_back_and_overlapping_events_merge_and_short_gaps_are_dropped() {
        let q = query("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", Tz::UTC, 30);
        let busy = [
            timed("2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z"),
            timed("2026-06-01T11:00:00Z", "2026-06-01T12:00:00Z"),
            timed("2026-06-01T11:30:00Z", "2026-06-01T12:30:00Z"),
            // A 20-minute gap: too short for 30 minutes.
            timed("2026-06-01T12:50:00Z", "2026-06-01T16:00:00Z"),
        ];
        assert_eq!(
            free_slots(&q, &busy),
            vec![(at("2026-06-01T09:00:00Z"), at("2026-06-01T10:00:00Z")), (at("2026-06-01T16:00:00Z"), at("2026-06-01T17:00:00Z"))]
        );
        assert_eq!(merged_busy(Tz::UTC, &busy).len(), 2);
    }

    #[test]
    fn an_all_day_event_blocks_its_days_in_the_zone() {
        let q = Query { weekdays_only: false, ..query("2026-06-01T00:00:00Z", "2026-06-04T00:00:00Z", Tz::Europe__Berlin, 60) };
        let slots = free_slots(&q, &[Busy::AllDay { first: day("2026-06-01"), last: day("2026-06-02") }]);
        // Only June 3rd, 09:00–17:00 Berlin (UTC+2).
        assert_eq!(slots, vec![(at("2026-06-03T07:00:00Z"), at("2026-06-03T15:00:00Z"))]);
    }

    #[test]
    fn working_hours_follow_the_wall_clock_across_a_dst_change() {
        // Berlin moves to summer time on Sunday 2026-03-29.
        let q = query("2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z", Tz::Europe__Berlin, 60);
        let slots = free_slots(&q, &[]);
        assert_eq!(
            slots,
            vec![
                (at("2026-03-28T08:00:00Z"), at("2026-03-28T16:00:00Z")),
                (at("2026-03-29T07:00:00Z"), at("2026-03-29T15:00:00Z")),
                (at("2026-03-30T07:00:00Z"), at("2026-03-30T15:00:00Z")),
            ]
        );
        let weekdays = Query { weekdays_only: true, ..q };
        assert_eq!(free_slots(&weekdays, &[]), vec![(at("2026-03-30T07:00:00Z"), at("2026-03-30T15:00:00Z"))]);
    }

    #[test]
    fn a_wall_clock_time_in_the_gap_is_the_first_minute_after_it() {
        // 02:30 does not exist in Berlin on 2026-03-29: clocks jump from 02:00 to 03:00 (01:00 UTC).
        assert_eq!(local_instant(Tz::Europe__Berlin, day("2026-03-29"), hm(2, 30)), at("2026-03-29T01:00:00Z"));
        // 02:30 exists twice on 2026-10-25: the first one (summer time) counts.
        assert_eq!(local_instant(Tz::Europe__Berlin, day("2026-10-25"), hm(2, 30)), at("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn slots_start_no_earlier_than_now_and_stay_in_the_range() {
        let mut q = query("2026-06-01T00:00:00Z", "2026-06-01T15:00:00Z", Tz::UTC, 60);
        q.now = at("2026-06-01T10:20:00Z");
        assert_eq!(free_slots(&q, &[]), vec![(at("2026-06-01T10:20:00Z"), at("2026-06-01T15:00:00Z"))]);
        q.now = at("2026-06-01T14:30:00Z");
        assert_eq!(free_slots(&q, &[]), vec![]);
    }

    #[test]
    fn hours_until_midnight_and_a_zone_ahead_of_utc() {
        let mut q = query("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", Tz::Asia__Kolkata, 60);
        q.hours = WorkingHours { start: hm(22, 0), end: None };
        // 22:00–24:00 IST is 16:30–18:30 UTC (May 31st's window lies before the range).
        assert_eq!(free_slots(&q, &[]), vec![(at("2026-06-01T16:30:00Z"), at("2026-06-01T18:30:00Z"))]);
    }

    const ZONES: [Tz; 5] = [Tz::UTC, Tz::Europe__Berlin, Tz::America__New_York, Tz::Asia__Kolkata, Tz::Australia__Lord_Howe];

    fn arb_busy(base: DateTime<Utc>) -> impl Strategy<Value = Busy> {
        prop_oneof![
            (0i64..60 * 24 * 20, 1i64..600)
                .prop_map(move |(s, len)| Busy::Timed { start: base + Duration::minutes(s), end: base + Duration::minutes(s + len) }),
            (0i64..20, 0i64..3).prop_map(move |(d, len)| {
                let first = base.date_naive() + Duration::days(d);
                Busy::AllDay { first, last: first + Duration::days(len) }
            }),
        ]
    }

    proptest! {
        #[test]
        fn slots_avoid_events_stay_in_working_hours_and_are_long_enough(
            zone in 0usize..ZONES.len(),
            start_offset in 0i64..60 * 24 * 3,
            span in 1i64..60 * 24 * 20,
            now_offset in -60i64 * 24..60 * 24 * 5,
            minutes in 1i64..240,
            start_min in 0u32..24 * 60,
            end_min in 0u32..=24 * 60,
            weekdays_only in any::<bool>(),
            busy in proptest::collection::vec(arb_busy(at("2026-03-20T00:00:00Z")), 0..25),
        ) {
            let base = at("2026-03-20T00:00:00Z");
            let from = base + Duration::minutes(start_offset);
            let q = Query {
                from,
                to: from + Duration::minutes(span),
                now: base + Duration::minutes(now_offset),
                duration: Duration::minutes(minutes),
                tz: ZONES[zone],
                hours: WorkingHours {
                    start: hm(start_min / 60, start_min % 60),
                    end: (end_min < 24 * 60).then(|| hm(end_min / 60, end_min % 60)),
                },
                weekdays_only,
            };
            let slots = free_slots(&q, &busy);
            let merged = merged_busy(q.tz, &busy);
            for pair in slots.windows(2) {
                prop_assert!(pair[0].1 <= pair[1].0, "slots in order, apart: {:?}", pair);
            }
            for &(s, e) in &slots {
                prop_assert!(e - s >= q.duration, "long enough: {s}–{e}");
                prop_assert!(s >= q.from && s >= q.now && e <= q.to, "in range: {s}–{e}");
                prop_assert!(merged.iter().all(|&(bs, be)| e <= bs || s >= be), "overlaps nothing: {s}–{e}");
                let local = s.with_timezone(&q.tz).date_naive();
                let inside = [local.pred_opt(), Some(local)].into_iter().flatten().filter_map(|d| working_window(&q, d))
                    .any(|(ws, we)| ws <= s && e <= we);
                prop_assert!(inside, "within one day's working hours: {s}–{e}");
            }
        }
    }
}
