//! `test` and `collect`: the two plugin runs an operator starts by hand.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use oort_host::model::{Check, CheckStatus, CollectOptions, CollectSummary};
use oort_host::platform::{CollectProgress, NoProgress};
use oort_host::store::Integration;

use super::Ctx;
use super::integrations::KindCount;
use super::output::{Output, Table};

pub async fn test(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let checks = test_integration(ctx, &integration).await?;
    Ok(if any_failed(&checks) { 1 } else { 0 })
}

/// Runs Test Connectivity and prints each check.
pub async fn test_integration(ctx: &Ctx, integration: &Integration) -> anyhow::Result<Vec<Check>> {
    let checks = ctx
        .platform
        .test_connectivity(integration)
        .await
        .with_context(|| format!("testing connectivity of `{}`", integration.name))?;
    print_checks(ctx.out, &integration.name, &checks)?;
    Ok(checks)
}

pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == CheckStatus::Failed)
}

#[derive(Serialize)]
struct TestReport<'a> {
    integration: &'a str,
    ok: bool,
    checks: &'a [Check],
}

pub fn print_checks(out: Output, integration: &str, checks: &[Check]) -> anyhow::Result<()> {
    let report = TestReport {
        integration,
        ok: !any_failed(checks),
        checks,
    };
    out.emit(&report, || {
        for check in checks {
            let label = match check.status {
                CheckStatus::Ok => "ok  ",
                CheckStatus::Warning => "WARN",
                CheckStatus::Failed => "FAIL",
                CheckStatus::Skipped => "skip",
            };
            println!("[{label}] {}: {}", check.name, check.detail);
            if let Some(remedy) = &check.remedy {
                println!("       remedy: {remedy}");
            }
        }
        let failed = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
            .count();
        let warned = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Warning)
            .count();
        match (failed, warned) {
            (0, 0) => println!("All {} checks passed.", checks.len()),
            (0, w) => println!("Passed with {w} warning(s)."),
            (f, _) => println!("{f} check(s) failed."),
        }
    })
}

pub async fn collect(
    ctx: &Ctx,
    name: &str,
    max_pages: Option<u32>,
    sources: Vec<String>,
) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    collect_integration(ctx, &integration, CollectOptions { sources, max_pages }).await?;
    Ok(0)
}

/// Runs Collect Now with a progress display (on a terminal) and prints the summary.
pub async fn collect_integration(
    ctx: &Ctx,
    integration: &Integration,
    options: CollectOptions,
) -> anyhow::Result<CollectSummary> {
    let show_bar = !ctx.out.json && std::io::stderr().is_terminal();
    let result = if show_bar {
        let bar = Bar::start();
        let result = ctx.platform.collect(integration, options, &bar).await;
        bar.bar.finish_and_clear();
        result
    } else {
        ctx.platform
            .collect(integration, options, &NoProgress)
            .await
    };
    let summary = result.with_context(|| format!("collecting from `{}`", integration.name))?;
    print_summary(ctx.out, &integration.name, &summary)?;
    Ok(summary)
}

#[derive(Serialize)]
struct CollectReport<'a> {
    integration: &'a str,
    records: Vec<KindCount>,
    pages: u32,
    more_remaining: bool,
    notes: &'a [String],
}

pub fn print_summary(out: Output, integration: &str, s: &CollectSummary) -> anyhow::Result<()> {
    let report = CollectReport {
        integration,
        records: s
            .records
            .iter()
            .map(|(kind, count)| KindCount {
                kind: kind.clone(),
                count: *count,
            })
            .collect(),
        pages: s.pages,
        more_remaining: s.more_remaining,
        notes: &s.notes,
    };
    out.emit(&report, || {
        let total: u64 = s.records.iter().map(|(_, n)| n).sum();
        println!("Collected {total} record(s) in {} page(s) from `{integration}`.", s.pages);
        if !s.records.is_empty() {
            let mut table = Table::new(["KIND", "RECORDS"]);
            for (kind, n) in &s.records {
                table.row([kind.clone(), n.to_string()]);
            }
            table.print();
        }
        if s.more_remaining {
            println!("More records remain: run `oort-host collect {integration}` again to continue from the checkpoint.");
        }
        for note in &s.notes {
            println!("note: {note}");
        }
    })
}

/// A spinner on stderr fed by committed pages.
struct Bar {
    bar: ProgressBar,
    per_source: Mutex<BTreeMap<String, u64>>,
}

impl Bar {
    fn start() -> Bar {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} collecting: {msg}") {
            bar.set_style(style);
        }
        bar.set_message("starting…");
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar {
            bar,
            per_source: Mutex::new(BTreeMap::new()),
        }
    }
}

impl CollectProgress for Bar {
    fn committed(&self, source: &str, records: u64) {
        let Ok(mut counts) = self.per_source.lock() else {
            return;
        };
        *counts.entry(source.to_owned()).or_default() += records;
        let total: u64 = counts.values().sum();
        let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
        self.bar
            .set_message(format!("{total} records ({})", parts.join(", ")));
    }
}
