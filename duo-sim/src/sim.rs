//! The public handle: start a simulator, read its credentials, steer it from tests.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::sync::oneshot;

use crate::config::{Credentials, Fault, PushAnswer, SimClock, SimConfig};
use crate::data::model::{App, Event};
use crate::data::rng::{Rng, format_uuid};
use crate::data::{self, generate::carrier_ip};
use crate::server::keys::Keys;
use crate::server::pushes::{Pushes, insert_event};
use crate::server::{self, Shared, logs::MAX_DELAY_MS};

/// A running simulator; clones share it. The server stops when the last clone is dropped.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(tx) = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = tx.send(());
        }
    }
}

impl Simulator {
    /// Generates the dataset and serves on 127.0.0.1 with an ephemeral port.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        Self::start_on(config, 0).await
    }

    /// Like `start`, on a chosen port (0 = ephemeral).
    pub async fn start_on(config: SimConfig, port: u16) -> anyhow::Result<Simulator> {
        anyhow::ensure!(
            config.history_days < 180,
            "history_days must be below 180 (Duo only serves the last 180 days); got {}",
            config.history_days
        );
        anyhow::ensure!(
            !config.hostname.is_empty() && !config.hostname.contains(['/', ':']),
            "hostname must be a bare host name like api-1234abcd.duosecurity.com; got {:?}",
            config.hostname
        );
        let clock = SimClock::new(config.clock);
        let now = clock.now_ms();
        let keys = Keys::generate(config.seed);
        let cfg = config.clone();
        let mut ds = tokio::task::spawn_blocking(move || data::generate(&cfg, now))
            .await
            .context("dataset generation panicked")?;
        ds.apps.push(App {
            key: keys.auth.ikey.clone(),
            name: "Oort Verification (Auth API)".into(),
        });
        let auth_app = (ds.apps.len() - 1) as u16;
        let shared = Arc::new(Shared {
            hostname: config.hostname.to_ascii_lowercase(),
            edition: config.edition,
            clock,
            keys,
            data: std::sync::RwLock::new(ds),
            faults: Default::default(),
            pushes: Mutex::new(Pushes::default()),
            rng: Mutex::new(Rng::new(config.seed.wrapping_add(0x0BAD_5EED))),
            requests: Default::default(),
            latency_ms: Default::default(),
            auth_app,
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{port} for the Duo simulator"))?;
        let addr = listener
            .local_addr()
            .context("reading the simulator's bound address")?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "duo-sim server stopped with an error");
            }
        });
        Ok(Simulator {
            inner: Arc::new(Handle {
                shared,
                addr,
                shutdown: Mutex::new(Some(tx)),
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn port(&self) -> u16 {
        self.inner.addr.port()
    }

    pub fn hostname(&self) -> &str {
        &self.shared().hostname
    }

    /// Grant read log + read resource + read information.
    pub fn admin_read_only(&self) -> Credentials {
        self.shared().keys.read_only.credentials()
    }

    /// Read-only grants plus write resource.
    pub fn admin_read_write(&self) -> Credentials {
        self.shared().keys.read_write.credentials()
    }

    pub fn admin_log_only(&self) -> Credentials {
        self.shared().keys.log_only.credentials()
    }

    pub fn auth_api(&self) -> Credentials {
        self.shared().keys.auth.credentials()
    }

    pub fn inject(&self, fault: Fault) {
        self.shared().faults.push(fault);
    }

    pub fn now_ms(&self) -> i64 {
        self.shared().clock.now_ms()
    }

    /// Moves the simulated clock (also works on `Clock::System`, as an offset).
    pub fn advance_clock(&self, ms: i64) {
        self.shared().clock.advance(ms);
    }

    /// Txids of auth events that occurred at least 2 minutes ago: exactly what a
    /// complete collector must have delivered by now.
    pub fn visible_auth_txids(&self) -> BTreeSet<String> {
        let cutoff = self.now_ms() - MAX_DELAY_MS;
        let ds = self.shared().read();
        let end = ds.events.partition_point(|e| e.ms <= cutoff);
        ds.events[..end]
            .iter()
            .map(|e| format_uuid(e.txid))
            .collect()
    }

    /// When the auth event `txid` shows up in the log (it occurred up to
    /// two minutes earlier), if there is such an event.
    pub fn auth_arrival_ms(&self, txid: &str) -> Option<i64> {
        let ds = self.shared().read();
        ds.events
            .iter()
            .find(|e| format_uuid(e.txid) == txid)
            .map(server::logs::arrival_ms)
    }

    /// Total auth events stored, visible or not.
    pub fn auth_event_count(&self) -> usize {
        self.shared().read().events.len()
    }

    /// Adds `n` successful pushes for `username` at `at_ms` (all in the same
    /// millisecond), returning their txids. Panics on an unknown username.
    pub fn add_auth_events(&self, username: &str, at_ms: i64, n: usize) -> Vec<String> {
        let s = self.shared();
        let mut ds = s.write();
        let user = ds
            .users
            .iter()
            .position(|u| u.username == username)
            .unwrap_or_else(|| panic!("add_auth_events: no simulated user named {username:?}"))
            as u32;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let txid = s.rng().uuid();
            let u = &ds.users[user as usize];
            let ev = Event {
                ms: at_ms,
                txid,
                user,
                access_ip: u.ip,
                auth_ip: carrier_ip(usize::from(u.home_city), user),
                phone: u
                    .phones
                    .first()
                    .copied()
                    .unwrap_or(crate::data::model::NO_PHONE),
                app: 0,
                access_city: u.home_city,
                auth_city: u.home_city,
                factor: crate::data::catalog::factor::PUSH,
                result: crate::data::catalog::result::SUCCESS,
                reason: crate::data::catalog::reason::USER_APPROVED,
                flags: 0,
                profile: u.profile,
            };
            insert_event(&mut ds, ev);
            out.push(format_uuid(txid));
        }
        out
    }

    /// How this user answers future pushes (Admin verification and Auth API).
    pub fn set_push_answer(&self, username: &str, answer: PushAnswer) {
        let mut pushes = self
            .shared()
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pushes.answers.insert(username.to_string(), answer);
    }

    /// Admin API verification pushes sent so far.
    pub fn verification_pushes_sent(&self) -> usize {
        self.shared()
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .verifications
            .len()
    }

    /// "active", "bypass", "disabled" or "locked out".
    pub fn user_status(&self, username: &str) -> Option<String> {
        let ds = self.shared().read();
        ds.live_users()
            .find(|u| u.username == username)
            .map(|u| u.status.as_str().to_string())
    }

    /// The Duo user_id (DU…) of a username.
    pub fn user_id(&self, username: &str) -> Option<String> {
        let ds = self.shared().read();
        ds.live_users()
            .find(|u| u.username == username)
            .map(|u| u.id.clone())
    }

    /// Phone ids (DP…) currently associated with a username.
    pub fn user_phone_ids(&self, username: &str) -> Vec<String> {
        let ds = self.shared().read();
        ds.live_users()
            .find(|u| u.username == username)
            .map(|u| {
                u.phones
                    .iter()
                    .map(|&p| ds.phones[p as usize].id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn usernames(&self) -> Vec<String> {
        self.shared()
            .read()
            .live_users()
            .map(|u| u.username.clone())
            .collect()
    }

    /// Deletes a user as `DELETE /admin/v1/users/{id}` does (see
    /// `Dataset::delete_user`); false if there is no such live user.
    pub fn delete_user(&self, username: &str) -> bool {
        let mut ds = self.shared().write();
        match ds.find_user(|u| u.username == username) {
            Some(i) => {
                ds.delete_user(i);
                true
            }
            None => false,
        }
    }

    /// Usernames planted for an insight, e.g. "DUO-02"; look-alikes under "DUO-02-lookalike".
    pub fn scenario_users(&self, id: &str) -> Vec<String> {
        self.shared()
            .read()
            .scenarios
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    /// Application names planted for the per-application insights (DUO-12, DUO-13).
    pub fn scenario_apps(&self, id: &str) -> Vec<String> {
        self.shared()
            .read()
            .scenario_apps
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    /// Anonymizer (Tor exit) addresses used by the DUO-17 scenario.
    pub fn anonymizer_ips(&self) -> Vec<String> {
        data::scenarios::ANONYMIZER_IPS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// The address that sprays several accounts in the DUO-19 scenario.
    pub fn spray_ip(&self) -> String {
        data::scenarios::SPRAY_IP.to_string()
    }

    /// Requests received (including faulted and rejected ones).
    pub fn request_count(&self) -> u64 {
        self.shared().requests.load(Ordering::SeqCst)
    }

    /// Delays every answer by `ms` from now on, like a real Duo across the
    /// network (tens to hundreds of ms per call); 0 (the default) answers at
    /// once.
    pub fn set_latency_ms(&self, ms: u64) {
        self.shared().latency_ms.store(ms, Ordering::Relaxed);
    }
}
