//! `collected-record`s lifted without copying their text. The generated
//! bindings lift each string of a record into its own `String`: ~27
//! allocations and copies per auth event, freed again after the write on
//! another thread (lifting and freeing measured ~3 ms of CPU per 1,000-event
//! page, a fifth of the whole collect). These types mirror the WIT records
//! with [`WasmStr`]s instead (a checked pointer and length into the plugin's
//! memory); [`LiftedRecord::resolve`] turns them into model records that
//! borrow that memory while the host checks the batch. The store keeps only
//! what it writes (see `oort_model::batch::CheckedRecords`).
//!
//! Field order and names must match `collected-record` in the WIT, as for
//! any `#[derive(Lift)]`; wasmtime checks both against the plugin's types
//! when it links, so a mismatch fails every plugin at load, never silently.

use std::borrow::Cow;

use wasmtime::AsContext;
use wasmtime::component::{ComponentType, Lift, WasmStr};

use oort_model as m;

type Text<'a> = Cow<'a, str>;

/// Resolves the strings of one lifted value against the plugin's memory.
struct Resolver<'a, S>(&'a S);

impl<'a, S: AsContext> Resolver<'a, S> {
    fn text(&self, s: &WasmStr) -> wasmtime::Result<Text<'a>> {
        s.to_str(self.0)
    }

    fn maybe(&self, s: &Option<WasmStr>) -> wasmtime::Result<Option<Text<'a>>> {
        s.as_ref().map(|s| self.text(s)).transpose()
    }
}

fn owned<'a>(list: Vec<String>) -> Vec<Text<'a>> {
    list.into_iter().map(Cow::Owned).collect()
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedRecord {
    kind: WasmStr,
    id: WasmStr,
    #[component(name = "occurred-at-ms")]
    occurred_at_ms: Option<i64>,
    normalized: LiftedNormalized,
    #[component(name = "raw-json")]
    raw_json: WasmStr,
}

impl LiftedRecord {
    /// The record as the model's, its text borrowed from the plugin's memory
    /// (checked to be UTF-8; a plugin that sends anything else traps, as
    /// with the generated bindings).
    pub fn resolve<S: AsContext>(
        self,
        store: &S,
    ) -> wasmtime::Result<m::CollectedRecord<Text<'_>>> {
        let r = Resolver(store);
        Ok(m::CollectedRecord {
            kind: r.text(&self.kind)?,
            id: r.text(&self.id)?,
            occurred_at_ms: self.occurred_at_ms,
            normalized: self.normalized.resolve(&r)?,
            raw_json: r.text(&self.raw_json)?,
        })
    }
}

// Nearly every record is an auth event: boxing it would add the allocation
// per record this module exists to avoid.
#[allow(clippy::large_enum_variant)]
#[derive(ComponentType, Lift)]
#[component(variant)]
pub enum LiftedNormalized {
    #[component(name = "none")]
    None,
    #[component(name = "auth-event")]
    AuthEvent(LiftedAuthEvent),
    #[component(name = "user-account")]
    UserAccount(LiftedUserAccount),
    #[component(name = "mfa-device")]
    MfaDevice(LiftedMfaDevice),
}

impl LiftedNormalized {
    fn resolve<'a, S: AsContext>(
        self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::Normalized<Text<'a>>> {
        Ok(match self {
            LiftedNormalized::None => m::Normalized::None,
            LiftedNormalized::AuthEvent(e) => m::Normalized::AuthEvent(e.resolve(r)?),
            LiftedNormalized::UserAccount(u) => m::Normalized::UserAccount(u.resolve(r)?),
            LiftedNormalized::MfaDevice(d) => m::Normalized::MfaDevice(d.resolve(r)?),
        })
    }
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedGeoLocation {
    city: Option<WasmStr>,
    state: Option<WasmStr>,
    country: Option<WasmStr>,
}

impl LiftedGeoLocation {
    fn resolve<'a, S: AsContext>(
        &self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::GeoLocation<Text<'a>>> {
        Ok(m::GeoLocation {
            city: r.maybe(&self.city)?,
            state: r.maybe(&self.state)?,
            country: r.maybe(&self.country)?,
        })
    }
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedAccessDevice {
    ip: Option<WasmStr>,
    location: LiftedGeoLocation,
    hostname: Option<WasmStr>,
    os: Option<WasmStr>,
    #[component(name = "os-version")]
    os_version: Option<WasmStr>,
    browser: Option<WasmStr>,
    #[component(name = "browser-version")]
    browser_version: Option<WasmStr>,
    #[component(name = "endpoint-id")]
    endpoint_id: Option<WasmStr>,
    #[component(name = "is-encryption-enabled")]
    is_encryption_enabled: Option<bool>,
    #[component(name = "is-firewall-enabled")]
    is_firewall_enabled: Option<bool>,
    #[component(name = "is-password-set")]
    is_password_set: Option<bool>,
}

impl LiftedAccessDevice {
    fn resolve<'a, S: AsContext>(
        &self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::AccessDevice<Text<'a>>> {
        Ok(m::AccessDevice {
            ip: r.maybe(&self.ip)?,
            location: self.location.resolve(r)?,
            hostname: r.maybe(&self.hostname)?,
            os: r.maybe(&self.os)?,
            os_version: r.maybe(&self.os_version)?,
            browser: r.maybe(&self.browser)?,
            browser_version: r.maybe(&self.browser_version)?,
            endpoint_id: r.maybe(&self.endpoint_id)?,
            is_encryption_enabled: self.is_encryption_enabled,
            is_firewall_enabled: self.is_firewall_enabled,
            is_password_set: self.is_password_set,
        })
    }
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedAuthDevice {
    id: Option<WasmStr>,
    name: Option<WasmStr>,
    ip: Option<WasmStr>,
    location: LiftedGeoLocation,
}

impl LiftedAuthDevice {
    fn resolve<'a, S: AsContext>(
        &self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::AuthDevice<Text<'a>>> {
        Ok(m::AuthDevice {
            id: r.maybe(&self.id)?,
            name: r.maybe(&self.name)?,
            ip: r.maybe(&self.ip)?,
            location: self.location.resolve(r)?,
        })
    }
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedAuthEvent {
    #[component(name = "occurred-at-ms")]
    occurred_at_ms: i64,
    #[component(name = "event-id")]
    event_id: WasmStr,
    #[component(name = "user-id")]
    user_id: Option<WasmStr>,
    #[component(name = "user-name")]
    user_name: Option<WasmStr>,
    #[component(name = "user-email")]
    user_email: Option<WasmStr>,
    #[component(name = "application-id")]
    application_id: Option<WasmStr>,
    #[component(name = "application-name")]
    application_name: Option<WasmStr>,
    result: WasmStr,
    reason: Option<WasmStr>,
    factor: Option<WasmStr>,
    #[component(name = "event-type")]
    event_type: WasmStr,
    #[component(name = "access-device")]
    access_device: LiftedAccessDevice,
    #[component(name = "auth-device")]
    auth_device: Option<LiftedAuthDevice>,
}

impl LiftedAuthEvent {
    fn resolve<'a, S: AsContext>(
        &self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::AuthEvent<Text<'a>>> {
        Ok(m::AuthEvent {
            occurred_at_ms: self.occurred_at_ms,
            event_id: r.text(&self.event_id)?,
            user_id: r.maybe(&self.user_id)?,
            user_name: r.maybe(&self.user_name)?,
            user_email: r.maybe(&self.user_email)?,
            application_id: r.maybe(&self.application_id)?,
            application_name: r.maybe(&self.application_name)?,
            result: r.text(&self.result)?,
            reason: r.maybe(&self.reason)?,
            factor: r.maybe(&self.factor)?,
            event_type: r.text(&self.event_type)?,
            access_device: self.access_device.resolve(r)?,
            auth_device: self
                .auth_device
                .as_ref()
                .map(|d| d.resolve(r))
                .transpose()?,
        })
    }
}

// Inventory records are a few per page at most: their string lists are
// lifted as owned `String`s (a `WasmList` needs the store mutably to read).

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedUserAccount {
    #[component(name = "user-id")]
    user_id: WasmStr,
    #[component(name = "user-name")]
    user_name: WasmStr,
    email: Option<WasmStr>,
    #[component(name = "real-name")]
    real_name: Option<WasmStr>,
    status: WasmStr,
    #[component(name = "is-enrolled")]
    is_enrolled: bool,
    #[component(name = "last-login-ms")]
    last_login_ms: Option<i64>,
    #[component(name = "created-ms")]
    created_ms: Option<i64>,
    groups: Vec<String>,
    #[component(name = "device-ids")]
    device_ids: Vec<String>,
}

impl LiftedUserAccount {
    fn resolve<'a, S: AsContext>(
        self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::UserAccount<Text<'a>>> {
        Ok(m::UserAccount {
            user_id: r.text(&self.user_id)?,
            user_name: r.text(&self.user_name)?,
            email: r.maybe(&self.email)?,
            real_name: r.maybe(&self.real_name)?,
            status: r.text(&self.status)?,
            is_enrolled: self.is_enrolled,
            last_login_ms: self.last_login_ms,
            created_ms: self.created_ms,
            groups: owned(self.groups),
            device_ids: owned(self.device_ids),
        })
    }
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct LiftedMfaDevice {
    #[component(name = "device-id")]
    device_id: WasmStr,
    kind: WasmStr,
    platform: Option<WasmStr>,
    model: Option<WasmStr>,
    #[component(name = "os-version")]
    os_version: Option<WasmStr>,
    activated: bool,
    capabilities: Vec<String>,
    #[component(name = "user-ids")]
    user_ids: Vec<String>,
    #[component(name = "last-seen-ms")]
    last_seen_ms: Option<i64>,
    #[component(name = "number-hash")]
    number_hash: Option<WasmStr>,
}

impl LiftedMfaDevice {
    fn resolve<'a, S: AsContext>(
        self,
        r: &Resolver<'a, S>,
    ) -> wasmtime::Result<m::MfaDevice<Text<'a>>> {
        Ok(m::MfaDevice {
            device_id: r.text(&self.device_id)?,
            kind: r.text(&self.kind)?,
            platform: r.maybe(&self.platform)?,
            model: r.maybe(&self.model)?,
            os_version: r.maybe(&self.os_version)?,
            activated: self.activated,
            capabilities: owned(self.capabilities),
            user_ids: owned(self.user_ids),
            last_seen_ms: self.last_seen_ms,
            number_hash: r.maybe(&self.number_hash)?,
        })
    }
}
