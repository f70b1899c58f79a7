//! What every HTTP face shares — the state its handlers get, the bearer check, the names of the
//! protected resource — so that the faces depend on this and not on each other:
//!
//! ```text
//! server (wiring: builds the states, merges the routers, adds the common layers)
//!   ├─→ web (pages, OAuth endpoints, well-known) ─┐
//!   ├─→ mcp (the MCP endpoint) ───────────────────┼─→ edge ─→ service ─→ store
//!   └─→ api (the HTTP API) ─→ web (HTML escaping, ─┘
//!                            OAuth endpoint paths)
//! ```
use std::sync::Arc;

use crate::config::Settings;
use crate::service::App;

pub mod bearer;

/// What a handler of any face gets: the services and the settings.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub settings: Arc<Settings>,
}

/// The two MCP paths: the one the original documents, and a short alias.
pub const MCP_PATHS: [&str; 2] = ["/functions/v1/mcp-server-v2", "/mcp"];
/// The HTTP API's prefix.
pub const API_PREFIX: &str = "/api/v1";
/// Where RFC 9728 protected-resource metadata lives (the root form, and `{PRM_PREFIX}{path}`).
pub const PRM_PREFIX: &str = "/.well-known/oauth-protected-resource";

#[cfg(test)]
mod tests {
    use super::*;

    /// The OAuth side accepts as resource indicators exactly the names the edge serves.
    #[test]
    fn the_resource_names_are_the_served_paths() {
        let mut expected = vec!["https://navis.example".to_owned()];
        expected.extend(MCP_PATHS.iter().chain([&API_PREFIX]).map(|p| format!("https://navis.example{p}")));
        assert_eq!(crate::service::oauth::resource_names("https://navis.example").to_vec(), expected);
    }
}
