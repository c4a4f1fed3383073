//! `integrations add|list|show|remove`. `add` is also the demo's way in, so
//! both go through [`add_with_secrets`].

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use oort_host::model::{FieldType, Manifest};
use oort_host::platform::{AddIntegration, PlatformError};
use oort_host::store::{AuditEntry, Integration, Run, SecretValue};

use super::output::{Table, now_ms, opt, rfc3339_from_ms, usage};
use super::secret_input::{SecretReader, SecretSpec};
use super::{AddArgs, Ctx};

const DUO: &str = "duo";

/// `integrations add` from the command line: secrets from files, stdin,
/// the environment or a prompt.
pub async fn add_from_cli(ctx: &Ctx, args: AddArgs) -> anyhow::Result<u8> {
    let manifest = manifest_of(ctx, &args.plugin)?;
    // Flag mistakes are reported before anyone is asked to type a secret.
    build_request(&ctx.tenant, &args, &manifest, Vec::new())?;
    let secrets = read_secrets(&args, &manifest, &mut SecretReader::default())?;
    add_with_secrets(ctx, &args, secrets).await?;
    Ok(0)
}

/// Maps the flags to config, asks the platform to validate and store the
/// integration, and prints it.
pub async fn add_with_secrets(
    ctx: &Ctx,
    args: &AddArgs,
    secrets: Vec<(String, SecretValue)>,
) -> anyhow::Result<Integration> {
    let manifest = manifest_of(ctx, &args.plugin)?;
    let request = build_request(&ctx.tenant, args, &manifest, secrets)?;
    let integration = ctx
        .platform
        .add_integration(request)
        .await
        .with_context(|| {
            format!(
                "adding integration `{}` (plugin `{}`)",
                args.name, args.plugin
            )
        })?;
    ctx.out.emit(&integration, || {
        println!("Added integration `{}`.", integration.name);
        print_integration(&integration);
    })?;
    Ok(integration)
}

fn manifest_of(ctx: &Ctx, plugin: &str) -> anyhow::Result<Manifest> {
    match ctx.platform.store().plugin(plugin)? {
        Some(p) => Ok(p.manifest),
        None => {
            let installed: Vec<String> =
                ctx.platform.plugins()?.into_iter().map(|p| p.id).collect();
            let installed = if installed.is_empty() {
                "none".to_owned()
            } else {
                installed.join(", ")
            };
            Err(PlatformError::NotFound(format!(
                "no plugin `{plugin}` is installed (installed: {installed})"
            ))
            .into())
        }
    }
}

/// The secrets an `add` needs, from the sources the operator chose.
pub fn read_secrets(
    args: &AddArgs,
    manifest: &Manifest,
    reader: &mut SecretReader,
) -> anyhow::Result<Vec<(String, SecretValue)>> {
    let mut secrets = Vec::new();
    for (field, path) in &args.secret_file {
        match manifest.field(field) {
            Some(f) if f.field_type == FieldType::Secret => {}
            Some(_) => {
                return Err(usage(format!(
                    "`{field}` is not a secret field; use --set {field}=VALUE"
                )));
            }
            None => return Err(unknown_field(manifest, field)),
        }
        let flag = format!("--secret-file {field}=");
        let spec = SecretSpec {
            field,
            label: field,
            file: Some(Path::new(path)),
            file_flag: &flag,
            env_var: None,
        };
        if let Some(value) = reader.read(&spec, true)? {
            push_unique(&mut secrets, field, value)?;
        }
    }
    if args.plugin == DUO {
        let admin = SecretSpec {
            field: "secret_key",
            label: "Duo Admin API secret key",
            file: args.secret_key_file.as_deref(),
            file_flag: "--secret-key-file",
            env_var: Some("OORT_DUO_SECRET_KEY"),
        };
        if (!has(&secrets, "secret_key") || args.secret_key_file.is_some())
            && let Some(value) = reader.read(&admin, true)?
        {
            push_unique(&mut secrets, "secret_key", value)?;
        }
        let wants_auth = args.push_verification || args.auth_integration_key.is_some();
        if args.auth_secret_key_file.is_some() || (wants_auth && !has(&secrets, "auth_secret_key"))
        {
            let auth = SecretSpec {
                field: "auth_secret_key",
                label: "Duo Auth API secret key",
                file: args.auth_secret_key_file.as_deref(),
                file_flag: "--auth-secret-key-file",
                env_var: Some("OORT_DUO_AUTH_SECRET_KEY"),
            };
            if let Some(value) = reader.read(&auth, wants_auth)? {
                push_unique(&mut secrets, "auth_secret_key", value)?;
            }
        }
    } else {
        for field in manifest
            .config
            .iter()
            .filter(|f| f.field_type == FieldType::Secret && f.required)
        {
            if has(&secrets, &field.name) {
                continue;
            }
            let flag = format!("--secret-file {}=", field.name);
            let spec = SecretSpec {
                field: &field.name,
                label: &field.label,
                file: None,
                file_flag: &flag,
                env_var: None,
            };
            if let Some(value) = reader.read(&spec, true)? {
                secrets.push((field.name.clone(), value));
            }
        }
    }
    Ok(secrets)
}

fn has(secrets: &[(String, SecretValue)], field: &str) -> bool {
    secrets.iter().any(|(f, _)| f == field)
}

fn push_unique(
    secrets: &mut Vec<(String, SecretValue)>,
    field: &str,
    value: SecretValue,
) -> anyhow::Result<()> {
    if has(secrets, field) {
        return Err(usage(format!("secret `{field}` is given twice")));
    }
    secrets.push((field.to_owned(), value));
    Ok(())
}

fn unknown_field(manifest: &Manifest, field: &str) -> anyhow::Error {
    let known: Vec<&str> = manifest.config.iter().map(|f| f.name.as_str()).collect();
    usage(format!(
        "plugin `{}` has no config field `{field}` (fields: {})",
        manifest.id,
        known.join(", ")
    ))
}

/// Turns the flags into the platform's request. Secret fields can't be
/// `--set` (they would sit in shell history); Duo flags only apply to Duo.
pub fn build_request(
    tenant: &str,
    args: &AddArgs,
    manifest: &Manifest,
    secrets: Vec<(String, SecretValue)>,
) -> anyhow::Result<AddIntegration> {
    let mut config: Vec<(String, String)> = Vec::new();
    let mut put = |field: &str, value: String| -> anyhow::Result<()> {
        if config.iter().any(|(f, _)| f == field) {
            return Err(usage(format!("config field `{field}` is given twice")));
        }
        config.push((field.to_owned(), value));
        Ok(())
    };
    let duo_flags: [(&str, bool); 7] = [
        ("--api-hostname", args.api_hostname.is_some()),
        ("--integration-key", args.integration_key.is_some()),
        ("--secret-key-file", args.secret_key_file.is_some()),
        ("--push-verification", args.push_verification),
        (
            "--auth-integration-key",
            args.auth_integration_key.is_some(),
        ),
        (
            "--auth-secret-key-file",
            args.auth_secret_key_file.is_some(),
        ),
        ("--endpoints", args.endpoints),
    ];
    if args.plugin == DUO {
        if let Some(v) = &args.api_hostname {
            put("api_hostname", v.trim().to_owned())?;
        }
        if let Some(v) = &args.integration_key {
            put("integration_key", v.trim().to_owned())?;
        }
        if args.push_verification {
            put("push_verification", "true".into())?;
        }
        if let Some(v) = &args.auth_integration_key {
            put("auth_integration_key", v.trim().to_owned())?;
        }
        if args.endpoints {
            put("collect_endpoints", "true".into())?;
        }
    } else if let Some((flag, _)) = duo_flags.iter().find(|(_, used)| *used) {
        return Err(usage(format!(
            "{flag} applies to plugin `duo` only; for plugin `{}` use --set FIELD=VALUE and --secret-file FIELD=PATH",
            args.plugin
        )));
    }
    for (field, value) in &args.set {
        match manifest.field(field) {
            Some(f) if f.field_type == FieldType::Secret => {
                return Err(usage(format!(
                    "`{field}` is a secret and can't be given as a flag value; use --secret-file {field}=PATH (`-` = stdin)"
                )));
            }
            Some(_) => put(field, value.clone())?,
            None => return Err(unknown_field(manifest, field)),
        }
    }
    Ok(AddIntegration {
        tenant: tenant.to_owned(),
        name: args.name.clone(),
        plugin_id: args.plugin.clone(),
        config,
        secrets,
        api_base_url: args.api_base_url.clone(),
        granted_capabilities: args.grant.clone(),
    })
}

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let integrations = ctx.platform.store().integrations(Some(&ctx.tenant))?;
    ctx.out.emit(&integrations, || {
        if integrations.is_empty() {
            println!("No integrations in tenant `{}`. Add one with `oort-host integrations add duo NAME ...`.", ctx.tenant);
            return;
        }
        let mut table = Table::new(["NAME", "PLUGIN", "CREATED", "API BASE URL"]);
        for i in &integrations {
            table.row([i.name.clone(), i.plugin_id.clone(), rfc3339_from_ms(i.created_at_ms), opt(i.api_base_url.as_deref())]);
        }
        table.print();
    })?;
    Ok(0)
}

#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    integration: &'a Integration,
    /// Secret fields that have a value, each as `"set"`: never the value.
    secrets: serde_json::Map<String, serde_json::Value>,
    records: Vec<KindCount>,
    runs: Vec<Run>,
}

#[derive(Serialize)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
}

pub fn show(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let store = ctx.platform.store();
    let records: Vec<KindCount> = store
        .record_counts(integration.id)?
        .into_iter()
        .map(|(kind, count)| KindCount { kind, count })
        .collect();
    let runs = store.runs(integration.id, 10)?;
    let secrets = integration
        .secret_fields
        .iter()
        .map(|f| (f.clone(), serde_json::Value::from("set")))
        .collect();
    let shown = Shown {
        integration: &integration,
        secrets,
        records,
        runs,
    };
    ctx.out.emit(&shown, || {
        print_integration(&integration);
        if shown.records.is_empty() {
            println!(
                "  records: none yet (run `oort-host collect {}`)",
                integration.name
            );
        } else {
            let counts: Vec<String> = shown
                .records
                .iter()
                .map(|k| format!("{} {}", k.count, k.kind))
                .collect();
            println!("  records: {}", counts.join(", "));
        }
        if !shown.runs.is_empty() {
            println!();
            let mut table = Table::new(["RUN", "KIND", "STATUS", "STARTED", "ERROR"]);
            for r in &shown.runs {
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
    })?;
    Ok(0)
}

pub fn remove(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    remove_integration(ctx, &integration)?;
    ctx.out.emit(&serde_json::json!({ "removed": integration.name }), || {
        println!("Removed integration `{}` and its records, secrets, runs and findings (the audit trail is kept).", integration.name)
    })?;
    Ok(0)
}

pub fn remove_integration(ctx: &Ctx, integration: &Integration) -> anyhow::Result<()> {
    let store = ctx.platform.store();
    store
        .remove_integration(integration.id)
        .with_context(|| format!("removing integration `{}`", integration.name))?;
    store.append_audit(&AuditEntry {
        at_ms: now_ms(),
        integration_id: Some(integration.id),
        actor: "system".into(),
        role: None,
        action: "integration.remove".into(),
        target: Some(integration.name.clone()),
        reason: Some("oort-host integrations remove".into()),
        outcome: "succeeded: removed".into(),
    })?;
    Ok(())
}

pub fn print_integration(i: &Integration) {
    println!(
        "Integration `{}` (plugin {}, tenant {}, id {})",
        i.name, i.plugin_id, i.tenant, i.id
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

/// The serde name of a unit enum value (`succeeded`, `collect`).
fn json_word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}
