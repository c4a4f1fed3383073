//! DUO-05 bypass used to authenticate, DUO-06 users in bypass status.
//!
//! Duo group status (a whole group set to Bypass) is not in the normalized
//! model, so DUO-06 sees only per-user bypass status; the time a user has been
//! in bypass is not tracked either (no status history), so the catalogue's
//! "> 7 days for non-admins" grace cannot be applied: every bypass user is
//! reported, privileged ones as high.

use super::super::draft::{Draft, Severity, bucket};
use super::super::index::{Dataset, Outcome, ReasonKind};
use super::super::thresholds::{DAY_MS, Thresholds};
use super::{is_privileged, select, status_is};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        used(ds, user, out);
        status(ds, t, user, out);
    }
}

fn used(ds: &Dataset<'_>, user: &super::super::index::User<'_>, out: &mut Vec<Draft>) {
    for (label, is_status) in [("bypass status", true), ("bypass code", false)] {
        let (times, idx) = select(ds, user, |e| {
            e.outcome == Outcome::Success
                && if is_status {
                    e.reason_kind == ReasonKind::BypassUser
                } else {
                    e.bypass_code && e.reason_kind != ReasonKind::BypassUser
                }
        });
        let mut start = 0;
        while start < times.len() {
            let day = bucket(times[start], DAY_MS);
            let end = times.partition_point(|&x| x < day + DAY_MS);
            let key = format!(
                "{}|{}|{}",
                user.key,
                if is_status { "status" } else { "code" },
                day
            );
            let how = if is_status {
                "while in bypass status: Duo skipped the second factor. Set the user back to active (reactivate-user)."
            } else {
                "with a bypass code. Confirm the user asked the help desk for it and delete unused codes."
            };
            out.push(
                Draft::over_events(ds, "DUO-05", key, idx[start..end].to_vec())
                    .title(format!("Authentication with MFA bypassed ({label})"))
                    .severity(Severity::Medium)
                    .subject(user.name)
                    .action("reactivate-user")
                    .detail(format!(
                        "{} signed in {} time(s) {how}",
                        user.name,
                        end - start
                    )),
            );
            start = end;
        }
    }
}

fn status(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &super::super::index::User<'_>,
    out: &mut Vec<Draft>,
) {
    let Some(account) = user.account else { return };
    if !status_is(&account.status, "bypass") {
        return;
    }
    let (_, idx) = select(ds, user, |e| {
        e.outcome == Outcome::Success && e.reason_kind == ReasonKind::BypassUser
    });
    let privileged = is_privileged(t, user);
    let skipped = idx.len();
    let mut d = Draft::over_events(ds, "DUO-06", account.user_id.clone(), idx)
        .title("User is in bypass status (no MFA)")
        .severity(if privileged { Severity::High } else { Severity::Medium })
        .subject(user.name)
        .action("reactivate-user")
        .detail(format!(
            "{} is in Duo bypass status{}; {skipped} of their logins in the collected history skipped MFA. Set the \
             status back to active unless a documented exception exists.",
            user.name,
            if privileged { " and is in a privileged group" } else { "" },
        ));
    if skipped == 0 {
        d.first = account.created_ms.unwrap_or(ds.now_ms);
        d.last = ds.now_ms;
    }
    d.records.push(account.user_id.clone());
    out.push(d);
}
