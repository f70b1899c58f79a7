//! Recent activity: every change to the workspace, newest first (`list_recent_activity`).
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CURSOR_PATTERN, decode_cursor, encode_cursor, page_limit};
use crate::service::{App, Principal, ServiceResult};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListActivityArgs {
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ActivityView {
    /// What changed: `project` or `task`.
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: Uuid,
    /// The item's title (or name) at the time.
    pub title: String,
    /// created, updated, archived, completed, commented or deleted.
    pub action: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ActivityList {
    /// Newest first.
    pub activity: Vec<ActivityView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl App {
    pub async fn list_recent_activity(&self, p: &Principal, args: ListActivityArgs) -> ServiceResult<ActivityList> {
        let limit = page_limit(args.limit)?;
        let before = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_activity(p.user_id, before, limit).await?;
        Ok(ActivityList {
            activity: page
                .items
                .into_iter()
                .map(|a| ActivityView { entity_type: a.entity_type, id: a.entity_id, title: a.title, action: a.action, at: a.at })
                .collect(),
            next_cursor: page.next.map(encode_cursor),
        })
    }
}
