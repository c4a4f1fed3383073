//! `operators add` and `operators list`.

use anyhow::Context as _;

use oort_host::model::Role;

use super::Ctx;
use super::output::{Table, rfc3339_from_ms, usage};

pub fn add(ctx: &Ctx, name: &str, role: &str) -> anyhow::Result<u8> {
    let role: Role = role.parse().map_err(usage)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(usage("operator name is empty"));
    }
    let operator = ctx
        .platform
        .store()
        .add_operator(name, role)
        .with_context(|| format!("adding operator `{name}`"))?;
    // Who was given which role is part of the trail, like every action.
    ctx.platform
        .store()
        .append_audit(&oort_host::store::AuditEntry {
            at_ms: operator.created_at_ms,
            integration_id: None,
            actor: "system".into(),
            role: None,
            action: "operator.add".into(),
            target: Some(operator.name.clone()),
            reason: Some("oort-host operators add".into()),
            outcome: format!("succeeded: role {}", operator.role),
        })?;
    ctx.out.emit(&operator, || {
        println!("Added operator `{}` ({})", operator.name, operator.role)
    })?;
    Ok(0)
}

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let operators = ctx.platform.store().operators()?;
    ctx.out.emit(&operators, || {
        if operators.is_empty() {
            println!("No operators. Add one with `oort-host operators add NAME --role admin|helpdesk|viewer`.");
            return;
        }
        let mut table = Table::new(["NAME", "ROLE", "ADDED"]);
        for o in &operators {
            table.row([o.name.clone(), o.role.to_string(), rfc3339_from_ms(o.created_at_ms)]);
        }
        table.print();
    })?;
    Ok(0)
}
