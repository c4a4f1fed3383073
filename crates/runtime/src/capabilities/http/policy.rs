//! THE egress decision. A request is allowed only if it is `https`, on the
//! default port, with no userinfo, to a DNS name (never an IP literal) that is
//! exactly the hostname an egress rule's config field names. Everything else
//! is denied with a reason the plugin author can act on.

use url::{Host, Url};

use oort_model::{FieldType, Manifest};

/// The hosts one invocation may reach, derived from manifest + config.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Lower-cased hostnames.
    allowed: Vec<String>,
}

impl EgressPolicy {
    /// Allowed hosts = the values of the text fields named by the manifest's
    /// egress rules in this integration's configuration.
    pub fn from_manifest(manifest: &Manifest, config: &[(String, String)]) -> EgressPolicy {
        let mut allowed = Vec::new();
        for rule in &manifest.egress {
            let is_text = manifest
                .field(&rule.host_field)
                .is_some_and(|f| f.field_type == FieldType::Text);
            if !is_text {
                continue;
            }
            if let Some((_, value)) = config.iter().find(|(name, _)| *name == rule.host_field) {
                let host = value.trim().to_ascii_lowercase();
                if !host.is_empty() && !allowed.contains(&host) {
                    allowed.push(host);
                }
            }
        }
        EgressPolicy { allowed }
    }

    pub fn allowed_hosts(&self) -> &[String] {
        &self.allowed
    }

    /// Parses `url` and decides. `Ok` carries the parsed URL to send.
    pub fn check(&self, url: &str) -> Result<Url, String> {
        let parsed = Url::parse(url)
            .map_err(|e| format!("`{}` is not an absolute URL: {e}", redact(url)))?;
        if parsed.scheme() != "https" {
            return Err(format!(
                "scheme `{}` is not allowed: only https requests are sent",
                parsed.scheme()
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("URLs with user information (`user@host`) are not allowed".into());
        }
        let host = match parsed.host() {
            Some(Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => {
                return Err(format!(
                    "IP address {ip} is not allowed: use the configured hostname"
                ));
            }
            Some(Host::Ipv6(ip)) => {
                return Err(format!(
                    "IP address {ip} is not allowed: use the configured hostname"
                ));
            }
            None => return Err("the URL has no host".into()),
        };
        if let Some(port) = parsed.port() {
            return Err(format!(
                "port {port} is not allowed: only the default https port 443 is"
            ));
        }
        if !self.allowed.contains(&host) {
            return Err(if self.allowed.is_empty() {
                format!(
                    "host `{host}` is not allowed: this integration's configuration names no egress host"
                )
            } else {
                format!(
                    "host `{host}` is not allowed: this integration may only reach {}",
                    self.allowed
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        Ok(parsed)
    }
}

/// The URL without its query, for messages (queries may carry tokens).
fn redact(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    url[..cut].chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::{ConfigField, EgressRule};

    fn field(name: &str, field_type: FieldType) -> ConfigField {
        ConfigField::new(name, field_type)
    }

    fn policy(host: &str) -> EgressPolicy {
        let manifest = Manifest {
            sources: Vec::new(),
            id: "t".into(),
            name: "T".into(),
            version: "1.0.0".into(),
            description: String::new(),
            config: vec![
                field("api_hostname", FieldType::Text),
                field("skey", FieldType::Secret),
            ],
            egress: vec![
                EgressRule {
                    host_field: "api_hostname".into(),
                    purpose: "API".into(),
                },
                // A rule naming a secret field must never widen egress.
                EgressRule {
                    host_field: "skey".into(),
                    purpose: "bogus".into(),
                },
            ],
            record_kinds: vec![],
            actions: vec![],
            capabilities: vec![],
        };
        let config = vec![
            ("api_hostname".to_string(), host.to_string()),
            ("skey".to_string(), "evil.example".to_string()),
        ];
        EgressPolicy::from_manifest(&manifest, &config)
    }

    fn denied(p: &EgressPolicy, url: &str) -> String {
        p.check(url).expect_err(url)
    }

    #[test]
    fn allows_https_to_the_configured_host() {
        let p = policy("api-1234.duosecurity.com");
        let url = p
            .check("https://api-1234.duosecurity.com/admin/v2/logs?limit=1")
            .unwrap();
        assert_eq!(url.path(), "/admin/v2/logs");
        assert!(
            p.check("https://api-1234.duosecurity.com:443/x").is_ok(),
            "explicit default port"
        );
    }

    #[test]
    fn host_comparison_is_case_insensitive() {
        assert!(
            policy("API-1234.DuoSecurity.com")
                .check("https://api-1234.duosecurity.com/")
                .is_ok()
        );
        assert!(
            policy("api-1234.duosecurity.com")
                .check("https://API-1234.DUOSECURITY.COM/")
                .is_ok()
        );
    }

    #[test]
    fn denies_other_hosts() {
        let p = policy("api-1234.duosecurity.com");
        assert!(denied(&p, "https://evil.example/").contains("not allowed"));
        assert!(
            denied(&p, "https://api-1234.duosecurity.com.evil.example/").contains("not allowed")
        );
        assert!(denied(&p, "https://sub.api-1234.duosecurity.com/").contains("not allowed"));
        assert!(denied(&p, "https://duosecurity.com/").contains("not allowed"));
    }

    #[test]
    fn secret_fields_never_name_egress_hosts() {
        assert!(policy("a.example").check("https://evil.example/").is_err());
        assert_eq!(policy("a.example").allowed_hosts(), ["a.example"]);
    }

    #[test]
    fn denies_other_ports_and_schemes() {
        let p = policy("api.example.com");
        assert!(denied(&p, "https://api.example.com:8443/").contains("port 8443"));
        assert!(denied(&p, "http://api.example.com/").contains("only https"));
        assert!(denied(&p, "ftp://api.example.com/").contains("only https"));
        assert!(denied(&p, "/relative/path").contains("not an absolute URL"));
    }

    #[test]
    fn denies_ip_literals() {
        let p = policy("127.0.0.1");
        assert!(denied(&p, "https://127.0.0.1/").contains("IP address"));
        assert!(denied(&p, "https://169.254.169.254/latest/meta-data").contains("IP address"));
        assert!(denied(&p, "https://[::1]/").contains("IP address"));
        assert!(denied(&p, "https://[::ffff:127.0.0.1]/").contains("IP address"));
        // Integer and hex forms are IPv4 literals to the URL parser, too.
        assert!(denied(&p, "https://2130706433/").contains("IP address"));
        assert!(denied(&p, "https://0x7f.1/").contains("IP address"));
    }

    #[test]
    fn denies_trailing_dot_variants() {
        let p = policy("api.example.com");
        assert!(denied(&p, "https://api.example.com./").contains("not allowed"));
    }

    #[test]
    fn denies_userinfo_and_at_sign_tricks() {
        let p = policy("api.example.com");
        assert!(denied(&p, "https://api.example.com@evil.example/").contains("user information"));
        assert!(denied(&p, "https://user:pw@api.example.com/").contains("user information"));
        // `@` in the path is harmless: the host is still the allowed one.
        assert!(p.check("https://api.example.com/a@evil.example").is_ok());
        // A backslash is a path separator for special schemes: host is evil.
        assert!(denied(&p, "https://evil.example\\@api.example.com/").contains("not allowed"));
    }

    #[test]
    fn no_configured_host_denies_everything() {
        let p = policy("");
        assert!(denied(&p, "https://api.example.com/").contains("names no egress host"));
    }

    #[test]
    fn messages_do_not_echo_queries() {
        let msg = denied(&policy("a.example"), "not a url?token=secret");
        assert!(!msg.contains("secret"), "{msg}");
    }
}
