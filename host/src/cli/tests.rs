//! Argument parsing: the command names are part of the contract.

use std::path::PathBuf;

use clap::Parser;

use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("oort-host").chain(args.iter().copied()))
}

#[test]
fn globals_have_documented_defaults() {
    let cli = parse(&["plugins", "list"]).unwrap();
    if std::env::var_os("OORT_DATA_DIR").is_none() {
        assert_eq!(cli.data_dir, PathBuf::from("./oort-data"));
    }
    assert_eq!(cli.tenant, "default");
    assert!(!cli.json);
    let cli = parse(&[
        "--json",
        "--tenant",
        "acme",
        "--data-dir",
        "/tmp/x",
        "operators",
        "list",
    ])
    .unwrap();
    assert!(cli.json);
    assert_eq!(cli.tenant, "acme");
    assert_eq!(cli.data_dir, PathBuf::from("/tmp/x"));
    // Globals are accepted after the subcommand too.
    let cli = parse(&["audit", "duo-prod", "--json"]).unwrap();
    assert!(cli.json);
}

#[test]
fn every_command_name_parses() {
    let lines: &[&[&str]] = &[
        &["plugins", "list"],
        &["plugins", "install", "p.wasm"],
        &[
            "integrations",
            "add",
            "duo",
            "prod",
            "--api-hostname",
            "api-x.duosecurity.com",
            "--integration-key",
            "DIXXXXXXXXXXXXXXXXXX",
        ],
        &["integrations", "list"],
        &["integrations", "show", "prod"],
        &["integrations", "remove", "prod"],
        &["test", "prod"],
        &[
            "collect",
            "prod",
            "--max-pages",
            "3",
            "--source",
            "auth_log",
            "--source",
            "users",
        ],
        &["export", "prod", "--kind", "auth_log"],
        &["insights", "prod"],
        &["actions", "prod"],
        &[
            "act",
            "prod",
            "disable-user",
            "--user",
            "bob",
            "--actor",
            "alice",
            "--reason",
            "phished",
            "--dry-run",
            "--finding",
            "7",
            "--param",
            "k=v=w",
        ],
        &["operators", "add", "alice", "--role", "admin"],
        &["operators", "list"],
        &["audit", "prod"],
        &["audit"],
        &["serve", "--listen", "127.0.0.1:9000"],
        &["serve"],
        &["demo"],
    ];
    for line in lines {
        parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    }
}

#[test]
fn act_fields_are_mapped() {
    let cli = parse(&[
        "act",
        "prod",
        "disable-user",
        "--user",
        "bob",
        "--actor",
        "alice",
        "--finding",
        "7",
        "--param",
        "k=v=w",
        "--param",
        "x=",
    ])
    .unwrap();
    let Command::Act(a) = cli.command else {
        panic!("not act")
    };
    assert_eq!(
        (
            a.name.as_str(),
            a.action.as_str(),
            a.user.as_deref(),
            a.actor.as_str()
        ),
        ("prod", "disable-user", Some("bob"), "alice")
    );
    assert_eq!(a.finding, Some(7));
    assert!(!a.dry_run);
    assert_eq!(
        a.params,
        vec![
            ("k".to_owned(), "v=w".to_owned()),
            ("x".to_owned(), String::new())
        ]
    );
    // The operator is mandatory: every action is attributed.
    assert!(parse(&["act", "prod", "disable-user", "--user", "bob"]).is_err());
}

#[test]
fn serve_defaults_to_loopback() {
    let Command::Serve {
        listen,
        allow_hosts,
        scheduling,
    } = parse(&["serve"]).unwrap().command
    else {
        panic!()
    };
    assert!(listen.ip().is_loopback());
    assert_eq!(listen.port(), 8080);
    assert!(allow_hosts.is_empty());
    let scheduler = scheduling.config().expect("serve schedules by default");
    assert_eq!((scheduler.max_concurrent, scheduler.max_per_tenant), (4, 2));
    let Command::Serve { allow_hosts, .. } = parse(&[
        "serve",
        "--listen",
        "0.0.0.0:80",
        "--allow-host",
        "a.example",
        "--allow-host",
        "b.example",
    ])
    .unwrap()
    .command
    else {
        panic!()
    };
    assert_eq!(allow_hosts, ["a.example", "b.example"]);
}

#[test]
fn serve_caps_its_collections_or_schedules_none() {
    let serve = |args: &[&str]| {
        let Command::Serve { scheduling, .. } = parse(args).unwrap().command else {
            panic!()
        };
        scheduling.config()
    };
    let capped = serve(&[
        "serve",
        "--max-collections",
        "8",
        "--max-collections-per-tenant",
        "3",
    ])
    .unwrap();
    assert_eq!((capped.max_concurrent, capped.max_per_tenant), (8, 3));
    assert_eq!(serve(&["serve", "--no-scheduler"]), None);
    // Zero would start nothing ever: refused at parse time.
    assert!(parse(&["serve", "--max-collections", "0"]).is_err());
    assert!(parse(&["serve", "--max-collections-per-tenant", "0"]).is_err());
}

#[test]
fn schedule_intervals_read_as_seconds_minutes_or_hours() {
    let every = |text: &str| match parse(&["integrations", "schedule", "prod", "--every", text])
        .map(|cli| cli.command)
    {
        Ok(Command::Integrations(IntegrationsCmd::Schedule { every, .. })) => Ok(every.as_secs()),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(every("90"), Ok(90));
    assert_eq!(every("90s"), Ok(90));
    assert_eq!(every("5m"), Ok(300));
    assert_eq!(every("2h"), Ok(7200));
    for bad in ["5 min", "m", "1.5h", "5d", "+5m"] {
        let error = every(bad).unwrap_err();
        assert!(error.contains("90s, 5m, 1h"), "{bad}: {error}");
    }
}

#[test]
fn tokens_expire_by_default_and_never_only_when_asked() {
    let Command::Operators(OperatorsCmd::Token(TokenCmd::Create {
        expires_in_days,
        no_expiry,
        label,
        ..
    })) = parse(&["operators", "token", "create", "ana"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!(
        (expires_in_days, no_expiry, label.as_str()),
        (90, false, "api")
    );
    assert!(parse(&["operators", "token", "create", "ana", "--no-expiry"]).is_ok());
    assert!(
        parse(&[
            "operators",
            "token",
            "create",
            "ana",
            "--no-expiry",
            "--expires-in-days",
            "5"
        ])
        .is_err()
    );
    assert!(parse(&["operators", "token", "revoke", "x"]).is_err());
}

#[test]
fn roles_are_checked_by_the_parser() {
    assert!(parse(&["operators", "add", "hank", "--role", "helpdesk"]).is_ok());
    assert!(parse(&["operators", "add", "hank", "--role", "root"]).is_err());
    assert!(parse(&["operators", "add", "hank"]).is_err());
}

#[test]
fn duo_flags_map_to_fields() {
    let cli = parse(&[
        "integrations",
        "add",
        "duo",
        "prod",
        "--api-hostname",
        "api-1234abcd.duosecurity.com",
        "--integration-key",
        "DIAAAAAAAAAAAAAAAAAA",
        "--secret-key-file",
        "-",
        "--push-verification",
        "--auth-integration-key",
        "DIBBBBBBBBBBBBBBBBBB",
        "--auth-secret-key-file",
        "/run/secrets/auth",
        "--endpoints",
        "--api-base-url",
        "http://127.0.0.1:9",
        "--set",
        "signature_version=5",
        "--set",
        "initial_lookback_days=7",
    ])
    .unwrap();
    let Command::Integrations(IntegrationsCmd::Add(a)) = cli.command else {
        panic!("not add")
    };
    assert_eq!(
        a.secret_key_file.as_deref(),
        Some(std::path::Path::new("-"))
    );
    assert_eq!(
        a.set,
        vec![
            ("signature_version".to_owned(), "5".to_owned()),
            ("initial_lookback_days".to_owned(), "7".to_owned())
        ]
    );

    let manifest = duo_manifest();
    let secrets = vec![(
        "secret_key".to_owned(),
        oort_platform::data::SecretValue::new(b"k".to_vec()),
    )];
    let req = integrations::build_request("default", &a, &manifest, secrets).unwrap();
    let config: Vec<(&str, &str)> = req
        .config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        config,
        vec![
            ("api_hostname", "api-1234abcd.duosecurity.com"),
            ("integration_key", "DIAAAAAAAAAAAAAAAAAA"),
            ("push_verification", "true"),
            ("auth_integration_key", "DIBBBBBBBBBBBBBBBBBB"),
            ("collect_endpoints", "true"),
            ("signature_version", "5"),
            ("initial_lookback_days", "7"),
        ]
    );
    assert_eq!(req.api_base_url.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(req.secrets.len(), 1);
}

#[test]
fn a_secret_can_never_be_a_flag_value() {
    // No flag takes a secret value directly.
    for flag in ["--secret-key", "--auth-secret-key", "--secret"] {
        let r = parse(&["integrations", "add", "duo", "prod", flag, "s3cr3t"]);
        assert!(r.is_err(), "{flag} must not exist");
    }
    // And `--set` refuses secret fields by the manifest's field types.
    let manifest = duo_manifest();
    for field in ["secret_key", "auth_secret_key"] {
        let cli = parse(&[
            "integrations",
            "add",
            "duo",
            "prod",
            "--set",
            &format!("{field}=s3cr3t"),
        ])
        .unwrap();
        let Command::Integrations(IntegrationsCmd::Add(a)) = cli.command else {
            panic!()
        };
        let err = integrations::build_request("default", &a, &manifest, vec![])
            .err()
            .unwrap();
        let text = format!("{err:#}");
        assert!(
            text.contains("--secret-file") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert_eq!(output::classify(&err).exit_code, 2);
    }
}

#[test]
fn duo_flags_are_refused_for_other_plugins() {
    let cli = parse(&[
        "integrations",
        "add",
        "misbehaving",
        "m",
        "--api-hostname",
        "h",
    ])
    .unwrap();
    let Command::Integrations(IntegrationsCmd::Add(a)) = cli.command else {
        panic!()
    };
    let mut manifest = duo_manifest();
    manifest.id = "misbehaving".into();
    let err = integrations::build_request("default", &a, &manifest, vec![])
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("--api-hostname applies to plugin `duo` only"),
        "{err}"
    );
}

#[test]
fn secret_file_dash_reads_stdin_for_the_duo_key() {
    let cli = parse(&[
        "integrations",
        "add",
        "duo",
        "prod",
        "--api-hostname",
        "h",
        "--integration-key",
        "i",
        "--secret-key-file",
        "-",
    ])
    .unwrap();
    let Command::Integrations(IntegrationsCmd::Add(a)) = cli.command else {
        panic!()
    };
    let mut reader =
        secret_input::SecretReader::with_stdin(std::io::Cursor::new(b"admin-skey\n".to_vec()));
    let secrets = integrations::read_secrets(&a, &duo_manifest(), &mut reader).unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].0, "secret_key");
    assert_eq!(secrets[0].1.expose(), b"admin-skey");
}

#[test]
fn push_verification_needs_the_auth_secret() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin");
    std::fs::write(&admin, "a\n").unwrap();
    let admin = admin.to_str().unwrap();
    let cli = parse(&[
        "integrations",
        "add",
        "duo",
        "prod",
        "--secret-key-file",
        admin,
        "--push-verification",
        "--auth-integration-key",
        "DI",
    ])
    .unwrap();
    let Command::Integrations(IntegrationsCmd::Add(a)) = cli.command else {
        panic!()
    };
    // Not a terminal, no env var (unless the developer set it): a usage error naming the flag.
    if std::env::var_os("OORT_DUO_AUTH_SECRET_KEY").is_none() {
        let mut reader = secret_input::SecretReader::with_stdin(std::io::empty());
        let err = integrations::read_secrets(&a, &duo_manifest(), &mut reader)
            .err()
            .unwrap();
        assert!(err.to_string().contains("--auth-secret-key-file"), "{err}");
    }
}

fn duo_manifest() -> oort_platform::model::Manifest {
    use oort_platform::model::{ConfigField, FieldType, Manifest};
    let field = |name: &str, field_type: FieldType| ConfigField {
        name: name.into(),
        label: name.into(),
        field_type,
        required: false,
        description: String::new(),
        validation_hint: String::new(),
        default_value: None,
        constraints: None,
        advanced: false,
    };
    Manifest {
        sources: Vec::new(),
        id: "duo".into(),
        name: "Duo Security".into(),
        version: "0.1.0".into(),
        description: String::new(),
        config: vec![
            field("api_hostname", FieldType::Text),
            field("integration_key", FieldType::Text),
            field("secret_key", FieldType::Secret),
            field("push_verification", FieldType::Boolean),
            field("auth_integration_key", FieldType::Text),
            field("auth_secret_key", FieldType::Secret),
            field("collect_endpoints", FieldType::Boolean),
            field("signature_version", FieldType::Integer),
            field("initial_lookback_days", FieldType::Integer),
        ],
        egress: vec![],
        record_kinds: vec![],
        actions: vec![],
        capabilities: vec![],
    }
}
