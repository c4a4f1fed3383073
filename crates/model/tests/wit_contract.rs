//! The model mirrors `wit/integration/types.wit` and `sources.wit`: every
//! record, enum and variant there has a type here with the same fields or cases, in the same
//! order, under the same names (serde writes `snake_case` where the WIT says
//! `kebab-case`). A field added to the WIT and not here, or renamed in one
//! place only, fails this test instead of a plugin's data going missing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use oort_model::*;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use wit_parser::{Resolve, TypeDefKind, TypeOwner};

/// Names as the WIT writes them, with `-` read as `_`.
type Shapes = BTreeMap<String, Vec<String>>;

fn wit_shapes() -> Shapes {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/integration");
    let mut resolve = Resolve::new();
    let (package, _) = resolve.push_dir(&dir).expect("wit/integration parses");
    let interfaces = &resolve.packages[package].interfaces;
    let mirrored = [interfaces["types"], interfaces["sources"]];
    let mut shapes = Shapes::new();
    for (_, def) in resolve.types.iter() {
        if !mirrored
            .iter()
            .any(|i| def.owner == TypeOwner::Interface(*i))
        {
            continue;
        }
        let names: Vec<&str> = match &def.kind {
            TypeDefKind::Record(r) => r.fields.iter().map(|f| f.name.as_str()).collect(),
            TypeDefKind::Variant(v) => v.cases.iter().map(|c| c.name.as_str()).collect(),
            TypeDefKind::Enum(e) => e.cases.iter().map(|c| c.name.as_str()).collect(),
            _ => continue,
        };
        let name = def.name.clone().expect("named type");
        let mut fields: Vec<String> = names.into_iter().map(snake).collect();
        if name == "manifest" {
            // The model's manifest also carries what the optional `sources`
            // export lists, so everything installed is in one place.
            fields.push("sources".into());
        }
        assert!(
            shapes.insert(snake(&name), fields).is_none(),
            "{name} twice"
        );
    }
    shapes
}

fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// What a derived `Deserialize` asks for: a struct's field names or an
/// enum's variant names, in declaration order, under their serde names.
#[derive(Debug)]
struct Asked(Vec<String>);

impl fmt::Display for Asked {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Asked {}

impl de::Error for Asked {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        panic!("not a struct or enum: {msg}")
    }
}

/// A deserializer that answers nothing and reports what it was asked for.
struct ShapeOf;

impl<'de> Deserializer<'de> for ShapeOf {
    type Error = Asked;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Asked> {
        panic!("asked for any value: not a derived struct or enum")
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Asked> {
        Err(Asked(fields.iter().map(|f| snake(f)).collect()))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Asked> {
        Err(Asked(variants.iter().map(|v| snake(v)).collect()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

fn shape<'de, T: Deserialize<'de>>() -> Vec<String> {
    match T::deserialize(ShapeOf) {
        Err(Asked(names)) => names,
        Ok(_) => unreachable!("ShapeOf never answers"),
    }
}

/// The `kind` tag serde writes for each error, listed through an exhaustive
/// match so a new variant cannot be left out of this test.
fn plugin_error_cases() -> Vec<String> {
    let all = |m: String| {
        [
            PluginError::Config(m.clone()),
            PluginError::Unauthorized(m.clone()),
            PluginError::Forbidden(m.clone()),
            PluginError::RateLimited(m.clone()),
            PluginError::Upstream(m.clone()),
            PluginError::Host(m.clone()),
            PluginError::NotFound(m.clone()),
            PluginError::InvalidInput(m.clone()),
            PluginError::Internal(m),
        ]
    };
    all(String::new())
        .into_iter()
        .map(|e| {
            match &e {
                PluginError::Config(_)
                | PluginError::Unauthorized(_)
                | PluginError::Forbidden(_)
                | PluginError::RateLimited(_)
                | PluginError::Upstream(_)
                | PluginError::Host(_)
                | PluginError::NotFound(_)
                | PluginError::InvalidInput(_)
                | PluginError::Internal(_) => {}
            }
            let json = serde_json::to_value(&e).unwrap();
            json["kind"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The `type` tag serde writes for each normalized view (exhaustive, as above).
fn normalized_cases() -> Vec<String> {
    let all: [Normalized; 4] = [
        Normalized::None,
        Normalized::AuthEvent(AuthEvent::default()),
        Normalized::UserAccount(UserAccount::default()),
        Normalized::MfaDevice(MfaDevice::default()),
    ];
    all.iter()
        .map(|n| {
            match n {
                Normalized::None
                | Normalized::AuthEvent(_)
                | Normalized::UserAccount(_)
                | Normalized::MfaDevice(_) => {}
            }
            let json = serde_json::to_value(n).unwrap();
            json["type"].as_str().unwrap().to_string()
        })
        .collect()
}

/// `CollectedRecord` is never serialized whole (the host stores its parts),
/// so its fields are named here; the destructuring fails to compile when one
/// is added or renamed.
fn collected_record_fields() -> Vec<String> {
    let CollectedRecord::<String> {
        kind: _,
        id: _,
        occurred_at_ms: _,
        normalized: _,
        raw_json: _,
    } = CollectedRecord {
        kind: String::new(),
        id: String::new(),
        occurred_at_ms: None,
        normalized: Normalized::None,
        raw_json: String::new(),
    };
    ["kind", "id", "occurred_at_ms", "normalized", "raw_json"]
        .map(String::from)
        .to_vec()
}

fn model_shapes() -> Shapes {
    let mut shapes = Shapes::new();
    let mut add = |name: &str, names: Vec<String>| {
        assert!(
            shapes.insert(name.to_string(), names).is_none(),
            "{name} twice"
        );
    };
    add("role", shape::<Role>());
    add("field_type", shape::<FieldType>());
    add("charset", shape::<Charset>());
    add("text_constraints", shape::<TextConstraints>());
    add("config_field", shape::<ConfigField>());
    add("egress_rule", shape::<EgressRule>());
    add("record_kind", shape::<RecordKind>());
    add("action_param", shape::<ActionParam>());
    add("action_spec", shape::<ActionSpec>());
    add("capability", shape::<Capability>());
    add("manifest", shape::<Manifest>());
    add("source", shape::<Source>());
    add("field_error", shape::<FieldError>());
    add("check_status", shape::<CheckStatus>());
    add("check", shape::<Check>());
    add("collect_options", shape::<CollectOptions>());
    add("collect_summary", shape::<CollectSummary>());
    add("plugin_error", plugin_error_cases());
    add("action_request", shape::<ActionRequest>());
    add("action_status", shape::<ActionStatus>());
    add("action_outcome", shape::<ActionOutcome>());
    add("geo_location", shape::<GeoLocation>());
    add("access_device", shape::<AccessDevice>());
    add("auth_device", shape::<AuthDevice>());
    add("auth_event", shape::<AuthEvent>());
    add("user_account", shape::<UserAccount>());
    add("mfa_device", shape::<MfaDevice>());
    add("normalized", normalized_cases());
    add("collected_record", collected_record_fields());
    shapes
}

/// WIT types the model does not mirror as types of their own: a config entry
/// is a `(name, value)` pair and a kind count a `(kind, count)` pair here.
const NOT_MIRRORED: &[&str] = &["config_entry", "kind_count"];

#[test]
fn every_wit_type_has_the_same_fields_in_the_model() {
    let mut wit = wit_shapes();
    for name in NOT_MIRRORED {
        assert!(
            wit.remove(*name).is_some(),
            "{name} is no longer in the WIT"
        );
    }
    let model = model_shapes();
    let wit_names: Vec<&String> = wit.keys().collect();
    let model_names: Vec<&String> = model.keys().collect();
    assert_eq!(wit_names, model_names, "types in the WIT vs the model");
    for (name, fields) in &wit {
        assert_eq!(fields, &model[name], "fields or cases of `{name}`");
    }
}

#[test]
fn the_shape_reader_sees_what_serde_renames() {
    // `rename_all` applies: the WIT's `secret-reveal` is serde's too.
    assert_eq!(shape::<Capability>(), ["secret_reveal"]);
    assert_eq!(shape::<Role>(), ["viewer", "helpdesk", "admin"]);
    assert_eq!(
        shape::<TextConstraints>(),
        ["min_length", "max_length", "charset"]
    );
}
