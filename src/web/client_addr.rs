//! The address of the client, for the sign-in throttle and the security events.
use std::{convert::Infallible, net::IpAddr, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};

use super::AppState;
use crate::config::ForwardedHeader;
use crate::core::net::{client_address, forwarded_header_addresses};

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The connection's peer address, or — when that peer is one of `--trusted-proxies` — the
/// address the proxies forwarded in `Forwarded` or `X-Forwarded-For` (`core::net::client_address`). `None` for
/// in-process requests that have no socket.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else { return Ok(ClientAddr(None)) };
        let trusted = &state.settings.trusted_proxies;
        if trusted.is_empty() {
            return Ok(ClientAddr(Some(peer)));
        }
        // Only the header the proxies are configured to write: the other one is the client's own.
        let values = |name| parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<String> = match state.settings.forwarded_header {
            ForwardedHeader::XForwardedFor => values(X_FORWARDED_FOR).map(str::to_owned).collect(),
            ForwardedHeader::Forwarded => values(header::FORWARDED.as_str()).flat_map(forwarded_header_addresses).collect(),
        };
        let forwarded: Vec<&str> = hops.iter().map(String::as_str).collect();
        Ok(ClientAddr(Some(client_address(peer, &forwarded, trusted))))
    }
}
