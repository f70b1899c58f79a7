//! The calendar: events (list in a time range, get, create, update, delete), free time, and the
//! user's time zone that all-day events, working hours and "today" are read in.
//!
//! Times are RFC 3339 with an offset on the way in (`2026-05-04T09:00:00+02:00`), stored in UTC,
//! and given back in the user's time zone's offset. An all-day event takes dates instead: `start`
//! is its first day and `end` its last day, **inclusive** (a one-day event has `end` = `start`);
//! it occupies 00:00 of its first day to 00:00 after its last, in the user's time zone.
use std::str::FromStr;

use base64::Engine;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{REQUIRED_TEXT, TEXT, not_found, nullable, optional_text, page_limit, parse_id, required_text};
use crate::core::free_time::{self, Busy, WorkingHours};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{Event, EventCursor, EventFilter};

const MAX_TITLE: usize = 500;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_LOCATION: usize = 500;
const MAX_ATTENDEES: usize = 100;
const MAX_ATTENDEE: usize = 320;
/// `find_free_time` looks at most this many days at a time.
pub const MAX_FREE_TIME_DAYS: i64 = 62;
/// Events read at most for one free-time search or the upcoming-events resource.
const MAX_SCANNED: usize = 10_000;
/// A page of events continues after an event's start and id: 24 bytes, base64url.
pub const EVENT_CURSOR_PATTERN: &str = r"^([A-Za-z0-9_-]{32})?$";
/// A date (`YYYY-MM-DD`) or a date-time with an offset (RFC 3339). The digits' ranges (month 13,
/// a date-time without an offset) are checked by the service, with a message that says what to fix.
pub const WHEN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$";
/// `HH:MM`, 00:00–23:59.
pub const CLOCK_TIME: &str = r"^([01][0-9]|2[0-3]):[0-5][0-9]$";
/// `HH:MM`, 00:00–23:59, or `24:00` (midnight at the end of the day).
pub const CLOCK_TIME_OR_24: &str = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Meeting,
    Focus,
    Personal,
    Other,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Meeting => "meeting",
            EventKind::Focus => "focus",
            EventKind::Personal => "personal",
            EventKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventView {
    pub id: Uuid,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// When it starts, in the user's time zone (RFC 3339). For an all-day event: 00:00 of its first day.
    pub start: DateTime<FixedOffset>,
    /// When it ends (exclusive), in the user's time zone. For an all-day event: 00:00 after its last day.
    pub end: DateTime<FixedOffset>,
    pub all_day: bool,
    /// An all-day event's first day; null for a timed event.
    pub start_date: Option<NaiveDate>,
    /// An all-day event's last day (inclusive); null for a timed event.
    pub end_date: Option<NaiveDate>,
    pub location: Option<String>,
    /// Emails or names.
    pub attendees: Vec<String>,
    /// One of meeting, focus, personal, other.
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EventView {
    pub fn new(e: Event, tz: Tz) -> Self {
        Self {
            id: e.id,
            title: e.title,
            description: e.description,
            start: e.start.with_timezone(&tz).fixed_offset(),
            end: e.end.with_timezone(&tz).fixed_offset(),
            all_day: e.all_day.is_some(),
            start_date: e.all_day.map(|d| d.0),
            end_date: e.all_day.map(|d| d.1),
            location: e.location,
            attendees: e.attendees,
            kind: e.kind,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventList {
    /// Ordered by start time.
    pub events: Vec<EventView>,
    /// The user's time zone, which the times are given in.
    pub time_zone: String,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeletedEvent {
    pub id: Uuid,
    pub deleted: bool,
    /// Notes that were about the event: kept, now about none.
    pub notes_unlinked: u64,
    /// Its follow-up tasks: kept, now of no meeting.
    pub tasks_unlinked: u64,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListEventsArgs {
    /// Events that end after this: a date-time with offset, or a date (YYYY-MM-DD: from 00:00 that
    /// day in your time zone). Default: now.
    #[schemars(regex(pattern = WHEN), example = &"2030-01-01")]
    pub from: Option<String>,
    /// Events that start before this: a date-time with offset, or a date (YYYY-MM-DD: through the
    /// end of that day in your time zone). Default: no end.
    #[schemars(regex(pattern = WHEN), example = &"2030-01-31")]
    pub to: Option<String>,
    /// Only events of this kind.
    pub kind: Option<EventKind>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = EVENT_CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EventIdArgs {
    /// The event's id (UUID).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateEventArgs {
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schemars(length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// A date-time with offset (RFC 3339, e.g. 2030-01-01T09:00:00+01:00); for an all-day event,
    /// its first day (YYYY-MM-DD).
    #[schemars(regex(pattern = WHEN), example = &"2030-01-01T09:00:00Z")]
    pub start: String,
    /// A date-time with offset after `start` (default: one hour after it); for an all-day event,
    /// its last day, inclusive (default: the start date).
    #[serde(default)]
    #[schemars(regex(pattern = WHEN), example = &"2030-01-01T10:00:00Z")]
    pub end: Option<String>,
    /// Whether it takes whole days. Default: true when `start` is a date, false when it is a date-time.
    #[serde(default)]
    pub all_day: Option<bool>,
    #[serde(default)]
    #[schemars(length(max = 500), regex(pattern = TEXT))]
    pub location: Option<String>,
    /// Emails or names, up to 100.
    #[serde(default)]
    #[schemars(length(max = 100), inner(length(max = 320), regex(pattern = TEXT)))]
    pub attendees: Option<Vec<String>>,
    /// Defaults to `other`.
    #[serde(default)]
    pub kind: Option<EventKind>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateEventArgs {
    /// The event's id (UUID).
    pub id: String,
    #[serde(default)]
    #[schemars(with = "String", length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub title: Option<String>,
    #[serde(default)]
    #[schemars(with = "String", length(max = 20_000), regex(pattern = TEXT))]
    pub description: Option<String>,
    /// New start (as in create_event). Changing only `start` moves the event and keeps its length.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = WHEN))]
    pub start: Option<String>,
    /// New end (as in create_event).
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = WHEN))]
    pub end: Option<String>,
    /// Switching between all-day and timed needs a new `start` (and `end`) of the matching form.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub all_day: Option<bool>,
    /// A place, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(length(max = 500), regex(pattern = TEXT))]
    pub location: Option<Option<String>>,
    /// Replaces the attendees.
    #[serde(default)]
    #[schemars(with = "Vec<String>", length(max = 100), inner(length(max = 320), regex(pattern = TEXT)))]
    pub attendees: Option<Vec<String>>,
    #[serde(default)]
    #[schemars(with = "EventKind")]
    pub kind: Option<EventKind>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindFreeTimeArgs {
    /// Start of the search: a date-time with offset, or a date (00:00 that day in the search's time zone). Default: now.
    #[schemars(regex(pattern = WHEN), example = &"2030-01-07")]
    pub from: Option<String>,
    /// End of the search: a date-time with offset, or a date (through the end of that day). Default:
    /// 7 days after `from`. At most 62 days after `from`.
    #[schemars(regex(pattern = WHEN), example = &"2030-01-11")]
    pub to: Option<String>,
    /// How long each free slot must be at least, in minutes (1–1440).
    #[schemars(range(min = 1, max = 1440))]
    pub duration_minutes: u32,
    /// When the working day starts, HH:MM in the search's time zone. Default 09:00.
    #[schemars(regex(pattern = CLOCK_TIME))]
    pub work_start: Option<String>,
    /// When the working day ends, HH:MM (or 24:00), after `work_start`. Default 17:00.
    #[schemars(regex(pattern = CLOCK_TIME_OR_24))]
    pub work_end: Option<String>,
    /// An IANA time zone (e.g. Europe/Berlin) for the working hours and dates. Default: yours.
    #[schemars(regex(pattern = TEXT), example = &"Europe/Berlin")]
    pub time_zone: Option<String>,
    /// Leave Saturdays and Sundays out. Default false.
    pub weekdays_only: Option<bool>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FreeSlot {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FreeTime {
    /// The time zone the working hours were read in and the times are given in.
    pub time_zone: String,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    pub duration_minutes: u32,
    /// Free stretches of working hours, at least `duration_minutes` long, in time order.
    pub slots: Vec<FreeSlot>,
}

/// A point in time as given: an instant, or a whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    At(DateTime<Utc>),
    Day(NaiveDate),
}

/// Parses a date-time with offset or a date, with an error that says what to send.
fn parse_when(field: &str, value: &str) -> ServiceResult<When> {
    let value = value.trim();
    let in_range = |year: i32| (1..=9999).contains(&year);
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        let t = t.with_timezone(&Utc);
        if in_range(chrono::Datelike::year(&t)) {
            return Ok(When::At(t.with_nanosecond(0).unwrap_or(t)));
        }
    } else if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        if in_range(chrono::Datelike::year(&d)) && value.len() == 10 {
            return Ok(When::Day(d));
        }
    } else if NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").is_ok()
        || NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").is_ok()
    {
        return Err(ServiceError::field(
            field,
            format!("{field} \"{value}\" has no UTC offset: add one, e.g. \"{value}Z\" for UTC or \"{value}+02:00\"."),
        ));
    }
    Err(ServiceError::field(
        field,
        format!(
            "{field} must be a date-time with an offset (RFC 3339, e.g. 2026-05-04T09:00:00+02:00 or 2026-05-04T07:00:00Z) \
             or a date (YYYY-MM-DD), in the years 0001–9999; got \"{value}\"."
        ),
    ))
}

/// The instants of a range bound: a date is 00:00 that day in `tz` (`from`), or the end of it (`to`).
fn range_bound(field: &str, value: &str, tz: Tz, end_of_day: bool) -> ServiceResult<DateTime<Utc>> {
    Ok(match parse_when(field, value)? {
        When::At(t) => t,
        When::Day(d) if end_of_day => d.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, |d| free_time::local_instant(tz, d, NaiveTime::MIN)),
        When::Day(d) => free_time::local_instant(tz, d, NaiveTime::MIN),
    })
}

/// An all-day event's instants: 00:00 of its first day to 00:00 after its last, in `tz`.
fn day_span(tz: Tz, first: NaiveDate, last: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let after = last.succ_opt().unwrap_or(last);
    (free_time::local_instant(tz, first, NaiveTime::MIN), free_time::local_instant(tz, after, NaiveTime::MIN))
}

/// An event's start, end (exclusive) and, for an all-day event, its dates.
type Span = (DateTime<Utc>, DateTime<Utc>, Option<(NaiveDate, NaiveDate)>);

/// Checks `start` and `end` against the event's form and each other.
fn span(tz: Tz, all_day: bool, start: When, end: Option<When>) -> ServiceResult<Span> {
    if all_day {
        let When::Day(first) = start else {
            return Err(ServiceError::field(
                "start",
                "start must be a date (YYYY-MM-DD) for an all-day event; send a date, or set all_day to false for a timed event.",
            ));
        };
        let last = match end {
            None => first,
            Some(When::Day(last)) => last,
            Some(When::At(_)) => {
                return Err(ServiceError::field("end", "end must be a date (YYYY-MM-DD) for an all-day event: its last day, inclusive."));
            }
        };
        if last < first {
            return Err(ServiceError::field(
                "end",
                format!("end ({last}) must not be before start ({first}); for an all-day event, end is its last day, inclusive."),
            ));
        }
        let (s, e) = day_span(tz, first, last);
        Ok((s, e, Some((first, last))))
    } else {
        let When::At(s) = start else {
            return Err(ServiceError::field(
                "start",
                "start is a date: for a timed event send a date-time with an offset (e.g. 2026-05-04T09:00:00+02:00), or set all_day to true.",
            ));
        };
        let e = match end {
            None => s + Duration::hours(1),
            Some(When::At(e)) => e,
            Some(When::Day(_)) => {
                return Err(ServiceError::field(
                    "end",
                    "end is a date: for a timed event send a date-time with an offset, or set all_day to true.",
                ));
            }
        };
        if e <= s {
            return Err(ServiceError::field("end", format!("end ({}) must be after start ({}).", e.to_rfc3339(), s.to_rfc3339())));
        }
        Ok((s, e, None))
    }
}

fn clean_location(value: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = optional_text("location", value, MAX_LOCATION)?;
    let value = value.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// Attendees trimmed, blanks dropped, duplicates removed (first kept), bounded.
fn clean_attendees(attendees: Vec<String>) -> ServiceResult<Vec<String>> {
    if attendees.len() > MAX_ATTENDEES {
        return Err(ServiceError::field("attendees", format!("attendees takes at most {MAX_ATTENDEES} entries.")));
    }
    let mut out: Vec<String> = Vec::with_capacity(attendees.len());
    for a in attendees {
        let a = optional_text("attendees", &a, MAX_ATTENDEE)?;
        let a = a.trim();
        if !a.is_empty() && !out.iter().any(|o| o == a) {
            out.push(a.to_owned());
        }
    }
    Ok(out)
}

/// Parses an IANA time zone name.
pub fn parse_time_zone(field: &str, name: &str) -> ServiceResult<Tz> {
    Tz::from_str(name.trim()).map_err(|_| {
        ServiceError::field(
            field,
            format!("{field} must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York; got \"{name}\"."),
        )
    })
}

fn clock_time(field: &str, value: Option<&str>, default: NaiveTime, allow_24: bool) -> ServiceResult<Option<NaiveTime>> {
    match value.map(str::trim) {
        None => Ok(Some(default)),
        Some("24:00") if allow_24 => Ok(None),
        Some(v) => match NaiveTime::parse_from_str(v, "%H:%M") {
            Ok(t) if v.len() == 5 => Ok(Some(t)),
            _ => Err(ServiceError::field(
                field,
                format!("{field} must be a time of day as HH:MM (e.g. 09:00{}); got \"{v}\".", if allow_24 { " or 24:00" } else { "" }),
            )),
        },
    }
}

const CURSOR: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn encode_event_cursor(e: &Event) -> String {
    let mut bytes = Vec::with_capacity(24);
    bytes.extend_from_slice(&e.start.timestamp().to_be_bytes());
    bytes.extend_from_slice(e.id.as_bytes());
    CURSOR.encode(bytes)
}

/// Public for the fuzz target `cursor`.
#[doc(hidden)]
pub fn decode_event_cursor(cursor: Option<&str>) -> ServiceResult<Option<EventCursor>> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else { return Ok(None) };
    let invalid =
        || ServiceError::field("cursor", "cursor is not valid: pass the next_cursor of a previous page, or leave it out to start over.");
    let bytes = CURSOR.decode(cursor).map_err(|_| invalid())?;
    let (secs, id) = bytes.split_at_checked(8).ok_or_else(invalid)?;
    let secs = i64::from_be_bytes(secs.try_into().map_err(|_| invalid())?);
    let start = DateTime::from_timestamp(secs, 0).ok_or_else(invalid)?;
    Ok(Some((start, Uuid::from_slice(id).map_err(|_| invalid())?)))
}

impl App {
    /// The user's time zone (UTC if none is set or the stored name is unknown).
    pub async fn time_zone(&self, user_id: Uuid) -> ServiceResult<Tz> {
        Ok(self.store.time_zone(user_id).await?.and_then(|name| Tz::from_str(&name).ok()).unwrap_or(Tz::UTC))
    }

    /// Today's date in the user's time zone.
    pub async fn today(&self, user_id: Uuid) -> ServiceResult<NaiveDate> {
        Ok(self.now().with_timezone(&self.time_zone(user_id).await?).date_naive())
    }

    /// Sets the user's time zone (`PATCH /api/v1/me`, `navis user set-timezone`) and moves their
    /// all-day events onto the same days in it; returns the zone's canonical name.
    pub async fn set_time_zone(&self, user_id: Uuid, name: &str) -> ServiceResult<String> {
        let tz = parse_time_zone("time_zone", name)?;
        let moved: Vec<_> = self
            .store
            .all_day_events(user_id)
            .await?
            .into_iter()
            .filter_map(|e| {
                let (first, last) = e.all_day?;
                let (start, end) = day_span(tz, first, last);
                Some((e.id, (first, last), start, end))
            })
            .collect();
        if !self.store.set_time_zone(user_id, tz.name(), &moved).await? {
            return Err(ServiceError::NotFound("No such user.".into()));
        }
        Ok(tz.name().to_owned())
    }

    pub(crate) async fn own_event(&self, p: &Principal, id: &str) -> ServiceResult<Event> {
        let uuid = parse_id("event", id)?;
        self.store.event(p.user_id, uuid).await?.ok_or_else(|| not_found("event", id))
    }

    pub async fn list_events(&self, p: &Principal, args: ListEventsArgs) -> ServiceResult<EventList> {
        let limit = page_limit(args.limit)?;
        let after = decode_event_cursor(args.cursor.as_deref())?;
        let tz = self.time_zone(p.user_id).await?;
        let from = match &args.from {
            Some(from) => range_bound("from", from, tz, false)?,
            None => self.now(),
        };
        let to = args.to.as_deref().map(|to| range_bound("to", to, tz, true)).transpose()?;
        if let Some(to) = to
            && to <= from
        {
            return Err(ServiceError::field("to", "to must be after from (from defaults to now)."));
        }
        let filter = EventFilter { from: Some(from), to, kind: args.kind.map(|k| k.as_str().to_owned()) };
        let page = self.store.list_events(p.user_id, &filter, after, limit).await?;
        let next_cursor = page.next.and(page.items.last()).map(encode_event_cursor);
        Ok(EventList { events: page.items.into_iter().map(|e| EventView::new(e, tz)).collect(), time_zone: tz.name().into(), next_cursor })
    }

    pub async fn get_event(&self, p: &Principal, args: EventIdArgs) -> ServiceResult<EventView> {
        let event = self.own_event(p, &args.id).await?;
        Ok(EventView::new(event, self.time_zone(p.user_id).await?))
    }

    pub async fn create_event(&self, p: &Principal, args: CreateEventArgs) -> ServiceResult<EventView> {
        let tz = self.time_zone(p.user_id).await?;
        let event = self.new_event(p, args, tz)?;
        self.store.insert_event(&event, &self.activity(p, "event", event.id, &event.title, "created")).await?;
        Ok(EventView::new(event, tz))
    }

    /// The event `args` describe in the user's time zone `tz`, checked (nothing is written).
    pub(crate) fn new_event(&self, p: &Principal, args: CreateEventArgs, tz: Tz) -> ServiceResult<Event> {
        let title = required_text("title", &args.title, MAX_TITLE)?;
        let start = parse_when("start", &args.start)?;
        let end = args.end.as_deref().map(|e| parse_when("end", e)).transpose()?;
        let all_day = args.all_day.unwrap_or(matches!(start, When::Day(_)));
        let (start, end, dates) = span(tz, all_day, start, end)?;
        let now = self.now();
        Ok(Event {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            title,
            description: optional_text("description", args.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?,
            start,
            end,
            all_day: dates,
            location: clean_location(args.location.as_deref())?,
            attendees: clean_attendees(args.attendees.unwrap_or_default())?,
            kind: args.kind.unwrap_or(EventKind::Other).as_str().to_owned(),
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn update_event(&self, p: &Principal, args: UpdateEventArgs) -> ServiceResult<EventView> {
        let tz = self.time_zone(p.user_id).await?;
        let mut event = self.own_event(p, &args.id).await?;
        if let Some(title) = &args.title {
            event.title = required_text("title", title, MAX_TITLE)?;
        }
        if let Some(description) = &args.description {
            event.description = optional_text("description", description, MAX_DESCRIPTION)?;
        }
        if let Some(location) = &args.location {
            event.location = clean_location(location.as_deref())?;
        }
        if let Some(attendees) = args.attendees {
            event.attendees = clean_attendees(attendees)?;
        }
        if let Some(kind) = args.kind {
            event.kind = kind.as_str().to_owned();
        }
        let new_start = args.start.as_deref().map(|s| parse_when("start", s)).transpose()?;
        let new_end = args.end.as_deref().map(|e| parse_when("end", e)).transpose()?;
        if new_start.is_some() || new_end.is_some() || args.all_day.is_some() {
            let was_all_day = event.all_day.is_some();
            let all_day = args.all_day.unwrap_or(match new_start {
                Some(When::Day(_)) => true,
                Some(When::At(_)) => false,
                None => was_all_day,
            });
            if all_day != was_all_day && new_start.is_none() {
                return Err(ServiceError::field(
                    "start",
                    if all_day {
                        "To make the event all-day, also send start (and end) as dates (YYYY-MM-DD)."
                    } else {
                        "To make the event timed, also send start (and end) as date-times with an offset."
                    },
                ));
            }
            let (current_start, current_end) = match event.all_day {
                Some((first, last)) => (When::Day(first), When::Day(last)),
                None => (When::At(event.start), When::At(event.end)),
            };
            let start = new_start.unwrap_or(current_start);
            let end = match (new_end, new_start) {
                (Some(end), _) => Some(end),
                (None, None) => Some(current_end),
                // Only the start moved: keep the length.
                (None, Some(When::At(s))) if !was_all_day => Some(When::At(s + (event.end - event.start))),
                (None, Some(When::Day(d))) => event.all_day.map(|(first, last)| When::Day(d + (last - first))),
                (None, Some(_)) => None,
            };
            (event.start, event.end, event.all_day) = span(tz, all_day, start, end)?;
        }
        event.updated_at = self.now();
        if !self.store.update_event(&event, &self.activity(p, "event", event.id, &event.title, "updated")).await? {
            return Err(not_found("event", &args.id));
        }
        Ok(EventView::new(event, tz))
    }

    pub async fn delete_event(&self, p: &Principal, args: EventIdArgs) -> ServiceResult<DeletedEvent> {
        let event = self.own_event(p, &args.id).await?;
        let activity = self.activity(p, "event", event.id, &event.title, "deleted");
        let Some(deletion) = self.store.delete_event(p.user_id, event.id, &activity).await? else {
            return Err(not_found("event", &args.id));
        };
        Ok(DeletedEvent { id: event.id, deleted: true, notes_unlinked: deletion.notes_unlinked, tasks_unlinked: deletion.tasks_unlinked })
    }

    /// Every event overlapping `[from, to)`, by start (at most `MAX_SCANNED`).
    async fn events_between(&self, user_id: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> ServiceResult<Vec<Event>> {
        let filter = EventFilter { from: Some(from), to: Some(to), kind: None };
        let mut events = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.list_events(user_id, &filter, after, 500).await?;
            after = page.items.last().map(|e| (e.start, e.id));
            let more = page.next.is_some();
            events.extend(page.items);
            if !more || events.len() >= MAX_SCANNED {
                return Ok(events);
            }
        }
    }

    pub async fn find_free_time(&self, p: &Principal, args: FindFreeTimeArgs) -> ServiceResult<FreeTime> {
        let tz = match &args.time_zone {
            Some(name) => parse_time_zone("time_zone", name)?,
            None => self.time_zone(p.user_id).await?,
        };
        let now = self.now();
        let from = args.from.as_deref().map(|f| range_bound("from", f, tz, false)).transpose()?.unwrap_or(now);
        let to = match args.to.as_deref() {
            Some(to) => range_bound("to", to, tz, true)?,
            None => from + Duration::days(7),
        };
        if to <= from {
            return Err(ServiceError::field("to", "to must be after from (from defaults to now)."));
        }
        if to - from > Duration::days(MAX_FREE_TIME_DAYS) {
            return Err(ServiceError::field(
                "to",
                format!(
                    "find_free_time looks at most {MAX_FREE_TIME_DAYS} days at a time; from {} to {} is longer: narrow the range.",
                    from.to_rfc3339(),
                    to.to_rfc3339()
                ),
            ));
        }
        if !(1..=1440).contains(&args.duration_minutes) {
            return Err(ServiceError::field("duration_minutes", "duration_minutes must be between 1 and 1440 (a day)."));
        }
        let work_start = clock_time("work_start", args.work_start.as_deref(), NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(), false)?
            .unwrap_or_default();
        let work_end = clock_time("work_end", args.work_end.as_deref(), NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(), true)?;
        if work_end.is_some_and(|end| end <= work_start) {
            return Err(ServiceError::field("work_end", "work_end must be after work_start (working hours within one day)."));
        }
        // All-day events may lie up to a day away from the range in another zone: read a margin.
        let events = self.events_between(p.user_id, from - Duration::days(2), to + Duration::days(2)).await?;
        let busy: Vec<Busy> = events
            .iter()
            .map(|e| match e.all_day {
                Some((first, last)) => Busy::AllDay { first, last },
                None => Busy::Timed { start: e.start, end: e.end },
            })
            .collect();
        let query = free_time::Query {
            from,
            to,
            now,
            duration: Duration::minutes(i64::from(args.duration_minutes)),
            tz,
            hours: WorkingHours { start: work_start, end: work_end },
            weekdays_only: args.weekdays_only.unwrap_or(false),
        };
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
        let slots = free_time::free_slots(&query, &busy)
            .into_iter()
            .map(|(s, e)| FreeSlot { start: local(s), end: local(e), minutes: (e - s).num_minutes() })
            .collect();
        Ok(FreeTime { time_zone: tz.name().into(), from: local(from), to: local(to), duration_minutes: args.duration_minutes, slots })
    }

    /// Events in the next 7 days, in the user's time zone (the `navis://calendar/upcoming` resource).
    pub async fn upcoming_events(&self, p: &Principal) -> ServiceResult<(Tz, DateTime<Utc>, DateTime<Utc>, Vec<EventView>)> {
        let tz = self.time_zone(p.user_id).await?;
        let from = self.now();
        let to = from + Duration::days(7);
        let events = self.events_between(p.user_id, from, to).await?;
        Ok((tz, from, to, events.into_iter().map(|e| EventView::new(e, tz)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn times_need_an_offset_and_dates_are_dates() {
        assert!(
            matches!(parse_when("start", "2026-05-04T09:00:00+02:00"), Ok(When::At(t)) if t.to_rfc3339() == "2026-05-04T07:00:00+00:00")
        );
        assert_eq!(parse_when("start", " 2026-05-04 ").ok(), Some(When::Day(day("2026-05-04"))));
        let no_offset = parse_when("start", "2026-05-04T09:00:00").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(no_offset.contains("no UTC offset") && no_offset.contains("2026-05-04T09:00:00Z"), "{no_offset}");
        assert!(parse_when("start", "tomorrow").is_err());
        assert!(parse_when("start", "+10000-01-01").is_err());
        // The schema's pattern admits every form the service reads.
        let pattern = regex_automata::meta::Regex::new(WHEN).ok();
        for ok in ["2026-05-04", "2026-05-04T09:00:00Z", "2026-05-04T09:00:00.25+02:00", "2026-05-04t09:00:00z"] {
            assert!(parse_when("start", ok).is_ok(), "{ok}");
            assert!(pattern.as_ref().is_some_and(|r| r.is_match(ok)), "{ok}");
        }
    }

    #[test]
    fn an_all_day_event_is_inclusive_and_lies_in_the_users_zone() {
        let tz = Tz::America__New_York;
        let (s, e, dates) = span(tz, true, When::Day(day("2026-07-03")), Some(When::Day(day("2026-07-04")))).unwrap_or_default();
        assert_eq!((s.to_rfc3339(), e.to_rfc3339()), ("2026-07-03T04:00:00+00:00".into(), "2026-07-05T04:00:00+00:00".into()));
        assert_eq!(dates, Some((day("2026-07-03"), day("2026-07-04"))));
        assert!(span(tz, true, When::Day(day("2026-07-04")), Some(When::Day(day("2026-07-03")))).is_err());
        assert!(span(tz, false, When::Day(day("2026-07-04")), None).is_err());
    }

    #[test]
    fn a_timed_event_ends_after_it_starts_and_lasts_an_hour_by_default() {
        let at = |s: &str| When::At(DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default());
        let (s, e, _) = span(Tz::UTC, false, at("2026-07-03T09:00:00Z"), None).unwrap_or_default();
        assert_eq!(e - s, Duration::hours(1));
        let err = span(Tz::UTC, false, at("2026-07-03T09:00:00Z"), Some(at("2026-07-03T09:00:00Z"))).err();
        assert!(err.is_some_and(|e| e.to_string().contains("must be after start")));
    }

    #[test]
    fn cursors_round_trip_and_match_their_pattern() {
        let event = Event {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            title: "t".into(),
            description: String::new(),
            start: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            end: DateTime::from_timestamp(1_800_003_600, 0).unwrap_or_default(),
            all_day: None,
            location: None,
            attendees: vec![],
            kind: "other".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let cursor = encode_event_cursor(&event);
        assert!(regex_automata::meta::Regex::new(EVENT_CURSOR_PATTERN).is_ok_and(|r| r.is_match(&cursor)), "{cursor}");
        assert_eq!(decode_event_cursor(Some(&cursor)).ok().flatten(), Some((event.start, event.id)));
        assert!(decode_event_cursor(Some("garbage")).is_err());
    }

    #[test]
    fn working_hours_and_zones_are_checked() {
        assert!(clock_time("work_start", Some("9:00"), NaiveTime::MIN, false).is_err());
        assert_eq!(clock_time("work_end", Some("24:00"), NaiveTime::MIN, true).ok(), Some(None));
        assert!(clock_time("work_start", Some("24:00"), NaiveTime::MIN, false).is_err());
        assert!(parse_time_zone("time_zone", "Europe/Berlin").is_ok());
        assert!(parse_time_zone("time_zone", "Mars/Olympus").is_err());
    }
}
