//! The bearer check at the edge and the seed's exact 401/403 contract (PRODUCT.md §4).
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::core::scope;
use crate::service::{App, AuthFailure, Principal};

pub const UNAUTHORIZED_BODY: &str = r#"{"error":"unauthorized","message":"Missing or invalid authorization token."}"#;
pub const FORBIDDEN_BODY: &str = r#"{"error":"forbidden","message":"This operation requires the mcp:write scope."}"#;

/// The token of an `Authorization: Bearer …` header. A header with another scheme, or an
/// empty token, yields `Some("")`: something was presented, and it is malformed. So do two
/// `Authorization` headers: a request carries one credential (RFC 6750 §3.1), and picking one
/// would let whoever added the other choose. Tokens in query strings or cookies are never looked at.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return Some("");
    }
    let value = value.to_str().unwrap_or("").trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
        _ => Some(""),
    }
}

/// 401 with the seed's body and a challenge pointing at the resource's metadata document.
pub fn unauthorized(resource_metadata: &str, failure: AuthFailure) -> Response {
    let challenge = match failure {
        // RFC 6750 §3: no error code when the request carried no credentials.
        AuthFailure::Missing => format!(r#"Bearer resource_metadata="{resource_metadata}", scope="{}""#, scope::ALL),
        other => format!(
            r#"Bearer error="invalid_token", error_description="The access token is {}", resource_metadata="{resource_metadata}", scope="{}""#,
            match other {
                AuthFailure::Expired => "expired",
                AuthFailure::Revoked => "revoked",
                AuthFailure::Malformed => "malformed",
                _ => "invalid",
            },
            scope::ALL
        ),
    };
    json_with_challenge(StatusCode::UNAUTHORIZED, UNAUTHORIZED_BODY, &challenge)
}

/// 403 for a valid token without `mcp:write`.
pub fn forbidden(resource_metadata: &str) -> Response {
    let challenge = format!(
        r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{resource_metadata}", error_description="This operation requires the mcp:write scope.""#,
        scope::ALL
    );
    json_with_challenge(StatusCode::FORBIDDEN, FORBIDDEN_BODY, &challenge)
}

fn json_with_challenge(status: StatusCode, body: &'static str, challenge: &str) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn server_error() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"unavailable","message":"The server cannot check credentials right now; try again."}"#,
    )
        .into_response()
}

/// Authenticates a request for the protected resource whose metadata lives at `resource_metadata`.
pub async fn authenticate(app: &App, headers: &HeaderMap, resource_metadata: &str) -> Result<Principal, Response> {
    match app.authenticate(bearer_token(headers)).await {
        Ok(Ok(principal)) => {
            app.metrics.authenticated(matches!(principal.credential, crate::service::Credential::OAuth { .. }));
            Ok(principal)
        }
        Ok(Err(failure)) => {
            app.metrics.refused(failure);
            tracing::debug!(reason = failure.reason(), "bearer token refused");
            Err(unauthorized(resource_metadata, failure))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot authenticate: store error");
            Err(server_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap_or(HeaderValue::from_static("")));
        h
    }

    #[test]
    fn only_the_bearer_scheme_yields_a_token() {
        assert_eq!(bearer_token(&HeaderMap::new()), None);
        assert_eq!(bearer_token(&headers("Bearer nops_x")), Some("nops_x"));
        assert_eq!(bearer_token(&headers("bearer  nops_x ")), Some("nops_x"));
        assert_eq!(bearer_token(&headers("Basic dXNlcjpwYXNz")), Some(""));
        assert_eq!(bearer_token(&headers("Bearer")), Some(""));
        let mut two = headers("Bearer nops_x");
        two.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer nops_y"));
        assert_eq!(bearer_token(&two), Some(""), "two credentials are one malformed request");
    }
}
