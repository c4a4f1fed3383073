//! `audit <name>`: the append-only trail of one integration.

use serde::Serialize;

use oort_host::store::AuditEntry;

use super::Ctx;
use super::output::{Output, Table, opt, rfc3339_from_ms};

#[derive(Serialize)]
struct Line<'a> {
    at: String,
    #[serde(flatten)]
    entry: &'a AuditEntry,
}

pub fn audit(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let entries = ctx.platform.store().audit(Some(integration.id))?;
    print_trail(ctx.out, &entries)?;
    Ok(0)
}

pub fn print_trail(out: Output, entries: &[AuditEntry]) -> anyhow::Result<()> {
    let lines: Vec<Line<'_>> = entries
        .iter()
        .map(|entry| Line {
            at: rfc3339_from_ms(entry.at_ms),
            entry,
        })
        .collect();
    out.emit(&lines, || {
        if entries.is_empty() {
            println!("The audit trail is empty.");
            return;
        }
        let mut table = Table::new([
            "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "OUTCOME", "REASON",
        ]);
        for line in &lines {
            let e = line.entry;
            table.row([
                line.at.clone(),
                e.actor.clone(),
                e.role.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                e.action.clone(),
                opt(e.target.as_deref()),
                e.outcome.clone(),
                opt(e.reason.as_deref()),
            ]);
        }
        table.print();
    })
}
