//! The two scopes of the product: `mcp:read` and `mcp:write` (which implies read).
use std::fmt;

use serde::{Deserialize, Serialize};

pub const READ: &str = "mcp:read";
pub const WRITE: &str = "mcp:write";
/// The scope string every challenge advertises.
pub const ALL: &str = "mcp:read mcp:write";

/// What a credential may do. `Write` implies `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    #[serde(rename = "mcp:read")]
    Read,
    #[serde(rename = "mcp:write")]
    Write,
}

impl Access {
    pub fn can_write(self) -> bool {
        self == Access::Write
    }

    /// The stored form: the single scope that grants this access.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => READ,
            Access::Write => WRITE,
        }
    }

    /// The scopes this access grants, as a space-separated list.
    pub fn granted_scopes(self) -> &'static str {
        match self {
            Access::Read => READ,
            Access::Write => ALL,
        }
    }

    /// The label the Connected Apps page shows.
    pub fn label(self) -> &'static str {
        match self {
            Access::Read => "Read",
            Access::Write => "Read + Write",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        match s {
            READ | "read" => Some(Access::Read),
            WRITE | "write" => Some(Access::Write),
            _ => None,
        }
    }

    /// Narrow a space-separated scope request to what Navis can grant; unknown scopes
    /// (`offline_access`, `openid`, …) are dropped, never an error. `None` if nothing is left.
    pub fn from_scope_list(list: &str) -> Option<Access> {
        list.split_ascii_whitespace()
            .filter_map(|s| match s {
                READ => Some(Access::Read),
                WRITE => Some(Access::Write),
                _ => None,
            })
            .max()
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_and_unknown_scopes_are_narrowed_away() {
        assert!(Access::Write.can_write());
        assert!(!Access::Read.can_write());
        assert_eq!(Access::from_scope_list("openid mcp:read offline_access"), Some(Access::Read));
        assert_eq!(Access::from_scope_list("mcp:read mcp:write"), Some(Access::Write));
        assert_eq!(Access::from_scope_list("openid email"), None);
        assert_eq!(Access::Write.granted_scopes(), "mcp:read mcp:write");
    }

    #[test]
    fn parse_accepts_cli_words_and_scope_names() {
        assert_eq!(Access::parse("read"), Some(Access::Read));
        assert_eq!(Access::parse("mcp:write"), Some(Access::Write));
        assert_eq!(Access::parse("admin"), None);
    }
}
