use super::*;

pub const AUTH_EVENT: &str = r#"{"access_device":{"browser":"Chrome","browser_version":"67.0.3396.99","epkey":"EP18JX1A10AB102M2T2X","flash_version":"uninstalled","hostname":null,"ip":"169.232.89.219","is_encryption_enabled":true,"is_firewall_enabled":"unknown","is_password_set":true,"java_version":"uninstalled","location":{"city":"Ann Arbor","country":"United States","state":"Michigan"},"os":"Mac OS X","os_version":"10.14.1","security_agents":"unknown"},"adaptive_trust_assessments":{"more_secure_auth":{"features_version":"3.0","model_version":"2022.07.19.001","policy_enabled":false,"reason":"Normal level of trust; no detection of known attack pattern","trust_level":"NORMAL"}},"alias":"","application":{"key":"DIY231J8BR23QK4UKBY8","name":"Microsoft Azure Active Directory"},"auth_device":{"ip":"192.168.225.254","key":"DP5BJ05HI4WRBVI4Q7JF","location":{"city":"Ann Arbor","country":"United States","state":"Michigan"},"name":"My iPhone X (734-555-2342)"},"email":"narroway@example.com","event_type":"authentication","factor":"duo_push","isotimestamp":"2020-02-13T18:56:20.351346+00:00","ood_software":null,"reason":"user_approved","result":"success","timestamp":1581620180,"trusted_endpoint_status":"not trusted","txid":"340a23e3-23f3-4b8d-8e44-5ae4b1a1c0c4","user":{"groups":["Duo Users","CorpHQ Users"],"key":"DU3KC77WJ06Y5HIV7XKQ","name":"narroway@example.com"}}"#;

fn page(events: &[&str], next: &str) -> String {
    format!(
        r#"{{"stat":"OK","response":{{"authlogs":[{}],"metadata":{{"next_offset":{next},"total_objects":2}}}}}}"#,
        events.join(",")
    )
}

#[test]
fn auth_event_is_normalized_and_kept_verbatim() {
    let body = page(
        &[AUTH_EVENT],
        r#"["1581620180351","340a23e3-23f3-4b8d-8e44-5ae4b1a1c0c4"]"#,
    );
    let p = parse_auth_page(body.as_bytes()).unwrap();
    assert_eq!(
        p.next_offset.as_deref(),
        Some("1581620180351,340a23e3-23f3-4b8d-8e44-5ae4b1a1c0c4")
    );
    let r = &p.records[0];
    assert_eq!(
        (&*r.kind, &*r.id, r.occurred_at_ms),
        (
            KIND_AUTH,
            "340a23e3-23f3-4b8d-8e44-5ae4b1a1c0c4",
            Some(1_581_620_180_351)
        )
    );
    assert_eq!(r.raw_json, AUTH_EVENT);
    let Normalized::AuthEvent(e) = &r.normalized else {
        panic!("auth event expected")
    };
    assert_eq!(e.result, "success");
    assert_eq!(e.reason.as_deref(), Some("user_approved"));
    assert_eq!(e.factor.as_deref(), Some("duo_push"));
    assert_eq!(e.user_id.as_deref(), Some("DU3KC77WJ06Y5HIV7XKQ"));
    assert_eq!(e.user_name.as_deref(), Some("narroway@example.com"));
    assert_eq!(e.application_id.as_deref(), Some("DIY231J8BR23QK4UKBY8"));
    assert_eq!(
        e.access_device.endpoint_id.as_deref(),
        Some("EP18JX1A10AB102M2T2X")
    );
    assert_eq!(e.access_device.hostname, None);
    assert_eq!(
        (
            e.access_device.is_encryption_enabled,
            e.access_device.is_firewall_enabled
        ),
        (Some(true), None)
    );
    assert_eq!(
        e.access_device.location.country.as_deref(),
        Some("United States")
    );
    let d = e.auth_device.as_ref().unwrap();
    assert_eq!(d.id.as_deref(), Some("DP5BJ05HI4WRBVI4Q7JF"));
}

#[test]
fn odd_values_degrade_per_field() {
    let ev = r#"{"txid":"t1","timestamp":1581620180,"result":"FAILURE","factor":"Duo Push","reason":null,"event_type":null,"user":null,"access_device":{"ip":12}}"#;
    let body = page(&[ev], "null");
    let p = parse_auth_page(body.as_bytes()).unwrap();
    assert_eq!(p.next_offset, None);
    let Normalized::AuthEvent(e) = &p.records[0].normalized else {
        panic!()
    };
    assert_eq!(
        (&*e.result, e.factor.as_deref(), &*e.event_type),
        ("failure", Some("duo_push"), "unknown")
    );
    assert_eq!(e.occurred_at_ms, 1_581_620_180_000);
    assert_eq!(e.access_device.ip.as_deref(), Some("12"));
}

#[test]
fn a_bad_event_fails_the_whole_page() {
    let no_txid = r#"{"timestamp":1}"#;
    assert!(parse_auth_page(page(&[AUTH_EVENT, no_txid], "null").as_bytes()).is_err());
    let body = page(&[AUTH_EVENT], "null");
    assert!(parse_auth_page(&body.as_bytes()[..body.len() / 2]).is_err());
    assert!(parse_auth_page(br#"{"stat":"FAIL","code":40301}"#).is_err());
    // Invalid JSON inside one event, the page's shape intact: the scanner
    // steps aside and serde_json refuses the page.
    for bad in [
        r#"{"txid":"t","timestamp":01}"#,
        "{\"txid\":\"t\u{1}\",\"timestamp\":1}",
        r#"{"txid":"t","timestamp":1,}"#,
    ] {
        let err = parse_auth_page(page(&[AUTH_EVENT, bad], "null").as_bytes()).unwrap_err();
        assert!(err.starts_with("invalid JSON"), "{bad}: {err}");
    }
}

#[test]
fn normalize_auth_page_is_the_collect_path() {
    let body = page(&[AUTH_EVENT, AUTH_EVENT], "null");
    let records = normalize_auth_page(body.as_bytes()).unwrap();
    assert_eq!(records, parse_auth_page(body.as_bytes()).unwrap().records);
    assert_eq!(records.len(), 2);
}

#[test]
fn users_page() {
    let body = r#"{"stat":"OK","metadata":{"next_offset":300,"total_objects":301},"response":[{"user_id":"DU1","username":"jane","email":"","realname":"Jane Doe","status":"locked out","is_enrolled":true,"last_login":1343921403,"created":1343921400,"groups":[{"group_id":"DG1","name":"Admins"}],"phones":[{"phone_id":"DP1","number":"+15555550100"}],"tokens":[{"token_id":"DHT1"}],"webauthncredentials":[{"webauthnkey":"WA1"}]}]}"#;
    let p = parse_inventory_page(Inventory::Users, body.as_bytes()).unwrap();
    assert_eq!(p.next_offset, Some(300));
    let Normalized::UserAccount(u) = &p.records[0].normalized else {
        panic!()
    };
    assert_eq!(u.status, "locked_out");
    assert_eq!(u.email, None);
    assert_eq!(u.last_login_ms, Some(1_343_921_403_000));
    assert_eq!(u.groups, ["Admins"]);
    assert_eq!(u.device_ids, ["DP1", "DHT1", "WA1"]);
}

#[test]
fn phones_never_expose_the_number() {
    let body = r#"{"stat":"OK","metadata":{"total_objects":1},"response":[{"phone_id":"DP1","number":"+1 555-555-0100","type":"Mobile","platform":"Apple iOS","activated":true,"capabilities":["auto","push"],"users":[{"user_id":"DU1"}],"last_seen":"2019-03-04T15:04:00"}]}"#;
    let p = parse_inventory_page(Inventory::Phones, body.as_bytes()).unwrap();
    assert_eq!(p.next_offset, None);
    let Normalized::MfaDevice(d) = &p.records[0].normalized else {
        panic!()
    };
    assert_eq!(d.kind, "mobile");
    assert_eq!(d.capabilities, ["auto", "push"]);
    assert_eq!(d.user_ids, ["DU1"]);
    assert_eq!(
        d.number_hash.as_deref(),
        phone_number_hash("+15555550100").as_deref()
    );
    assert!(
        !format!("{d:?}").contains("555"),
        "the number must not be in the normalized view"
    );
}

#[test]
fn telephony_and_admin_log_pages() {
    let body = r#"{"stat":"OK","response":{"items":[{"context":"authentication","credits":1,"phone":"+15035550100","telephony_id":"5bf1a860-fe39-49e3-be29-217659663a74","ts":"2022-10-25T16:07:45.304526+00:00","txid":"x","type":"sms"}],"metadata":{"next_offset":"1666714065304,5bf1a860-fe39-49e3-be29-217659663a74","total_objects":{"relation":"eq","value":1}}}}"#;
    let p = parse_telephony_page(body.as_bytes()).unwrap();
    assert_eq!(p.records[0].occurred_at_ms, Some(1_666_714_065_304));
    assert_eq!(
        p.next_offset.as_deref(),
        Some("1666714065304,5bf1a860-fe39-49e3-be29-217659663a74")
    );
    let admin = r#"{"stat":"OK","response":[{"action":"user_update","description":"{\"notes\": \"\"}","isotimestamp":"2020-01-24T15:09:42+00:00","object":"jane","timestamp":1579878582,"username":"admin"}]}"#;
    let a = parse_admin_log_page(admin.as_bytes()).unwrap();
    assert_eq!(a[0].occurred_at_ms, Some(1_579_878_582_000));
    assert_eq!(
        a[0].id,
        parse_admin_log_page(admin.as_bytes()).unwrap()[0].id,
        "ids are stable"
    );
}

#[test]
fn enum_like_values_become_snake_case_and_other_text_is_kept() {
    let snake = |s: &'static str| snake(Cow::Borrowed(s));
    assert_eq!(snake("Duo Push"), "duo_push");
    assert_eq!(snake("  DUO-PUSH "), "duo_push");
    assert_eq!(snake("user_approved"), "user_approved");
    // Only ASCII changes: other characters pass through whole.
    assert_eq!(snake("Événement Spécial"), "Événement_spécial");
    assert_eq!(snake(""), "");
    // Text already in that form is not copied.
    assert!(matches!(snake("user_approved"), Cow::Borrowed(_)));
    assert!(matches!(snake("Duo Push"), Cow::Owned(_)));
    assert!(matches!(snake(" duo_push"), Cow::Owned(_)));
}

#[test]
fn snake_finds_a_byte_to_change_at_any_position_and_length() {
    for len in 0..40 {
        let plain = "a_b9é".chars().cycle().take(len).collect::<String>();
        assert!(!snake_changes(plain.as_bytes()), "{plain}");
        for at in 0..plain.len() {
            if !plain.is_char_boundary(at) {
                continue;
            }
            for change in ["A", "Z", " ", "-"] {
                let text = format!("{}{change}{}", &plain[..at], &plain[at..]);
                assert!(snake_changes(text.as_bytes()), "{text:?}");
            }
        }
    }
}

#[test]
fn auth_records_borrow_their_text_from_the_page_and_own_only_what_changed() {
    let escaped = r#"{"txid":"t2","timestamp":1581620180,"result":"success","user":{"name":"caf\u00e9"},"factor":"Duo Push"}"#;
    let body = page(&[AUTH_EVENT, escaped], "null");
    let records = normalize_auth_page(body.as_bytes()).unwrap();
    let in_body = |text: &str| body.as_bytes().as_ptr_range().contains(&text.as_ptr());
    let r = &records[0];
    assert!(matches!(r.raw_json, Cow::Borrowed(_)) && in_body(&r.raw_json));
    assert!(matches!(r.id, Cow::Borrowed(_)) && in_body(&r.id));
    let Normalized::AuthEvent(e) = &r.normalized else {
        panic!("an auth event")
    };
    let a = &e.access_device;
    for text in [
        e.user_name.as_deref(),
        e.application_name.as_deref(),
        e.reason.as_deref(),
        e.factor.as_deref(),
        a.ip.as_deref(),
        a.os.as_deref(),
        a.location.city.as_deref(),
    ] {
        let text = text.expect("set in AUTH_EVENT");
        assert!(in_body(text), "`{text}` was copied out of the page");
    }
    // Decoded escapes and changed case are the record's own text.
    let Normalized::AuthEvent(e) = &records[1].normalized else {
        panic!("an auth event")
    };
    assert_eq!(e.user_name.as_deref(), Some("café"));
    assert!(matches!(e.user_name, Some(Cow::Owned(_))));
    assert_eq!(e.factor.as_deref(), Some("duo_push"));
    // `into_owned` keeps every value.
    assert_eq!(records[1].clone().into_owned(), records[1]);
}
