//! `plugins list` and `plugins install`.

use std::path::Path;

use anyhow::Context as _;

use super::Ctx;
use crate::human;

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let plugins = ctx.platform.plugins()?;
    ctx.out.emit(&plugins, || human::plugins(&plugins))?;
    Ok(0)
}

pub fn install(ctx: &Ctx, file: &Path) -> anyhow::Result<u8> {
    let plugin = ctx
        .platform
        .install_plugin(&super::from_cli("plugins install"), file)
        .with_context(|| format!("installing plugin {}", file.display()))?;
    ctx.out.emit(&plugin, || human::installed_plugin(&plugin))?;
    Ok(0)
}
