//! Drives the simulator with Duo's own Python client (tests/fidelity/fidelity.py).
//! Needs python3 and PyPI access to build `target/fidelity-venv`; set
//! OORT_SKIP_FIDELITY=1 to skip where PyPI is unreachable.

use std::path::{Path, PathBuf};
use std::process::Command;

use duo_sim::{SimConfig, Simulator};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("duo-sim sits in the workspace")
        .to_path_buf()
}

fn skip_requested() -> bool {
    std::env::var("OORT_SKIP_FIDELITY").is_ok_and(|v| v == "1")
}

/// Creates (once) the venv with the pinned duo_client; returns its python.
fn venv_python(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("fidelity-venv");
    let python = venv.join("bin").join("python");
    let requirements = root.join("tests").join("fidelity").join("requirements.txt");
    let marker = venv.join(".requirements-installed");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("reading {}: {e}", requirements.display()))?;
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) && python.exists()
    {
        return Ok(python);
    }
    if !python.exists() {
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .map_err(|e| format!("running python3 -m venv (is python3 installed?): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "python3 -m venv failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-r",
        ])
        .arg(&requirements)
        .output()
        .map_err(|e| format!("running pip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pip install -r {} failed (PyPI unreachable?): {}",
            requirements.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&marker, wanted).map_err(|e| format!("writing {}: {e}", marker.display()))?;
    Ok(python)
}

#[tokio::test]
async fn duo_client_python_accepts_the_simulator() {
    if skip_requested() {
        eprintln!("OORT_SKIP_FIDELITY=1: skipping the duo_client fidelity check");
        return;
    }
    let root = workspace_root();
    let python = tokio::task::spawn_blocking({
        let root = root.clone();
        move || venv_python(&root)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot prepare the fidelity venv: {e}\nSet OORT_SKIP_FIDELITY=1 to skip this test offline."));

    let sim = Simulator::start(SimConfig {
        users: 150,
        auth_events: 20_000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let ro = sim.admin_read_only();
    let rw = sim.admin_read_write();
    let auth = sim.auth_api();
    let disable = sim.scenario_users("DUO-01")[0].clone();
    let push = sim.scenario_users("DUO-14")[0].clone();
    let script = root.join("tests").join("fidelity").join("fidelity.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .env("DUO_SIM_URL", sim.base_url())
        .env("DUO_SIM_HOST", sim.hostname())
        .env("DUO_ADMIN_RO_IKEY", &ro.ikey)
        .env("DUO_ADMIN_RO_SKEY", &ro.skey)
        .env("DUO_ADMIN_RW_IKEY", &rw.ikey)
        .env("DUO_ADMIN_RW_SKEY", &rw.skey)
        .env("DUO_AUTH_IKEY", &auth.ikey)
        .env("DUO_AUTH_SKEY", &auth.skey)
        .env("DUO_DISABLE_USER", &disable)
        .env("DUO_PUSH_USER", &push);
    // The simulator is served by this test's runtime, so the script runs off-thread.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("running fidelity.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "fidelity.py failed:\n{stdout}\n{stderr}"
    );
    for line in [
        "PASS list users (v5, paged): 150 users",
        "PASS auth logs v2/hmac-sha512",
        "PASS auth logs v2/hmac-sha1",
        "PASS auth logs v5",
        "PASS signature versions agree",
        "PASS disable user (v5 JSON POST)",
        "PASS one byte changed after signing is rejected: 401 40103",
        "PASS unknown integration key is rejected: 401 40102",
        "PASS auth api preauth + async push",
        "fidelity: all checks passed",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert_eq!(sim.user_status(&disable).as_deref(), Some("disabled"));
}
