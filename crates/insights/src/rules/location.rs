//! DUO-14 new country, DUO-15 impossible travel, DUO-16 access vs auth
//! device country mismatch. Coordinates come from the embedded GeoNames
//! gazetteer (see `insights::geo`); places it cannot resolve are skipped for
//! distance reasoning, never guessed.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use super::super::draft::{Draft, Severity, bucket};
use super::super::fxhash::{FxHashMap, FxHashSet, FxHasher};
use super::super::geo::{GeoPoint, haversine_km};
use super::super::index::{CountryKey, Dataset, Ev, Locator, Outcome, User, usable_ip};
use super::super::thresholds::{DAY_MS, Thresholds};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    let facts = LocFacts::collect(ds);
    for user in &ds.users {
        walk_user(ds, t, user, &facts, out);
    }
}

/// Per-event location facts, resolved in one sequential pass over the events
/// (the per-user walks then jump around only this compact table, not the
/// events' scattered strings). Countries are interned to small ids; 0 = none.
struct LocFacts<'a> {
    countries: Vec<CountryKey<'a>>,
    per_event: Vec<Fact>,
}

#[derive(Clone, Copy, Default)]
struct Fact {
    country: u16,
    auth_country: u16,
    point: Option<GeoPoint>,
    device: Option<u64>,
}

impl<'a> LocFacts<'a> {
    fn collect(ds: &Dataset<'a>) -> LocFacts<'a> {
        let mut loc = Locator::default();
        let mut ids: FxHashMap<CountryKey<'a>, u16> = FxHashMap::default();
        let mut countries = vec![CountryKey::Raw("")];
        let mut intern = |c: Option<CountryKey<'a>>| -> u16 {
            let Some(c) = c else { return 0 };
            *ids.entry(c).or_insert_with(|| {
                countries.push(c);
                u16::try_from(countries.len() - 1).unwrap_or(u16::MAX)
            })
        };
        let mut per_event = vec![Fact::default(); ds.events.len()];
        for (ev, fact) in ds.events.iter().zip(per_event.iter_mut()) {
            if ev.outcome != Outcome::Success {
                continue;
            }
            let (country, point) = loc.resolve(&ev.e.access_device.location);
            fact.country = intern(country);
            fact.point = point;
            fact.device = device_identity(ev);
            if ev.is_push
                && let Some(au) = ev.e.auth_device.as_ref()
                && usable_ip(au.ip.as_deref()).is_some()
            {
                fact.auth_country = intern(loc.country(&au.location));
            }
        }
        LocFacts {
            countries,
            per_event,
        }
    }
}

/// The access device as a hashable identity: the endpoint id when Duo tracks
/// it, else the IPv4 /24 or IPv6 /48 (addresses churn within a network).
fn device_identity(ev: &Ev<'_>) -> Option<u64> {
    let mut h = FxHasher::default();
    if let Some(id) =
        ev.e.access_device
            .endpoint_id
            .as_deref()
            .filter(|s| !s.is_empty())
    {
        (0u8, id).hash(&mut h);
    } else {
        match ev.ip?.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => (4u8, u32::from(v4) >> 8).hash(&mut h),
            IpAddr::V6(v6) => (6u8, u128::from(v6) >> 80).hash(&mut h),
        }
    }
    Some(h.finish())
}

struct Fix<'a> {
    idx: u32,
    ts: i64,
    point: GeoPoint,
    known_before: bool,
    ev: &'a Ev<'a>,
}

fn place(ev: &Ev<'_>) -> String {
    let l = &ev.e.access_device.location;
    [l.city.as_deref(), l.state.as_deref(), l.country.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn walk_user(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &User<'_>,
    facts: &LocFacts<'_>,
    out: &mut Vec<Draft>,
) {
    let mut baseline: VecDeque<(i64, u16)> = VecDeque::new();
    let mut per_country: FxHashMap<u16, usize> = FxHashMap::default();
    let mut known_devices: FxHashSet<u64> = FxHashSet::default();
    let mut prev: Option<Fix<'_>> = None;

    for &i in &user.events {
        let ev = &ds.events[i as usize];
        if ev.outcome != Outcome::Success {
            continue;
        }
        let fact = facts.per_event[i as usize];

        // DUO-14: compare with the countries of the trailing baseline window.
        if fact.country != 0 {
            let c = fact.country;
            while baseline
                .front()
                .is_some_and(|(ts, _)| *ts < ev.ts - t.new_country_baseline_ms)
            {
                let (_, old) = baseline.pop_front().expect("front checked");
                if let Some(n) = per_country.get_mut(&old) {
                    *n -= 1;
                }
            }
            if baseline.len() >= t.new_country_min_prior
                && per_country.get(&c).copied().unwrap_or(0) == 0
            {
                let name = facts.countries[c as usize];
                out.push(
                    Draft::over_events(ds, "DUO-14", format!("{}|{name}", user.key), vec![i])
                        .title("Successful login from a new country")
                        .severity(Severity::Medium)
                        .subject(user.name)
                        .action("send-verification-push")
                        .detail(format!(
                            "{} signed in from {} ({name}), a country not seen in their {} earlier successful logins \
                             of the last {} days. Verify with the user (send-verification-push); disable if they \
                             deny it.",
                            user.name,
                            place(ev),
                            baseline.len(),
                            t.new_country_baseline_ms / DAY_MS
                        )),
                );
            }
            baseline.push_back((ev.ts, c));
            *per_country.entry(c).or_insert(0) += 1;
        }

        // DUO-16: the phone answering the push is in another country.
        if fact.country != 0 && fact.auth_country != 0 && fact.auth_country != fact.country {
            let (ad, auc) = (
                facts.countries[fact.country as usize],
                facts.countries[fact.auth_country as usize],
            );
            let key = format!("{}|{ad}|{auc}|{}", user.key, bucket(ev.ts, DAY_MS));
            out.push(
                Draft::over_events(ds, "DUO-16", key, vec![i])
                    .title("Push approved from a phone in another country than the login")
                    .severity(Severity::Medium)
                    .subject(user.name)
                    .action("send-verification-push")
                    .detail(format!(
                        "{} logged in from {ad} but the push was approved on a device in {auc}: the phone may be \
                         approving an attacker's login, or is not the user's. Verify with the user and review the \
                         phone (remove-phone if rogue).",
                        user.name
                    )),
            );
        }

        // DUO-15: speed between consecutive geolocated successes.
        let known = fact.device.is_some_and(|d| known_devices.contains(&d));
        if let Some(point) = fact.point {
            let fix = Fix {
                idx: i,
                ts: ev.ts,
                point,
                known_before: known,
                ev,
            };
            if let Some(p) = &prev {
                travel(ds, t, user, p, &fix, out);
            }
            prev = Some(fix);
        }
        if let Some(d) = fact.device {
            known_devices.insert(d);
        }
    }
}

fn travel(
    ds: &Dataset<'_>,
    t: &Thresholds,
    user: &User<'_>,
    a: &Fix<'_>,
    b: &Fix<'_>,
    out: &mut Vec<Draft>,
) {
    let km = haversine_km(a.point, b.point);
    if km <= t.travel_min_km {
        return;
    }
    let hours = (b.ts - a.ts) as f64 / 3_600_000.0;
    let kmh = if hours > 0.0 {
        km / hours
    } else {
        f64::INFINITY
    };
    // Both ends on devices the user had already used: a VPN or a split
    // tunnel, not a second person.
    if kmh <= t.travel_max_kmh || (a.known_before && b.known_before) {
        return;
    }
    out.push(
        Draft::over_events(ds, "DUO-15", format!("{}|{}", user.key, b.ts), vec![a.idx, b.idx])
            .title("Impossible travel between two successful logins")
            .severity(Severity::High)
            .subject(user.name)
            .action("send-verification-push")
            .detail(format!(
                "{} signed in from {} and then from {} {} min later: {km:.0} km at {} km/h (limit {} km/h). City \
                 centroids from GeoNames; verify with the user and disable if they deny the second login.",
                user.name,
                place(a.ev),
                place(b.ev),
                (b.ts - a.ts) / 60_000,
                if kmh.is_finite() { format!("{kmh:.0}") } else { "∞".to_owned() },
                t.travel_max_kmh
            )),
    );
}
