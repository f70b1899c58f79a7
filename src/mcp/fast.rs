//! The sessionless fast path: `ping`, `tools/list` and `tools/call` answered straight from the
//! request body, without building an rmcp service, its channels and tasks for each request.
//!
//! It takes only the plainest requests — the seed's curl and every stateless client's calls — and
//! gives the very answer rmcp would (the differential test in tests/it/fast_path.rs sends the same
//! requests both ways and compares). Anything else (another method, `_meta`, a protocol version
//! with per-request metadata, an unusual id, an Origin, an unknown tool, a conformance fixture)
//! returns `None` and goes to rmcp as before.
use std::sync::LazyLock;

use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use rmcp::model::{JsonObject, ListToolsResult, ServerResult};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::McpState;
use super::tools;
use crate::edge::bearer;
use crate::ops::{Encoded, Encoding};

/// Versions whose requests carry no per-request metadata or standard headers (those come with
/// 2026-07-28, and rmcp checks them).
const PLAIN_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: &'a str,
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(borrow)]
    method: &'a str,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallParams<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    #[serde(default)]
    pub arguments: Option<JsonObject>,
}

/// A request the fast path takes: its id (echoed byte for byte), its method, and for
/// `tools/call` the tool and its arguments.
pub struct PlainRequest<'a> {
    pub id: &'a RawValue,
    pub method: &'a str,
    pub call: Option<CallParams<'a>>,
}

/// The body read as the fast path reads it: `None` for anything but the plainest `ping`,
/// `tools/list` or `tools/call` of a known tool. Public for the fuzz target, which checks
/// that rmcp reads every body this accepts the same way.
pub fn plain_request(body: &[u8]) -> Option<PlainRequest<'_>> {
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    if envelope.jsonrpc != "2.0" || !plain_id(envelope.id.get()) {
        return None;
    }
    let call = match envelope.method {
        "ping" | "tools/list" if envelope.params.is_none_or(|p| p.get().trim() == "{}") => None,
        "tools/call" => {
            let call: CallParams = serde_json::from_str(envelope.params?.get()).ok()?;
            tools::find(call.name)?;
            Some(call)
        }
        _ => return None,
    };
    Some(PlainRequest { id: envelope.id, method: envelope.method, call })
}

/// A result as rmcp sends it to a peer on a version before 2026-07-28: no `resultType: complete`.
fn legacy(result: impl Into<ServerResult>) -> Option<String> {
    let mut result = result.into();
    result.strip_result_type_for_legacy_peer();
    serde_json::to_string(&result).ok()
}

/// The `tools/list` result, serialised once.
static TOOLS_LIST: LazyLock<Option<String>> = LazyLock::new(|| legacy(ListToolsResult::with_all_items(tools::TOOLS.clone())));

/// An id echoed byte for byte must be one rmcp would echo the same: an integer (not `-0`, which
/// rmcp writes back as `0`), or a string with nothing to unescape.
fn plain_id(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let integer = raw != "-0" && !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit());
    let string = raw.len() >= 2
        && raw.starts_with('"')
        && raw.ends_with('"')
        && raw[1..raw.len() - 1].bytes().all(|b| b != b'\\' && b != b'"' && b >= 0x20);
    integer || string
}

/// Headers the fast path leaves to rmcp: a session, a browser's Origin, a version with
/// per-request metadata, SEP-2243 standard headers, a body that is not JSON.
fn plain_headers(state: &McpState, headers: &HeaderMap) -> bool {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
    let version_ok = match headers.get("mcp-protocol-version") {
        None => true,
        Some(v) => v.to_str().is_ok_and(|v| PLAIN_VERSIONS.contains(&v)),
    };
    let other_mcp_headers = headers.keys().any(|k| k.as_str().starts_with("mcp-") && k.as_str() != "mcp-protocol-version");
    json && version_ok
        && !other_mcp_headers
        && !headers.contains_key(header::ORIGIN)
        && (!state.mcp.sessions_enabled() || !headers.contains_key("mcp-session-id"))
        && state.mcp.host_allowed(headers)
}

/// The JSON-RPC response: `key` is `result` or `error`, `value` its JSON.
fn answer(id: &RawValue, key: &str, value: &str) -> Response {
    let mut body = String::with_capacity(48 + id.get().len() + value.len());
    body.push_str(r#"{"jsonrpc":"2.0","id":"#);
    body.push_str(id.get());
    body.push_str(",\"");
    body.push_str(key);
    body.push_str("\":");
    body.push_str(value);
    body.push('}');
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn encoded(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Answers the request if it is one for the fast path; `None` sends it on to rmcp.
pub async fn try_answer(state: &McpState, parts: &Parts, body: &Bytes, metadata_url: &str) -> Option<Response> {
    if !state.settings.mcp_fast_path || state.settings.conformance_fixtures || !plain_headers(state, &parts.headers) {
        return None;
    }
    let envelope = plain_request(body)?;
    let call = envelope.call;
    state.app.metrics.fast_path();
    let principal = match bearer::authenticate(&state.app, &parts.headers, metadata_url).await {
        Ok(principal) => principal,
        Err(refused) => return Some(refused),
    };
    let Some(call) = call else {
        return Some(match envelope.method {
            "tools/list" => answer(envelope.id, "result", TOOLS_LIST.as_deref()?),
            _ => answer(envelope.id, "result", "{}"),
        });
    };
    if tools::needs_write(call.name) && !principal.access.can_write() {
        state.app.metrics.forbidden();
        return Some(bearer::forbidden(metadata_url));
    }
    Some(match tools::run(&state.app, &principal, call.name, call.arguments, Encoding::JsonAndText).await {
        Ok(outcome) => {
            state.app.metrics.tool_call(call.name, outcome.is_error());
            match outcome {
                tools::Outcome::Json(encoded) => answer(envelope.id, "result", &structured(&encoded)?),
                tools::Outcome::Failed(result) => answer(envelope.id, "result", &legacy(result)?),
            }
        }
        Err(error) => answer(envelope.id, "error", &encoded(&error)?),
    })
}

/// A successful tool result around its JSON, written once: the text content is the JSON
/// escaped (written beside it, in the same pass: `ops::Encoding::JsonAndText`), the structured
/// content is the JSON itself (what rmcp writes for `Outcome::into_result`).
fn structured(encoded: &Encoded) -> Option<String> {
    let (json, text) = (&encoded.json, encoded.text.as_deref()?);
    let mut out = String::with_capacity(json.len() + text.len() + 96);
    out.push_str(r#"{"content":[{"type":"text","text":""#);
    out.push_str(text);
    out.push_str(r#""}],"structuredContent":"#);
    out.push_str(json);
    out.push_str(r#","isError":false}"#);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_that_echo_unchanged_are_taken() {
        for ok in ["1", "0", "-7", "123456789012345678", r#""abc""#, r#""""#, r#""a-b_c 1""#] {
            assert!(plain_id(ok), "{ok}");
        }
        // `-0` was found by the fuzz target `fast_path`: rmcp answers it with id `0`.
        for no in ["1.0", "1e3", "null", "true", "{}", "[]", r#""a\"b""#, r#""\u0041""#, "1234567890123456789", "-", "", "\"x", "-0"] {
            assert!(!plain_id(no), "{no}");
        }
    }
}
