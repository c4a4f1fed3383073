//! `insights <name>`: evaluates the catalogue, stores findings, shows them
//! with the MFA posture.

use anyhow::Context as _;

use super::Ctx;
use crate::human;

pub async fn insights(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let report = ctx
        .platform
        .refresh_insights(&super::from_cli("insights"), &integration)
        .await
        .with_context(|| format!("evaluating insights for `{}`", integration.name))?;
    ctx.out.emit(&report, || human::insights(&report))?;
    Ok(0)
}
