//! `actions <name>` and `act <name> <action> ...`.

use anyhow::Context as _;
use serde::Serialize;

use oort_host::actions::{self, ActRequest, ActionAvailability};
use oort_host::model::{ActionOutcome, ActionParam, ActionStatus, Role};
use oort_host::store::Integration;

use super::output::{Output, Table};
use super::{ActArgs, Ctx};

#[derive(Serialize)]
struct ActionLine<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    minimum_role: Role,
    required_permission: &'a str,
    enabled_by: Option<&'a str>,
    params: &'a [ActionParam],
    enabled: bool,
    why_not: Option<&'a str>,
}

pub fn list(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let available = actions::available_actions(&ctx.platform, &integration)?;
    print_actions(ctx.out, &available)?;
    Ok(0)
}

pub fn print_actions(out: Output, available: &[ActionAvailability]) -> anyhow::Result<()> {
    let lines: Vec<ActionLine<'_>> = available
        .iter()
        .map(|a| ActionLine {
            id: &a.spec.id,
            title: &a.spec.title,
            description: &a.spec.description,
            minimum_role: a.spec.minimum_role,
            required_permission: &a.spec.required_permission,
            enabled_by: a.spec.enabled_by.as_deref(),
            params: &a.spec.params,
            enabled: a.enabled,
            why_not: a.why_not.as_deref(),
        })
        .collect();
    out.emit(&lines, || {
        if lines.is_empty() {
            println!("This plugin offers no actions.");
            return;
        }
        let mut table = Table::new(["ACTION", "TITLE", "MIN ROLE", "PERMISSION", "ENABLED"]);
        for l in &lines {
            let enabled = match (l.enabled, l.why_not) {
                (true, _) => "yes".to_owned(),
                (false, Some(why)) => format!("no: {why}"),
                (false, None) => "no".to_owned(),
            };
            table.row([
                l.id.to_owned(),
                l.title.to_owned(),
                l.minimum_role.to_string(),
                l.required_permission.to_owned(),
                enabled,
            ]);
        }
        table.print();
    })
}

pub async fn act(ctx: &Ctx, args: ActArgs) -> anyhow::Result<u8> {
    let integration = ctx.integration(&args.name)?;
    let request = ActRequest {
        action: args.action,
        user: args.user,
        params: args.params,
        actor: args.actor,
        reason: args.reason,
        dry_run: args.dry_run,
        finding_id: args.finding,
    };
    let outcome = run_action(ctx, &integration, request).await?;
    Ok(if outcome.status == ActionStatus::Failed {
        1
    } else {
        0
    })
}

#[derive(Serialize)]
struct ActReport<'a> {
    integration: &'a str,
    action: &'a str,
    #[serde(flatten)]
    outcome: &'a ActionOutcome,
}

/// Runs the action through the authorizing, auditing `actions` module and
/// prints the outcome.
pub async fn run_action(
    ctx: &Ctx,
    integration: &Integration,
    request: ActRequest,
) -> anyhow::Result<ActionOutcome> {
    let action = request.action.clone();
    let actor = request.actor.clone();
    let outcome = finish_despite_ctrl_c(actions::act(&ctx.platform, integration, request))
        .await?
        .with_context(|| {
            format!(
                "running action `{action}` on `{}` as `{actor}`",
                integration.name
            )
        })?;
    print_outcome(ctx.out, &integration.name, &action, &outcome)?;
    Ok(outcome)
}

/// Runs an action to its end through a first Ctrl-C: stopping the process
/// mid-call would leave a change made upstream (a user disabled) with no
/// audit entry. A second Ctrl-C abandons it, saying what that risks.
/// If Ctrl-C cannot be watched, the action simply runs to its end.
async fn finish_despite_ctrl_c<T>(action: impl Future<Output = T>) -> anyhow::Result<T> {
    // Watch before the action's first poll: that poll may already send the
    // request upstream, and a Ctrl-C before the watch exists kills the
    // process with the default disposition.
    let Some(mut ctrl_c) = CtrlC::watch() else {
        return Ok(action.await);
    };
    let mut action = std::pin::pin!(action);
    tokio::select! {
        done = &mut action => return Ok(done),
        () = ctrl_c.pressed() => {}
    }
    eprintln!(
        "An action is in flight: waiting for its outcome so the audit trail records it. \
         Press Ctrl-C again to abandon it (it may still take effect, unaudited)."
    );
    tokio::select! {
        done = &mut action => Ok(done),
        () = ctrl_c.pressed() => anyhow::bail!(
            "abandoned while in flight: the action may have taken effect without an audit entry; check the integration upstream"
        ),
    }
}

/// One Ctrl-C watch, registered when created, that sees every press after.
struct CtrlC {
    #[cfg(unix)]
    interrupts: tokio::signal::unix::Signal,
}

impl CtrlC {
    /// `None` when the signal cannot be watched (no handler could be set).
    fn watch() -> Option<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let interrupts = signal(SignalKind::interrupt()).ok()?;
            Some(Self { interrupts })
        }
        #[cfg(not(unix))]
        {
            Some(Self {})
        }
    }

    /// Resolves at the next press; never, if the watch has ended.
    async fn pressed(&mut self) {
        #[cfg(unix)]
        if self.interrupts.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

pub fn print_outcome(
    out: Output,
    integration: &str,
    action: &str,
    outcome: &ActionOutcome,
) -> anyhow::Result<()> {
    // `details` as an object: keys are the plugin's detail names.
    let mut doc = serde_json::to_value(ActReport {
        integration,
        action,
        outcome,
    })?;
    doc["details"] = outcome
        .details
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    out.emit(&doc, || {
        let status = match outcome.status {
            ActionStatus::Succeeded => "succeeded",
            ActionStatus::Failed => "FAILED",
            ActionStatus::DryRun => "dry run (nothing changed)",
        };
        println!("{action}: {status}: {}", outcome.message);
        for (k, v) in &outcome.details {
            println!("  {k}: {v}");
        }
    })
}
