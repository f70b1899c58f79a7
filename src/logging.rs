//! Where the server's log lines go, and which of them are worth a line.
use tracing::{Event, Level, Subscriber, field};
use tracing_subscriber::{
    EnvFilter,
    fmt::MakeWriter,
    layer::{Context, Layer, SubscriberExt},
    util::SubscriberInitExt,
};

/// Without `RUST_LOG`: Navis at info, everything else at warn.
pub const DEFAULT_FILTER: &str = "navis=info,warn";

/// Logs to standard error, filtered by `RUST_LOG` or [`DEFAULT_FILTER`].
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    if subscriber(filter, std::io::stderr).try_init().is_err() {
        eprintln!("warning: a logger was already installed");
    }
}

fn subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry().with(filter).with(ClientWentAway).with(tracing_subscriber::fmt::layer().with_writer(writer))
}

/// Events other crates log as errors that are normal events here, by target and message.
/// rmcp's two: a client closed its connection before its response was sent (under load, every
/// early close; "channel closed"). A level filter cannot single them out: rmcp::service logs
/// real errors at the same level.
const NOT_ERRORS: &[(&str, &str)] =
    &[("rmcp::service", "failed to send pending response during drain"), ("rmcp::service", "fail to response message")];

/// Drops the [`NOT_ERRORS`] events, whatever the filter.
struct ClientWentAway;

impl<S: Subscriber> Layer<S> for ClientWentAway {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let meta = event.metadata();
        if *meta.level() != Level::ERROR || !NOT_ERRORS.iter().any(|(target, _)| *target == meta.target()) {
            return true;
        }
        let mut message = Message::default();
        event.record(&mut message);
        !NOT_ERRORS.iter().any(|(target, text)| *target == meta.target() && *text == message.0)
    }
}

#[derive(Default)]
struct Message(String);

impl field::Visit for Message {
    fn record_debug(&mut self, field: &field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    /// Under load every client that closes its connection early made rmcp log an ERROR; that
    /// is a normal event, so the default logging shows no line for it, and still shows rmcp's
    /// real errors and Navis's own lines.
    #[test]
    fn a_client_that_went_away_is_not_an_error_line() {
        let out = Captured::default();
        tracing::subscriber::with_default(subscriber(EnvFilter::new(DEFAULT_FILTER), out.clone()), || {
            tracing::error!(target: "rmcp::service", error = "channel closed", "failed to send pending response during drain");
            tracing::error!(target: "rmcp::service", error = "channel closed", "fail to response message");
            tracing::error!(target: "rmcp::service", e = "broken pipe", "fail to close sink");
            tracing::info!(target: "navis::server", "listening");
            tracing::info!(target: "rmcp::service", "serve finished");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("during drain") && !text.contains("fail to response"), "{text}");
        assert!(text.contains("fail to close sink"), "{text}");
        assert!(text.contains("listening"), "{text}");
        assert!(!text.contains("serve finished"), "{text}");
    }
}
