//! Prompts: ready-made instructions that embed the user's own workspace data.
use rmcp::{
    ErrorData as McpError,
    model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role},
};
use serde_json::Value;

use crate::service::{
    App, Principal, ServiceError,
    workspace::{
        calendar::{EventView, ListEventsArgs},
        goals::{GoalStatus, ListGoalsArgs},
        inbox::ListInboxArgs,
        meetings::MeetingArgs,
        tasks::ListTasksArgs,
    },
};

pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "plan_week",
            Some("Plan the week: embeds this week's open and overdue tasks, this week's events and the active goals (the week read in your time zone), and asks for a day-by-day plan."),
            Some(vec![PromptArgument::new("focus").with_description("What the week should focus on (optional)").with_required(false)]),
        )
        .with_title("Plan my week"),
        Prompt::new(
            "scaffold_project",
            Some("Create a project and its first tasks with create_project and create_tasks."),
            Some(vec![
                PromptArgument::new("name").with_description("The project's name").with_required(true),
                PromptArgument::new("description").with_description("What the project is about").with_required(false),
                PromptArgument::new("deadline").with_description("Due date, YYYY-MM-DD").with_required(false),
            ]),
        )
        .with_title("Scaffold a project"),
        Prompt::new(
            "triage_inbox",
            Some("Triage the inbox: embeds the open inbox items and the rules for turning each into a task, a note, an event or a dismissal."),
            None,
        )
        .with_title("Triage my inbox"),
        Prompt::new(
            "meeting_follow_up",
            Some("Follow up a meeting: embeds the meeting, its notes and its existing follow-up tasks, and asks for a follow-up message and the action items still missing."),
            Some(vec![PromptArgument::new("event_id").with_description("The meeting's calendar event (UUID)").with_required(true)]),
        )
        .with_title("Follow up a meeting"),
    ]
}

/// When an event is, for a person: its days if all-day, else its start and end in the user's time zone.
fn when(e: &EventView) -> String {
    if e.all_day {
        match (e.start_date, e.end_date) {
            (Some(first), Some(last)) if first != last => format!("all day {first} to {last}"),
            (Some(first), _) => format!("all day {first}"),
            _ => "all day".to_owned(),
        }
    } else {
        format!("{} to {}", e.start.format("%a %Y-%m-%d %H:%M"), e.end.format("%H:%M"))
    }
}

fn arg(args: &JsonObject, name: &str) -> Option<String> {
    args.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

pub async fn get(app: &App, p: &Principal, name: &str, args: &JsonObject) -> Result<GetPromptResult, McpError> {
    p.acting(get_as(app, p, name, args)).await
}

async fn get_as(app: &App, p: &Principal, name: &str, args: &JsonObject) -> Result<GetPromptResult, McpError> {
    match name {
        "plan_week" => {
            let read = |what: &'static str| move |e| McpError::internal_error(format!("cannot read {what}: {e}"), None);
            // The week is today and the 6 days after it, in the user's time zone.
            let tz = app.time_zone(p.user_id).await.map_err(read("the time zone"))?;
            let today = app.today(p.user_id).await.map_err(read("the time zone"))?;
            let last_day = today + chrono::Duration::days(6);
            let tasks = app
                .list_tasks(p, ListTasksArgs { due_before: Some(last_day), limit: Some(100), ..Default::default() })
                .await
                .map_err(read("tasks"))?;
            let lines: Vec<String> = tasks
                .tasks
                .iter()
                .map(|t| {
                    let due =
                        t.due_date.map(|d| if d < today { format!("overdue since {d}") } else { format!("due {d}") }).unwrap_or_default();
                    format!("- [{}] {} ({}, {}) id={}", t.status, t.title, t.priority, due, t.id)
                })
                .collect();
            let events = app
                .list_events(
                    p,
                    ListEventsArgs {
                        from: Some(today.to_string()),
                        to: Some(last_day.to_string()),
                        kind: None,
                        limit: Some(100),
                        cursor: None,
                    },
                )
                .await
                .map_err(read("events"))?;
            let event_lines: Vec<String> =
                events.events.iter().map(|e| format!("- {} ({}, {}) id={}", e.title, e.kind, when(e), e.id)).collect();
            let goals = app
                .list_goals(p, ListGoalsArgs { status: Some(GoalStatus::Active), limit: Some(50), cursor: None })
                .await
                .map_err(read("goals"))?;
            let goal_lines: Vec<String> = goals
                .goals
                .iter()
                .map(|g| {
                    let target = g.target_date.map(|d| format!(", target {d}")).unwrap_or_default();
                    format!("- {} ({}% done{target}) id={}", g.title, g.progress, g.id)
                })
                .collect();
            let list = |lines: Vec<String>| if lines.is_empty() { "(none)".to_owned() } else { lines.join("\n") };
            let focus = arg(args, "focus").map(|f| format!(" The focus this week: {f}.")).unwrap_or_default();
            let text = format!(
                "Today is {today} (time zone {}). Help me plan the week, through {last_day}.{focus}\n\n\
                 My open tasks due this week or overdue:\n{}\n\n\
                 My calendar this week (times in my time zone):\n{}\n\n\
                 My active goals:\n{}\n\n\
                 Propose a day-by-day plan around the events, favouring work that moves the goals: what to do first, what to move, \
                 and what to drop. Use update_task to change due dates or priorities once I agree.",
                tz.name(),
                list(lines),
                list(event_lines),
                list(goal_lines)
            );
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description("Plan the week"))
        }
        "scaffold_project" => {
            let Some(project) = arg(args, "name") else {
                return Err(McpError::invalid_params("scaffold_project needs the argument `name`.", None));
            };
            let description = arg(args, "description").map(|d| format!("\nDescription: {d}")).unwrap_or_default();
            let deadline = arg(args, "deadline").map(|d| format!("\nDeadline: {d} (YYYY-MM-DD)")).unwrap_or_default();
            let text = format!(
                "Set up a new project in Navis.\nProject: {project}{description}{deadline}\n\n\
                 1. Call create_project with this name (and description, and due_date = the deadline if given).\n\
                 2. Break the work into 5–12 concrete first tasks, each a short imperative title, with priorities and due dates before the deadline.\n\
                 3. Call create_tasks once with all of them and the new project's id.\n\
                 4. Summarise what you created."
            );
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description("Scaffold a project"))
        }
        "triage_inbox" => {
            let inbox = app
                .list_inbox(p, ListInboxArgs { limit: Some(100), ..Default::default() })
                .await
                .map_err(|e| McpError::internal_error(format!("cannot read the inbox: {e}"), None))?;
            let lines: Vec<String> = inbox
                .items
                .iter()
                .map(|i| {
                    let source = i.source.as_deref().map(|s| format!(" (from {s})")).unwrap_or_default();
                    format!("- id={}{source}: {}", i.id, i.text.replace('\n', " / "))
                })
                .collect();
            let more =
                if inbox.next_cursor.is_some() { "\n(more items wait: call list_inbox with the next_cursor after these.)" } else { "" };
            let text = format!(
                "Today is {}. Help me triage my inbox. Its open items, newest first:\n{}{more}\n\n\
                 For each item, propose one of:\n\
                 - a task (something to do): convert_inbox_item with into=task, a short imperative title, and due_date, priority and project_id when they are clear;\n\
                 - a note (something to keep or look up): into=note, with a title;\n\
                 - an event (something happening at a time): into=event, with start (an RFC 3339 date-time with an offset, or a date) and end;\n\
                 - a dismissal (nothing to do or keep): dismiss_inbox_item.\n\
                 Group the proposals, ask me about anything unclear, and convert or dismiss only once I agree. \
                 Converting makes the new item and marks the inbox item converted at once; an item is converted or dismissed only once.",
                app.now().date_naive(),
                if lines.is_empty() { "(none: the inbox is empty)".to_owned() } else { lines.join("\n") }
            );
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description("Triage the inbox"))
        }
        "meeting_follow_up" => {
            let Some(event_id) = arg(args, "event_id") else {
                return Err(McpError::invalid_params("meeting_follow_up needs the argument `event_id`.", None));
            };
            // An id that is not one of the user's events is the caller's mistake, said as the tools say it.
            let meeting = app.get_meeting(p, MeetingArgs { event_id }).await.map_err(|e| match e {
                ServiceError::Invalid(m) | ServiceError::NotFound(m) | ServiceError::InvalidField { message: m, .. } => {
                    McpError::invalid_params(m, None)
                }
                other => McpError::internal_error(format!("cannot read the meeting: {other}"), None),
            })?;
            let e = &meeting.event;
            let attendees = if e.attendees.is_empty() { "(none listed)".to_owned() } else { e.attendees.join(", ") };
            let notes: Vec<String> = meeting.notes.iter().map(|n| format!("### {} (id={})\n{}", n.title, n.id, n.body)).collect();
            let tasks: Vec<String> = meeting
                .follow_ups
                .iter()
                .map(|t| {
                    let due = t.due_date.map(|d| format!(", due {d}")).unwrap_or_default();
                    let who = t.assignee.as_deref().map(|a| format!(", {a}")).unwrap_or_default();
                    format!("- [{}] {} ({}{due}{who}) id={}", t.status, t.title, t.priority, t.id)
                })
                .collect();
            let text = format!(
                "Help me follow up the meeting \"{}\" ({}, {}; attendees: {attendees}; id={}).{}\n\n\
                 Its notes:\n{}\n\n\
                 Its follow-up tasks so far:\n{}\n\n\
                 1. Draft a short follow-up message to the attendees: what was decided, who does what by when.\n\
                 2. List the action items the notes contain that no follow-up task covers yet, each a short imperative title \
                 with an owner (assignee), a priority and a due date when the notes say one.\n\
                 3. Once I agree, create them with create_follow_ups (event_id {}), all in one call.",
                e.title,
                e.kind,
                when(e),
                e.id,
                if e.description.is_empty() { String::new() } else { format!("\nDescription: {}", e.description) },
                if notes.is_empty() {
                    "(none recorded: ask me what was said, or record it with record_meeting_notes)".to_owned()
                } else {
                    notes.join("\n\n")
                },
                if tasks.is_empty() { "(none)".to_owned() } else { tasks.join("\n") },
                e.id,
            );
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description("Follow up a meeting"))
        }
        _ => Err(McpError::invalid_params(format!("Unknown prompt: {name}"), None)),
    }
}
