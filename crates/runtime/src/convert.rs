//! Conversions between the generated WIT types and `oort_model`, so only
//! the runtime depends on a particular WIT version.

use crate::bindings::sources_exports;
use crate::bindings::types as w;
use oort_model as m;

pub fn manifest(x: w::Manifest) -> m::Manifest {
    m::Manifest {
        id: x.id,
        name: x.name,
        version: x.version,
        description: x.description,
        config: x.config.into_iter().map(config_field).collect(),
        egress: x
            .egress
            .into_iter()
            .map(|e| m::EgressRule {
                host_field: e.host_field,
                purpose: e.purpose,
            })
            .collect(),
        record_kinds: x
            .record_kinds
            .into_iter()
            .map(|k| m::RecordKind {
                name: k.name,
                description: k.description,
            })
            .collect(),
        actions: x.actions.into_iter().map(action_spec).collect(),
        capabilities: x
            .capabilities
            .into_iter()
            .map(|c| match c {
                w::Capability::SecretReveal => m::Capability::SecretReveal,
            })
            .collect(),
        // Filled from the `sources` export, where the plugin has one.
        sources: Vec::new(),
    }
}

pub fn source(x: sources_exports::Source) -> m::Source {
    m::Source {
        name: x.name,
        description: x.description,
        record_kinds: x.record_kinds,
        default_interval_seconds: x.default_interval_seconds,
    }
}

fn config_field(f: w::ConfigField) -> m::ConfigField {
    m::ConfigField {
        name: f.name,
        label: f.label,
        field_type: match f.field_type {
            w::FieldType::Text => m::FieldType::Text,
            w::FieldType::Boolean => m::FieldType::Boolean,
            w::FieldType::Integer => m::FieldType::Integer,
            w::FieldType::Secret => m::FieldType::Secret,
        },
        required: f.required,
        description: f.description,
        validation_hint: f.validation_hint,
        default_value: f.default_value,
        constraints: f.constraints.map(|c| m::TextConstraints {
            min_length: c.min_length,
            max_length: c.max_length,
            charset: match c.charset {
                w::Charset::Any => m::Charset::Any,
                w::Charset::Alphanumeric => m::Charset::Alphanumeric,
                w::Charset::Hex => m::Charset::Hex,
            },
        }),
        advanced: f.advanced,
    }
}

fn role(r: w::Role) -> m::Role {
    match r {
        w::Role::Viewer => m::Role::Viewer,
        w::Role::Helpdesk => m::Role::Helpdesk,
        w::Role::Admin => m::Role::Admin,
    }
}

fn action_spec(a: w::ActionSpec) -> m::ActionSpec {
    m::ActionSpec {
        id: a.id,
        title: a.title,
        description: a.description,
        params: a
            .params
            .into_iter()
            .map(|p| m::ActionParam {
                name: p.name,
                description: p.description,
                required: p.required,
            })
            .collect(),
        required_permission: a.required_permission,
        minimum_role: role(a.minimum_role),
        enabled_by: a.enabled_by,
    }
}

pub fn config_entries(config: &[(String, String)]) -> Vec<w::ConfigEntry> {
    config
        .iter()
        .map(|(name, value)| w::ConfigEntry {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

pub fn field_error(e: w::FieldError) -> m::FieldError {
    m::FieldError {
        field: e.field,
        message: e.message,
    }
}

pub fn check(c: w::Check) -> m::Check {
    m::Check {
        name: c.name,
        status: match c.status {
            w::CheckStatus::Ok => m::CheckStatus::Ok,
            w::CheckStatus::Warning => m::CheckStatus::Warning,
            w::CheckStatus::Failed => m::CheckStatus::Failed,
            w::CheckStatus::Skipped => m::CheckStatus::Skipped,
        },
        detail: c.detail,
        remedy: c.remedy,
    }
}

pub fn collect_options(o: &m::CollectOptions) -> w::CollectOptions {
    w::CollectOptions {
        sources: o.sources.clone(),
        max_pages: o.max_pages,
    }
}

pub fn collect_summary(s: w::CollectSummary) -> m::CollectSummary {
    m::CollectSummary {
        records: s.records.into_iter().map(|k| (k.kind, k.count)).collect(),
        pages: s.pages,
        more_remaining: s.more_remaining,
        notes: s.notes,
    }
}

pub fn plugin_error(e: w::PluginError) -> m::PluginError {
    match e {
        w::PluginError::Config(s) => m::PluginError::Config(s),
        w::PluginError::Unauthorized(s) => m::PluginError::Unauthorized(s),
        w::PluginError::Forbidden(s) => m::PluginError::Forbidden(s),
        w::PluginError::RateLimited(s) => m::PluginError::RateLimited(s),
        w::PluginError::Upstream(s) => m::PluginError::Upstream(s),
        w::PluginError::Host(s) => m::PluginError::Host(s),
        w::PluginError::NotFound(s) => m::PluginError::NotFound(s),
        w::PluginError::InvalidInput(s) => m::PluginError::InvalidInput(s),
        w::PluginError::Internal(s) => m::PluginError::Internal(s),
    }
}

pub fn action_request(r: &m::ActionRequest) -> w::ActionRequest {
    w::ActionRequest {
        action: r.action.clone(),
        params: config_entries(&r.params),
        dry_run: r.dry_run,
        requested_by: r.requested_by.clone(),
        reason: r.reason.clone(),
    }
}

pub fn action_outcome(o: w::ActionOutcome) -> m::ActionOutcome {
    m::ActionOutcome {
        status: match o.status {
            w::ActionStatus::Succeeded => m::ActionStatus::Succeeded,
            w::ActionStatus::Failed => m::ActionStatus::Failed,
            w::ActionStatus::DryRun => m::ActionStatus::DryRun,
        },
        message: o.message,
        details: o.details,
    }
}
