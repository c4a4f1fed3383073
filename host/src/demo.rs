//! `oort-host demo`: the whole flow against a local Duo simulator, through
//! the same code paths as the individual commands.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Context as _;

use duo_sim::{PushAnswer, SimConfig, Simulator};
use oort_host::actions::ActRequest;
use oort_host::model::{CollectOptions, Role};
use oort_host::store::{Integration, SecretValue, StoredFinding};

use crate::cli::run as steps;
use crate::cli::{AddArgs, Ctx, integrations};

const DEMO: &str = "duo-demo";
/// Insights whose findings are remediated by disabling the account.
const DISABLE_INSIGHTS: [&str; 2] = ["DUO-01", "DUO-02"];

fn step(title: &str) {
    println!("\n=== {title}");
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<u8> {
    if ctx.out.json {
        return Err(crate::cli::usage_error(
            "`demo` prints a walkthrough for people; run it without --json",
        ));
    }
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
    let integration = add_demo_integration(ctx, &sim).await?;

    step("Operators");
    ensure_operator(ctx, "alice", Role::Admin)?;
    ensure_operator(ctx, "hank", Role::Helpdesk)?;

    step("Test Connectivity");
    let checks = steps::test_integration(ctx, &integration).await?;
    if steps::any_failed(&checks) {
        anyhow::bail!("a connectivity check failed against the simulator; see the checks above");
    }

    step("Collect Now");
    let mut summary =
        steps::collect_integration(ctx, &integration, CollectOptions::default()).await?;
    // A run may stop early by design (page budget); the demo continues to the end.
    for _ in 0..5 {
        if !summary.more_remaining {
            break;
        }
        summary = steps::collect_integration(ctx, &integration, CollectOptions::default()).await?;
    }

    step("Insights and MFA posture");
    let report = crate::cli::refresh_insights(ctx, &integration)?;
    crate::cli::print_insights(ctx.out, &report)?;

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
            match crate::cli::run_action(ctx, &integration, request).await {
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
            if let Err(e) = crate::cli::run_action(ctx, &integration, request).await {
                failures += 1;
                eprintln!("error: {e:#}");
            }
        }
        None => println!("No active user with a phone in the simulator to push to."),
    }

    step("Audit trail of `duo-demo`");
    let trail = ctx.platform.store().audit(Some(integration.id))?;
    crate::cli::print_trail(ctx.out, &trail)?;

    print_next_steps(ctx, &sim, started);
    Ok(if failures > 0 { 1 } else { 0 })
}

async fn add_demo_integration(ctx: &Ctx, sim: &Simulator) -> anyhow::Result<Integration> {
    if let Some(old) = ctx.platform.store().integration(&ctx.tenant, DEMO)? {
        integrations::remove_integration(ctx, &old)?;
        println!(
            "Removed `{DEMO}` left by a previous demo run (its records and findings too); recreating it."
        );
    }
    let admin = sim.admin_read_write();
    let auth = sim.auth_api();
    let args = AddArgs {
        plugin: "duo".into(),
        name: DEMO.into(),
        api_hostname: Some(sim.hostname().to_owned()),
        integration_key: Some(admin.ikey.clone()),
        push_verification: true,
        auth_integration_key: Some(auth.ikey.clone()),
        api_base_url: Some(sim.base_url()),
        ..AddArgs::default()
    };
    // The simulator's keys stand in for --secret-key-file / --auth-secret-key-file.
    let secrets = vec![
        (
            "secret_key".to_owned(),
            SecretValue::new(admin.skey.clone().into_bytes()),
        ),
        (
            "auth_secret_key".to_owned(),
            SecretValue::new(auth.skey.clone().into_bytes()),
        ),
    ];
    integrations::add_with_secrets(ctx, &args, secrets).await
}

fn ensure_operator(ctx: &Ctx, name: &str, role: Role) -> anyhow::Result<()> {
    let store = ctx.platform.store();
    match store.operator(name)? {
        Some(existing) if existing.role == role => {
            println!("Operator `{name}` ({role}) already exists.")
        }
        Some(existing) => println!(
            "Operator `{name}` already exists with role {} (the demo expects {role}; its action may be refused).",
            existing.role
        ),
        None => {
            store
                .add_operator(name, role)
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

fn print_next_steps(ctx: &Ctx, sim: &Simulator, started: Instant) {
    let data_dir = std::fs::canonicalize(&ctx.data_dir).unwrap_or_else(|_| ctx.data_dir.clone());
    let dd = if ctx.data_dir == std::path::Path::new("./oort-data") {
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
        format!("oort-host{dd} serve   # JSON API on http://127.0.0.1:8080/v1"),
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
