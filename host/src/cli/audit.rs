//! `audit <name>`: the append-only trail of one integration.

use super::Ctx;
use crate::human;

pub fn audit(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let trail = ctx.platform.audit_trail(&integration)?;
    ctx.out.emit(&trail, || human::audit_trail(&trail))?;
    Ok(0)
}
