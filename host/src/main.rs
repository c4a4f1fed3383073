//! `oort-host`: parse, run on a multi-thread runtime, map errors to exit codes.

mod api;
mod cli;
mod demo;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

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
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

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
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let report = cli::classify(&error);
            cli::print_error(&report, json);
            ExitCode::from(report.exit_code)
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
