//! Plain-text rendering of a [`Report`] for the CLI.

use std::fmt::Write;

use super::draft::Severity;
use super::{NamedCount, Report};

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn iso(ms: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm): no date crate needed for UTC.
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn named(c: &NamedCount) -> String {
    if c.examples.is_empty() {
        c.count.to_string()
    } else {
        let more = if c.count > c.examples.len() {
            ", ..."
        } else {
            ""
        };
        format!("{} ({}{more})", c.count, c.examples.join(", "))
    }
}

/// Severity-sorted findings table, then the posture summary.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by(|a, b| {
        Severity::parse(&b.finding.severity)
            .cmp(&Severity::parse(&a.finding.severity))
            .then(b.finding.last_seen_ms.cmp(&a.finding.last_seen_ms))
            .then(a.id.cmp(&b.id))
    });
    let _ = writeln!(out, "FINDINGS ({})", findings.len());
    if findings.is_empty() {
        out.push_str("  none\n");
    } else {
        let header = [
            "ID",
            "INSIGHT",
            "SEVERITY",
            "TITLE",
            "SUBJECTS",
            "EVID",
            "LAST SEEN",
            "ACTION",
        ];
        let [id, ins, sev, title, subj, evid, last, action] = header;
        let _ = writeln!(
            out,
            "{id:>5}  {ins:<7} {sev:<8} {title:<44} {subj:<28} {evid:>5}  {last:<17}  {action}"
        );
        for f in &findings {
            let g = &f.finding;
            let _ = writeln!(
                out,
                "{:>5}  {:<7} {:<8} {:<44} {:<28} {:>5}  {:<17}  {}",
                f.id,
                g.insight_id,
                g.severity,
                truncate(&g.title, 44),
                truncate(&g.subjects.join(", "), 28),
                g.evidence.len(),
                iso(g.last_seen_ms),
                g.suggested_action.as_deref().unwrap_or("-")
            );
            let _ = writeln!(out, "{:>5}  {}", "", g.detail);
        }
    }

    let p = &report.posture;
    let u = &p.users;
    let _ = writeln!(
        out,
        "\nMFA POSTURE (auth metrics over the last {} days, as of {})",
        p.window_days,
        iso(p.generated_at_ms)
    );
    let _ = writeln!(
        out,
        "  Users: {} total, {} disabled; enrollment rate {} ({} of {})",
        u.total,
        u.disabled,
        pct(u.enrollment_rate),
        u.enrolled,
        u.considered
    );
    for (label, c) in [
        ("not enrolled", &u.not_enrolled),
        ("inactive 30 d", &u.inactive_30d),
        ("bypass", &u.bypass),
        ("locked out", &u.locked_out),
        ("never logged in", &u.never_logged_in),
        ("weak factor only", &p.weak_factor_only_users),
    ] {
        let _ = writeln!(out, "    {label:<17} {}", named(c));
    }
    let a = &p.auth;
    let _ = writeln!(
        out,
        "  Authentications: {} ({} success, {} denied, {} fraud, {} error); success rate {}",
        a.total,
        a.success,
        a.denied,
        a.fraud,
        a.error,
        pct(a.success_rate)
    );
    if !a.top_denial_reasons.is_empty() {
        out.push_str("  Top denial reasons:\n");
        for r in &a.top_denial_reasons {
            let _ = writeln!(out, "    {:<44} {:<13} {}", r.reason, r.group, r.count);
        }
    }
    if !p.tier_mix.is_empty() {
        out.push_str("  Factor strength (successes):\n");
        for t in &p.tier_mix {
            let _ = writeln!(
                out,
                "    {:<20} {:>8}  {}",
                t.tier.as_str(),
                t.successes,
                pct(Some(t.share))
            );
        }
        out.push_str("  Factor mix:\n");
        for f in &p.factor_mix {
            let _ = writeln!(
                out,
                "    {:<28} {:<20} {:>8}  {}",
                f.factor,
                f.tier.as_str(),
                f.successes,
                pct(Some(f.share))
            );
        }
    }
    if p.apps_without_effective_mfa.is_empty() {
        out.push_str("  Applications without effective MFA: none\n");
    } else {
        out.push_str("  Applications without effective MFA:\n");
        for app in &p.apps_without_effective_mfa {
            let _ = writeln!(
                out,
                "    {:<36} {:>7} successes, {} without MFA, {} weak",
                app.application,
                app.successes,
                pct(Some(app.no_mfa_share)),
                pct(Some(app.weak_share))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01 00:00Z");
        assert_eq!(iso(1_700_000_000_000), "2023-11-14 22:13Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29 00:00Z");
    }
}
