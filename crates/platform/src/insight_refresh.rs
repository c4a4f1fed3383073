//! The insight refresh: load an integration's normalized records, evaluate
//! the catalogue over them, upsert the findings (idempotent on (insight,
//! dedupe key)) and answer every stored finding with the posture. The
//! catalogue (`oort-insights`) is pure; the store is this module's.

use oort_insights::{Report, Source, Thresholds, evaluate_with_posture};
use oort_store::{Backend, IntegrationId, StoreError};

pub fn refresh(
    store: &dyn Backend,
    integration: IntegrationId,
    source: &Source<'_>,
    now_ms: i64,
    t: &Thresholds,
) -> Result<Report, StoreError> {
    let records = store.normalized_records(integration)?;
    let (findings, posture) = evaluate_with_posture(&records, source, now_ms, t);
    store.upsert_findings(integration, &findings)?;
    Ok(Report {
        findings: store.findings(integration)?,
        posture,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::{AuthEvent, CollectedRecord, Normalized};
    use oort_store::prelude::*;
    use oort_store::{MasterKey, NewIntegration, Store};
    use oort_time::ManualClock;
    use std::sync::Arc;

    const NOW: i64 = 1_780_000_000_000;
    const MINUTE: i64 = 60_000;

    fn denied_push(id: &str, at: i64) -> CollectedRecord {
        CollectedRecord {
            kind: "duo.authentication_log".into(),
            id: id.into(),
            occurred_at_ms: Some(at),
            raw_json: "{}".into(),
            normalized: Normalized::AuthEvent(AuthEvent {
                occurred_at_ms: at,
                event_id: id.into(),
                user_id: Some("U-bob".into()),
                user_name: Some("bob".into()),
                result: "denied".into(),
                reason: Some("user_mistake".into()),
                factor: Some("duo_push".into()),
                event_type: "authentication".into(),
                ..AuthEvent::default()
            }),
        }
    }

    fn duo() -> Source<'static> {
        Source {
            plugin_id: "duo",
            actions: vec!["disable-user"],
        }
    }

    #[test]
    fn a_refresh_upserts_the_same_findings_and_new_evidence_extends_them() {
        let dir = tempfile::tempdir().unwrap();
        // A fixed clock: a re-run stamps the same `updated_at_ms`.
        let clock = Arc::new(ManualClock::at(NOW));
        let store = Store::open_with(dir.path(), MasterKey::generate(), clock).unwrap();
        let integration = store
            .create_integration(&NewIntegration {
                tenant: "acme".into(),
                name: "duo".into(),
                plugin_id: "duo".into(),
                config: vec![],
                secrets: vec![],
                api_base_url: None,
                granted_capabilities: vec![],
            })
            .unwrap()
            .id;
        let start = NOW - 60 * MINUTE;
        let burst: Vec<_> = (0..5)
            .map(|k| denied_push(&format!("d{k}"), start + k * MINUTE))
            .collect();
        store
            .commit_records(integration, "auth", &burst, "cp")
            .unwrap();
        let t = Thresholds::default();
        let flood = |r: &Report| {
            r.findings
                .iter()
                .find(|f| f.finding.insight_id == "DUO-02")
                .cloned()
                .expect("a push flood finding")
        };

        let first = refresh(&store, integration, &duo(), NOW, &t).unwrap();
        let again = refresh(&store, integration, &duo(), NOW, &t).unwrap();
        assert_eq!(again.findings, first.findings, "re-running changes nothing");

        let late = denied_push("d5", start + 5 * MINUTE - 30_000);
        store
            .commit_records(integration, "auth", &[late], "cp2")
            .unwrap();
        let third = refresh(&store, integration, &duo(), NOW, &t).unwrap();
        assert_eq!(third.findings.len(), first.findings.len());
        assert_eq!(flood(&third).id, flood(&first).id, "the same row, updated");
        assert!(flood(&third).finding.evidence.contains(&"d5".to_owned()));
    }
}
