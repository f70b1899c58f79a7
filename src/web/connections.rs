//! The accept loop, with limits against slow clients (slowloris) that `axum::serve` does not set:
//! a deadline for a request's headers (which also ends idle keep-alive connections), a deadline for
//! its body (408, then close), and a cap on open connections per client address. Requests carry
//! `ConnectInfo<SocketAddr>` as with `into_make_service_with_connect_info`. Responses have no
//! deadline: MCP's SSE streams stay open as long as their session does.
use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::service::metrics::{Metrics, face_of};

#[derive(Debug, Clone)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections_per_addr: usize,
    /// Where each request's duration and the requests in flight are counted.
    pub metrics: Arc<Metrics>,
}

/// Serves `router` on `listener` until `stop` is cancelled, then waits for open connections to
/// finish their requests (as `axum::serve(..).with_graceful_shutdown` does).
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, stop: CancellationToken) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let open = OpenConnections::default();
    // Every connection task holds a sender; when the last is dropped, all connections have ended.
    let (alive, mut all_closed) = tokio::sync::mpsc::channel::<Infallible>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors, for instance: wait instead of spinning.
                tracing::warn!(error = %e, "cannot accept a connection; retrying in a second");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.cancelled() => break,
                }
            }
        };
        let Some(slot) = open.take(peer.ip(), limits.max_connections_per_addr) else {
            tracing::debug!(%peer, limit = limits.max_connections_per_addr, "too many connections from one address; closing the new one");
            drop(stream);
            continue;
        };
        let per_request = (limits.body_read_timeout, limits.metrics.clone());
        tokio::spawn(connection(stream, peer, slot, http.clone(), router.clone(), per_request, stop.clone(), alive.clone()));
    }
    drop(listener);
    drop(alive);
    all_closed.recv().await;
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    _slot: Slot,
    http: hyper::server::conn::http1::Builder,
    router: Router,
    (body_read_timeout, metrics): (Duration, Arc<Metrics>),
    stop: CancellationToken,
    _alive: tokio::sync::mpsc::Sender<Infallible>,
) {
    stream.set_nodelay(true).ok();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (router, metrics) = (router.clone(), metrics.clone());
        async move { Ok::<_, Infallible>(handle(router, request, peer, body_read_timeout, &metrics).await) }
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Answers one request, counting it in flight and recording how long its answer took.
async fn handle(router: Router, request: Request<Incoming>, peer: SocketAddr, body_read_timeout: Duration, metrics: &Metrics) -> Response {
    let face = face_of(request.uri().path());
    let _in_flight = metrics.request_started();
    let started = std::time::Instant::now();
    let response = answer(router, request, peer, body_read_timeout).await;
    metrics.request_answered(face, response.status().as_u16(), started.elapsed());
    response
}

async fn answer(router: Router, request: Request<Incoming>, peer: SocketAddr, body_read_timeout: Duration) -> Response {
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ConnectInfo(peer));
    // Requests without a body (GET, and so the SSE streams) need no deadline.
    if body.is_end_stream() {
        return into_response(router.oneshot(Request::from_parts(parts, Body::new(body))).await);
    }
    let expired = Arc::new(AtomicBool::new(false));
    let deadline = tokio::time::Instant::now() + body_read_timeout;
    let body = DeadlineBody { inner: body, deadline, timer: None, expired: expired.clone() };
    let response = into_response(router.oneshot(Request::from_parts(parts, Body::new(body))).await);
    if expired.load(Ordering::Relaxed) {
        // Whatever the handler made of the failed read (400, 413), the cause was the time limit.
        return (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            Json(serde_json::json!({
                "error": "request_timeout",
                "error_description": format!("the request body did not arrive within {} seconds", body_read_timeout.as_secs()),
            })),
        )
            .into_response();
    }
    response
}

fn into_response(result: Result<Response, Infallible>) -> Response {
    match result {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A request body that fails once its deadline passes (set when the headers have arrived).
/// The timer is armed only when the body is not all there at once: most bodies arrive with
/// their headers, and a timer per request is a measurable cost on the hot path.
struct DeadlineBody {
    inner: Incoming,
    deadline: tokio::time::Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl hyper::body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = this.deadline;
        if this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline))).as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Open connections per client address.
#[derive(Default, Clone)]
struct OpenConnections(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl OpenConnections {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot { open: self.clone(), ip })
    }
}

/// One counted connection; dropping it (when the connection task ends) frees the place.
struct Slot {
    open: OpenConnections,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Errors of one connection that came and went before it was accepted: nothing to wait for.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset)
}
