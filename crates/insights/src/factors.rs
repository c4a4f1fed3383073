//! Factor strength tiers (insights.md §5.3) and denial-reason groups (§5.4).
//!
//! Duo's `factor` is documented as an enumeration but free text such as
//! "Roaming authenticator (passwordless)" is observed, so unknown values are
//! classified by keyword before falling back to `Unknown`.

use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    PhishingResistant,
    Strong,
    Weak,
    /// The user got in without a second factor.
    None,
    Unknown,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::PhishingResistant => "phishing-resistant",
            Tier::Strong => "strong",
            Tier::Weak => "weak",
            Tier::None => "none",
            Tier::Unknown => "unknown",
        }
    }
}

pub const WEAK_FACTORS: [&str; 3] = ["sms_passcode", "sms_refresh", "phone_call"];

/// Success reasons meaning "let in without MFA" (DUO-13).
pub const NO_MFA_REASONS: [&str; 7] = [
    "allow_unenrolled_user",
    "allow_unenrolled_user_on_trusted_network",
    "allowed_by_policy",
    "bypass_user",
    "trusted_network",
    "trusted_location",
    "remembered_device",
];

pub fn factor_tier(factor: &str) -> Tier {
    match factor {
        "webauthn" | "u2f_token" | "webauthn_roaming" | "webauthn_platform" | "passkey" => {
            Tier::PhishingResistant
        }
        "duo_push"
        | "duo_mobile_passcode"
        | "hardware_token"
        | "yubikey_passcode"
        | "yubikey_code"
        | "digipass_go_7_token"
        | "verified_duo_push" => Tier::Strong,
        "sms_passcode" | "sms_refresh" | "phone_call" => Tier::Weak,
        "bypass_code" | "remembered_device" | "trusted_network" => Tier::None,
        "" | "not_available" | "passcode" => Tier::Unknown,
        other => {
            let f = other.to_ascii_lowercase();
            if [
                "webauthn",
                "u2f",
                "passwordless",
                "authenticator",
                "security key",
                "passkey",
                "touch id",
                "face id",
            ]
            .iter()
            .any(|k| f.contains(k))
            {
                Tier::PhishingResistant
            } else if f.contains("sms") || f.contains("phone call") {
                Tier::Weak
            } else if f.contains("push") || f.contains("token") {
                Tier::Strong
            } else if f.contains("bypass") {
                Tier::None
            } else {
                Tier::Unknown
            }
        }
    }
}

/// The tier implied by the reason alone, when it overrides the factor.
pub fn reason_tier(reason: &str) -> Option<Tier> {
    NO_MFA_REASONS.contains(&reason).then_some(Tier::None)
}

/// Groups of denial reasons for the posture summary.
pub fn denial_group(reason: &str) -> &'static str {
    match reason {
        "user_mistake" | "user_cancelled" | "no_response" | "invalid_passcode"
        | "user_marked_fraud" | "no_keys_pressed" | "call_timed_out" => "user",
        "locked_out" | "user_disabled" => "lockout",
        "endpoint_is_not_trusted"
        | "endpoint_is_not_in_management_system"
        | "endpoint_failed_google_verification"
        | "could_not_determine_if_endpoint_was_trusted"
        | "invalid_device"
        | "rooted_device"
        | "out_of_date"
        | "no_screen_lock"
        | "no_disk_encryption"
        | "no_duo_certificate_present"
        | "touchid_disabled"
        | "version_restricted"
        | "platform_restricted"
        | "software_restricted"
        | "user_provided_invalid_certificate" => "device-health",
        "error" | "" => "error",
        _ => "policy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_catalogue_and_free_text() {
        assert_eq!(factor_tier("duo_push"), Tier::Strong);
        assert_eq!(factor_tier("sms_passcode"), Tier::Weak);
        assert_eq!(factor_tier("bypass_code"), Tier::None);
        assert_eq!(
            factor_tier("Roaming authenticator (passwordless)"),
            Tier::PhishingResistant
        );
        assert_eq!(factor_tier("something new"), Tier::Unknown);
        assert_eq!(reason_tier("bypass_user"), Some(Tier::None));
        assert_eq!(reason_tier("user_approved"), None);
        assert_eq!(denial_group("no_disk_encryption"), "device-health");
        assert_eq!(denial_group("location_restricted"), "policy");
    }
}
