//! Who is calling, and what they may do: operators' API tokens (issued once,
//! kept as SHA-256 hashes, listed, revoked, expiring) and the checks a front
//! end that serves remote callers makes on every request: token → operator,
//! then operator × tenant × role. Every refusal is audited, and no message
//! or audit entry ever holds a token.

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{Platform, PlatformError, Requester, Result};
use crate::model::Role;
use crate::refusal_audit::{REFUSALS_PER_MINUTE, Refusal};
use oort_model::SecretValue;
use oort_store::{ApiToken, NewToken, Operator};

/// Every token starts with it, so a leaked one is recognisable (secret
/// scanners, logs) and a wrong kind of credential is told apart.
pub const TOKEN_PREFIX: &str = "oort_";

/// The longest a token may live (ten years): long-lived, not eternal.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3650 * 24 * 3600);

/// How precisely a token's last use is kept (at most one write per token
/// per this many milliseconds).
const LAST_USE_RESOLUTION_MS: i64 = 60_000;

/// Who `actor` is for the audit trail when no operator could be named.
const ANONYMOUS: &str = "anonymous";

/// A token just issued: the only time its value exists outside the caller's
/// hands. `token` is zeroed when dropped and redacted in `Debug`.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: SecretValue,
    pub info: ApiToken,
}

/// What a request reaches: one tenant's things, or what belongs to the
/// whole platform (plugins, operators, tokens, the host's audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Tenant(&'a str),
    Platform,
}

impl Requester {
    /// An authenticated operator, for the audit entries of what they change.
    pub fn operator(operator: &Operator, via: impl Into<String>) -> Requester {
        Requester {
            actor: operator.name.clone(),
            role: Some(operator.role),
            via: via.into(),
        }
    }
}

fn token_hash(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

impl Platform {
    /// Issues an API token for `operator` (audited as `token.issue`, without
    /// the token). `lifetime: None` means the token never expires.
    pub fn issue_token(
        &self,
        by: &Requester,
        operator: &str,
        label: &str,
        lifetime: Option<Duration>,
    ) -> Result<IssuedToken> {
        if lifetime.is_some_and(|l| l.is_zero() || l > MAX_TOKEN_LIFETIME) {
            return Err(PlatformError::InvalidInput(
                "a token lifetime is between 1 day and 3650 days".into(),
            ));
        }
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        );
        oort_model::wipe(&mut random);
        let expires_at_ms = lifetime.map(|l| self.now_ms() + l.as_millis() as i64);
        let info = self.store.add_token(&NewToken {
            operator: operator.to_owned(),
            label: label.trim().to_owned(),
            hash: token_hash(token.as_bytes()),
            expires_at_ms,
        })?;
        let expiry = match info.expires_at_ms {
            Some(at) => format!("expires {}", oort_time::rfc3339_from_ms(at)),
            None => "never expires".into(),
        };
        self.audit_change(
            by,
            None,
            "token.issue",
            operator,
            format!("succeeded: token {} ({expiry})", info.id),
        )?;
        Ok(IssuedToken {
            token: SecretValue::new(token.into_bytes()),
            info,
        })
    }

    /// Issues a token for `operator` at the request of `caller`, a signed-in
    /// operator, once [`may_issue_for`] allows it (a refusal is audited as
    /// `token.issue`, and is `Refused`).
    pub fn issue_token_for(
        &self,
        caller: &Operator,
        operator: &Operator,
        label: &str,
        lifetime: Option<Duration>,
    ) -> Result<IssuedToken> {
        let by = Requester::operator(caller, "HTTP API");
        if let Err(why) = may_issue_for(caller, operator) {
            self.audit_change(
                &by,
                None,
                "token.issue",
                &operator.name,
                format!("refused: {why}"),
            )?;
            return Err(PlatformError::Refused(why));
        }
        self.issue_token(&by, &operator.name, label, lifetime)
    }

    /// Revokes one of `operator`'s tokens; `NotFound` for a token of anyone
    /// else, so a tenant's admin reaches only their tenant's tokens.
    pub fn revoke_token_of(
        &self,
        by: &Requester,
        operator: &Operator,
        id: i64,
    ) -> Result<ApiToken> {
        if !self
            .tokens(Some(&operator.name))?
            .iter()
            .any(|t| t.id == id)
        {
            return Err(PlatformError::NotFound(format!(
                "`{}` has no token {id}",
                operator.name
            )));
        }
        self.revoke_token(by, id)
    }

    /// Revokes a token for good (audited as `token.revoke`).
    pub fn revoke_token(&self, by: &Requester, id: i64) -> Result<ApiToken> {
        let token = self.store.revoke_token(id)?;
        self.audit_change(
            by,
            None,
            "token.revoke",
            &token.operator,
            format!("succeeded: token {id} revoked"),
        )?;
        Ok(token)
    }

    /// All tokens, or one operator's (never their values).
    pub fn tokens(&self, operator: Option<&str>) -> Result<Vec<ApiToken>> {
        Ok(self.store.tokens(operator)?)
    }

    /// The operator a request's bearer token belongs to. A missing, unknown,
    /// revoked or expired token, or one whose operator was removed, is
    /// refused as `Unauthenticated` and audited (action `api.authenticate`,
    /// target `via`, e.g. `GET /v1/plugins`), up to
    /// [`REFUSALS_PER_MINUTE`] a minute; past it they are counted and the
    /// next entry written says how many were left out.
    pub fn authenticate(&self, presented: Option<&str>, via: &str) -> Result<Operator> {
        match self.operator_of_token(presented) {
            Ok(operator) => Ok(operator),
            Err(why) => {
                let anonymous = Requester {
                    actor: ANONYMOUS.into(),
                    role: None,
                    via: "HTTP API".into(),
                };
                match self.refusals.admit(self.now_ms()) {
                    Refusal::Write { left_out_before } => {
                        let mut outcome = format!("refused: {why}");
                        if left_out_before > 0 {
                            outcome.push_str(&format!(
                                " ({left_out_before} more refused sign-ins before this one were counted, not written: at most {REFUSALS_PER_MINUTE} a minute are)"
                            ));
                        }
                        self.audit_change(&anonymous, None, "api.authenticate", via, outcome)?;
                    }
                    Refusal::LeaveOut => {}
                }
                Err(PlatformError::Unauthenticated(why))
            }
        }
    }

    fn operator_of_token(&self, presented: Option<&str>) -> Result<Operator, String> {
        let Some(presented) = presented.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(
                "no API token: send `Authorization: Bearer TOKEN` (issue one with `oort-host operators token create NAME`)"
                    .into(),
            );
        };
        if !presented.starts_with(TOKEN_PREFIX) {
            return Err(format!(
                "that is not an oort-host API token (they start with `{TOKEN_PREFIX}`)"
            ));
        }
        let unknown = || "unknown API token".to_string();
        let token = self
            .store
            .token_by_hash(&token_hash(presented.as_bytes()))
            .map_err(|e| format!("tokens cannot be checked now: {e}"))?
            .ok_or_else(unknown)?;
        if token.revoked_at_ms.is_some() {
            return Err(format!("API token {} was revoked", token.id));
        }
        let now = self.now_ms();
        if token.expires_at_ms.is_some_and(|at| at <= now) {
            return Err(format!(
                "API token {} expired; issue a new one with `oort-host operators token create {}`",
                token.id, token.operator
            ));
        }
        let operator = self
            .store
            .operator(&token.operator)
            .map_err(|e| format!("tokens cannot be checked now: {e}"))?
            .ok_or_else(unknown)?;
        // Only a sign-in counts as use, kept to the minute: a write per
        // request would make every read a write.
        if token
            .last_used_at_ms
            .is_none_or(|at| now - at >= LAST_USE_RESOLUTION_MS)
            && let Err(e) = self.store.token_used(token.id, now)
        {
            tracing::warn!(token = token.id, error = %e, "could not record the token's use");
        }
        Ok(operator)
    }

    /// Whether `operator` may do what needs `needs` within `scope`: their
    /// role is at least `needs`, and the scope is their tenant (an operator
    /// of one tenant reaches nothing of another, nor the platform's own
    /// things). A refusal is audited (action `api.authorize`, target `via`).
    pub fn authorize(
        &self,
        operator: &Operator,
        scope: Scope<'_>,
        needs: Role,
        via: &str,
    ) -> Result<()> {
        let Err(why) = check_access(operator, scope, needs) else {
            return Ok(());
        };
        let by = Requester::operator(operator, "HTTP API");
        self.audit_change(&by, None, "api.authorize", via, format!("refused: {why}"))?;
        Err(PlatformError::Refused(why))
    }
}

/// Whom `caller` may mint a credential for: a platform-wide admin, anyone;
/// an admin of a tenant, themselves and the operators of that tenant below
/// admin. A token for another admin would let its holder act in that
/// admin's name, which the audit trail would then attribute to them.
pub(crate) fn may_issue_for(caller: &Operator, operator: &Operator) -> Result<(), String> {
    let same_tenant = caller.tenant.is_none() || caller.tenant == operator.tenant;
    if caller.role < Role::Admin || !same_tenant {
        return Err(format!(
            "{} may not issue tokens for {}",
            caller.name, operator.name
        ));
    }
    if caller.tenant.is_some() && operator.role == Role::Admin && operator.name != caller.name {
        return Err(format!(
            "{} is an admin: only they or a platform-wide admin may issue their tokens",
            operator.name
        ));
    }
    Ok(())
}

/// [`Platform::authorize`]'s rule, pure.
pub(crate) fn check_access(
    operator: &Operator,
    scope: Scope<'_>,
    needs: Role,
) -> Result<(), String> {
    match (scope, operator.tenant.as_deref()) {
        (_, None) => {}
        (Scope::Tenant(wanted), Some(own)) if wanted == own => {}
        (Scope::Tenant(wanted), Some(own)) => {
            return Err(format!(
                "{} works in tenant `{own}`, not `{wanted}`",
                operator.name
            ));
        }
        (Scope::Platform, Some(own)) => {
            return Err(format!(
                "{} works in tenant `{own}`; this needs a platform-wide operator",
                operator.name
            ));
        }
    }
    if operator.role < needs {
        return Err(format!(
            "{} is a {}; this needs {needs}",
            operator.name, operator.role
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator(role: Role, tenant: Option<&str>) -> Operator {
        Operator {
            name: "ana".into(),
            role,
            tenant: tenant.map(str::to_owned),
            created_at_ms: 0,
        }
    }

    #[test]
    fn a_tenants_operator_reaches_only_that_tenant_and_a_platform_operator_all() {
        let acme = operator(Role::Admin, Some("acme"));
        assert_eq!(
            check_access(&acme, Scope::Tenant("acme"), Role::Admin),
            Ok(())
        );
        let other = check_access(&acme, Scope::Tenant("globex"), Role::Viewer).unwrap_err();
        assert!(other.contains("`acme`, not `globex`"), "{other}");
        let platform = check_access(&acme, Scope::Platform, Role::Viewer).unwrap_err();
        assert!(platform.contains("platform-wide"), "{platform}");

        let root = operator(Role::Admin, None);
        assert_eq!(
            check_access(&root, Scope::Tenant("globex"), Role::Admin),
            Ok(())
        );
        assert_eq!(check_access(&root, Scope::Platform, Role::Admin), Ok(()));
    }

    #[test]
    fn a_tenants_admin_issues_tokens_for_themselves_and_the_tenants_others_below_admin() {
        let named = |name: &str, role: Role, tenant: Option<&str>| Operator {
            name: name.into(),
            ..operator(role, tenant)
        };
        let admin = named("ad", Role::Admin, Some("acme"));
        let colleague = named("co", Role::Admin, Some("acme"));
        let helpdesk = named("he", Role::Helpdesk, Some("acme"));
        let elsewhere = named("gl", Role::Viewer, Some("globex"));
        let root = named("root", Role::Admin, None);
        assert_eq!(may_issue_for(&admin, &admin), Ok(()));
        assert_eq!(may_issue_for(&admin, &helpdesk), Ok(()));
        let why = may_issue_for(&admin, &colleague).unwrap_err();
        assert!(why.contains("co is an admin"), "{why}");
        assert!(may_issue_for(&admin, &elsewhere).is_err());
        assert!(may_issue_for(&admin, &root).is_err());
        assert!(may_issue_for(&helpdesk, &helpdesk).is_err());
        for target in [&admin, &colleague, &elsewhere, &root] {
            assert_eq!(may_issue_for(&root, target), Ok(()));
        }
    }

    #[test]
    fn a_role_below_what_the_request_needs_is_refused_by_name() {
        let viewer = operator(Role::Viewer, Some("acme"));
        assert_eq!(
            check_access(&viewer, Scope::Tenant("acme"), Role::Viewer),
            Ok(())
        );
        let why = check_access(&viewer, Scope::Tenant("acme"), Role::Helpdesk).unwrap_err();
        assert_eq!(why, "ana is a viewer; this needs helpdesk");
        let helpdesk = operator(Role::Helpdesk, None);
        assert!(check_access(&helpdesk, Scope::Platform, Role::Admin).is_err());
        assert_eq!(
            check_access(&helpdesk, Scope::Tenant("x"), Role::Helpdesk),
            Ok(())
        );
    }
}
