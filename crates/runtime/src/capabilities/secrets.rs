//! The `secrets` capability. A plugin gets a handle to a secret of its own
//! integration, and only for names its manifest declares as secret fields;
//! the value stays in host memory and the host computes HMACs with it.
//! Plaintext (`reveal`) needs the capability requested by the manifest AND
//! granted by the operator for this integration.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::secrets::{self as wit, Host, HostSecret, Secret, SecretError};
use oort_model::{Capability, FieldType, Manifest, SecretValue};

use super::InvocationState;

/// The `secrets` capability's state for one invocation.
pub struct SecretsState {
    manifest: Arc<Manifest>,
    source: Arc<dyn SecretSource>,
    granted: Vec<String>,
    /// Handles the plugin holds now.
    handles: usize,
}

impl SecretsState {
    pub fn new(
        manifest: Arc<Manifest>,
        source: Arc<dyn SecretSource>,
        granted: Vec<String>,
    ) -> SecretsState {
        SecretsState {
            manifest,
            source,
            granted,
            handles: 0,
        }
    }
}

/// What the `secrets` interface reaches of an invocation: its own state and
/// the resource table holding the handles.
pub struct SecretsView<'a> {
    pub state: &'a mut SecretsState,
    pub table: &'a mut ResourceTable,
}

struct HasSecrets;
impl HasData for HasSecrets {
    type Data<'a> = SecretsView<'a>;
}

/// Links the `secrets` interface over the view `get` returns.
pub fn add_to_linker(
    linker: &mut Linker<InvocationState>,
    get: fn(&mut InvocationState) -> SecretsView<'_>,
) -> anyhow::Result<()> {
    Ok(wit::add_to_linker::<InvocationState, HasSecrets>(
        linker, get,
    )?)
}

/// The table entry behind a `secret` handle: the generated type only names
/// the resource, the host keeps a [`SecretHandle`] under the same index (the
/// table checks the entry's type on every access).
fn entry(handle: &Resource<Secret>) -> Resource<SecretHandle> {
    Resource::new_own(handle.rep())
}

/// The grant name operators use for [`Capability::SecretReveal`].
pub const SECRET_REVEAL: &str = "secret-reveal";

/// Live secret handles one invocation may hold.
const MAX_HANDLES: usize = 256;

/// Where the values of one integration's secrets come from (the platform
/// implements it over its store).
pub trait SecretSource: Send + Sync {
    /// The value of secret field `name`, if set. `Err` is a host failure.
    fn secret(&self, name: &str) -> Result<Option<SecretValue>, String>;
}

/// Secrets that are not stored yet: `validate-config` runs before the
/// integration is created, and must reach them through the same capability.
#[derive(Default, Clone)]
pub struct MemorySecrets(Vec<(String, SecretValue)>);

impl MemorySecrets {
    pub fn new(secrets: Vec<(String, SecretValue)>) -> Self {
        MemorySecrets(secrets)
    }
}

impl SecretSource for MemorySecrets {
    fn secret(&self, name: &str) -> Result<Option<SecretValue>, String> {
        Ok(self
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone()))
    }
}

/// A secret held by the host on behalf of a plugin.
pub struct SecretHandle {
    name: String,
    value: SecretValue,
}

/// Looks up secret `name` for the invocation's integration, enforcing that
/// the manifest declares it as a secret field.
pub fn resolve(
    manifest: &Manifest,
    source: &dyn SecretSource,
    name: &str,
) -> Result<Result<SecretHandle, SecretError>, String> {
    match manifest.field(name) {
        Some(field) if field.field_type == FieldType::Secret => {}
        Some(_) => {
            return Ok(Err(SecretError::NotDeclared(format!(
                "`{name}` is a configuration field but not a secret; read it from the config"
            ))));
        }
        None => {
            return Ok(Err(SecretError::NotDeclared(format!(
                "the manifest declares no secret field `{name}`"
            ))));
        }
    }
    Ok(match source.secret(name)? {
        Some(value) => Ok(SecretHandle {
            name: name.to_string(),
            value,
        }),
        None => Err(SecretError::NotSet(format!(
            "secret `{name}` has no value in this integration"
        ))),
    })
}

/// True if plaintext may be revealed: requested in the manifest and granted.
pub fn may_reveal(manifest: &Manifest, granted: &[String]) -> bool {
    manifest.capabilities.contains(&Capability::SecretReveal)
        && granted.iter().any(|g| g == SECRET_REVEAL)
}

pub fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn hmac_sha512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        Hmac::<sha2::Sha512>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Host for SecretsView<'_> {
    async fn get(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<Secret>, SecretError>> {
        let state = &mut *self.state;
        let resolved =
            resolve(&state.manifest, state.source.as_ref(), &name).map_err(wasmtime::Error::msg)?;
        match resolved {
            Ok(handle) => {
                if state.handles >= MAX_HANDLES {
                    wasmtime::bail!(
                        "plugin holds more than {MAX_HANDLES} secret handles; drop them after use"
                    );
                }
                let resource = self.table.push(handle)?;
                state.handles += 1;
                Ok(Ok(Resource::new_own(resource.rep())))
            }
            Err(e) => Ok(Err(e)),
        }
    }
}

impl HostSecret for SecretsView<'_> {
    async fn name(&mut self, secret: Resource<Secret>) -> wasmtime::Result<String> {
        Ok(self.table.get(&entry(&secret))?.name.clone())
    }

    async fn hmac_sha1(
        &mut self,
        secret: Resource<Secret>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Vec<u8>> {
        Ok(hmac_sha1(
            self.table.get(&entry(&secret))?.value.expose(),
            &data,
        ))
    }

    async fn hmac_sha512(
        &mut self,
        secret: Resource<Secret>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Vec<u8>> {
        Ok(hmac_sha512(
            self.table.get(&entry(&secret))?.value.expose(),
            &data,
        ))
    }

    async fn reveal(
        &mut self,
        secret: Resource<Secret>,
    ) -> wasmtime::Result<Result<String, SecretError>> {
        let handle = self.table.get(&entry(&secret))?;
        if !may_reveal(&self.state.manifest, &self.state.granted) {
            return Ok(Err(SecretError::NotGranted(format!(
                "revealing `{}` needs the `{SECRET_REVEAL}` capability, requested in the manifest and granted by the operator",
                handle.name
            ))));
        }
        Ok(Ok(
            String::from_utf8_lossy(handle.value.expose()).into_owned()
        ))
    }

    async fn drop(&mut self, secret: Resource<Secret>) -> wasmtime::Result<()> {
        self.table.delete(entry(&secret))?;
        self.state.handles = self.state.handles.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_model::ConfigField;

    fn field(name: &str, field_type: FieldType) -> ConfigField {
        ConfigField::new(name, field_type)
    }

    fn manifest(capabilities: Vec<Capability>) -> Manifest {
        Manifest {
            sources: Vec::new(),
            id: "t".into(),
            name: "T".into(),
            version: "1.0.0".into(),
            description: String::new(),
            config: vec![
                field("api_hostname", FieldType::Text),
                field("skey", FieldType::Secret),
                field("other", FieldType::Secret),
            ],
            egress: vec![],
            record_kinds: vec![],
            actions: vec![],
            capabilities,
        }
    }

    fn source() -> MemorySecrets {
        MemorySecrets::new(vec![("skey".into(), SecretValue::new(b"key".to_vec()))])
    }

    #[test]
    fn undeclared_names_are_refused_even_if_a_value_exists() {
        let src = MemorySecrets::new(vec![("undeclared".into(), SecretValue::new(b"x".to_vec()))]);
        let r = resolve(&manifest(vec![]), &src, "undeclared").unwrap();
        assert!(matches!(r, Err(SecretError::NotDeclared(m)) if m.contains("undeclared")));
    }

    #[test]
    fn text_fields_are_not_secrets() {
        let r = resolve(&manifest(vec![]), &source(), "api_hostname").unwrap();
        assert!(matches!(r, Err(SecretError::NotDeclared(m)) if m.contains("not a secret")));
    }

    #[test]
    fn declared_but_unset_is_not_set() {
        let r = resolve(&manifest(vec![]), &source(), "other").unwrap();
        assert!(matches!(r, Err(SecretError::NotSet(_))));
    }

    #[test]
    fn declared_and_set_gives_a_handle() {
        let handle = resolve(&manifest(vec![]), &source(), "skey")
            .unwrap()
            .ok()
            .unwrap();
        assert_eq!(handle.name, "skey");
        assert_eq!(handle.value.expose(), b"key");
    }

    #[test]
    fn reveal_needs_request_and_grant() {
        let granted = vec![SECRET_REVEAL.to_string()];
        assert!(
            !may_reveal(&manifest(vec![]), &granted),
            "granted but not requested"
        );
        assert!(
            !may_reveal(&manifest(vec![Capability::SecretReveal]), &[]),
            "requested but not granted"
        );
        assert!(may_reveal(
            &manifest(vec![Capability::SecretReveal]),
            &granted
        ));
    }

    #[test]
    fn hmacs_match_rfc_2202_and_4231_vectors() {
        // RFC 2202 test case 2 and RFC 4231 test case 2 ("Jefe").
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", data)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex::encode(hmac_sha512(b"Jefe", data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }
}
