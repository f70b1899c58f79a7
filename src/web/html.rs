//! Server-rendered pages: askama templates (`templates/` at the crate root) that escape every
//! interpolated value by construction, one layout (`base.html`) that every page extends, and
//! strict headers.
use askama::Template;
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// What `base.html` needs of every page: its title, and who is signed in, if anyone.
pub struct Layout<'a> {
    pub title: &'a str,
    pub account: Option<Account<'a>>,
}

/// The signed-in person, as the layout's header shows them: their email, and the CSRF token
/// its sign-out form posts.
pub struct Account<'a> {
    pub email: &'a str,
    pub csrf: &'a str,
}

impl<'a> Layout<'a> {
    pub fn signed_out(title: &'a str) -> Self {
        Layout { title, account: None }
    }

    pub fn signed_in(title: &'a str, email: &'a str, csrf: &'a str) -> Self {
        Layout { title, account: Some(Account { email, csrf }) }
    }
}

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A full page: the template rendered, with the strict headers.
pub fn page(status: StatusCode, view: &impl Template) -> Response {
    page_with_csp(status, view, CSP.to_owned())
}

/// The consent page: its form's answer redirects to the app, and browsers apply `form-action`
/// to that redirect too, so the app's redirect target must be allowed there.
pub fn consent_page(view: &impl Template, redirect_uri: &str) -> Response {
    let target = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    };
    // Only characters a CSP source may hold; anything else and the app is simply not allowed.
    let target = if target.chars().all(|c| c.is_ascii_alphanumeric() || "+-.:/[]".contains(c)) { target } else { String::new() };
    let csp = CSP.replace("form-action 'self'", &format!("form-action 'self' {target}"));
    page_with_csp(StatusCode::OK, view, csp)
}

fn page_with_csp(status: StatusCode, view: &impl Template, csp: String) -> Response {
    let html = match view.render() {
        Ok(html) => html,
        Err(e) => {
            // Only a value's own `Display` can fail; the templates are checked when Navis is built.
            tracing::error!(error = %e, "page failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CACHE_CONTROL, "no-store")], "Something went wrong.").into_response();
        }
    };
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    // Pages may show a secret (a new key) or per-user data: never cache them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the client is a browser asking for a page (then errors are pages, not JSON).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// The short pages: what went wrong, or what is not there, and where to go from here.
pub enum Message<'a> {
    NotFound,
    MethodNotAllowed,
    /// A form posted from a page at another address (`origin`) than the public URL.
    WrongOrigin {
        origin: &'a str,
        public: &'a str,
        home: &'a str,
    },
    CrossSite {
        public: &'a str,
        home: &'a str,
    },
    FormExpired,
    SignupDisabled,
    /// A key or app that is not there (any more), on a signed-in page.
    Gone {
        title: &'a str,
        text: &'a str,
    },
    /// A new key's page opened again; `revoke` is that key's (id, name) while it is active.
    TokenShown {
        revoke: Option<(&'a str, &'a str)>,
    },
    /// An authorization request Navis refuses.
    CannotConnect {
        message: &'a str,
    },
}

impl<'a> Message<'a> {
    pub fn title(&self) -> &'a str {
        match self {
            Message::NotFound => "Page not found",
            Message::MethodNotAllowed => "This address is not a page",
            Message::WrongOrigin { .. } => "Open Navis at its own address",
            Message::CrossSite { .. } => "Request refused",
            Message::FormExpired => "This form has expired",
            Message::SignupDisabled => "Sign-up disabled",
            Message::Gone { title, .. } => title,
            Message::TokenShown { .. } => "Token already shown",
            Message::CannotConnect { .. } => "Cannot connect this app",
        }
    }

    /// The page's heading, where it says more than the title.
    pub fn heading(&self) -> &'a str {
        match self {
            Message::SignupDisabled => "Sign-up is disabled",
            Message::TokenShown { .. } => "This key's token was already shown",
            other => other.title(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    layout: Layout<'a>,
    message: Message<'a>,
}

/// A short page; `account` when the person is signed in.
pub fn message_page(status: StatusCode, account: Option<Account<'_>>, message: Message<'_>) -> Response {
    page(status, &MessagePage { layout: Layout { title: message.title(), account }, message })
}

pub fn not_found_page() -> Response {
    message_page(StatusCode::NOT_FOUND, None, Message::NotFound)
}

pub fn method_not_allowed_page() -> Response {
    message_page(StatusCode::METHOD_NOT_ALLOWED, None, Message::MethodNotAllowed)
}

/// What a person can do about a failure on the server's side.
pub enum Trouble {
    /// A change whose commit's answer was lost: it may or may not have been saved.
    OutcomeUnknown,
    NothingChanged,
    SignIn,
    /// A page's data could not be read.
    Unavailable,
    ReloadSoon,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout<'a>,
    trouble: Trouble,
}

/// 500, saying what to do now.
pub fn error_page(trouble: Trouble) -> Response {
    page(StatusCode::INTERNAL_SERVER_ERROR, &ErrorPage { layout: Layout::signed_out("Error"), trouble })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_page_lets_its_form_redirect_to_the_app_only() {
        let csp = |uri: &str| {
            consent_page(&ErrorPage { layout: Layout::signed_out("t"), trouble: Trouble::ReloadSoon }, uri).headers()
                [header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap_or("")
                .to_owned()
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
    fn values_are_escaped_by_the_templates() {
        let hostile = r#"<script>alert(1)</script>" onmouseover="x"#;
        let view = MessagePage {
            layout: Layout::signed_in(hostile, hostile, hostile),
            message: Message::TokenShown { revoke: Some((hostile, hostile)) },
        };
        let html = view.render().unwrap_or_default();
        assert!(html.contains("<main>"), "{html}");
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(!html.contains(r#"" onmouseover"#), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#34; onmouseover=&#34;x"), "{html}");
    }
}
