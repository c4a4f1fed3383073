//! Benchmark component: the Duo plugin's auth-page normalization, run inside
//! the sandbox so `crates/platform/benches/duo_collect.rs` can compare it with the same
//! code compiled natively.
//!
//! `collect` fetches one page body from `https://{api_hostname}/page` (the
//! bench points `api_base_url` at a loopback server) and normalizes it
//! `count` times. The bench times `count = 0` and `count = K`, so the fetch,
//! instantiation and call overhead cancel out of the per-page figure.
//! Nothing is committed: storage cost is measured separately, through the
//! real Duo plugin.

wit_bindgen::generate!({
    world: "integration",
    path: "../../wit/released/0.1.0",
});

use std::hint::black_box;

use exports::oort::integration::plugin::Guest;
use oort::integration::http::{self, HttpError, Request};
use oort::integration::types::{
    ActionOutcome, ActionRequest, Check, CheckStatus, CollectOptions, CollectSummary, ConfigEntry,
    ConfigField, EgressRule, FieldError, FieldType, KindCount, Manifest, PluginError, RecordKind,
};

struct NormalizeBench;

fn field(name: &str, label: &str, field_type: FieldType, description: &str) -> ConfigField {
    ConfigField {
        name: name.into(),
        label: label.into(),
        field_type,
        required: true,
        description: description.into(),
        validation_hint: String::new(),
        default_value: None,
        constraints: None,
        advanced: false,
    }
}

impl Guest for NormalizeBench {
    fn manifest() -> Manifest {
        Manifest {
            id: "normalize-bench".into(),
            name: "Duo normalization benchmark".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Normalizes one fetched Duo auth log page `count` times.".into(),
            config: vec![
                field(
                    "api_hostname",
                    "Page host",
                    FieldType::Text,
                    "Host serving the page at /page.",
                ),
                field(
                    "count",
                    "Repetitions",
                    FieldType::Integer,
                    "How many times to normalize the page.",
                ),
            ],
            egress: vec![EgressRule {
                host_field: "api_hostname".into(),
                purpose: "Fetch the page to normalize.".into(),
            }],
            record_kinds: vec![RecordKind {
                name: plugin_duo::normalize::KIND_AUTH.into(),
                description: "Normalized Duo auth events (counted, never committed).".into(),
            }],
            actions: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    fn validate_config(config: Vec<ConfigEntry>) -> Vec<FieldError> {
        match Settings::from(&config) {
            Ok(_) => Vec::new(),
            Err(PluginError::Config(message)) => vec![FieldError {
                field: "config".into(),
                message,
            }],
            Err(other) => vec![FieldError {
                field: "config".into(),
                message: format!("{other:?}"),
            }],
        }
    }

    fn test_connectivity(config: Vec<ConfigEntry>) -> Vec<Check> {
        let check = match Settings::from(&config).and_then(|s| fetch_page(&s.api_hostname)) {
            Ok(body) => Check {
                name: "page".into(),
                status: CheckStatus::Ok,
                detail: format!("fetched {} bytes", body.len()),
                remedy: None,
            },
            Err(e) => Check {
                name: "page".into(),
                status: CheckStatus::Failed,
                detail: format!("{e:?}"),
                remedy: Some("serve a Duo auth log page at /page of the configured host".into()),
            },
        };
        vec![check]
    }

    fn collect(
        config: Vec<ConfigEntry>,
        _options: CollectOptions,
    ) -> Result<CollectSummary, PluginError> {
        let settings = Settings::from(&config)?;
        let body = fetch_page(&settings.api_hostname)?;
        let mut normalized: u64 = 0;
        for _ in 0..settings.count {
            // black_box: the records are dropped unused, and the optimizer must
            // not get to skip building them.
            let records = plugin_duo::normalize_auth_page(black_box(&body))
                .map_err(|e| PluginError::Upstream(format!("the page does not normalize: {e}")))?;
            normalized += black_box(records).len() as u64;
        }
        Ok(CollectSummary {
            records: vec![KindCount {
                kind: plugin_duo::normalize::KIND_AUTH.into(),
                count: normalized,
            }],
            pages: 1,
            more_remaining: false,
            notes: vec![format!(
                "normalized {normalized} records from a {} byte page",
                body.len()
            )],
        })
    }

    fn run_action(
        _config: Vec<ConfigEntry>,
        request: ActionRequest,
    ) -> Result<ActionOutcome, PluginError> {
        Err(PluginError::InvalidInput(format!(
            "this plugin has no actions (asked for `{}`)",
            request.action
        )))
    }
}

struct Settings {
    api_hostname: String,
    count: u32,
}

impl Settings {
    fn from(config: &[ConfigEntry]) -> Result<Settings, PluginError> {
        let value = |name: &str| {
            config
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.value.as_str())
        };
        let api_hostname = value("api_hostname").unwrap_or("").trim();
        if api_hostname.is_empty() {
            return Err(PluginError::Config(
                "api_hostname: enter the host serving the page".into(),
            ));
        }
        let raw_count = value("count").unwrap_or("");
        let count = raw_count.parse().map_err(|_| {
            PluginError::Config(format!("count: `{raw_count}` is not a whole number"))
        })?;
        Ok(Settings {
            api_hostname: api_hostname.to_string(),
            count,
        })
    }
}

fn fetch_page(host: &str) -> Result<Vec<u8>, PluginError> {
    let request = Request {
        method: "GET".into(),
        url: format!("https://{host}/page"),
        headers: Vec::new(),
        body: Vec::new(),
    };
    match http::send(&request) {
        Ok(resp) if resp.status == 200 => Ok(resp.body),
        Ok(resp) => Err(PluginError::Upstream(format!(
            "GET /page answered {}",
            resp.status
        ))),
        Err(e) => Err(PluginError::Host(describe(&e))),
    }
}

fn describe(e: &HttpError) -> String {
    match e {
        HttpError::Denied(m) => format!("request denied: {m}"),
        HttpError::InvalidRequest(m) => format!("invalid request: {m}"),
        HttpError::Timeout => "timed out".into(),
        HttpError::Connection(m) => format!("connection failed: {m}"),
        HttpError::BodyTooLarge(n) => format!("page larger than the host's {n} byte limit"),
        HttpError::BudgetExhausted => "request budget exhausted".into(),
    }
}

export!(NormalizeBench);
