//! `test` and `collect`: the two plugin runs an operator starts by hand.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use oort_host::model::CollectOptions;
use oort_host::platform::views::{CollectReport, TestReport};
use oort_host::platform::{CollectProgress, NoProgress};

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
    let result = if show_bar {
        let bar = Bar::start();
        let result = ctx.platform.collect(&integration, options, &bar).await;
        bar.bar.finish_and_clear();
        result
    } else {
        ctx.platform
            .collect(&integration, options, &NoProgress)
            .await
    };
    let summary = result.with_context(|| format!("collecting from `{}`", integration.name))?;
    let report = CollectReport::new(&integration.name, summary);
    ctx.out.emit(&report, || human::collected(&report))?;
    Ok(0)
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
