//! What the sandbox reaches of the store: one stored integration's records,
//! checkpoints and secrets, through the traits `oort-runtime` defines. The
//! integration is fixed when the invocation starts; the plugin never names it.

use oort_model::SecretValue;
use oort_model::batch::{CheckedRecords, CommitResult};
use oort_runtime::capabilities::{IntegrationStorage, SecretSource, StorageFailure};
use std::sync::Arc;

use oort_store::{Backend, IntegrationId, StoreError};

pub struct IntegrationAccess {
    pub store: Arc<dyn Backend>,
    pub integration: IntegrationId,
    /// A collection's lease holder: its commits and checkpoints are written
    /// only while it still holds the lease. `None` outside collections.
    pub fence: Option<String>,
}

/// Only the caller's input is the plugin's to fix; everything else is the
/// host's failure (and says so, without the store's internals).
fn failure(e: StoreError) -> StorageFailure {
    match e {
        StoreError::Invalid(why) => StorageFailure::Invalid(why),
        other => StorageFailure::Unavailable(other.to_string()),
    }
}

impl IntegrationStorage for IntegrationAccess {
    fn checkpoint(&self, source: &str) -> Result<Option<String>, StorageFailure> {
        self.store
            .checkpoint(self.integration, source)
            .map_err(failure)
    }

    fn set_checkpoint(&self, source: &str, checkpoint: &str) -> Result<(), StorageFailure> {
        match &self.fence {
            Some(holder) => {
                self.store
                    .set_checkpoint_fenced(self.integration, source, checkpoint, holder)
            }
            None => self
                .store
                .set_checkpoint(self.integration, source, checkpoint),
        }
        .map_err(failure)
    }

    fn commit(
        &self,
        source: &str,
        batch: &CheckedRecords,
        checkpoint: &str,
    ) -> Result<CommitResult, StorageFailure> {
        match &self.fence {
            Some(holder) => {
                self.store
                    .commit_fenced(self.integration, source, batch, checkpoint, holder)
            }
            None => self
                .store
                .commit_checked(self.integration, source, batch, checkpoint),
        }
        .map_err(failure)
    }

    fn write_mark(&self) -> Result<u64, StorageFailure> {
        self.store.write_mark(self.integration).map_err(failure)
    }

    fn prune(&self, kind: &str, mark: u64) -> Result<u64, StorageFailure> {
        let removed = self
            .store
            .prune_records(self.integration, kind, mark)
            .map_err(failure)?;
        tracing::info!(integration = self.integration, %kind, removed, "pruned records not seen again");
        Ok(removed)
    }
}

impl SecretSource for IntegrationAccess {
    fn secret(&self, name: &str) -> Result<Option<SecretValue>, String> {
        self.store
            .secret(self.integration, name)
            .map_err(|e| format!("could not read secret `{name}`: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oort_store::{MasterKey, NewIntegration, Store};

    #[test]
    fn only_refused_input_is_the_plugins_to_fix() {
        assert_eq!(
            failure(StoreError::Invalid("record #1: bad".into())),
            StorageFailure::Invalid("record #1: bad".into())
        );
        for e in [
            StoreError::Unavailable("database is locked".into()),
            StoreError::Corrupt("page 3 unreadable".into()),
            StoreError::NotFound("integration 7".into()),
        ] {
            assert!(matches!(failure(e), StorageFailure::Unavailable(_)));
        }
    }

    #[test]
    fn access_reaches_its_own_integration_only() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Backend> =
            Arc::new(Store::open_with_key(dir.path(), MasterKey::generate()).unwrap());
        let new = |name: &str, secret: &[u8]| NewIntegration {
            tenant: "default".into(),
            name: name.into(),
            plugin_id: "t".into(),
            config: vec![],
            secrets: vec![("skey".into(), SecretValue::new(secret.to_vec()))],
            api_base_url: None,
            granted_capabilities: vec![],
        };
        let a = store.create_integration(&new("a", b"key-a")).unwrap();
        let b = store.create_integration(&new("b", b"key-b")).unwrap();
        let access = IntegrationAccess {
            store: store.clone(),
            integration: a.id,
            fence: None,
        };
        access.set_checkpoint("auth", "cp-a").unwrap();
        assert_eq!(access.checkpoint("auth").unwrap().as_deref(), Some("cp-a"));
        assert_eq!(store.checkpoint(b.id, "auth").unwrap(), None);
        assert_eq!(access.secret("skey").unwrap().unwrap().expose(), b"key-a");
        assert!(matches!(
            access.set_checkpoint("", "cp"),
            Err(StorageFailure::Invalid(ref m)) if m.contains("source")
        ));
    }
}
