//! Services: accounts, credentials and the workspace. Every workspace call takes a `Principal`.
use std::sync::Arc;

use crate::core::clock::Clock;
use crate::store::{Store, StoreError};

pub mod accounts;
pub mod audit;
pub mod idempotency;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod principal;
pub mod workspace;

pub use principal::{AuthFailure, Credential, Principal};

/// Everything a request needs, shared by the HTTP edge, the MCP server and the CLI.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The public URL: the OAuth issuer and the base of every resource this server protects.
    pub issuer: Arc<str>,
    pub last_used: Arc<keys::LastUsed<String>>,
    pub grant_last_used: Arc<keys::LastUsed<uuid::Uuid>>,
    pub client_metadata: Arc<oauth::client_metadata::ClientMetadataFetcher>,
    pub hashing: Arc<accounts::HashingSlots>,
    pub metrics: Arc<metrics::Metrics>,
    /// The key refresh successors are derived with (see `oauth::token::refresh`), cached.
    derivation_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// The key device cookies are signed with (see `accounts`), cached.
    device_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, issuer: &str) -> Self {
        Self {
            store,
            clock,
            issuer: issuer.into(),
            last_used: Arc::default(),
            grant_last_used: Arc::default(),
            client_metadata: Arc::default(),
            hashing: Arc::default(),
            metrics: Arc::default(),
            derivation_key: Arc::default(),
            device_key: Arc::default(),
        }
    }

    /// The time, to the microsecond: what both databases keep, so that what a write answers is
    /// what a later read returns (the export, a list).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        self.clock.now().trunc_subsecs(6)
    }

    /// A named server key shared by every instance through the database: created by the first
    /// instance that asks, read once per process, then kept (it never changes).
    async fn server_key<'a>(&'a self, cell: &'a tokio::sync::OnceCell<Vec<u8>>, name: &str) -> ServiceResult<&'a [u8]> {
        let key = cell
            .get_or_try_init(|| async {
                let mut candidate = [0u8; 32];
                crate::core::secret::fill_random(&mut candidate);
                self.store.server_key(name, &candidate, self.now()).await
            })
            .await?;
        Ok(key)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Also used for ids that belong to another user: the two are indistinguishable.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// An argument that breaks a rule of the workspace: which one (`tasks[2].title`), and why.
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// Every password-hashing slot is taken; the caller should retry shortly (429).
    #[error("The server is busy; try again in a few seconds.")]
    Busy,
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Whether the failed call may nevertheless have made its change (see `StoreError::Uncertain`);
    /// otherwise a failed call changed nothing, as every change commits in one transaction.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ServiceError::Store(e) if e.outcome_unknown())
    }
}

impl ServiceError {
    /// `field` is invalid; `message` says why, in a sentence that names it.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::InvalidField { field: field.into(), message: message.into() }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
