//! Settings from flags, `NAVIS_*` environment and an optional TOML file, in that order.
use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./navis-data";
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Each MCP session costs about 50 KB of memory: these bound what anonymous `initialize`
/// requests (1,000 → ~50 MB) and any one user (100 → ~5 MB) can hold.
pub const DEFAULT_MCP_MAX_PENDING_SESSIONS: usize = 1000;
pub const DEFAULT_MCP_MAX_SESSIONS_PER_USER: usize = 100;
pub const DEFAULT_MCP_SESSION_IDLE_SECS: u64 = 30 * 60;
/// Slow clients (slowloris): a connection that has not sent a request's headers within this many
/// seconds is closed (this also ends idle keep-alive connections), and one that has not sent the
/// whole body this many seconds after the headers gets 408 and is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 30;
/// Open connections from one client address; more are closed as soon as they are accepted.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDR: usize = 256;

/// The settings every subcommand shares, so that the admin CLI finds the server's database.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// TOML file with any of: listen, public_url, data_dir, database_url, max_body_bytes, allow_signup, last_used_flush_secs, allowed_origins, mcp_sessions, mcp_max_pending_sessions, mcp_max_sessions_per_user, mcp_session_idle_secs, mcp_fast_path, trusted_proxies, forwarded_header, conformance_fixtures, postgres_role
    #[arg(long, global = true, env = "NAVIS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, global = true, env = "NAVIS_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public base URL users and clients reach the server at; the issuer and every absolute URL derive from it [default: http://<listen address>]
    #[arg(long, global = true, env = "NAVIS_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Directory for the embedded database [default: ./navis-data]
    #[arg(long, global = true, env = "NAVIS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DB for several instances sharing one database [default: sqlite://<data dir>/navis.db]
    #[arg(long, global = true, env = "NAVIS_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// PostgreSQL role that serves requests (SET ROLE on every pooled connection) so that the row-level security policies bind it, even when the database URL's user is the tables' owner or a superuser: migrations run as that user, the role is granted what it needs and must be neither a superuser nor BYPASSRLS [default: none: the URL's user serves]
    #[arg(long, global = true, env = "NAVIS_POSTGRES_ROLE", value_name = "ROLE")]
    pub postgres_role: Option<String>,
    /// Largest accepted request body, in bytes; larger bodies get 413 [default: 4194304]
    #[arg(long, global = true, env = "NAVIS_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Whether the sign-up page creates accounts (true|false) [default: true]
    #[arg(long, global = true, env = "NAVIS_ALLOW_SIGNUP", value_name = "BOOL")]
    pub allow_signup: Option<bool>,
    /// How often batched API-key last-used times are written, in seconds [default: 15]
    #[arg(long, global = true, env = "NAVIS_LAST_USED_FLUSH_SECS", value_name = "SECS")]
    pub last_used_flush_secs: Option<u64>,
    /// Browser origins allowed to call the MCP endpoint besides the public URL's own (comma-separated, e.g. https://app.example.com) [default: none]
    #[arg(long, global = true, env = "NAVIS_ALLOWED_ORIGINS", value_name = "ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// Close a connection that has not sent a request's headers (or, between requests, anything) within SECS [default: 10]
    #[arg(long, global = true, env = "NAVIS_HEADER_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Answer 408 and close when a request's body has not arrived in full SECS after its headers [default: 30]
    #[arg(long, global = true, env = "NAVIS_BODY_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub body_read_timeout_secs: Option<u64>,
    /// Open connections allowed from one client IP address; more are closed on accept [default: 256]
    #[arg(long, global = true, env = "NAVIS_MAX_CONNECTIONS_PER_ADDR", value_name = "N")]
    pub max_connections_per_addr: Option<usize>,
    /// Give MCP clients that initialize a session (true), or serve every request on its own with JSON responses (false: no server state, any instance can answer) [default: true]
    #[arg(long, global = true, env = "NAVIS_MCP_SESSIONS", value_name = "BOOL")]
    pub mcp_sessions: Option<bool>,
    /// Answer plain sessionless `ping`, `tools/list` and `tools/call` requests directly instead of through an rmcp service per request (true|false; the answers are the same, false only costs speed) [default: true]
    #[arg(long, global = true, env = "NAVIS_MCP_FAST_PATH", value_name = "BOOL")]
    pub mcp_fast_path: Option<bool>,
    /// MCP sessions opened without a token and not yet used with one (initialize needs no token); beyond this, 503 [default: 1000]
    #[arg(long, global = true, env = "NAVIS_MCP_MAX_PENDING_SESSIONS", value_name = "N")]
    pub mcp_max_pending_sessions: Option<usize>,
    /// MCP sessions one user may hold at once; beyond this, 429 until one ends (DELETE) or goes idle [default: 100]
    #[arg(long, global = true, env = "NAVIS_MCP_MAX_SESSIONS_PER_USER", value_name = "N")]
    pub mcp_max_sessions_per_user: Option<usize>,
    /// An MCP session unused for this many seconds ends (the client gets 404 and initializes again) [default: 1800]
    #[arg(long, global = true, env = "NAVIS_MCP_SESSION_IDLE_SECS", value_name = "SECS")]
    pub mcp_session_idle_secs: Option<u64>,
    /// Reverse proxies whose X-Forwarded-For is believed, as addresses or CIDR blocks (comma-separated, e.g. 127.0.0.1,10.0.0.0/8); the client's address is then the first one no trusted proxy vouches for [default: none: the connection's address]
    #[arg(long, global = true, env = "NAVIS_TRUSTED_PROXIES", value_name = "CIDRS", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Which header the trusted proxies write the client's address into: x-forwarded-for, or forwarded (RFC 7239). Only that one is read, so a client cannot slip in the other [default: x-forwarded-for]
    #[arg(long, global = true, env = "NAVIS_FORWARDED_HEADER", value_name = "HEADER")]
    pub forwarded_header: Option<String>,
    /// Add the MCP conformance suite's test tools, resources and prompts (for running the official suite; never in production) [default: false]
    #[arg(long, global = true, env = "NAVIS_CONFORMANCE_FIXTURES", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub conformance_fixtures: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    postgres_role: Option<String>,
    max_body_bytes: Option<usize>,
    allow_signup: Option<bool>,
    last_used_flush_secs: Option<u64>,
    allowed_origins: Option<Vec<String>>,
    header_read_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    max_connections_per_addr: Option<usize>,
    mcp_sessions: Option<bool>,
    mcp_fast_path: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    forwarded_header: Option<String>,
    mcp_max_pending_sessions: Option<usize>,
    mcp_max_sessions_per_user: Option<usize>,
    mcp_session_idle_secs: Option<u64>,
    conformance_fixtures: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Scheme, host and optional port and path prefix; never a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The role PostgreSQL connections `SET ROLE` to (see `store::postgres`).
    pub postgres_role: Option<String>,
    pub max_body_bytes: usize,
    pub allow_signup: bool,
    pub last_used_flush_secs: u64,
    /// Extra browser origins (normalised `scheme://host[:port]`) allowed on the MCP endpoint.
    pub allowed_origins: Vec<String>,
    pub header_read_timeout: std::time::Duration,
    pub body_read_timeout: std::time::Duration,
    pub max_connections_per_addr: usize,
    pub mcp_sessions: bool,
    pub mcp_fast_path: bool,
    /// Proxies whose `X-Forwarded-For` is believed (see `core::net::client_address`).
    pub trusted_proxies: Vec<crate::core::net::Cidr>,
    /// The header those proxies write the client's address into.
    pub forwarded_header: ForwardedHeader,
    /// Sessions opened without a token and not yet used with one.
    pub mcp_max_pending_sessions: usize,
    pub mcp_max_sessions_per_user: usize,
    pub mcp_session_idle: std::time::Duration,
    pub conformance_fixtures: bool,
}

impl Settings {
    pub fn resolve(args: &SettingsArgs) -> anyhow::Result<Settings> {
        let file: FileSettings = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let listen_text = args.listen.clone().or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid listen address {listen_text:?}: expected IP:PORT such as 127.0.0.1:8080"))?;
        let public_url = normalize_public_url(&args.public_url.clone().or(file.public_url).unwrap_or_else(|| format!("http://{listen}")))?;
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url =
            args.database_url.clone().or(file.database_url).unwrap_or_else(|| format!("sqlite://{}", data_dir.join("navis.db").display()));
        let max_body_bytes = args.max_body_bytes.or(file.max_body_bytes).unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes < 1024 {
            anyhow::bail!("max_body_bytes must be at least 1024");
        }
        Ok(Settings {
            listen,
            public_url,
            data_dir,
            database_url,
            postgres_role: args.postgres_role.clone().or(file.postgres_role).filter(|r| !r.trim().is_empty()),
            max_body_bytes,
            allow_signup: args.allow_signup.or(file.allow_signup).unwrap_or(true),
            last_used_flush_secs: args.last_used_flush_secs.or(file.last_used_flush_secs).unwrap_or(15).max(1),
            allowed_origins: args
                .allowed_origins
                .clone()
                .or(file.allowed_origins)
                .unwrap_or_default()
                .iter()
                .filter(|o| !o.trim().is_empty())
                .map(|o| {
                    url::Url::parse(o.trim())
                        .map(|u| u.origin().ascii_serialization())
                        .map_err(|_| anyhow::anyhow!("invalid allowed origin {o:?}: expected scheme://host[:port]"))
                })
                .collect::<anyhow::Result<_>>()?,
            header_read_timeout: std::time::Duration::from_secs(at_least_one(
                "header_read_timeout_secs",
                args.header_read_timeout_secs.or(file.header_read_timeout_secs).unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            )?),
            body_read_timeout: std::time::Duration::from_secs(at_least_one(
                "body_read_timeout_secs",
                args.body_read_timeout_secs.or(file.body_read_timeout_secs).unwrap_or(DEFAULT_BODY_READ_TIMEOUT_SECS),
            )?),
            max_connections_per_addr: at_least_one(
                "max_connections_per_addr",
                args.max_connections_per_addr.or(file.max_connections_per_addr).unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_ADDR),
            )?,
            mcp_sessions: args.mcp_sessions.or(file.mcp_sessions).unwrap_or(true),
            mcp_fast_path: args.mcp_fast_path.or(file.mcp_fast_path).unwrap_or(true),
            trusted_proxies: args
                .trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default()
                .iter()
                .filter(|c| !c.trim().is_empty())
                .map(|c| c.parse().map_err(|e: String| anyhow::anyhow!("invalid trusted proxy: {e}")))
                .collect::<anyhow::Result<_>>()?,
            forwarded_header: match args
                .forwarded_header
                .clone()
                .or(file.forwarded_header)
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("x-forwarded-for") => ForwardedHeader::XForwardedFor,
                Some("forwarded") => ForwardedHeader::Forwarded,
                Some(other) => anyhow::bail!("invalid forwarded_header {other:?}: expected x-forwarded-for or forwarded"),
            },
            mcp_max_pending_sessions: at_least_one(
                "mcp_max_pending_sessions",
                args.mcp_max_pending_sessions.or(file.mcp_max_pending_sessions).unwrap_or(DEFAULT_MCP_MAX_PENDING_SESSIONS),
            )?,
            mcp_max_sessions_per_user: at_least_one(
                "mcp_max_sessions_per_user",
                args.mcp_max_sessions_per_user.or(file.mcp_max_sessions_per_user).unwrap_or(DEFAULT_MCP_MAX_SESSIONS_PER_USER),
            )?,
            mcp_session_idle: std::time::Duration::from_secs(at_least_one(
                "mcp_session_idle_secs",
                args.mcp_session_idle_secs.or(file.mcp_session_idle_secs).unwrap_or(DEFAULT_MCP_SESSION_IDLE_SECS),
            )?),
            conformance_fixtures: args.conformance_fixtures.or(file.conformance_fixtures).unwrap_or(false),
        })
    }

    /// Cookies are `Secure` whenever users reach the server over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The path the public URL adds to its origin (`/navis`), or `""` at the host's root. Behind
    /// a proxy that serves Navis under a prefix, it is stripped from requests that still carry it
    /// and added to every path Navis hands out (links, form actions, redirects, cookies).
    pub fn base_path(&self) -> &str {
        // The public URL is canonical (`normalize_public_url`): `scheme://authority[/path]`, no
        // trailing slash, no query, so the path is whatever follows the authority.
        let after_scheme = self.public_url.split_once("://").map_or("", |(_, rest)| rest);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }

    /// The path the public URL adds to its origin (`/navis`), or `/`.
    pub fn cookie_path(&self) -> String {
        Some(self.base_path()).filter(|p| !p.is_empty()).unwrap_or("/").to_owned()
    }

    /// A cookie's name as set and read: `__Host-` prefixed when the public URL is https with no
    /// path, so that no other host (a sibling subdomain) can plant or overwrite it.
    pub fn cookie_name(&self, name: &str) -> String {
        if self.secure_cookies() && self.cookie_path() == "/" { format!("__Host-{name}") } else { name.to_owned() }
    }

    /// `scheme://host[:port]` of the public URL, for Origin checks.
    pub fn public_origin(&self) -> String {
        url::Url::parse(&self.public_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    }

    pub fn public_host(&self) -> Option<String> {
        url::Url::parse(&self.public_url).ok().and_then(|u| u.host_str().map(str::to_owned))
    }

    /// Whether the server listens only on a loopback address (then local pages may call it).
    pub fn loopback_only(&self) -> bool {
        self.listen.ip().is_loopback()
    }

    /// The absolute URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// The header a trusted proxy writes the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx's `$proxy_add_x_forwarded_for`, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1` (Caddy and others can send it).
    Forwarded,
}

fn at_least_one<N: PartialOrd + From<u8>>(name: &str, n: N) -> anyhow::Result<N> {
    if n < N::from(1) {
        anyhow::bail!("{name} must be at least 1");
    }
    Ok(n)
}

/// One canonical spelling of the public URL: it is the issuer and the resource, and
/// clients compare those strings byte for byte.
pub fn normalize_public_url(raw: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| anyhow::anyhow!("invalid public URL {raw:?}: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        anyhow::bail!("the public URL must be http or https, not {}", url.scheme());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        anyhow::bail!("the public URL must not carry credentials, a query or a fragment");
    }
    if url.host_str().is_none() {
        anyhow::bail!("the public URL needs a host");
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_is_canonical() {
        assert_eq!(normalize_public_url("HTTPS://Navis.Example.com/").ok().as_deref(), Some("https://navis.example.com"));
        assert_eq!(normalize_public_url("http://127.0.0.1:8080").ok().as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(normalize_public_url("https://example.com/navis/").ok().as_deref(), Some("https://example.com/navis"));
        assert!(normalize_public_url("ftp://example.com").is_err());
        assert!(normalize_public_url("https://example.com/?x=1").is_err());
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let dir = std::env::temp_dir().join(format!("navis-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).ok();
        let file = dir.join("navis.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\npublic_url = \"https://file.example\"\nallow_signup = false\n").ok();
        let args = SettingsArgs { config: Some(file), public_url: Some("https://flag.example/".into()), ..Default::default() };
        let s = Settings::resolve(&args).map_err(|e| e.to_string());
        let s = s.as_ref().map_err(|e| e.as_str());
        assert_eq!(s.map(|s| s.listen.to_string()), Ok("127.0.0.1:9000".into()));
        assert_eq!(s.map(|s| s.public_url.clone()), Ok("https://flag.example".into()));
        assert_eq!(s.map(|s| s.allow_signup), Ok(false));
        assert_eq!(s.map(|s| s.database_url.clone()), Ok("sqlite://./navis-data/navis.db".into()));
        std::fs::remove_dir_all(dir).ok();
    }
}
