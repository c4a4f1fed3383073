//! `test` and `collect`: the two plugin runs an operator starts by hand.

use std::io::IsTerminal;

use anyhow::Context as _;

use oort_platform::model::CollectOptions;
use oort_platform::views::{CollectReport, TestReport};

use super::Ctx;
use crate::human;

/// Runs Test Connectivity and prints each check; exit code 1 if one failed.
pub async fn test(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let checks = ctx
        .platform
        .test_connectivity(&integration)
        .await
        .with_context(|| format!("testing connectivity of `{}`", integration.name))?;
    let report = TestReport::new(&integration.name, checks);
    ctx.out.emit(&report, || human::checks(&report))?;
    Ok(if report.ok { 0 } else { 1 })
}

/// Runs Collect Now with a progress display (on a terminal) and prints the
/// summary.
pub async fn collect(
    ctx: &Ctx,
    name: &str,
    max_pages: Option<u32>,
    sources: Vec<String>,
) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let options = CollectOptions { sources, max_pages };
    let show_bar = !ctx.out.json && std::io::stderr().is_terminal();
    let result = human::collect_with_progress(&ctx.platform, &integration, options, show_bar).await;
    let summary = result.with_context(|| format!("collecting from `{}`", integration.name))?;
    let report = CollectReport::new(&integration.name, summary);
    ctx.out.emit(&report, || human::collected(&report))?;
    Ok(0)
}
