//! Pure rules: no I/O, time is a parameter.
pub mod clock;
pub mod free_time;
pub mod net;
pub mod oauth;
pub mod rfc3339;
pub mod scope;
pub mod secret;
pub mod throttle;
pub mod token;
pub mod user_agent;
pub mod workflow;
