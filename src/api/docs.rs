//! The API reference page, `/api/v1/docs`: rendered on the server from the OpenAPI document, so
//! it says what the document says. One self-contained HTML page: no script, no CDN, its own
//! stylesheet inline (allowed by hash in its CSP).
use std::sync::LazyLock;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::PREFIX;
use crate::edge::AppState;

/// Escapes text for HTML element content and double-quoted attribute values. This page is
/// generated from the OpenAPI document rather than a template (the pages of `web` are askama
/// templates, which escape by construction); every value from the document passes through here.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0969da}\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#161b22;--line:#30363d;--accent:#4493f8}}\
*{box-sizing:border-box}body{margin:0;font:15px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}\
.wrap{display:grid;grid-template-columns:16rem 1fr;max-width:78rem;margin:0 auto}\
nav{position:sticky;top:0;align-self:start;height:100vh;overflow:auto;padding:1.5rem 1rem;border-right:1px solid var(--line);font-size:.9rem}\
nav h2{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:1.2rem 0 .3rem}\
nav a{display:block;color:var(--fg);text-decoration:none;padding:.1rem 0}nav a:hover{color:var(--accent)}\
main{padding:1.5rem 2.5rem;min-width:0}h1{margin:.2rem 0}h3{margin:2.5rem 0 .4rem;font-size:1.15rem}\
section{border-top:1px solid var(--line)}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}\
code{background:var(--panel);padding:.05rem .3rem;border-radius:4px}\
pre{background:var(--panel);padding:.8rem 1rem;border-radius:6px;overflow:auto;border:1px solid var(--line)}pre code{background:none;padding:0}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid var(--line)}\
th{color:var(--muted);font-weight:600}.verb{display:inline-block;min-width:4.2rem;font:600 12px ui-monospace,monospace;padding:.15rem .4rem;border-radius:4px;color:#fff;text-align:center;margin-right:.4rem}\
.GET{background:#1f883d}.POST{background:#0969da}.PATCH{background:#9a6700}.DELETE{background:#cf222e}\
.muted{color:var(--muted)}.req{color:#cf222e;font-size:.8rem}a{color:var(--accent)}\
@media (max-width:900px){.wrap{display:block}nav{position:static;height:auto;border:0}main{padding:1rem}}";

static STYLE_HASH: LazyLock<String> =
    LazyLock::new(|| format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()))));

pub async fn serve(State(state): State<AppState>) -> Response {
    let page = render(&super::openapi::document(&state.settings));
    let csp = format!("default-src 'none'; style-src '{}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", *STYLE_HASH);
    let mut response = (StatusCode::OK, page).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// Text with `code` and **bold** spans, escaped; blank lines make paragraphs.
fn prose(text: &str) -> String {
    text.split("\n\n").map(|p| format!("<p>{}</p>", inline(p))).collect()
}

fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", esc(part)));
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str(&format!("<strong>{}</strong>", esc(piece)));
                } else {
                    out.push_str(&esc(piece));
                }
            }
        }
    }
    out
}

/// A schema as a short label: `string (date)`, `one of: todo, done`, a link to a named type.
fn label(schema: &Value) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or(target);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", esc(&v.to_string().replace('"', "")))).collect();
        return format!("one of {}", values.join(", "));
    }
    if let Some(value) = schema.get("const") {
        return format!("<code>{}</code>", esc(&value.to_string()));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            return branches.iter().map(label).collect::<Vec<_>>().join(" or ");
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return if schema.get("additionalProperties").is_some() { "object (map)".into() } else { "any".into() };
    }
    types
        .iter()
        .map(|t| match *t {
            "array" => format!("array of {}", schema.get("items").map(label).unwrap_or_else(|| "any".into())),
            "object" if schema.get("additionalProperties").is_some_and(Value::is_object) => {
                format!("map of {}", schema.get("additionalProperties").map(label).unwrap_or_default())
            }
            t => match schema.get("format").and_then(Value::as_str) {
                Some(format) if t == "string" => format!("string ({})", esc(format)),
                _ => esc(t),
            },
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Limits a schema states (lengths, ranges, patterns), for the description column.
fn limits(schema: &Value) -> String {
    let mut out = Vec::new();
    for (key, word) in [
        ("minimum", "at least"),
        ("maximum", "at most"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
    ] {
        if let Some(v) = schema.get(key) {
            out.push(format!("{word} {v}"));
        }
    }
    if out.is_empty() { String::new() } else { format!(" <span class=\"muted\">({})</span>", out.join(", ")) }
}

fn fields_table(properties: &Map<String, Value>, required: &[&str]) -> String {
    if properties.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for (name, schema) in properties {
        let description = schema.get("description").and_then(Value::as_str).unwrap_or("");
        rows.push_str(&format!(
            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(name),
            if required.contains(&name.as_str()) { " <span class=\"req\">required</span>" } else { "" },
            label(schema),
            inline(description),
            limits(schema)
        ));
    }
    format!("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>{rows}</table>")
}

fn required_of(schema: &Value) -> Vec<&str> {
    schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

fn properties_of(schema: &Value) -> Map<String, Value> {
    schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default()
}

pub fn render(doc: &Value) -> String {
    let base = doc["servers"][0]["url"].as_str().unwrap_or(PREFIX);
    let info = &doc["info"];
    let mut nav = String::new();
    let mut body = String::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let tags: Vec<String> = doc["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect();
    for tag in &tags {
        nav.push_str(&format!("<h2>{}</h2>", esc(tag)));
        let tag_description = doc["tags"].as_array().into_iter().flatten().find(|t| t["name"] == tag.as_str());
        body.push_str(&format!(
            "<h2 id=\"tag-{0}\">{0}</h2><p class=\"muted\">{1}</p>",
            esc(tag),
            tag_description.and_then(|t| t["description"].as_str()).map(inline).unwrap_or_default()
        ));
        for (path, methods) in &paths {
            for verb in ["get", "post", "patch", "delete"] {
                let Some(op) = methods.get(verb) else { continue };
                if op["tags"][0].as_str() != Some(tag.as_str()) {
                    continue;
                }
                let id = op["operationId"].as_str().unwrap_or("");
                let upper = verb.to_ascii_uppercase();
                nav.push_str(&format!(
                    "<a href=\"#{}\"><span class=\"verb {upper}\">{upper}</span>{}</a>",
                    esc(id),
                    esc(op["summary"].as_str().unwrap_or(""))
                ));
                body.push_str(&operation_html(base, path, &upper, op));
            }
        }
    }
    let mut schemas = String::new();
    nav.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        nav.push_str(&format!("<a href=\"#schema-{0}\">{0}</a>", esc(name)));
        let detail = if schema.get("properties").is_some() {
            fields_table(&properties_of(schema), &required_of(schema))
        } else {
            format!("<p>{}</p>", label(schema))
        };
        schemas.push_str(&format!(
            "<section><h3 id=\"schema-{0}\">{0}</h3><p>{1}</p>{detail}</section>",
            esc(name),
            schema.get("description").and_then(Value::as_str).map(inline).unwrap_or_default()
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} — reference</title><style>{STYLE}</style></head><body><div class=\"wrap\"><nav><strong>{title}</strong> <span class=\"muted\">{version}</span>{nav}</nav>\
<main><h1>{title}</h1><p class=\"muted\">Version {version} · base URL <code>{base_html}</code> · <a href=\"{PREFIX}/openapi.json\">OpenAPI 3.1 document</a></p>\
{intro}<h3>Try it</h3><pre><code>curl -H &quot;Authorization: Bearer $NAVIS_TOKEN&quot; {base_html}/me</code></pre>{body}<h2 id=\"schemas\">Schemas</h2>{schemas}</main></div></body></html>",
        title = esc(info["title"].as_str().unwrap_or("")),
        version = esc(info["version"].as_str().unwrap_or("")),
        base_html = esc(base),
        intro = prose(info["description"].as_str().unwrap_or("")),
    )
}

fn operation_html(base: &str, path: &str, verb: &str, op: &Value) -> String {
    let id = op["operationId"].as_str().unwrap_or("");
    let mut html = format!(
        "<section><h3 id=\"{}\"><span class=\"verb {verb}\">{verb}</span><code>{}</code></h3><p><strong>{}</strong></p>{}",
        esc(id),
        esc(path),
        esc(op["summary"].as_str().unwrap_or("")),
        prose(op["description"].as_str().unwrap_or(""))
    );
    let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().filter(|p| p.get("name").is_some()).collect();
    if !params.is_empty() {
        html.push_str("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>");
        for p in &params {
            html.push_str(&format!(
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                esc(p["name"].as_str().unwrap_or("")),
                if p["required"] == true { " <span class=\"req\">required</span>" } else { "" },
                esc(p["in"].as_str().unwrap_or("")),
                label(&p["schema"]),
                inline(p["description"].as_str().unwrap_or("")),
                limits(&p["schema"])
            ));
        }
        html.push_str("</table>");
    }
    let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if body_schema.is_object() {
        html.push_str("<p>Body (JSON):</p>");
        html.push_str(&fields_table(&properties_of(body_schema), &required_of(body_schema)));
    }
    if verb == "POST" {
        html.push_str("<p class=\"muted\">Accepts <code>Idempotency-Key</code>: a retry with the same key returns the first response.</p>");
    }
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
        html.push_str(&format!(
            "<p>Returns <code>{}</code>: {}</p>",
            esc(status),
            label(&response["content"]["application/json"]["schema"])
        ));
        let schema = &response["content"]["application/json"]["schema"];
        html.push_str(&fields_table(&properties_of(schema), &required_of(schema)));
    }
    let errors: Vec<&str> = responses.keys().filter(|s| !s.starts_with('2')).map(String::as_str).collect();
    html.push_str(&format!("<p class=\"muted\">Errors: {}.</p>", errors.join(", ")));
    let example_path = path.replace('{', "$").replace('}', "");
    let mut curl = String::from("curl -H \"Authorization: Bearer $NAVIS_TOKEN\"");
    if verb != "GET" {
        curl.push_str(&format!(" -X {verb}"));
    }
    if body_schema.is_object() {
        let required = required_of(body_schema);
        let example: Map<String, Value> = properties_of(body_schema)
            .iter()
            .filter(|(k, _)| required.contains(&k.as_str()) || required.is_empty())
            .take(2)
            .map(|(k, v)| (k.clone(), example_value(v)))
            .collect();
        curl.push_str(&format!(" -H 'Content-Type: application/json' -d '{}'", Value::Object(example)));
    }
    curl.push_str(&format!(" \"{base}{example_path}\""));
    html.push_str(&format!("<pre><code>{}</code></pre></section>", esc(&curl)));
    html
}

fn example_value(schema: &Value) -> Value {
    match schema.get("type") {
        Some(Value::String(t)) if t == "boolean" => Value::Bool(true),
        Some(Value::String(t)) if t == "integer" => Value::from(1),
        Some(Value::String(t)) if t == "array" => Value::Array(vec![]),
        _ if schema.get("format").and_then(Value::as_str) == Some("date") => Value::from("2026-12-31"),
        _ => Value::from("…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_escapes_and_marks_up() {
        assert_eq!(prose("a `<b>` **c**\n\nd"), "<p>a <code>&lt;b&gt;</code> <strong>c</strong></p><p>d</p>");
    }
}
