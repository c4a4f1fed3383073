//! `duo-sim`: run the simulator standalone (demos, manual testing with duo_client).

use clap::Parser;
use duo_sim::{Clock, Edition, SimConfig, Simulator};

#[derive(Parser)]
#[command(about = "A strict Duo Admin API / Auth API simulator")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// API hostname that clients sign for.
    #[arg(long, default_value = "api-1234abcd.duosecurity.com")]
    hostname: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Background authentication events.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    #[arg(long, default_value_t = 30)]
    history_days: u32,
    /// Do not plant the insight scenarios.
    #[arg(long)]
    no_scenarios: bool,
    /// Simulate an Essentials account (no endpoints inventory).
    #[arg(long)]
    essentials: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = SimConfig {
        hostname: args.hostname,
        seed: args.seed,
        users: args.users,
        auth_events: args.events,
        history_days: args.history_days,
        scenarios: !args.no_scenarios,
        clock: Clock::System,
        edition: if args.essentials {
            Edition::Essentials
        } else {
            Edition::Advantage
        },
    };
    let started = std::time::Instant::now();
    let sim = Simulator::start_on(config, args.port).await?;
    println!(
        "duo-sim listening on {} (generated in {:.2?})",
        sim.base_url(),
        started.elapsed()
    );
    println!("hostname: {}", sim.hostname());
    // These are throwaway test credentials for a local simulator, printed on purpose.
    for (label, c) in [
        ("admin read-only ", sim.admin_read_only()),
        ("admin read/write", sim.admin_read_write()),
        ("admin log-only  ", sim.admin_log_only()),
        ("auth api        ", sim.auth_api()),
    ] {
        println!("{label}: ikey={} skey={}", c.ikey, c.skey);
    }
    tokio::signal::ctrl_c().await?;
    println!(
        "duo-sim: shutting down ({} requests served)",
        sim.request_count()
    );
    Ok(())
}
