//! A temporary data directory with an open [`Platform`] and the misbehaving
//! plugin installed.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oort_platform::SandboxLimits;
use oort_platform::data::SecretValue;
use oort_platform::{AddIntegration, Platform, PlatformError, Requester};
use oort_store::prelude::*;
use oort_store::{InstalledPlugin, Integration, Store};
use oort_time::{Clock, SystemClock};
use tempfile::TempDir;

/// The tenant the tests create integrations in.
pub const TENANT: &str = "default";

/// The misbehaving plugin's component, built by `build.rs`.
pub fn misbehaving_wasm() -> PathBuf {
    PathBuf::from(env!("OORT_TEST_PLUGIN_WASM"))
}

/// Short deadlines and a small memory cap, so the hostile modes are stopped
/// quickly. Generous enough for a loaded 2-core machine: a well-behaved run
/// needs a few milliseconds.
pub fn sandbox_limits() -> SandboxLimits {
    SandboxLimits {
        memory_bytes: 16 << 20,
        validate_timeout: Duration::from_secs(20),
        test_timeout: Duration::from_secs(5),
        collect_timeout: Duration::from_secs(5),
        action_timeout: Duration::from_secs(5),
        // Under the deadlines: a spinning plugin is stopped by its CPU
        // budget, one waiting on the host by its deadline.
        collect_cpu: Duration::from_secs(2),
        call_cpu: Duration::from_secs(2),
        max_invocations_per_tenant: 8,
        max_requests_per_second_per_tenant: 50,
        max_http_requests: 25,
        max_response_bytes: 1 << 20,
        max_transfer_bytes: 16 << 20,
    }
}

/// Limits for the Duo tests: nothing should be stopped by the sandbox, even
/// on a slow machine.
pub fn duo_limits() -> SandboxLimits {
    SandboxLimits {
        collect_timeout: Duration::from_secs(300),
        test_timeout: Duration::from_secs(120),
        action_timeout: Duration::from_secs(120),
        validate_timeout: Duration::from_secs(60),
        ..SandboxLimits::default()
    }
}

/// How to set up one misbehaving integration.
#[derive(Debug, Clone)]
pub struct MisbehavingSpec {
    pub tenant: String,
    pub name: String,
    pub mode: String,
    pub token: String,
    pub api_hostname: String,
    pub count: Option<u32>,
    pub api_base_url: Option<String>,
    pub granted_capabilities: Vec<String>,
}

impl MisbehavingSpec {
    pub fn new(name: &str, mode: &str, token: &str) -> MisbehavingSpec {
        MisbehavingSpec {
            tenant: TENANT.into(),
            name: name.into(),
            mode: mode.into(),
            token: token.into(),
            // A reserved name (RFC 2606): nothing real is ever reached.
            api_hostname: "api.oort-test.invalid".into(),
            count: None,
            api_base_url: None,
            granted_capabilities: Vec::new(),
        }
    }

    pub fn request(&self) -> AddIntegration {
        let mut config = vec![
            ("api_hostname".to_string(), self.api_hostname.clone()),
            ("mode".to_string(), self.mode.clone()),
        ];
        if let Some(count) = self.count {
            config.push(("count".into(), count.to_string()));
        }
        AddIntegration {
            tenant: self.tenant.clone(),
            name: self.name.clone(),
            plugin_id: "misbehaving".into(),
            config,
            secrets: vec![(
                "token".into(),
                SecretValue::new(self.token.as_bytes().to_vec()),
            )],
            api_base_url: self.api_base_url.clone(),
            granted_capabilities: self.granted_capabilities.clone(),
        }
    }
}

pub struct TestEnv {
    /// Kept so the directory lives as long as the platform.
    pub dir: TempDir,
    pub platform: Platform,
    store: OnceLock<Store>,
}

impl TestEnv {
    /// A fresh data directory opened with [`sandbox_limits`].
    pub fn open() -> TestEnv {
        TestEnv::open_with(sandbox_limits())
    }

    pub fn open_with(limits: SandboxLimits) -> TestEnv {
        TestEnv::open_at(limits, Arc::new(SystemClock))
    }

    /// [`TestEnv::open_with`] on `clock`'s time.
    pub fn open_at(limits: SandboxLimits, clock: Arc<dyn Clock>) -> TestEnv {
        let dir = tempfile::tempdir().expect("create a temporary data directory");
        let platform = Platform::open_with_clock(dir.path(), limits, clock)
            .unwrap_or_else(|e| panic!("open the platform in {}: {e:#}", dir.path().display()));
        TestEnv {
            dir,
            platform,
            store: OnceLock::new(),
        }
    }

    /// A second handle on the platform's database, to check what operations
    /// wrote (the platform hands out no store); opened on first use.
    pub fn store(&self) -> &Store {
        self.store.get_or_init(|| {
            Store::open(self.dir.path()).expect("open the platform's store for reading")
        })
    }

    /// Installs the misbehaving plugin (idempotent).
    pub fn install_misbehaving(&self) -> InstalledPlugin {
        self.platform
            .install_plugin(&Requester::local("tests"), &misbehaving_wasm())
            .unwrap_or_else(|e| panic!("install the misbehaving plugin: {e}"))
    }

    /// Installs the misbehaving plugin if needed and adds one integration.
    pub async fn add_misbehaving(
        &self,
        spec: MisbehavingSpec,
    ) -> Result<Integration, PlatformError> {
        if self
            .store()
            .plugin("misbehaving")
            .expect("read plugins")
            .is_none()
        {
            self.install_misbehaving();
        }
        self.platform
            .add_integration(&Requester::local("tests"), spec.request())
            .await
    }

    /// Like [`TestEnv::add_misbehaving`], panicking on failure.
    pub async fn misbehaving(&self, name: &str, mode: &str, token: &str) -> Integration {
        self.add_misbehaving(MisbehavingSpec::new(name, mode, token))
            .await
            .unwrap_or_else(|e| panic!("add misbehaving integration `{name}` ({mode}): {e}"))
    }
}
