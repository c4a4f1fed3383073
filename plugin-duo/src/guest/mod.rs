//! The wasm component: WIT bindings and thin adapters from the imports to the
//! host traits. No logic lives here.

mod convert;

use std::time::Duration;

use crate::config::Config;
use crate::host_api::{self, Env};
use crate::model;

wit_bindgen::generate!({
    world: "integration-with-sources",
    path: "../wit/integration",
    // Imports take borrowed records: a page of events goes to the host
    // straight from the answer's body; the plugin copies none of its strings.
    ownership: Borrowing {
        duplicate_if_necessary: true
    },
});

use exports::oort::integration::plugin::Guest;
use oort::integration::{http, log as wlog, secrets, storage, types};

struct Http;

/// Calls `f` with `request` as the import's borrowed type.
fn with_request<R>(request: &host_api::HttpRequest, f: impl FnOnce(http::Request) -> R) -> R {
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    f(http::Request {
        method: &request.method,
        url: &request.url,
        headers: &headers,
        body: &request.body,
    })
}

fn from_wit(
    result: Result<http::Response, http::HttpError>,
) -> Result<host_api::HttpResponse, host_api::TransportError> {
    match result {
        Ok(resp) => Ok(host_api::HttpResponse {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        }),
        Err(e) => Err(match e {
            http::HttpError::Denied(m) => host_api::TransportError::Denied(m),
            http::HttpError::InvalidRequest(m) => host_api::TransportError::InvalidRequest(m),
            http::HttpError::Timeout => host_api::TransportError::Timeout,
            http::HttpError::Connection(m) => host_api::TransportError::Connection(m),
            http::HttpError::BodyTooLarge(n) => host_api::TransportError::BodyTooLarge(n),
            http::HttpError::BudgetExhausted => host_api::TransportError::BudgetExhausted,
        }),
    }
}

impl host_api::HttpTransport for Http {
    fn send(
        &self,
        request: &host_api::HttpRequest,
    ) -> Result<host_api::HttpResponse, host_api::TransportError> {
        from_wit(with_request(request, http::send))
    }

    fn start(&self, request: &host_api::HttpRequest) -> Box<dyn host_api::PendingResponse> {
        match with_request(request, http::start) {
            Ok(pending) => Box::new(InFlight(pending)),
            Err(e) => Box::new(host_api::Answered(from_wit(Err(e)))),
        }
    }
}

struct InFlight(http::PendingResponse);

impl host_api::PendingResponse for InFlight {
    fn finish(self: Box<Self>) -> Result<host_api::HttpResponse, host_api::TransportError> {
        from_wit(http::PendingResponse::finish(self.0))
    }
}

struct HostSecret(secrets::Secret);

impl host_api::Signer for HostSecret {
    fn hmac_sha1(&self, data: &[u8]) -> Vec<u8> {
        self.0.hmac_sha1(data)
    }
    fn hmac_sha512(&self, data: &[u8]) -> Vec<u8> {
        self.0.hmac_sha512(data)
    }
}

struct Secrets;

impl host_api::Secrets for Secrets {
    fn get(&self, name: &str) -> Result<Box<dyn host_api::Signer>, host_api::SecretError> {
        match secrets::get(name) {
            Ok(secret) => Ok(Box::new(HostSecret(secret))),
            Err(secrets::SecretError::NotDeclared(m)) => Err(host_api::SecretError::NotDeclared(m)),
            Err(secrets::SecretError::NotSet(m)) => Err(host_api::SecretError::NotSet(m)),
            Err(secrets::SecretError::NotGranted(m)) => Err(host_api::SecretError::NotGranted(m)),
        }
    }
}

struct Storage;

impl host_api::Storage for Storage {
    fn get_checkpoint(&self, source: &str) -> Option<String> {
        storage::get_checkpoint(source)
    }
    fn commit(
        &self,
        source: &str,
        records: Vec<model::CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), host_api::StorageError> {
        convert::with_records(&records, |records| {
            storage::commit(source, records, checkpoint)
        })
        .map(|_| ())
        .map_err(storage_error)
    }
    fn stage(
        &self,
        source: &str,
        records: Vec<model::CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), host_api::StorageError> {
        convert::with_records(&records, |records| {
            storage::stage(source, records, checkpoint)
        })
        .map_err(storage_error)
    }
    fn stage_events(
        &self,
        source: &str,
        events: Vec<model::CollectedRecord<'_>>,
        checkpoint: &str,
    ) -> Result<(), host_api::StorageError> {
        convert::with_records(&events, |events| {
            storage::stage_events(source, events, checkpoint)
        })
        .map_err(storage_error)
    }
    fn flush(&self) -> Result<(), host_api::StorageError> {
        storage::flush().map(|_| ()).map_err(storage_error)
    }
    fn mark(&self) -> Result<u64, host_api::StorageError> {
        storage::mark().map_err(storage_error)
    }
    fn prune(&self, kind: &str, mark: u64) -> Result<u64, host_api::StorageError> {
        storage::prune(kind, mark)
            .map(u64::from)
            .map_err(storage_error)
    }
}

fn storage_error(e: storage::StorageError) -> host_api::StorageError {
    match e {
        storage::StorageError::TooLarge(m) => host_api::StorageError::TooLarge(m),
        storage::StorageError::Invalid(m) => host_api::StorageError::Invalid(m),
        storage::StorageError::Unavailable(m) => host_api::StorageError::Unavailable(m),
    }
}

struct WallClock;

impl host_api::Clock for WallClock {
    fn now_ms(&self) -> i64 {
        oort_time::now_ms()
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

struct Log;

impl host_api::Logger for Log {
    fn log(&self, level: host_api::LogLevel, message: &str, fields: &[(&str, &str)]) {
        let level = match level {
            host_api::LogLevel::Debug => wlog::Level::Debug,
            host_api::LogLevel::Info => wlog::Level::Info,
            host_api::LogLevel::Warn => wlog::Level::Warn,
        };
        wlog::write(level, message, fields);
    }
}

fn with_env<T>(f: impl FnOnce(&Env) -> T) -> T {
    let env = Env {
        http: &Http,
        secrets: &Secrets,
        storage: &Storage,
        clock: &WallClock,
        log: &Log,
    };
    f(&env)
}

fn entries(config: Vec<types::ConfigEntry>) -> Vec<(String, String)> {
    config.into_iter().map(|e| (e.name, e.value)).collect()
}

fn parse_config(config: Vec<types::ConfigEntry>) -> Result<Config, types::PluginError> {
    Config::parse(&entries(config)).map_err(|errors| {
        let text: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        types::PluginError::Config(text.join("; "))
    })
}

struct Plugin;

impl Guest for Plugin {
    fn manifest() -> types::Manifest {
        convert::manifest(crate::manifest::manifest())
    }

    fn validate_config(config: Vec<types::ConfigEntry>) -> Vec<types::FieldError> {
        crate::config::validate(&entries(config), &Secrets)
            .into_iter()
            .map(|e| types::FieldError {
                field: e.field,
                message: e.message,
            })
            .collect()
    }

    fn test_connectivity(config: Vec<types::ConfigEntry>) -> Vec<types::Check> {
        let checks = match Config::parse(&entries(config)) {
            Ok(config) => with_env(|env| crate::connectivity::run(&config, env)),
            Err(errors) => errors
                .into_iter()
                .map(|e| {
                    model::Check::new(
                        "Configuration",
                        model::CheckStatus::Failed,
                        format!("{}: {}", e.field, e.message),
                    )
                    .remedy("fix the field in the integration's settings")
                })
                .collect(),
        };
        checks.into_iter().map(convert::check).collect()
    }

    fn collect(
        config: Vec<types::ConfigEntry>,
        options: types::CollectOptions,
    ) -> Result<types::CollectSummary, types::PluginError> {
        let config = parse_config(config)?;
        let options = model::CollectOptions {
            sources: options.sources,
            max_pages: options.max_pages,
        };
        with_env(|env| crate::collect::run(&config, env, &options))
            .map(convert::summary)
            .map_err(convert::error)
    }

    fn run_action(
        config: Vec<types::ConfigEntry>,
        request: types::ActionRequest,
    ) -> Result<types::ActionOutcome, types::PluginError> {
        let config = parse_config(config)?;
        let request = model::ActionRequest {
            action: request.action,
            params: request
                .params
                .into_iter()
                .map(|e| (e.name, e.value))
                .collect(),
            dry_run: request.dry_run,
            requested_by: request.requested_by,
            reason: request.reason,
        };
        with_env(|env| crate::actions::run(&config, env, &request))
            .map(convert::outcome)
            .map_err(convert::error)
    }
}

impl exports::oort::integration::sources::Guest for Plugin {
    fn list_sources() -> Vec<exports::oort::integration::sources::Source> {
        crate::manifest::sources()
            .into_iter()
            .map(convert::source)
            .collect()
    }
}

export!(Plugin);
