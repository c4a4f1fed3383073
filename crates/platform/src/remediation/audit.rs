//! The audit entries of an action attempt, whatever its fate: one for a
//! refusal (nothing reached the plugin), and for an action that runs, one
//! written before it reaches the plugin ("started") and one with its
//! outcome naming that start. A start nothing concludes is an action whose
//! outcome is unknown: the host stopped or lost its caller meanwhile.

use crate::PlatformError;
use crate::model::{ActionOutcome, ActionStatus, Role};
use oort_store::audit::STARTED;
use oort_store::{AuditEntry, Backend, IntegrationId};

/// Longest outcome text kept; plugin messages are untrusted and unbounded.
const MAX_OUTCOME_CHARS: usize = 500;

/// An attempt being decided: [`Attempt::refuse`] or [`Attempt::record`]
/// writes its last entry, after [`Attempt::start`] for one that runs.
pub struct Attempt<'a> {
    store: &'a dyn Backend,
    pub integration_id: IntegrationId,
    pub actor: String,
    pub role: Option<Role>,
    /// The action id as far as it is known (may be empty before a finding
    /// supplied it).
    pub action: String,
    pub target: Option<String>,
    pub reason: Option<String>,
    /// The entry written by [`Attempt::start`].
    started: Option<i64>,
}

impl<'a> Attempt<'a> {
    pub fn new(
        store: &'a dyn Backend,
        integration_id: IntegrationId,
        actor: &str,
        reason: Option<&str>,
    ) -> Attempt<'a> {
        Attempt {
            store,
            integration_id,
            actor: actor.to_owned(),
            role: None,
            action: String::new(),
            target: None,
            reason: reason.map(str::to_owned),
            started: None,
        }
    }

    /// Writes the entry that the action is about to reach the plugin. The
    /// action must not run if this fails: it would leave no trace.
    pub fn start(&mut self, dry_run: bool) -> Result<(), PlatformError> {
        let text = if dry_run {
            format!("{STARTED} (dry run)")
        } else {
            STARTED.to_owned()
        };
        self.started = Some(self.append(&text)?);
        Ok(())
    }

    /// Appends the attempt's last entry (naming its start, if it has one).
    /// Consumes the attempt: nothing is recorded of it after its outcome.
    pub fn record(self, outcome: &str) -> Result<(), PlatformError> {
        self.append(outcome).map(|_| ())
    }

    fn append(&self, outcome: &str) -> Result<i64, PlatformError> {
        let action = self.action.trim();
        let action = if action.is_empty() {
            "act:?".to_owned()
        } else {
            clean(&format!("act:{action}"))
        };
        // Targets can come from a finding, i.e. from plugin data: clean them too.
        let entry = AuditEntry {
            id: None,
            at_ms: self.store.now_ms(),
            integration_id: Some(self.integration_id),
            actor: clean(&self.actor),
            role: self.role,
            action,
            target: self.target.as_deref().map(clean),
            reason: self.reason.as_deref().map(clean),
            outcome: clean(outcome),
            attempt: self.started,
        };
        self.store.append_audit(&entry).map_err(|e| {
            PlatformError::Internal(format!(
                "the audit entry could not be written ({e}); the outcome was: {}",
                entry.outcome
            ))
        })
    }

    /// Audits a refusal (anything stopped before the plugin ran) and returns
    /// the error to hand back. If the audit itself fails, that failure wins:
    /// an unaudited refusal must not look like a normal one.
    pub fn refuse(self, error: PlatformError) -> PlatformError {
        let text = match &error {
            // Its Display already starts with "refused: ".
            PlatformError::Refused(_) => error.to_string(),
            other => format!("refused: {other}"),
        };
        match self.record(&text) {
            Ok(()) => error,
            Err(audit_error) => audit_error,
        }
    }
}

/// The audit text of what the plugin reported.
pub fn outcome_text(outcome: &ActionOutcome, dry_run_requested: bool) -> String {
    match outcome.status {
        ActionStatus::Succeeded if dry_run_requested => {
            format!(
                "succeeded (a dry run was requested but the plugin reported a real change): {}",
                outcome.message
            )
        }
        ActionStatus::Succeeded => format!("succeeded: {}", outcome.message),
        ActionStatus::Failed => format!("failed: {}", outcome.message),
        ActionStatus::DryRun => format!("dry-run: {}", outcome.message),
    }
}

/// Bounded and free of control characters, so a hostile message can neither
/// bloat the trail nor forge extra lines in a printed audit log.
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_OUTCOME_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_OUTCOME_CHARS).is_some() {
        out.push('…');
    }
    out
}
