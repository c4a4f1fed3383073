//! How results read for people: plain tables and text for the views of
//! `oort_platform::views` and the collect progress spinner, shared by
//! the CLI (without `--json`) and the demo.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use oort_platform::data::{ApiToken, InstalledPlugin, Integration, Operator};
use oort_platform::insights::{self, Report};
use oort_platform::model::{ActionStatus, CheckStatus, CollectOptions, CollectSummary};
use oort_platform::views::{
    ActReport, ActionView, AuditLine, CollectReport, IntegrationDetail, SourceScheduleView,
    TestReport,
};
use oort_platform::{CollectProgress, NoProgress, Platform, PlatformError};
use oort_time::rfc3339_from_ms;

/// A plain text table: columns padded to the widest cell, two spaces apart.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(headers: I) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                text.push_str(cell);
                if i + 1 < columns {
                    text.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.headers);
        for row in &self.rows {
            line(row);
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// `-` for a missing value.
pub fn opt(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

/// The serde name of a unit enum value (`succeeded`, `collect`).
fn json_word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}

pub fn plugins(plugins: &[InstalledPlugin]) {
    if plugins.is_empty() {
        println!("No plugins installed. Install one with `oort-host plugins install FILE.wasm`.");
        return;
    }
    let mut table = Table::new([
        "ID",
        "NAME",
        "VERSION",
        "WIT",
        "ACTIONS",
        "SHA256",
        "INSTALLED",
    ]);
    for p in plugins {
        table.row([
            p.id.clone(),
            p.manifest.name.clone(),
            p.manifest.version.clone(),
            p.wit_version.clone(),
            p.manifest.actions.len().to_string(),
            p.wasm_sha256.chars().take(12).collect(),
            rfc3339_from_ms(p.installed_at_ms),
        ]);
    }
    table.print();
}

fn list_or_dash(items: Vec<&str>) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

pub fn installed_plugin(p: &InstalledPlugin) {
    println!(
        "Installed plugin `{}` ({} {}, WIT {})",
        p.id, p.manifest.name, p.manifest.version, p.wit_version
    );
    println!("  sha256: {}", p.wasm_sha256);
    let kinds = p.manifest.record_kinds.iter().map(|k| k.name.as_str());
    println!("  record kinds: {}", list_or_dash(kinds.collect()));
    let actions = p.manifest.actions.iter().map(|a| a.id.as_str());
    println!("  actions: {}", list_or_dash(actions.collect()));
    for rule in &p.manifest.egress {
        println!(
            "  egress: host from `{}` ({})",
            rule.host_field, rule.purpose
        );
    }
}

pub fn integrations(tenant: &str, integrations: &[Integration]) {
    if integrations.is_empty() {
        println!(
            "No integrations in tenant `{tenant}`. Add one with `oort-host integrations add duo NAME ...`."
        );
        return;
    }
    let mut table = Table::new(["NAME", "PLUGIN", "STATE", "CREATED", "API BASE URL"]);
    for i in integrations {
        table.row([
            i.name.clone(),
            i.plugin_id.clone(),
            state(i).to_owned(),
            rfc3339_from_ms(i.created_at_ms),
            opt(i.api_base_url.as_deref()),
        ]);
    }
    table.print();
}

fn state(i: &Integration) -> &'static str {
    if i.enabled { "enabled" } else { "disabled" }
}

/// The integration's settings; secrets only as `set`.
pub fn integration(i: &Integration) {
    println!(
        "Integration `{}` (plugin {}, tenant {}, id {}, {})",
        i.name,
        i.plugin_id,
        i.tenant,
        i.id,
        state(i)
    );
    let mut table = Table::new(["  FIELD", "VALUE"]);
    for (field, value) in &i.config {
        table.row([format!("  {field}"), value.clone()]);
    }
    for field in &i.secret_fields {
        table.row([format!("  {field}"), "set".to_owned()]);
    }
    if let Some(url) = &i.api_base_url {
        table.row(["  (api base url)".to_owned(), url.clone()]);
    }
    if !i.granted_capabilities.is_empty() {
        table.row(["  (granted)".to_owned(), i.granted_capabilities.join(", ")]);
    }
    table.print();
}

pub fn integration_detail(detail: &IntegrationDetail) {
    let i = &detail.integration;
    integration(i);
    if detail.records.is_empty() {
        println!("  records: none yet (run `oort-host collect {}`)", i.name);
    } else {
        let counts: Vec<String> = detail
            .records
            .iter()
            .map(|k| format!("{} {}", k.count, k.kind))
            .collect();
        println!("  records: {}", counts.join(", "));
    }
    let schedule = &detail.schedule;
    match &schedule.collecting_by {
        Some(owner) => println!("  collection: running now ({owner})"),
        None => println!(
            "  next collection: {} (every {})",
            schedule.next_due,
            interval(schedule.interval_ms)
        ),
    }
    if let Some(error) = &schedule.last_error {
        println!(
            "  scheduled runs failing ({} in a row): {error}",
            schedule.failures
        );
    }
    source_schedules(&schedule.sources);
    if !detail.runs.is_empty() {
        println!();
        let mut table = Table::new(["RUN", "KIND", "STATUS", "STARTED", "ERROR"]);
        for r in &detail.runs {
            table.row([
                r.id.to_string(),
                json_word(&r.kind),
                json_word(&r.status),
                rfc3339_from_ms(r.started_at_ms),
                opt(r.error.as_deref()),
            ]);
        }
        table.print();
    }
}

/// Each source's own schedule, for a plugin that lists its sources.
pub fn source_schedules(sources: &[SourceScheduleView]) {
    if sources.is_empty() {
        return;
    }
    println!();
    let mut table = Table::new(["SOURCE", "EVERY", "LAST COLLECTED", "DUE"]);
    for s in sources {
        let every = match s.interval_of.as_str() {
            "plugin" => format!("{} (plugin)", interval(s.interval_ms)),
            _ => interval(s.interval_ms),
        };
        table.row([
            s.source.clone(),
            every,
            opt(s.last_collected.as_deref()),
            s.due.clone(),
        ]);
    }
    table.print();
}

pub fn checks(report: &TestReport) {
    for check in &report.checks {
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
    match (
        report.count(CheckStatus::Failed),
        report.count(CheckStatus::Warning),
    ) {
        (0, 0) => println!("All {} checks passed.", report.checks.len()),
        (0, w) => println!("Passed with {w} warning(s)."),
        (f, _) => println!("{f} check(s) failed."),
    }
}

pub fn collected(report: &CollectReport) {
    let name = &report.integration;
    println!(
        "Collected {} record(s) in {} page(s) from `{name}`.",
        report.total_records(),
        report.pages
    );
    if !report.records.is_empty() {
        let mut table = Table::new(["KIND", "RECORDS"]);
        for k in &report.records {
            table.row([k.kind.clone(), k.count.to_string()]);
        }
        table.print();
    }
    if report.more_remaining {
        println!(
            "More records remain: run `oort-host collect {name}` again to continue from the checkpoint."
        );
    }
    for note in &report.notes {
        println!("note: {note}");
    }
}

/// Runs Collect Now, with a spinner on stderr fed by committed pages when
/// `show_bar` (a person is watching a terminal).
pub async fn collect_with_progress(
    platform: &Platform,
    integration: &Integration,
    options: CollectOptions,
    show_bar: bool,
) -> Result<CollectSummary, PlatformError> {
    if !show_bar {
        return platform.collect(integration, options, &NoProgress).await;
    }
    let bar = Bar::start();
    let result = platform.collect(integration, options, &bar).await;
    bar.bar.finish_and_clear();
    result
}

/// A spinner fed by committed pages.
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

pub fn insights(report: &Report) {
    print!("{}", insights::render_text(report));
}

pub fn actions(actions: &[ActionView]) {
    if actions.is_empty() {
        println!("This plugin offers no actions.");
        return;
    }
    let mut table = Table::new(["ACTION", "TITLE", "MIN ROLE", "PERMISSION", "ENABLED"]);
    for a in actions {
        let enabled = match (a.enabled, &a.why_not) {
            (true, _) => "yes".to_owned(),
            (false, Some(why)) => format!("no: {why}"),
            (false, None) => "no".to_owned(),
        };
        table.row([
            a.id.clone(),
            a.title.clone(),
            a.minimum_role.to_string(),
            a.required_permission.clone(),
            enabled,
        ]);
    }
    table.print();
}

pub fn act_outcome(report: &ActReport) {
    let status = match report.status {
        ActionStatus::Succeeded => "succeeded",
        ActionStatus::Failed => "FAILED",
        ActionStatus::DryRun => "dry run (nothing changed)",
    };
    println!("{}: {status}: {}", report.action, report.message);
    for (k, v) in &report.details {
        println!("  {k}: {v}");
    }
}

pub fn audit_trail(lines: &[AuditLine]) {
    if lines.is_empty() {
        println!("The audit trail is empty.");
        return;
    }
    let mut table = Table::new([
        "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "OUTCOME", "REASON",
    ]);
    for line in lines {
        let e = &line.entry;
        let outcome = if line.outcome_unknown {
            format!("OUTCOME UNKNOWN ({})", e.outcome)
        } else {
            e.outcome.clone()
        };
        table.row([
            line.at.clone(),
            e.actor.clone(),
            e.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
            e.action.clone(),
            opt(e.target.as_deref()),
            outcome,
            opt(e.reason.as_deref()),
        ]);
    }
    table.print();
    let unknown = lines.iter().filter(|l| l.outcome_unknown).count();
    if unknown > 0 {
        println!(
            "\n{unknown} action(s) started with no outcome recorded: the host stopped or lost its caller while the action was at the plugin. Check the target in the upstream's console before running it again."
        );
    }
}

pub fn operators(operators: &[Operator]) {
    if operators.is_empty() {
        println!(
            "No operators. Add one with `oort-host operators add NAME --role admin|helpdesk|viewer`."
        );
        return;
    }
    let mut table = Table::new(["NAME", "ROLE", "TENANT", "ADDED"]);
    for o in operators {
        table.row([
            o.name.clone(),
            o.role.to_string(),
            o.tenant.clone().unwrap_or_else(|| "(platform)".into()),
            rfc3339_from_ms(o.created_at_ms),
        ]);
    }
    table.print();
}

/// The one time a token is shown.
pub fn issued_token(info: &ApiToken, token: &str) {
    let expiry = info.expires_at_ms.map_or("never".into(), rfc3339_from_ms);
    println!(
        "Issued token {} for `{}` (label `{}`, expires {expiry}):",
        info.id, info.operator, info.label
    );
    println!();
    println!("  {token}");
    println!();
    println!("It is shown only now and stored as a hash: keep it in a secret store. Send it as");
    println!(
        "`Authorization: Bearer TOKEN`; revoke it with `oort-host operators token revoke {}`.",
        info.id
    );
}

pub fn tokens(tokens: &[ApiToken], now_ms: i64) {
    if tokens.is_empty() {
        println!("No API tokens. Issue one with `oort-host operators token create NAME`.");
        return;
    }
    let mut table = Table::new([
        "ID",
        "OPERATOR",
        "LABEL",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "STATE",
    ]);
    for t in tokens {
        let state = match (t.revoked_at_ms, t.expires_at_ms) {
            (Some(at), _) => format!("revoked {}", rfc3339_from_ms(at)),
            (None, Some(at)) if at <= now_ms => "expired".into(),
            _ => "active".into(),
        };
        table.row([
            t.id.to_string(),
            t.operator.clone(),
            t.label.clone(),
            rfc3339_from_ms(t.created_at_ms),
            t.expires_at_ms.map_or("never".into(), rfc3339_from_ms),
            t.last_used_at_ms.map_or("never".into(), rfc3339_from_ms),
            state,
        ]);
    }
    table.print();
}

/// A collection interval in its largest whole unit: `5 min`, `90 s`, `2 h`.
pub fn interval(ms: i64) -> String {
    if ms <= 0 || ms % 1000 != 0 {
        return format!("{ms} ms");
    }
    match ms / 1000 {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let mut t = Table::new(["ID", "NAME"]);
        t.row(["duo", "Duo Security"]);
        t.row(["misbehaving-plugin", "x"]);
        assert_eq!(
            t.render(),
            "ID                  NAME\nduo                 Duo Security\nmisbehaving-plugin  x\n"
        );
    }

    #[test]
    fn intervals_read_in_their_largest_whole_unit() {
        assert_eq!(interval(300_000), "5 min");
        assert_eq!(interval(90_000), "90 s");
        assert_eq!(interval(7_200_000), "2 h");
        assert_eq!(interval(1_500), "1500 ms");
    }
}
