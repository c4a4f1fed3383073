//! Test Connectivity: one check per capability, each with a remedy. No
//! retries: a rate limit is reported as such within the host's deadline.

use crate::client::{DuoClient, RetryPolicy};
use crate::collect::timelog::LAG_MS;
use crate::config::{AUTH_SECRET_KEY, Config, SECRET_KEY};
use crate::error::DuoError;
use crate::host_api::{Env, SecretError};
use crate::model::{Check, CheckStatus};

const SKEW_WARN_S: i64 = 30;
const SKEW_FAIL_S: i64 = 300;

fn rate_limited(name: &str) -> Check {
    Check::new(name, CheckStatus::Warning, "Duo rate limited the test (42901); the credentials were not rejected")
        .remedy("wait a minute and run the test again; if it persists, other tools may be using the same application")
}

fn clock_hint(skew_s: Option<i64>) -> String {
    match skew_s {
        Some(s) => format!("clock off by {} s", s.abs()),
        None => "clock may be off".to_string(),
    }
}

/// The credentials check for a failed signed call.
fn credentials_check(name: &str, err: &DuoError, skew_s: Option<i64>, app: &str) -> Check {
    match err {
        DuoError::Credentials { code: 40102, .. } => {
            Check::new(name, CheckStatus::Failed, "wrong integration key (40102)").remedy(format!(
                "copy the integration key of the {app} application from the Duo Admin Panel"
            ))
        }
        DuoError::Credentials { code: 40103, .. } => {
            let remedy = match skew_s {
                Some(s) if s.abs() > SKEW_WARN_S => {
                    format!("{}: set this machine's clock with NTP", clock_hint(Some(s)))
                }
                _ => format!("paste the secret key of the {app} application again"),
            };
            Check::new(
                name,
                CheckStatus::Failed,
                "wrong secret key: Duo could not verify the signature (40103)",
            )
            .remedy(remedy)
        }
        DuoError::Credentials {
            code: code @ (40104 | 40105),
            ..
        } => Check::new(
            name,
            CheckStatus::Failed,
            format!(
                "{}: Duo rejected the request time ({code})",
                clock_hint(skew_s)
            ),
        )
        .remedy("set this machine's clock with NTP"),
        DuoError::Credentials { code, message } => Check::new(
            name,
            CheckStatus::Failed,
            format!("Duo rejected the credentials ({code} {message})"),
        )
        .remedy(format!(
            "check the integration key and secret key of the {app} application"
        )),
        DuoError::RateLimited => rate_limited(name),
        other => Check::new(name, CheckStatus::Failed, other.to_string())
            .remedy("check that the API hostname is right and Duo is reachable, then try again"),
    }
}

/// What a permission probe's answer means.
fn permission_check(name: &str, permission: &str, result: &Result<(), DuoError>) -> Check {
    match result {
        Ok(()) => Check::new(name, CheckStatus::Ok, format!("{permission} is granted")),
        Err(DuoError::Forbidden { code, .. }) => Check::new(
            name,
            CheckStatus::Failed,
            format!("{permission} is missing ({code})"),
        )
        .remedy(format!(
            "in Duo, open the Admin API application and tick {permission}, then save"
        )),
        Err(DuoError::RateLimited) => rate_limited(name),
        Err(DuoError::Credentials { .. }) => Check::new(
            name,
            CheckStatus::Skipped,
            "not tested: the credentials were rejected",
        ),
        Err(other) => Check::new(
            name,
            CheckStatus::Failed,
            format!("the probe failed: {other}"),
        )
        .remedy("run the test again; if it keeps failing, check Duo's status page"),
    }
}

fn secret_missing(name: &str, field: &str, e: SecretError) -> Check {
    let detail = match e {
        SecretError::NotSet(_) => format!("the secret `{field}` is not set"),
        other => format!("the host refused the secret `{field}`: {other:?}"),
    };
    Check::new(name, CheckStatus::Failed, detail)
        .remedy("enter the secret key in the integration's settings")
}

pub fn run(config: &Config, env: &Env) -> Vec<Check> {
    let mut checks = Vec::new();
    let retry = RetryPolicy::NONE;
    let host = config.api_hostname.as_str();

    // 1. Reachability and clock (unsigned ping).
    let unsigned = crate::client::Unsigned;
    let pinger = DuoClient::new(
        host,
        "",
        &unsigned,
        config.signature_version,
        env.http,
        env.clock,
        env.log,
        retry,
    );
    let now_before = env.clock.now_ms();
    let skew_s = match pinger.ping() {
        Ok(duo_time) => {
            let local = (now_before + env.clock.now_ms()) / 2 / 1000;
            let skew = local - duo_time;
            let (status, remedy) = match skew.abs() {
                s if s <= SKEW_WARN_S => (CheckStatus::Ok, None),
                s if s <= SKEW_FAIL_S => (
                    CheckStatus::Warning,
                    Some("set this machine's clock with NTP"),
                ),
                _ => (
                    CheckStatus::Failed,
                    Some(
                        "set this machine's clock with NTP; Duo rejects requests signed with a wrong time",
                    ),
                ),
            };
            let detail = format!("reached {host}; clock off by {} s", skew.abs());
            let mut check = Check::new("Reachability and clock", status, detail);
            check.remedy = remedy.map(str::to_string);
            checks.push(check);
            Some(skew)
        }
        Err(DuoError::RateLimited) => {
            checks.push(rate_limited("Reachability and clock"));
            None
        }
        Err(e) => {
            checks.push(
                Check::new(
                    "Reachability and clock",
                    CheckStatus::Failed,
                    format!("could not reach {host}: {e}"),
                )
                .remedy("check the API hostname and that this host may reach it over https"),
            );
            for name in [
                "Admin API credentials",
                "Grant read information",
                "Grant read resource",
                "Grant read log",
            ] {
                checks.push(Check::new(
                    name,
                    CheckStatus::Skipped,
                    "not tested: Duo is unreachable",
                ));
            }
            return checks;
        }
    };

    // 2. Admin API credentials and read permissions, probed cheaply.
    match env.secrets.get(SECRET_KEY) {
        Err(e) => checks.push(secret_missing("Admin API credentials", SECRET_KEY, e)),
        Ok(signer) => {
            let admin = DuoClient::new(
                host,
                &config.integration_key,
                signer.as_ref(),
                config.signature_version,
                env.http,
                env.clock,
                env.log,
                retry,
            );
            let probe = |path: &str, params: &[(String, String)]| {
                admin.json("GET", path, params).map(|_| ())
            };
            let info = probe("/admin/v1/info/summary", &[]);
            let resource = probe("/admin/v1/users", &[("limit".into(), "1".into())]);
            // Judge the window by Duo's clock, as the collector does.
            let duo_now = env.clock.now_ms() - skew_s.unwrap_or(0) * 1000;
            let maxtime = duo_now - LAG_MS;
            let log = probe(
                "/admin/v2/logs/authentication",
                &[
                    ("mintime".into(), (maxtime - 60_000).to_string()),
                    ("maxtime".into(), maxtime.to_string()),
                    ("limit".into(), "1".into()),
                ],
            );
            let probes = [&info, &resource, &log];
            // Any answer other than 401 means Duo accepted the signature.
            let cred_error = probes.iter().find_map(|r| match r {
                Err(e @ DuoError::Credentials { .. }) => Some(e),
                _ => None,
            });
            let accepted = probes
                .iter()
                .any(|r| r.is_ok() || matches!(r, Err(DuoError::Forbidden { .. })));
            checks.push(match (cred_error, accepted) {
                (Some(e), _) => credentials_check("Admin API credentials", e, skew_s, "Admin API"),
                (None, true) => Check::new(
                    "Admin API credentials",
                    CheckStatus::Ok,
                    "Duo accepted the integration key and signature",
                ),
                (None, false) => match probes.iter().find_map(|r| r.as_ref().err()) {
                    Some(e) => credentials_check("Admin API credentials", e, skew_s, "Admin API"),
                    None => Check::new("Admin API credentials", CheckStatus::Ok, "accepted"),
                },
            });
            checks.push(permission_check(
                "Grant read information",
                "Grant read information",
                &info,
            ));
            checks.push(permission_check(
                "Grant read resource",
                "Grant read resource",
                &resource,
            ));
            checks.push(permission_check("Grant read log", "Grant read log", &log));

            // Endpoints (edition-dependent), only when enabled.
            checks.push(if !config.collect_endpoints {
                Check::new("Endpoints", CheckStatus::Skipped, "endpoint collection is off")
            } else if cred_error.is_some() {
                Check::new("Endpoints", CheckStatus::Skipped, "not tested: the credentials were rejected")
            } else {
                match probe("/admin/v1/endpoints", &[("limit".into(), "1".into())]) {
                    Ok(()) => Check::new("Endpoints", CheckStatus::Ok, "the endpoint list is readable"),
                    Err(DuoError::Forbidden { code, .. }) => Check::new(
                        "Endpoints",
                        CheckStatus::Warning,
                        format!("Duo refused the endpoint list ({code})"),
                    )
                    .remedy("endpoints need Duo Advantage or Premier and Grant read resource; upgrade the edition or turn off collect_endpoints"),
                    Err(e) => permission_check("Endpoints", "Grant read resource", &Err(e)),
                }
            });
        }
    }

    // 3. Write permission cannot be probed without changing something.
    checks.push(
        Check::new(
            "Grant write resource",
            CheckStatus::Skipped,
            "not verifiable without changing something in Duo; remediation actions report it if it is missing",
        )
        .remedy("for remediation, tick Grant write resource on the Admin API application in Duo"),
    );

    // 4. Auth API keys for push verification.
    checks.push(if !config.push_verification {
        Check::new(
            "Auth API credentials",
            CheckStatus::Skipped,
            "push verification is off",
        )
    } else {
        match (
            env.secrets.get(AUTH_SECRET_KEY),
            config.auth_integration_key.as_deref(),
        ) {
            (Err(e), _) => secret_missing("Auth API credentials", AUTH_SECRET_KEY, e),
            (Ok(_), None) => Check::new(
                "Auth API credentials",
                CheckStatus::Failed,
                "no Auth API integration key",
            )
            .remedy("enter the integration key of the Auth API application"),
            (Ok(signer), Some(ikey)) => {
                let auth = DuoClient::new(
                    host,
                    ikey,
                    signer.as_ref(),
                    config.signature_version,
                    env.http,
                    env.clock,
                    env.log,
                    retry,
                );
                match auth.json("GET", "/auth/v2/check", &[]) {
                    Ok(_) => Check::new(
                        "Auth API credentials",
                        CheckStatus::Ok,
                        "Duo accepted the Auth API keys",
                    ),
                    Err(e) => credentials_check("Auth API credentials", &e, skew_s, "Auth API"),
                }
            }
        }
    });
    checks
}

#[cfg(test)]
mod tests;
