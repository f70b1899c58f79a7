//! The address of the client, for the sign-in throttle and the security events.
use std::{convert::Infallible, net::IpAddr, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use super::AppState;
use crate::core::net::client_address;

/// The connection's peer address, or — when that peer is one of `--trusted-proxies` — the
/// address the proxies forwarded in `X-Forwarded-For` (`core::net::client_address`). `None` for
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
        let forwarded: Vec<&str> = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        Ok(ClientAddr(Some(client_address(peer, &forwarded, trusted))))
    }
}
