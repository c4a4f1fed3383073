//! Admin API write endpoints used for remediation (duo-api.md §5).

use serde_json::{Value, json};

use super::Ctx;
use super::envelope::{ApiError, ApiResult, ok};
use super::pushes::{Outcome, Pending, VERIFICATION_TTL_MS};
use crate::data::generate::Dataset;
use crate::data::model::{AdminEvent, User, UserStatus, caps};
use crate::data::render;
use crate::data::rng::format_uuid;

const API_ACTOR: &str = "API (Admin API)";

/// The administrator-log entry Duo writes for a change made through the
/// Admin API.
fn log_api_change(
    ds: &mut Dataset,
    now: i64,
    action: &'static str,
    object: String,
    description: String,
) {
    ds.admin_log.push(AdminEvent {
        ms: now,
        action,
        object,
        username: API_ACTOR.into(),
        description,
    });
}

fn user_index(ds: &Dataset, id: &str) -> Result<usize, ApiError> {
    ds.find_user(|u| u.id == id).ok_or_else(ApiError::not_found)
}

pub fn delete_user(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let mut ds = ctx.s.write();
    let i = user_index(&ds, segs[3])?;
    ds.delete_user(i);
    let object = ds.users[i].username.clone();
    log_api_change(&mut ds, ctx.now, "user_delete", object, "{}".into());
    Ok(ok(json!("")))
}

pub fn update_user(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let status = match ctx.params.get("status") {
        None => None,
        Some("active") => Some(UserStatus::Active),
        Some("disabled") => Some(UserStatus::Disabled),
        Some("bypass") => Some(UserStatus::Bypass),
        // Only Duo itself locks users out.
        Some(_) => return Err(ApiError::invalid_param("status")),
    };
    let mut ds = ctx.s.write();
    let i = user_index(&ds, segs[3])?;
    let mut changes = serde_json::Map::new();
    {
        let u = &mut ds.users[i];
        if let Some(st) = status {
            u.status = st;
            if st != UserStatus::LockedOut {
                u.lockout_reason = None;
            }
            let shown = match st {
                UserStatus::Active => "Active",
                UserStatus::Disabled => "Disabled",
                UserStatus::Bypass => "Bypass",
                UserStatus::LockedOut => "Locked Out",
            };
            changes.insert("status".into(), json!(shown));
        }
        for (field, slot) in [
            ("realname", &mut u.realname),
            ("email", &mut u.email),
            ("notes", &mut u.notes),
        ] {
            if let Some(v) = ctx.params.get(field) {
                *slot = v.to_string();
                changes.insert(field.into(), json!(v));
            }
        }
    }
    if !changes.is_empty() {
        let object = ds.users[i].username.clone();
        log_api_change(
            &mut ds,
            ctx.now,
            "user_update",
            object,
            Value::Object(changes).to_string(),
        );
    }
    Ok(ok(render::user(&ds, &ds.users[i])))
}

/// Idempotent, like Duo: removing a phone that is not attached still succeeds.
pub fn disassociate_phone(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let mut ds = ctx.s.write();
    let i = user_index(&ds, segs[3])?;
    let phone = ds
        .phones
        .iter()
        .position(|p| p.id == segs[5])
        .ok_or_else(ApiError::not_found)?;
    ds.users[i].phones.retain(|&p| p as usize != phone);
    ds.phones[phone].users.retain(|&u| u as usize != i);
    let object = ds.users[i].username.clone();
    let number = ds.phones[phone].number.clone();
    log_api_change(
        &mut ds,
        ctx.now,
        "phone_disassociate",
        object,
        json!({"number": number}).to_string(),
    );
    Ok(ok(json!("")))
}

pub fn enroll(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let username = ctx.params.require("username")?.to_string();
    let email = ctx.params.require("email")?.to_string();
    if !email.contains('@') {
        return Err(ApiError::invalid_param("email"));
    }
    let mut ds = ctx.s.write();
    if ds.live_users().any(|u| u.username == username) {
        return Err(ApiError::invalid_param("Username already exists"));
    }
    let (id, epkey, ip) = {
        let mut rng = ctx.s.rng();
        (rng.duo_id("DU"), rng.duo_id("EP"), rng.next_u64() as u32)
    };
    ds.users.push(User {
        id,
        realname: String::new(),
        email: email.clone(),
        status: UserStatus::Active,
        lockout_reason: None,
        created_s: ctx.now / 1000,
        last_login_s: None,
        phones: Vec::new(),
        groups: vec![0],
        home_city: 0,
        ip,
        profile: 0,
        epkey,
        webauthn_key: None,
        token_serial: None,
        trusted_endpoint: "unknown",
        notes: String::new(),
        deleted: false,
        username: username.clone(),
    });
    log_api_change(
        &mut ds,
        ctx.now,
        "user_create",
        username,
        json!({"email": email, "enroll": true}).to_string(),
    );
    Ok(ok(json!("")))
}

pub fn send_verification_push(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let phone_id = ctx.params.require("phone_id")?;
    let ds = ctx.s.read();
    let i = user_index(&ds, segs[3])?;
    let u = &ds.users[i];
    let ok_phone = u.phones.iter().any(|&p| {
        ds.phones[p as usize].id == phone_id && ds.phones[p as usize].capabilities & caps::PUSH != 0
    });
    if !ok_phone {
        return Err(ApiError::invalid_param("phone_id"));
    }
    let (push_id, code) = {
        let mut rng = ctx.s.rng();
        (
            format_uuid(rng.uuid()),
            format!("{:06}", rng.below(1_000_000)),
        )
    };
    let mut pushes = ctx.s.pushes.lock().unwrap_or_else(|e| e.into_inner());
    let answer = pushes.answer_for(&u.username);
    pushes.verifications.insert(
        push_id.clone(),
        Pending {
            user: i as u32,
            started: ctx.now,
            answer,
        },
    );
    Ok(ok(json!({"push_id": push_id, "confirmation_code": code})))
}

pub fn verification_push_response(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let push_id = ctx.params.require("push_id")?;
    let ds = ctx.s.read();
    let i = user_index(&ds, segs[3])?;
    let pushes = ctx.s.pushes.lock().unwrap_or_else(|e| e.into_inner());
    let p = pushes
        .verifications
        .get(push_id)
        .filter(|p| p.user as usize == i && ctx.now - p.started <= VERIFICATION_TTL_MS)
        .ok_or_else(ApiError::not_found)?;
    let result = match p.outcome(ctx.now) {
        Outcome::Approved => "approve",
        Outcome::Denied => "deny",
        Outcome::Fraud => "fraud",
        Outcome::Waiting | Outcome::TimedOut => "waiting",
    };
    Ok(ok(json!({"push_id": push_id, "result": result})))
}
