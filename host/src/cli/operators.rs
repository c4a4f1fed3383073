//! `operators add|list` and `operators token create|list|revoke`.

use std::time::Duration;

use anyhow::Context as _;

use oort_platform::model::Role;
use oort_platform::views::IssuedTokenView;

use super::output::usage;
use super::{Ctx, TokenCmd, from_cli};
use crate::human;

pub fn add(ctx: &Ctx, name: &str, role: &str, platform: bool) -> anyhow::Result<u8> {
    let role: Role = role.parse().map_err(usage)?;
    let tenant = (!platform).then_some(ctx.tenant.as_str());
    let operator = ctx
        .platform
        .add_operator(&from_cli("operators add"), name, role, tenant)
        .with_context(|| format!("adding operator `{}`", name.trim()))?;
    ctx.out.emit(&operator, || {
        let scope = match &operator.tenant {
            Some(tenant) => format!("tenant `{tenant}`"),
            None => "platform-wide".into(),
        };
        println!(
            "Added operator `{}` ({}, {scope})",
            operator.name, operator.role
        )
    })?;
    Ok(0)
}

pub fn list(ctx: &Ctx) -> anyhow::Result<u8> {
    let operators = ctx.platform.operators()?;
    ctx.out.emit(&operators, || human::operators(&operators))?;
    Ok(0)
}

pub fn token(ctx: &Ctx, command: TokenCmd) -> anyhow::Result<u8> {
    match command {
        TokenCmd::Create {
            name,
            label,
            expires_in_days,
            no_expiry,
        } => {
            if !no_expiry && !(1..=3650).contains(&expires_in_days) {
                return Err(usage("--expires-in-days must be between 1 and 3650"));
            }
            let lifetime =
                (!no_expiry).then(|| Duration::from_secs(u64::from(expires_in_days) * 86_400));
            let issued = ctx
                .platform
                .issue_token(&from_cli("operators token create"), &name, &label, lifetime)
                .with_context(|| format!("issuing a token for `{name}`"))?;
            let issued = IssuedTokenView::new(&issued)?;
            ctx.out
                .emit(&issued, || human::issued_token(&issued.info, &issued.token))?;
            Ok(0)
        }
        TokenCmd::List { name } => {
            let tokens = ctx.platform.tokens(name.as_deref())?;
            let now = ctx.platform.now_ms();
            ctx.out.emit(&tokens, || human::tokens(&tokens, now))?;
            Ok(0)
        }
        TokenCmd::Revoke { id } => {
            let token = ctx
                .platform
                .revoke_token(&from_cli("operators token revoke"), id)
                .with_context(|| format!("revoking token {id}"))?;
            ctx.out.emit(&token, || {
                println!(
                    "Revoked token {} of `{}`; it no longer signs in",
                    token.id, token.operator
                )
            })?;
            Ok(0)
        }
    }
}
