//! Tunables of the insight catalogue (`/work/shared/insights.md`, DUO-01..24).
//! Defaults are the catalogue's; every field can be overridden by the operator.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// DUO-01: fraud reports of one user closer than this form one finding.
    pub fraud_window_ms: i64,
    /// DUO-01: a success by the same user from the same IP within ± this is critical.
    pub fraud_success_correlation_ms: i64,
    /// DUO-02: denied pushes per user within `push_flood_window_ms`.
    pub push_flood_count: usize,
    pub push_flood_window_ms: i64,
    /// DUO-03: denied pushes followed by an approved push within the window.
    pub push_fatigue_denials: usize,
    pub push_fatigue_window_ms: i64,
    /// DUO-04: `anomalous_push` denials of one user closer than this are one finding.
    pub anomalous_push_window_ms: i64,
    /// DUO-07: accounts younger than this are not yet expected to be enrolled.
    pub not_enrolled_grace_ms: i64,
    /// DUO-08: accounts younger than this are not yet expected to have logged in.
    pub never_logged_in_grace_ms: i64,
    /// DUO-09: no authentication for this long is "inactive" (info) ...
    pub inactive_ms: i64,
    /// ... and for this long "stale" (low).
    pub stale_ms: i64,
    /// DUO-10: inactivity before failed attempts count as probing.
    pub probing_inactive_ms: i64,
    pub probing_attempts: usize,
    /// DUO-11: look-back and minimum successes for "weak factor only".
    pub weak_only_window_ms: i64,
    pub weak_only_min_auths: usize,
    /// DUO-12/13: per-application shares (0..1) and the minimum sample.
    pub app_weak_share: f64,
    pub app_no_mfa_share: f64,
    pub app_min_successes: usize,
    /// DUO-12: when set, any success with a factor outside this list is flagged.
    pub allowed_factors: Option<Vec<String>>,
    /// DUO-14: baseline window and minimum prior successes for "new country".
    pub new_country_baseline_ms: i64,
    pub new_country_min_prior: usize,
    /// DUO-15: impossible travel needs both this distance and this speed.
    pub travel_min_km: f64,
    pub travel_max_kmh: f64,
    /// DUO-18: more than `brute_force_max` denials within the window.
    pub brute_force_max: usize,
    pub brute_force_window_ms: i64,
    /// DUO-19: distinct users denied from one IP within the window, and how long
    /// a later success from that IP stays suspicious.
    pub spray_min_users: usize,
    pub spray_window_ms: i64,
    pub spray_memory_ms: i64,
    /// DUO-20: device registrations this soon after account creation are expected.
    pub registration_grace_ms: i64,
    /// DUO-23: device-health findings of one user and reason per this window.
    pub device_health_window_ms: i64,
    /// DUO-24: authentication events per user per UTC day.
    pub high_volume_per_day: usize,
    /// Group names (case-insensitive) whose members are privileged (DUO-06/07).
    pub privileged_groups: Vec<String>,
    /// DUO-17: operator-provided anonymizer / bad-reputation networks.
    pub anonymizer_cidrs: Vec<Cidr>,
    /// Findings keep at most this many evidence ids (the detail gives the total).
    pub max_evidence: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            fraud_window_ms: 15 * MINUTE_MS,
            fraud_success_correlation_ms: 30 * MINUTE_MS,
            push_flood_count: 5,
            push_flood_window_ms: 10 * MINUTE_MS,
            push_fatigue_denials: 3,
            push_fatigue_window_ms: 30 * MINUTE_MS,
            anomalous_push_window_ms: 15 * MINUTE_MS,
            not_enrolled_grace_ms: 14 * DAY_MS,
            never_logged_in_grace_ms: 7 * DAY_MS,
            inactive_ms: 30 * DAY_MS,
            stale_ms: 90 * DAY_MS,
            probing_inactive_ms: 30 * DAY_MS,
            probing_attempts: 2,
            weak_only_window_ms: 30 * DAY_MS,
            weak_only_min_auths: 3,
            app_weak_share: 0.10,
            app_no_mfa_share: 0.25,
            app_min_successes: 20,
            allowed_factors: None,
            new_country_baseline_ms: 90 * DAY_MS,
            new_country_min_prior: 5,
            travel_min_km: 500.0,
            travel_max_kmh: 1000.0,
            brute_force_max: 10,
            brute_force_window_ms: 10 * MINUTE_MS,
            spray_min_users: 5,
            spray_window_ms: DAY_MS,
            spray_memory_ms: 7 * DAY_MS,
            registration_grace_ms: 7 * DAY_MS,
            device_health_window_ms: DAY_MS,
            high_volume_per_day: 1000,
            privileged_groups: [
                "admins",
                "administrators",
                "domain admins",
                "it admins",
                "privileged",
            ]
            .map(String::from)
            .to_vec(),
            anonymizer_cidrs: Vec::new(),
            max_evidence: 100,
        }
    }
}

impl Thresholds {
    /// Adds the networks of an operator-maintained list (one IP or CIDR per
    /// line, `#` comments), e.g. an exported Tor exit list.
    pub fn load_anonymizer_file(&mut self, path: &Path) -> Result<usize, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read anonymizer list {}: {e}", path.display()))?;
        let mut added = 0;
        for (n, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            let cidr = entry
                .parse::<Cidr>()
                .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            self.anonymizer_cidrs.push(cidr);
            added += 1;
        }
        Ok(added)
    }

    pub(crate) fn is_privileged_group(&self, group: &str) -> bool {
        self.privileged_groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(group))
    }
}

/// An IPv4 or IPv6 network; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits - prefix);
    shift >= 128 || (a >> shift) == (b >> shift)
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or CIDR (e.g. 203.0.113.0/24)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: prefix length must be 0..={max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let net: Cidr = "203.0.113.0/24".parse().unwrap();
        assert!(net.contains("203.0.113.77".parse().unwrap()));
        assert!(!net.contains("203.0.114.1".parse().unwrap()));
        assert!(!net.contains("2001:db8::1".parse().unwrap()));
        let host: Cidr = "2001:db8::1".parse().unwrap();
        assert!(host.contains("2001:db8::1".parse().unwrap()));
        assert!(!host.contains("2001:db8::2".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("tor-exit".parse::<Cidr>().is_err());
    }

    #[test]
    fn anonymizer_file_reports_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anon.txt");
        std::fs::write(&path, "# exits\n198.51.100.7\n203.0.113.0/24 # hosting\n").unwrap();
        let mut t = Thresholds::default();
        assert_eq!(t.load_anonymizer_file(&path).unwrap(), 2);
        std::fs::write(&path, "198.51.100.7\nnot-an-ip\n").unwrap();
        let err = t.load_anonymizer_file(&path).unwrap_err();
        assert!(err.contains(":2:"), "{err}");
    }
}
