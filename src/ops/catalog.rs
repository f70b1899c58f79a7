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
use crate::service::workspace::{activity::*, comments::*, me::*, notes::*, projects::*, tags::*, tasks::*};

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
            "Every change to the workspace (created, updated, archived, completed, commented, appended, tagged, untagged, deleted), newest first. Paginated with `limit` and `cursor`."),
        op!("get_current_user", "Who am I", Read, [Get "/me"],
            current_user(NoArgs) -> CurrentUser,
            "Who the token belongs to: user id, email, token kind, scopes and when the token expires."),
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
    ]
}
