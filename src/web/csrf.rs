//! Cross-site request protection for every form: a double-submit token (cookie + hidden field,
//! compared in constant time) and, when the browser sends them, Origin and Fetch-Metadata checks.
use axum::http::{HeaderMap, header};

use crate::config::Settings;
use crate::core::secret::{constant_time_eq, random_token};

pub const COOKIE: &str = "navis_csrf";
pub const SESSION_COOKIE: &str = "navis_session";

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub fn set_cookie(settings: &Settings, name: &str, value: &str, max_age_secs: i64, same_site: &str) -> String {
    let secure = if settings.secure_cookies() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}")
}

/// The request's CSRF token, or a new one with the `Set-Cookie` that installs it.
pub fn token(settings: &Settings, headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, COOKIE) {
        Some(t) if t.len() >= 32 => (t.to_owned(), None),
        _ => {
            let t = random_token(32);
            let set = set_cookie(settings, COOKIE, &t, 60 * 60 * 24 * 30, "Strict");
            (t, Some(set))
        }
    }
}

/// Whether a form post is same-origin and carries the matching token.
pub fn verify(settings: &Settings, headers: &HeaderMap, form_token: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    // Browsers send `Origin: null` when they will not reveal the origin (privacy settings,
    // sandboxes); that says nothing either way, so the token decides.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != "null"
        && origin != settings.public_origin()
    {
        return false;
    }
    match cookie(headers, COOKIE) {
        Some(expected) => !form_token.is_empty() && constant_time_eq(expected.as_bytes(), form_token.as_bytes()),
        None => false,
    }
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
            ("cookie", "a=b; navis_csrf=0123456789abcdef0123456789abcdef0123456789a"),
            ("origin", "https://navis.example"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(verify(&settings(), &h, T));
    }

    #[test]
    fn cross_site_posts_and_mismatched_tokens_fail() {
        let s = settings();
        let cookie = ("cookie", "navis_csrf=0123456789abcdef0123456789abcdef0123456789a");
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
}
