//! Cross-site request protection for every form, and the cookies it rests on.
//!
//! Signed-in forms carry a token bound to the session: an HMAC of the session cookie, which the
//! page's scripts cannot read (HttpOnly) and another site cannot compute. Anonymous forms
//! (sign-in, sign-up) carry a double-submit token (cookie + hidden field). Both are compared in
//! constant time, and the browser's Origin and Fetch-Metadata headers are checked when it sends them.
use axum::http::{HeaderMap, header};
use base64::Engine;
use cookie::Cookie;
pub use cookie::SameSite;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Settings;
use crate::core::secret::{constant_time_eq, random_token};

pub const COOKIE: &str = "navis_csrf";
pub const SESSION_COOKIE: &str = "navis_session";
/// Marks a browser that has signed in to an account before (see `service::accounts`).
pub const DEVICE_COOKIE: &str = "navis_device";

/// The value of cookie `name` (the bare name: the `__Host-` prefix is added when in use), parsed
/// from the `Cookie` headers by the `cookie` crate.
pub fn cookie<'a>(settings: &Settings, headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let name = settings.cookie_name(name);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value, built by the `cookie` crate: `__Host-` prefixed on an https origin with
/// no path, otherwise scoped to the public URL's path; always HttpOnly, Secure on https.
pub fn set_cookie(settings: &Settings, name: &str, value: &str, max_age_secs: i64, same_site: SameSite) -> String {
    Cookie::build((settings.cookie_name(name), value.to_owned()))
        .path(settings.cookie_path())
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(settings.secure_cookies())
        .build()
        .to_string()
}

/// The form token bound to a session cookie.
fn session_token(session: &str) -> String {
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(session.as_bytes())
        .map(|mut mac| {
            mac.update(b"navis csrf v1");
            mac.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
}

/// The token for the forms on a page: bound to the session when there is one, otherwise a
/// double-submit token with the `Set-Cookie` that installs it.
pub fn token(settings: &Settings, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(session) = cookie(settings, headers, SESSION_COOKIE) {
        return (session_token(session), None);
    }
    match cookie(settings, headers, COOKIE) {
        Some(t) if t.len() >= 32 => (t.to_owned(), None),
        _ => {
            let t = random_token(32);
            let set = set_cookie(settings, COOKIE, &t, 60 * 60 * 24 * 30, SameSite::Strict);
            (t, Some(set))
        }
    }
}

/// Why a form post was refused; the refusal page explains each differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The browser says the form was on another origin: often Navis itself, opened at another
    /// address than its public URL (`localhost` for `127.0.0.1`). Carries that origin.
    WrongOrigin(String),
    /// The browser says the post came from another site, without naming it.
    CrossSite,
    /// No token, or not the one this browser's page carried (expired session, stale page, forgery).
    Token,
}

/// Whether a form post is same-origin and carries the matching token.
pub fn verify(settings: &Settings, headers: &HeaderMap, form_token: &str) -> bool {
    check(settings, headers, form_token).is_ok()
}

/// [`verify`], saying why not. The origin is judged first: a browser that opened Navis at
/// another address sends both a foreign `Origin` and `Sec-Fetch-Site: cross-site`, and the
/// origin is what tells the person where to go instead.
pub fn check(settings: &Settings, headers: &HeaderMap, form_token: &str) -> Result<(), Refusal> {
    // Browsers send `Origin: null` when they will not reveal the origin (privacy settings,
    // sandboxes); that says nothing either way, so the token decides.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != "null"
        && origin != settings.public_origin()
    {
        return Err(Refusal::WrongOrigin(origin.to_owned()));
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return Err(Refusal::CrossSite);
    }
    let expected = match cookie(settings, headers, SESSION_COOKIE) {
        Some(session) => session_token(session),
        None => match cookie(settings, headers, COOKIE) {
            Some(t) => t.to_owned(),
            None => return Err(Refusal::Token),
        },
    };
    if !form_token.is_empty() && constant_time_eq(expected.as_bytes(), form_token.as_bytes()) { Ok(()) } else { Err(Refusal::Token) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn settings() -> Settings {
        Settings::resolve(&crate::config::SettingsArgs { public_url: Some("https://navis.example".into()), ..Default::default() })
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const T: &str = "0123456789abcdef0123456789abcdef0123456789a";

    #[test]
    fn a_same_origin_post_with_the_matching_token_passes() {
        let h = headers(&[
            ("cookie", "a=b; __Host-navis_csrf=0123456789abcdef0123456789abcdef0123456789a"),
            ("origin", "https://navis.example"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(verify(&settings(), &h, T));
    }

    #[test]
    fn cross_site_posts_and_mismatched_tokens_fail() {
        let s = settings();
        let cookie = ("cookie", "__Host-navis_csrf=0123456789abcdef0123456789abcdef0123456789a");
        assert!(!verify(&s, &headers(&[cookie, ("origin", "https://evil.example")]), T));
        assert!(!verify(&s, &headers(&[cookie, ("sec-fetch-site", "cross-site")]), T));
        assert!(!verify(&s, &headers(&[cookie]), "other"));
        assert!(!verify(&s, &headers(&[cookie]), ""));
        assert!(!verify(&s, &headers(&[]), T));
        assert!(verify(&s, &headers(&[cookie]), T));
        // `Origin: null` (a browser withholding the origin) leaves the decision to the token.
        assert!(verify(&s, &headers(&[cookie, ("origin", "null"), ("sec-fetch-site", "same-origin")]), T));
        assert!(!verify(&s, &headers(&[cookie, ("origin", "null")]), "forged"));
    }

    #[test]
    fn a_refusal_says_which_origin_the_form_came_from() {
        let s = settings();
        let cookie = ("cookie", "__Host-navis_csrf=0123456789abcdef0123456789abcdef0123456789a");
        // Navis opened at another address: both headers are foreign; the origin is what helps.
        let elsewhere = headers(&[cookie, ("origin", "http://localhost:8080"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(check(&s, &elsewhere, T), Err(Refusal::WrongOrigin("http://localhost:8080".into())));
        assert_eq!(check(&s, &headers(&[cookie, ("sec-fetch-site", "same-site")]), T), Err(Refusal::CrossSite));
        assert_eq!(check(&s, &headers(&[cookie]), "stale"), Err(Refusal::Token));
        assert_eq!(check(&s, &headers(&[cookie, ("origin", "https://navis.example")]), T), Ok(()));
    }

    #[test]
    fn with_a_session_only_the_session_bound_token_passes() {
        let s = settings();
        // A planted double-submit cookie and its matching field do not pass for a signed-in browser.
        let planted = headers(&[(
            "cookie",
            "__Host-navis_session=s3cr3t-session-value; __Host-navis_csrf=0123456789abcdef0123456789abcdef0123456789a",
        )]);
        assert!(!verify(&s, &planted, T));
        let (token, set) = token(&s, &planted);
        assert!(set.is_none());
        assert_ne!(token, T);
        assert!(verify(&s, &planted, &token));
        let other = headers(&[("cookie", "__Host-navis_session=another-session")]);
        assert!(!verify(&s, &other, &token));
    }

    /// The attributes of a `Set-Cookie`, as a browser reads them.
    fn attributes(set: &str) -> Vec<String> {
        let mut parts: Vec<String> = set.split("; ").map(str::to_owned).collect();
        parts[1..].sort();
        parts
    }

    #[test]
    fn cookies_use_the_host_prefix_on_https_origins_and_the_path_otherwise() {
        let s = settings();
        assert_eq!(
            attributes(&set_cookie(&s, SESSION_COOKIE, "v", 60, SameSite::Lax)),
            ["__Host-navis_session=v", "HttpOnly", "Max-Age=60", "Path=/", "SameSite=Lax", "Secure"]
        );
        // Read back through the same parser, among other cookies.
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; __Host-navis_session=s3cr3t; navis_session=unprefixed"));
        assert_eq!(cookie(&s, &h, SESSION_COOKIE), Some("s3cr3t"));
        assert_eq!(cookie(&s, &h, COOKIE), None);
        let prefixed =
            Settings::resolve(&crate::config::SettingsArgs { public_url: Some("https://example.com/navis/".into()), ..Default::default() })
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(attributes(&set_cookie(&prefixed, SESSION_COOKIE, "v", 60, SameSite::Lax)).contains(&"Path=/navis".to_owned()));
        let plain =
            Settings::resolve(&crate::config::SettingsArgs { public_url: Some("http://127.0.0.1:8080".into()), ..Default::default() })
                .unwrap_or_else(|e| panic!("{e}"));
        let set = set_cookie(&plain, SESSION_COOKIE, "v", 60, SameSite::Lax);
        assert!(set.starts_with("navis_session=v; ") && set.contains("Path=/") && !set.contains("Secure"), "{set}");
    }
}
