//! What the insight catalogue finds and the store keeps. Not part of the
//! plugin contract: shared by the host's crates (insights produces them, the
//! store upserts them, the platform answers with them) so that none of them
//! depends on another for a data type.

use serde::{Deserialize, Serialize};

/// A finding of the insights engine, keyed by (integration, insight id, dedupe key).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Catalogue id, e.g. `DUO-02`.
    pub insight_id: String,
    /// Distinguishes findings of one insight (e.g. the username, or username+window).
    pub dedupe_key: String,
    pub title: String,
    /// critical | high | medium | low | info
    pub severity: String,
    pub subjects: Vec<String>,
    /// Record ids (e.g. txids) that support the finding.
    pub evidence: Vec<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Action id of the plugin, e.g. `disable-user`.
    pub suggested_action: Option<String>,
    pub detail: String,
}

/// A stored finding with its row id (what `act --finding ID` refers to).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub id: i64,
    #[serde(flatten)]
    pub finding: Finding,
    pub updated_at_ms: i64,
}
