//! Host-side checks of an integration's configuration against the plugin's
//! manifest, done before the plugin sees anything. Secret values are checked
//! here (the plugin never sees them) and never appear in a message.

use std::collections::HashSet;

use oort_model::{
    Capability, Charset, ConfigField, FieldError, FieldType, Manifest, SecretValue, TextConstraints,
};

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

fn charset_ok(value: &str, charset: Charset) -> bool {
    match charset {
        Charset::Any => true,
        Charset::Alphanumeric => value.chars().all(|c| c.is_ascii_alphanumeric()),
        Charset::Hex => value.chars().all(|c| c.is_ascii_hexdigit()),
    }
}

fn charset_words(charset: Charset) -> &'static str {
    match charset {
        Charset::Any => "characters",
        Charset::Alphanumeric => "letters and digits",
        Charset::Hex => "hexadecimal digits",
    }
}

fn check_constraints(
    field: &str,
    hint: &str,
    c: &TextConstraints,
    value: &str,
) -> Option<FieldError> {
    let len = value.chars().count() as u32;
    if len < c.min_length || len > c.max_length || !charset_ok(value, c.charset) {
        let size = if c.min_length == c.max_length {
            format!("exactly {}", c.min_length)
        } else {
            format!("{} to {}", c.min_length, c.max_length)
        };
        let mut message = format!(
            "must be {size} {} (got {len} characters",
            charset_words(c.charset)
        );
        if !charset_ok(value, c.charset) {
            message.push_str(", with other characters");
        }
        message.push(')');
        if !hint.is_empty() {
            message.push_str(&format!("; {hint}"));
        }
        return Some(err(field, message));
    }
    None
}

/// The manifest's field `name`, if it exists and is given where it belongs:
/// a secret as a secret (as plain config it would be stored in clear), a
/// plain field as configuration.
pub fn placed_field<'m>(
    manifest: &'m Manifest,
    name: &str,
    as_secret: bool,
) -> Result<&'m ConfigField, FieldError> {
    let Some(field) = manifest.field(name) else {
        let known: Vec<&str> = manifest.config.iter().map(|f| f.name.as_str()).collect();
        return Err(err(
            name,
            format!(
                "unknown field; plugin `{}` has: {}",
                manifest.id,
                known.join(", ")
            ),
        ));
    };
    match (field.field_type == FieldType::Secret, as_secret) {
        (true, false) => Err(err(
            name,
            "is a secret: pass it as a secret, not as plain configuration",
        )),
        (false, true) => Err(err(name, "is not a secret: pass it as plain configuration")),
        _ => Ok(field),
    }
}

/// All problems with `config` + `secrets` as the host can see them.
pub fn check_config(
    manifest: &Manifest,
    config: &[(String, String)],
    secrets: &[(String, SecretValue)],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (name, value) in config {
        if !seen.insert(name.as_str()) {
            errors.push(err(name, "given more than once"));
            continue;
        }
        let field = match placed_field(manifest, name, false) {
            Ok(field) => field,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match field.field_type {
            FieldType::Boolean if value != "true" && value != "false" => errors.push(err(
                name,
                format!("must be true or false, not `{}`", value.escape_debug()),
            )),
            FieldType::Integer if value.trim().parse::<i64>().is_err() => errors.push(err(
                name,
                format!("must be a whole number, not `{}`", value.escape_debug()),
            )),
            FieldType::Text => {
                if let Some(c) = &field.constraints
                    && let Some(e) = check_constraints(name, &field.validation_hint, c, value)
                {
                    errors.push(e);
                }
            }
            _ => {}
        }
    }
    for (name, value) in secrets {
        if !seen.insert(name.as_str()) {
            errors.push(err(name, "given more than once"));
            continue;
        }
        let field = match placed_field(manifest, name, true) {
            Ok(field) => field,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Ok(text) = std::str::from_utf8(value.expose()) else {
            errors.push(err(name, "must be text (UTF-8)"));
            continue;
        };
        if let Some(c) = &field.constraints
            && let Some(e) = check_constraints(name, &field.validation_hint, c, text)
        {
            errors.push(e);
        }
    }
    for field in &manifest.config {
        let given = seen.contains(field.name.as_str());
        if field.required && !given && field.default_value.is_none() {
            let hint = if field.validation_hint.is_empty() {
                String::new()
            } else {
                format!(" ({})", field.validation_hint)
            };
            errors.push(err(&field.name, format!("is required{hint}")));
        }
    }
    errors
}

/// Checks the operator's capability grants against what the plugin requests.
pub fn check_grants(manifest: &Manifest, granted: &[String]) -> Result<(), String> {
    for g in granted {
        let capability = match g.as_str() {
            "secret-reveal" => Capability::SecretReveal,
            other => {
                return Err(format!(
                    "unknown capability `{other}`; the only grantable capability is secret-reveal"
                ));
            }
        };
        if !manifest.capabilities.contains(&capability) {
            return Err(format!(
                "plugin `{}` does not request the `{g}` capability; do not grant it",
                manifest.id
            ));
        }
    }
    Ok(())
}

/// `config` with each unset non-secret field's default added.
pub fn effective_config(manifest: &Manifest, config: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = config.to_vec();
    for f in &manifest.config {
        if f.field_type != FieldType::Secret
            && !config.iter().any(|(n, _)| *n == f.name)
            && let Some(d) = &f.default_value
        {
            out.push((f.name.clone(), d.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::ConfigField;

    fn field(
        name: &str,
        field_type: FieldType,
        constraints: Option<TextConstraints>,
        default: Option<&str>,
    ) -> ConfigField {
        ConfigField {
            validation_hint: format!("hint for {name}"),
            default_value: default.map(Into::into),
            constraints,
            ..ConfigField::new(name, field_type)
        }
    }

    fn manifest() -> Manifest {
        let ikey = TextConstraints {
            min_length: 20,
            max_length: 20,
            charset: Charset::Alphanumeric,
        };
        let skey = TextConstraints {
            min_length: 40,
            max_length: 40,
            charset: Charset::Alphanumeric,
        };
        Manifest {
            sources: Vec::new(),
            id: "duo".into(),
            name: "Duo".into(),
            version: "0.1.0".into(),
            description: String::new(),
            config: vec![
                field("api_hostname", FieldType::Text, None, None),
                field("ikey", FieldType::Text, Some(ikey), None),
                field("skey", FieldType::Secret, Some(skey), None),
                field("push", FieldType::Boolean, None, Some("false")),
                field("page_size", FieldType::Integer, None, Some("1000")),
            ],
            egress: vec![],
            record_kinds: vec![],
            actions: vec![],
            capabilities: vec![],
        }
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn secret(name: &str, v: &str) -> Vec<(String, SecretValue)> {
        vec![(name.to_string(), SecretValue::new(v.as_bytes().to_vec()))]
    }

    #[test]
    fn a_valid_config_passes_and_gets_defaults() {
        let m = manifest();
        let config = kv(&[
            ("api_hostname", "api-1.duosecurity.com"),
            ("ikey", "DIXXXXXXXXXXXXXXXXXX"),
        ]);
        assert!(check_config(&m, &config, &secret("skey", &"a".repeat(40))).is_empty());
        let eff = effective_config(&m, &config);
        assert!(eff.contains(&("push".into(), "false".into())));
        assert!(eff.contains(&("page_size".into(), "1000".into())));
    }

    #[test]
    fn every_problem_is_reported_without_secret_values() {
        let m = manifest();
        let config = kv(&[
            ("ikey", "short"),
            ("push", "yes"),
            ("page_size", "ten"),
            ("colour", "blue"),
        ]);
        let errors = check_config(&m, &config, &secret("skey", "TOPSECRET-value"));
        let text = format!("{errors:?}");
        assert!(!text.contains("TOPSECRET"), "{text}");
        let by = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .map(|e| e.message.clone())
                .unwrap_or_default()
        };
        assert!(
            by("ikey").contains("exactly 20 letters and digits")
                && by("ikey").contains("hint for ikey"),
            "{}",
            by("ikey")
        );
        assert!(
            by("skey").contains("exactly 40") && by("skey").contains("hint for skey"),
            "{}",
            by("skey")
        );
        assert!(by("push").contains("true or false"));
        assert!(by("page_size").contains("whole number"));
        assert!(by("colour").contains("unknown field"));
        assert!(by("api_hostname").contains("required"));
    }

    #[test]
    fn secrets_and_plain_fields_are_not_interchangeable() {
        let m = manifest();
        let errors = check_config(&m, &kv(&[("skey", "x")]), &secret("ikey", "y"));
        assert!(
            errors
                .iter()
                .any(|e| e.field == "skey" && e.message.contains("is a secret"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.field == "ikey" && e.message.contains("is not a secret"))
        );
    }

    #[test]
    fn grants_must_be_requested() {
        let mut m = manifest();
        assert!(
            check_grants(&m, &["secret-reveal".into()])
                .unwrap_err()
                .contains("does not request")
        );
        assert!(
            check_grants(&m, &["root".into()])
                .unwrap_err()
                .contains("unknown capability")
        );
        m.capabilities.push(Capability::SecretReveal);
        assert!(check_grants(&m, &["secret-reveal".into()]).is_ok());
    }
}
