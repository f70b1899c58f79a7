//! A real Navis on an ephemeral loopback port, with its own database and a clock the test moves.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use navis::{
    App,
    config::{Settings, SettingsArgs},
    core::{clock::ManualClock, scope::Access},
    server::{Running, start_on},
};
use serde_json::{Value, json};
use uuid::Uuid;

pub const MCP: &str = "/functions/v1/mcp-server-v2";

pub struct TestServer {
    pub base: String,
    /// The database this server uses: a SQLite file in `dir`, or a fresh PostgreSQL database.
    pub database_url: String,
    pub app: App,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    running: Option<Running>,
}

#[derive(Default)]
pub struct Options {
    pub max_body_bytes: Option<usize>,
    pub allow_signup: Option<bool>,
    pub conformance_fixtures: bool,
    pub mcp_sessions: Option<bool>,
    pub mcp_fast_path: Option<bool>,
    pub trusted_proxies: Option<Vec<String>>,
    pub forwarded_header: Option<String>,
    pub mcp_max_pending_sessions: Option<usize>,
    pub mcp_max_sessions_per_user: Option<usize>,
    pub mcp_session_idle_secs: Option<u64>,
    pub header_read_timeout_secs: Option<u64>,
    pub body_read_timeout_secs: Option<u64>,
    pub max_connections_per_addr: Option<usize>,
    pub allowed_origins: Option<Vec<String>>,
    /// Share another server's database (to run several instances as one).
    pub database_url: Option<String>,
    /// The public URL (as behind a load balancer); by default the server's own loopback address.
    pub public_url: Option<String>,
}

/// The PostgreSQL server the suite runs against, when `NAVIS_TEST_POSTGRES` names one
/// (scripts/test.sh runs the whole suite a second time that way).
pub fn postgres_base() -> Option<String> {
    std::env::var("NAVIS_TEST_POSTGRES").ok().filter(|s| !s.is_empty())
}

pub fn on_postgres() -> bool {
    postgres_base().is_some()
}

/// The role the suite's servers serve as on the shared PostgreSQL (`postgres_role`). The suite
/// connects as a superuser, whom row-level security does not bind: serving as this role instead,
/// every test on PostgreSQL runs behind the policies, which proves they let through everything
/// the workspace does for its own user.
pub const POSTGRES_ROLE: &str = "navis_test_serving";

/// Whether `url` is a database on the suite's shared PostgreSQL (not, say, a test's own server).
fn on_shared_postgres(url: &str) -> bool {
    let server = |u: &str| url::Url::parse(u).ok().map(|u| (u.host_str().map(str::to_owned), u.port()));
    postgres_base().is_some_and(|base| server(&base).is_some() && server(&base) == server(url))
}

/// A database of the test's own: a SQLite file in its directory, or a new PostgreSQL database.
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match postgres_base() {
        None => format!("sqlite://{}", dir.path().join("navis.db").display()),
        Some(base) => {
            use sqlx::Connection;
            let name = format!("navis_t_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL is reachable at NAVIS_TEST_POSTGRES");
            // Roles belong to the whole server; tests in other processes may be making it too.
            let role = format!(
                "DO $$ BEGIN CREATE ROLE {POSTGRES_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            );
            sqlx::raw_sql(&role).execute(&mut admin).await.expect("create the serving role");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create the test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&base).expect("NAVIS_TEST_POSTGRES is a URL");
            url.set_path(&name);
            url.to_string()
        }
    }
}

pub fn start_time() -> DateTime<Utc> {
    Utc::now()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = match options.database_url.clone() {
            Some(url) => url,
            None => fresh_database(&dir).await,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let args = SettingsArgs {
            listen: Some(addr.to_string()),
            data_dir: Some(dir.path().to_path_buf()),
            database_url: Some(database_url.clone()),
            postgres_role: on_shared_postgres(&database_url).then(|| POSTGRES_ROLE.to_owned()),
            max_body_bytes: options.max_body_bytes,
            allow_signup: options.allow_signup,
            conformance_fixtures: Some(options.conformance_fixtures),
            mcp_sessions: options.mcp_sessions,
            mcp_fast_path: options.mcp_fast_path,
            trusted_proxies: options.trusted_proxies.clone(),
            forwarded_header: options.forwarded_header.clone(),
            mcp_max_pending_sessions: options.mcp_max_pending_sessions,
            mcp_max_sessions_per_user: options.mcp_max_sessions_per_user,
            mcp_session_idle_secs: options.mcp_session_idle_secs,
            header_read_timeout_secs: options.header_read_timeout_secs,
            body_read_timeout_secs: options.body_read_timeout_secs,
            max_connections_per_addr: options.max_connections_per_addr,
            allowed_origins: options.allowed_origins,
            public_url: options.public_url,
            ..Default::default()
        };
        let settings = Settings::resolve(&args).expect("settings");
        let clock = ManualClock::new(start_time());
        let running = start_on(listener, settings, Arc::new(clock.clone())).await.expect("server starts");
        Self {
            base: format!("http://{addr}"),
            app: running.app.clone(),
            clock,
            dir,
            database_url,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            running: Some(running),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("navis.db")
    }

    /// Runs SQL straight on this server's database, beside the server, as an operator could.
    pub async fn sql(&self, sql: &str) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        if on_postgres() {
            let mut conn = sqlx::PgConnection::connect(&self.database_url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
        }
        Ok(())
    }

    /// A trigger on `table` that makes every `event` (INSERT, UPDATE) fail, as a full disk would
    /// (`Trigger::Refuse`), or silently change no row, as if another request got there first
    /// (`Trigger::Skip`). Dropped with `drop_trigger`.
    pub async fn trigger(&self, table: &str, event: &str, action: Trigger) {
        let sql = match (on_postgres(), action) {
            (false, Trigger::Refuse) => {
                format!("CREATE TRIGGER test_{table} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;")
            }
            (false, Trigger::Skip) => format!("CREATE TRIGGER test_{table} BEFORE {event} ON {table} BEGIN SELECT RAISE(IGNORE); END;"),
            (true, action) => {
                let body = match action {
                    Trigger::Refuse => "RAISE EXCEPTION 'refused by the test';",
                    Trigger::Skip => "RETURN NULL;",
                };
                format!(
                    "CREATE FUNCTION test_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$; \
                     CREATE TRIGGER test_{table} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION test_{table}();"
                )
            }
        };
        self.sql(&sql).await.expect("create the test trigger");
    }

    pub async fn drop_trigger(&self, table: &str) {
        let sql = if on_postgres() {
            format!("DROP TRIGGER test_{table} ON {table}; DROP FUNCTION test_{table}();")
        } else {
            format!("DROP TRIGGER test_{table};")
        };
        self.sql(&sql).await.expect("drop the test trigger");
    }

    pub async fn user(&self, email: &str) -> Uuid {
        self.app.create_user(email, "correct horse battery").await.expect("user").id
    }

    pub async fn key(&self, user: Uuid, access: Access) -> String {
        self.app.create_api_key(user, "test key", access, None).await.expect("key").token.plaintext
    }

    /// A user with a read key and a write key.
    pub async fn account(&self, email: &str) -> Account {
        let id = self.user(email).await;
        Account { id, read: self.key(id, Access::Read).await, write: self.key(id, Access::Write).await }
    }

    /// POST one JSON-RPC message exactly as the seed's curl does: only Authorization and Content-Type.
    pub async fn rpc(&self, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self.http.post(self.url(MCP)).header("Content-Type", "application/json").body(body.to_string());
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        req.send().await.expect("request")
    }

    /// A JSON-RPC call that must succeed at the HTTP level; returns the whole JSON-RPC response.
    pub async fn rpc_ok(&self, token: &str, method: &str, params: Value) -> Value {
        let resp = self.rpc(Some(token), json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await;
        assert_eq!(resp.status(), 200, "{method} should answer 200");
        resp.json().await.expect("json-rpc response")
    }

    /// Calls a tool; returns its `CallToolResult`.
    pub async fn tool(&self, token: &str, name: &str, args: Value) -> Value {
        let v = self.rpc_ok(token, "tools/call", json!({"name": name, "arguments": args})).await;
        v.get("result").cloned().unwrap_or_else(|| panic!("{name}: no result in {v}"))
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn ok(&self, token: &str, name: &str, args: Value) -> Value {
        let r = self.tool(token, name, args).await;
        assert_eq!(r["isError"], false, "{name} failed: {r}");
        r["structuredContent"].clone()
    }

    /// Calls a tool that must fail as a tool error; returns its message.
    pub async fn tool_error(&self, token: &str, name: &str, args: Value) -> String {
        let r = self.tool(token, name, args).await;
        assert_eq!(r["isError"], true, "{name} should fail: {r}");
        r["content"][0]["text"].as_str().unwrap_or_default().to_owned()
    }

    /// Stops the server gracefully; returns its data directory, which lives as long as the caller keeps it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(running) = self.running.take() {
            running.shutdown.cancel();
            running.task.await.expect("join").expect("clean shutdown");
        }
        let placeholder = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.shutdown.cancel();
        }
    }
}

#[derive(Clone, Copy)]
pub enum Trigger {
    Refuse,
    Skip,
}

pub struct Account {
    pub id: Uuid,
    pub read: String,
    pub write: String,
}
