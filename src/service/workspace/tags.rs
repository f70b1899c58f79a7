//! Tags: list (with how many items carry each), create, and putting one on or taking it off a
//! task, a note or a project.
//!
//! A tag is an entity of its own (name, colour), its name unique per user whatever its ASCII case.
//! Items carry tags by name: `tag_item`, and the `tags` of `create_task`, `update_task`,
//! `create_note` and `update_note`, make the tag when no tag has the name yet. How the store keeps
//! an item's links and its `tags` array equal is told at `store::Taggable`.
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CURSOR_PATTERN, REQUIRED_TEXT, decode_cursor, encode_cursor, no_nul, page_limit, required_text};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::{DEFAULT_TAG_COLOR, StoreError, Tag, TagUse, Taggable, Tagged, Untagged, tag_key};

/// The most tags one item carries.
pub const MAX_TAGS: usize = 20;
/// The longest tag name, in characters.
pub const MAX_TAG: usize = 50;
/// A colour: `#` and six hexadecimal digits.
pub const COLOR: &str = r"^#[0-9A-Fa-f]{6}$";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Task,
    Note,
    Project,
}

impl From<ItemType> for Taggable {
    fn from(t: ItemType) -> Self {
        match t {
            ItemType::Task => Taggable::Task,
            ItemType::Note => Taggable::Note,
            ItemType::Project => Taggable::Project,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagView {
    pub id: Uuid,
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Tag> for TagView {
    fn from(t: Tag) -> Self {
        Self { id: t.id, name: t.name, color: t.color, created_at: t.created_at, updated_at: t.updated_at }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagUsage {
    #[serde(flatten)]
    pub tag: TagView,
    /// How many items carry it: tasks, notes and projects together.
    pub item_count: i64,
    pub task_count: i64,
    pub note_count: i64,
    pub project_count: i64,
}

impl From<TagUse> for TagUsage {
    fn from(u: TagUse) -> Self {
        Self {
            item_count: u.tasks + u.notes + u.projects,
            task_count: u.tasks,
            note_count: u.notes,
            project_count: u.projects,
            tag: u.tag.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagList {
    /// In name order, ASCII case aside.
    pub tags: Vec<TagUsage>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListTagsArgs {
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTagArgs {
    /// Unique among your tags, whatever its case (`Urgent` and `urgent` are one tag).
    #[schemars(length(min = 1, max = 50), regex(pattern = REQUIRED_TEXT))]
    pub name: String,
    /// `#RRGGBB`; grey (`#6B7280`) if left out.
    #[serde(default)]
    #[schemars(regex(pattern = COLOR))]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TagItemArgs {
    /// What kind of item to tag.
    pub item_type: ItemType,
    /// The task's, note's or project's id (UUID).
    pub item_id: String,
    /// The tag's name, in any case. A name no tag has yet makes that tag (grey).
    #[schemars(length(min = 1, max = 50), regex(pattern = REQUIRED_TEXT))]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaggedItem {
    pub item_type: ItemType,
    pub item_id: Uuid,
    pub tag: TagView,
    /// Whether the item did not carry the tag before (false: it already did, and nothing changed).
    pub added: bool,
    /// Whether the tag was made by this call (no tag had its name).
    pub tag_created: bool,
    /// The item's tags now.
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UntagItemArgs {
    /// What kind of item to untag.
    pub item_type: ItemType,
    /// The task's, note's or project's id (UUID).
    pub item_id: String,
    /// The tag's name, in any case.
    #[schemars(length(min = 1, max = 50), regex(pattern = REQUIRED_TEXT))]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UntaggedItem {
    pub item_type: ItemType,
    pub item_id: Uuid,
    pub name: String,
    /// Whether the item carried the tag (false: it did not, and nothing changed). The tag itself remains.
    pub removed: bool,
    /// The item's tags now.
    pub tags: Vec<String>,
}

/// Tag names as sent for an item: at most 20, each at most 50 characters; kept trimmed, without
/// blanks and without repeats (names differing only in case are one tag: the first is kept).
pub(crate) fn clean_tags(tags: Vec<String>) -> ServiceResult<Vec<String>> {
    let too_many = || ServiceError::field("tags", format!("An item can carry at most {MAX_TAGS} tags."));
    if tags.len() > MAX_TAGS {
        return Err(too_many());
    }
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        if tag.chars().count() > MAX_TAG {
            return Err(ServiceError::field("tags", format!("Each tag must be at most {MAX_TAG} characters.")));
        }
        no_nul("tags", &tag)?;
        let tag = tag.trim().to_owned();
        if !tag.is_empty() && !out.iter().any(|t| tag_key(t) == tag_key(&tag)) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// A `tag` filter as sent: trimmed, none if blank.
pub(crate) fn tag_filter(tag: Option<String>) -> ServiceResult<Option<String>> {
    no_nul("tag", tag.as_deref().unwrap_or_default())?;
    Ok(tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()))
}

fn check_color(color: Option<&str>) -> ServiceResult<String> {
    match color {
        None => Ok(DEFAULT_TAG_COLOR.to_owned()),
        Some(c) if c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()) => Ok(c.to_ascii_uppercase()),
        Some(c) => Err(ServiceError::field("color", format!("color must be # and six hexadecimal digits, like #3B82F6 (got {c:?})."))),
    }
}

impl App {
    pub async fn list_tags(&self, p: &Principal, args: ListTagsArgs) -> ServiceResult<TagList> {
        let limit = page_limit(args.limit)?;
        let after = decode_cursor(args.cursor.as_deref())?;
        let page = self.store.list_tags(p.user_id, after, limit).await?;
        Ok(TagList { tags: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next.map(encode_cursor) })
    }

    pub async fn create_tag(&self, p: &Principal, args: CreateTagArgs) -> ServiceResult<TagView> {
        let now = self.now();
        let tag = Tag {
            id: Uuid::now_v7(),
            user_id: p.user_id,
            name: required_text("name", &args.name, MAX_TAG)?,
            color: check_color(args.color.as_deref())?,
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_tag(&tag, &self.activity(p, "tag", tag.id, &tag.name, "created")).await {
            Ok(()) => Ok(tag.into()),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!(
                "You already have a tag named \"{}\" (names are the same tag whatever their case). Use it as it is: tag_item puts it on an item.",
                tag.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The item's id and its title (a project's name), for the activity of a change of its tags.
    async fn taggable(&self, p: &Principal, kind: ItemType, id: &str) -> ServiceResult<(Uuid, String)> {
        Ok(match kind {
            ItemType::Task => self.own_task(p, id).await.map(|t| (t.id, t.title))?,
            ItemType::Note => self.own_note(p, id).await.map(|n| (n.id, n.title))?,
            ItemType::Project => self.own_project(p, id).await.map(|p| (p.id, p.name))?,
        })
    }

    pub async fn tag_item(&self, p: &Principal, args: TagItemArgs) -> ServiceResult<TaggedItem> {
        let (item_id, title) = self.taggable(p, args.item_type, &args.item_id).await?;
        let name = required_text("name", &args.name, MAX_TAG)?;
        let kind = Taggable::from(args.item_type);
        let activity = self.activity(p, kind.as_str(), item_id, &title, "tagged");
        match self.store.tag_item(kind, p.user_id, item_id, &name, MAX_TAGS, &activity).await? {
            Tagged::Missing => Err(super::not_found(kind.as_str(), &args.item_id)),
            Tagged::Full => Err(ServiceError::Conflict(format!(
                "This {} already carries {MAX_TAGS} tags, the most an item can: untag one first. Nothing was changed.",
                kind.as_str()
            ))),
            Tagged::Done { tag, created, added, tags } => {
                Ok(TaggedItem { item_type: args.item_type, item_id, tag: tag.into(), added, tag_created: created, tags })
            }
        }
    }

    pub async fn untag_item(&self, p: &Principal, args: UntagItemArgs) -> ServiceResult<UntaggedItem> {
        let (item_id, title) = self.taggable(p, args.item_type, &args.item_id).await?;
        let name = required_text("name", &args.name, MAX_TAG)?;
        let kind = Taggable::from(args.item_type);
        let activity = self.activity(p, kind.as_str(), item_id, &title, "untagged");
        match self.store.untag_item(kind, p.user_id, item_id, &name, &activity).await? {
            Untagged::Missing => Err(super::not_found(kind.as_str(), &args.item_id)),
            Untagged::Done { removed, tags } => Ok(UntaggedItem { item_type: args.item_type, item_id, name, removed, tags }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_whatever_their_case_and_bounded() {
        assert_eq!(
            clean_tags(vec![" a ".into(), "a".into(), "".into(), "B".into(), "b".into()]).ok(),
            Some(vec!["a".to_owned(), "B".to_owned()])
        );
        assert!(clean_tags((0..21).map(|i| i.to_string()).collect()).is_err());
        assert!(clean_tags(vec!["x".repeat(51)]).is_err());
    }

    #[test]
    fn colors_are_hex_and_kept_upper_case() {
        assert_eq!(check_color(None).ok().as_deref(), Some(DEFAULT_TAG_COLOR));
        assert_eq!(check_color(Some("#3b82f6")).ok().as_deref(), Some("#3B82F6"));
        for bad in ["3B82F6", "#3B82F", "#3B82F6A", "#GGGGGG", "red", "#ÿÿÿ"] {
            assert!(check_color(Some(bad)).is_err(), "{bad}");
        }
        let pattern = regex_automata::meta::Regex::new(COLOR).ok();
        for sample in ["#3b82f6", "#3B82F6", "3B82F6", "#3B82F", "#GGGGGG", "#ÿÿÿ", "#3B82F6\n"] {
            assert_eq!(pattern.as_ref().is_some_and(|r| r.is_match(sample)), check_color(Some(sample)).is_ok(), "{sample:?}");
        }
    }
}
