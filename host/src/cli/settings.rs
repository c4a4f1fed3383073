//! `integrations update|enable|disable`: changing an integration after it
//! was added.

use anyhow::Context as _;

use oort_platform::IntegrationUpdate;

use super::secret_input::{SecretReader, read_secret_file};
use super::{Ctx, UpdateArgs, from_cli};
use crate::human;

/// `integrations update`: the flags become one update, validated by the
/// platform like `add`; secrets are read only after the flags made sense.
pub async fn update(ctx: &Ctx, args: UpdateArgs) -> anyhow::Result<u8> {
    let integration = ctx.integration(&args.name)?;
    let mut update = IntegrationUpdate {
        config: args
            .set
            .iter()
            .map(|(field, value)| (field.clone(), Some(value.trim().to_owned())))
            .chain(args.unset.iter().map(|field| (field.clone(), None)))
            .collect(),
        secrets: args
            .clear_secret
            .iter()
            .map(|field| (field.clone(), None))
            .collect(),
    };
    let mut reader = SecretReader::default();
    for (field, path) in &args.secret_file {
        let value = read_secret_file(&mut reader, field, path)?;
        update.secrets.push((field.clone(), Some(value)));
    }
    let updated = ctx
        .platform
        .update_integration(&from_cli("integrations update"), &integration, update)
        .await
        .with_context(|| format!("updating integration `{}`", integration.name))?;
    ctx.out.emit(&updated, || {
        println!("Updated integration `{}`.", updated.name);
        human::integration(&updated);
    })?;
    Ok(0)
}

/// `integrations enable|disable`.
pub fn set_enabled(ctx: &Ctx, name: &str, enabled: bool) -> anyhow::Result<u8> {
    let integration = ctx.integration(name)?;
    let command = if enabled {
        "integrations enable"
    } else {
        "integrations disable"
    };
    let changed = ctx
        .platform
        .set_enabled(&from_cli(command), &integration, enabled)
        .with_context(|| format!("{command} `{}`", integration.name))?;
    ctx.out.emit(&changed, || {
        if enabled {
            println!(
                "Enabled `{}`: `serve` collects it next, from its checkpoints.",
                changed.name
            );
        } else {
            println!(
                "Disabled `{}`: it is not collected and test, collect and actions are refused until `oort-host integrations enable {}`; what was collected stays.",
                changed.name, changed.name
            );
        }
    })?;
    Ok(0)
}
