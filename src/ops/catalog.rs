//! Every operation, declared once. An entry reads:
//!
//! ```text
//! op!("name", "Title", Effect, [VERB "/path" (, VERB "/other/{arg}" ({arg2 = "value"})? => "operation_id")*],
//!     service_method(InputType) -> OutputType, "Description for people and models.")
//! ```
//!
//! The service method is `App::service_method(&self, &Principal, InputType) -> ServiceResult<OutputType>`.
//! `{arg = "value"}` after a path sets that argument on that route (see `Route::fixed`).
use super::{Effect, Operation, Route, Verb};
use crate::service::App;
use crate::service::workspace::{
    activity::*, calendar::*, comments::*, export::*, goals::*, inbox::*, me::*, meetings::*, notes::*, projects::*, search::*, summary::*,
    tags::*, tasks::*,
};

macro_rules! op {
    ($name:literal, $title:literal, $effect:ident,
     [$($verb:ident $path:literal $({$($arg:ident = $value:literal),+})? $(=> $id:literal)?),+ $(,)?],
     $method:ident($In:ty) -> $Out:ty, $description:literal $(,)?) => {{
        fn run<'a>(
            app: &'a crate::service::App,
            p: &'a crate::service::Principal,
            args: super::JsonObject,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, super::OpError>> + Send + 'a>> {
            Box::pin(async move {
                let args: $In = super::parse(args)?;
                super::encode(app.$method(p, args).await)
            })
        }
        let routes = vec![$(Route {
            verb: Verb::$verb,
            path: $path,
            fixed: &[$($((stringify!($arg), $value)),+)?],
            operation_id: op!(@id $name $(, $id)?),
        }),+];
        Operation::new::<$In, $Out>($name, $title, Effect::$effect, routes, $description, run)
    }};
    (@id $name:literal) => { $name };
    (@id $name:literal, $id:literal) => { $id };
}

pub(super) fn operations() -> Vec<Operation> {
    vec![
        op!("list_projects", "List projects", Read, [Get "/projects"],
            list_projects(ListProjectsArgs) -> ProjectList,
            "List the user's projects, newest first. Archived projects are left out unless `status` is `archived`. Paginated with `limit` and `cursor`."),
        op!("get_project", "Get a project", Read, [Get "/projects/{id}"],
            get_project(ProjectIdArgs) -> ProjectDetail,
            "Get one project with the number of its tasks in each status."),
        op!("create_project", "Create a project", Create, [Post "/projects"],
            create_project(CreateProjectArgs) -> ProjectView,
            "Create a project. Status defaults to `active`; dates are YYYY-MM-DD."),
        op!("update_project", "Update a project", Update, [Patch "/projects/{id}"],
            update_project(UpdateProjectArgs) -> ProjectView,
            "Change a project's name, description, status or dates. Set status to `archived` to archive it; pass null to clear a date."),
        op!("delete_project", "Delete a project", Delete, [Delete "/projects/{id}"],
            delete_project(DeleteProjectArgs) -> DeletedProject,
            "Delete a project. A project that still has tasks is only deleted with `cascade: true`, which deletes its tasks too. Its notes are kept, in no project."),
        op!("list_tasks", "List tasks", Read, [Get "/tasks", Get "/projects/{project_id}/tasks" => "list_project_tasks"],
            list_tasks(ListTasksArgs) -> TaskList,
            "List tasks, newest first, filtered by project, status, priority, due-date range, tag, assignee or text. Done tasks are left out unless `status` is `done` or `include_done` is true. Paginated with `limit` and `cursor`."),
        op!("get_task", "Get a task", Read, [Get "/tasks/{id}"],
            get_task(TaskIdArgs) -> TaskDetail,
            "Get one task with its comments."),
        op!("create_task", "Create a task", Create, [Post "/tasks"],
            create_task(CreateTaskArgs) -> TaskView,
            "Create a task, optionally in a project. Status defaults to `todo`, priority to `medium`; due_date is YYYY-MM-DD; the description is markdown."),
        op!("create_tasks", "Create several tasks", Create, [Post "/tasks/batch"],
            create_tasks(CreateTasksArgs) -> CreatedTasks,
            "Create up to 50 tasks at once. All are created or, if any is invalid, none."),
        op!("update_task", "Update a task", Update, [Patch "/tasks/{id}"],
            update_task(UpdateTaskArgs) -> TaskView,
            "Change any field of a task: title, description, project (null to detach), status, priority, due date, assignee, tags (replaced as a whole). Moving to `done` records the completion time."),
        op!("complete_task", "Complete a task", Update, [Post "/tasks/{id}/complete"],
            complete_task(TaskIdArgs) -> TaskView,
            "Mark a task done and record when it was completed. Completing a done task changes nothing."),
        op!("delete_task", "Delete a task", Delete, [Delete "/tasks/{id}"],
            delete_task(TaskIdArgs) -> DeletedTask,
            "Delete a task with its comments; the tags it carried remain, without it."),
        op!("list_comments", "List a task's comments", Read, [Get "/tasks/{task_id}/comments"],
            list_comments(ListCommentsArgs) -> CommentList,
            "List the comments on a task, oldest first. Paginated with `limit` and `cursor`."),
        op!("add_comment", "Comment on a task", Create, [Post "/tasks/{task_id}/comments"],
            add_comment(AddCommentArgs) -> CommentView,
            "Add a comment (markdown) to a task."),
        op!("list_recent_activity", "Recent activity", Read, [Get "/activity"],
            list_recent_activity(ListActivityArgs) -> ActivityList,
            "Every change to the workspace (created, updated, archived, achieved, completed, commented, appended, linked, unlinked, tagged, untagged, deleted), newest first. Paginated with `limit` and `cursor`."),
        op!("get_current_user", "Who am I", Read, [Get "/me"],
            current_user(NoArgs) -> CurrentUser,
            "Who the token belongs to: user id, email, token kind, scopes, when the token expires, and the user's time zone."),
        // calendar
        op!("list_events", "List events", Read, [Get "/events"],
            list_events(ListEventsArgs) -> EventList,
            "List calendar events that overlap a time range (`from`, default now; `to`, default open), ordered by start; optionally of one `kind`. `from`/`to` take RFC 3339 date-times with offset or dates (YYYY-MM-DD, read in the user's time zone; a `to` date includes that day). Times come back in the user's time zone. Paginated with `limit` and `cursor`."),
        op!("get_event", "Get an event", Read, [Get "/events/{id}"],
            get_event(EventIdArgs) -> EventView,
            "Get one calendar event."),
        op!("create_event", "Create an event", Create, [Post "/events"],
            create_event(CreateEventArgs) -> EventView,
            "Create a calendar event. A timed event takes `start` (and `end`, default one hour later) as RFC 3339 date-times with an offset, e.g. 2026-05-04T09:00:00+02:00. An all-day event takes dates: `start` is its first day and `end` its last day, inclusive (default: one day), read in the user's time zone. kind is meeting, focus, personal or other (default)."),
        op!("update_event", "Update an event", Update, [Patch "/events/{id}"],
            update_event(UpdateEventArgs) -> EventView,
            "Change any field of an event; fields left out keep their value, and null clears `location`. Changing only `start` moves the event and keeps its length; `attendees` is replaced as a whole."),
        op!("delete_event", "Delete an event", Delete, [Delete "/events/{id}"],
            delete_event(EventIdArgs) -> DeletedEvent,
            "Delete a calendar event."),
        op!("find_free_time", "Find free time", Read, [Get "/free-time"],
            find_free_time(FindFreeTimeArgs) -> FreeTime,
            "Find free slots of at least `duration_minutes` within working hours (`work_start`–`work_end`, default 09:00–17:00, in `time_zone`, default the user's) between `from` (default now) and `to` (default 7 days later; at most 62 days). Events that overlap or touch merge; all-day events block their whole days; `weekdays_only` skips weekends. Slots never start in the past."),
        op!("update_current_user", "Change account settings", Update, [Patch "/me"],
            update_current_user(UpdateCurrentUserArgs) -> CurrentUser,
            "Change the user's time zone (an IANA name such as Europe/Berlin): \"today\", all-day events and working hours are read in it. HTTP only.").http_only(),
        // goals and search
        op!("list_goals", "List goals", Read, [Get "/goals"],
            list_goals(ListGoalsArgs) -> GoalList,
            "List the user's goals, newest first, each with its progress; `status` narrows to active, achieved or abandoned goals. Paginated with `limit` and `cursor`."),
        op!("get_goal", "Get a goal", Read, [Get "/goals/{id}"],
            get_goal(GoalIdArgs) -> GoalDetail,
            "Get one goal with its progress, the projects linked to it and the tasks linked to it."),
        op!("create_goal", "Create a goal", Create, [Post "/goals"],
            create_goal(CreateGoalArgs) -> GoalView,
            "Create a goal. Status defaults to `active`; target_date is YYYY-MM-DD; progress (0–100) may be set by hand until tasks count towards the goal."),
        op!("update_goal", "Update a goal", Update, [Patch "/goals/{id}"],
            update_goal(UpdateGoalArgs) -> GoalView,
            "Change a goal's title, description, status (active, achieved, abandoned) or target date (null clears it). Progress can be set by hand only while no task counts towards the goal; once tasks do (linked, or in a linked project), it is the share of them that are done."),
        op!("delete_goal", "Delete a goal", Delete, [Delete "/goals/{id}"],
            delete_goal(GoalIdArgs) -> DeletedGoal,
            "Delete a goal and its links to projects and tasks (the projects and tasks stay); says how many links went with it."),
        op!("link_to_goal", "Link to a goal", Update, [Post "/goals/{goal_id}/links"],
            link_to_goal(LinkToGoalArgs) -> GoalLink,
            "Link a project or a task to a goal, or unlink it with `unlink: true`. A linked task, and every task of a linked project, counts towards the goal's progress. Linking twice (or unlinking what is not linked) changes nothing."),
        op!("search_workspace", "Search the workspace", Read, [Get "/search"],
            search_workspace(SearchArgs) -> SearchResults,
            "Full-text search over the user's projects, tasks, comments, goals, notes and calendar events, best match first, each with a snippet whose matched words are between `**`. The query is plain words (no operators): an item matches when it has every word, or a word beginning with it. `types` narrows to some of project, task, comment, goal, note, event (comma-separated). Paginated with `limit` and `cursor`."),
        // notes
        op!("list_notes", "List notes", Read, [Get "/notes"],
            list_notes(ListNotesArgs) -> NoteList,
            "List notes, newest first, filtered by project, calendar event, tag or text (in the title or body). Paginated with `limit` and `cursor`."),
        op!("get_note", "Get a note", Read, [Get "/notes/{id}"],
            get_note(NoteIdArgs) -> NoteView,
            "Get one note with its whole markdown body."),
        op!("create_note", "Create a note", Create, [Post "/notes"],
            create_note(CreateNoteArgs) -> NoteView,
            "Create a note: a title and a markdown body, optionally in a project, about a calendar event (event_id) and with tags (a name no tag has yet makes the tag)."),
        op!("update_note", "Update a note", Update, [Patch "/notes/{id}"],
            update_note(UpdateNoteArgs) -> NoteView,
            "Change a note's title, body (replaced), project or event (null to detach), or tags (replaced as a whole). Fields left out keep their value."),
        op!("append_to_note", "Append to a note", Append, [Post "/notes/{id}/append"],
            append_to_note(AppendToNoteArgs) -> NoteView,
            "Add markdown at the end of a note's body, after a blank line, leaving what is there untouched. Each call appends again."),
        op!("delete_note", "Delete a note", Delete, [Delete "/notes/{id}"],
            delete_note(NoteIdArgs) -> DeletedNote,
            "Delete a note; the tags it carried remain, without it."),
        // tags
        op!("list_tags", "List tags", Read, [Get "/tags"],
            list_tags(ListTagsArgs) -> TagList,
            "List your tags in name order, each with how many tasks, notes and projects carry it. Paginated with `limit` and `cursor`."),
        op!("create_tag", "Create a tag", Create, [Post "/tags"],
            create_tag(CreateTagArgs) -> TagView,
            "Create a tag with a colour (#RRGGBB, grey by default). Names are unique whatever their case. Tagging an item with a new name (tag_item) also makes the tag."),
        op!("tag_item", "Tag an item", Update,
            [Post "/tasks/{item_id}/tags" {item_type = "task"},
             Post "/notes/{item_id}/tags" {item_type = "note"} => "tag_note",
             Post "/projects/{item_id}/tags" {item_type = "project"} => "tag_project"],
            tag_item(TagItemArgs) -> TaggedItem,
            "Put a tag on a task, note or project, by the tag's name (in any case); a name no tag has yet makes the tag. Tagging an item that already carries the tag changes nothing (`added` is false). An item carries at most 20 tags. list_tasks and list_notes filter by tag."),
        op!("untag_item", "Untag an item", Delete,
            [Delete "/tasks/{item_id}/tags/{name}" {item_type = "task"},
             Delete "/notes/{item_id}/tags/{name}" {item_type = "note"} => "untag_note",
             Delete "/projects/{item_id}/tags/{name}" {item_type = "project"} => "untag_project"],
            untag_item(UntagItemArgs) -> UntaggedItem,
            "Take a tag off a task, note or project, by the tag's name (in any case). The tag itself remains. If the item does not carry it, nothing changes and `removed` is false."),
        // workspace summary and export
        op!("export_workspace", "Export the workspace", Read, [Get "/export"],
            export_workspace(NoArgs) -> ExportJson,
            "Everything of the user as one JSON document (format `navis-export/1`): the account's id, email and time zone; every project, task (done ones too), comment, note, event, goal (with its linked projects and tasks), inbox item, tag and recorded change. Over HTTP (GET /api/v1/export) it is streamed, whatever its size; as a tool result it is refused beyond 16 MB.")
            .streamed(App::export_stream),
        op!("get_workspace_summary", "Workspace summary", Read, [Get "/summary"],
            get_workspace_summary(NoArgs) -> WorkspaceSummary,
            "The workspace at a glance: counts of projects, tasks (by status), notes, events and goals (by status); open tasks due today and overdue (today in the user's time zone); events in the next 7 days; active goals with their progress; the 10 latest changes across every kind of item."),
        // inbox and meetings
        op!("list_inbox", "List the inbox", Read, [Get "/inbox"],
            list_inbox(ListInboxArgs) -> InboxList,
            "List inbox items, newest first: the open ones by default, or those converted or dismissed (`status`). Paginated with `limit` and `cursor`."),
        op!("capture_to_inbox", "Capture to the inbox", Create, [Post "/inbox"],
            capture_to_inbox(CaptureArgs) -> InboxItemView,
            "Capture something to sort out later: its text and, optionally, where it came from (`source`). It stays open until converted (convert_inbox_item) or dismissed."),
        op!("convert_inbox_item", "Convert an inbox item", Create, [Post "/inbox/{id}/convert"],
            convert_inbox_item(ConvertInboxItemArgs) -> ConvertedItem,
            "Turn an open inbox item into a task, a note or an event (`into`), marking it converted with the new item's id, all at once. The title defaults to the item's first line and the details (description or body) to its whole text. A task takes project_id, due_date, priority; a note takes project_id; an event needs start (and takes end). If the new item is invalid, nothing is made and the item stays open; an item already converted or dismissed is refused."),
        op!("dismiss_inbox_item", "Dismiss an inbox item", Update, [Post "/inbox/{id}/dismiss"],
            dismiss_inbox_item(InboxItemIdArgs) -> InboxItemView,
            "Dismiss an open inbox item (nothing to do about it); it stays listed under `status: dismissed`. An item already converted or dismissed is refused."),
        op!("get_meeting", "Get a meeting", Read, [Get "/events/{event_id}/meeting"],
            get_meeting(MeetingArgs) -> MeetingView,
            "Get a meeting: its calendar event with the notes about it and its follow-up tasks (done ones too), newest first, at most 100 of each (`more_notes` / `more_follow_ups` say when there are more: list_notes and list_tasks with `event_id` page through them)."),
        op!("record_meeting_notes", "Record meeting notes", Create, [Post "/events/{event_id}/meeting/notes"],
            record_meeting_notes(RecordMeetingNotesArgs) -> NoteView,
            "Record notes of a meeting: a new markdown note about its event, titled \"Notes: <meeting title>\" unless `title` is given; optionally in a project, with tags. Each call makes a new note (append_to_note adds to an existing one)."),
        op!("create_follow_ups", "Create follow-up tasks", Create, [Post "/events/{event_id}/meeting/follow-ups"],
            create_follow_ups(CreateFollowUpsArgs) -> FollowUps,
            "Turn a meeting's action items into tasks linked to the meeting (their `event_id`): 1 to 50 items, each as create_task takes a task, created all together or, if any is invalid, none. Deleting the meeting's event keeps the tasks and unlinks them."),
    ]
}
