//! In-memory records. Events are kept compact (indices into tables, no strings) so
//! millions of them fit comfortably; JSON is rendered when a page is served
//! (auth events once, then kept: see `render::RenderedAuthEvents`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Bypass,
    Disabled,
    LockedOut,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Bypass => "bypass",
            UserStatus::Disabled => "disabled",
            UserStatus::LockedOut => "locked out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub realname: String,
    pub email: String,
    pub status: UserStatus,
    pub lockout_reason: Option<&'static str>,
    pub created_s: i64,
    /// Set explicitly for users whose last success predates the generated history.
    pub last_login_s: Option<i64>,
    pub phones: Vec<u32>,
    pub groups: Vec<u8>,
    pub home_city: u8,
    pub ip: u32,
    pub profile: u8,
    pub epkey: String,
    pub webauthn_key: Option<String>,
    pub token_serial: Option<String>,
    pub trusted_endpoint: &'static str,
    pub notes: String,
    /// Deleted (in Duo's trash): gone from every listing and lookup. Kept in
    /// place because events refer to users by index.
    pub deleted: bool,
}

impl User {
    pub fn is_enrolled(&self) -> bool {
        !self.phones.is_empty() || self.webauthn_key.is_some() || self.token_serial.is_some()
    }
}

pub mod caps {
    pub const AUTO: u8 = 1;
    pub const PUSH: u8 = 2;
    pub const SMS: u8 = 4;
    pub const PHONE: u8 = 8;
    pub const MOBILE_OTP: u8 = 16;
    pub const SMARTPHONE: u8 = AUTO | PUSH | SMS | PHONE | MOBILE_OTP;
    pub const NAMES: [(u8, &str); 5] = [
        (AUTO, "auto"),
        (PUSH, "push"),
        (SMS, "sms"),
        (PHONE, "phone"),
        (MOBILE_OTP, "mobile_otp"),
    ];
}

#[derive(Debug, Clone)]
pub struct Phone {
    pub id: String,
    pub number: String,
    pub name: String,
    pub platform: &'static str,
    pub model: &'static str,
    pub kind: &'static str,
    pub activated: bool,
    pub capabilities: u8,
    pub last_seen_s: Option<i64>,
    pub users: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub key: String,
    pub name: String,
}

pub mod flags {
    pub const ENROLLMENT: u8 = 1;
    /// Device-health flags reported as `false` (encryption, firewall).
    pub const UNHEALTHY: u8 = 2;
    /// Device-health flags reported as the string "unknown".
    pub const HEALTH_UNKNOWN: u8 = 4;
    /// `auth_device.ip` is the literal "None" and its location empty (seen in real data).
    pub const AUTH_IP_NONE: u8 = 8;
}

pub const NO_PHONE: u32 = u32::MAX;
pub const NO_CITY: u8 = u8::MAX;
pub const NO_REASON: u8 = u8::MAX;

/// One authentication log event (48 bytes).
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub ms: i64,
    pub txid: u128,
    pub user: u32,
    pub access_ip: u32,
    pub auth_ip: u32,
    pub phone: u32,
    pub app: u16,
    pub access_city: u8,
    pub auth_city: u8,
    pub factor: u8,
    pub result: u8,
    pub reason: u8,
    pub flags: u8,
    pub profile: u8,
}

impl Event {
    pub fn key(&self) -> (i64, u128) {
        (self.ms, self.txid)
    }
}

#[derive(Debug, Clone)]
pub struct AdminEvent {
    pub ms: i64,
    pub action: &'static str,
    pub object: String,
    pub username: String,
    pub description: String,
}

pub fn ip_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}
