//! A deliberately hostile plugin for the host's sandbox tests.
//!
//! Its behaviour in `collect` and `test-connectivity` is chosen by the config
//! field `mode`, so one component can play every part: the well-behaved
//! neighbour, the runaway loop, the memory bomb, the egress violator, the
//! trapping plugin and the secret thief. Each hostile mode reports what the
//! host answered in its notes so the tests can assert on the exact refusal.

mod modes;

wit_bindgen::generate!({
    world: "integration",
    path: "../../wit/released/0.1.0",
});

use exports::oort::integration::plugin::Guest;
use oort::integration::types::{
    ActionOutcome, ActionRequest, Capability, Charset, Check, CheckStatus, CollectOptions,
    CollectSummary, ConfigEntry, ConfigField, EgressRule, FieldError, FieldType, Manifest,
    PluginError, RecordKind, TextConstraints,
};

use modes::Mode;

struct Misbehaving;

fn field(
    name: &str,
    label: &str,
    field_type: FieldType,
    required: bool,
    description: &str,
) -> ConfigField {
    ConfigField {
        name: name.into(),
        label: label.into(),
        field_type,
        required,
        description: description.into(),
        validation_hint: String::new(),
        default_value: None,
        constraints: None,
        advanced: false,
    }
}

impl Guest for Misbehaving {
    fn manifest() -> Manifest {
        let mut mode = field(
            "mode",
            "Mode",
            FieldType::Text,
            true,
            "Which misbehaviour to act out.",
        );
        mode.validation_hint = format!("one of: {}", Mode::NAMES.join(", "));
        let mut count = field(
            "count",
            "Records",
            FieldType::Integer,
            false,
            "Records a well-behaved run commits.",
        );
        count.default_value = Some(modes::DEFAULT_COUNT.to_string());
        let mut token = field(
            "token",
            "Token",
            FieldType::Secret,
            true,
            "Key the well-behaved mode signs with.",
        );
        token.constraints = Some(TextConstraints {
            min_length: 8,
            max_length: 64,
            charset: Charset::Alphanumeric,
        });
        token.validation_hint = "8 to 64 letters and digits".into();
        Manifest {
            id: "misbehaving".into(),
            name: "Misbehaving test plugin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Acts out sandbox violations chosen by its `mode` config field.".into(),
            config: vec![
                field(
                    "api_hostname",
                    "API hostname",
                    FieldType::Text,
                    true,
                    "The only host it may call.",
                ),
                mode,
                count,
                token,
            ],
            egress: vec![EgressRule {
                host_field: "api_hostname".into(),
                purpose: "The http-get mode's probe.".into(),
            }],
            record_kinds: vec![RecordKind {
                name: modes::KIND.into(),
                description: "A numbered test item.".into(),
            }],
            actions: Vec::new(),
            // Requested but normally not granted, so `reveal` must be refused.
            capabilities: vec![Capability::SecretReveal],
        }
    }

    fn validate_config(config: Vec<ConfigEntry>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match value(&config, "mode") {
            Some(m) if Mode::parse(m).is_some() => {}
            other => errors.push(FieldError {
                field: "mode".into(),
                message: format!(
                    "`{}` is not a mode; use one of: {}",
                    other.unwrap_or(""),
                    Mode::NAMES.join(", ")
                ),
            }),
        }
        if value(&config, "api_hostname").is_none_or(str::is_empty) {
            errors.push(FieldError {
                field: "api_hostname".into(),
                message: "enter a hostname".into(),
            });
        }
        if let Some(c) = value(&config, "count")
            && c.parse::<u32>().is_err()
        {
            errors.push(FieldError {
                field: "count".into(),
                message: format!("`{c}` is not a whole number"),
            });
        }
        errors
    }

    fn test_connectivity(config: Vec<ConfigEntry>) -> Vec<Check> {
        let mut scratch = empty_summary();
        let outcome = Settings::from(&config).and_then(|s| s.mode.run(&s, &mut scratch, false));
        let mut checks: Vec<Check> = scratch
            .notes
            .into_iter()
            .map(|n| Check {
                name: "mode".into(),
                status: CheckStatus::Ok,
                detail: n,
                remedy: None,
            })
            .collect();
        if let Err(e) = outcome {
            checks.push(Check {
                name: "mode".into(),
                status: CheckStatus::Failed,
                detail: format!("{e:?}"),
                remedy: None,
            });
        }
        checks
    }

    fn collect(
        config: Vec<ConfigEntry>,
        _options: CollectOptions,
    ) -> Result<CollectSummary, PluginError> {
        let settings = Settings::from(&config)?;
        let mut summary = empty_summary();
        settings.mode.run(&settings, &mut summary, true)?;
        Ok(summary)
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

/// The parsed configuration.
pub(crate) struct Settings {
    pub mode: Mode,
    pub api_hostname: String,
    pub count: u32,
}

impl Settings {
    fn from(config: &[ConfigEntry]) -> Result<Settings, PluginError> {
        let mode_name = value(config, "mode").unwrap_or("");
        let mode = Mode::parse(mode_name)
            .ok_or_else(|| PluginError::Config(format!("mode: `{mode_name}` is not a mode")))?;
        let count = match value(config, "count") {
            Some(c) => c
                .parse()
                .map_err(|_| PluginError::Config(format!("count: `{c}` is not a whole number")))?,
            None => modes::DEFAULT_COUNT,
        };
        Ok(Settings {
            mode,
            api_hostname: value(config, "api_hostname").unwrap_or("").to_string(),
            count,
        })
    }
}

fn empty_summary() -> CollectSummary {
    CollectSummary {
        records: Vec::new(),
        pages: 0,
        more_remaining: false,
        notes: Vec::new(),
    }
}

fn value<'a>(config: &'a [ConfigEntry], name: &str) -> Option<&'a str> {
    config
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.value.as_str())
}

export!(Misbehaving);
