//! Plain-text rendering of a [`Report`] for the CLI.

use std::fmt::Write;

use super::draft::Severity;
use super::{NamedCount, Report};
use oort_time::minute_from_ms;

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".to_owned(), |v| format!("{:.1}%", v * 100.0))
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
                minute_from_ms(g.last_seen_ms),
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
        minute_from_ms(p.generated_at_ms)
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
