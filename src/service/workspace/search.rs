//! `search_workspace`: full-text search over the user's projects (name, description), tasks
//! (title, description), comments (body), goals (title, description), notes (title, body) and
//! calendar events (title, description), ranked, with snippets.
//!
//! The query is plain words, never query syntax: it is cut into runs of letters and digits, and
//! an item is found when it contains every word, as a word or the beginning of one (`deploy`
//! finds "deployment"), case and common accents aside. Quotes, `*`, `-`, `NEAR`, `OR` or
//! parentheses are only more words or nothing.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CURSOR_PATTERN, REQUIRED_TEXT, decode_cursor, encode_cursor, page_limit, required_text};
use crate::service::{App, Principal, ServiceError, ServiceResult};

/// Words of a query beyond these are ignored.
const MAX_WORDS: usize = 32;
const MAX_QUERY: usize = 500;

/// The searchable types (`doc_type` in the index), and the pattern of `types` built from them.
macro_rules! searchable {
    ($($t:literal),+) => {
        pub const SEARCH_TYPES: &[&str] = &[$($t),+];
        /// `types`: one or more of the searchable types, separated by commas (spaces allowed).
        pub const TYPES_PATTERN: &str =
            concat!("^ *(", searchable!(@any $($t),+), ")( *, *(", searchable!(@any $($t),+), "))* *$");
    };
    (@any $first:literal $(, $rest:literal)*) => { concat!($first $(, "|", $rest)*) };
}

searchable!("project", "task", "comment", "goal", "note", "event");

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Words to find (plain text; every word must match, as a word or a word's beginning).
    #[schemars(length(min = 1, max = 500), regex(pattern = REQUIRED_TEXT))]
    pub query: String,
    /// Only these types, comma-separated: project, task, comment, goal, note, event (default: all).
    #[schemars(regex(pattern = TYPES_PATTERN))]
    pub types: Option<String>,
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    #[schemars(regex(pattern = CURSOR_PATTERN))]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResult {
    /// project, task, comment, goal, note or event.
    #[serde(rename = "type")]
    pub item_type: String,
    /// The item's id (for a comment, the comment's; see `task_id`).
    pub id: Uuid,
    /// The item's title or name; for a comment, its task's title.
    pub title: String,
    /// The passage that matched, the matched words between `**`.
    pub snippet: String,
    /// Relevance: higher is better (comparable within one search only).
    pub rank: f64,
    /// For a comment: the task it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResults {
    /// Best match first.
    pub results: Vec<SearchResult>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The query's words: runs of letters and digits, at most `MAX_WORDS`, each once.
pub fn words(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        if !out.contains(&word) {
            out.push(word);
        }
        if out.len() == MAX_WORDS {
            break;
        }
    }
    out
}

fn types(types: Option<&str>) -> ServiceResult<Vec<&'static str>> {
    let mut out = Vec::new();
    for name in types.into_iter().flat_map(|t| t.split(',')).map(|t| t.trim_matches(' ')) {
        let Some(known) = SEARCH_TYPES.iter().find(|t| **t == name) else {
            return Err(ServiceError::field(
                "types",
                format!("types must list some of {}, separated by commas (got \"{name}\").", SEARCH_TYPES.join(", ")),
            ));
        };
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

impl App {
    pub async fn search_workspace(&self, p: &Principal, args: SearchArgs) -> ServiceResult<SearchResults> {
        let limit = page_limit(args.limit)?;
        // The cursor is the number of results already seen, in the shape of every other cursor.
        let offset = decode_cursor(args.cursor.as_deref())?.map_or(0, |c| i64::try_from(c.as_u128()).unwrap_or(i64::MAX));
        let query = required_text("query", &args.query, MAX_QUERY)?;
        let types = types(args.types.as_deref())?;
        let (hits, more) = self.store.search(p.user_id, &words(&query), &types, offset, limit).await?;
        let mut results = Vec::with_capacity(hits.len());
        for hit in hits {
            let (title, task_id) = match (hit.doc_type.as_str(), hit.parent_id) {
                ("comment", Some(task_id)) => {
                    let task = self.store.task(p.user_id, task_id).await?;
                    (task.map(|t| t.title).unwrap_or_default(), Some(task_id))
                }
                _ => (hit.title, None),
            };
            results.push(SearchResult { item_type: hit.doc_type, id: hit.id, title, snippet: hit.snippet, rank: hit.score, task_id });
        }
        let next = offset.saturating_add(i64::from(limit));
        Ok(SearchResults { results, next_cursor: more.then(|| encode_cursor(Uuid::from_u128(u128::try_from(next).unwrap_or_default()))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_plain_words_whatever_its_syntax() {
        assert_eq!(words(r#"  "Deploy" the-API* NEAR (x OR -y  "#), ["deploy", "the", "api", "near", "x", "or", "y"]);
        assert_eq!(words("Café crème, café"), ["café", "crème"]);
        assert!(words("*** \"\" () - :").is_empty());
        assert_eq!(words(&"w ".repeat(100)).len(), 1);
        assert_eq!(words(&(0..100).map(|i| format!("w{i} ")).collect::<String>()).len(), MAX_WORDS);
    }

    #[test]
    fn types_are_the_searchable_ones_as_the_pattern_says() {
        let matches = |s: &str| regex_automata::meta::Regex::new(TYPES_PATTERN).map(|r| r.is_match(s)).unwrap_or(false);
        for ok in ["task", "task,goal", " project , comment ", "goal,goal"] {
            assert!(matches(ok) && types(Some(ok)).is_ok(), "{ok}");
        }
        for bad in ["", "tasks", "task,", ",task", "task;goal", "Task", "task,\tgoal"] {
            assert!(!matches(bad) && types(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(types(Some("goal, task,goal")).ok(), Some(vec!["goal", "task"]));
        assert_eq!(types(None).ok(), Some(vec![]));
    }
}
