//! Wiring: open the store, migrate, build the router, serve until shutdown.
use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderValue, header},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Settings;
use crate::core::clock::{Clock, SystemClock};
use crate::edge::AppState;
use crate::mcp::edge::McpTransports;
use crate::service::App;
use crate::store::{Store, postgres::PostgresStore, sqlite::SqliteStore};
use crate::{api, mcp, web};

/// Opens the database named by the settings and brings its schema up to date.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let database_url = settings.database_url.as_str();
    let store: Arc<dyn Store> = if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Arc::new(
            PostgresStore::open(database_url, settings.postgres_role.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL database: {e}"))?,
        )
    } else if settings.postgres_role.is_some() {
        anyhow::bail!("postgres_role is for a PostgreSQL database; SQLite has no roles (and no row-level security)");
    } else {
        Arc::new(SqliteStore::open(database_url).await.map_err(|e| anyhow::anyhow!("cannot open database {database_url}: {e}"))?)
    };
    store.migrate().await.map_err(|e| anyhow::anyhow!("cannot migrate database: {e}"))?;
    Ok(store)
}

pub async fn app(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    Ok(App::new(open_store(settings).await?, clock, &settings.public_url))
}

/// A running server's parts, for `navis serve` and for the tests.
pub struct Running {
    pub app: App,
    pub local_addr: std::net::SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Every face's routes in one router, with what they all share: JSON 404s for unknown routes
/// and the security headers.
pub fn router(state: AppState, transports: Arc<McpTransports>) -> Router {
    let mut router =
        web::router(state.clone()).merge(mcp::router(state.clone(), transports)).merge(api::router(state.clone())).fallback(web::not_found);
    if !state.settings.base_path().is_empty() {
        router = router.layer(axum::middleware::from_fn_with_state(state.clone(), web::base_path::public_paths));
    }
    router
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own
        // form posts, which would hide the very origin the CSRF check looks at.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
}

/// Binds, then serves in the background until `shutdown` is cancelled; flushes last-used times on the way out.
pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(settings.listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
    start_on(listener, settings, clock).await
}

/// Like [`start`], on a listener the caller bound (tests bind port 0 to learn the public URL first).
pub async fn start_on(listener: TcpListener, settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let app = app(&settings, clock).await?;
    let local_addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let transports = Arc::new(McpTransports::new(app.clone(), &settings, shutdown.child_token()));
    let state = AppState { app: app.clone(), settings: Arc::new(settings) };
    let flush_every = Duration::from_secs(state.settings.last_used_flush_secs);
    let session_idle = state.settings.mcp_session_idle;
    let limits = web::connections::Limits {
        header_read_timeout: state.settings.header_read_timeout,
        body_read_timeout: state.settings.body_read_timeout,
        max_connections_per_addr: state.settings.max_connections_per_addr,
        metrics: app.metrics.clone(),
    };
    let sessions = Arc::downgrade(&transports);
    app.metrics.count_sessions_with(move || sessions.upgrade().map_or(0, |t| t.open_sessions()));
    let base = state.settings.base_path().to_owned();
    let router = web::base_path::accept_prefixed(router(state, transports), base);

    let flusher_app = app.clone();
    let flusher_stop = shutdown.clone();
    // Background jobs: batched last-used writes, and reaping registrations never used.
    let flusher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(flush_every);
        let mut reap = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = flusher_app.flush_last_used().await {
                        tracing::warn!(error = %e, "cannot write last-used times; will retry");
                    }
                }
                _ = reap.tick() => {
                    match flusher_app.reap_unused_clients().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(clients = n, "reaped OAuth registrations that were never used"),
                        Err(e) => tracing::warn!(error = %e, "cannot reap unused OAuth clients"),
                    }
                    if let Err(e) = flusher_app.purge_expired().await {
                        tracing::warn!(error = %e, "cannot purge expired sessions and codes");
                    }
                    // MCP sessions unused for a day past their idle time (real time, as rmcp's).
                    let unused = chrono::Utc::now() - chrono::Duration::from_std(session_idle).unwrap_or_default() - chrono::Duration::days(1);
                    if let Err(e) = flusher_app.store.reap_mcp_sessions(unused).await {
                        tracing::warn!(error = %e, "cannot reap ended MCP sessions");
                    }
                }
                _ = flusher_stop.cancelled() => break,
            }
        }
    });

    let stop = shutdown.clone();
    let final_app = app.clone();
    let task = tokio::spawn(async move {
        web::connections::serve(listener, router, limits, stop).await;
        flusher.await.ok();
        final_app.flush_last_used().await.map_err(|e| anyhow::anyhow!("final last-used flush failed: {e}"))?;
        Ok(())
    });
    Ok(Running { app, local_addr, shutdown, task })
}

/// `navis serve`: runs until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let public_url = settings.public_url.clone();
    // Registered before the server answers: a SIGTERM that arrives as soon as /readyz says ready
    // must not meet the default action (exit by the signal, no final flush).
    let stop = ShutdownSignals::install()?;
    let running = start(settings, Arc::new(SystemClock)).await?;
    tracing::info!(address = %running.local_addr, %public_url, "Navis is listening; MCP endpoint at {public_url}/functions/v1/mcp-server-v2");
    eprintln!("Navis is running at {public_url}  (MCP: {public_url}/functions/v1/mcp-server-v2; sign up at {public_url}/signup)");
    stop.received().await;
    tracing::info!("shutting down");
    running.shutdown.cancel();
    running.task.await??;
    Ok(())
}

/// SIGINT and SIGTERM, listened for from the moment of `install`.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.ok();
    }
}
