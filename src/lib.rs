//! Navis: a self-hostable Navis Ops API and MCP server.
//!
//! Data flows one way: `web`/`mcp`/`api` (HTTP faces, sharing `edge`) → `ops` (the operation
//! catalogue) → `service` (rules, Principal) → `store` (SQL). `server` wires the faces together.
//! `core` holds pure rules (token format, digests, scopes, clock) and knows no I/O.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod cli;
pub mod config;
pub mod core;
pub mod edge;
pub mod logging;
pub mod mcp;
pub mod ops;
pub mod server;
pub mod service;
pub mod store;
pub mod web;

pub use service::App;
