//! What can go wrong in a platform operation, and the kind of each failure.
//!
//! The kind is what callers act on: the CLI maps it to an exit code and the
//! `--json` `kind`, the HTTP API to a status code. Neither is decided here.

use crate::model::{FieldError, PluginError};
use oort_runtime::SandboxError;
use oort_store::StoreError;

/// Failures of a platform operation.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// Bad input from the operator.
    #[error("{0}")]
    InvalidInput(String),
    /// The plugin refused the configuration; nothing was stored.
    #[error("invalid configuration:\n{}", .0.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"))]
    InvalidConfig(Vec<FieldError>),
    /// No such plugin / integration / operator / finding.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the state it finds: the name is taken,
    /// the integration is disabled, another process is collecting it.
    #[error("{0}")]
    Conflict(String),
    /// The host is shutting down and stopped the operation part way, cleanly
    /// (a collection, between two pages): it can simply be run again.
    #[error("{0}")]
    Interrupted(String),
    /// The plugin reported a typed error.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The sandbox stopped the plugin: a limit was hit, or it trapped. The
    /// message names the limit or the trap.
    #[error("plugin stopped: {0}")]
    Sandbox(String),
    /// The operator's role does not allow the operation.
    #[error("refused: {0}")]
    Refused(String),
    /// The caller could not be identified (no, unknown, revoked or expired
    /// API token).
    #[error("not signed in: {0}")]
    Unauthenticated(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// The kind of a [`PlatformError`], with its stable name (`kind` in JSON
/// errors of the CLI and the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidInput,
    InvalidConfig,
    NotFound,
    /// It exists already, or the store refused the change (a name taken).
    Conflict,
    Plugin,
    Sandbox,
    Refused,
    Unauthenticated,
    /// The store cannot serve the request now (busy, disk full, I/O).
    Unavailable,
    /// What the store holds cannot be read back (damaged file, another
    /// master key).
    Store,
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Plugin => "plugin",
            ErrorKind::Sandbox => "sandbox",
            ErrorKind::Refused => "refused",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Store => "store",
            ErrorKind::Internal => "internal",
        }
    }
}

impl PlatformError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PlatformError::InvalidInput(_) => ErrorKind::InvalidInput,
            PlatformError::InvalidConfig(_) => ErrorKind::InvalidConfig,
            PlatformError::NotFound(_) => ErrorKind::NotFound,
            PlatformError::Conflict(_) => ErrorKind::Conflict,
            PlatformError::Interrupted(_) => ErrorKind::Unavailable,
            PlatformError::Plugin(_) => ErrorKind::Plugin,
            PlatformError::Sandbox(_) => ErrorKind::Sandbox,
            PlatformError::Refused(_) => ErrorKind::Refused,
            PlatformError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            PlatformError::Store(e) => match e {
                StoreError::NotFound(_) => ErrorKind::NotFound,
                StoreError::Conflict(_) => ErrorKind::Conflict,
                StoreError::Invalid(_) => ErrorKind::InvalidInput,
                StoreError::Unavailable(_) => ErrorKind::Unavailable,
                StoreError::Corrupt(_) => ErrorKind::Store,
            },
            PlatformError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The field errors of an invalid configuration, for machine output.
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        match self {
            PlatformError::InvalidConfig(errors) => Some(errors),
            _ => None,
        }
    }
}

impl From<SandboxError> for PlatformError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::Stopped { .. } => PlatformError::Interrupted(e.to_string()),
            e => PlatformError::Sandbox(e.to_string()),
        }
    }
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;
