//! `actions <name>` and `act <name> <action> ...`.

use anyhow::Context as _;

use oort_platform::ActRequest;
use oort_platform::model::ActionStatus;

use super::{ActArgs, Ctx};
use crate::human;
use crate::interrupt::finish_despite_ctrl_c;

pub fn list(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let actions = ctx.platform.actions(&integration)?;
    ctx.out.emit(&actions, || human::actions(&actions))?;
    Ok(0)
}

/// Runs the action through the platform's authorizing, auditing `act` and
/// prints the outcome; exit code 1 if the plugin reports it failed.
pub async fn act(ctx: &Ctx, args: ActArgs) -> anyhow::Result<u8> {
    let integration = ctx.integration(&args.name)?;
    let (action, actor) = (args.action.clone(), args.actor.clone());
    let request = ActRequest {
        action: args.action,
        user: args.user,
        params: args.params,
        actor: args.actor,
        reason: args.reason,
        dry_run: args.dry_run,
        finding_id: args.finding,
    };
    let report = finish_despite_ctrl_c(ctx.platform.act(&integration, request))
        .await?
        .with_context(|| {
            format!(
                "running action `{action}` on `{}` as `{actor}`",
                integration.name
            )
        })?;
    ctx.out.emit(&report, || human::act_outcome(&report))?;
    Ok(if report.status == ActionStatus::Failed {
        1
    } else {
        0
    })
}
