//! The Duo simulator wired to a platform: small, fast configurations and the
//! bookkeeping to prove a collection lost and duplicated nothing.

use std::collections::BTreeSet;

use duo_sim::{Clock, Credentials, SimConfig, Simulator};
use oort_platform::data::SecretValue;
use oort_platform::model::CollectOptions;
use oort_platform::model::{CollectSummary, PluginError};
use oort_platform::{AddIntegration, NoProgress, Platform, PlatformError, Requester};
use oort_store::prelude::*;
use oort_store::{Integration, Store};

use crate::env::{TENANT, TestEnv, duo_limits};

pub const KIND_AUTH: &str = "duo.authentication_log";

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A small simulated account whose generated history ends ten minutes ago.
///
/// The plugin reads the real clock (it asks for events up to "now − 2 min"),
/// so the simulator's clock must agree with it: it starts fixed in the past,
/// so every generated event is settled, and [`sync_clock`] brings it to the
/// wall clock before each run. Events the tests add later are then the only
/// ones near "now", and the expected set is exact.
pub fn small_sim(users: usize, auth_events: usize) -> SimConfig {
    SimConfig {
        seed: 7,
        users,
        auth_events,
        history_days: 2,
        scenarios: false,
        clock: Clock::Fixed(wall_ms() - 10 * 60_000),
        ..SimConfig::default()
    }
}

/// Starts the simulator and brings its clock to the wall clock (see
/// [`small_sim`]); the Duo plugin also checks the server's clock against its own.
pub async fn start_sim(config: SimConfig) -> Simulator {
    let sim = Simulator::start(config)
        .await
        .expect("start the Duo simulator");
    sync_clock(&sim);
    sim
}

/// Moves the simulator's fixed clock up to the wall clock.
pub fn sync_clock(sim: &Simulator) {
    let behind = wall_ms() - sim.now_ms();
    if behind > 0 {
        sim.advance_clock(behind);
    }
}

/// A time the plugin treats as settled right away (older than its 2-minute
/// lag) but newer than any checkpoint of an earlier run, if one second has
/// passed since that run.
pub fn settled_now_ms() -> i64 {
    wall_ms() - 2 * 60_000 - 500
}

/// Config of a Duo integration against `sim`, with fast retries so fault
/// tests finish quickly.
pub fn duo_request(sim: &Simulator, name: &str, creds: &Credentials) -> AddIntegration {
    AddIntegration {
        tenant: TENANT.into(),
        name: name.into(),
        plugin_id: "duo".into(),
        config: vec![
            ("api_hostname".into(), sim.hostname().to_string()),
            ("integration_key".into(), creds.ikey.clone()),
            ("initial_lookback_days".into(), "5".into()),
            ("retry_base_ms".into(), "5".into()),
            ("max_retries".into(), "4".into()),
        ],
        secrets: vec![(
            "secret_key".into(),
            SecretValue::new(creds.skey.as_bytes().to_vec()),
        )],
        api_base_url: Some(sim.base_url()),
        granted_capabilities: Vec::new(),
    }
}

/// The ids of the collected auth events, and how many rows carried them
/// (more rows than ids would be duplicates).
pub fn auth_ids(store: &Store, integration: &Integration) -> (BTreeSet<String>, usize) {
    let mut ids = BTreeSet::new();
    let mut rows = 0;
    store
        .for_each_record(integration.id, Some(KIND_AUTH), &mut |r| {
            rows += 1;
            ids.insert(r.id);
            Ok(())
        })
        .expect("read auth records");
    (ids, rows)
}

/// A fresh platform (Duo sandbox limits) with the integration `corp` added
/// for `creds`.
pub async fn corp_env(sim: &Simulator, creds: &Credentials) -> (TestEnv, Integration) {
    let env = TestEnv::open_with(duo_limits());
    let corp = env
        .platform
        .add_integration(&Requester::local("tests"), duo_request(sim, "corp", creds))
        .await
        .expect("add the corp integration");
    (env, corp)
}

/// Runs collections of `sources` until one catches up (rate limits and
/// upstream failures are retried by running again, as an operator or the
/// scheduler would). Returns every run's outcome.
pub async fn collect_until_caught_up(
    platform: &Platform,
    sim: &Simulator,
    integration: &Integration,
    sources: &[&str],
    max_runs: usize,
) -> Vec<Result<CollectSummary, PlatformError>> {
    let mut outcomes = Vec::new();
    for _ in 0..max_runs {
        sync_clock(sim);
        let options = CollectOptions {
            sources: sources.iter().map(|s| s.to_string()).collect(),
            max_pages: None,
        };
        let outcome = platform.collect(integration, options, &NoProgress).await;
        let done = match &outcome {
            Ok(summary) => !summary.more_remaining,
            Err(PlatformError::Plugin(PluginError::RateLimited(_) | PluginError::Upstream(_))) => {
                false
            }
            Err(e) => panic!("collect of `{}` failed unexpectedly: {e}", integration.name),
        };
        outcomes.push(outcome);
        if done {
            return outcomes;
        }
    }
    panic!(
        "`{}` did not catch up in {max_runs} runs: {outcomes:?}",
        integration.name
    );
}

/// Asserts the collected auth events are exactly what the simulator shows
/// as settled: nothing lost, nothing invented, nothing twice.
pub fn assert_exactly_visible(
    store: &Store,
    sim: &Simulator,
    integration: &Integration,
    context: &str,
) {
    let expected = sim.visible_auth_txids();
    let (got, rows) = auth_ids(store, integration);
    assert_eq!(rows, got.len(), "{context}: duplicate auth event rows");
    let missing: Vec<&String> = expected.difference(&got).take(5).collect();
    let extra: Vec<&String> = got.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: {} expected, {} collected; missing (first 5) {missing:?}, unexpected (first 5) {extra:?}",
        expected.len(),
        got.len()
    );
}
