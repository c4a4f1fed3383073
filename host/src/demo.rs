//! `oort-host demo`: the whole flow against a local Duo simulator, through
//! the same platform operations as the individual commands (audited alike).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use duo_sim::{PushAnswer, SimConfig, Simulator};
use oort_platform::ActRequest;
use oort_platform::data::{Integration, SecretValue, StoredFinding};
use oort_platform::model::{CollectOptions, Role};
use oort_platform::views::{ActReport, CollectReport, TestReport};
use oort_platform::{AddIntegration, ErrorKind, Platform, Requester};

use crate::human;
use crate::interrupt::finish_despite_ctrl_c;

const DEMO: &str = "duo-demo";
/// Insights whose findings are remediated by disabling the account.
const DISABLE_INSIGHTS: [&str; 2] = ["DUO-01", "DUO-02"];

fn step(title: &str) {
    println!("\n=== {title}");
}

/// The demo's changes are audited as `system` via `oort-host demo`.
fn by_demo() -> Requester {
    Requester::local("oort-host demo")
}

pub async fn run(platform: &Platform, tenant: &str, data_dir: &Path) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut failures = 0u32;

    step("Starting the Duo simulator");
    let sim = Simulator::start(SimConfig::default())
        .await
        .context("starting the Duo simulator")?;
    println!(
        "Simulated Duo account at {} (API hostname {}).",
        sim.base_url(),
        sim.hostname()
    );

    step("Adding the integration `duo-demo` (same path as `oort-host integrations add duo ...`)");
    let integration = add_demo_integration(platform, tenant, &sim).await?;
    println!("Added integration `{}`.", integration.name);
    human::integration(&integration);

    step("Operators");
    ensure_operator(platform, "alice", Role::Admin)?;
    ensure_operator(platform, "hank", Role::Helpdesk)?;

    step("Test Connectivity");
    let checks = platform
        .test_connectivity(&integration)
        .await
        .context("testing connectivity of `duo-demo`")?;
    let checks = TestReport::new(&integration.name, checks);
    human::checks(&checks);
    if !checks.ok {
        anyhow::bail!("a connectivity check failed against the simulator; see the checks above");
    }

    step("Collect Now");
    let mut summary = collect(platform, &integration).await?;
    // A run may stop early by design (page budget); the demo continues to the end.
    for _ in 0..5 {
        if !summary.more_remaining {
            break;
        }
        summary = collect(platform, &integration).await?;
    }

    step("Insights and MFA posture");
    let report = platform
        .refresh_insights(&by_demo(), &integration)
        .await
        .context("evaluating insights for `duo-demo`")?;
    human::insights(&report);

    step("Remediation: disable a user from a finding (as alice, admin)");
    let disabled = match remediation_target(&report.findings) {
        Some(finding) => {
            let user = finding.finding.subjects.first().cloned();
            println!(
                "Finding {} ({}: {}) suggests `{}` for {}.",
                finding.id,
                finding.finding.insight_id,
                finding.finding.title,
                finding
                    .finding
                    .suggested_action
                    .as_deref()
                    .unwrap_or("disable-user"),
                user.as_deref().unwrap_or("its subject")
            );
            let request = ActRequest {
                action: "disable-user".into(),
                user: user.clone(),
                actor: "alice".into(),
                reason: Some(format!(
                    "demo: remediating finding {} ({})",
                    finding.id, finding.finding.insight_id
                )),
                finding_id: Some(finding.id),
                ..ActRequest::default()
            };
            match act(platform, &integration, request).await {
                Ok(_) => {
                    if let Some(user) = &user {
                        let status = sim.user_status(user).unwrap_or_else(|| "unknown".into());
                        println!("Duo (simulated) now reports `{user}` as: {status}");
                    }
                }
                Err(e) => {
                    failures += 1;
                    eprintln!("error: {e:#}");
                }
            }
            user
        }
        None => {
            println!(
                "No DUO-01/DUO-02 finding to remediate (unexpected with the default simulator)."
            );
            None
        }
    };

    step("Verification: Duo Push to a user (as hank, helpdesk)");
    match push_target(&sim, disabled.as_deref()) {
        Some(user) => {
            sim.set_push_answer(&user, PushAnswer::Approve);
            println!("Sending a push to `{user}` (the simulated user will approve it)…");
            let request = ActRequest {
                action: "push-verify".into(),
                user: Some(user),
                actor: "hank".into(),
                reason: Some("demo: caller claims to be this user".into()),
                ..ActRequest::default()
            };
            if let Err(e) = act(platform, &integration, request).await {
                failures += 1;
                eprintln!("error: {e:#}");
            }
        }
        None => println!("No active user with a phone in the simulator to push to."),
    }

    step("Audit trail of `duo-demo`");
    human::audit_trail(&platform.audit_trail(&integration)?);

    print_next_steps(data_dir, &sim, started);
    Ok(if failures > 0 { 1 } else { 0 })
}

async fn collect(platform: &Platform, integration: &Integration) -> anyhow::Result<CollectReport> {
    let show_bar = std::io::stderr().is_terminal();
    let summary =
        human::collect_with_progress(platform, integration, CollectOptions::default(), show_bar)
            .await
            .context("collecting from `duo-demo`")?;
    let report = CollectReport::new(&integration.name, summary);
    human::collected(&report);
    Ok(report)
}

/// Runs an action like `oort-host act` does (to its end through a first
/// Ctrl-C, so the audit trail records it) and prints its outcome.
async fn act(
    platform: &Platform,
    integration: &Integration,
    request: ActRequest,
) -> anyhow::Result<ActReport> {
    let context = format!(
        "running action `{}` on `{}` as `{}`",
        request.action, integration.name, request.actor
    );
    let report = finish_despite_ctrl_c(platform.act(integration, request))
        .await?
        .context(context)?;
    human::act_outcome(&report);
    Ok(report)
}

async fn add_demo_integration(
    platform: &Platform,
    tenant: &str,
    sim: &Simulator,
) -> anyhow::Result<Integration> {
    match platform.integration(tenant, DEMO) {
        Ok(old) => {
            platform
                .remove_integration(&by_demo(), &old)
                .context("removing the previous demo's integration")?;
            println!(
                "Removed `{DEMO}` left by a previous demo run (its records and findings too); recreating it."
            );
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let admin = sim.admin_read_write();
    let auth = sim.auth_api();
    let config = [
        ("api_hostname", sim.hostname().to_owned()),
        ("integration_key", admin.ikey.clone()),
        ("push_verification", "true".to_owned()),
        ("auth_integration_key", auth.ikey.clone()),
    ];
    let request = AddIntegration {
        tenant: tenant.to_owned(),
        name: DEMO.into(),
        plugin_id: "duo".into(),
        config: config.map(|(k, v)| (k.to_owned(), v)).to_vec(),
        // The simulator's keys stand in for --secret-key-file / --auth-secret-key-file.
        secrets: vec![
            (
                "secret_key".to_owned(),
                SecretValue::new(admin.skey.clone().into_bytes()),
            ),
            (
                "auth_secret_key".to_owned(),
                SecretValue::new(auth.skey.clone().into_bytes()),
            ),
        ],
        api_base_url: Some(sim.base_url()),
        granted_capabilities: vec![],
    };
    platform
        .add_integration(&by_demo(), request)
        .await
        .context("adding integration `duo-demo` (plugin `duo`)")
}

fn ensure_operator(platform: &Platform, name: &str, role: Role) -> anyhow::Result<()> {
    match platform.operator(name)? {
        Some(existing) if existing.role == role => {
            println!("Operator `{name}` ({role}) already exists.")
        }
        Some(existing) => println!(
            "Operator `{name}` already exists with role {} (the demo expects {role}; its action may be refused).",
            existing.role
        ),
        None => {
            platform
                .add_operator(&by_demo(), name, role, None)
                .with_context(|| format!("adding operator `{name}`"))?;
            println!("Added operator `{name}` ({role}).");
        }
    }
    Ok(())
}

/// A DUO-01/02 finding that names a user, preferring one that suggests
/// disabling.
fn remediation_target(findings: &[StoredFinding]) -> Option<&StoredFinding> {
    let candidates = || {
        findings.iter().filter(|f| {
            DISABLE_INSIGHTS.contains(&f.finding.insight_id.as_str())
                && !f.finding.subjects.is_empty()
        })
    };
    candidates()
        .find(|f| f.finding.suggested_action.as_deref() == Some("disable-user"))
        .or_else(|| candidates().next())
}

/// An ordinary active user with a phone: not planted in any scenario (those
/// have odd states on purpose) and not the one just disabled.
fn push_target(sim: &Simulator, disabled: Option<&str>) -> Option<String> {
    let planted: BTreeSet<String> = (1..=25)
        .flat_map(|n| {
            let id = format!("DUO-{n:02}");
            let mut users = sim.scenario_users(&id);
            users.extend(sim.scenario_users(&format!("{id}-lookalike")));
            users
        })
        .collect();
    sim.usernames().into_iter().find(|u| {
        Some(u.as_str()) != disabled
            && !planted.contains(u)
            && sim.user_status(u).as_deref() == Some("active")
            && !sim.user_phone_ids(u).is_empty()
    })
}

fn print_next_steps(given_dir: &Path, sim: &Simulator, started: Instant) {
    let data_dir = std::fs::canonicalize(given_dir).unwrap_or_else(|_| given_dir.to_path_buf());
    let dd = if given_dir == Path::new("./oort-data") {
        String::new()
    } else {
        format!(" --data-dir {}", data_dir.display())
    };
    step("Done");
    println!(
        "Demo finished in {:.1?}. Data directory: {}",
        started.elapsed(),
        data_dir.display()
    );
    println!("Everything collected stays there; try:");
    for cmd in [
        format!("oort-host{dd} integrations show {DEMO}"),
        format!("oort-host{dd} insights {DEMO}"),
        format!("oort-host{dd} export {DEMO} --kind duo.authentication_log | head -n 3"),
        format!("oort-host{dd} actions {DEMO}"),
        format!(
            "oort-host{dd} act {DEMO} reactivate-user --user USERNAME --actor hank --reason 'verified by phone'"
        ),
        format!("oort-host{dd} audit {DEMO}"),
        format!("oort-host{dd} operators token create alice   # an API token, printed once"),
        format!(
            "oort-host{dd} serve   # JSON API on http://127.0.0.1:8080/v1 (Authorization: Bearer TOKEN)"
        ),
    ] {
        println!("  {cmd}");
    }
    println!();
    println!(
        "The simulator stopped with the demo, so `test`/`collect`/`act` on `{DEMO}` now fail to connect."
    );
    println!("Use a real Duo account, or run the simulator yourself (it prints its credentials):");
    println!(
        "  cargo run -p duo-sim -- --port 8443 --hostname {}",
        sim.hostname()
    );
    println!("  printf '%s' 'SKEY-PRINTED-BY-DUO-SIM' > skey.txt");
    println!(
        "  oort-host{dd} integrations add duo duo-local --api-hostname {} --integration-key IKEY-PRINTED-BY-DUO-SIM \\\n      --secret-key-file skey.txt --api-base-url http://127.0.0.1:8443",
        sim.hostname()
    );
    println!("  oort-host{dd} test duo-local && oort-host{dd} collect duo-local");
}
