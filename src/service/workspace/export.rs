//! `export_workspace`: everything of the user as one JSON document, written as it is read — a page
//! of each kind at a time into a bounded channel — so that however large the workspace, only a
//! page and a few chunks are in memory. Over HTTP the chunks are the response body as they come;
//! an MCP tool result has to be one message, so the tool collects them, up to a cap.
use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    activity::ActivityView, calendar::EventView, goals::GoalView, goals::goal_view, inbox::InboxItemView, me::NoArgs, notes::NoteView,
    projects::ProjectView, tags::TagView, tasks::TaskView, workflows::WorkflowRunView, workflows::WorkflowView,
};
use crate::service::{App, Principal, ServiceError, ServiceResult};
use crate::store::export::{ExportKind, ExportRows};

/// What the document says it is, so that an importer knows what it reads.
pub const FORMAT: &str = "navis-export/1";
/// Rows read per query.
const PAGE: u32 = 500;
/// A chunk is sent once it holds this much.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the reader and the client: the bound on what a slow client makes
/// the server hold.
const IN_FLIGHT: usize = 4;
/// The largest export a tool result carries (an MCP client holds a result whole, and models read
/// it): beyond it the tool refuses and points to the HTTP export, which streams.
pub const MAX_TOOL_EXPORT: usize = 16 * 1024 * 1024;

/// The export document. Only its schema is built from this type: the document is written piece by
/// piece by [`App::export_stream`], in this field order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExportDocument {
    /// `navis-export/1`.
    pub format: String,
    pub exported_at: DateTime<Utc>,
    pub user: ExportUser,
    pub projects: Vec<ProjectView>,
    /// Every task, done ones included.
    pub tasks: Vec<TaskView>,
    pub comments: Vec<ExportComment>,
    pub notes: Vec<NoteView>,
    pub events: Vec<EventView>,
    pub goals: Vec<ExportGoal>,
    /// Every inbox item: open, converted and dismissed.
    pub inbox: Vec<InboxItemView>,
    pub tags: Vec<TagView>,
    pub workflows: Vec<WorkflowView>,
    /// Every run of every workflow, oldest first.
    pub workflow_runs: Vec<WorkflowRunView>,
    /// Every recorded change, oldest first.
    pub activity: Vec<ActivityView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExportUser {
    pub id: Uuid,
    pub email: String,
    pub time_zone: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExportComment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExportGoal {
    #[serde(flatten)]
    pub goal: GoalView,
    /// The projects linked to the goal.
    pub project_ids: Vec<Uuid>,
    /// The tasks linked to the goal.
    pub task_ids: Vec<Uuid>,
}

/// The whole document, already JSON (the tool's result).
#[derive(Debug, Serialize)]
pub struct ExportJson(Box<RawValue>);

impl JsonSchema for ExportJson {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        ExportDocument::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ExportDocument::json_schema(generator)
    }
}

/// One chunk of the document, or why the export stopped (then the document is incomplete).
pub type ExportChunk = Result<Bytes, ServiceError>;

/// Why writing stopped early.
enum Stop {
    /// The reader went away (the client disconnected, or the tool's cap was reached).
    Gone,
    Failed(ServiceError),
}

impl From<ServiceError> for Stop {
    fn from(e: ServiceError) -> Self {
        Stop::Failed(e)
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Failed(e.into())
    }
}

/// Serialises into a buffer, sent in chunks of about [`CHUNK`].
struct Writer<'a> {
    buf: Vec<u8>,
    out: &'a mpsc::Sender<ExportChunk>,
    /// No item written yet in the open array.
    first: bool,
}

impl Writer<'_> {
    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn value<T: Serialize>(&mut self, v: &T) -> Result<(), Stop> {
        serde_json::to_writer(&mut self.buf, v).map_err(|e| Stop::Failed(ServiceError::Invalid(format!("cannot encode the export: {e}"))))
    }

    fn open(&mut self, key: &str) {
        self.raw(&format!(",\"{key}\":["));
        self.first = true;
    }

    fn item<T: Serialize>(&mut self, v: &T) -> Result<(), Stop> {
        if !std::mem::take(&mut self.first) {
            self.raw(",");
        }
        self.value(v)
    }

    async fn send(&mut self, at_least: usize) -> Result<(), Stop> {
        if self.buf.len() < at_least.max(1) {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 4096)));
        self.out.send(Ok(chunk)).await.map_err(|_| Stop::Gone)
    }
}

impl App {
    /// The export of the user's workspace, as chunks of JSON; the last item is an error if it could
    /// not be finished. Reading stops as soon as the receiver is dropped.
    pub fn export_stream(&self, p: &Principal) -> mpsc::Receiver<ExportChunk> {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let (app, p) = (self.clone(), p.clone());
        // A task of its own: it does not inherit the caller's acting user (a task-local), so it
        // acts for the principal itself, or the row-level security policies would show it nothing.
        tokio::spawn(crate::store::acting_as(p.user_id, async move {
            if let Err(Stop::Failed(e)) = app.write_export(&p, &tx).await {
                // Nobody may be listening any more; then there is nobody to tell.
                let _ = tx.send(Err(e)).await;
            }
        }));
        rx
    }

    /// The whole export as one document, for a tool result: refused beyond [`MAX_TOOL_EXPORT`].
    pub async fn export_workspace(&self, p: &Principal, _args: NoArgs) -> ServiceResult<ExportJson> {
        let mut chunks = self.export_stream(p);
        let mut doc = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            doc.extend_from_slice(&chunk?);
            if doc.len() > MAX_TOOL_EXPORT {
                return Err(ServiceError::Invalid(format!(
                    "The workspace export is larger than {} MB, more than a tool result should carry. Download it with GET /api/v1/export (an API key or token with mcp:read), which streams it.",
                    MAX_TOOL_EXPORT >> 20
                )));
            }
        }
        let doc = String::from_utf8(doc).map_err(|e| ServiceError::Invalid(format!("cannot encode the export: {e}")))?;
        RawValue::from_string(doc).map(ExportJson).map_err(|e| ServiceError::Invalid(format!("cannot encode the export: {e}")))
    }

    async fn write_export(&self, p: &Principal, out: &mpsc::Sender<ExportChunk>) -> Result<(), Stop> {
        let user = self.store.user_by_id(p.user_id).await?.ok_or_else(|| ServiceError::NotFound("The account no longer exists.".into()))?;
        let tz = self.time_zone(p.user_id).await?;
        let mut w = Writer { buf: Vec::with_capacity(CHUNK + 4096), out, first: true };
        w.raw("{\"format\":");
        w.value(&FORMAT)?;
        w.raw(",\"exported_at\":");
        w.value(&self.now())?;
        w.raw(",\"user\":");
        w.value(&ExportUser { id: user.id, email: user.email, time_zone: tz.name().to_owned() })?;
        for kind in ExportKind::ALL {
            w.open(kind.key());
            let mut after = None;
            loop {
                let (rows, last) = self.store.export_page(p.user_id, kind, after, PAGE).await?;
                let Some(last) = last else { break };
                match rows {
                    ExportRows::Projects(rows) => rows.into_iter().try_for_each(|r| w.item(&ProjectView::from(r)))?,
                    ExportRows::Tasks(rows) => rows.into_iter().try_for_each(|r| w.item(&TaskView::from(r)))?,
                    ExportRows::Comments(rows) => rows.into_iter().try_for_each(|c| {
                        w.item(&ExportComment { id: c.id, task_id: c.task_id, body: c.body, created_at: c.created_at })
                    })?,
                    ExportRows::Notes(rows) => rows.into_iter().try_for_each(|r| w.item(&NoteView::from(r)))?,
                    ExportRows::Events(rows) => rows.into_iter().try_for_each(|r| w.item(&EventView::new(r, tz)))?,
                    ExportRows::Goals(rows) => {
                        let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
                        let tallies: HashMap<_, _> = self.store.goal_progress(p.user_id, &ids).await?.into_iter().collect();
                        let mut links: HashMap<Uuid, (Vec<Uuid>, Vec<Uuid>)> = HashMap::new();
                        for l in self.store.goal_links(p.user_id, &ids).await? {
                            let entry = links.entry(l.goal_id).or_default();
                            let list = if l.kind == "project" { &mut entry.0 } else { &mut entry.1 };
                            list.push(l.linked_id);
                        }
                        for g in rows {
                            let (project_ids, task_ids) = links.remove(&g.id).unwrap_or_default();
                            let tally = tallies.get(&g.id).copied().unwrap_or_default();
                            w.item(&ExportGoal { goal: goal_view(g, tally), project_ids, task_ids })?;
                        }
                    }
                    ExportRows::Inbox(rows) => rows.into_iter().try_for_each(|r| w.item(&InboxItemView::from(r)))?,
                    ExportRows::Tags(rows) => rows.into_iter().try_for_each(|r| w.item(&TagView::from(r)))?,
                    ExportRows::Workflows(rows) => rows.into_iter().try_for_each(|r| w.item(&WorkflowView::try_from(r)?))?,
                    ExportRows::WorkflowRuns(rows) => rows.into_iter().try_for_each(|r| w.item(&WorkflowRunView::try_from(r)?))?,
                    ExportRows::Activity(rows) => rows.into_iter().try_for_each(|a| {
                        w.item(&ActivityView { entity_type: a.entity_type, id: a.entity_id, title: a.title, action: a.action, at: a.at })
                    })?,
                }
                w.send(CHUNK).await?;
                after = Some(last);
            }
            w.raw("]");
        }
        w.raw("}");
        w.send(0).await
    }
}
