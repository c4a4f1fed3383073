//! The `oort-host` command line: clap types and dispatch. Each command group
//! lives in its own module; all of them go through [`Platform`]. `serve` and
//! `demo` are parsed here but run by `main` (the API and the demo do not
//! depend on the CLI).

mod actions;
mod audit;
mod export;
mod insights;
mod integrations;
mod operators;
mod output;
mod plugins;
mod run;
mod secret_input;
mod settings;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use oort_platform::{Platform, Requester};

pub use output::{Output, classify, print_error, usage as usage_error};

const JSON_HELP: &str = "\
JSON OUTPUT (--json):
  Each command prints exactly one JSON document on one line on stdout:
    plugins list          [InstalledPlugin]       plugins install   InstalledPlugin
    integrations list     [Integration]           integrations add  Integration
    integrations show     Integration + {\"secrets\":{field:\"set\"},\"records\":[{kind,count}],\"runs\":[Run],\"schedule\":Schedule}
    integrations remove   {\"removed\": name}
    integrations schedule Schedule = {interval_ms,next_due,failures,last_error,collecting_by,
                            sources:[{source,interval_ms,interval_of,last_collected,due}]}
    test                  {\"integration\",\"ok\",\"checks\":[{name,status,detail,remedy}]}
    collect               {\"integration\",\"records\":[{kind,count}],\"pages\",\"more_remaining\",\"notes\"}
    insights              {\"findings\":[StoredFinding],\"posture\":{...}}
    actions               [{id,title,description,minimum_role,required_permission,enabled_by,params,enabled,why_not}]
    act                   {\"integration\",\"action\",\"status\",\"message\",\"details\":{k:v}}
    operators add|list    Operator | [Operator]
    operators token create  {\"token\", ApiToken...}   token list [ApiToken]   token revoke ApiToken
    audit                 [AuditEntry]  (each with \"at\" in RFC 3339 and \"outcome_unknown\")
  `export` always prints JSON lines, one record per line:
    {\"kind\",\"id\",\"occurred_at\" (RFC 3339 UTC or null),\"normalized\",\"raw\"}
  Errors go to stderr as {\"error\":\"...\",\"kind\":\"...\"} (plus \"fields\" for
  invalid_config). Kinds: usage, invalid_input, invalid_config, not_found,
  plugin, sandbox, refused, unauthenticated, conflict, unavailable, store,
  internal, error.
  Secret values never appear in any output. `serve` and `demo` print for
  people (`demo` refuses --json); `serve` answers JSON over HTTP.

EXIT CODES:
  0 success (warnings included)   1 the operation failed (e.g. a failed check)
  2 bad usage or input (unknown names, invalid configuration)";

/// Sandboxed integration runtime for identity security.
#[derive(Debug, Parser)]
#[command(name = "oort-host", version, about, after_long_help = JSON_HELP)]
pub struct Cli {
    /// Where the database, master key and plugins live.
    #[arg(
        long,
        global = true,
        env = "OORT_DATA_DIR",
        default_value = "./oort-data"
    )]
    pub data_dir: PathBuf,
    /// Machine output: one JSON document on stdout (see --help).
    #[arg(long, global = true)]
    pub json: bool,
    /// Tenant the integrations belong to.
    #[arg(long, global = true, default_value = "default")]
    pub tenant: String,
    /// How log lines on stderr look: `text` for people, `json` (one
    /// object per line) for a log collector. RUST_LOG sets the level.
    #[arg(
        long,
        global = true,
        env = "OORT_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Installed plugins.
    #[command(subcommand)]
    Plugins(PluginsCmd),
    /// Configured integrations (a plugin plus its configuration).
    #[command(subcommand)]
    Integrations(IntegrationsCmd),
    /// Run Test Connectivity; exits 1 if any check failed.
    Test { name: String },
    /// Run Collect Now: fetch new records from every source since the last checkpoint.
    Collect(CollectArgs),
    /// Print the collected records as JSON lines.
    Export {
        name: String,
        /// Only records of this kind.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Evaluate the insight catalogue over the collected records and show the MFA posture.
    Insights { name: String },
    /// List the integration's actions: role, permission, and whether each is enabled.
    Actions { name: String },
    /// Run a remediation or verification action as an operator (audited).
    Act(ActArgs),
    /// Operators and their roles.
    #[command(subcommand)]
    Operators(OperatorsCmd),
    /// Print the audit trail of an integration, or without a name the
    /// host's whole trail (every integration, plugin installs, operators).
    Audit { name: Option<String> },
    /// Serve the JSON HTTP API, for every tenant.
    ///
    /// Every request needs `Authorization: Bearer TOKEN`, an operator's API
    /// token (`oort-host operators token create NAME`); the operator's role
    /// and tenant decide what it may do, and changes are audited in their
    /// name. T below is the tenant, N the integration.
    ///
    /// Due integrations are collected by the scheduler (see the flags);
    /// several `serve`s on one data directory share the work through
    /// leases in the store, and Ctrl-C or SIGTERM waits for the running
    /// collections before exiting.
    ///
    /// Routes: GET /v1/session (who the token is), GET /v1/plugins; for a
    /// platform-wide admin GET|POST /v1/operators, GET /v1/audit;
    /// GET|POST /v1/tenants/T/integrations (viewer | admin; POST body
    /// {"name","plugin","config":{},"secrets":{}}), GET|DELETE
    /// /v1/tenants/T/integrations/N (viewer | admin), GET .../N/runs?limit=,
    /// GET .../N/runs/ID (progress, then outcome),
    /// GET .../N/records?kind= (JSON lines) (viewer), GET|PUT
    /// .../N/schedule (viewer | admin; body {"interval_seconds"}),
    /// POST .../N/test (helpdesk), POST .../N/collect (admin; body
    /// {"max_pages","sources"}, optional; 202 with the run to poll, or
    /// ?wait=true for the report), GET .../N/insights, GET .../N/audit,
    /// GET .../N/actions (viewer), POST .../N/actions/{action} (helpdesk and the
    /// action's own role; body {"user","reason","dry_run","finding_id",
    /// "params":{k:v}}). Answers are the same documents as the matching
    /// command's --json output. Errors are {"error","kind"} with 400 (bad
    /// input), 401 (no valid token), 403 (role or tenant refused), 404
    /// (unknown), 409 (conflict), 502 (the upstream service failed) or 500.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// A host name clients reach the server by, beyond loopback ones
        /// (repeatable; required when listening on 0.0.0.0). Requests naming
        /// another Host are refused, which defeats DNS rebinding.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_hosts: Vec<String>,
        #[command(flatten)]
        scheduling: SchedulingArgs,
    },
    /// Start a Duo simulator and walk through the whole flow against it.
    Demo,
}

/// How `serve` collects on its own: every integration when its schedule is
/// due (default every 5 minutes, with jitter; after failures, backing off
/// up to an hour).
#[derive(Debug, clap::Args)]
pub struct SchedulingArgs {
    /// Collections running at once, over all tenants.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_collections: u16,
    /// Collections running at once for one tenant, so one tenant cannot
    /// hold every slot.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_collections_per_tenant: u16,
    /// Serve the API only; collect nothing unless asked (another `serve`
    /// on the same data directory may still do the scheduled collections).
    #[arg(long)]
    pub no_scheduler: bool,
}

impl SchedulingArgs {
    /// The scheduler to run, or `None` with `--no-scheduler`.
    pub fn config(&self) -> Option<oort_platform::scheduler::SchedulerConfig> {
        (!self.no_scheduler).then(|| oort_platform::scheduler::SchedulerConfig {
            max_concurrent: self.max_collections.into(),
            max_per_tenant: self.max_collections_per_tenant.into(),
            ..Default::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum PluginsCmd {
    /// List installed plugins.
    List,
    /// Validate, precompile and register a plugin component (.wasm).
    Install { file: PathBuf },
}

// Parsed once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum IntegrationsCmd {
    /// Configure a new integration; invalid configuration is refused and nothing is stored.
    Add(AddArgs),
    List,
    Show {
        name: String,
    },
    /// Change the config or rotate secrets; fields not named keep their
    /// values. Validated like `add` (nothing is stored if it fails).
    Update(UpdateArgs),
    /// Stop collecting the integration and refuse test, collect and actions
    /// on it; what was collected stays.
    Disable {
        name: String,
    },
    /// Collect the integration again (due at once, from its checkpoints).
    Enable {
        name: String,
    },
    /// Remove the integration and its records, checkpoints, secrets, runs and findings (the audit trail is kept).
    Remove {
        name: String,
    },
    /// Set how often `serve` collects the integration (default every 5
    /// minutes); the next run is due one interval after the last finished.
    Schedule {
        name: String,
        /// The interval: seconds, or a number with s, m or h (90s, 5m, 1h).
        #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
        every: std::time::Duration,
    },
}

/// `90`, `90s`, `5m`, `1h`: whole seconds, minutes or hours.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "`{text}`: write seconds, or a number with s, m or h (90s, 5m, 1h)"
            ));
        }
    };
    let count: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: write a whole number before the unit (90s, 5m, 1h)"))?;
    count
        .checked_mul(per_unit)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// `integrations add`. The Duo flags map to the Duo plugin's config fields;
/// any plugin takes `--set` and `--secret-file`. Secret values are never
/// accepted as flag values.
#[derive(Debug, Clone, Default, Args)]
pub struct AddArgs {
    /// Plugin id, e.g. `duo`.
    pub plugin: String,
    /// Integration name (unique per tenant).
    pub name: String,
    /// Duo: Admin API hostname, e.g. api-1234abcd.duosecurity.com.
    #[arg(long, help_heading = "Duo")]
    pub api_hostname: Option<String>,
    /// Duo: Admin API integration key.
    #[arg(long, help_heading = "Duo")]
    pub integration_key: Option<String>,
    /// Duo: file holding the Admin API secret key (`-` = stdin); else $OORT_DUO_SECRET_KEY, else a prompt.
    #[arg(long, value_name = "PATH", help_heading = "Duo")]
    pub secret_key_file: Option<PathBuf>,
    /// Duo: enable the push-verify action (needs an Auth API application).
    #[arg(long, help_heading = "Duo")]
    pub push_verification: bool,
    /// Duo: Auth API integration key (for push verification).
    #[arg(long, help_heading = "Duo")]
    pub auth_integration_key: Option<String>,
    /// Duo: file holding the Auth API secret key (`-` = stdin); else $OORT_DUO_AUTH_SECRET_KEY, else a prompt.
    #[arg(long, value_name = "PATH", help_heading = "Duo")]
    pub auth_secret_key_file: Option<PathBuf>,
    /// Duo: also collect the endpoint inventory.
    #[arg(long, help_heading = "Duo")]
    pub endpoints: bool,
    /// Send API calls to this base URL instead of https://<api-hostname> (simulator, tests).
    #[arg(long, value_name = "URL")]
    pub api_base_url: Option<String>,
    /// Any non-secret config field, e.g. --set signature_version=5.
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = parse_key_value)]
    pub set: Vec<(String, String)>,
    /// A secret config field read from a file (`-` = stdin).
    #[arg(long = "secret-file", value_name = "FIELD=PATH", value_parser = parse_key_value)]
    pub secret_file: Vec<(String, String)>,
    /// Grant an optional host capability the plugin requests (e.g. secret-reveal).
    #[arg(long = "grant", value_name = "CAPABILITY")]
    pub grant: Vec<String>,
}

/// `integrations update`. Secret values come from files or stdin, never
/// from flag values.
#[derive(Debug, Clone, Default, Args)]
pub struct UpdateArgs {
    pub name: String,
    /// Set a non-secret config field, e.g. --set collect_endpoints=true.
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = parse_key_value)]
    pub set: Vec<(String, String)>,
    /// Unset a config field (its default applies again).
    #[arg(long, value_name = "FIELD")]
    pub unset: Vec<String>,
    /// Replace a secret with the content of a file (`-` = stdin), e.g.
    /// --secret-file secret_key=new-skey.txt.
    #[arg(long = "secret-file", value_name = "FIELD=PATH", value_parser = parse_key_value)]
    pub secret_file: Vec<(String, String)>,
    /// Clear a secret field.
    #[arg(long, value_name = "FIELD")]
    pub clear_secret: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    pub name: String,
    /// Stop after this many pages per run (the next run continues from the checkpoint).
    #[arg(long)]
    pub max_pages: Option<u32>,
    /// Only these sources (repeatable); default all.
    #[arg(long = "source")]
    pub sources: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    pub name: String,
    /// Action id, e.g. disable-user or push-verify (see `oort-host actions NAME`).
    pub action: String,
    /// Target username (defaults to the finding's first subject with --finding).
    #[arg(long)]
    pub user: Option<String>,
    /// Operator running the action (see `oort-host operators list`).
    #[arg(long)]
    pub actor: String,
    /// Why (kept in the audit trail).
    #[arg(long)]
    pub reason: Option<String>,
    /// Check and describe the action without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// The finding (id from `insights`) this action remediates.
    #[arg(long, value_name = "ID")]
    pub finding: Option<i64>,
    /// Extra action parameter (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCmd {
    /// Add an operator (admin: every action; helpdesk: low-risk actions; viewer: none).
    ///
    /// The operator works in the tenant given by --tenant (default `default`)
    /// and reaches nothing of another one; with --platform they work in
    /// every tenant and may manage plugins and operators over the API.
    Add {
        name: String,
        #[arg(long, value_parser = ["admin", "helpdesk", "viewer"])]
        role: String,
        /// Platform-wide instead of one tenant's.
        #[arg(long)]
        platform: bool,
    },
    List,
    /// API tokens: what `serve` authenticates callers with.
    #[command(subcommand)]
    Token(TokenCmd),
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue an API token for an operator. It is printed once, here, and
    /// stored only as a hash: keep it in a secret store.
    Create {
        /// The operator the token signs in as.
        name: String,
        /// What the token is for (shown in `token list`).
        #[arg(long, default_value = "api")]
        label: String,
        /// Days until the token expires (1 to 3650).
        #[arg(long, default_value_t = 90, conflicts_with = "no_expiry")]
        expires_in_days: u32,
        /// A token that never expires (revoke it when it is no longer needed).
        #[arg(long)]
        no_expiry: bool,
    },
    /// List tokens (all, or one operator's): id, label, expiry, revocation.
    List { name: Option<String> },
    /// Revoke a token by its id (see `token list`); it stops working at once.
    Revoke { id: i64 },
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected FIELD=VALUE, got `{s}`")),
    }
}

/// What every command needs.
pub struct Ctx {
    pub platform: Arc<Platform>,
    pub out: Output,
    pub tenant: String,
}

impl Ctx {
    pub fn integration(&self, name: &str) -> anyhow::Result<oort_platform::data::Integration> {
        Ok(self.platform.integration(&self.tenant, name)?)
    }
}

/// The requester of changes made from this shell (audited as `system`).
pub(crate) fn from_cli(command: &str) -> Requester {
    Requester::local(format!("oort-host {command}"))
}

/// Runs a command other than `serve` and `demo`; returns the process exit
/// code for outcomes that are reported but not errors (e.g. a failed
/// connectivity check).
pub async fn run(ctx: Ctx, command: Command) -> anyhow::Result<u8> {
    let ctx = &ctx;
    match command {
        Command::Plugins(PluginsCmd::List) => plugins::list(ctx),
        Command::Plugins(PluginsCmd::Install { file }) => plugins::install(ctx, &file),
        Command::Integrations(IntegrationsCmd::Add(args)) => integrations::add(ctx, args).await,
        Command::Integrations(IntegrationsCmd::List) => integrations::list(ctx),
        Command::Integrations(IntegrationsCmd::Show { name }) => integrations::show(ctx, &name),
        Command::Integrations(IntegrationsCmd::Update(args)) => settings::update(ctx, args).await,
        Command::Integrations(IntegrationsCmd::Disable { name }) => {
            settings::set_enabled(ctx, &name, false)
        }
        Command::Integrations(IntegrationsCmd::Enable { name }) => {
            settings::set_enabled(ctx, &name, true)
        }
        Command::Integrations(IntegrationsCmd::Remove { name }) => integrations::remove(ctx, &name),
        Command::Integrations(IntegrationsCmd::Schedule { name, every }) => {
            integrations::schedule(ctx, &name, every)
        }
        Command::Test { name } => run::test(ctx, &name).await,
        Command::Collect(args) => run::collect(ctx, &args.name, args.max_pages, args.sources).await,
        Command::Export { name, kind } => export::export(ctx, &name, kind.as_deref()),
        Command::Insights { name } => insights::insights(ctx, &name).await,
        Command::Actions { name } => actions::list(ctx, &name),
        Command::Act(args) => actions::act(ctx, args).await,
        Command::Operators(OperatorsCmd::Add {
            name,
            role,
            platform,
        }) => operators::add(ctx, &name, &role, platform),
        Command::Operators(OperatorsCmd::List) => operators::list(ctx),
        Command::Operators(OperatorsCmd::Token(command)) => operators::token(ctx, command),
        Command::Audit { name } => audit::audit(ctx, name.as_deref()),
        Command::Serve { .. } | Command::Demo => Err(usage_error(
            "`serve` and `demo` are run by the binary's entry point, not the CLI dispatch",
        )),
    }
}

#[cfg(test)]
mod tests;
