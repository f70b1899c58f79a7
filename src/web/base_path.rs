//! A public URL with a path (`https://example.com/navis`): Navis routes and renders paths as if
//! it stood at the host's root, and this module maps between those paths and the public ones —
//! taking the prefix off requests that still carry it (a proxy may forward `/navis/...` as it is,
//! or strip it), and putting it on every path the pages hand out (links, form actions, assets,
//! redirects), the way a CGI application's `SCRIPT_NAME` works. With no path it does nothing.
use axum::{
    Router,
    body::Body,
    extract::{OriginalUri, Request, State},
    http::{HeaderValue, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower::ServiceExt;

use super::AppState;

/// `uri` with the prefix `base` (`/navis`) taken off; `None` if its path is not under it.
pub fn strip_base(uri: &Uri, base: &str) -> Option<Uri> {
    let rest = uri.path_and_query()?.as_str().strip_prefix(base)?;
    let rest = match rest.as_bytes().first() {
        None => "/".to_owned(),
        Some(b'?') => format!("/{rest}"),
        Some(b'/') => rest.to_owned(),
        Some(_) => return None,
    };
    Uri::try_from(rest).ok()
}

/// Serves `router` for requests with or without the prefix `base`.
pub fn accept_prefixed(router: Router, base: String) -> Router {
    if base.is_empty() {
        return router;
    }
    let stripped = router.map_request(move |mut request: Request| {
        if let Some(uri) = strip_base(request.uri(), &base) {
            // Handlers that read the original URI see the path they are routed by.
            request.extensions_mut().insert(OriginalUri(uri.clone()));
            *request.uri_mut() = uri;
        }
        request
    });
    Router::new().fallback_service(stripped)
}

/// The pages' own paths in `html` (`href="/…"`, `action="/…"`, `src="/…"`) with `base` before
/// them. Only attribute values Navis wrote can match: text from users is escaped (`"` is `&quot;`).
pub fn prefix_html(html: &str, base: &str) -> String {
    let mut out = html.to_owned();
    for attribute in ["href", "action", "src"] {
        let from = format!("{attribute}=\"/");
        let to = format!("{attribute}=\"{base}/");
        // `//host` is another site; put it back after the general replacement.
        out = out.replace(&from, &to).replace(&format!("{to}/"), &format!("{attribute}=\"//"));
    }
    out
}

/// A root-relative `Location` with the prefix before it; others unchanged.
fn prefix_location(location: &str, base: &str) -> Option<String> {
    (location.starts_with('/') && !location.starts_with("//")).then(|| format!("{base}{location}"))
}

/// Middleware for the pages and the OAuth endpoints: their redirects and HTML under the prefix.
pub async fn public_paths(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let base = state.settings.base_path().to_owned();
    let mut response = next.run(request).await;
    if base.is_empty() {
        return response;
    }
    if let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok())
        && let Some(prefixed) = prefix_location(location, &base)
        && let Ok(value) = HeaderValue::from_str(&prefixed)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Pages are rendered whole in memory already; a limit only guards against a surprise.
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let prefixed = prefix_html(&String::from_utf8_lossy(&bytes), &base);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(prefixed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_comes_off_requests_under_it_only() {
        let strip = |s: &str| strip_base(&s.parse::<Uri>().unwrap(), "/navis").map(|u| u.to_string());
        assert_eq!(strip("/navis/signin?next=%2F").as_deref(), Some("/signin?next=%2F"));
        assert_eq!(strip("/navis").as_deref(), Some("/"));
        assert_eq!(strip("/navis?x=1").as_deref(), Some("/?x=1"));
        assert_eq!(strip("/navisx/signin"), None);
        assert_eq!(strip("/.well-known/oauth-authorization-server/navis"), None);
    }

    #[test]
    fn the_pages_paths_get_the_prefix_and_nothing_else_does() {
        let html = r#"<a href="/signin">x</a><form action="/signout"><script src="/assets/app.js"></script><a href="//cdn.example/x">y</a><a href="https://e.example/">z</a><p>href=&quot;/evil&quot;</p>"#;
        assert_eq!(
            prefix_html(html, "/navis"),
            r#"<a href="/navis/signin">x</a><form action="/navis/signout"><script src="/navis/assets/app.js"></script><a href="//cdn.example/x">y</a><a href="https://e.example/">z</a><p>href=&quot;/evil&quot;</p>"#
        );
        assert_eq!(prefix_location("/signin?next=%2F", "/navis").as_deref(), Some("/navis/signin?next=%2F"));
        assert_eq!(prefix_location("https://app.example/cb?code=1", "/navis"), None);
        assert_eq!(prefix_location("//evil.example/", "/navis"), None);
    }
}
