//! Remediation and verification actions. Users are looked up by username;
//! outcomes say exactly what happened.

use serde_json::Value;

use crate::client::{DuoClient, RetryPolicy};
use crate::collect::secret_error;
use crate::config::{AUTH_SECRET_KEY, Config, SECRET_KEY};
use crate::error::DuoError;
use crate::host_api::Env;
use crate::model::{ActionOutcome, ActionRequest, ActionStatus, PluginError};
use crate::signing::percent_encode;

const WRITE_MISSING: &str =
    "missing Grant write resource: add it to the Admin API application in Duo";

fn p(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn outcome(
    status: ActionStatus,
    message: impl Into<String>,
    details: Vec<(&str, String)>,
) -> ActionOutcome {
    ActionOutcome {
        status,
        message: message.into(),
        details: details
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

fn str_field<'v>(v: &'v Value, name: &str) -> Option<&'v str> {
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Maps a failed write: 40301 is the missing write permission.
fn write_error(e: DuoError, what: &str) -> PluginError {
    match e {
        DuoError::Forbidden { .. } => PluginError::Forbidden(WRITE_MISSING.into()),
        other => other.into_plugin_error(what),
    }
}

struct Ctx<'a> {
    config: &'a Config,
    env: &'a Env<'a>,
    admin: DuoClient<'a>,
}

impl Ctx<'_> {
    /// `GET /admin/v1/users?username=` -> the user object.
    fn user(&self, username: &str) -> Result<Value, PluginError> {
        let found = self
            .admin
            .json("GET", "/admin/v1/users", &[p("username", username)])
            .map_err(|e| e.into_plugin_error(&format!("looking up Duo user `{username}`")))?;
        match found.response {
            Value::Array(mut users) if !users.is_empty() => Ok(users.swap_remove(0)),
            Value::Array(_) => Err(PluginError::NotFound(format!(
                "no Duo user named `{username}`"
            ))),
            _ => Err(PluginError::Upstream(format!(
                "Duo's answer to the lookup of `{username}` is not a user list"
            ))),
        }
    }

    fn sleep_poll(&self) {
        self.env.clock.sleep_ms(self.config.poll_interval_ms);
    }
}

fn user_id(user: &Value, username: &str) -> Result<String, PluginError> {
    str_field(user, "user_id")
        .map(str::to_string)
        .ok_or_else(|| PluginError::Upstream(format!("Duo's user `{username}` has no user_id")))
}

fn phones(user: &Value) -> Vec<&Value> {
    user.get("phones")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The phone named by the `phone_id` parameter, if one was given.
fn requested_phone<'a>(
    phones: &[&'a Value],
    req: &ActionRequest,
    username: &str,
) -> Result<Option<&'a Value>, PluginError> {
    let Some(wanted) = req.param("phone_id") else {
        return Ok(None);
    };
    phones
        .iter()
        .copied()
        .find(|ph| str_field(ph, "phone_id") == Some(wanted))
        .map(Some)
        .ok_or_else(|| {
            PluginError::NotFound(format!("Duo user `{username}` has no phone `{wanted}`"))
        })
}

fn can_push(phone: &Value) -> bool {
    phone
        .get("capabilities")
        .and_then(Value::as_array)
        .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some("push")))
}

pub fn run(
    config: &Config,
    env: &Env,
    request: &ActionRequest,
) -> Result<ActionOutcome, PluginError> {
    let username = request
        .param("username")
        .ok_or_else(|| PluginError::InvalidInput("the parameter `username` is required".into()))?
        .to_string();
    let signer = env
        .secrets
        .get(SECRET_KEY)
        .map_err(|e| secret_error(SECRET_KEY, e))?;
    let retry = RetryPolicy {
        max_retries: config.max_retries.min(3),
        base_ms: config.retry_base_ms,
    };
    let admin = DuoClient::new(
        &config.api_hostname,
        &config.integration_key,
        signer.as_ref(),
        config.signature_version,
        env.http,
        env.clock,
        env.log,
        retry,
    );
    let ctx = Ctx { config, env, admin };
    match request.action.as_str() {
        "disable-user" => set_status(&ctx, request, &username, "disabled"),
        "reactivate-user" => set_status(&ctx, request, &username, "active"),
        "remove-phone" => remove_phone(&ctx, request, &username),
        "send-enrollment" => send_enrollment(&ctx, request, &username),
        "send-verification-push" => verification_push(&ctx, request, &username),
        "push-verify" => push_verify(&ctx, request, &username),
        other => Err(PluginError::InvalidInput(format!(
            "unknown action `{other}`: this plugin offers disable-user, reactivate-user, remove-phone, send-enrollment, send-verification-push and push-verify"
        ))),
    }
}

fn set_status(
    ctx: &Ctx,
    req: &ActionRequest,
    username: &str,
    status: &str,
) -> Result<ActionOutcome, PluginError> {
    let user = ctx.user(username)?;
    let id = user_id(&user, username)?;
    let before = str_field(&user, "status").unwrap_or("unknown").to_string();
    let verb = if status == "disabled" {
        "disable"
    } else {
        "re-activate"
    };
    let details = vec![("user_id", id.clone()), ("previous_status", before.clone())];
    if req.dry_run {
        return Ok(outcome(
            ActionStatus::DryRun,
            format!("would {verb} Duo user `{username}` (now {before})"),
            details,
        ));
    }
    ctx.admin
        .json(
            "POST",
            &format!("/admin/v1/users/{id}"),
            &[p("status", status)],
        )
        .map_err(|e| write_error(e, &format!("setting `{username}` to {status}")))?;
    let done = if status == "disabled" {
        "disabled"
    } else {
        "re-activated"
    };
    Ok(outcome(
        ActionStatus::Succeeded,
        format!("{done} Duo user `{username}` (was {before})"),
        details,
    ))
}

fn remove_phone(
    ctx: &Ctx,
    req: &ActionRequest,
    username: &str,
) -> Result<ActionOutcome, PluginError> {
    let user = ctx.user(username)?;
    let id = user_id(&user, username)?;
    let phones = phones(&user);
    let phone = match requested_phone(&phones, req, username)? {
        Some(phone) => phone,
        None => match phones.as_slice() {
            [] => {
                return Err(PluginError::NotFound(format!(
                    "Duo user `{username}` has no phone"
                )));
            }
            [one] => one,
            many => {
                let ids: Vec<&str> = many
                    .iter()
                    .filter_map(|ph| str_field(ph, "phone_id"))
                    .collect();
                return Err(PluginError::InvalidInput(format!(
                    "Duo user `{username}` has {} phones: pass `phone_id`, one of {}",
                    many.len(),
                    ids.join(", ")
                )));
            }
        },
    };
    let phone_id = str_field(phone, "phone_id").unwrap_or_default().to_string();
    let label = str_field(phone, "name")
        .or_else(|| str_field(phone, "model"))
        .unwrap_or("phone")
        .to_string();
    let details = vec![("user_id", id.clone()), ("phone_id", phone_id.clone())];
    if req.dry_run {
        return Ok(outcome(
            ActionStatus::DryRun,
            format!("would remove {label} {phone_id} from `{username}`"),
            details,
        ));
    }
    ctx.admin
        .json(
            "DELETE",
            &format!("/admin/v1/users/{id}/phones/{phone_id}"),
            &[],
        )
        .map_err(|e| write_error(e, &format!("removing phone {phone_id} from `{username}`")))?;
    Ok(outcome(
        ActionStatus::Succeeded,
        format!("removed {label} {phone_id} from `{username}`"),
        details,
    ))
}

fn send_enrollment(
    ctx: &Ctx,
    req: &ActionRequest,
    username: &str,
) -> Result<ActionOutcome, PluginError> {
    let user = ctx.user(username)?;
    let email = req
        .param("email")
        .or_else(|| str_field(&user, "email"))
        .ok_or_else(|| {
            PluginError::InvalidInput(format!(
                "Duo has no email for `{username}`: pass the `email` parameter"
            ))
        })?
        .to_string();
    let details = vec![("email", email.clone())];
    if req.dry_run {
        return Ok(outcome(
            ActionStatus::DryRun,
            format!("would email an enrollment link to {email}"),
            details,
        ));
    }
    ctx.admin
        .json(
            "POST",
            "/admin/v1/users/enroll",
            &[p("username", username), p("email", &email)],
        )
        .map_err(|e| write_error(e, &format!("sending the enrollment email for `{username}`")))?;
    Ok(outcome(
        ActionStatus::Succeeded,
        format!("enrollment email sent to {email} (link valid 30 days)"),
        details,
    ))
}

fn timed_out(ctx: &Ctx, details: Vec<(&str, String)>) -> ActionOutcome {
    outcome(
        ActionStatus::Failed,
        format!("timed out after {} s", ctx.config.push_timeout_secs),
        details,
    )
}

fn verification_push(
    ctx: &Ctx,
    req: &ActionRequest,
    username: &str,
) -> Result<ActionOutcome, PluginError> {
    let user = ctx.user(username)?;
    let id = user_id(&user, username)?;
    let phones = phones(&user);
    let phone = match requested_phone(&phones, req, username)? {
        Some(phone) => phone,
        None => phones.into_iter().find(|ph| can_push(ph)).ok_or_else(|| {
            PluginError::NotFound(format!(
                "Duo user `{username}` has no phone that can receive a push"
            ))
        })?,
    };
    let phone_id = str_field(phone, "phone_id").unwrap_or_default().to_string();
    if req.dry_run {
        return Ok(outcome(
            ActionStatus::DryRun,
            format!("would send a verification push to `{username}` on {phone_id}"),
            vec![("phone_id", phone_id)],
        ));
    }
    let sent = ctx
        .admin
        .json(
            "POST",
            &format!("/admin/v1/users/{id}/send_verification_push"),
            &[p("phone_id", &phone_id)],
        )
        .map_err(|e| write_error(e, &format!("sending a verification push to `{username}`")))?;
    let push_id = str_field(&sent.response, "push_id")
        .ok_or_else(|| {
            PluginError::Upstream("Duo's answer to the verification push has no push_id".into())
        })?
        .to_string();
    let code = sent
        .response
        .get("confirmation_code")
        .map(|c| c.to_string().trim_matches('"').to_string());
    let mut details = vec![("phone_id", phone_id), ("push_id", push_id.clone())];
    if let Some(code) = code {
        details.push(("confirmation_code", code));
    }
    let deadline = ctx.env.clock.now_ms() + ctx.config.push_timeout_secs as i64 * 1000;
    loop {
        let answer = ctx.admin.json(
            "GET",
            &format!("/admin/v1/users/{id}/verification_push_response"),
            &[p("push_id", &push_id)],
        );
        let result = match answer {
            Ok(r) => str_field(&r.response, "result")
                .unwrap_or("waiting")
                .to_string(),
            // Duo forgets the push after 120 s.
            Err(DuoError::NotFound { .. }) => return Ok(timed_out(ctx, details)),
            Err(e) => return Err(e.into_plugin_error("waiting for the verification push answer")),
        };
        match result.as_str() {
            "approve" | "approved" | "allow" => {
                return Ok(outcome(ActionStatus::Succeeded, "user approved", details));
            }
            "deny" | "denied" => return Ok(outcome(ActionStatus::Failed, "user denied", details)),
            "fraud" => {
                return Ok(outcome(
                    ActionStatus::Failed,
                    "user reported fraud",
                    details,
                ));
            }
            _ => {}
        }
        if ctx.env.clock.now_ms() >= deadline {
            return Ok(timed_out(ctx, details));
        }
        ctx.sleep_poll();
    }
}

fn auth_err(what: &'static str) -> impl Fn(DuoError) -> PluginError {
    move |e: DuoError| match e {
        DuoError::Credentials { .. } => PluginError::Unauthorized(format!(
            "{what}: Duo rejected the Auth API keys ({e}); check auth_integration_key and auth_secret_key"
        )),
        other => other.into_plugin_error(what),
    }
}

fn push_verify(
    ctx: &Ctx,
    req: &ActionRequest,
    username: &str,
) -> Result<ActionOutcome, PluginError> {
    let config = ctx.config;
    if !config.push_verification {
        return Err(PluginError::Config(
            "push verification is off: turn on `push_verification` and enter the Auth API keys"
                .into(),
        ));
    }
    let ikey = config.auth_integration_key.as_deref().ok_or_else(|| {
        PluginError::Config(
            "push verification needs `auth_integration_key` (the Auth API application's key)"
                .into(),
        )
    })?;
    let signer = ctx
        .env
        .secrets
        .get(AUTH_SECRET_KEY)
        .map_err(|e| secret_error(AUTH_SECRET_KEY, e))?;
    // Same lookup as every action, so an unknown name is a clear not-found.
    ctx.user(username)?;
    let auth = DuoClient::new(
        &config.api_hostname,
        ikey,
        signer.as_ref(),
        config.signature_version,
        ctx.env.http,
        ctx.env.clock,
        ctx.env.log,
        ctx.admin.retry,
    );
    let pre = auth
        .json("POST", "/auth/v2/preauth", &[p("username", username)])
        .map_err(auth_err("checking whether the user can receive a push"))?
        .response;
    let status_msg = str_field(&pre, "status_msg").unwrap_or("").to_string();
    match str_field(&pre, "result").unwrap_or("") {
        "auth" => {}
        "allow" => {
            return Ok(outcome(
                ActionStatus::Failed,
                "not verified: Duo lets this user in without a second factor (bypass), so a push proves nothing",
                vec![("status_msg", status_msg)],
            ));
        }
        "enroll" => {
            return Ok(outcome(
                ActionStatus::Failed,
                "not verified: the user has not enrolled a device in Duo",
                vec![("status_msg", status_msg)],
            ));
        }
        "deny" => {
            return Ok(outcome(
                ActionStatus::Failed,
                format!("not verified: Duo denies this user ({status_msg})"),
                vec![("status_msg", status_msg)],
            ));
        }
        other => {
            return Err(PluginError::Upstream(format!(
                "unexpected preauth result `{other}`"
            )));
        }
    }
    let device = pre
        .get("devices")
        .and_then(Value::as_array)
        .and_then(|devices| devices.iter().find(|d| can_push(d)))
        .and_then(|d| str_field(d, "device"))
        .ok_or_else(|| {
            PluginError::NotFound(format!(
                "Duo user `{username}` has no device that can receive a push"
            ))
        })?
        .to_string();
    let mut details = vec![("device", device.clone())];
    if req.dry_run {
        return Ok(outcome(
            ActionStatus::DryRun,
            format!("would push `{username}` on {device}"),
            details,
        ));
    }
    let mut info = format!("Requested%20by={}", percent_encode(&req.requested_by));
    if let Some(reason) = req.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        info.push_str(&format!("&Reason={}", percent_encode(reason)));
    }
    let started = auth
        .json(
            "POST",
            "/auth/v2/auth",
            &[
                p("username", username),
                p("factor", "push"),
                p("device", &device),
                p("async", "1"),
                p("type", "Identity verification"),
                p("display_username", username),
                p("pushinfo", info),
            ],
        )
        .map_err(auth_err("sending the push"))?
        .response;
    let txid = str_field(&started, "txid")
        .ok_or_else(|| PluginError::Upstream("Duo's answer to the push has no txid".into()))?
        .to_string();
    details.push(("txid", txid.clone()));
    let deadline = ctx.env.clock.now_ms() + config.push_timeout_secs as i64 * 1000;
    loop {
        let status = auth
            .json("GET", "/auth/v2/auth_status", &[p("txid", &txid)])
            .map_err(auth_err("waiting for the push answer"))?
            .response;
        let result = str_field(&status, "result").unwrap_or("waiting");
        let detail = str_field(&status, "status").unwrap_or("");
        match (result, detail) {
            (_, "fraud") => {
                return Ok(outcome(
                    ActionStatus::Failed,
                    "user reported fraud",
                    details,
                ));
            }
            ("allow", _) => return Ok(outcome(ActionStatus::Succeeded, "user approved", details)),
            (_, "timeout") => return Ok(timed_out(ctx, details)),
            ("deny", _) => return Ok(outcome(ActionStatus::Failed, "user denied", details)),
            _ => {}
        }
        if ctx.env.clock.now_ms() >= deadline {
            return Ok(timed_out(ctx, details));
        }
        ctx.sleep_poll();
    }
}

#[cfg(test)]
mod tests;
