//! `audit [name]`: the append-only trail of one integration, or the host's.

use super::Ctx;
use crate::human;

pub fn audit(ctx: &Ctx, name: Option<&str>) -> anyhow::Result<u8> {
    let trail = match name {
        Some(name) => ctx.platform.audit_trail(&ctx.integration(name)?)?,
        None => ctx.platform.full_audit_trail()?,
    };
    ctx.out.emit(&trail, || human::audit_trail(&trail))?;
    Ok(0)
}
