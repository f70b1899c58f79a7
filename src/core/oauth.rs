//! Pure OAuth rules: PKCE, redirect-URI validation and matching, resource matching, refresh
//! rotation. No I/O; time is a parameter. Each rule names the RFC it follows.
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use url::{Host, Url};

use super::secret::constant_time_eq;

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn valid_pkce_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// S256 only: BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6), compared in constant time.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    if !valid_pkce_verifier(verifier) {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

/// A challenge as S256 produces it: 43 base64url characters.
pub fn valid_pkce_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a redirect URI points back at the user's own machine (RFC 8252 §7.3).
pub fn is_loopback_redirect(uri: &str) -> bool {
    Url::parse(uri).is_ok_and(|u| u.scheme() == "http" && is_loopback(&u))
}

/// Single-word schemes of MCP clients people use, accepted although RFC 8252 §7.1 asks for
/// reverse-domain names: refusing them would break those editors' sign-in.
pub const KNOWN_APP_SCHEMES: [&str; 4] = ["cursor", "vscode", "vscode-insiders", "windsurf"];

/// A private-use scheme in reverse-domain form (RFC 8252 §7.1: `com.example.app`), or a known
/// client's own scheme. Anything else (`search-ms:`, `ms-msdt:`, `view-source:`, `jar:`,
/// `mailto:`…) may hand the code, or control, to some other program on the user's machine.
fn is_app_scheme(scheme: &str) -> bool {
    let labels: Vec<&str> = scheme.split('.').collect();
    let reverse_domain = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        && labels[0].bytes().all(|b| b.is_ascii_lowercase());
    reverse_domain || KNOWN_APP_SCHEMES.contains(&scheme)
}

/// Registration policy for one redirect URI (RFC 6749 §3.1.2, RFC 8252, OAuth 2.1 §2.3.1):
/// https anywhere; http only to loopback; a native app's private-use scheme in reverse-domain
/// form; never a fragment or userinfo.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri} has a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{uri} carries credentials"));
    }
    match url.scheme() {
        "https" => {
            if url.host().is_none() {
                return Err(format!("{uri} has no host"));
            }
            Ok(())
        }
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!("{uri}: plain http is only allowed for loopback addresses (localhost, 127.0.0.1, [::1])")),
        scheme if is_app_scheme(scheme) => Ok(()),
        scheme => Err(format!(
            "{uri}: the {scheme} scheme is not allowed; use https, http on a loopback address, or an app's own scheme in reverse-domain form (com.example.app:/callback)"
        )),
    }
}

/// Does `requested` match the `registered` redirect URI? Exact string comparison, except
/// that loopback http URIs match on any port (RFC 8252 §7.3), because native clients pick
/// an ephemeral port at run time. Nothing else is normalised: no case folding of paths, no
/// decoding, no prefix matching.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else { return false };
    if reg.scheme() != "http" || req.scheme() != "http" || !is_loopback(&reg) || !is_loopback(&req) {
        return false;
    }
    // The parsed forms must agree on everything but the port, and the raw requested string
    // must be the serialisation of its parsed form (no tricks hidden by normalisation).
    let strip = |u: &Url| {
        let mut u = u.clone();
        let _ = u.set_port(None);
        u.to_string()
    };
    reg.host() == req.host()
        && strip(&reg) == strip(&req)
        && req.as_str() == requested
        && reg.path() == req.path()
        && reg.query() == req.query()
}

/// The canonical form a resource indicator (RFC 8707) is compared in: lower-case scheme and
/// host (the URL parser does that), no default port, no trailing slash, no fragment.
pub fn canonical_resource(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    if url.fragment().is_some() || !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
}

/// What to do with a presented refresh token (OAuth 2.1 §4.3.1 rotation, with a reuse grace
/// window so that clients that retry or refresh concurrently are not logged out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// First use: issue a successor and retire this token.
    Rotate,
    /// Used moments ago: hand back the successor already issued.
    ReturnSuccessor,
    /// Used long ago: someone replayed it. Revoke the whole grant.
    RevokeGrant,
    /// Expired or revoked.
    Refuse,
}

pub const REFRESH_GRACE: Duration = Duration::seconds(60);

pub fn refresh_decision(expires_at: DateTime<Utc>, revoked: bool, used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> RefreshDecision {
    if revoked {
        return RefreshDecision::Refuse;
    }
    match used_at {
        None if expires_at <= now => RefreshDecision::Refuse,
        None => RefreshDecision::Rotate,
        Some(used) if now - used <= REFRESH_GRACE => RefreshDecision::ReturnSuccessor,
        Some(_) => RefreshDecision::RevokeGrant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(valid_pkce_challenge(challenge));
        assert!(!pkce_s256_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", challenge));
        // `plain` would compare the verifier to itself: never accepted.
        assert!(!pkce_s256_matches(verifier, verifier));
        assert!(!pkce_s256_matches("short", challenge));
    }

    #[test]
    fn registration_accepts_https_loopback_and_app_schemes_only() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/callback",
            "http://localhost/cb",
            "http://[::1]:8080/cb",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "vscode://vscode.github-authentication/did-authenticate",
            "com.example.app:/oauth2redirect",
            "io.github.some-app://callback",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://good.example/cb#frag",
            "https://user@good.example/cb",
            "file:///etc/passwd",
            "search-ms:query=x&crumb=location:\\\\evil.example\\share",
            "ms-msdt:/id PCWDiagnostic",
            "view-source:https://app.example/cb",
            "jar:https://app.example/x.jar!/cb",
            "mailto:victim@example.com",
            "ftp://app.example/cb",
            "wss://app.example/cb",
            "about:blank",
            "blob:https://app.example/uuid",
            "vbscript:msgbox",
            "com.:/cb",
            "1com.example:/cb",
            "/relative",
            "not a uri",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_matching_is_exact_except_for_loopback_ports() {
        let reg = "https://app.example/callback";
        assert!(redirect_matches(reg, reg));
        for attack in [
            "https://app.example/callback/",
            "https://app.example/other",
            "https://app.example/callback?x=1",
            "https://evil.example/callback",
            "https://app.example@evil.example/callback",
            "https://app.example.evil.example/callback",
            "https://app.example/%63allback",
            "https://APP.example/callback",
            "https://app.example/callback#x",
            "javascript://app.example/callback",
            "http://app.example/callback",
        ] {
            assert!(!redirect_matches(reg, attack), "{attack}");
        }
        assert!(redirect_matches("http://127.0.0.1/callback", "http://127.0.0.1:54321/callback"));
        assert!(redirect_matches("http://localhost:3000/callback", "http://localhost:61000/callback"));
        assert!(!redirect_matches("http://127.0.0.1/callback", "http://127.0.0.1:54321/other"));
        assert!(!redirect_matches("http://127.0.0.1/callback", "http://localhost:54321/callback"));
        assert!(!redirect_matches("http://127.0.0.1/callback", "http://127.0.0.2:1/callback"));
        assert!(!redirect_matches("http://localhost/callback", "http://localhost.evil.example:80/callback"));
    }

    #[test]
    fn resources_compare_in_canonical_form() {
        assert_eq!(canonical_resource("HTTPS://Navis.Example/mcp/").as_deref(), Some("https://navis.example/mcp"));
        assert_eq!(canonical_resource("https://navis.example:443/").as_deref(), Some("https://navis.example"));
        assert_eq!(canonical_resource("https://navis.example/mcp#x"), None);
        assert_eq!(canonical_resource("urn:x"), None);
    }

    #[test]
    fn refresh_rotation_decisions_follow_the_clock() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let exp = t0 + Duration::days(30);
        assert_eq!(refresh_decision(exp, false, None, t0), RefreshDecision::Rotate);
        assert_eq!(refresh_decision(exp, true, None, t0), RefreshDecision::Refuse);
        assert_eq!(refresh_decision(exp, false, None, exp), RefreshDecision::Refuse);
        assert_eq!(refresh_decision(exp, false, Some(t0), t0 + Duration::seconds(60)), RefreshDecision::ReturnSuccessor);
        assert_eq!(refresh_decision(exp, false, Some(t0), t0 + Duration::seconds(61)), RefreshDecision::RevokeGrant);
        assert_eq!(refresh_decision(exp, true, Some(t0), t0 + Duration::seconds(1)), RefreshDecision::Refuse);
    }

    proptest! {
        #[test]
        fn a_registered_uri_never_matches_another_host(host in "[a-z]{1,12}\\.[a-z]{2,5}", path in "/[a-z/]{0,12}") {
            let reg = format!("https://app.example{path}");
            let other = format!("https://{host}{path}");
            prop_assume!(host != "app.example");
            prop_assert!(!redirect_matches(&reg, &other));
        }

        #[test]
        fn loopback_matches_any_port_but_nothing_else_changes(port in 1u16.., path in "/[a-z]{1,10}") {
            let reg = format!("http://127.0.0.1{path}");
            let same = format!("http://127.0.0.1:{port}{path}");
            let different_path = format!("http://127.0.0.1:{port}{path}x");
            prop_assert!(redirect_matches(&reg, &same));
            prop_assert!(!redirect_matches(&reg, &different_path));
        }

        #[test]
        fn matchers_never_panic(a in "\\PC{0,60}", b in "\\PC{0,60}") {
            let _ = redirect_matches(&a, &b);
            let _ = check_redirect_uri(&a);
            let _ = canonical_resource(&a);
        }
    }
}
