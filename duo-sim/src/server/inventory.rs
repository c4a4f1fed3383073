//! Read-side resources: users, phones, endpoints, info (duo-api.md §4.6).

use serde_json::{Value, json};

use super::Ctx;
use super::envelope::{ApiError, ApiResult, ok, ok_with_metadata};
use crate::config::Edition;
use crate::data::render;

/// Offset paging: top-level metadata, `next_offset` absent on the last page and
/// `prev_offset` absent on the first.
fn paged(ctx: &Ctx<'_>, items: Vec<Value>, max_limit: i64) -> ApiResult {
    let limit = ctx.params.int_in("limit", 100, 1, max_limit)? as usize;
    let offset = ctx.params.int_in("offset", 0, 0, i64::MAX)? as usize;
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let mut meta = json!({"total_objects": total});
    if offset + page.len() < total {
        meta["next_offset"] = json!(offset + page.len());
    }
    if offset > 0 {
        meta["prev_offset"] = json!(offset.saturating_sub(limit));
    }
    Ok(ok_with_metadata(Value::Array(page), meta))
}

pub fn users(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let wanted = ctx.params.get("username");
    let email = ctx.params.get("email");
    let items = ds
        .live_users()
        .filter(|u| wanted.is_none_or(|w| u.username == w) && email.is_none_or(|e| u.email == e))
        .map(|u| render::user(&ds, u))
        .collect();
    paged(ctx, items, 300)
}

pub fn user(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let u = ds
        .live_users()
        .find(|u| u.id == segs[3])
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(render::user(&ds, u)))
}

pub fn user_phones(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let u = ds
        .live_users()
        .find(|u| u.id == segs[3])
        .ok_or_else(ApiError::not_found)?;
    let items = u
        .phones
        .iter()
        .map(|&p| render::phone_summary(&ds.phones[p as usize]))
        .collect();
    paged(ctx, items, 500)
}

pub fn phones(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let number = ctx.params.get("number");
    let items = ds
        .phones
        .iter()
        .filter(|p| number.is_none_or(|n| p.number == n))
        .map(|p| render::phone(&ds, p))
        .collect();
    paged(ctx, items, 500)
}

pub fn phone(ctx: &Ctx<'_>, segs: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    let p = ds
        .phones
        .iter()
        .find(|p| p.id == segs[3])
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(render::phone(&ds, p)))
}

pub fn endpoints(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    if ctx.s.edition == Edition::Essentials {
        return Err(
            ApiError::forbidden().detail("Endpoints require the Advantage or Premier edition")
        );
    }
    let ds = ctx.s.read();
    let items = ds
        .live_users()
        .filter(|u| u.last_login_s.is_some())
        .map(render::endpoint)
        .collect();
    paged(ctx, items, 500)
}

pub fn summary(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let ds = ctx.s.read();
    Ok(ok(json!({
        "admin_count": ds.admins.len(),
        "integration_count": ds.apps.len() + 4,
        "telephony_credits_remaining": 4780,
        "user_count": ds.live_users().count(),
    })))
}
