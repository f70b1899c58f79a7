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
    /// What changed: `project`, `task`, `note`, `tag`, `event`, `goal`, `inbox_item` or `workflow`.
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: Uuid,
    /// The item's title (or name) at the time.
    pub title: String,
    /// created, updated, archived, completed, commented, appended, tagged, untagged, deleted, or for an inbox item captured, converted or dismissed, or for a workflow ran.
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

/// A change as the workspace page shows it: what, and the key or app that made it.
#[derive(Debug, Clone)]
pub struct Change {
    pub entity_type: String,
    pub title: String,
    pub action: String,
    pub at: DateTime<Utc>,
    /// `API key “laptop”` or the app's name; `None` for changes made before this was recorded.
    pub by: Option<String>,
}

impl App {
    /// The newest `limit` changes, each with the name of the key or app that made it (for the
    /// workspace page; a key or app since revoked is still named).
    pub async fn recent_changes(&self, p: &Principal, limit: u32) -> ServiceResult<Vec<Change>> {
        let page = self.store.list_activity(p.user_id, None, limit).await?;
        let keys: std::collections::HashMap<String, String> =
            self.store.list_api_keys(p.user_id).await?.into_iter().map(|k| (k.id, k.name)).collect();
        let mut apps: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut changes = Vec::with_capacity(page.items.len());
        for a in page.items {
            let by = match a.via.as_deref().and_then(|v| v.split_once(':')) {
                Some(("api_key", id)) => {
                    Some(keys.get(id).map_or_else(|| "an API key since deleted".to_owned(), |n| format!("API key “{n}”")))
                }
                Some(("oauth", client_id)) => {
                    if !apps.contains_key(client_id) {
                        let name = self.store.client(client_id).await?.map_or_else(|| client_id.to_owned(), |c| c.name);
                        apps.insert(client_id.to_owned(), name);
                    }
                    apps.get(client_id).cloned()
                }
                _ => None,
            };
            changes.push(Change { entity_type: a.entity_type, title: a.title, action: a.action, at: a.at, by });
        }
        Ok(changes)
    }

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
