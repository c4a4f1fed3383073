//! What plugin calls return: field errors, connectivity checks, collect
//! summaries, typed failures, action requests and outcomes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warning,
    Failed,
    Skipped,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub remedy: Option<String>,
}

impl Check {
    pub fn new(name: &str, status: CheckStatus, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            status,
            detail: detail.into(),
            remedy: None,
        }
    }

    /// The same check with what the user should do about it.
    pub fn remedy(mut self, remedy: impl Into<String>) -> Check {
        self.remedy = Some(remedy.into());
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectOptions {
    pub sources: Vec<String>,
    pub max_pages: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectSummary {
    /// Records committed per kind, in the order the plugin reported them.
    pub records: Vec<(String, u64)>,
    pub pages: u32,
    pub more_remaining: bool,
    pub notes: Vec<String>,
}

impl CollectSummary {
    /// Counts `count` more records of `kind`, keeping first-reported order.
    pub fn add_records(&mut self, kind: &str, count: u64) {
        match self.records.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += count,
            None => self.records.push((kind.to_string(), count)),
        }
    }

    pub fn count(&self, kind: &str) -> u64 {
        self.records
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

/// A typed failure reported by a plugin (not a trap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum PluginError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("missing permission: {0}")]
    Forbidden(String),
    #[error("rate limited: {0}")]
    RateLimited(String),
    #[error("upstream error: {0}")]
    Upstream(String),
    #[error("host refused: {0}")]
    Host(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("plugin error: {0}")]
    Internal(String),
}

impl PluginError {
    /// The plugin's message without the kind prefix `Display` adds.
    pub fn message(&self) -> &str {
        match self {
            PluginError::Config(m)
            | PluginError::Unauthorized(m)
            | PluginError::Forbidden(m)
            | PluginError::RateLimited(m)
            | PluginError::Upstream(m)
            | PluginError::Host(m)
            | PluginError::NotFound(m)
            | PluginError::InvalidInput(m)
            | PluginError::Internal(m) => m,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub dry_run: bool,
    pub requested_by: String,
    pub reason: Option<String>,
}

impl ActionRequest {
    /// A parameter's value, trimmed; `None` when absent or blank.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Succeeded,
    Failed,
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub status: ActionStatus,
    pub message: String,
    pub details: Vec<(String, String)>,
}
