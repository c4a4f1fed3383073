//! `oort-host`: parse, open the platform, run the command (CLI, `serve` or
//! `demo`) on a multi-thread runtime, map errors to exit codes.

mod api;
mod cli;
mod demo;
mod human;
mod interrupt;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use oort_platform::Platform;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_exit(e),
    };
    if !matches!(cli.command, cli::Command::Serve { .. } | cli::Command::Demo) {
        restore_default_sigpipe();
    }
    let default_level = if matches!(cli.command, cli::Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        cli::LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line, the span's fields flattened in: what log
        // collectors parse.
        cli::LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }

    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let report = cli::classify(&error);
            cli::print_error(&report, json);
            ExitCode::from(report.exit_code)
        }
    }
}

/// The three front ends over one platform; none of them calls another.
async fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    if matches!(cli.command, cli::Command::Demo) && cli.json {
        return Err(cli::usage_error(
            "`demo` prints a walkthrough for people; run it without --json",
        ));
    }
    let platform = Platform::open(&cli.data_dir)
        .with_context(|| format!("opening the data directory {}", cli.data_dir.display()))?;
    let platform = Arc::new(platform);
    match cli.command {
        cli::Command::Serve {
            listen,
            allow_hosts,
            scheduling,
        } => {
            let config = api::ServeConfig {
                listen,
                allowed_hosts: allow_hosts,
                scheduling: scheduling.config(),
                json_logs: cli.log_format == cli::LogFormat::Json,
            };
            api::serve(platform, config).await
        }
        cli::Command::Demo => demo::run(&platform, &cli.tenant, &cli.data_dir).await,
        command => {
            let ctx = cli::Ctx {
                platform,
                out: cli::Output { json: cli.json },
                tenant: cli.tenant,
            };
            cli::run(ctx, command).await
        }
    }
}

/// Clap's own output for help and version; with `--json`, parse errors in the
/// same `{"error","kind"}` shape as every other error.
fn usage_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let wants_json = std::env::args_os().any(|a| a == "--json");
    if !wants_json
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        e.exit();
    }
    let message = e
        .kind()
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| e.to_string());
    let detail = e.to_string();
    let first_line = detail
        .lines()
        .next()
        .unwrap_or(&message)
        .trim_start_matches("error: ")
        .to_owned();
    eprintln!(
        "{}",
        serde_json::json!({ "error": first_line, "kind": "usage" })
    );
    ExitCode::from(2)
}

/// Rust ignores SIGPIPE, so printing to a closed pipe (`oort-host export x |
/// head`) would panic in `println!`. Plain commands get the Unix default back
/// and end quietly; sockets are unaffected (Rust writes them with
/// MSG_NOSIGNAL). `serve` and `demo` keep Rust's setting since they run
/// servers for a long time.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at startup before any thread is spawned; resets one
    // signal disposition to its default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod layering {
    use std::path::{Path, PathBuf};

    fn sources(relative: &str) -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(relative);
        let mut files = Vec::new();
        let mut pending = vec![root];
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    pending.push(entry.unwrap().path());
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
        assert!(!files.is_empty(), "no sources under {relative}");
        files
    }

    /// The CLI, the API and the demo share the platform (and the helpers
    /// for people) and never reach into one another.
    #[test]
    fn front_ends_do_not_depend_on_each_other() {
        let rules: [(&str, &[&str]); 5] = [
            ("cli", &["crate::api", "crate::demo"]),
            ("api", &["crate::cli", "crate::demo"]),
            ("demo.rs", &["crate::cli", "crate::api"]),
            ("human.rs", &["crate::cli", "crate::api", "crate::demo"]),
            ("interrupt.rs", &["crate::cli", "crate::api", "crate::demo"]),
        ];
        for (front_end, forbidden) in rules {
            for (path, text) in sources(front_end) {
                for name in forbidden {
                    assert!(
                        !text.contains(name),
                        "{} uses {name}: front ends go through oort_platform",
                        path.display()
                    );
                }
            }
        }
    }
}
