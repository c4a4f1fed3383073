//! Log endpoints: authentication v2, telephony v2, administrator v1 (duo-api.md §4.2, §4.4).

use serde::Serialize;
use serde_json::Value;

use super::Ctx;
use super::envelope::{ApiError, ApiResult, ok, ok_typed};
use crate::data::Dataset;
use crate::data::catalog::{FACTORS, REASONS, RESULTS, factor};
use crate::data::generate::{DAY, MINUTE};
use crate::data::model::{Event, flags};
use crate::data::render::{self, JsonEvent, TelephonyJson};
use crate::data::rng::format_uuid;

/// The longest an auth event takes to show up in the log: every event older than this
/// is served, so a collector that stays this far behind `now` never misses one.
pub const MAX_DELAY_MS: i64 = 2 * MINUTE;

/// When an auth event becomes visible in the log: most within 5 s, one in
/// ten between 5 s and [`MAX_DELAY_MS`], fixed per event (from its txid) so
/// runs are reproducible. A collector that asks up to `now` and then moves
/// on loses the stragglers, as it would against Duo.
pub fn arrival_ms(e: &Event) -> i64 {
    let r = (e.txid >> 64) as u64;
    let delay = if r.is_multiple_of(10) {
        5_000 + (r / 10) % (MAX_DELAY_MS as u64 - 5_000 + 1)
    } else {
        (r / 10) % 5_001
    };
    e.ms + delay as i64
}
pub const MAX_AGE_MS: i64 = 180 * DAY;

/// Anything below this is a seconds value (13-digit ms timestamps start in 2001).
const MIN_MS_TIMESTAMP: i64 = 1_000_000_000_000;

fn time_param(ctx: &Ctx<'_>, name: &str) -> Result<i64, ApiError> {
    let raw = ctx.params.require(name)?;
    let value: i64 = raw.parse().map_err(|_| ApiError::invalid_param(name))?;
    if value < MIN_MS_TIMESTAMP {
        return Err(ApiError::invalid_param(format!(
            "'{name}' must be a timestamp in milliseconds"
        )));
    }
    Ok(value)
}

/// mintime/maxtime validation shared by the v2 log endpoints.
fn window(ctx: &Ctx<'_>) -> Result<(i64, i64), ApiError> {
    let mintime = time_param(ctx, "mintime")?;
    let maxtime = time_param(ctx, "maxtime")?;
    if mintime < ctx.now - MAX_AGE_MS {
        return Err(ApiError::invalid_param(
            "mintime must be within the past 180 days",
        ));
    }
    if maxtime <= mintime {
        return Err(ApiError::invalid_param(
            "maxtime must be greater than mintime",
        ));
    }
    Ok((mintime, maxtime))
}

fn sort_desc(ctx: &Ctx<'_>) -> Result<bool, ApiError> {
    match ctx.params.get("sort") {
        None | Some("ts:desc") => Ok(true),
        Some("ts:asc") => Ok(false),
        Some(_) => Err(ApiError::invalid_param("sort")),
    }
}

/// `next_offset` either as one "ms,id" value or as the repeated pair (any order).
fn offset(ctx: &Ctx<'_>) -> Result<Option<(i64, String)>, ApiError> {
    let values = ctx.params.all("next_offset");
    let (a, b) = match values.as_slice() {
        [] => return Ok(None),
        [one] => one
            .split_once(',')
            .ok_or_else(|| ApiError::invalid_param("next_offset"))?,
        [x, y] => (*x, *y),
        _ => return Err(ApiError::invalid_param("next_offset")),
    };
    let (ms, id) = match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
        (Ok(ms), _) => (ms, b.trim()),
        (_, Ok(ms)) => (ms, a.trim()),
        _ => return Err(ApiError::invalid_param("next_offset")),
    };
    if id.is_empty() {
        return Err(ApiError::invalid_param("next_offset"));
    }
    Ok(Some((ms, id.to_string())))
}

/// Optional auth-log filters (repeat a parameter for several values).
struct Filter {
    users: Vec<u32>,
    apps: Vec<u16>,
    results: Vec<u8>,
    factors: Vec<u8>,
    reasons: Vec<u8>,
    event_types: Vec<bool>,
    active: bool,
}

fn codes(values: Vec<&str>, table: &[&str], name: &str) -> Result<Vec<u8>, ApiError> {
    values
        .into_iter()
        .map(|v| {
            table
                .iter()
                .position(|t| *t == v)
                .map(|i| i as u8)
                .ok_or_else(|| ApiError::invalid_param(name))
        })
        .collect()
}

impl Filter {
    fn parse(ctx: &Ctx<'_>, ds: &Dataset) -> Result<Filter, ApiError> {
        let users = ctx
            .params
            .all("users")
            .into_iter()
            .map(|id| {
                ds.users
                    .iter()
                    .position(|u| u.id == id)
                    .map(|i| i as u32)
                    .unwrap_or(u32::MAX)
            })
            .collect::<Vec<_>>();
        let apps = ctx
            .params
            .all("applications")
            .into_iter()
            .map(|k| {
                ds.apps
                    .iter()
                    .position(|a| a.key == k)
                    .map(|i| i as u16)
                    .unwrap_or(u16::MAX)
            })
            .collect::<Vec<_>>();
        let event_types = ctx
            .params
            .all("event_types")
            .into_iter()
            .map(|t| match t {
                "authentication" => Ok(false),
                "enrollment" => Ok(true),
                _ => Err(ApiError::invalid_param("event_types")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let f = Filter {
            users,
            apps,
            results: codes(ctx.params.all("results"), RESULTS, "results")?,
            factors: codes(ctx.params.all("factors"), FACTORS, "factors")?,
            reasons: codes(ctx.params.all("reasons"), REASONS, "reasons")?,
            event_types,
            active: false,
        };
        let active = !(f.users.is_empty()
            && f.apps.is_empty()
            && f.results.is_empty()
            && f.factors.is_empty()
            && f.reasons.is_empty()
            && f.event_types.is_empty());
        Ok(Filter { active, ..f })
    }

    fn accepts(&self, e: &Event) -> bool {
        (self.users.is_empty() || self.users.contains(&e.user))
            && (self.apps.is_empty() || self.apps.contains(&e.app))
            && (self.results.is_empty() || self.results.contains(&e.result))
            && (self.factors.is_empty() || self.factors.contains(&e.factor))
            && (self.reasons.is_empty() || self.reasons.contains(&e.reason))
            && (self.event_types.is_empty()
                || self
                    .event_types
                    .contains(&(e.flags & flags::ENROLLMENT != 0)))
    }
}

// Log pages are serialized straight from these typed shapes (see `render`).

#[derive(Serialize)]
struct AuthPage<'a> {
    authlogs: Vec<JsonEvent<'a>>,
    metadata: AuthPageMetadata,
}

#[derive(Serialize)]
struct AuthPageMetadata {
    /// `["<ms>", "<txid>"]`, or null on the last page.
    next_offset: Option<[String; 2]>,
    total_objects: usize,
}

#[derive(Serialize)]
struct TelephonyPage<'a> {
    items: Vec<TelephonyJson<'a>>,
    metadata: TelephonyPageMetadata,
}

#[derive(Serialize)]
struct TelephonyPageMetadata {
    /// `"<ms>,<telephony_id>"`, or null on the last page.
    next_offset: Option<String>,
    total_objects: TotalObjects,
}

#[derive(Serialize)]
struct TotalObjects {
    relation: &'static str,
    value: usize,
}

pub fn authentication(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let (mintime, maxtime) = window(ctx)?;
    let limit = ctx.params.int_in("limit", 100, 1, 1000)? as usize;
    let desc = sort_desc(ctx)?;
    let offset = offset(ctx)?;
    let ds = ctx.s.read();
    let filter = Filter::parse(ctx, &ds)?;
    let now = ctx.now;

    let evs = &ds.events;
    let lo = evs.partition_point(|e| e.ms < mintime);
    let hi = evs.partition_point(|e| e.ms <= maxtime);
    let slice = &evs[lo..hi.max(lo)];
    let settled = now - MAX_DELAY_MS;
    let matches = |e: &Event| (e.ms <= settled || arrival_ms(e) <= now) && filter.accepts(e);
    let total = if filter.active || slice.last().is_some_and(|e| e.ms > settled) {
        slice.iter().filter(|e| matches(e)).count()
    } else {
        slice.len()
    };

    let candidates: Box<dyn Iterator<Item = &Event>> = if desc {
        let end = match &offset {
            None => slice.len(),
            Some((oms, otx)) => {
                let mut i = slice.partition_point(|e| e.ms <= *oms);
                while i > 0
                    && slice[i - 1].ms == *oms
                    && format_uuid(slice[i - 1].txid).as_str() >= otx.as_str()
                {
                    i -= 1;
                }
                i
            }
        };
        Box::new(slice[..end].iter().rev())
    } else {
        let start = match &offset {
            None => 0,
            Some((oms, otx)) => {
                let mut i = slice.partition_point(|e| e.ms < *oms);
                while i < slice.len()
                    && slice[i].ms == *oms
                    && format_uuid(slice[i].txid).as_str() <= otx.as_str()
                {
                    i += 1;
                }
                i
            }
        };
        Box::new(slice[start..].iter())
    };
    let mut page: Vec<&Event> = candidates.filter(|e| matches(e)).take(limit + 1).collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let next_offset = match (more, page.last()) {
        (true, Some(last)) => Some([last.ms.to_string(), format_uuid(last.txid)]),
        _ => None,
    };
    let mut rendered = ds.rendered_auth.lock();
    rendered.render(&ds, &page);
    ok_typed(&AuthPage {
        authlogs: page.iter().map(|e| rendered.json(&ds, e)).collect(),
        metadata: AuthPageMetadata {
            next_offset,
            total_objects: total,
        },
    })
}

pub fn telephony(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let (mintime, maxtime) = window(ctx)?;
    let limit = ctx.params.int_in("limit", 100, 1, 1000)? as usize;
    let desc = sort_desc(ctx)?;
    let offset = offset(ctx)?;
    let ds = ctx.s.read();
    let lo = ds.events.partition_point(|e| e.ms < mintime);
    let hi = ds.events.partition_point(|e| e.ms <= maxtime);
    let mut items: Vec<(i64, String, &Event, u128)> = ds.events[lo..hi.max(lo)]
        .iter()
        .filter(|e| {
            e.ms <= ctx.now - MAX_DELAY_MS && matches!(e.factor, factor::SMS | factor::PHONE_CALL)
        })
        .map(|e| {
            let tid = render::telephony_id(e);
            (e.ms, format_uuid(tid), e, tid)
        })
        .collect();
    items.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    if desc {
        items.reverse();
    }
    let total = items.len();
    if let Some((oms, oid)) = &offset {
        items.retain(|(ms, id, _, _)| {
            let key = (*ms, id.as_str());
            if desc {
                key < (*oms, oid.as_str())
            } else {
                key > (*oms, oid.as_str())
            }
        });
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next_offset = match (more, items.last()) {
        (true, Some((ms, id, _, _))) => Some(format!("{ms},{id}")),
        _ => None,
    };
    ok_typed(&TelephonyPage {
        items: items
            .iter()
            .map(|(_, _, e, tid)| render::telephony_item(&ds, e, *tid))
            .collect(),
        metadata: TelephonyPageMetadata {
            next_offset,
            total_objects: TotalObjects {
                relation: "eq",
                value: total,
            },
        },
    })
}

/// v1 administrator log: `mintime` in seconds, bare array of at most 1000 events.
pub fn administrator(ctx: &Ctx<'_>, _: &[&str]) -> ApiResult {
    let floor = (ctx.now - MAX_AGE_MS) / 1000;
    let mintime = match ctx.params.get("mintime") {
        None => floor,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::invalid_param("mintime"))?
            .max(floor),
    };
    let ds = ctx.s.read();
    let cutoff = ctx.now - MAX_DELAY_MS;
    let items: Vec<Value> = ds
        .admin_log
        .iter()
        .filter(|a| a.ms / 1000 >= mintime && a.ms <= cutoff)
        .take(1000)
        .map(render::admin_event)
        .collect();
    Ok(ok(Value::Array(items)))
}
