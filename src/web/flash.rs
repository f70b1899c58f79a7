//! One-time values carried across a redirect (Post/Redirect/Get): a short-lived cookie signed
//! with the browser's session, which the page it redirected to reads once and clears.
//!
//! Kept in the browser rather than in one instance's memory, so the page may be served by any
//! instance behind a load balancer; signed with the session (an HMAC keyed by the session
//! cookie, as the CSRF token is), so another site or a sibling host cannot plant a message.
use axum::http::HeaderMap;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::csrf::{self, SESSION_COOKIE, SameSite};
use crate::config::Settings;
use crate::core::secret::constant_time_eq;

/// What an action did, shown once on the page the browser is sent to next.
pub const FLASH: &str = "navis_flash";
/// A new API key's token, from the form's post to the one page that shows it.
pub const REVEAL: &str = "navis_reveal";
/// Long enough to follow a redirect on a slow connection, and no longer.
const MAX_AGE_SECS: i64 = 120;

fn mac(session: &str, name: &str, value: &[u8]) -> Vec<u8> {
    <Hmac<Sha256> as Mac>::new_from_slice(session.as_bytes())
        .map(|mut mac| {
            mac.update(b"navis one-time v1\0");
            mac.update(name.as_bytes());
            mac.update(b"\0");
            mac.update(value);
            mac.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default()
}

/// The `Set-Cookie` that carries `value` to the next page of the browser holding `session`.
pub fn set(settings: &Settings, session: &str, name: &str, value: &str) -> String {
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(value), URL_SAFE_NO_PAD.encode(mac(session, name, value.as_bytes())));
    csrf::set_cookie(settings, name, &signed, MAX_AGE_SECS, SameSite::Strict)
}

/// The value, if this browser's session signed it, and the `Set-Cookie` that clears the
/// cookie (whenever there was one, valid or not): a reload finds nothing.
pub fn take(settings: &Settings, headers: &HeaderMap, name: &str) -> (Option<String>, Option<String>) {
    let Some(raw) = csrf::cookie(settings, headers, name) else { return (None, None) };
    let clear = csrf::set_cookie(settings, name, "", 0, SameSite::Strict);
    let value = csrf::cookie(settings, headers, SESSION_COOKIE).and_then(|session| {
        let (value, tag) = raw.split_once('.')?;
        let value = URL_SAFE_NO_PAD.decode(value).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = mac(session, name, &value);
        (!expected.is_empty() && constant_time_eq(&expected, &tag)).then_some(())?;
        String::from_utf8(value).ok()
    });
    (value, Some(clear))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    fn settings() -> Settings {
        Settings::resolve(&crate::config::SettingsArgs { public_url: Some("http://127.0.0.1:8080".into()), ..Default::default() })
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn browser(cookies: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookies).unwrap_or_else(|e| panic!("{e}")));
        h
    }

    /// The `name=value` part of a `Set-Cookie`.
    fn pair(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap_or_default()
    }

    #[test]
    fn a_value_reaches_the_next_page_of_its_own_session_once() {
        let s = settings();
        let set = set(&s, "session-a", FLASH, "API key “laptop” revoked.");
        assert!(set.contains("Max-Age=120") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
        let (value, clear) = take(&s, &browser(&format!("navis_session=session-a; {}", pair(&set))), FLASH);
        assert_eq!(value.as_deref(), Some("API key “laptop” revoked."));
        assert!(clear.is_some_and(|c| c.starts_with("navis_flash=; ") && c.contains("Max-Age=0")));
        // Nothing to take (a reload after the clear): nothing shown, nothing to clear.
        assert_eq!(take(&s, &browser("navis_session=session-a"), FLASH), (None, None));
    }

    #[test]
    fn a_value_from_another_session_or_name_or_a_forger_is_ignored_and_cleared() {
        let s = settings();
        let set = set(&s, "session-a", REVEAL, "secret");
        let other_session = take(&s, &browser(&format!("navis_session=session-b; {}", pair(&set))), REVEAL);
        assert_eq!(other_session.0, None);
        assert!(other_session.1.is_some(), "cleared all the same");
        let renamed = pair(&set).replacen(REVEAL, FLASH, 1);
        assert_eq!(take(&s, &browser(&format!("navis_session=session-a; {renamed}")), FLASH).0, None);
        let planted = format!("navis_session=session-a; navis_flash={}.AAAA", URL_SAFE_NO_PAD.encode("You won"));
        assert_eq!(take(&s, &browser(&planted), FLASH).0, None);
        assert_eq!(take(&s, &browser(pair(&set)), REVEAL).0, None, "no session, no value");
    }
}
