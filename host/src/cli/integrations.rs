//! `integrations add|list|show|remove`.

use anyhow::Context as _;

use oort_platform::AddIntegration;
use oort_platform::data::SecretValue;
use oort_platform::model::{FieldType, Manifest};
use oort_platform::views::Removed;

use super::output::usage;
use super::secret_input::{SecretReader, SecretSpec, read_secret_file};
use super::{AddArgs, Ctx, from_cli};
use crate::human;

const DUO: &str = "duo";

/// `integrations add`: secrets from files, stdin, the environment or a
/// prompt; the platform validates and stores the integration.
pub async fn add(ctx: &Ctx, args: AddArgs) -> anyhow::Result<u8> {
    let manifest = ctx.platform.plugin(&args.plugin)?.manifest;
    // Flag mistakes are reported before anyone is asked to type a secret.
    build_request(&ctx.tenant, &args, &manifest, Vec::new())?;
    let secrets = read_secrets(&args, &manifest, &mut SecretReader::default())?;
    let request = build_request(&ctx.tenant, &args, &manifest, secrets)?;
    let integration = ctx
        .platform
        .add_integration(&from_cli("integrations add"), request)
        .await
        .with_context(|| {
            format!(
                "adding integration `{}` (plugin `{}`)",
                args.name, args.plugin
            )
        })?;
    ctx.out.emit(&integration, || {
        println!("Added integration `{}`.", integration.name);
        human::integration(&integration);
    })?;
    Ok(0)
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
        let value = read_secret_file(reader, field, path)?;
        push_unique(&mut secrets, field, value)?;
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
    let integrations = ctx.platform.integrations(&ctx.tenant)?;
    ctx.out.emit(&integrations, || {
        human::integrations(&ctx.tenant, &integrations)
    })?;
    Ok(0)
}

pub fn show(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let detail = ctx.platform.integration_detail(ctx.integration(name)?)?;
    ctx.out
        .emit(&detail, || human::integration_detail(&detail))?;
    Ok(0)
}

pub fn remove(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    ctx.platform
        .remove_integration(&from_cli("integrations remove"), &integration)
        .with_context(|| format!("removing integration `{}`", integration.name))?;
    let removed = Removed {
        removed: integration.name,
    };
    ctx.out.emit(&removed, || {
        println!(
            "Removed integration `{}` and its records, secrets, runs and findings (the audit trail is kept).",
            removed.removed
        )
    })?;
    Ok(0)
}

pub fn schedule(ctx: &Ctx, name: &str, every: std::time::Duration) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let schedule = ctx
        .platform
        .set_collection_interval(&from_cli("integrations schedule"), &integration, every)
        .with_context(|| format!("scheduling integration `{}`", integration.name))?;
    ctx.out.emit(&schedule, || {
        println!(
            "`{}` is collected every {} by `serve`; next at {}.",
            integration.name,
            human::interval(schedule.interval_ms),
            schedule.next_due
        );
        human::source_schedules(&schedule.sources);
    })?;
    Ok(0)
}
