//! `operators add` and `operators list`.

use anyhow::Context as _;

use oort_platform::model::Role;

use super::output::usage;
use super::{Ctx, from_cli};
use crate::human;

pub fn add(ctx: &Ctx, name: &str, role: &str) -> anyhow::Result<u8> {
    let role: Role = role.parse().map_err(usage)?;
    let operator = ctx
        .platform
        .add_operator(&from_cli("operators add"), name, role)
        .with_context(|| format!("adding operator `{}`", name.trim()))?;
    ctx.out.emit(&operator, || {
        println!("Added operator `{}` ({})", operator.name, operator.role)
    })?;
    Ok(0)
}

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let operators = ctx.platform.operators()?;
    ctx.out.emit(&operators, || human::operators(&operators))?;
    Ok(0)
}
