//! Server-rendered pages: one layout, escaping for every interpolated value, strict headers.
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
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

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A full page. `signed_in_as` adds the account line and the sign-out button.
pub fn page(status: StatusCode, title: &str, signed_in_as: Option<(&str, &str)>, body: &str) -> Response {
    page_with_csp(status, title, signed_in_as, body, CSP.to_owned())
}

/// The consent page: its form's answer redirects to the app, and browsers apply `form-action`
/// to that redirect too, so the app's redirect target must be allowed there.
pub fn consent_page(title: &str, signed_in_as: (&str, &str), body: &str, redirect_uri: &str) -> Response {
    let target = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    };
    // Only characters a CSP source may hold; anything else and the app is simply not allowed.
    let target = if target.chars().all(|c| c.is_ascii_alphanumeric() || "+-.:/[]".contains(c)) { target } else { String::new() };
    let csp = CSP.replace("form-action 'self'", &format!("form-action 'self' {target}"));
    page_with_csp(StatusCode::OK, title, Some(signed_in_as), body, csp)
}

fn page_with_csp(status: StatusCode, title: &str, signed_in_as: Option<(&str, &str)>, body: &str, csp: String) -> Response {
    let (nav, account) = match signed_in_as {
        Some((email, csrf)) => (
            r#"<nav aria-label="Main"><a href="/workspace">Workspace</a> <a href="/settings/connected-apps">Connected Apps</a> <a href="/settings/account">Account</a></nav>"#.to_owned(),
            format!(
                r#"<div class="account"><span class="email">{}</span><form method="post" action="/signout"><input type="hidden" name="csrf" value="{}"><button type="submit" class="link">Sign out</button></form></div>"#,
                esc(email),
                esc(csrf)
            ),
        ),
        None => (String::new(), String::new()),
    };
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Navis</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header><a href="/" class="brand">Navis</a>{nav}{account}</header>
<main>
{body}
</main>
</body>
</html>
"#,
        title = esc(title)
    );
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    // Pages may show a secret (a new key) or per-user data: never cache them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What an action did, shown once on the page it redirected to.
pub fn flash_box(message: Option<&str>) -> String {
    message.map(|m| format!(r#"<p class="flash" role="status">{}</p>"#, esc(m))).unwrap_or_default()
}

/// The attributes that tie an input to its error message (`{id}-error`), when it has one.
pub fn invalid_attrs(id: &str, error: Option<&str>) -> String {
    match error {
        Some(_) => format!(r#" aria-invalid="true" aria-describedby="{id}-error""#),
        None => String::new(),
    }
}

/// The error message shown right below an input (see [`invalid_attrs`]).
pub fn field_error(id: &str, error: Option<&str>) -> String {
    error.map(|m| format!(r#"<p class="field-error" id="{id}-error">{}</p>"#, esc(m))).unwrap_or_default()
}

/// Whether the client is a browser asking for a page (then errors are pages, not JSON).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// A short page that says what went wrong and where to go from here.
pub fn message_page(status: StatusCode, title: &str, body: &str) -> Response {
    page(status, title, None, &format!(r#"<section class="card narrow"><h1>{}</h1>{body}</section>"#, esc(title)))
}

pub fn not_found_page() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        r#"<p>There is no page at this address. It may have moved, or the link may be mistyped.</p><p><a href="/">Go to the start page</a> or <a href="/settings/connected-apps">Connected Apps</a>.</p>"#,
    )
}

pub fn method_not_allowed_page() -> Response {
    message_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "This address is not a page",
        r#"<p>This address only takes a form's answer, so it cannot be opened directly. Nothing was changed.</p><p><a href="/settings/connected-apps">Go to Connected Apps</a> or <a href="/">the start page</a>.</p>"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_page_lets_its_form_redirect_to_the_app_only() {
        let csp = |uri: &str| {
            consent_page("t", ("a@example.com", "c"), "", uri).headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or("").to_owned()
        };
        assert!(csp("http://127.0.0.1:33418/callback").contains("form-action 'self' http://127.0.0.1:33418;"));
        assert!(csp("https://claude.ai/api/mcp/auth_callback").contains("form-action 'self' https://claude.ai;"));
        assert!(csp("cursor://anysphere.cursor-mcp/oauth/callback").contains("form-action 'self' cursor:;"));
        assert!(csp("https://claude.ai/x").contains("frame-ancestors 'none'"));
    }

    #[test]
    fn browsers_get_pages_and_api_clients_json() {
        let accept = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_static(v));
            h
        };
        assert!(wants_html(&accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn escaping_neutralises_markup_and_attribute_breakouts() {
        assert_eq!(esc(r#"<script>"x"&'y'</script>"#), "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;");
    }
}
