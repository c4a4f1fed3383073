//! Native model -> WIT types.

use super::oort::integration::types as t;
use crate::model;

fn geo<'a>(g: &'a model::GeoLocation) -> t::GeoLocation<'a> {
    t::GeoLocation {
        city: g.city.as_deref(),
        state: g.state.as_deref(),
        country: g.country.as_deref(),
    }
}

/// Calls `f` with the records as the import's borrowed types: every string
/// still points into the page it was parsed from (or into the record), none
/// is copied.
pub fn with_records<R>(
    records: &[model::CollectedRecord],
    f: impl FnOnce(&[t::CollectedRecord]) -> R,
) -> R {
    // A `list<string>` is borrowed as `&[&str]`: those slices live here.
    let lists: Vec<[Vec<&str>; 2]> = records.iter().map(string_lists).collect();
    let wit: Vec<t::CollectedRecord> = records
        .iter()
        .zip(&lists)
        .map(|(r, lists)| record(r, lists))
        .collect();
    f(&wit)
}

fn string_lists<'a>(r: &'a model::CollectedRecord) -> [Vec<&'a str>; 2] {
    fn strs<'a>(list: &'a [model::Text]) -> Vec<&'a str> {
        list.iter().map(|text| &**text).collect()
    }
    match &r.normalized {
        model::Normalized::UserAccount(u) => [strs(&u.groups), strs(&u.device_ids)],
        model::Normalized::MfaDevice(d) => [strs(&d.capabilities), strs(&d.user_ids)],
        model::Normalized::None | model::Normalized::AuthEvent(_) => [Vec::new(), Vec::new()],
    }
}

fn record<'a>(
    r: &'a model::CollectedRecord,
    lists: &'a [Vec<&'a str>; 2],
) -> t::CollectedRecord<'a> {
    let normalized = match &r.normalized {
        model::Normalized::None => t::Normalized::None,
        model::Normalized::AuthEvent(e) => {
            let a = &e.access_device;
            t::Normalized::AuthEvent(t::AuthEvent {
                occurred_at_ms: e.occurred_at_ms,
                event_id: &e.event_id,
                user_id: e.user_id.as_deref(),
                user_name: e.user_name.as_deref(),
                user_email: e.user_email.as_deref(),
                application_id: e.application_id.as_deref(),
                application_name: e.application_name.as_deref(),
                result: &e.result,
                reason: e.reason.as_deref(),
                factor: e.factor.as_deref(),
                event_type: &e.event_type,
                access_device: t::AccessDevice {
                    ip: a.ip.as_deref(),
                    location: geo(&a.location),
                    hostname: a.hostname.as_deref(),
                    os: a.os.as_deref(),
                    os_version: a.os_version.as_deref(),
                    browser: a.browser.as_deref(),
                    browser_version: a.browser_version.as_deref(),
                    endpoint_id: a.endpoint_id.as_deref(),
                    is_encryption_enabled: a.is_encryption_enabled,
                    is_firewall_enabled: a.is_firewall_enabled,
                    is_password_set: a.is_password_set,
                },
                auth_device: e.auth_device.as_ref().map(|d| t::AuthDevice {
                    id: d.id.as_deref(),
                    name: d.name.as_deref(),
                    ip: d.ip.as_deref(),
                    location: geo(&d.location),
                }),
            })
        }
        model::Normalized::UserAccount(u) => t::Normalized::UserAccount(t::UserAccount {
            user_id: &u.user_id,
            user_name: &u.user_name,
            email: u.email.as_deref(),
            real_name: u.real_name.as_deref(),
            status: &u.status,
            is_enrolled: u.is_enrolled,
            last_login_ms: u.last_login_ms,
            created_ms: u.created_ms,
            groups: &lists[0],
            device_ids: &lists[1],
        }),
        model::Normalized::MfaDevice(d) => t::Normalized::MfaDevice(t::MfaDevice {
            device_id: &d.device_id,
            kind: &d.kind,
            platform: d.platform.as_deref(),
            model: d.model.as_deref(),
            os_version: d.os_version.as_deref(),
            activated: d.activated,
            capabilities: &lists[0],
            user_ids: &lists[1],
            last_seen_ms: d.last_seen_ms,
            number_hash: d.number_hash.as_deref(),
        }),
    };
    t::CollectedRecord {
        kind: &r.kind,
        id: &r.id,
        occurred_at_ms: r.occurred_at_ms,
        normalized,
        raw_json: &r.raw_json,
    }
}

pub fn check(c: model::Check) -> t::Check {
    let status = match c.status {
        model::CheckStatus::Ok => t::CheckStatus::Ok,
        model::CheckStatus::Warning => t::CheckStatus::Warning,
        model::CheckStatus::Failed => t::CheckStatus::Failed,
        model::CheckStatus::Skipped => t::CheckStatus::Skipped,
    };
    t::Check {
        name: c.name,
        status,
        detail: c.detail,
        remedy: c.remedy,
    }
}

pub fn summary(s: model::CollectSummary) -> t::CollectSummary {
    t::CollectSummary {
        records: s
            .records
            .into_iter()
            .map(|(kind, count)| t::KindCount { kind, count })
            .collect(),
        pages: s.pages,
        more_remaining: s.more_remaining,
        notes: s.notes,
    }
}

pub fn error(e: model::PluginError) -> t::PluginError {
    match e {
        model::PluginError::Config(m) => t::PluginError::Config(m),
        model::PluginError::Unauthorized(m) => t::PluginError::Unauthorized(m),
        model::PluginError::Forbidden(m) => t::PluginError::Forbidden(m),
        model::PluginError::RateLimited(m) => t::PluginError::RateLimited(m),
        model::PluginError::Upstream(m) => t::PluginError::Upstream(m),
        model::PluginError::Host(m) => t::PluginError::Host(m),
        model::PluginError::NotFound(m) => t::PluginError::NotFound(m),
        model::PluginError::InvalidInput(m) => t::PluginError::InvalidInput(m),
        model::PluginError::Internal(m) => t::PluginError::Internal(m),
    }
}

pub fn outcome(o: model::ActionOutcome) -> t::ActionOutcome {
    let status = match o.status {
        model::ActionStatus::Succeeded => t::ActionStatus::Succeeded,
        model::ActionStatus::Failed => t::ActionStatus::Failed,
        model::ActionStatus::DryRun => t::ActionStatus::DryRun,
    };
    t::ActionOutcome {
        status,
        message: o.message,
        details: o.details,
    }
}

fn role(r: oort_model::Role) -> t::Role {
    match r {
        oort_model::Role::Viewer => t::Role::Viewer,
        oort_model::Role::Helpdesk => t::Role::Helpdesk,
        oort_model::Role::Admin => t::Role::Admin,
    }
}

pub fn source(s: oort_model::Source) -> super::exports::oort::integration::sources::Source {
    super::exports::oort::integration::sources::Source {
        name: s.name,
        description: s.description,
        record_kinds: s.record_kinds,
        default_interval_seconds: s.default_interval_seconds,
    }
}

pub fn manifest(m: oort_model::Manifest) -> t::Manifest {
    use oort_model::{Charset, FieldType};
    let config = m
        .config
        .into_iter()
        .map(|f| t::ConfigField {
            name: f.name,
            label: f.label,
            field_type: match f.field_type {
                FieldType::Text => t::FieldType::Text,
                FieldType::Boolean => t::FieldType::Boolean,
                FieldType::Integer => t::FieldType::Integer,
                FieldType::Secret => t::FieldType::Secret,
            },
            required: f.required,
            description: f.description,
            validation_hint: f.validation_hint,
            default_value: f.default_value,
            constraints: f.constraints.map(|c| t::TextConstraints {
                min_length: c.min_length,
                max_length: c.max_length,
                charset: match c.charset {
                    Charset::Any => t::Charset::Any,
                    Charset::Alphanumeric => t::Charset::Alphanumeric,
                    Charset::Hex => t::Charset::Hex,
                },
            }),
            advanced: f.advanced,
        })
        .collect();
    let actions = m
        .actions
        .into_iter()
        .map(|a| t::ActionSpec {
            id: a.id,
            title: a.title,
            description: a.description,
            params: a
                .params
                .into_iter()
                .map(|p| t::ActionParam {
                    name: p.name,
                    description: p.description,
                    required: p.required,
                })
                .collect(),
            required_permission: a.required_permission,
            minimum_role: role(a.minimum_role),
            enabled_by: a.enabled_by,
        })
        .collect();
    t::Manifest {
        id: m.id,
        name: m.name,
        version: m.version,
        description: m.description,
        config,
        egress: m
            .egress
            .into_iter()
            .map(|e| t::EgressRule {
                host_field: e.host_field,
                purpose: e.purpose,
            })
            .collect(),
        record_kinds: m
            .record_kinds
            .into_iter()
            .map(|k| t::RecordKind {
                name: k.name,
                description: k.description,
            })
            .collect(),
        actions,
        capabilities: m
            .capabilities
            .into_iter()
            .map(|c| match c {
                oort_model::Capability::SecretReveal => t::Capability::SecretReveal,
            })
            .collect(),
    }
}
