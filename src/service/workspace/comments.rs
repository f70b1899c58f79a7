//! Comments on tasks: list (oldest first) and add.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CURSOR_PATTERN, REQUIRED_TEXT, decode_cursor, encode_cursor, page_limit, required_text, tasks::CommentView};
use crate::service::{App, Principal, ServiceResult};
use crate::store::Comment;

const MAX_BODY: usize = 20_000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListCommentsArgs {
    /// The task's id (UUID).
    pub task_id: String,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddCommentArgs {
    /// The task's id (UUID).
    pub task_id: String,
    /// Markdown.
    #[schemars(length(min = 1, max = 20_000), regex(pattern = REQUIRED_TEXT))]
    pub body: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommentList {
    pub task_id: Uuid,
    /// Oldest first.
    pub comments: Vec<CommentView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl App {
    pub async fn list_comments(&self, p: &Principal, args: ListCommentsArgs) -> ServiceResult<CommentList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let task = self.own_task(p, &args.task_id).await?;
        let page = self.store.list_comments(p.user_id, task.id, after, limit).await?;
        Ok(CommentList {
            task_id: task.id,
            comments: page.items.into_iter().map(|c| CommentView { id: c.id, body: c.body, created_at: c.created_at }).collect(),
            next_cursor: page.next.map(encode_cursor),
        })
    }

    pub async fn add_comment(&self, p: &Principal, args: AddCommentArgs) -> ServiceResult<CommentView> {
        let task = self.own_task(p, &args.task_id).await?;
        let comment =
            Comment { id: Uuid::now_v7(), task_id: task.id, body: required_text("body", &args.body, MAX_BODY)?, created_at: self.now() };
        self.store.insert_comment(p.user_id, &comment, &self.activity(p, "task", task.id, &task.title, "commented")).await?;
        Ok(CommentView { id: comment.id, body: comment.body, created_at: comment.created_at })
    }
}
