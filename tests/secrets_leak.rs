//! Secrets never leave the host in clear: a full operator session through the
//! `oort-host` binary, with trace logging, leaves no trace of the secret key
//! in any file of the data directory (database, WAL, caches, logs) nor in
//! anything the binary printed.

use oort_e2e::duo::{small_sim, start_sim, sync_clock};
use oort_e2e::{Cli, LeakScanner, files_under, misbehaving_wasm};

const MISBEHAVING_TOKEN: &str = "MisbehavingCanary7Q2x9";
/// What the second plugin's token is rotated to.
const ROTATED_TOKEN: &str = "RotatedCanary4Kd8Zp1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_leaves_no_trace_of_the_secret_key() {
    let sim = start_sim(small_sim(30, 1_500)).await;
    let data = tempfile::tempdir().expect("data dir");
    let outside = tempfile::tempdir().expect("key dir");
    let cli = Cli::new(data.path());
    let creds = sim.admin_read_write();
    let key_file = outside.path().join("duo-secret-key");
    std::fs::write(&key_file, format!("{}\n", creds.skey)).expect("write key file");
    let key_file = key_file.display().to_string();
    let base = sim.base_url();
    let wasm = misbehaving_wasm().display().to_string();

    cli.ok(&["plugins", "list"]);
    cli.ok(&["plugins", "install", &wasm]);
    cli.ok(&[
        "integrations",
        "add",
        "duo",
        "corp",
        "--api-hostname",
        sim.hostname(),
        "--integration-key",
        &creds.ikey,
        "--secret-key-file",
        &key_file,
        "--api-base-url",
        &base,
    ]);
    cli.ok(&["integrations", "show", "corp"]);
    cli.ok(&["--json", "integrations", "show", "corp"]);
    cli.ok(&["test", "corp"]);
    sync_clock(&sim);
    cli.ok(&["collect", "corp"]);
    let export = cli.ok(&["export", "corp"]);
    assert!(
        export.stdout.lines().count() > 1_000,
        "the session really collected data"
    );
    cli.ok(&["insights", "corp"]);
    cli.ok(&["actions", "corp"]);
    cli.ok(&["operators", "add", "alice", "--role", "admin"]);
    // An API token is shown once, by the command that issues it, and kept
    // only as a hash.
    let issued = cli
        .ok(&["--json", "operators", "token", "create", "alice"])
        .json();
    let api_token = issued["token"]
        .as_str()
        .expect("the issued token")
        .to_owned();
    assert!(
        api_token.starts_with("oort_") && api_token.len() > 40,
        "{issued}"
    );
    cli.ok(&["operators", "token", "list"]);
    cli.ok(&["--json", "operators", "token", "list", "alice"]);
    let user = sim.usernames()[0].clone();
    cli.ok(&[
        "act",
        "corp",
        "disable-user",
        "--user",
        &user,
        "--actor",
        "alice",
    ]);
    cli.ok(&["audit", "corp"]);
    cli.ok(&["--json", "audit", "corp"]);
    cli.ok(&["--json", "audit"]);

    // A second plugin with its own secret, through the generic flags.
    let token_file = outside.path().join("token");
    std::fs::write(&token_file, MISBEHAVING_TOKEN).expect("write token file");
    let token_arg = format!("token={}", token_file.display());
    cli.ok(&[
        "integrations",
        "add",
        "misbehaving",
        "mb",
        "--set",
        "api_hostname=api.oort-test.invalid",
        "--set",
        "mode=well-behaved",
        "--secret-file",
        &token_arg,
    ]);
    cli.ok(&["test", "mb"]);
    let collected = cli.ok(&["--json", "collect", "mb"]).json();
    let notes = collected["notes"].as_array().expect("collect notes");
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with("hmac-sha512="))),
        "{collected}"
    );
    cli.ok(&["export", "mb"]);
    // Rotated through the CLI: the new token is sealed like the first.
    let rotated_file = outside.path().join("rotated-token");
    std::fs::write(&rotated_file, ROTATED_TOKEN).expect("write rotated token");
    let rotated_arg = format!("token={}", rotated_file.display());
    cli.ok(&[
        "integrations",
        "update",
        "mb",
        "--secret-file",
        &rotated_arg,
    ]);
    cli.ok(&["--json", "integrations", "show", "mb"]);
    cli.ok(&["collect", "mb"]);
    // Disabled, nothing runs; enabled again, it does.
    cli.ok(&["integrations", "disable", "corp"]);
    let refused = cli.fails(&["test", "corp"]);
    assert!(refused.stderr.contains("is disabled"), "{}", refused.stderr);
    cli.ok(&["integrations", "enable", "corp"]);
    cli.ok(&["test", "corp"]);
    // A failing command prints errors; they must not carry the key either.
    cli.fails(&[
        "integrations",
        "add",
        "duo",
        "corp",
        "--api-hostname",
        sim.hostname(),
        "--integration-key",
        &creds.ikey,
        "--secret-key-file",
        &key_file,
        "--api-base-url",
        &base,
    ]);

    // The data directory was really written, and the scanner can see into
    // the database: the (non-secret) integration key is stored in clear.
    let files = files_under(data.path());
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(
        files
            .iter()
            .any(|f| f.file_name().is_some_and(|n| n == "oort.db")),
        "no database in {files:?}"
    );
    assert!(
        total > 100_000,
        "the data directory holds only {total} bytes: {files:?}"
    );
    assert!(
        !LeakScanner::new(&[&creds.ikey])
            .scan_dir(data.path())
            .is_empty(),
        "positive control: the integration key must be found in the database"
    );

    let scanner = LeakScanner::new(&[&creds.skey, MISBEHAVING_TOKEN, ROTATED_TOKEN]);
    let in_files = scanner.scan_dir(data.path());
    assert!(
        in_files.is_empty(),
        "the secret key leaked into the data directory: {in_files:?}"
    );
    let token_in_files = LeakScanner::new(&[&api_token]).scan_dir(data.path());
    assert!(
        token_in_files.is_empty(),
        "an API token was stored in clear: {token_in_files:?}"
    );
    let transcript = cli.transcript();
    assert_eq!(
        transcript.matches(api_token.as_str()).count(),
        1,
        "the API token must appear once, in the output of `operators token create`"
    );
    assert!(
        transcript.len() > 1_000,
        "the binary printed almost nothing; was logging on?"
    );
    let in_output = scanner.scan(transcript.as_bytes());
    assert!(
        in_output.is_empty(),
        "the secret key leaked into the output: {in_output:?}"
    );
}
