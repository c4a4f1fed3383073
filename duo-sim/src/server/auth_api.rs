//! Auth API v2 (duo-api.md §6): check, preauth, auth (push), auth_status.

use serde_json::{Value, json};

use super::Ctx;
use super::envelope::{ApiError, ApiResult, ok};
use super::pushes::{Outcome, Pending, insert_event, push_event};
use crate::data::Dataset;
use crate::data::model::{UserStatus, caps};
use crate::data::rng::format_uuid;

pub fn check(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    Ok(ok(json!({"time": ctx.now / 1000})))
}

/// `user_id` XOR `username`; `None` when the user is unknown to Duo.
fn find_user(ctx: &Ctx<'_>, ds: &Dataset) -> Result<Option<usize>, ApiError> {
    match (ctx.params.get("user_id"), ctx.params.get("username")) {
        (Some(_), Some(_)) => Err(ApiError::invalid_param(
            "Provide user_id or username, not both",
        )),
        (Some(id), None) => Ok(ds.find_user(|u| u.id == id)),
        (None, Some(name)) => Ok(ds.find_user(|u| u.username == name)),
        (None, None) => Err(ApiError::missing_param("username")),
    }
}

fn masked(number: &str) -> String {
    let tail: String = number
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("XXX-XXX-{tail}")
}

pub fn preauth(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let Some(i) = find_user(ctx, &ds)? else {
        return Ok(ok(json!({
            "result": "enroll",
            "status_msg": "Enroll an authentication device to proceed",
            "enroll_portal_url": format!("https://{}/portal?code=enroll", ctx.s.hostname),
        })));
    };
    let u = &ds.users[i];
    let response = match u.status {
        UserStatus::Disabled | UserStatus::LockedOut => {
            json!({"result": "deny", "status_msg": "Your account is disabled."})
        }
        UserStatus::Bypass => json!({"result": "allow", "status_msg": "Account is in bypass mode"}),
        UserStatus::Active if !u.is_enrolled() => json!({
            "result": "enroll",
            "status_msg": "Enroll an authentication device to proceed",
            "enroll_portal_url": format!("https://{}/portal?code=enroll", ctx.s.hostname),
        }),
        UserStatus::Active => {
            let devices: Vec<Value> = u
                .phones
                .iter()
                .map(|&p| {
                    let p = &ds.phones[p as usize];
                    let capabilities: Vec<&str> = caps::NAMES
                        .iter()
                        .filter(|(bit, _)| p.capabilities & bit != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    json!({
                        "device": p.id,
                        "type": "phone",
                        "name": p.name,
                        "number": masked(&p.number),
                        "display_name": format!("{} ({})", p.platform.split(' ').next_back().unwrap_or("Phone"), masked(&p.number)),
                        "capabilities": capabilities,
                        "sms_nextcode": "1",
                    })
                })
                .collect();
            json!({"result": "auth", "status_msg": "Account is active", "devices": devices})
        }
    };
    Ok(ok(response))
}

fn status_of(outcome: Outcome) -> Value {
    let (result, status, msg) = match outcome {
        Outcome::Waiting => (
            "waiting",
            "pushed",
            "Pushed a login request to your device...",
        ),
        Outcome::Approved => ("allow", "allow", "Success. Logging you in..."),
        Outcome::Denied => ("deny", "deny", "Login request denied."),
        Outcome::Fraud => ("deny", "fraud", "Login request reported as fraudulent."),
        Outcome::TimedOut => ("deny", "timeout", "Login timed out."),
    };
    json!({"result": result, "status": status, "status_msg": msg})
}

/// Only push (and `auto`, which picks push) is simulated. A synchronous call answers
/// at once with the user's final outcome instead of blocking for up to 60 s.
pub fn auth(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let factor = ctx.params.require("factor")?;
    if factor != "push" && factor != "auto" {
        return Err(ApiError::invalid_param(
            "factor: the simulator supports push and auto",
        ));
    }
    let is_async = matches!(ctx.params.get("async"), Some("1" | "true"));
    let mut ds = ctx.s.write();
    let i = find_user(ctx, &ds)?.ok_or_else(|| ApiError::invalid_param("username"))?;
    let u = &ds.users[i];
    let immediate = match u.status {
        UserStatus::Disabled => Some(("deny", "deny", "Your account is disabled.")),
        UserStatus::LockedOut => Some(("deny", "locked_out", "Your account has been locked out.")),
        UserStatus::Bypass => Some(("allow", "bypass", "Authentication bypassed.")),
        UserStatus::Active => None,
    };
    if let Some((result, status, msg)) = immediate {
        return Ok(ok(if is_async {
            // Blocked users still get a txid; its status reports the same decision.
            let txid = format_uuid(ctx.s.rng().uuid());
            ctx.s
                .pushes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .transactions
                .insert(
                    txid.clone(),
                    Pending {
                        user: i as u32,
                        started: ctx.now,
                        answer: blocked_answer(result),
                    },
                );
            json!({"txid": txid})
        } else {
            json!({"result": result, "status": status, "status_msg": msg})
        }));
    }
    let device = ctx.params.get("device").unwrap_or("auto");
    let has_push = u.phones.iter().any(|&p| {
        let p = &ds.phones[p as usize];
        p.capabilities & caps::PUSH != 0 && (device == "auto" || p.id == device)
    });
    if !has_push {
        return Err(ApiError::invalid_param("device"));
    }
    let username = u.username.clone();
    let txid_num = ctx.s.rng().uuid();
    let txid = format_uuid(txid_num);
    let mut pushes = ctx.s.pushes.lock().unwrap_or_else(|e| e.into_inner());
    let pending = Pending {
        user: i as u32,
        started: ctx.now,
        answer: pushes.answer_for(&username),
    };
    let ev = push_event(&ds, &pending, ctx.s.auth_app, txid_num);
    insert_event(&mut ds, ev);
    let outcome = pending.outcome(ctx.now);
    pushes.transactions.insert(txid.clone(), pending);
    if is_async {
        return Ok(ok(json!({"txid": txid})));
    }
    let final_outcome = if outcome == Outcome::Waiting {
        Outcome::TimedOut
    } else {
        outcome
    };
    Ok(ok(status_of(final_outcome)))
}

fn blocked_answer(result: &str) -> crate::config::PushAnswer {
    if result == "allow" {
        crate::config::PushAnswer::Approve
    } else {
        crate::config::PushAnswer::Deny
    }
}

pub fn auth_status(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let txid = ctx.params.require("txid")?;
    let pushes = ctx.s.pushes.lock().unwrap_or_else(|e| e.into_inner());
    let p = pushes
        .transactions
        .get(txid)
        .ok_or_else(|| ApiError::invalid_param("txid"))?;
    Ok(ok(status_of(p.outcome(ctx.now))))
}
