//! `plugins list` and `plugins install`.

use std::path::Path;

use anyhow::Context as _;

use oort_host::store::InstalledPlugin;

use super::Ctx;
use super::output::{Table, rfc3339_from_ms};

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let plugins = ctx.platform.plugins()?;
    ctx.out.emit(&plugins, || {
        if plugins.is_empty() {
            println!(
                "No plugins installed. Install one with `oort-host plugins install FILE.wasm`."
            );
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
        for p in &plugins {
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
    })?;
    Ok(0)
}

pub fn install(ctx: &Ctx, file: &Path) -> anyhow::Result<u8> {
    let plugin = ctx
        .platform
        .install_plugin(file)
        .with_context(|| format!("installing plugin {}", file.display()))?;
    ctx.out.emit(&plugin, || print_installed(&plugin))?;
    Ok(0)
}

fn print_installed(p: &InstalledPlugin) {
    println!(
        "Installed plugin `{}` ({} {}, WIT {})",
        p.id, p.manifest.name, p.manifest.version, p.wit_version
    );
    println!("  sha256: {}", p.wasm_sha256);
    let kinds: Vec<&str> = p
        .manifest
        .record_kinds
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    println!(
        "  record kinds: {}",
        if kinds.is_empty() {
            "-".into()
        } else {
            kinds.join(", ")
        }
    );
    let actions: Vec<&str> = p.manifest.actions.iter().map(|a| a.id.as_str()).collect();
    println!(
        "  actions: {}",
        if actions.is_empty() {
            "-".into()
        } else {
            actions.join(", ")
        }
    );
    for rule in &p.manifest.egress {
        println!(
            "  egress: host from `{}` ({})",
            rule.host_field, rule.purpose
        );
    }
}
