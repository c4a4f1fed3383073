//! `insights <name>`: evaluates the catalogue, stores findings, shows them
//! with the MFA posture.

use anyhow::Context as _;

use oort_host::insights::{self, Report, Thresholds};
use oort_host::store::Integration;

use super::Ctx;
use super::output::{Output, now_ms};

pub fn insights(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let report = refresh(ctx, &integration)?;
    print_report(ctx.out, &report)?;
    Ok(0)
}

pub fn refresh(ctx: &Ctx, integration: &Integration) -> anyhow::Result<Report> {
    insights::refresh(
        ctx.platform.store(),
        integration.id,
        now_ms(),
        &Thresholds::default(),
    )
    .with_context(|| format!("evaluating insights for `{}`", integration.name))
}

pub fn print_report(out: Output, report: &Report) -> anyhow::Result<()> {
    out.emit(report, || print!("{}", insights::render_text(report)))
}
