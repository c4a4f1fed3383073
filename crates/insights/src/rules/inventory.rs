//! Inventory posture: DUO-07 not enrolled, DUO-08 never logged in, DUO-09
//! inactive, DUO-11 weak-factor-only, DUO-21 shared MFA device, DUO-22
//! lockout risk / inconsistent status across one person's accounts.

use std::collections::{BTreeMap, BTreeSet};

use super::super::draft::{Draft, Severity};
use super::super::index::{Dataset, Outcome, User};
use super::super::thresholds::{DAY_MS, Thresholds};
use super::{between, is_privileged, status_is};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        not_enrolled(ds, t, user, out);
        never_logged_in(ds, t, user, out);
        inactive(ds, t, user, out);
        weak_only(ds, t, user, out);
    }
    shared_devices(ds, out);
    lockout_risk(ds, out);
}

fn is_live(status: &str) -> bool {
    !status_is(status, "disabled") && !status_is(status, "pending_deletion")
}

fn inventory_draft(ds: &Dataset<'_>, insight: &'static str, user: &User<'_>, at: i64) -> Draft {
    let key = user.key.to_owned();
    let mut d = Draft::over_events(ds, insight, key, Vec::new()).subject(user.name);
    d.first = at;
    d.last = at;
    d.records.push(user.key.to_owned());
    d
}

/// Whether the user has a working second factor in the inventory.
pub(crate) fn is_unenrolled(user: &User<'_>) -> bool {
    let Some(a) = user.account else { return false };
    let devices = &user.devices;
    !a.is_enrolled || (!devices.is_empty() && devices.iter().all(|d| !d.activated))
}

fn not_enrolled(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let Some(a) = user.account else { return };
    if !is_live(&a.status) || status_is(&a.status, "bypass") || !is_unenrolled(user) {
        return;
    }
    // Unknown creation time: the grace period cannot be applied, report anyway.
    if a.created_ms
        .is_some_and(|c| ds.now_ms - c < t.not_enrolled_grace_ms)
    {
        return;
    }
    let privileged = is_privileged(t, user);
    out.push(
        inventory_draft(ds, "DUO-07", user, a.created_ms.unwrap_or(ds.now_ms))
            .title("User has no MFA enrolled")
            .severity(if privileged { Severity::High } else { Severity::Medium })
            .action("send-enrollment")
            .detail(format!(
                "{} has no activated Duo device{} {} days after creation: anyone with the password can enroll their \
                 own phone. Send an enrollment link, or disable the account if it is unused.",
                user.name,
                if privileged { " and is in a privileged group" } else { "" },
                a.created_ms.map_or("(unknown)".to_owned(), |c| ((ds.now_ms - c) / DAY_MS).to_string()),
            )),
    );
}

fn never_logged_in(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let Some(a) = user.account else { return };
    let Some(created) = a.created_ms else { return };
    if !is_live(&a.status)
        || ds.now_ms - created < t.never_logged_in_grace_ms
        || ds.last_activity(user).is_some()
    {
        return;
    }
    let unenrolled = is_unenrolled(user);
    out.push(
        inventory_draft(ds, "DUO-08", user, created)
            .title("Account never logged in")
            .severity(Severity::Medium)
            .action(if unenrolled {
                "send-enrollment"
            } else {
                "disable-user"
            })
            .detail(format!(
                "{} was created {} days ago and has never completed a Duo login{}.",
                user.name,
                (ds.now_ms - created) / DAY_MS,
                if unenrolled {
                    "; re-send the enrollment, or disable the account if nobody claims it"
                } else {
                    "; confirm the owner or disable it"
                }
            )),
    );
}

fn inactive(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let Some(a) = user.account else { return };
    let Some(last) = ds.last_activity(user) else {
        return;
    };
    let idle = ds.now_ms - last;
    if !is_live(&a.status) || idle <= t.inactive_ms {
        return;
    }
    let stale = idle > t.stale_ms;
    out.push(
        inventory_draft(ds, "DUO-09", user, last)
            .title(if stale { "Stale account (no login in 90+ days)" } else { "Inactive account (no login in 30+ days)" })
            .severity(if stale { Severity::Low } else { Severity::Info })
            .action("disable-user")
            .detail(format!(
                "{} last authenticated {} days ago. Disable after the owner's manager confirms it is unused.",
                user.name,
                idle / DAY_MS
            )),
    );
}

fn weak_only(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let recent = between(ds, user, ds.now_ms - t.weak_only_window_ms, ds.now_ms);
    let mut weak = Vec::new();
    for &i in recent {
        let e = &ds.events[i as usize];
        if e.outcome != Outcome::Success {
            continue;
        }
        if !e.weak {
            return;
        }
        weak.push(i);
    }
    if weak.len() < t.weak_only_min_auths {
        return;
    }
    // A user who owns a push- or key-capable device can be moved by policy
    // alone; the finding is for users who have nothing better.
    let strong_capable = user.devices.iter().any(|d| {
        d.activated
            && (matches!(d.kind.as_str(), "token" | "webauthn")
                || d.capabilities
                    .iter()
                    .any(|c| !matches!(c.as_str(), "sms" | "phone")))
    });
    if strong_capable {
        return;
    }
    let n = weak.len();
    out.push(
        Draft::over_events(ds, "DUO-11", user.key.to_owned(), weak)
            .title("User authenticates only with weak factors (SMS / phone call)")
            .severity(Severity::Medium)
            .subject(user.name)
            .detail(format!(
                "All {n} successful logins of {} in the last {} days used SMS or phone call, and no push-, OTP- or \
                 key-capable device is registered. Activate Duo Mobile for the user and restrict SMS in the policy.",
                user.name,
                t.weak_only_window_ms / DAY_MS
            )),
    );
}

fn shared_devices(ds: &Dataset<'_>, out: &mut Vec<Draft>) {
    // Who holds each device and each phone number, from both inventory sides.
    let mut by_device: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &ds.devices {
        by_device
            .entry(&d.device_id)
            .or_default()
            .extend(d.user_ids.iter().map(String::as_str));
    }
    for u in &ds.users {
        if let Some(a) = u.account {
            for id in &a.device_ids {
                by_device.entry(id).or_default().insert(u.key);
            }
        }
    }
    let mut by_number: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for d in &ds.devices {
        if let Some(h) = d.number_hash.as_deref().filter(|h| !h.is_empty()) {
            let entry = by_number.entry(h).or_default();
            entry.0.insert(&d.device_id);
            if let Some(users) = by_device.get(d.device_id.as_str()) {
                entry.1.extend(users.iter().copied());
            }
        }
    }
    let mut emit = |key: String, what: String, devices: Vec<&str>, users: &BTreeSet<&str>| {
        let mut d = Draft::over_events(ds, "DUO-21", key, Vec::new())
            .title("MFA device shared by several users")
            .severity(Severity::Medium)
            .action("remove-phone");
        for u in users {
            d = d.subject(ds.name_of(u));
        }
        d.first = ds.now_ms;
        d.last = ds.now_ms;
        d.records.extend(devices.iter().map(|s| (*s).to_owned()));
        d.detail = format!(
            "{what} is linked to {} users ({}): whoever holds it can approve logins for all of them. Remove it from \
             the accounts that do not own it (remove-phone) and enroll a personal device.",
            users.len(),
            d.subjects.join(", ")
        );
        out.push(d);
    };
    for (id, users) in &by_device {
        if users.len() >= 2 {
            emit(
                format!("device:{id}"),
                format!("Device {id}"),
                vec![id],
                users,
            );
        }
    }
    for (hash, (devices, users)) in &by_number {
        // Same number on several device records; one record shared is reported above.
        if devices.len() >= 2 && users.len() >= 2 {
            emit(
                format!("number:{hash}"),
                "One phone number".to_owned(),
                devices.iter().copied().collect(),
                users,
            );
        }
    }
}

fn status<'a>(u: &User<'a>) -> &'a str {
    u.account.map_or("", |a| a.status.as_str())
}

fn lockout_risk(ds: &Dataset<'_>, out: &mut Vec<Draft>) {
    let mut people: BTreeMap<String, Vec<&User<'_>>> = BTreeMap::new();
    for u in &ds.users {
        if let Some(email) = u
            .account
            .and_then(|a| a.email.as_deref())
            .filter(|e| e.contains('@'))
        {
            people
                .entry(email.trim().to_ascii_lowercase())
                .or_default()
                .push(u);
        }
    }
    for (email, accounts) in people {
        let locked: Vec<_> = accounts
            .iter()
            .filter(|u| status_is(status(u), "locked_out"))
            .collect();
        let open: Vec<_> = accounts
            .iter()
            .filter(|u| status_is(status(u), "active"))
            .collect();
        if locked.is_empty() || open.is_empty() {
            continue;
        }
        // Successes on the open accounts show the person is still working,
        // i.e. the lock does not contain them (or it locks out the wrong account).
        let mut events: Vec<u32> = open
            .iter()
            .flat_map(|u| {
                u.events
                    .iter()
                    .copied()
                    .filter(|&i| ds.events[i as usize].outcome == Outcome::Success)
            })
            .collect();
        events.sort_unstable();
        let still_working = !events.is_empty();
        let mut d = Draft::over_events(ds, "DUO-22", format!("person:{email}"), events)
            .title("Person locked out on one Duo account but active on another")
            .severity(Severity::Medium)
            .action("reactivate-user");
        for u in locked.iter().chain(open.iter()) {
            d = d.subject(u.name);
            d.records.push(u.key.to_owned());
        }
        if !still_working {
            d.first = ds.now_ms;
            d.last = ds.now_ms;
        }
        d.detail = format!(
            "{email} owns locked-out account(s) {} and active account(s) {}{}. Decide with the person: reactivate the \
             locked account after a verification push, or disable all of them if the lockout was an attack.",
            locked.iter().map(|u| u.name).collect::<Vec<_>>().join(", "),
            open.iter().map(|u| u.name).collect::<Vec<_>>().join(", "),
            if still_working {
                " that still authenticate successfully"
            } else {
                ""
            }
        );
        out.push(d);
    }
}
