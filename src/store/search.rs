//! Full-text search of a user's workspace. The index is one table, `search_documents` (type, id,
//! parent, title, body), that each searchable table's triggers keep in step with it (see the
//! `0011_goals_search` migrations and the README's Development section on adding a type); the
//! full-text part is an FTS5 table on SQLite and a `tsvector` column with a GIN index on
//! PostgreSQL (`Dialect::search`).
use async_trait::async_trait;
use uuid::Uuid;

use super::sql::{Backend, Stmt};
use super::{StoreError, StoreResult};

/// One item found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// `project`, `task`, `comment`, `goal`…
    pub doc_type: String,
    pub id: Uuid,
    /// Where the item lives: a comment's task.
    pub parent_id: Option<Uuid>,
    pub title: String,
    /// The matching passage, matches between `**`.
    pub snippet: String,
    /// Relevance, higher is better.
    pub score: f64,
}

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The user's items that contain every word (as a word or a word's beginning), best first,
    /// of the given types (all when empty), `limit` of them after skipping `offset`; and whether
    /// more follow. `words` are letters and digits only.
    async fn search(&self, user_id: Uuid, words: &[String], types: &[&str], offset: i64, limit: u32)
    -> StoreResult<(Vec<SearchHit>, bool)>;
}

#[async_trait]
impl<B: Backend> SearchStore for B {
    async fn search(
        &self,
        user_id: Uuid,
        words: &[String],
        types: &[&str],
        offset: i64,
        limit: u32,
    ) -> StoreResult<(Vec<SearchHit>, bool)> {
        if words.is_empty() {
            return Ok((Vec::new(), false));
        }
        let (select, order) = Self::DIALECT.search();
        // The user filter is part of the index query itself: no other user's row is ever read out.
        let mut q = Stmt::new(select).bind(Self::DIALECT.search_terms(words)).bind(user_id);
        for (i, t) in types.iter().enumerate() {
            q = q.push_bind(if i == 0 { " AND d.doc_type IN (?" } else { ", ?" }, *t);
        }
        if !types.is_empty() {
            q = q.push(")");
        }
        let q = q.push(order).push_bind(" LIMIT ?", i64::from(limit) + 1).push_bind(" OFFSET ?", offset);
        let mut hits = self
            .fetch_all(q, |r| {
                Ok(SearchHit {
                    doc_type: r.text("doc_type")?,
                    id: r.uuid("doc_id")?,
                    parent_id: r.opt_uuid("parent_id")?,
                    title: r.text("title")?,
                    snippet: r.text("snippet")?,
                    // As text: the row getters have no floating point, and one query does not need one.
                    score: r.text("score")?.parse().map_err(|_| StoreError::Corrupt("score".into()))?,
                })
            })
            .await?;
        let more = hits.len() > limit as usize;
        hits.truncate(limit as usize);
        Ok((hits, more))
    }
}
