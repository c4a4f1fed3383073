//! Operators' tenants and API tokens.

use super::*;

fn token(operator: &str, byte: u8, expires_at_ms: Option<i64>) -> NewToken {
    NewToken {
        operator: operator.into(),
        label: "ci".into(),
        hash: [byte; 32],
        expires_at_ms,
    }
}

#[test]
fn an_operator_belongs_to_one_tenant_or_to_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ana = store
        .add_operator("ana", Role::Admin, Some("acme"))
        .unwrap();
    let root = store.add_operator("root", Role::Admin, None).unwrap();
    assert_eq!(ana.tenant.as_deref(), Some("acme"));
    assert_eq!(root.tenant, None);
    assert_eq!(store.operator("ana").unwrap().unwrap(), ana);
    assert!(matches!(
        store.add_operator("bo", Role::Viewer, Some(" ")),
        Err(StoreError::Invalid(m)) if m.contains("tenant")
    ));
}

#[test]
fn operators_from_before_tenants_stay_platform_wide() {
    let dir = tempfile::tempdir().unwrap();
    database_at_version(
        dir.path(),
        4,
        "INSERT INTO operators (name, role, created_at_ms) VALUES ('old', 'helpdesk', 5);",
    );
    let store = open(dir.path());
    let old = store.operator("old").unwrap().unwrap();
    assert_eq!((old.role, old.tenant), (Role::Helpdesk, None));
}

#[test]
fn a_token_is_found_by_its_hash_and_revoked_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .add_operator("ana", Role::Admin, Some("acme"))
        .unwrap();
    store
        .add_operator("bo", Role::Viewer, Some("acme"))
        .unwrap();
    let first = store.add_token(&token("ana", 1, Some(99))).unwrap();
    let second = store.add_token(&token("bo", 2, None)).unwrap();
    assert_eq!(store.token_by_hash(&[1; 32]).unwrap(), Some(first.clone()));
    assert_eq!(store.token_by_hash(&[3; 32]).unwrap(), None);
    assert_eq!(store.tokens(None).unwrap(), vec![first.clone(), second]);
    assert_eq!(store.tokens(Some("ana")).unwrap(), vec![first.clone()]);

    let revoked = store.revoke_token(first.id).unwrap();
    assert!(revoked.revoked_at_ms.is_some());
    assert_eq!(store.token_by_hash(&[1; 32]).unwrap(), Some(revoked));
    assert!(matches!(
        store.revoke_token(first.id),
        Err(StoreError::Conflict(m)) if m.contains("already revoked")
    ));
    assert!(matches!(
        store.revoke_token(404),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn a_token_needs_a_known_operator_and_a_unique_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert!(matches!(
        store.add_token(&token("nobody", 1, None)),
        Err(StoreError::NotFound(m)) if m.contains("nobody")
    ));
    store.add_operator("ana", Role::Admin, None).unwrap();
    store.add_token(&token("ana", 1, None)).unwrap();
    assert!(matches!(
        store.add_token(&token("ana", 1, None)),
        Err(StoreError::Conflict(_))
    ));
    let mut long = token("ana", 2, None);
    long.label = "x".repeat(65);
    assert!(matches!(
        store.add_token(&long),
        Err(StoreError::Invalid(_))
    ));
}
