//! Checks done once, when a plugin is installed (never per call): the
//! component's exports and imports against what this host offers, and the
//! manifest it reports.

use std::collections::HashSet;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::bindings::{supported_wit_versions, supports_wit_version};
use oort_model::batch::MAX_KIND_LEN;
use oort_model::{FieldType, Manifest};

pub const PACKAGE: &str = "oort:integration";
const PLUGIN_INTERFACE: &str = "plugin";
/// The optional export listing the plugin's sources (since 0.1.4).
const SOURCES_INTERFACE: &str = "sources";
const SOURCES_SINCE: (u64, u64, u64) = (0, 1, 4);
/// Interfaces of our package a plugin may import.
const OFFERED_INTERFACES: &[&str] = &["types", "http", "secrets", "storage", "log"];
/// WASI p2 packages linked (with nothing granted: no preopens, env, sockets).
const OFFERED_WASI: &[&str] = &[
    "wasi:io",
    "wasi:cli",
    "wasi:clocks",
    "wasi:random",
    "wasi:filesystem",
];

/// Splits `ns:pkg/iface@ver` into (`ns:pkg`, `iface`, `ver`).
fn split(name: &str) -> Option<(&str, &str, &str)> {
    let (path, version) = name.split_once('@')?;
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

fn supported() -> String {
    supported_wit_versions().join(", ")
}

/// The import and export names of a compiled component.
pub fn component_names(engine: &Engine, component: &Component) -> (Vec<String>, Vec<String>) {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    let exports = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    (imports, exports)
}

/// Checks the component's interface names; returns the WIT version it was
/// built against.
pub fn check_interfaces(imports: &[String], exports: &[String]) -> Result<String, String> {
    let plugin_exports: Vec<&str> = exports
        .iter()
        .filter_map(|e| split(e))
        .filter(|(package, interface, _)| *package == PACKAGE && *interface == PLUGIN_INTERFACE)
        .map(|(_, _, version)| version)
        .collect();
    let version = match plugin_exports.as_slice() {
        [] => {
            return Err(format!(
                "the component does not export `{PACKAGE}/{PLUGIN_INTERFACE}`; is it an oort plugin? \
                 (this host supports {PACKAGE}@{})",
                supported()
            ));
        }
        [v] if supports_wit_version(v) => v.to_string(),
        [v] => {
            return Err(format!(
                "plugin built against {PACKAGE}@{v}; this host supports {}",
                supported()
            ));
        }
        _ => {
            return Err(format!(
                "the component exports `{PACKAGE}/{PLUGIN_INTERFACE}` more than once"
            ));
        }
    };
    for import in imports {
        check_import(import, &version)?;
    }
    for export in exports {
        check_export(export, &version)?;
    }
    Ok(version)
}

/// Besides `plugin`, a plugin may export `sources` of its own version (from
/// 0.1.4 on); other exports of our package are not ours to call.
fn check_export(export: &str, version: &str) -> Result<(), String> {
    let Some((PACKAGE, interface, export_version)) = split(export) else {
        return Ok(());
    };
    match interface {
        PLUGIN_INTERFACE => Ok(()),
        SOURCES_INTERFACE if export_version != version => Err(format!(
            "the plugin exports `{export}` but {PACKAGE}/plugin@{version}; \
             rebuild it against one version (this host supports {})",
            supported()
        )),
        SOURCES_INTERFACE if crate::bindings::parse(version).is_some_and(|v| v < SOURCES_SINCE) => {
            Err(format!(
                "the plugin exports `{export}`, which {PACKAGE} has only since 0.1.4"
            ))
        }
        SOURCES_INTERFACE => Ok(()),
        _ => Err(format!(
            "the plugin exports `{export}`, which is not part of {PACKAGE}@{version}"
        )),
    }
}

fn check_import(import: &str, version: &str) -> Result<(), String> {
    let Some((package, interface, import_version)) = split(import) else {
        return Err(format!(
            "the plugin imports `{import}`, which this host does not provide"
        ));
    };
    if package == PACKAGE {
        if import_version != version {
            return Err(format!(
                "the plugin imports `{import}` but exports {PACKAGE}/plugin@{version}; \
                 rebuild it against one version (this host supports {})",
                supported()
            ));
        }
        if !OFFERED_INTERFACES.contains(&interface) {
            return Err(format!(
                "the plugin imports `{import}`, which this host does not provide"
            ));
        }
        return Ok(());
    }
    if package == "wasi:sockets" || package == "wasi:http" {
        return Err(format!(
            "the plugin imports `{import}`: plugins get no direct network access; use {PACKAGE}/http"
        ));
    }
    if OFFERED_WASI.contains(&package) && import_version.starts_with("0.2.") {
        return Ok(());
    }
    Err(format!(
        "the plugin imports `{import}`, which this host does not provide \
         (it offers {PACKAGE}/{{http,secrets,storage,log}} and WASI 0.2 io, cli, clocks, random)"
    ))
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a manifest for what the host relies on; every problem is listed.
pub fn check_manifest(m: &Manifest) -> Result<(), String> {
    let mut problems = Vec::new();
    if !is_id(&m.id) {
        problems.push(format!(
            "id `{}` must be 1-64 lower-case letters, digits and `-`",
            m.id.escape_debug()
        ));
    }
    if m.name.trim().is_empty() {
        problems.push("name is empty".to_string());
    }
    if m.version.split('.').count() != 3
        || !m.version.split('.').all(|p| {
            p.split(['-', '+'])
                .next()
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
    {
        problems.push(format!(
            "version `{}` is not a semantic version like 1.2.3",
            m.version.escape_debug()
        ));
    }
    let mut fields = HashSet::new();
    for f in &m.config {
        if !is_field_name(&f.name) {
            problems.push(format!(
                "config field `{}` must be lower snake case",
                f.name.escape_debug()
            ));
        }
        if !fields.insert(f.name.as_str()) {
            problems.push(format!("config field `{}` is declared twice", f.name));
        }
        if let Some(c) = &f.constraints {
            if !matches!(f.field_type, FieldType::Text | FieldType::Secret) {
                problems.push(format!(
                    "config field `{}`: constraints apply only to text and secret fields",
                    f.name
                ));
            }
            if c.min_length > c.max_length {
                problems.push(format!(
                    "config field `{}`: min-length exceeds max-length",
                    f.name
                ));
            }
        }
        if let Some(d) = &f.default_value {
            match f.field_type {
                FieldType::Secret => problems.push(format!(
                    "secret field `{}` must not have a default value",
                    f.name
                )),
                FieldType::Boolean if d != "true" && d != "false" => problems.push(format!(
                    "boolean field `{}` has default `{d}`; use true or false",
                    f.name
                )),
                FieldType::Integer if d.parse::<i64>().is_err() => problems.push(format!(
                    "integer field `{}` has non-integer default `{d}`",
                    f.name
                )),
                _ => {}
            }
        }
    }
    for rule in &m.egress {
        match m.field(&rule.host_field) {
            // A default would let the plugin, not the operator, pick where
            // data may go.
            Some(f) if f.default_value.is_some() => problems.push(format!(
                "egress rule names field `{}`, which has a default value; the operator must type the host",
                rule.host_field
            )),
            Some(f) if f.field_type == FieldType::Text => {}
            Some(_) => problems.push(format!(
                "egress rule names field `{}`, which is not a text field",
                rule.host_field
            )),
            None => problems.push(format!(
                "egress rule names field `{}`, which is not declared",
                rule.host_field
            )),
        }
    }
    let mut kinds = HashSet::new();
    for k in &m.record_kinds {
        if k.name.is_empty() || k.name.len() > MAX_KIND_LEN {
            problems.push(format!(
                "record kind names must be 1-{MAX_KIND_LEN} bytes long"
            ));
        }
        if !kinds.insert(k.name.as_str()) {
            problems.push(format!("record kind `{}` is declared twice", k.name));
        }
    }
    let mut actions = HashSet::new();
    for a in &m.actions {
        if !is_id(&a.id) {
            problems.push(format!(
                "action id `{}` must be lower-case letters, digits and `-`",
                a.id.escape_debug()
            ));
        }
        if !actions.insert(a.id.as_str()) {
            problems.push(format!("action `{}` is declared twice", a.id));
        }
        let mut params = HashSet::new();
        for p in &a.params {
            if !params.insert(p.name.as_str()) {
                problems.push(format!(
                    "action `{}`: parameter `{}` is declared twice",
                    a.id, p.name
                ));
            }
        }
        if let Some(flag) = &a.enabled_by {
            match m.field(flag) {
                Some(f) if f.field_type == FieldType::Boolean => {}
                _ => problems.push(format!(
                    "action `{}` is enabled by `{flag}`, which is not a boolean field",
                    a.id
                )),
            }
        }
    }
    check_sources(m, &kinds, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the plugin's manifest is invalid:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// A plugin lists at most this many sources.
pub const MAX_SOURCES: usize = 64;
/// The bounds of a source's own collection interval, in seconds.
pub const SOURCE_INTERVAL_SECONDS: std::ops::RangeInclusive<u32> = 60..=7 * 24 * 3600;

/// The sources a plugin lists: each named once, in lower snake case, writing
/// only kinds the manifest declares, at an interval the scheduler honours.
fn check_sources(m: &Manifest, kinds: &HashSet<&str>, problems: &mut Vec<String>) {
    if m.sources.len() > MAX_SOURCES {
        problems.push(format!(
            "{} sources listed; at most {MAX_SOURCES}",
            m.sources.len()
        ));
        return;
    }
    let mut names = HashSet::new();
    for source in &m.sources {
        let name = source.name.escape_debug();
        if !is_field_name(&source.name) {
            problems.push(format!("source `{name}` must be lower snake case"));
        }
        if !names.insert(source.name.as_str()) {
            problems.push(format!("source `{name}` is listed twice"));
        }
        for kind in &source.record_kinds {
            if !kinds.contains(kind.as_str()) {
                problems.push(format!(
                    "source `{name}` writes `{}`, which is not a declared record kind",
                    kind.escape_debug()
                ));
            }
        }
        if let Some(seconds) = source.default_interval_seconds
            && !SOURCE_INTERVAL_SECONDS.contains(&seconds)
        {
            problems.push(format!(
                "source `{name}`: an interval of {seconds} s is outside {}..={} s",
                SOURCE_INTERVAL_SECONDS.start(),
                SOURCE_INTERVAL_SECONDS.end()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::{ActionSpec, ConfigField, EgressRule, RecordKind, Role};

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const RUST_STD_IMPORTS: &[&str] = &[
        "wasi:io/error@0.2.6",
        "wasi:io/streams@0.2.6",
        "wasi:cli/environment@0.2.6",
        "wasi:cli/stderr@0.2.6",
        "oort:integration/types@0.1.0",
        "oort:integration/http@0.1.0",
        "oort:integration/secrets@0.1.0",
    ];

    #[test]
    fn a_normal_plugin_passes() {
        let v = check_interfaces(
            &names(RUST_STD_IMPORTS),
            &names(&["oort:integration/plugin@0.1.0"]),
        )
        .unwrap();
        assert_eq!(v, "0.1.0");
    }

    #[test]
    fn other_versions_are_refused_naming_the_supported_ones() {
        let err = check_interfaces(&[], &names(&["oort:integration/plugin@0.2.0"])).unwrap_err();
        assert_eq!(
            err,
            "plugin built against oort:integration@0.2.0; this host supports 0.1.0, 0.1.1, 0.1.2, 0.1.3, 0.1.4"
        );
    }

    #[test]
    fn plugins_of_every_0_1_version_pass() {
        for version in ["0.1.0", "0.1.1", "0.1.2", "0.1.3", "0.1.4"] {
            let imports: Vec<String> = ["types", "http", "storage"]
                .iter()
                .map(|i| format!("oort:integration/{i}@{version}"))
                .collect();
            let export = format!("oort:integration/plugin@{version}");
            assert_eq!(
                check_interfaces(&imports, &names(&[export.as_str()])).unwrap(),
                version
            );
        }
    }

    #[test]
    fn non_plugins_are_refused() {
        let err = check_interfaces(&[], &names(&["wasi:cli/run@0.2.0"])).unwrap_err();
        assert!(
            err.contains("does not export `oort:integration/plugin`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_imports_are_refused_by_name() {
        let ex = names(&["oort:integration/plugin@0.1.0"]);
        let err = check_interfaces(&names(&["acme:evil/backdoor@1.0.0"]), &ex).unwrap_err();
        assert!(err.contains("acme:evil/backdoor@1.0.0"), "{err}");
        let err = check_interfaces(&names(&["wasi:sockets/tcp@0.2.0"]), &ex).unwrap_err();
        assert!(err.contains("no direct network access"), "{err}");
        let err = check_interfaces(&names(&["oort:integration/admin@0.1.0"]), &ex).unwrap_err();
        assert!(err.contains("oort:integration/admin@0.1.0"), "{err}");
        let err = check_interfaces(&names(&["oort:integration/http@0.2.0"]), &ex).unwrap_err();
        assert!(err.contains("rebuild it against one version"), "{err}");
        let err = check_interfaces(&names(&["wasi:io/streams@0.3.0"]), &ex).unwrap_err();
        assert!(err.contains("wasi:io/streams@0.3.0"), "{err}");
    }

    #[test]
    fn a_sources_export_must_match_the_plugin_and_be_0_1_4_or_later() {
        let both = |plugin: &str, sources: &str| {
            check_interfaces(
                &[],
                &names(&[
                    &format!("oort:integration/plugin@{plugin}"),
                    &format!("oort:integration/sources@{sources}"),
                ]),
            )
        };
        assert_eq!(both("0.1.4", "0.1.4").unwrap(), "0.1.4");
        let err = both("0.1.4", "0.1.3").unwrap_err();
        assert!(err.contains("rebuild it against one version"), "{err}");
        let err = both("0.1.3", "0.1.3").unwrap_err();
        assert!(err.contains("only since 0.1.4"), "{err}");
        let err = check_interfaces(
            &[],
            &names(&[
                "oort:integration/plugin@0.1.4",
                "oort:integration/storage@0.1.4",
            ]),
        )
        .unwrap_err();
        assert!(err.contains("not part of oort:integration@0.1.4"), "{err}");
        // Exports of other packages are the plugin's own business.
        assert!(
            check_interfaces(
                &[],
                &names(&["oort:integration/plugin@0.1.4", "wasi:cli/run@0.2.6"])
            )
            .is_ok()
        );
    }

    fn source(name: &str, kinds: &[&str], interval: Option<u32>) -> oort_model::Source {
        oort_model::Source {
            name: name.into(),
            description: String::new(),
            record_kinds: names(kinds),
            default_interval_seconds: interval,
        }
    }

    #[test]
    fn sources_are_named_once_write_declared_kinds_and_keep_to_the_interval_bounds() {
        let mut m = manifest();
        m.sources = vec![
            source("auth_log", &["duo.auth"], None),
            source("users", &[], Some(3600)),
        ];
        check_manifest(&m).unwrap();
        m.sources = vec![
            source("auth_log", &["duo.auth", "duo.nope"], Some(59)),
            source("auth_log", &[], Some(604_801)),
            source("Users", &[], Some(604_800)),
        ];
        let err = check_manifest(&m).unwrap_err();
        for problem in [
            "source `auth_log` writes `duo.nope`, which is not a declared record kind",
            "source `auth_log`: an interval of 59 s is outside 60..=604800 s",
            "source `auth_log` is listed twice",
            "source `auth_log`: an interval of 604801 s",
            "source `Users` must be lower snake case",
        ] {
            assert!(err.contains(problem), "{problem}: {err}");
        }
        m.sources = (0..65)
            .map(|i| source(&format!("s{i}"), &[], None))
            .collect();
        let err = check_manifest(&m).unwrap_err();
        assert!(err.contains("65 sources listed; at most 64"), "{err}");
    }

    fn field(name: &str, field_type: FieldType) -> ConfigField {
        ConfigField::new(name, field_type)
    }

    fn manifest() -> Manifest {
        Manifest {
            sources: Vec::new(),
            id: "duo".into(),
            name: "Duo".into(),
            version: "0.1.0".into(),
            description: String::new(),
            config: vec![
                field("api_hostname", FieldType::Text),
                field("skey", FieldType::Secret),
                field("push", FieldType::Boolean),
            ],
            egress: vec![EgressRule {
                host_field: "api_hostname".into(),
                purpose: "API".into(),
            }],
            record_kinds: vec![RecordKind {
                name: "duo.auth".into(),
                description: String::new(),
            }],
            actions: vec![ActionSpec {
                id: "disable-user".into(),
                title: "Disable".into(),
                description: String::new(),
                params: vec![],
                required_permission: String::new(),
                minimum_role: Role::Admin,
                enabled_by: Some("push".into()),
            }],
            capabilities: vec![],
        }
    }

    #[test]
    fn a_good_manifest_passes() {
        check_manifest(&manifest()).unwrap();
    }

    #[test]
    fn manifest_problems_are_all_listed() {
        let mut m = manifest();
        m.id = "Duo Plugin".into();
        m.egress.push(EgressRule {
            host_field: "skey".into(),
            purpose: String::new(),
        });
        m.egress.push(EgressRule {
            host_field: "missing".into(),
            purpose: String::new(),
        });
        m.actions.push(m.actions[0].clone());
        m.actions[0].enabled_by = Some("api_hostname".into());
        m.config.push(field("api_hostname", FieldType::Text));
        m.config.push(ConfigField {
            default_value: Some("collector.example".into()),
            ..field("telemetry_host", FieldType::Text)
        });
        m.egress.push(EgressRule {
            host_field: "telemetry_host".into(),
            purpose: String::new(),
        });
        let err = check_manifest(&m).unwrap_err();
        for expected in [
            "`telemetry_host`, which has a default value",
            "id `Duo Plugin`",
            "`skey`, which is not a text field",
            "`missing`, which is not declared",
            "action `disable-user` is declared twice",
            "not a boolean field",
            "`api_hostname` is declared twice",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }
}
