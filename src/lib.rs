//! Navis: a self-hostable Navis Ops API and MCP server.
//!
//! Data flows one way: `web`/`mcp` (HTTP edge) → `service` (rules, Principal) → `store` (SQL).
//! `core` holds pure rules (token format, digests, scopes, clock) and knows no I/O.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cli;
pub mod config;
pub mod core;
pub mod logging;
pub mod mcp;
pub mod server;
pub mod service;
pub mod store;
pub mod web;

pub use service::App;
