//! What operations answer: the documents that `--json` prints and the HTTP
//! API returns, defined once so the two cannot drift (the shapes are pinned
//! by the tests below). Secret values never appear in any of them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{
    ActionOutcome, ActionParam, ActionStatus, Check, CheckStatus, CollectSummary, Role,
};
use crate::{IssuedToken, PlatformError};
use oort_store::{ApiToken, AuditEntry, Integration, Run, Schedule, StoredRecord};
use oort_time::rfc3339_from_ms;

/// Records of one kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
}

fn kind_counts(counts: &[(String, u64)]) -> Vec<KindCount> {
    counts
        .iter()
        .map(|(kind, count)| KindCount {
            kind: kind.clone(),
            count: *count,
        })
        .collect()
}

/// `integrations show`: the integration with its record counts and latest
/// runs; each secret field that has a value is shown as `"set"`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationDetail {
    #[serde(flatten)]
    pub integration: Integration,
    /// Each secret field that has a value, as `"set"`.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, String>))]
    pub secrets: BTreeMap<String, &'static str>,
    pub records: Vec<KindCount>,
    pub runs: Vec<Run>,
    pub schedule: ScheduleView,
}

/// When the integration is collected next, and why its scheduled runs
/// fail, while they do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub interval_ms: i64,
    /// RFC 3339 UTC.
    pub next_due: String,
    /// Scheduled runs failed in a row.
    pub failures: u32,
    pub last_error: Option<String>,
    /// The process collecting it now, if one is.
    pub collecting_by: Option<String>,
    /// Each source on its own schedule, for a plugin that lists its sources;
    /// empty for one collected whole.
    pub sources: Vec<SourceScheduleView>,
}

impl ScheduleView {
    pub fn new(schedule: Schedule, now_ms: i64) -> ScheduleView {
        let leased = schedule.lease_expires_ms.is_some_and(|at| at > now_ms);
        ScheduleView {
            interval_ms: schedule.interval_ms,
            next_due: rfc3339_from_ms(schedule.next_due_ms),
            failures: schedule.failures,
            last_error: schedule.last_error,
            collecting_by: schedule.lease_owner.filter(|_| leased),
            sources: Vec::new(),
        }
    }

    pub fn with_sources(mut self, sources: Vec<SourceScheduleView>) -> ScheduleView {
        self.sources = sources;
        self
    }
}

/// One source of an integration: how often it is collected and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceScheduleView {
    pub source: String,
    pub interval_ms: i64,
    /// `plugin`: the plugin's interval for this source; `integration`: the
    /// integration's own.
    pub interval_of: String,
    /// RFC 3339 UTC; none before its first collection.
    pub last_collected: Option<String>,
    /// RFC 3339 UTC: when its interval is up (the next run that starts
    /// after it collects it).
    pub due: String,
}

impl SourceScheduleView {
    pub fn new(
        source: &str,
        interval_ms: i64,
        own_interval: bool,
        last_collected_ms: Option<i64>,
        now_ms: i64,
    ) -> SourceScheduleView {
        SourceScheduleView {
            source: source.to_owned(),
            interval_ms,
            interval_of: if own_interval {
                "plugin"
            } else {
                "integration"
            }
            .into(),
            last_collected: last_collected_ms.map(rfc3339_from_ms),
            due: rfc3339_from_ms(last_collected_ms.map_or(now_ms, |last| last + interval_ms)),
        }
    }
}

impl IntegrationDetail {
    pub fn new(
        integration: Integration,
        counts: &[(String, u64)],
        runs: Vec<Run>,
        schedule: ScheduleView,
    ) -> Self {
        let secrets = integration
            .secret_fields
            .iter()
            .map(|field| (field.clone(), "set"))
            .collect();
        IntegrationDetail {
            integration,
            secrets,
            records: kind_counts(counts),
            runs,
            schedule,
        }
    }
}

/// A token just issued (`operators token create`, `POST …/tokens`): its
/// listing and its value, the one answer that ever carries it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct IssuedTokenView {
    #[serde(flatten)]
    pub info: ApiToken,
    pub token: String,
}

impl IssuedTokenView {
    pub fn new(issued: &IssuedToken) -> Result<IssuedTokenView, PlatformError> {
        let token = std::str::from_utf8(issued.token.expose())
            .map_err(|_| PlatformError::Internal("an issued token is not text".into()))?;
        Ok(IssuedTokenView {
            info: issued.info.clone(),
            token: token.to_owned(),
        })
    }
}

/// `integrations remove`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub removed: String,
}

/// Test Connectivity: every check, and whether none failed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub integration: String,
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl TestReport {
    pub fn new(integration: &str, checks: Vec<Check>) -> TestReport {
        TestReport {
            integration: integration.to_owned(),
            ok: !checks.iter().any(|c| c.status == CheckStatus::Failed),
            checks,
        }
    }

    pub fn count(&self, status: CheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Collect Now: what one run committed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct CollectReport {
    pub integration: String,
    pub records: Vec<KindCount>,
    pub pages: u32,
    pub more_remaining: bool,
    pub notes: Vec<String>,
}

impl CollectReport {
    pub fn new(integration: &str, summary: CollectSummary) -> CollectReport {
        CollectReport {
            integration: integration.to_owned(),
            records: kind_counts(&summary.records),
            pages: summary.pages,
            more_remaining: summary.more_remaining,
            notes: summary.notes,
        }
    }

    pub fn total_records(&self) -> u64 {
        self.records.iter().map(|k| k.count).sum()
    }
}

/// One action of an integration's plugin and whether it is offered there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub minimum_role: Role,
    pub required_permission: String,
    pub enabled_by: Option<String>,
    pub params: Vec<ActionParam>,
    pub enabled: bool,
    pub why_not: Option<String>,
}

/// What an action did (or would do, on a dry run).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ActReport {
    pub integration: String,
    pub action: String,
    pub status: ActionStatus,
    pub message: String,
    /// The plugin's detail names and values.
    pub details: BTreeMap<String, String>,
}

impl ActReport {
    pub fn new(integration: &str, action: &str, outcome: ActionOutcome) -> ActReport {
        ActReport {
            integration: integration.to_owned(),
            action: action.to_owned(),
            status: outcome.status,
            message: outcome.message,
            details: outcome.details.into_iter().collect(),
        }
    }
}

/// One entry of the audit trail, with its time also in RFC 3339.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    pub at: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The start of an action that nothing concludes, long past its
    /// deadline: the host stopped (or lost its caller) while the action was
    /// at the plugin, so whether it changed anything upstream is unknown.
    pub outcome_unknown: bool,
}

impl AuditLine {
    pub fn new(entry: AuditEntry) -> AuditLine {
        AuditLine {
            at: rfc3339_from_ms(entry.at_ms),
            entry,
            outcome_unknown: false,
        }
    }
}

/// One exported record (a JSON line of `export`); the field order is part
/// of the contract.
#[derive(Debug, Serialize)]
pub struct ExportLine<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub occurred_at: Option<String>,
    pub normalized: &'a serde_json::Value,
    pub raw: &'a serde_json::Value,
}

impl<'a> ExportLine<'a> {
    pub fn of(record: &'a StoredRecord) -> ExportLine<'a> {
        ExportLine {
            kind: &record.kind,
            id: &record.id,
            occurred_at: record.occurred_at_ms.map(rfc3339_from_ms),
            normalized: &record.normalized,
            raw: &record.raw,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The documents exactly as clients see them: a change here is a change
    //! to the CLI's `--json` output and to the HTTP API.

    use super::*;
    use oort_store::{RunKind, RunStatus};

    fn text<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }

    fn integration() -> Integration {
        Integration {
            id: 3,
            tenant: "acme".into(),
            name: "corp-duo".into(),
            plugin_id: "duo".into(),
            config: vec![("api_hostname".into(), "api-1.duosecurity.com".into())],
            secret_fields: vec!["secret_key".into()],
            api_base_url: None,
            granted_capabilities: vec![],
            created_at_ms: 1_000,
            enabled: true,
        }
    }

    #[test]
    fn integration_detail() {
        let run = Run {
            id: 9,
            integration_id: 3,
            kind: RunKind::Collect,
            status: RunStatus::Succeeded,
            started_at_ms: 5,
            finished_at_ms: Some(6),
            summary: Some(serde_json::json!({"pages": 1})),
            error: None,
            progress: Some(serde_json::json!({"pages": 1, "records": {"user": 4}})),
        };
        let schedule = Schedule {
            integration_id: 3,
            tenant: "acme".into(),
            interval_ms: 300_000,
            next_due_ms: 0,
            failures: 2,
            last_error: Some("upstream said 429".into()),
            last_finished_ms: Some(6),
            lease_owner: Some("h:1:ab".into()),
            lease_expires_ms: Some(60_000),
        };
        let detail = IntegrationDetail::new(
            integration(),
            &[("duo.user".into(), 4)],
            vec![run],
            ScheduleView::new(schedule, 10).with_sources(vec![SourceScheduleView::new(
                "user",
                3_600_000,
                true,
                Some(6),
                10,
            )]),
        );
        assert_eq!(
            text(&detail),
            r#"{"id":3,"tenant":"acme","name":"corp-duo","plugin_id":"duo","config":[["api_hostname","api-1.duosecurity.com"]],"secret_fields":["secret_key"],"api_base_url":null,"granted_capabilities":[],"created_at_ms":1000,"enabled":true,"secrets":{"secret_key":"set"},"records":[{"kind":"duo.user","count":4}],"runs":[{"id":9,"integration_id":3,"kind":"collect","status":"succeeded","started_at_ms":5,"finished_at_ms":6,"summary":{"pages":1},"error":null,"progress":{"pages":1,"records":{"user":4}}}],"schedule":{"interval_ms":300000,"next_due":"1970-01-01T00:00:00.000Z","failures":2,"last_error":"upstream said 429","collecting_by":"h:1:ab","sources":[{"source":"user","interval_ms":3600000,"interval_of":"plugin","last_collected":"1970-01-01T00:00:00.006Z","due":"1970-01-01T01:00:00.006Z"}]}}"#
        );
    }

    #[test]
    fn test_and_collect_reports() {
        let checks = vec![
            Check {
                name: "admin-api".into(),
                status: CheckStatus::Ok,
                detail: "reachable".into(),
                remedy: None,
            },
            Check {
                name: "auth-api".into(),
                status: CheckStatus::Failed,
                detail: "401".into(),
                remedy: Some("check the key".into()),
            },
        ];
        let report = TestReport::new("corp-duo", checks);
        assert!(!report.ok);
        assert_eq!(
            text(&report),
            r#"{"integration":"corp-duo","ok":false,"checks":[{"name":"admin-api","status":"ok","detail":"reachable","remedy":null},{"name":"auth-api","status":"failed","detail":"401","remedy":"check the key"}]}"#
        );
        let summary = CollectSummary {
            records: vec![("duo.user".into(), 2), ("duo.authentication_log".into(), 5)],
            pages: 3,
            more_remaining: true,
            notes: vec!["page cap".into()],
        };
        let report = CollectReport::new("corp-duo", summary);
        assert_eq!(report.total_records(), 7);
        assert_eq!(
            text(&report),
            r#"{"integration":"corp-duo","records":[{"kind":"duo.user","count":2},{"kind":"duo.authentication_log","count":5}],"pages":3,"more_remaining":true,"notes":["page cap"]}"#
        );
    }

    #[test]
    fn act_report_and_action_view() {
        let outcome = ActionOutcome {
            status: ActionStatus::DryRun,
            message: "would disable".into(),
            details: vec![
                ("user_id".into(), "DU1".into()),
                ("status".into(), "active".into()),
            ],
        };
        assert_eq!(
            text(&ActReport::new("corp-duo", "disable-user", outcome)),
            r#"{"integration":"corp-duo","action":"disable-user","status":"dry_run","message":"would disable","details":{"status":"active","user_id":"DU1"}}"#
        );
        let view = ActionView {
            id: "disable-user".into(),
            title: "Disable user".into(),
            description: "d".into(),
            minimum_role: Role::Admin,
            required_permission: "Grant write resource".into(),
            enabled_by: None,
            params: vec![ActionParam {
                name: "username".into(),
                description: "u".into(),
                required: true,
            }],
            enabled: true,
            why_not: None,
        };
        assert_eq!(
            text(&view),
            r#"{"id":"disable-user","title":"Disable user","description":"d","minimum_role":"admin","required_permission":"Grant write resource","enabled_by":null,"params":[{"name":"username","description":"u","required":true}],"enabled":true,"why_not":null}"#
        );
    }

    #[test]
    fn audit_export_and_removed() {
        let line = AuditLine::new(AuditEntry {
            id: Some(42),
            at_ms: 1_714_566_896_789,
            integration_id: Some(3),
            actor: "alice".into(),
            role: Some(Role::Admin),
            action: "act:disable-user".into(),
            target: Some("bob".into()),
            reason: Some("phished".into()),
            outcome: "succeeded: disabled".into(),
            attempt: Some(41),
        });
        assert_eq!(
            text(&line),
            r#"{"at":"2024-05-01T12:34:56.789Z","id":42,"at_ms":1714566896789,"integration_id":3,"actor":"alice","role":"admin","action":"act:disable-user","target":"bob","reason":"phished","outcome":"succeeded: disabled","attempt":41,"outcome_unknown":false}"#
        );
        let record = StoredRecord {
            kind: "user".into(),
            id: "DU1".into(),
            occurred_at_ms: None,
            normalized: serde_json::json!({"type": "user_account"}),
            raw: serde_json::json!({"user_id": "DU1"}),
        };
        assert_eq!(
            text(&ExportLine::of(&record)),
            r#"{"kind":"user","id":"DU1","occurred_at":null,"normalized":{"type":"user_account"},"raw":{"user_id":"DU1"}}"#
        );
        assert_eq!(
            text(&Removed {
                removed: "corp-duo".into()
            }),
            r#"{"removed":"corp-duo"}"#
        );
    }
}
