//! The one integration-test binary: every test starts a real Navis on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod oauth_support;

mod api;
mod calendar;
mod cimd;
mod cli;
mod conformance;
mod contract;
mod crash;
mod export;
mod fast_path;
mod fuzz_corpus;
mod goals;
mod inbox;
mod instances;
mod interop;
mod isolation;
mod load;
mod meetings;
mod notes;
mod oauth;
mod outage;
mod pages;
mod protocol;
mod proxy;
mod rls;
mod robustness;
mod sdk_clients;
mod security;
mod slow_clients;
mod storage;
mod summary;
mod workflows;
mod workspace;
