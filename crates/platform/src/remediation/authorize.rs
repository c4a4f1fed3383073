//! Who may run which action: pure functions over the operator, the action
//! spec and the integration's config, so every boundary is testable without
//! a plugin.

use crate::model::{ActionSpec, Manifest, Role};
use oort_store::Operator;

/// The message for an actor that is not a registered operator.
pub fn unknown_operator(actor: &str) -> String {
    format!(
        "unknown operator `{actor}`: add one with `oort-host operators add {actor} --role helpdesk`"
    )
}

/// Why `spec` is switched off for this integration, if it is: its
/// `enabled_by` setting is not `true` (the manifest default applies when the
/// integration does not set it).
pub fn disabled_reason(
    spec: &ActionSpec,
    manifest: &Manifest,
    config: &[(String, String)],
) -> Option<String> {
    let setting = spec.enabled_by.as_deref()?;
    let value = config
        .iter()
        .find(|(name, _)| name == setting)
        .map(|(_, value)| value.as_str())
        .or_else(|| {
            manifest
                .field(setting)
                .and_then(|f| f.default_value.as_deref())
        });
    if value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        None
    } else {
        Some(format!(
            "action `{}` is disabled for this integration: it needs the setting `{setting}` to be `true`",
            spec.id
        ))
    }
}

/// Whether `operator` may run `spec` here. Viewers run nothing; other roles
/// need at least the spec's `minimum_role`.
pub fn authorize(
    actor: &str,
    operator: Option<&Operator>,
    spec: &ActionSpec,
    manifest: &Manifest,
    config: &[(String, String)],
) -> Result<(), String> {
    let Some(operator) = operator else {
        return Err(unknown_operator(actor));
    };
    if let Some(reason) = disabled_reason(spec, manifest, config) {
        return Err(reason);
    }
    if operator.role == Role::Viewer {
        return Err(format!(
            "viewer may not run actions ({} is a viewer)",
            operator.name
        ));
    }
    if operator.role < spec.minimum_role {
        return Err(format!(
            "{} may not run {} (needs {})",
            operator.role, spec.id, spec.minimum_role
        ));
    }
    Ok(())
}

/// The parameters sent to the plugin: the target user as `username`, then
/// the operator's own. Unknown names are refused (a typo must not silently
/// drop a parameter) and required ones must be present.
pub fn action_params(
    spec: &ActionSpec,
    user: Option<&str>,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, String> {
    let mut params: Vec<(String, String)> = Vec::with_capacity(given.len() + 1);
    if let Some(user) = user {
        params.push(("username".into(), user.into()));
    }
    for (name, value) in given {
        if name == "username" && user.is_some() {
            return Err(
                "the user is given twice: use either --user or the `username` parameter".into(),
            );
        }
        if name != "username" && !spec.params.iter().any(|p| &p.name == name) {
            return Err(format!(
                "action `{}` has no parameter `{name}`; its parameters: {}",
                spec.id,
                param_list(spec)
            ));
        }
        if params.iter().any(|(n, _)| n == name) {
            return Err(format!("parameter `{name}` is given more than once"));
        }
        params.push((name.clone(), value.clone()));
    }
    for p in spec.params.iter().filter(|p| p.required) {
        if !params.iter().any(|(n, v)| n == &p.name && !v.is_empty()) {
            return Err(if p.name == "username" {
                format!(
                    "action `{}` needs a user: pass --user NAME (or --finding ID)",
                    spec.id
                )
            } else {
                format!(
                    "action `{}` needs the parameter `{}` ({})",
                    spec.id, p.name, p.description
                )
            });
        }
    }
    Ok(params)
}

fn param_list(spec: &ActionSpec) -> String {
    if spec.params.is_empty() {
        "none".into()
    } else {
        spec.params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
