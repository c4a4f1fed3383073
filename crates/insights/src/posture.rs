//! The MFA posture summary (insights.md §5): enrollment, hygiene counts,
//! factor mix by strength tier, success rate and denial reasons, apps
//! without effective MFA, weak-factor-only users. Auth metrics cover the
//! last 30 days before `now`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::factors::{Tier, denial_group};
use super::fxhash::FxHashMap;
use super::index::{Dataset, Outcome};
use super::rules::inventory::is_unenrolled;
use super::rules::status_is;
use super::thresholds::{DAY_MS, Thresholds};

pub const WINDOW_DAYS: i64 = 30;
const EXAMPLES: usize = 5;

/// A count and a few (sorted) names for the report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NamedCount {
    pub count: usize,
    pub examples: Vec<String>,
}

impl NamedCount {
    fn add(&mut self, name: &str) {
        self.count += 1;
        self.examples.push(name.to_owned());
    }
    fn finish(&mut self) {
        self.examples.sort();
        self.examples.truncate(EXAMPLES);
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserPosture {
    /// Accounts in the inventory.
    pub total: usize,
    /// Accounts not disabled (the enrollment-rate denominator).
    pub considered: usize,
    pub enrolled: usize,
    /// enrolled / considered; none without inventory.
    pub enrollment_rate: Option<f64>,
    pub not_enrolled: NamedCount,
    pub inactive_30d: NamedCount,
    pub bypass: NamedCount,
    pub locked_out: NamedCount,
    pub never_logged_in: NamedCount,
    pub disabled: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorShare {
    pub factor: String,
    pub tier: Tier,
    pub successes: usize,
    pub share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierShare {
    pub tier: Tier,
    pub successes: usize,
    pub share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    /// user | policy | device-health | lockout | error
    pub group: &'static str,
    pub count: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthPosture {
    pub total: usize,
    pub success: usize,
    pub denied: usize,
    pub fraud: usize,
    pub error: usize,
    /// success / (success + denied + fraud + error).
    pub success_rate: Option<f64>,
    pub top_denial_reasons: Vec<ReasonCount>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppPosture {
    pub application: String,
    pub successes: usize,
    /// Share of successes that skipped the second factor.
    pub no_mfa_share: f64,
    /// Share of successes with SMS, phone call or a bypass code.
    pub weak_share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Posture {
    pub generated_at_ms: i64,
    pub window_days: i64,
    pub users: UserPosture,
    pub auth: AuthPosture,
    pub factor_mix: Vec<FactorShare>,
    pub tier_mix: Vec<TierShare>,
    /// Applications whose no-MFA share exceeds `app_no_mfa_share` (default 25%,
    /// at least `app_min_successes`), worst first.
    pub apps_without_effective_mfa: Vec<AppPosture>,
    /// Users whose successes in the window were all SMS / phone call
    /// (at least `weak_only_min_auths`), whatever devices they own.
    pub weak_factor_only_users: NamedCount,
}

pub(crate) fn compute(ds: &Dataset<'_>, t: &Thresholds) -> Posture {
    let since = ds.now_ms - WINDOW_DAYS * DAY_MS;
    let mut p = Posture {
        generated_at_ms: ds.now_ms,
        window_days: WINDOW_DAYS,
        ..Posture::default()
    };

    let u = &mut p.users;
    for user in &ds.users {
        let Some(a) = user.account else { continue };
        u.total += 1;
        if status_is(&a.status, "disabled") {
            u.disabled += 1;
            continue;
        }
        u.considered += 1;
        if is_unenrolled(user) {
            u.not_enrolled.add(user.name);
        } else {
            u.enrolled += 1;
        }
        if status_is(&a.status, "bypass") {
            u.bypass.add(user.name);
        }
        if status_is(&a.status, "locked_out") {
            u.locked_out.add(user.name);
        }
        match ds.last_activity(user) {
            None => u.never_logged_in.add(user.name),
            Some(last) if last < since => u.inactive_30d.add(user.name),
            Some(_) => {}
        }
    }
    u.enrollment_rate = (u.considered > 0).then(|| u.enrolled as f64 / u.considered as f64);
    for c in [
        &mut u.not_enrolled,
        &mut u.inactive_30d,
        &mut u.bypass,
        &mut u.locked_out,
        &mut u.never_logged_in,
    ] {
        c.finish();
    }

    let first = ds.events.partition_point(|e| e.ts < since);
    let window = &ds.events[first..];
    let mut factors: FxHashMap<&str, (Tier, usize)> = FxHashMap::default();
    let mut tiers: BTreeMap<Tier, usize> = BTreeMap::new();
    let mut reasons: FxHashMap<&str, usize> = FxHashMap::default();
    let mut apps: FxHashMap<&str, (usize, usize, usize)> = FxHashMap::default();
    // Per user: (successes, weak successes) in the window.
    let mut per_user: Vec<(u32, u32)> = vec![(0, 0); ds.users.len()];
    let a = &mut p.auth;
    for ev in window {
        a.total += 1;
        match ev.outcome {
            Outcome::Success => {
                a.success += 1;
                let f = if ev.factor.is_empty() {
                    "(none)"
                } else {
                    ev.factor
                };
                factors.entry(f).or_insert((ev.tier, 0)).1 += 1;
                *tiers.entry(ev.tier).or_insert(0) += 1;
                let weak = ev.weak;
                if let Some(app) =
                    ev.e.application_name
                        .as_deref()
                        .or(ev.e.application_id.as_deref())
                {
                    let s = apps.entry(app).or_default();
                    s.0 += 1;
                    s.1 += usize::from(ev.no_mfa);
                    s.2 += usize::from(weak || ev.bypass_code);
                }
                if let Some(pu) = per_user.get_mut(ev.user as usize) {
                    pu.0 += 1;
                    pu.1 += u32::from(weak);
                }
            }
            Outcome::Denied => {
                a.denied += 1;
                *reasons
                    .entry(if ev.reason.is_empty() {
                        "(none)"
                    } else {
                        ev.reason
                    })
                    .or_insert(0) += 1;
            }
            Outcome::Fraud => a.fraud += 1,
            Outcome::Error => a.error += 1,
            Outcome::Other => {}
        }
    }
    let attempts = a.success + a.denied + a.fraud + a.error;
    a.success_rate = (attempts > 0).then(|| a.success as f64 / attempts as f64);
    let mut top: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|(r, count)| ReasonCount {
            reason: r.to_owned(),
            group: denial_group(r),
            count,
        })
        .collect();
    top.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.reason.cmp(&y.reason)));
    top.truncate(10);
    a.top_denial_reasons = top;

    let successes = a.success.max(1) as f64;
    p.factor_mix = factors
        .into_iter()
        .map(|(f, (tier, n))| FactorShare {
            factor: f.to_owned(),
            tier,
            successes: n,
            share: n as f64 / successes,
        })
        .collect();
    p.factor_mix.sort_by(|x, y| {
        y.successes
            .cmp(&x.successes)
            .then_with(|| x.factor.cmp(&y.factor))
    });
    p.tier_mix = tiers
        .into_iter()
        .map(|(tier, n)| TierShare {
            tier,
            successes: n,
            share: n as f64 / successes,
        })
        .collect();

    p.apps_without_effective_mfa = apps
        .into_iter()
        .filter(|(_, (n, no_mfa, _))| {
            *n >= t.app_min_successes && *no_mfa as f64 / *n as f64 > t.app_no_mfa_share
        })
        .map(|(app, (n, no_mfa, weak))| AppPosture {
            application: app.to_owned(),
            successes: n,
            no_mfa_share: no_mfa as f64 / n as f64,
            weak_share: weak as f64 / n as f64,
        })
        .collect();
    p.apps_without_effective_mfa.sort_by(|x, y| {
        y.no_mfa_share
            .total_cmp(&x.no_mfa_share)
            .then_with(|| x.application.cmp(&y.application))
    });

    for (i, (n, weak)) in per_user.iter().enumerate() {
        if *n as usize >= t.weak_only_min_auths && n == weak {
            p.weak_factor_only_users.add(ds.users[i].name);
        }
    }
    p.weak_factor_only_users.finish();
    p
}
