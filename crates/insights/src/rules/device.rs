//! DUO-20 authenticator registration anomaly, DUO-23 device-health denials
//! and logins from unhealthy endpoints.
//!
//! DUO-20 needs to know which device is new. Without inventory history, the
//! signal is Duo's inline-enrollment auth event (`event_type = enrollment`)
//! whose auth device is then looked up in the inventory and compared with the
//! user's other devices. Devices added through the admin panel or self-service
//! portal (no enrollment event) are not seen.

use std::collections::BTreeMap;

use super::super::draft::{Draft, Severity, bucket};
use super::super::index::{Dataset, Outcome, ReasonKind, User};
use super::super::thresholds::Thresholds;

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        registration(ds, t, user, out);
        health(ds, t, user, out);
    }
}

fn platform_family(platform: Option<&str>) -> Option<String> {
    let p = platform?.trim().to_ascii_lowercase();
    if p.is_empty() || p.contains("unknown") || p.contains("generic") {
        None
    } else if p.contains("ios") || p.contains("iphone") || p.contains("ipad") {
        Some("ios".to_owned())
    } else if p.contains("android") {
        Some("android".to_owned())
    } else if p.contains("windows") {
        Some("windows".to_owned())
    } else if p.contains("mac") {
        Some("macos".to_owned())
    } else {
        Some(p)
    }
}

fn version(v: Option<&str>) -> Vec<u32> {
    v.unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn registration(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    for &i in &user.events {
        let ev = &ds.events[i as usize];
        if !ev.is_enrollment {
            continue;
        }
        let created = user.account.and_then(|a| a.created_ms);
        if created.is_some_and(|c| ev.ts - c < t.registration_grace_ms) {
            continue;
        }
        let Some(new) =
            ev.e.auth_device
                .as_ref()
                .and_then(|a| a.id.as_deref())
                .and_then(|id| ds.device_by_id.get(id))
        else {
            continue;
        };
        let others: Vec<_> = user
            .devices
            .iter()
            .filter(|d| d.device_id != new.device_id)
            .collect();
        if others.is_empty() {
            continue;
        }
        let fam = platform_family(new.platform.as_deref());
        let other_fams: Vec<Option<String>> = others
            .iter()
            .map(|d| platform_family(d.platform.as_deref()))
            .collect();
        let why = match &fam {
            None => Some("its platform is unknown".to_owned()),
            Some(f) if !other_fams.iter().any(|o| o.as_ref() == Some(f)) => Some(format!(
                "it runs {f} while the user's other devices run {}",
                other_fams
                    .iter()
                    .map(|o| o.as_deref().unwrap_or("unknown"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(f) => {
                let newest_same = others
                    .iter()
                    .filter(|d| platform_family(d.platform.as_deref()).as_ref() == Some(f))
                    .map(|d| version(d.os_version.as_deref()))
                    .max()
                    .unwrap_or_default();
                let v = version(new.os_version.as_deref());
                (!v.is_empty() && v < newest_same).then(|| {
                    format!(
                        "its OS version {} is older than the user's existing {f} device",
                        new.os_version.as_deref().unwrap_or("?")
                    )
                })
            }
        };
        let Some(why) = why else { continue };
        out.push(
            Draft::over_events(ds, "DUO-20", format!("{}|{}", user.key, new.device_id), vec![i])
                .title("Unusual new MFA device registered")
                .severity(Severity::High)
                .subject(user.name)
                .action("remove-phone")
                .detail(format!(
                    "{} enrolled device {} and {why}: an attacker with the password may have registered their own \
                     phone. Confirm with the user; if not theirs remove the phone, disable the account and re-enroll.",
                    user.name, new.device_id
                )),
        );
    }
}

fn health(ds: &Dataset<'_>, t: &Thresholds, user: &User<'_>, out: &mut Vec<Draft>) {
    let mut groups: BTreeMap<(&str, i64), Vec<u32>> = BTreeMap::new();
    for &i in &user.events {
        let ev = &ds.events[i as usize];
        let ad = &ev.e.access_device;
        let label = if ev.outcome == Outcome::Denied && ev.reason_kind == ReasonKind::DeviceHealth {
            ev.reason
        } else if ev.outcome == Outcome::Success
            && [
                ad.is_encryption_enabled,
                ad.is_firewall_enabled,
                ad.is_password_set,
            ]
            .contains(&Some(false))
        {
            "unhealthy_success"
        } else {
            continue;
        };
        groups
            .entry((label, bucket(ev.ts, t.device_health_window_ms)))
            .or_default()
            .push(i);
    }
    for ((label, day), events) in groups {
        let n = events.len();
        let success = label == "unhealthy_success";
        let d = Draft::over_events(ds, "DUO-23", format!("{}|{label}|{day}", user.key), events)
            .subject(user.name);
        out.push(if success {
            d.title("Login from an endpoint without encryption, firewall or password")
                .severity(Severity::Low)
                .detail(format!(
                    "{} signed in {n} time(s) from an endpoint that reports disk encryption, firewall or a device \
                     password off. Ask IT to bring the device into compliance, or require it in the Duo policy.",
                    user.name
                ))
        } else {
            d.title("Login denied for device health")
                .severity(Severity::Medium)
                .detail(format!(
                    "Duo denied {n} login(s) by {} because of the endpoint ({label}). Notify the user and IT; the \
                     account itself needs no action.",
                    user.name
                ))
        });
    }
}
