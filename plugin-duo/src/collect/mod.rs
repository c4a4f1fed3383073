//! Collect Now: each source with its own checkpoint, committed page by page.

pub mod admin_log;
pub mod inventory;
pub mod sources;
pub mod timelog;

use crate::client::{DuoClient, RetryPolicy};
use crate::config::{Config, MAX_LOOKBACK_DAYS, SECRET_KEY};
use crate::error::DuoError;
use crate::host_api::{Env, LogLevel, SecretError, StorageError};
use crate::model::{CollectOptions, CollectSummary, PluginError};
use crate::normalize::{self, Inventory};

/// Source names, in collection order (auth logs first: they matter most and
/// age out of Duo's 180-day window).
pub const SOURCES: [&str; 7] = [
    "authentication_log",
    "user",
    "phone",
    "endpoint",
    "administrator_log",
    "telephony_log",
    "info_summary",
];

pub const RATE_LIMIT_NOTE: &str = "rate limited, will resume";

/// How one source's run ended.
#[derive(Debug, Default)]
pub enum Stop {
    #[default]
    CaughtUp,
    /// `max-pages` reached with more to fetch.
    PageLimit,
    /// Still 429 after backing off; committed pages stand.
    RateLimited,
    /// A Duo call failed after retries.
    Duo(DuoError),
    /// Anything else (storage, bad checkpoint, looping upstream).
    Failed(PluginError),
}

#[derive(Debug, Default)]
pub struct SourceOutcome {
    pub pages: u32,
    pub records: u64,
    pub notes: Vec<String>,
    pub stop: Stop,
}

impl SourceOutcome {
    pub fn stop(mut self, stop: Stop) -> SourceOutcome {
        self.stop = stop;
        self
    }
}

pub(crate) fn storage_error(e: StorageError) -> PluginError {
    match e {
        StorageError::TooLarge(m) => {
            PluginError::Host(format!("the host refused a page as too large: {m}"))
        }
        StorageError::Invalid(m) => {
            PluginError::Internal(format!("the host refused a record as invalid: {m}"))
        }
        StorageError::Unavailable(m) => PluginError::Host(format!(
            "the host could not store the page ({m}); nothing of it was written"
        )),
    }
}

/// Accepts a source by name (`user`) or record kind (`duo.user`).
fn resolve_sources(requested: &[String]) -> Result<Vec<&'static str>, PluginError> {
    if requested.is_empty() {
        return Ok(SOURCES.to_vec());
    }
    let mut chosen = Vec::new();
    for name in requested {
        let bare = name.trim().strip_prefix("duo.").unwrap_or(name.trim());
        let bare = bare
            .strip_suffix('s')
            .filter(|b| SOURCES.contains(b))
            .unwrap_or(bare);
        match SOURCES.iter().find(|s| **s == bare) {
            Some(s) if !chosen.contains(s) => chosen.push(*s),
            Some(_) => {}
            None => {
                return Err(PluginError::Config(format!(
                    "unknown source `{name}`: choose from {}",
                    SOURCES.join(", ")
                )));
            }
        }
    }
    // keep the canonical order whatever order they were asked in
    Ok(SOURCES
        .iter()
        .copied()
        .filter(|s| chosen.contains(s))
        .collect())
}

pub(crate) fn kind_of(source: &str) -> &'static str {
    match source {
        "authentication_log" => normalize::KIND_AUTH,
        "user" => normalize::KIND_USER,
        "phone" => normalize::KIND_PHONE,
        "endpoint" => normalize::KIND_ENDPOINT,
        "administrator_log" => normalize::KIND_ADMIN_LOG,
        "telephony_log" => normalize::KIND_TELEPHONY,
        _ => normalize::KIND_INFO,
    }
}

pub fn secret_error(field: &str, e: SecretError) -> PluginError {
    match e {
        SecretError::NotSet(_) => PluginError::Config(format!(
            "the secret `{field}` is not set: enter the secret key of the application in the integration's settings"
        )),
        SecretError::NotDeclared(_) | SecretError::NotGranted(_) => {
            PluginError::Host(format!("the host refused the secret `{field}`: {e:?}"))
        }
    }
}

pub fn run(
    config: &Config,
    env: &Env,
    options: &CollectOptions,
) -> Result<CollectSummary, PluginError> {
    let sources = resolve_sources(&options.sources)?;
    let signer = env
        .secrets
        .get(SECRET_KEY)
        .map_err(|e| secret_error(SECRET_KEY, e))?;
    let client = DuoClient::new(
        &config.api_hostname,
        &config.integration_key,
        signer.as_ref(),
        config.signature_version,
        env.http,
        env.clock,
        env.log,
        RetryPolicy {
            max_retries: config.max_retries,
            base_ms: config.retry_base_ms,
        },
    );
    let mut summary = CollectSummary::default();
    for source in sources {
        if source == "endpoint" && !config.collect_endpoints {
            if !options.sources.is_empty() {
                summary.notes.push(
                    "endpoint: skipped, turn on `collect_endpoints` to collect endpoints".into(),
                );
            }
            continue;
        }
        let checkpoint = env.storage.get_checkpoint(source);
        let mut sink = sources::StorageSink {
            storage: env.storage,
            source,
            events: matches!(
                source,
                "authentication_log" | "telephony_log" | "administrator_log"
            ),
        };
        // The local clock, like Duo's own collectors; Test Connectivity
        // reports skew against Duo's.
        let now_ms = env.clock.now_ms();
        let out = match source {
            "authentication_log" | "telephony_log" => {
                let mut api =
                    sources::DuoLog::new(&client, source == "telephony_log", options.max_pages);
                let run = timelog::LogRun {
                    now_ms,
                    initial_lookback_days: config.initial_lookback_days,
                    max_lookback_days: MAX_LOOKBACK_DAYS,
                    max_pages: options.max_pages,
                };
                timelog::run(&mut api, &mut sink, checkpoint.as_deref(), run)
            }
            "user" | "phone" | "endpoint" => {
                let inventory = match source {
                    "user" => Inventory::Users,
                    "phone" => Inventory::Phones,
                    _ => Inventory::Endpoints,
                };
                let mut api = sources::DuoInventory {
                    client: &client,
                    inventory,
                };
                let mut sink = sources::InventoryStorage {
                    sink,
                    kind: inventory.kind(),
                };
                inventory::run(
                    &mut api,
                    &mut sink,
                    checkpoint.as_deref(),
                    now_ms,
                    options.max_pages,
                )
            }
            "administrator_log" => {
                let mut api = sources::DuoAdminLog { client: &client };
                let lookback = config.initial_lookback_days.min(MAX_LOOKBACK_DAYS);
                admin_log::run(
                    &mut api,
                    &mut sink,
                    checkpoint.as_deref(),
                    now_ms,
                    lookback,
                    options.max_pages,
                )
            }
            _ => sources::info_summary(&client, &mut sink, now_ms),
        };
        // The source's pages are all written before it counts as collected.
        if let Err(e) = env.storage.flush() {
            return Err(with_progress(storage_error(e), &summary));
        }
        summary.pages += out.pages;
        summary.add_records(kind_of(source), out.records);
        summary
            .notes
            .extend(out.notes.into_iter().map(|n| format!("{source}: {n}")));
        let pages_text = out.pages.to_string();
        let records_text = out.records.to_string();
        env.log.log(
            LogLevel::Info,
            "source collected",
            &[
                ("source", source),
                ("pages", &pages_text),
                ("records", &records_text),
            ],
        );
        match out.stop {
            Stop::CaughtUp => {}
            Stop::PageLimit => summary.more_remaining = true,
            Stop::RateLimited => {
                summary.more_remaining = true;
                summary.notes.push(format!("{source}: {RATE_LIMIT_NOTE}"));
                // Duo's limits are per account; pushing on only deepens the hole.
                break;
            }
            Stop::Duo(DuoError::Forbidden { .. }) if source == "endpoint" => {
                summary.notes.push(
                    "endpoint: Duo refused the endpoint list (40301): it needs a Duo Advantage or Premier edition and Grant read resource; skipped".into(),
                );
            }
            Stop::Duo(e) => {
                let permission = match source {
                    "authentication_log" | "administrator_log" | "telephony_log" => {
                        "Grant read log"
                    }
                    "info_summary" => "Grant read information",
                    _ => "Grant read resource",
                };
                let context = if matches!(e, DuoError::Forbidden { .. }) {
                    format!("collecting {source} needs {permission}")
                } else {
                    format!("collecting {source}")
                };
                return Err(with_progress(e.into_plugin_error(&context), &summary));
            }
            Stop::Failed(e) => return Err(with_progress(e, &summary)),
        }
    }
    Ok(summary)
}

/// Adds what was committed before a failure to its message (the WIT error
/// carries only text, and committed pages do stand).
fn with_progress(e: PluginError, summary: &CollectSummary) -> PluginError {
    let committed: u64 = summary.records.iter().map(|(_, n)| n).sum();
    if committed == 0 {
        return e;
    }
    let suffix = format!(
        " ({committed} records in {} pages were committed before this)",
        summary.pages
    );
    match e {
        PluginError::Config(m) => PluginError::Config(m + &suffix),
        PluginError::Unauthorized(m) => PluginError::Unauthorized(m + &suffix),
        PluginError::Forbidden(m) => PluginError::Forbidden(m + &suffix),
        PluginError::RateLimited(m) => PluginError::RateLimited(m + &suffix),
        PluginError::Upstream(m) => PluginError::Upstream(m + &suffix),
        PluginError::Host(m) => PluginError::Host(m + &suffix),
        PluginError::NotFound(m) => PluginError::NotFound(m + &suffix),
        PluginError::InvalidInput(m) => PluginError::InvalidInput(m + &suffix),
        PluginError::Internal(m) => PluginError::Internal(m + &suffix),
    }
}

#[cfg(test)]
mod tests;
