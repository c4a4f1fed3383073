use super::super::tests::AUTH_EVENT;
use super::super::{LogResponse, RawAuthEvent, open_envelope};
use super::*;
use crate::json_scan::tests::Mutator;

fn page(events: &[&str]) -> String {
    format!(
        r#"{{"stat":"OK","response":{{"authlogs":[{}],"metadata":{{"next_offset":["1581620180351","340a"],"total_objects":2}}}}}}"#,
        events.join(",")
    )
}

/// The serde_json path's reading of a page: events and raw `next_offset`.
fn serde_page(body: &str) -> Result<(Vec<&str>, Option<&str>), String> {
    let (resp, _): (LogResponse, _) = open_envelope(body.as_bytes())?;
    Ok((
        resp.authlogs.iter().map(|raw| raw.get()).collect(),
        resp.metadata
            .and_then(|m| m.next_offset)
            .map(|raw| raw.get()),
    ))
}

fn serde_event(text: &str) -> Option<RawAuthEvent<'_>> {
    serde_json::from_str(text).ok()
}

#[test]
fn what_duo_sends_takes_the_fast_path() {
    let body = page(&[AUTH_EVENT, AUTH_EVENT]);
    let fast = log_page(body.as_bytes()).expect("a Duo page is read by the scanner");
    assert_eq!(Ok(fast.clone()), serde_page(&body));
    assert_eq!(fast.0, [AUTH_EVENT, AUTH_EVENT]);
    assert_eq!(fast.1, Some(r#"["1581620180351","340a"]"#));

    let event = auth_event(AUTH_EVENT).expect("a Duo event is read by the scanner");
    assert_eq!(Some(&event), serde_event(AUTH_EVENT).as_ref());
    assert_eq!(
        event.txid.get(),
        Some("340a23e3-23f3-4b8d-8e44-5ae4b1a1c0c4")
    );
    assert_eq!(event.timestamp, Int(Some(1_581_620_180)));
    let device = event.access_device.as_ref().unwrap();
    assert_eq!(
        (device.is_encryption_enabled, device.is_firewall_enabled),
        (Flag(Some(true)), Flag(None))
    );
    assert_eq!(device.hostname, Str(None));
}

#[test]
fn a_null_next_offset_reads_as_serde_json_reads_it() {
    for body in [
        r#"{"stat":"OK","response":{"authlogs":[],"metadata":{"next_offset":null}}}"#,
        r#"{"stat":"OK","response":{"metadata":{"next_offset" : null }}}"#,
    ] {
        let fast = log_page(body.as_bytes()).expect("the fast path reads it");
        assert_eq!(Ok(fast), serde_page(body), "{body}");
    }
}

#[test]
fn other_shapes_are_left_to_serde_json() {
    for (event, why) in [
        (r#"{"txid":"a","txid":"b"}"#, "a field given twice"),
        (r#"{"txid":"a\"b"}"#, "escaped text"),
        (r#"{"t\u0078id":"a"}"#, "an escaped key"),
        (r#"{"txid":12}"#, "a number as text"),
        (r#"{"timestamp":1.5e3}"#, "a float as an integer"),
        (r#"{"timestamp":"12"}"#, "text as an integer"),
        (r#"{"timestamp":1000000000000000000}"#, "19 digits"),
        (r#"{"user":["a","b"]}"#, "a struct as an array"),
        (
            r#"{"access_device":{"is_password_set":1}}"#,
            "a number as a flag",
        ),
        ("[]", "not an object"),
        (r#"{"txid":"a"} x"#, "trailing text"),
    ] {
        assert_eq!(auth_event(event), None, "{why}: {event}");
    }
    for (body, why) in [
        (r#"{"stat":"FAIL","response":{}}"#, "stat not OK"),
        (r#"{"response":{"authlogs":[]}}"#, "no stat"),
        (r#"{"stat":"OK"}"#, "no response"),
        (r#"{"stat":"OK","response":null}"#, "a null response"),
        (
            r#"{"stat":"OK","response":{"authlogs":[],"items":[]}}"#,
            "both lists",
        ),
        (
            r#"{"stat":"OK","response":{},"metadata":{}}"#,
            "inventory paging",
        ),
        (r#"{"stat":"OK","stat":"OK","response":{}}"#, "stat twice"),
    ] {
        assert_eq!(log_page(body.as_bytes()), None, "{why}: {body}");
    }
    assert_eq!(
        log_page(b"{\"stat\":\"OK\",\"response\":{},\"x\":\"\xff\"}"),
        None,
        "not UTF-8"
    );
}

#[test]
fn lenient_values_read_as_serde_json_reads_them() {
    for event in [
        r#"{"txid":"","email":null,"access_device":null,"auth_device":{"location":null}}"#,
        r#"{"access_device":{"is_encryption_enabled":"YES","is_firewall_enabled":"off","is_password_set":""}}"#,
        r#"{"timestamp":-999999999999999999,"isotimestamp":"x","unknown":{"deep":[[{"a":null}]]}}"#,
        r#" { "user" : { "name" : "a" , "groups" : [ ] } } "#,
        "{}",
    ] {
        let fast = auth_event(event).unwrap_or_else(|| panic!("fast path: {event}"));
        assert_eq!(Some(fast), serde_event(event), "{event}");
    }
}

/// `check`s `runs` mutations of `text`; `check` answers whether the fast
/// path read the mutation. Both outcomes must be common, or the test proves
/// little.
fn on_mutations(text: &str, seed: u64, runs: usize, mut check: impl FnMut(&str) -> bool) {
    let mut mutator = Mutator::new(seed);
    let fast = (0..runs).filter(|_| check(&mutator.mutate(text))).count();
    let aside = runs - fast;
    assert!(
        fast > runs / 10 && aside > runs / 10,
        "{fast} fast, {aside} left to serde_json"
    );
}

#[test]
fn mutated_events_read_as_serde_json_reads_them_or_step_aside() {
    on_mutations(AUTH_EVENT, 0xd00, 20_000, |text| {
        let ev = auth_event(text);
        if ev.is_some() {
            assert_eq!(ev, serde_event(text), "{text}");
        }
        ev.is_some()
    });
}

#[test]
fn mutated_pages_read_as_serde_json_reads_them_or_step_aside() {
    on_mutations(&page(&[AUTH_EVENT, AUTH_EVENT]), 0xbeef, 5_000, |text| {
        let page = log_page(text.as_bytes());
        if let Some(page) = &page {
            assert_eq!(Ok(page.clone()), serde_page(text), "{text}");
        }
        page.is_some()
    });
}

/// Generated events: Duo's fields, mostly with the types Duo sends and
/// sometimes anything (nulls, numbers as text, nested values, escapes and
/// any Unicode in text), plus unknown fields; the fast path must read each
/// as serde_json does, or leave it to serde_json.
mod generated {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "[a-zA-Z0-9 ._@:/-]{0,16}",
            2 => any::<String>(),
            1 => "[\"\\\\/\u{0}-\u{1f}é中😀]{1,4}",
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON has no NaN", |f| f.is_finite())
                .prop_map(Value::from),
            text().prop_map(Value::String),
        ]
    }

    fn anything() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Mostly `typical`, sometimes anything at all.
    fn field(typical: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
        prop_oneof![8 => typical, 1 => anything()].boxed()
    }

    fn string_field() -> BoxedStrategy<Value> {
        field(text().prop_map(Value::String))
    }

    fn flag_field() -> BoxedStrategy<Value> {
        field(prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            "(true|false|YES|no|)".prop_map(Value::String),
        ])
    }

    /// An object of `fields`, each present or not, plus unknown fields.
    fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        let present: Vec<_> = fields
            .into_iter()
            .map(|(name, value)| prop::option::of(value).prop_map(move |v| (name, v)))
            .collect();
        (
            present,
            prop::collection::btree_map("[a-z_]{1,10}", anything(), 0..3),
        )
            .prop_map(|(known, unknown)| {
                let mut map = Map::new();
                for (name, value) in unknown {
                    map.insert(name, value);
                }
                for (name, value) in known {
                    if let Some(value) = value {
                        map.insert(name.to_owned(), value);
                    }
                }
                Value::Object(map)
            })
            .boxed()
    }

    fn location() -> BoxedStrategy<Value> {
        field(object(vec![
            ("city", string_field()),
            ("state", string_field()),
            ("country", string_field()),
        ]))
    }

    fn named() -> BoxedStrategy<Value> {
        field(object(vec![
            ("name", string_field()),
            ("key", string_field()),
        ]))
    }

    fn event() -> BoxedStrategy<Value> {
        object(vec![
            ("txid", string_field()),
            (
                "timestamp",
                field((0i64..5_000_000_000).prop_map(Value::from)),
            ),
            ("isotimestamp", string_field()),
            ("event_type", string_field()),
            ("result", string_field()),
            ("reason", string_field()),
            ("factor", string_field()),
            ("email", string_field()),
            ("user", named()),
            ("application", named()),
            (
                "access_device",
                field(object(vec![
                    ("ip", string_field()),
                    ("hostname", string_field()),
                    ("location", location()),
                    ("os", string_field()),
                    ("os_version", string_field()),
                    ("browser", string_field()),
                    ("browser_version", string_field()),
                    ("epkey", string_field()),
                    ("is_encryption_enabled", flag_field()),
                    ("is_firewall_enabled", flag_field()),
                    ("is_password_set", flag_field()),
                ])),
            ),
            (
                "auth_device",
                field(object(vec![
                    ("ip", string_field()),
                    ("key", string_field()),
                    ("name", string_field()),
                    ("location", location()),
                ])),
            ),
        ])
    }

    /// Compact or pretty (whitespace everywhere JSON allows it).
    fn render(value: &Value, pretty: bool) -> String {
        if pretty {
            serde_json::to_string_pretty(value).unwrap()
        } else {
            serde_json::to_string(value).unwrap()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        #[test]
        fn a_generated_event_reads_as_serde_json_reads_it_or_steps_aside(
            event in event(),
            pretty in any::<bool>(),
        ) {
            let text = render(&event, pretty);
            if let Some(fast) = auth_event(&text) {
                prop_assert_eq!(Some(fast), serde_event(&text), "{}", text);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn a_generated_page_reads_as_serde_json_reads_it_or_steps_aside(
            events in prop::collection::vec(event(), 0..4),
            pretty in any::<bool>(),
        ) {
            let rendered: Vec<String> = events.iter().map(|e| render(e, pretty)).collect();
            let refs: Vec<&str> = rendered.iter().map(String::as_str).collect();
            let body = page(&refs);
            if let Some(fast) = log_page(body.as_bytes()) {
                prop_assert_eq!(Ok(fast), serde_page(&body), "{}", body);
            }
        }
    }

    #[test]
    fn most_generated_events_take_the_fast_path() {
        // The property above proves little if nearly everything steps aside.
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = event();
        let fast = (0..1_000)
            .filter(|_| {
                let event = strategy.new_tree(&mut runner).unwrap().current();
                auth_event(&render(&event, false)).is_some()
            })
            .count();
        assert!(fast > 100, "only {fast} of 1000 took the fast path");
    }
}
