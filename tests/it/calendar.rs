//! The calendar: events through MCP and /api/v1, free time, each user's time zone (and "today" in it).
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{call, create, expect, next_link};
use crate::cli::navis;
use crate::harness::TestServer;

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

pub(crate) async fn resource(s: &TestServer, token: &str, uri: &str) -> Value {
    let r = s.rpc_ok(token, "resources/read", json!({"uri": uri})).await;
    serde_json::from_str(r["result"]["contents"][0]["text"].as_str().unwrap_or_else(|| panic!("{uri}: {r}"))).unwrap()
}

#[tokio::test]
async fn events_are_listed_by_range_and_kind_paginated_updated_and_deleted() {
    let s = TestServer::start().await;
    s.clock.set(at("2026-05-01T00:00:00Z"));
    let a = s.account("ada@example.com").await;
    let ev = |title: &str, start: &str, end: &str, kind: &str| json!({"title": title, "start": start, "end": end, "kind": kind});
    // Made out of order: listing sorts by start.
    let standup = s.ok(&a.write, "create_event", ev("Standup", "2026-05-04T09:00:00+02:00", "2026-05-04T09:15:00+02:00", "meeting")).await;
    let focus = s.ok(&a.write, "create_event", ev("Deep work", "2026-05-04T06:00:00Z", "2026-05-04T10:00:00Z", "focus")).await;
    let lunch = s.ok(&a.write, "create_event", ev("Lunch", "2026-05-04T12:00:00Z", "2026-05-04T13:00:00Z", "personal")).await;
    let next_day = s.ok(&a.write, "create_event", ev("Review", "2026-05-05T09:00:00Z", "2026-05-05T10:00:00Z", "meeting")).await;
    let holiday = s.ok(&a.write, "create_event", json!({"title": "Holiday", "start": "2026-05-06"})).await;
    // Stored in UTC, shown in the user's zone (UTC by default), with an offset.
    assert_eq!(standup["start"], "2026-05-04T07:00:00Z");
    assert_eq!(standup["end"], "2026-05-04T07:15:00Z");
    assert_eq!((standup["all_day"].as_bool(), standup["kind"].as_str()), (Some(false), Some("meeting")));
    // A date makes an all-day event of one day; end is its last day, inclusive.
    assert_eq!(
        (holiday["all_day"].as_bool(), holiday["start_date"].as_str(), holiday["end_date"].as_str()),
        (Some(true), Some("2026-05-06"), Some("2026-05-06"))
    );
    assert_eq!((holiday["start"].as_str(), holiday["end"].as_str()), (Some("2026-05-06T00:00:00Z"), Some("2026-05-07T00:00:00Z")));
    assert_eq!(holiday["kind"], "other");
    let default_end = s.ok(&a.write, "create_event", json!({"title": "One hour", "start": "2026-06-01T10:00:00Z"})).await;
    assert_eq!(default_end["end"], "2026-06-01T11:00:00Z");

    // The events overlapping a range (one that started before it included), by start.
    let day = s.ok(&a.read, "list_events", json!({"from": "2026-05-04T07:00:00Z", "to": "2026-05-04"})).await;
    assert_eq!(ids(&day, "events"), ids(&json!({"e": [&focus, &standup, &lunch]}), "e"), "{day}");
    assert_eq!(day["time_zone"], "UTC");
    let meetings = s.ok(&a.read, "list_events", json!({"from": "2026-05-01", "kind": "meeting"})).await;
    assert_eq!(ids(&meetings, "events"), ids(&json!({"e": [&standup, &next_day]}), "e"));
    // Without `from`, from now on: the past is left out.
    s.clock.set(at("2026-05-05T12:00:00Z"));
    let upcoming = s.ok(&a.read, "list_events", json!({})).await;
    assert_eq!(ids(&upcoming, "events"), ids(&json!({"e": [&holiday, &default_end]}), "e"));

    // Pages of two, in start order, each event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({"from": "2026-01-01", "limit": 2});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = s.ok(&a.read, "list_events", args).await;
        pages += 1;
        seen.extend(ids(&page, "events"));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all = [&focus, &standup, &lunch, &next_day, &holiday, &default_end];
    assert_eq!((seen, pages), (ids(&json!({"e": all}), "e"), 3));

    // A partial update: moving the start keeps the length; null clears the location.
    let id = standup["id"].as_str().unwrap();
    s.ok(&a.write, "update_event", json!({"id": id, "location": "Room 1", "attendees": ["bob@example.com", " Carol ", "Carol", ""]})).await;
    let moved = s.ok(&a.write, "update_event", json!({"id": id, "start": "2026-05-04T11:00:00Z", "location": null})).await;
    assert_eq!((moved["start"].as_str(), moved["end"].as_str()), (Some("2026-05-04T11:00:00Z"), Some("2026-05-04T11:15:00Z")));
    assert_eq!(moved["location"], Value::Null);
    assert_eq!(moved["attendees"], json!(["bob@example.com", "Carol"]));
    assert_eq!(moved["title"], "Standup", "what was not sent is kept");
    // To all-day and back; moving an all-day event keeps its number of days.
    let long = s.ok(&a.write, "update_event", json!({"id": id, "start": "2026-05-10", "end": "2026-05-12"})).await;
    assert_eq!((long["all_day"].as_bool(), long["end"].as_str()), (Some(true), Some("2026-05-13T00:00:00Z")));
    let later = s.ok(&a.write, "update_event", json!({"id": id, "start": "2026-05-20"})).await;
    assert_eq!(later["end_date"], "2026-05-22");
    let timed = s.ok(&a.write, "update_event", json!({"id": id, "start": "2026-05-20T09:00:00Z", "all_day": false})).await;
    assert_eq!((timed["end"].as_str(), timed["end_date"].as_str()), (Some("2026-05-20T10:00:00Z"), None));
    assert_eq!(s.ok(&a.read, "get_event", json!({"id": id})).await, timed);

    let deleted = s.ok(&a.write, "delete_event", json!({"id": id})).await;
    assert_eq!((deleted["id"].as_str(), deleted["deleted"].as_bool()), (Some(id), Some(true)));
    let gone = s.tool_error(&a.read, "get_event", json!({"id": id})).await;
    assert_eq!(gone, format!("No event with id {id} exists in this workspace."));
    assert!(s.tool_error(&a.write, "delete_event", json!({"id": id})).await.contains("No event"));

    // Every change is activity.
    let activity = s.ok(&a.read, "list_recent_activity", json!({"limit": 8})).await;
    let actions: Vec<(String, String)> = activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()))
        .collect();
    let event = |a: &str| ("event".to_owned(), a.to_owned());
    assert_eq!(actions[..6], [event("deleted"), event("updated"), event("updated"), event("updated"), event("updated"), event("updated")]);
    assert_eq!(actions[6..], [event("created"), event("created")]);
}

#[tokio::test]
async fn invalid_calendar_arguments_say_what_to_fix() {
    let s = TestServer::start().await;
    let a = s.account("ada@example.com").await;
    let fails = |args: Value| s.tool_error(&a.write, "create_event", args);
    let e = fails(json!({"title": "x", "start": "2026-05-04T10:00:00Z", "end": "2026-05-04T09:00:00Z"})).await;
    assert!(e.contains("end (2026-05-04T09:00:00+00:00) must be after start (2026-05-04T10:00:00+00:00)"), "{e}");
    let e = fails(json!({"title": "x", "start": "2026-05-04T10:00:00"})).await;
    assert!(e.contains("has no UTC offset") && e.contains("2026-05-04T10:00:00Z"), "{e}");
    let e = fails(json!({"title": "x", "start": "next tuesday"})).await;
    assert!(e.contains("RFC 3339") && e.contains("YYYY-MM-DD"), "{e}");
    let e = fails(json!({"title": "x", "start": "2026-05-04T10:00:00Z", "all_day": true})).await;
    assert!(e.contains("start must be a date (YYYY-MM-DD) for an all-day event"), "{e}");
    let e = fails(json!({"title": "x", "start": "2026-05-04", "end": "2026-05-03"})).await;
    assert!(e.contains("end (2026-05-03) must not be before start (2026-05-04)") && e.contains("inclusive"), "{e}");
    let e = fails(json!({"title": "x", "start": "2026-05-04", "kind": "party"})).await;
    assert!(e.contains("`kind`") && e.contains("meeting"), "{e}");
    let e = fails(json!({"title": " ", "start": "2026-05-04"})).await;
    assert!(e.contains("title must not be empty"), "{e}");
    let e = s.tool_error(&a.read, "list_events", json!({"from": "2026-05-04", "to": "2026-05-01"})).await;
    assert!(e.contains("to must be after from"), "{e}");
    let e = s.tool_error(&a.read, "list_events", json!({"cursor": "AAAAAAAAAAAAAAAAAAAAAA"})).await;
    assert!(e.contains("cursor is not valid"), "{e}");
    let ev = s.ok(&a.write, "create_event", json!({"title": "x", "start": "2026-05-04T10:00:00Z"})).await;
    let e = s.tool_error(&a.write, "update_event", json!({"id": ev["id"], "all_day": true})).await;
    assert!(e.contains("also send start (and end) as dates"), "{e}");
    let e = s.tool_error(&a.write, "update_event", json!({"id": ev["id"], "end": "2026-05-04T09:00:00Z"})).await;
    assert!(e.contains("must be after start"), "{e}");

    let free = |args: Value| s.tool_error(&a.read, "find_free_time", args);
    let e = free(json!({"from": "2026-01-01", "to": "2026-03-31", "duration_minutes": 30})).await;
    assert!(e.contains("at most 62 days") && e.contains("narrow the range"), "{e}");
    let e = free(json!({"duration_minutes": 30, "time_zone": "Mars/Olympus"})).await;
    assert!(e.contains("IANA time zone") && e.contains("Mars/Olympus"), "{e}");
    let e = free(json!({"duration_minutes": 30, "work_start": "17:00", "work_end": "09:00"})).await;
    assert!(e.contains("work_end must be after work_start"), "{e}");
    let e = free(json!({"duration_minutes": 30, "work_start": "9am"})).await;
    assert!(e.contains("HH:MM"), "{e}");
    let e = free(json!({"duration_minutes": 0})).await;
    assert!(e.contains("duration_minutes"), "{e}");
    // Nothing invalid was made.
    assert_eq!(s.ok(&a.read, "list_events", json!({"from": "2000-01-01"})).await["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_users_calendar_is_invisible_and_untouchable() {
    let s = TestServer::start().await;
    let now = at("2026-05-01T10:00:00Z");
    s.clock.set(now);
    let a = s.account("ada@example.com").await;
    let b = s.account("bob@example.com").await;
    let start = (now + chrono::Duration::hours(2)).to_rfc3339();
    let secret = s.ok(&a.write, "create_event", json!({"title": "Ada's secret", "start": start})).await;
    let sid = secret["id"].as_str().unwrap();
    let unknown = Uuid::now_v7().to_string();
    for (tool, token, args) in [
        ("get_event", &b.read, json!({"id": sid})),
        ("update_event", &b.write, json!({"id": sid, "title": "planted"})),
        ("delete_event", &b.write, json!({"id": sid})),
    ] {
        let foreign = s.tool_error(token, tool, args.clone()).await;
        let mut args = args;
        args["id"] = json!(unknown);
        let never = s.tool_error(token, tool, args).await;
        assert_eq!(foreign.replace(sid, "ID"), never.replace(&unknown, "ID"), "{tool}");
    }
    assert_eq!(s.ok(&b.read, "list_events", json!({"from": "2000-01-01"})).await["events"], json!([]));
    let bobs_free = s.ok(&b.read, "find_free_time", json!({"duration_minutes": 60, "work_start": "00:00", "work_end": "24:00"})).await;
    let first = &bobs_free["slots"][0];
    assert_eq!(first["start"].as_str().map(at), Some(now), "Ada's event does not block Bob's time: {bobs_free}");
    let upcoming = resource(&s, &b.read, "navis://calendar/upcoming").await;
    assert_eq!(upcoming["events"], json!([]));
    // Ada's event is as she made it, and blocks her own time.
    assert_eq!(s.ok(&a.read, "get_event", json!({"id": sid})).await["title"], "Ada's secret");
    let upcoming = resource(&s, &a.read, "navis://calendar/upcoming").await;
    assert_eq!(ids(&upcoming, "events"), [sid.to_owned()]);
    // Over HTTP too: 404, the same as an unknown id.
    let foreign = expect(&s, 404, "GET", &format!("/events/{sid}"), &b.read, None).await;
    assert_eq!(foreign["error"], "not_found");
    let foreign = expect(&s, 404, "PATCH", &format!("/events/{sid}"), &b.write, Some(json!({"title": "planted"}))).await;
    assert_eq!(foreign["message"].as_str().unwrap().replace(sid, "ID"), "No event with id ID exists in this workspace.");
    expect(&s, 404, "DELETE", &format!("/events/{sid}"), &b.write, None).await;
}

#[tokio::test]
async fn the_calendar_over_http_creates_lists_with_links_patches_and_deletes() {
    let s = TestServer::start().await;
    s.clock.set(at("2026-05-01T00:00:00Z"));
    let a = s.account("ada@example.com").await;
    let resp = call(
        &s,
        "POST",
        "/events",
        Some(&a.write),
        Some(&json!({"title": "Planning", "start": "2026-05-04T09:00:00Z", "location": "Room 1"})),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let id = {
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let event: Value = resp.json().await.unwrap();
        assert!(location.ends_with(&format!("/api/v1/events/{}", event["id"].as_str().unwrap())), "{location}");
        event["id"].as_str().unwrap().to_owned()
    };
    for day in 5..=8 {
        create(&s, &a.write, "/events", json!({"title": format!("Day {day}"), "start": format!("2026-05-0{day}")})).await;
    }
    // Follow the Link headers: the range is kept, every event comes once, by start.
    let mut url = s.url("/api/v1/events?from=2026-05-01&to=2026-05-31&limit=2");
    let mut titles = Vec::new();
    loop {
        let resp = s.http.get(&url).header("Authorization", format!("Bearer {}", a.read)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let next = next_link(&resp);
        let page: Value = resp.json().await.unwrap();
        titles.extend(page["events"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_owned()));
        match next {
            Some(next) => {
                assert!(next.contains("from=2026-05-01") && next.contains("to=2026-05-31"), "{next}");
                url = next;
            }
            None => break,
        }
    }
    assert_eq!(titles, ["Planning", "Day 5", "Day 6", "Day 7", "Day 8"]);
    let patched = expect(&s, 200, "PATCH", &format!("/events/{id}"), &a.write, Some(json!({"location": null, "kind": "meeting"}))).await;
    assert_eq!(
        (patched["location"].clone(), patched["kind"].clone(), patched["title"].clone()),
        (Value::Null, json!("meeting"), json!("Planning"))
    );
    let bad = expect(
        &s,
        422,
        "POST",
        "/events",
        &a.write,
        Some(json!({"title": "x", "start": "2026-05-04T10:00:00Z", "end": "2026-05-04T10:00:00Z"})),
    )
    .await;
    assert_eq!((bad["error"].as_str(), bad["field"].as_str()), (Some("invalid_field"), Some("end")));
    let bad = expect(&s, 422, "GET", "/free-time?duration_minutes=30&from=2026-01-01&to=2026-12-31", &a.read, None).await;
    assert_eq!(bad["field"], "to");
    let deleted = expect(&s, 200, "DELETE", &format!("/events/{id}"), &a.write, None).await;
    assert_eq!(deleted["deleted"], true);
    expect(&s, 404, "GET", &format!("/events/{id}"), &a.read, None).await;
    // The tool list has the six calendar tools; the time zone setting is HTTP only.
    let tools = s.rpc_ok(&a.read, "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for tool in ["list_events", "get_event", "create_event", "update_event", "delete_event", "find_free_time"] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    assert!(!names.contains(&"update_current_user"), "{names:?}");
    let free = tools["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "find_free_time").unwrap();
    assert_eq!(free["annotations"]["readOnlyHint"], true);
}

#[tokio::test]
async fn find_free_time_merges_events_blocks_all_day_and_keeps_local_working_hours_across_dst() {
    let s = TestServer::start().await;
    s.clock.set(at("2026-03-20T00:00:00Z"));
    let a = s.account("ada@example.com").await;
    s.app.set_time_zone(a.id, "Europe/Berlin").await.unwrap();
    let make = |title: &str, start: &str, end: &str| s.ok(&a.write, "create_event", json!({"title": title, "start": start, "end": end}));
    // Friday the 27th is a holiday; Monday the 30th (after the change to summer time on the
    // 29th) has back-to-back and overlapping meetings.
    make("Holiday", "2026-03-27", "2026-03-27").await;
    make("A", "2026-03-30T09:00:00+02:00", "2026-03-30T10:00:00+02:00").await;
    make("B", "2026-03-30T10:00:00+02:00", "2026-03-30T11:00:00+02:00").await;
    make("C", "2026-03-30T13:00:00+02:00", "2026-03-30T14:30:00+02:00").await;
    make("D", "2026-03-30T14:00:00+02:00", "2026-03-30T15:00:00+02:00").await;
    make("Short gap", "2026-03-30T11:30:00+02:00", "2026-03-30T12:20:00+02:00").await;
    let free = s.ok(&a.read, "find_free_time", json!({"from": "2026-03-27", "to": "2026-03-30", "duration_minutes": 60})).await;
    assert_eq!(free["time_zone"], "Europe/Berlin");
    let slots: Vec<(String, String)> = free["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_str().unwrap().to_owned(), s["end"].as_str().unwrap().to_owned()))
        .collect();
    let slot = |s: &str, e: &str| (s.to_owned(), e.to_owned());
    assert_eq!(
        slots,
        [
            // Saturday, winter time; Sunday, summer time: 09:00–17:00 on the wall clock both days.
            slot("2026-03-28T09:00:00+01:00", "2026-03-28T17:00:00+01:00"),
            slot("2026-03-29T09:00:00+02:00", "2026-03-29T17:00:00+02:00"),
            // Monday: A and B merge, C and D merge; 11:00–11:30 and 12:20–13:00 are too short.
            slot("2026-03-30T15:00:00+02:00", "2026-03-30T17:00:00+02:00"),
        ],
        "{free}"
    );
    assert_eq!(free["slots"][2]["minutes"], 120);
    // Weekdays only, 30 minutes, in New York's working hours (13:00–21:00 in Berlin on the 30th).
    let ny = s
        .ok(
            &a.read,
            "find_free_time",
            json!({"from": "2026-03-27", "to": "2026-03-31T00:00:00Z", "duration_minutes": 30, "weekdays_only": true, "time_zone": "America/New_York"}),
        )
        .await;
    let starts: Vec<&str> = ny["slots"].as_array().unwrap().iter().map(|s| s["start"].as_str().unwrap()).collect();
    // The 27th is blocked as a whole day in New York too; on the 30th every meeting is over by
    // 09:00 in New York (15:00 in Berlin), D ending exactly then.
    assert_eq!(starts, ["2026-03-30T09:00:00-04:00"], "{ny}");
    assert_eq!(ny["slots"][0]["end"], "2026-03-30T17:00:00-04:00");
    // Over HTTP, the same answer.
    let over_http = expect(&s, 200, "GET", "/free-time?from=2026-03-27&to=2026-03-30&duration_minutes=60", &a.read, None).await;
    assert_eq!(over_http, free);
    // Slots never start in the past.
    s.clock.set(at("2026-03-28T15:00:00Z"));
    let now_on = s.ok(&a.read, "find_free_time", json!({"from": "2026-03-28", "to": "2026-03-28", "duration_minutes": 30})).await;
    assert_eq!(now_on["slots"][0]["start"], "2026-03-28T16:00:00+01:00");
}

#[tokio::test]
async fn the_time_zone_is_the_users_and_today_and_all_day_events_follow_it() {
    let s = TestServer::start().await;
    // 23:30 UTC on June 1st is already June 2nd in Tokyo.
    s.clock.set(at("2026-06-01T23:30:00Z"));
    let a = s.account("ada@example.com").await;
    let tomorrow_utc = s.ok(&a.write, "create_task", json!({"title": "due on the 2nd", "due_date": "2026-06-02"})).await;
    let first = s.ok(&a.write, "create_task", json!({"title": "due on the 1st", "due_date": "2026-06-01"})).await;
    let me = expect(&s, 200, "GET", "/me", &a.read, None).await;
    assert_eq!(me["time_zone"], "UTC");
    let today = resource(&s, &a.read, "navis://tasks/today").await;
    assert_eq!((today["date"].as_str(), ids(&today, "tasks")), (Some("2026-06-01"), vec![first["id"].as_str().unwrap().to_owned()]));

    let holiday = s.ok(&a.write, "create_event", json!({"title": "Holiday", "start": "2026-06-05", "end": "2026-06-06"})).await;
    let hid = holiday["id"].as_str().unwrap();
    // PATCH /me changes the zone; a read key may not.
    expect(&s, 403, "PATCH", "/me", &a.read, Some(json!({"time_zone": "Asia/Tokyo"}))).await;
    let bad = expect(&s, 422, "PATCH", "/me", &a.write, Some(json!({"time_zone": "Tokyo"}))).await;
    assert!(bad["message"].as_str().unwrap().contains("IANA time zone"), "{bad}");
    let me = expect(&s, 200, "PATCH", "/me", &a.write, Some(json!({"time_zone": "Asia/Tokyo"}))).await;
    assert_eq!((me["time_zone"].as_str(), me["email"].as_str()), (Some("Asia/Tokyo"), Some("ada@example.com")));
    assert_eq!(s.ok(&a.read, "get_current_user", json!({})).await["time_zone"], "Asia/Tokyo");

    // Today is June 2nd in Tokyo: the task due then is today's, the one due on the 1st overdue.
    let today = resource(&s, &a.read, "navis://tasks/today").await;
    assert_eq!(today["date"], "2026-06-02");
    let tasks = today["tasks"].as_array().unwrap();
    assert_eq!((tasks[0]["id"].clone(), tasks[0]["overdue"].clone()), (first["id"].clone(), json!(true)));
    assert_eq!((tasks[1]["id"].clone(), tasks[1]["overdue"].clone()), (tomorrow_utc["id"].clone(), json!(false)));

    // The all-day event stays on its days, now Tokyo's; a timed one keeps its instant.
    let moved = s.ok(&a.read, "get_event", json!({"id": hid})).await;
    assert_eq!((moved["start"].as_str(), moved["end"].as_str()), (Some("2026-06-05T00:00:00+09:00"), Some("2026-06-07T00:00:00+09:00")));
    assert_eq!((moved["start_date"].as_str(), moved["end_date"].as_str()), (Some("2026-06-05"), Some("2026-06-06")));
    let in_tokyo = s.ok(&a.read, "list_events", json!({"from": "2026-06-06", "to": "2026-06-06"})).await;
    assert_eq!(ids(&in_tokyo, "events"), [hid.to_owned()]);
    let upcoming = resource(&s, &a.read, "navis://calendar/upcoming").await;
    assert_eq!((upcoming["time_zone"].as_str(), ids(&upcoming, "events")), (Some("Asia/Tokyo"), vec![hid.to_owned()]));
    assert_eq!(upcoming["from"], "2026-06-02T08:30:00+09:00");
    // Past 7 days, an event is not upcoming.
    s.clock.set(at("2026-05-28T00:00:00Z"));
    assert_eq!(resource(&s, &a.read, "navis://calendar/upcoming").await["events"], json!([]));
    let listed = s.rpc_ok(&a.read, "resources/list", json!({})).await;
    assert!(listed["result"]["resources"].as_array().unwrap().iter().any(|r| r["uri"] == "navis://calendar/upcoming"), "{listed}");

    // The admin CLI sets it too.
    let (ok, _, err) = navis(&s, &["user", "set-timezone", "--email", "ada@example.com", "--time-zone", "America/New_York"], None);
    assert!(ok, "{err}");
    assert!(err.contains("America/New_York"), "{err}");
    assert_eq!(s.ok(&a.read, "get_current_user", json!({})).await["time_zone"], "America/New_York");
    let (ok, _, err) = navis(&s, &["user", "set-timezone", "--email", "ada@example.com", "--time-zone", "Nowhere/Land"], None);
    assert!(!ok && err.contains("IANA"), "{err}");
}
