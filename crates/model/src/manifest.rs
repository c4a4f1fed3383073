//! What a plugin declares about itself (the WIT `manifest`).

use serde::{Deserialize, Serialize};

use crate::Role;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Boolean,
    Integer,
    Secret,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    Any,
    Alphanumeric,
    Hex,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextConstraints {
    pub min_length: u32,
    pub max_length: u32,
    pub charset: Charset,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigField {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub description: String,
    pub validation_hint: String,
    pub default_value: Option<String>,
    pub constraints: Option<TextConstraints>,
    pub advanced: bool,
}

impl ConfigField {
    /// A required field with no description, hint, default or constraints.
    pub fn new(name: &str, field_type: FieldType) -> Self {
        ConfigField {
            name: name.into(),
            label: name.into(),
            field_type,
            required: true,
            description: String::new(),
            validation_hint: String::new(),
            default_value: None,
            constraints: None,
            advanced: false,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRule {
    pub host_field: String,
    pub purpose: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKind {
    pub name: String,
    pub description: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionParam {
    pub name: String,
    pub description: String,
    pub required: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub params: Vec<ActionParam>,
    pub required_permission: String,
    pub minimum_role: Role,
    pub enabled_by: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    SecretReveal,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub config: Vec<ConfigField>,
    pub egress: Vec<EgressRule>,
    pub record_kinds: Vec<RecordKind>,
    pub actions: Vec<ActionSpec>,
    pub capabilities: Vec<Capability>,
    /// What the plugin's optional `sources` export lists (since 0.1.4);
    /// empty for a plugin without it, which is collected whole.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// One thing a plugin collects on its own, with how often (the WIT's
/// `sources.source`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The name `CollectOptions::sources` takes.
    pub name: String,
    pub description: String,
    pub record_kinds: Vec<String>,
    /// None: the integration's own interval.
    pub default_interval_seconds: Option<u32>,
}

impl Manifest {
    pub fn field(&self, name: &str) -> Option<&ConfigField> {
        self.config.iter().find(|f| f.name == name)
    }

    pub fn action(&self, id: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.id == id)
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }
}
