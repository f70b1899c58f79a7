//! What each fuzz target feeds a parser and what it asserts about the answer, one function per
//! target. The libFuzzer targets in `fuzz_targets/` call these; `tests/it/fuzz_corpus.rs`
//! includes this file and runs every committed corpus and regression input through them, so
//! the ordinary test suite replays them without a fuzzer.
//!
//! Inputs are raw bytes. Where a parser takes two strings, they are split at the first NUL;
//! where a target covers several parsers, the first byte chooses one.
use std::{
    collections::HashSet,
    future::Future,
    pin::pin,
    sync::LazyLock,
    task::{Context, Poll, Waker},
};

use axum::extract::{Form, FromRequest};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, header};
use navis::{
    config::{Settings, SettingsArgs},
    core::{
        oauth::{KNOWN_APP_SCHEMES, check_redirect_uri, is_loopback_redirect, redirect_matches},
        scope,
        secret::BASE62,
        token::{self, TokenKind},
    },
    edge::bearer,
    mcp::{edge, fast, tools},
    ops::{self, OpError},
    service::{
        oauth::{
            authorize::AuthorizationParams,
            client_metadata::{ClientMetadataFetcher, cache_ttl, client_from_document},
            register::{RegistrationRequest, check_registration},
            with_params,
        },
        workspace::{calendar, decode_cursor, encode_cursor, page_limit, parse_id},
    },
    web::{oauth as web_oauth, pages},
};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonObject};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A target's checks on one input: they return, or panic with what failed.
pub type Check = fn(&[u8]);

/// Every target, by the name of its folder under `fuzz/corpus` and `fuzz/regressions`.
pub const TARGETS: &[(&str, Check)] = &[
    ("token", token),
    ("bearer", bearer),
    ("jsonrpc", jsonrpc),
    ("fast_path", fast_path),
    ("tool_args", tool_args),
    ("dcr", dcr),
    ("cimd", cimd),
    ("redirect_uri", redirect_uri),
    ("forms", forms),
    ("next", next),
    ("cursor", cursor),
];

/// The two parts of an input, split at its first NUL (the second is empty without one).
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Runs a future that cannot wait (an extractor over an in-memory body) to its end.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory body never waits"),
    }
}

/// A fixed "now" for the rules that take the clock: 2027-01-15T12:00:00Z.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
}

const KINDS: [TokenKind; 4] = [TokenKind::ApiKey, TokenKind::Access, TokenKind::Refresh, TokenKind::Code];
const TOKEN_LEN: usize = 5 + token::ID_LEN + token::SECRET_LEN + token::CHECKSUM_LEN;

/// Token format and checksum (`core::token::parse`): whatever parses re-assembles to the very
/// same string from its kind, id, secret and checksum; and a well-formed token built from the
/// input parses, while any single character changed in it does not.
pub fn token(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        check_parsed_token(s);
    }
    let Some((&first, rest)) = data.split_first() else { return };
    let kind = KINDS[usize::from(first) % KINDS.len()];
    let body_len = token::ID_LEN + token::SECRET_LEN;
    if rest.len() < body_len {
        return;
    }
    let mut signed = kind.prefix().to_owned();
    signed.extend(rest[..body_len].iter().map(|&b| BASE62[usize::from(b) % 62] as char));
    let sealed = format!("{signed}{}", token::checksum(&signed));
    let parsed = token::parse(&sealed).unwrap_or_else(|e| panic!("a sealed token is refused: {e:?} {sealed}"));
    assert_eq!(parsed.kind, kind);
    assert_eq!(parsed.id, &signed[5..5 + token::ID_LEN]);
    check_parsed_token(&sealed);
    // CRC-32 catches every single-byte change: one typo never reaches the database.
    if let &[at, with, ..] = &rest[body_len..] {
        let at = usize::from(at) % sealed.len();
        let mut typo = sealed.clone().into_bytes();
        typo[at] = with;
        if typo != sealed.as_bytes()
            && let Ok(typo) = String::from_utf8(typo)
        {
            assert!(token::parse(&typo).is_err(), "a one-character typo parsed: {typo}");
        }
    }
}

fn check_parsed_token(s: &str) {
    let Ok(parsed) = token::parse(s) else { return };
    assert_eq!(parsed.plaintext, s);
    assert_eq!(s.len(), TOKEN_LEN);
    assert!(s.starts_with(parsed.kind.prefix()));
    assert!(s[5..].bytes().all(|b| BASE62.contains(&b)));
    let (signed, check) = s.split_at(s.len() - token::CHECKSUM_LEN);
    assert_eq!(token::checksum(signed), check);
    assert_eq!(format!("{}{}{}", parsed.kind.prefix(), &signed[5..], token::checksum(signed)), s);
    assert_eq!(token::display_id(parsed.kind, parsed.id), s[..5 + token::ID_LEN]);
}

/// The `Authorization` header (`web::bearer::bearer_token`), given up to four values split at
/// NUL: no header is no credential; two are one malformed credential; a token is only ever
/// what follows the Bearer scheme, trimmed; then the token format decides.
pub fn bearer(data: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut values = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && values.len() < 4 {
        let (value, tail) = split(rest);
        rest = tail;
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(header::AUTHORIZATION, value.clone());
            values.push(value);
        }
    }
    let found = bearer::bearer_token(&headers);
    match values.as_slice() {
        [] => assert_eq!(found, None),
        [value] => {
            let Some(found) = found else { panic!("a header was sent, and no credential seen") };
            if !found.is_empty() {
                let sent = value.to_str().unwrap_or_else(|_| panic!("a token from a header that is not text"));
                let (scheme, rest) = sent.trim().split_once(' ').unwrap_or_else(|| panic!("a token without a scheme"));
                assert!(scheme.eq_ignore_ascii_case("bearer"), "a token under the {scheme} scheme");
                assert_eq!(found, rest.trim());
                assert_eq!(found, found.trim());
            }
            if let Ok(parsed) = token::parse(found) {
                assert!(!found.contains(char::is_whitespace));
                assert_eq!(parsed.plaintext, found);
            }
        }
        _ => assert_eq!(found, Some(""), "two credentials must be one malformed request"),
    }
}

/// The JSON-RPC envelope as the MCP edge decodes it (`mcp::edge`, exactly its
/// `serde_json::from_slice::<ClientJsonRpcMessage>`, which is also rmcp's): the edge's scope
/// check keys on `CallToolRequest`, so only a `tools/call` decodes as one, and a `tools/call`
/// that does not is a custom request (answered -32602, never run); a body that does not decode
/// gets the JSON-RPC error the README promises (-32700 for what is not JSON, -32600 for JSON
/// that is no message), never a panic.
pub fn jsonrpc(data: &[u8]) {
    match serde_json::from_slice::<ClientJsonRpcMessage>(data) {
        Ok(ClientJsonRpcMessage::Request(request)) => {
            let method = request.request.method().to_owned();
            match &request.request {
                ClientRequest::CallToolRequest(call) => {
                    assert_eq!(method, "tools/call");
                    let _ = tools::needs_write(&call.params.name);
                }
                // rmcp reads a request whose params do not fit its method as a custom request,
                // which Navis answers with -32602 (`on_custom_request`): no tool runs that way.
                ClientRequest::CustomRequest(custom) => assert_eq!(custom.method, method),
                _ => assert_ne!(method, "tools/call"),
            }
            if matches!(request.request, ClientRequest::InitializeRequest(_)) {
                assert_eq!(method, "initialize");
            }
        }
        Ok(_) => {}
        Err(error) => {
            use serde_json::error::Category;
            let response = edge::undecodable(data, &error);
            assert_eq!(response.status(), http::StatusCode::BAD_REQUEST);
            let body = ready(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap_or_default();
            let body: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("the error body is not JSON: {e}"));
            assert_eq!(body["jsonrpc"], "2.0");
            assert!(body["id"].is_null());
            let not_json = matches!(error.classify(), Category::Syntax | Category::Eof | Category::Io);
            assert_eq!(body["error"]["code"].as_i64(), Some(if not_json { -32700 } else { -32600 }));
        }
    }
}

/// The sessionless fast path's request parsing (`mcp::fast::plain_request`), against rmcp's
/// decoding of the same body: the fast path promises rmcp's very answer, so whatever it takes
/// must be a request rmcp reads with the same method, tool and arguments, and an id that rmcp
/// would write back byte for byte as the fast path echoes it.
pub fn fast_path(data: &[u8]) {
    let Some(plain) = fast::plain_request(data) else { return };
    let message =
        serde_json::from_slice::<ClientJsonRpcMessage>(data).unwrap_or_else(|e| panic!("the fast path takes a body rmcp refuses: {e}"));
    let ClientJsonRpcMessage::Request(request) = message else { panic!("the fast path takes what rmcp reads as no request") };
    assert_eq!(request.request.method(), plain.method);
    let echoed = serde_json::to_string(&request.id).unwrap_or_default();
    assert_eq!(echoed, plain.id.get(), "rmcp would answer with id {echoed}, the fast path with {}", plain.id.get());
    match (&request.request, &plain.call) {
        (ClientRequest::CallToolRequest(call), Some(fast)) => {
            assert_eq!(call.params.name, fast.name);
            assert_eq!(call.params.arguments, fast.arguments);
            assert!(call.params.meta.is_none() && call.params.input_responses.is_none() && call.params.request_state.is_none());
            assert!(tools::find(fast.name).is_some());
        }
        (ClientRequest::PingRequest(_), None) => assert_eq!(plain.method, "ping"),
        (ClientRequest::ListToolsRequest(_), None) => assert_eq!(plain.method, "tools/list"),
        (other, _) => panic!("the fast path takes {} as {}", other.method(), plain.method),
    }
}

/// Tool arguments: `name`, NUL, a JSON object. The operation is looked up in the catalogue
/// (`ops::find`, every MCP tool and the HTTP-only operations) by that name — or, for a name the
/// catalogue does not know, taken by the name's length, so mutations of the name still reach
/// some operation — and the object is parsed into its input type exactly as a call parses it
/// (`Operation::check_args`). Whatever is accepted must satisfy the input schema `tools/list`
/// and the OpenAPI document publish (its required fields are there, every field's JSON type is
/// one the schema allows), and then the pure checks the service applies to ids, `limit` and
/// `cursor` hold.
pub fn tool_args(data: &[u8]) {
    let (name, json) = split(data);
    let Ok(args) = serde_json::from_slice::<JsonObject>(json) else { return };
    let name = text(name);
    let op = ops::find(&name).unwrap_or(&ops::OPERATIONS[name.len() % ops::OPERATIONS.len()]);
    match op.check_args(args.clone()) {
        Ok(()) => {
            conforms(&args, &op.input);
            for (field, value) in &args {
                match (field.as_str(), value) {
                    ("limit", Value::Number(n)) => {
                        if let Some(n) = n.as_u64().and_then(|n| u32::try_from(n).ok())
                            && let Ok(limit) = page_limit(Some(n))
                        {
                            assert!((1..=100).contains(&limit));
                        }
                    }
                    ("cursor", Value::String(cursor)) => check_cursor(cursor),
                    (field, Value::String(raw)) if field == "id" || field.ends_with("_id") => id(field, raw),
                    _ => {}
                }
            }
        }
        Err(OpError::Arguments { field, detail }) => assert!(!detail.is_empty(), "{} refused {field:?} without a reason", op.name),
        Err(other) => panic!("{}: parsing the arguments failed with {other:?}", op.name),
    }
}

fn id(kind: &str, raw: &str) {
    if let Ok(uuid) = parse_id(kind, raw) {
        assert_eq!(parse_id(kind, &uuid.to_string()).ok(), Some(uuid));
    }
}

/// The top-level checks of a JSON schema object: `required`, and each property's `type`.
fn conforms(args: &JsonObject, schema: &JsonObject) {
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        assert!(args.contains_key(name), "accepted without the required {name}");
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in args {
        let Some(types) = properties.and_then(|p| p.get(name)).and_then(|p| p.get("type")) else { continue };
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        assert!(allowed.iter().any(|t| fits(t)), "{name} = {value} accepted, but the schema says {types}");
    }
}

/// Dynamic client registration (`register::check_registration` over the JSON the endpoint
/// reads): what is accepted is at most 20 distinct redirect URIs, each one the URI policy
/// accepts and the client sent; the authorization-code grant; a known auth method; a name of
/// 1–100 characters; a scope Navis grants.
pub fn dcr(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<RegistrationRequest>(data) else { return };
    match check_registration(&request) {
        Ok(client) => {
            let sent = request.redirect_uris.as_deref().unwrap_or_default();
            assert!((1..=20).contains(&client.redirect_uris.len()));
            let mut seen = HashSet::new();
            for uri in &client.redirect_uris {
                assert!(check_redirect_uri(uri).is_ok(), "{uri} registered");
                assert!(sent.contains(uri));
                assert!(seen.insert(uri), "{uri} twice");
            }
            assert!(client.grant_types.iter().any(|g| g == "authorization_code"));
            assert!(client.grant_types.iter().all(|g| g == "authorization_code" || g == "refresh_token"));
            assert!(["none", "client_secret_basic", "client_secret_post"].contains(&client.token_endpoint_auth_method.as_str()));
            assert!(!client.name.is_empty(), "a client registered without a name");
            if request.client_name.as_deref().is_some_and(|n| !n.trim().is_empty()) {
                assert!(client.name.chars().count() <= 100);
            }
            assert!(client.scope.is_none_or(|s| s == scope::READ || s == scope::ALL));
        }
        Err(e) => {
            assert_eq!(e.status, 400);
            assert!(matches!(e.error, "invalid_redirect_uri" | "invalid_client_metadata"), "{}", e.error);
        }
    }
}

/// Client ID Metadata Documents: a flag byte, then the client_id URL, the fetched document and
/// its Cache-Control header, split at NUL (flag bit 0: take the URL from the document's own
/// client_id, so the fuzzer reaches past that first check). A document URL is https with a
/// host and a path; an accepted document names itself, uses no client secret and lists only
/// redirect URIs it sent and the policy accepts; a cache lifetime is 0 s to a day.
pub fn cimd(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (url, rest) = split(rest);
    let (document, cache_control) = split(rest);
    let ttl = cache_ttl(std::str::from_utf8(cache_control).ok().filter(|h| !h.is_empty()));
    assert!((0..=24 * 3600).contains(&ttl));
    let Ok(document) = serde_json::from_slice::<Value>(document) else { return };
    let url = match document.get("client_id").and_then(Value::as_str) {
        Some(own) if flags & 1 == 1 => own.to_owned(),
        _ => text(url),
    };
    static FETCHER: LazyLock<ClientMetadataFetcher> = LazyLock::new(ClientMetadataFetcher::default);
    let is_document = FETCHER.is_document_url(&url);
    if is_document {
        let parsed = url::Url::parse(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(parsed.scheme(), "https");
        assert!(parsed.host_str().is_some_and(|h| !h.is_empty()));
        assert!(parsed.path() != "/" && parsed.fragment().is_none() && parsed.username().is_empty() && parsed.password().is_none());
    }
    let Ok(client) = client_from_document(&url, &document, now()) else { return };
    assert_eq!(client.id, url);
    assert_eq!(document["client_id"], url.as_str());
    assert!(client.secret_digest.is_none());
    assert_eq!(client.token_endpoint_auth_method, "none");
    assert!(!client.redirect_uris.is_empty());
    let sent = document["redirect_uris"].as_array().cloned().unwrap_or_default();
    for uri in &client.redirect_uris {
        assert!(check_redirect_uri(uri).is_ok(), "{uri} accepted");
        assert!(sent.iter().any(|s| s == uri.as_str()));
    }
    assert_eq!(client.metadata["redirect_uris"], serde_json::json!(client.redirect_uris));
    if is_document {
        assert!(!client.name.is_empty());
    }
    if document["client_name"].as_str().is_some_and(|n| !n.trim().is_empty()) {
        assert!(client.name.chars().count() <= 100);
    }
}

/// Redirect URIs, registered and requested, split at NUL. The policy: nothing with a fragment
/// or credentials; https with a host, http only to loopback, else an app's own scheme (reverse
/// domain or a known editor), never one of the schemes that run something. Matching is exact
/// except for the port of a loopback http URI: when two different strings match, both are
/// loopback http, the requested one is in canonical form, and changing the registered one's
/// port to the requested one's gives the requested string exactly. And the redirect carrying
/// the code back to an accepted URI is a valid `Location` to the same place.
pub fn redirect_uri(data: &[u8]) {
    let (registered, requested) = split(data);
    let (registered, requested) = (text(registered), text(requested));
    for uri in [&registered, &requested] {
        check_policy(uri);
    }
    if redirect_matches(&registered, &requested) && registered != requested {
        assert!(is_loopback_redirect(&registered) && is_loopback_redirect(&requested));
        let (Ok(reg), Ok(req)) = (url::Url::parse(&registered), url::Url::parse(&requested)) else { panic!("an unparsable match") };
        assert_eq!(req.as_str(), requested, "a requested URI that normalisation changes matched");
        let mut moved = reg.clone();
        assert!(moved.set_port(req.port()).is_ok());
        assert_eq!(moved.as_str(), requested, "{registered} matched {requested}, which differs in more than the port");
    }
    // The redirect back to the app: the URI with `code`, `state` (any text the app sent) and
    // `iss` appended is a valid `Location` (axum's `Redirect::to` panics on anything else), goes
    // to the same place, and carries `state` unchanged.
    if check_redirect_uri(&registered).is_ok() {
        let location = with_params(&registered, &[("code", "nopc_x"), ("state", &requested), ("iss", "https://navis.example")]);
        assert!(HeaderValue::from_str(&location).is_ok(), "{location:?} is no Location header");
        let (Ok(sent), Ok(back)) = (url::Url::parse(&registered), url::Url::parse(&location)) else { panic!("{location}") };
        assert_eq!((sent.scheme(), sent.host(), sent.port(), sent.path()), (back.scheme(), back.host(), back.port(), back.path()));
        let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
        let added = &pairs[pairs.len().saturating_sub(3)..];
        assert_eq!(added.get(1), Some(&("state".to_owned(), requested.clone())), "{location}");
    }
    // A loopback registration: any port matches, and nothing else does.
    if is_loopback_redirect(&registered)
        && let Ok(mut other) = url::Url::parse(&registered)
        && other.set_port(Some(49152)).is_ok()
    {
        assert!(redirect_matches(&registered, other.as_str()), "{registered} refused on another port");
    }
}

fn check_policy(uri: &str) {
    if check_redirect_uri(uri).is_err() {
        return;
    }
    let url = url::Url::parse(uri).unwrap_or_else(|e| panic!("{uri} accepted, but: {e}"));
    assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none(), "{uri}");
    match url.scheme() {
        "https" => assert!(url.host().is_some()),
        "http" => assert!(is_loopback_redirect(uri), "{uri}"),
        scheme => {
            const NEVER: [&str; 12] =
                ["javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "mailto", "jar", "view-source"];
            assert!(!NEVER.contains(&scheme), "{uri}");
            assert!(scheme.contains('.') || KNOWN_APP_SCHEMES.contains(&scheme), "{uri}");
        }
    }
}

/// Form bodies: the token, revocation and introspection form with its Basic credentials
/// (`web::oauth::token_request`; header and body split at NUL), the consent form and the
/// authorization request (`serde_urlencoded_form`, and axum's decoder for the query string),
/// and the pages' forms and queries through axum's `Form` extractor, exactly as the handlers
/// receive them. The first byte picks one.
pub fn forms(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 8 {
        0 => token_form(body),
        1 => authorization_form(body),
        2 => drop(form::<pages::CredentialsForm>(body)),
        3 => drop(form::<pages::CsrfOnly>(body)),
        4 => {
            if let Some(form) = form::<pages::CreateKeyForm>(body)
                && let Ok(Some(expires)) = pages::chosen_expiry(&form, now())
            {
                assert!(expires > now(), "a key made to expire in the past");
            }
        }
        5 => drop(form::<pages::PasswordForm>(body)),
        6 => drop(form::<pages::DeleteAccountForm>(body)),
        _ => {
            drop(form::<pages::NextQuery>(body));
            drop(form::<pages::HomeQuery>(body));
            drop(form::<pages::EventsQuery>(body));
        }
    }
}

/// A urlencoded body through axum's `Form` extractor, as a POST handler receives it.
fn form<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let request = http::Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_vec()))
        .ok()?;
    ready(Form::<T>::from_request(request, &())).ok().map(|Form(value)| value)
}

fn pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn token_form(data: &[u8]) {
    let (authorization, body) = split(data);
    let mut headers = HeaderMap::new();
    let basic = HeaderValue::from_bytes(authorization).ok().filter(|_| !authorization.is_empty());
    if let Some(value) = &basic {
        headers.insert(header::AUTHORIZATION, value.clone());
    }
    let basic = basic.and_then(|v| v.to_str().ok().map(str::to_owned)).filter(|v| v.starts_with("Basic ") || v.starts_with("basic "));
    let Ok((request, rest)) = web_oauth::token_request(&headers, body) else { return };
    let pairs = pairs(body);
    let mut seen = HashSet::new();
    for (name, _) in &pairs {
        assert!(seen.insert(name), "the repeated parameter {name} was accepted (RFC 6749 §3.1)");
    }
    let sent = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    for (name, value) in [
        ("grant_type", &request.grant_type),
        ("code", &request.code),
        ("redirect_uri", &request.redirect_uri),
        ("code_verifier", &request.code_verifier),
        ("refresh_token", &request.refresh_token),
        ("scope", &request.scope),
        ("resource", &request.resource),
    ] {
        assert_eq!(value, &sent(name), "{name}");
        assert!(!rest.contains_key(name));
    }
    if basic.is_some() {
        assert!(request.client_id.is_some() && request.client_secret.is_some());
        if let Some(in_body) = sent("client_id") {
            assert_eq!(request.client_id, Some(in_body), "the body's client_id differs from the Basic one");
        }
    } else {
        assert_eq!(request.client_id, sent("client_id"));
        assert_eq!(request.client_secret, sent("client_secret"));
    }
    for (name, value) in &rest {
        assert_eq!(Some(value), sent(name).as_ref());
    }
}

fn authorization_form(body: &[u8]) {
    let _ = web_oauth::serde_urlencoded_form::<web_oauth::ConsentForm>(body);
    // The consent form (POST) and the authorization request (GET, axum's `Query`) must read the
    // same parameters the same way, or the page would show one request and grant another.
    let posted = web_oauth::serde_urlencoded_form::<AuthorizationParams>(body);
    let queried = form::<AuthorizationParams>(body);
    let names: Vec<String> = pairs(body).into_iter().map(|(n, _)| n).collect();
    let repeated = names.iter().collect::<HashSet<_>>().len() != names.len();
    if let (Ok(posted), Some(queried)) = (&posted, &queried)
        && !repeated
    {
        assert_eq!(serde_json::to_value(posted).ok(), serde_json::to_value(queried).ok());
    }
}

/// The public URLs the `next` target checks against: at the root of a host, and under a path.
static SETTINGS: LazyLock<Vec<Settings>> = LazyLock::new(|| {
    ["https://navis.example", "https://example.com/navis"]
        .iter()
        .filter_map(|url| Settings::resolve(&SettingsArgs { public_url: Some((*url).to_owned()), ..Default::default() }).ok())
        .collect()
});

/// The `next` parameter (`pages::safe_next`): the result is always a path on the public
/// origin — it starts with one `/`, never `//` or `/\`, is a valid `Location` header, and a
/// browser resolving it from a page of the site stays on the public origin.
pub fn next(data: &[u8]) {
    let next = text(data);
    assert!(!SETTINGS.is_empty());
    for settings in SETTINGS.iter() {
        let out = pages::safe_next(settings, &next);
        assert!(out.starts_with('/') && !out.starts_with("//") && !out.starts_with("/\\"), "{next:?} → {out:?}");
        assert!(HeaderValue::from_str(&out).is_ok(), "{next:?} → {out:?} is no Location header");
        let Ok(page) = url::Url::parse(&format!("{}/signin", settings.public_url)) else { panic!("{}", settings.public_url) };
        let to = page.join(&out).unwrap_or_else(|e| panic!("{out:?}: {e}"));
        assert_eq!(to.origin(), page.origin(), "{next:?} → {out:?} leads to {to}");
    }
}

/// Pagination cursors (`service::workspace::decode_cursor`, the `cursor` argument of the list
/// tools; and `list_events`' own, `calendar::decode_event_cursor`): exactly what the schema's pattern describes decodes — 22 base64url characters, the
/// last one's four spare bits ignored — and it decodes to the id whose issued cursor differs from
/// it at most in those bits; every issued cursor decodes back to its id.
pub fn cursor(data: &[u8]) {
    check_cursor(&text(data));
    check_event_cursor(&text(data));
    if let Ok(id) = uuid::Uuid::from_slice(data.get(..16).unwrap_or_default()) {
        assert_eq!(decode_cursor(Some(&encode_cursor(id))).ok().flatten(), Some(id));
    }
}

fn check_cursor(cursor: &str) {
    let pattern = cursor.len() == 22 && cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    match decode_cursor(Some(cursor)) {
        Ok(Some(id)) => {
            assert!(pattern, "{cursor:?} decodes, but the schema's pattern refuses it");
            let issued = encode_cursor(id);
            assert_eq!(issued[..21], cursor[..21], "{cursor:?} decodes to the id of {issued}");
            let spare = |c: &str| c.bytes().last().and_then(|b| URL_SAFE.iter().position(|&a| a == b)).map(|i| i >> 4);
            assert_eq!(spare(&issued), spare(cursor), "{cursor:?} decodes to the id of {issued}");
        }
        Ok(None) => assert!(cursor.is_empty()),
        Err(_) => assert!(!pattern, "{cursor:?} fits the schema's pattern, and is refused"),
    }
}

/// An event cursor (an event's start and id, 24 bytes as 32 base64url characters) decodes only
/// when it fits `EVENT_CURSOR_PATTERN`, and to a start chrono can represent.
fn check_event_cursor(cursor: &str) {
    let pattern = cursor.len() == 32 && cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    match calendar::decode_event_cursor(Some(cursor)) {
        Ok(Some((start, _))) => {
            assert!(pattern, "the event cursor {cursor:?} decodes, but the schema's pattern refuses it");
            assert!(DateTime::from_timestamp(start.timestamp(), 0) == Some(start));
        }
        Ok(None) => assert!(cursor.is_empty()),
        Err(_) => assert!(!cursor.is_empty()),
    }
}

/// The base64url alphabet, in the order of its values.
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
