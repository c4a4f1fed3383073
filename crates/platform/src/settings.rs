//! Changing an integration after it was added: its config, its secrets (a
//! rotated key) and whether it is enabled. A change is validated like a new
//! integration (host-side checks, then the plugin's `validate-config` on the
//! whole result) before anything is stored, and is audited.

use oort_model::SecretValue;
use oort_store::{Backend, Integration, IntegrationChange, NewIntegration};

use super::{Platform, PlatformError, Requester, Result};
use crate::model::{FieldError, Manifest};
use oort_runtime::config_check::placed_field;

/// What an update changes; fields it does not name keep their values.
#[derive(Debug, Default)]
pub struct IntegrationUpdate {
    /// Config fields set (`Some`), or unset (`None`: the plugin's default
    /// applies again).
    pub config: Vec<(String, Option<String>)>,
    /// Secrets set or replaced (`Some`), or cleared (`None`).
    pub secrets: Vec<(String, Option<SecretValue>)>,
}

impl IntegrationUpdate {
    fn is_empty(&self) -> bool {
        self.config.is_empty() && self.secrets.is_empty()
    }

    /// What the update says about its fields, in a few words for the audit
    /// trail (names only: never a secret's value, nor a config value).
    fn describe(&self) -> String {
        fn names<T>(wanted: bool, of: &[(String, Option<T>)]) -> Vec<String> {
            of.iter()
                .filter(|(_, value)| value.is_some() == wanted)
                .map(|(field, _)| field.clone())
                .collect()
        }
        let mut parts = Vec::new();
        for (what, fields) in [
            ("config set", names(true, &self.config)),
            ("config unset", names(false, &self.config)),
            ("secrets replaced", names(true, &self.secrets)),
            ("secrets cleared", names(false, &self.secrets)),
        ] {
            if !fields.is_empty() {
                parts.push(format!("{what}: {}", fields.join(", ")));
            }
        }
        parts.join("; ")
    }
}

impl Platform {
    /// Applies `update` to the integration once the whole resulting config
    /// passes the same checks as a new integration's (field errors are
    /// `InvalidConfig`, and nothing is stored); returns it as it is now.
    /// The next run (scheduled, Collect Now, an action) uses the new
    /// settings; one running now finishes with the old ones.
    pub async fn update_integration(
        &self,
        by: &Requester,
        integration: &Integration,
        update: IntegrationUpdate,
    ) -> Result<Integration> {
        if update.is_empty() {
            return Err(PlatformError::InvalidInput(
                "nothing to change: name config fields to set or unset, or secrets to replace or clear".into(),
            ));
        }
        let manifest = self.plugin(&integration.plugin_id)?.manifest;
        let errors = misplaced_fields(&manifest, &update);
        if !errors.is_empty() {
            return Err(PlatformError::InvalidConfig(errors));
        }

        let mut config = integration.config.clone();
        for (field, value) in &update.config {
            config.retain(|(name, _)| name != field);
            if let Some(value) = value {
                config.push((field.clone(), value.clone()));
            }
        }
        let mut secrets = Vec::new();
        for field in &integration.secret_fields {
            if let Some(value) = self.store.secret(integration.id, field)? {
                secrets.push((field.clone(), value));
            }
        }
        let mut change = IntegrationChange {
            config: config.clone(),
            ..IntegrationChange::default()
        };
        for (field, value) in update.secrets.iter() {
            secrets.retain(|(name, _)| name != field);
            match value {
                Some(value) => {
                    secrets.push((field.clone(), value.clone()));
                    change.set_secrets.push((field.clone(), value.clone()));
                }
                None => change.cleared_secrets.push(field.clone()),
            }
        }

        self.validate_candidate(&NewIntegration {
            tenant: integration.tenant.clone(),
            name: integration.name.clone(),
            plugin_id: integration.plugin_id.clone(),
            config,
            secrets,
            api_base_url: integration.api_base_url.clone(),
            granted_capabilities: integration.granted_capabilities.clone(),
        })
        .await?;
        let updated = self.store.update_integration(integration.id, &change)?;
        self.audit_change(
            by,
            Some(&updated),
            "integration.update",
            &updated.name,
            format!("succeeded: {}", update.describe()),
        )?;
        Ok(updated)
    }

    /// Enables or disables the integration. A disabled one keeps everything
    /// collected for it and stays readable, but is not scheduled, and
    /// Test Connectivity, Collect Now and actions are refused (`Conflict`);
    /// a collection already running finishes. Enabled again, it is due at
    /// once and resumes from its checkpoints.
    pub fn set_enabled(
        &self,
        by: &Requester,
        integration: &Integration,
        enabled: bool,
    ) -> Result<Integration> {
        let changed = self.store.set_enabled(integration.id, enabled)?;
        let (action, outcome) = if enabled {
            ("integration.enable", "succeeded: enabled, due now")
        } else {
            ("integration.disable", "succeeded: disabled")
        };
        self.audit_change(by, Some(&changed), action, &changed.name, outcome.into())?;
        Ok(changed)
    }
}

/// `Conflict` unless the integration is enabled now (read from the store:
/// the caller's copy may be older than a disable).
pub(crate) fn ensure_enabled(store: &dyn Backend, integration: &Integration) -> Result<()> {
    let current = store.integration_by_id(integration.id)?.ok_or_else(|| {
        PlatformError::NotFound(format!("integration `{}` was removed", integration.name))
    })?;
    if current.enabled {
        Ok(())
    } else {
        Err(PlatformError::Conflict(format!(
            "integration `{}` is disabled: nothing reaches its API until it is enabled again (`oort-host integrations enable {}`, or POST .../enable)",
            current.name, current.name
        )))
    }
}

/// Field errors for names the update puts in the wrong place: a config
/// change to a secret field (it would be stored in clear), a secret change
/// to a plain field, a field the plugin does not have, a name given twice,
/// an empty secret. Values are checked later, on the whole result.
fn misplaced_fields(manifest: &Manifest, update: &IntegrationUpdate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value) in &update.secrets {
        if value.as_ref().is_some_and(|v| v.expose().is_empty()) {
            errors.push(FieldError::new(
                field,
                "is empty: give the new value, or clear the secret",
            ));
        }
    }
    let named = update
        .config
        .iter()
        .map(|(field, _)| (field, false))
        .chain(update.secrets.iter().map(|(field, _)| (field, true)));
    let mut seen = std::collections::HashSet::new();
    for (field, as_secret) in named {
        if !seen.insert(field.as_str()) {
            errors.push(FieldError::new(field, "given more than once"));
        } else if let Err(e) = placed_field(manifest, field, as_secret) {
            errors.push(e);
        }
    }
    errors
}
