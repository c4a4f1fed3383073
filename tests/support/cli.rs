//! Runs the `oort-host` binary as an operator would, keeping a transcript of
//! everything it printed (the secret-leak test greps it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// The `oort-host` binary of this build, built on first use.
///
/// `cargo test --workspace` builds it already; `cargo test -p oort-e2e` does
/// not (a bin of another package is no dependency), so this runs
/// `cargo build -p oort-host --bin oort-host` once per test process, which is
/// a no-op when it is up to date and makes a stale binary impossible.
/// `OORT_HOST_BIN` overrides it.
pub fn oort_host_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("OORT_HOST_BIN") {
            return PathBuf::from(path);
        }
        // The test executable lives in <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("path of the test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable in <target>/<profile>/deps");
        let target_dir = profile_dir
            .parent()
            .expect("profile directory inside the target directory");
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root above tests/");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace)
            .args(["build", "--package", "oort-host", "--bin", "oort-host"]);
        cmd.arg("--target-dir").arg(target_dir);
        if profile != "debug" {
            cmd.args(["--profile", profile]);
        }
        let status = cmd.status().expect("run cargo to build oort-host");
        assert!(
            status.success(),
            "building the oort-host binary failed (see the output above)"
        );
        let bin = profile_dir.join(format!("oort-host{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "cargo built oort-host but {} is missing",
            bin.display()
        );
        bin
    })
}

/// One finished command.
#[derive(Debug, Clone)]
pub struct CliOutput {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout parsed as JSON (for `--json` commands).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed no JSON ({e}):\n{}",
                self.args.join(" "),
                self.stdout
            )
        })
    }

    /// stdout as JSON lines (for `export`).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!(
            "`oort-host {}` exited with {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// Everything at trace level, so the leak test covers every log line of the
/// host, its HTTP stack and wasmtime's runtime, except the compiler's own
/// tracing (gigabytes per compiled component, and it never sees a secret).
pub const TRACE_FILTER: &str = "trace,cranelift_codegen=info,cranelift_frontend=info,cranelift_entity=info,\
cranelift_control=info,regalloc2=info,wasmtime_internal_cranelift=info,wasmtime_cranelift=info,\
wasmtime_environ=info,wasmtime_internal_environ=info,wasmparser=info";

/// The binary bound to one data directory.
pub struct Cli {
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    transcript: Mutex<String>,
}

impl Cli {
    pub fn new(data_dir: &Path) -> Cli {
        Cli {
            data_dir: data_dir.to_path_buf(),
            env: vec![
                ("RUST_LOG".into(), TRACE_FILTER.into()),
                ("NO_COLOR".into(), "1".into()),
            ],
            transcript: Mutex::new(String::new()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Adds an environment variable for every later command.
    pub fn with_env(mut self, key: &str, value: &str) -> Cli {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(oort_host_bin());
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a command to completion; its output joins the transcript.
    pub fn run(&self, args: &[&str]) -> CliOutput {
        let output: Output = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", oort_host_bin().display()));
        let out = CliOutput {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        self.record(&out.args.join(" "), &out.stdout, &out.stderr);
        out
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> CliOutput {
        let out = self.run(args);
        assert!(out.success(), "{}", out.describe());
        out
    }

    /// Runs a command that must fail; returns its output for assertions.
    pub fn fails(&self, args: &[&str]) -> CliOutput {
        let out = self.run(args);
        assert!(!out.success(), "expected a failure, got {}", out.describe());
        out
    }

    /// Starts a command in the background with its output sent to files in
    /// `log_dir`; add them to the transcript with [`Cli::record`] when done.
    pub fn spawn(&self, args: &[&str], log_dir: &Path) -> Child {
        let stdout =
            std::fs::File::create(log_dir.join("spawn.stdout")).expect("create stdout file");
        let stderr =
            std::fs::File::create(log_dir.join("spawn.stderr")).expect("create stderr file");
        self.command(args)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn oort-host")
    }

    /// What a command started with [`Cli::spawn`] printed (stdout, stderr),
    /// added to the transcript.
    pub fn spawned_output(&self, log_dir: &Path, what: &str) -> (String, String) {
        let out = std::fs::read_to_string(log_dir.join("spawn.stdout")).unwrap_or_default();
        let err = std::fs::read_to_string(log_dir.join("spawn.stderr")).unwrap_or_default();
        self.record(what, &out, &err);
        (out, err)
    }

    pub fn record(&self, what: &str, stdout: &str, stderr: &str) {
        let mut t = self.transcript.lock().unwrap_or_else(|e| e.into_inner());
        t.push_str(&format!("$ oort-host {what}\n{stdout}\n{stderr}\n"));
    }

    /// Everything the binary printed so far.
    pub fn transcript(&self) -> String {
        self.transcript
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
