//! Collection leases: while one is held, no other process sharing the
//! database collects the integration (scheduled, Collect Now or the CLI's
//! `collect`). The lease lives in the store with an expiry and is renewed
//! while the collection runs, so a process that dies (kill -9) loses it
//! after [`LEASE_TTL`] and another resumes from the committed checkpoint;
//! on the dead process's own machine the next one takes it over at once.

use std::sync::Arc;
use std::time::Duration;

use oort_store::{Backend, Integration, IntegrationId};

use super::{Platform, PlatformError, Result};

/// How long a lease outlives its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(60);

/// Renewed this often, well inside the TTL.
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// A held lease: renewed in the background, released when dropped.
pub struct Lease {
    store: Arc<dyn Backend>,
    integration: IntegrationId,
    owner: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Who holds it, as the store knows it: what fences the collection's
    /// writes (see `RecordStore::commit_fenced`).
    pub(crate) fn holder(&self) -> &str {
        &self.owner
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
        if let Err(e) = self.store.release_lease(self.integration, &self.owner) {
            // It expires by itself; say why it lingers.
            tracing::warn!(integration = self.integration, error = %e, "could not release the collection lease; it expires in {}s", LEASE_TTL.as_secs());
        }
    }
}

impl Platform {
    /// Takes the integration's collection lease for this process, or
    /// refuses (`Conflict`) while another holds it. Needs a tokio runtime
    /// (the renewal runs on it).
    pub(crate) fn lease(&self, integration: &Integration) -> Result<Lease> {
        // Every collection takes a lease first: none starts while disabled.
        crate::settings::ensure_enabled(self.store.as_ref(), integration)?;
        let ttl = LEASE_TTL.as_millis() as i64;
        // Each lease is its own holder: "already ours" (a renewal) must not
        // let a second collection of this process in beside the first.
        let owner = format!("{}.{:08x}", self.owner, rand::random::<u32>());
        if !self
            .store
            .acquire_lease(integration.id, &owner, self.now_ms(), ttl)?
            && !self.take_over_from_the_dead(integration, &owner, ttl)?
        {
            let schedule = self.store.schedule(integration.id)?;
            return Err(PlatformError::Conflict(format!(
                "integration `{}` is being collected by {} (lease until {}); try again when that collection ends",
                integration.name,
                schedule.lease_owner.as_deref().unwrap_or("another process"),
                schedule
                    .lease_expires_ms
                    .map_or("unknown".into(), oort_time::rfc3339_from_ms),
            )));
        }
        let store = self.store.clone();
        let id = integration.id;
        let renewing_owner = owner.clone();
        let renewal = tokio::spawn(async move {
            let mut every = tokio::time::interval(RENEW_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                match store.acquire_lease(id, &renewing_owner, store.now_ms(), ttl) {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(
                            integration = id,
                            "lost the collection lease to another process (this one stalled past its TTL)"
                        );
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(integration = id, error = %e, "could not renew the collection lease")
                    }
                }
            }
        });
        Ok(Lease {
            store: self.store.clone(),
            integration: integration.id,
            owner,
            renewal,
        })
    }
}

impl Platform {
    /// Takes the lease over from a holder that was a process on this
    /// machine which no longer exists (killed mid-run), instead of making
    /// the next `collect` wait out the TTL; `owner` is the new holder.
    /// `false` if the holder may live.
    fn take_over_from_the_dead(
        &self,
        integration: &Integration,
        owner: &str,
        ttl: i64,
    ) -> Result<bool> {
        let Some(holder) = self.store.schedule(integration.id)?.lease_owner else {
            return Ok(false);
        };
        if !Owner::parse(&holder).is_some_and(|o| o.is_gone(&Owner::this_process())) {
            return Ok(false);
        }
        let taken =
            self.store
                .take_over_lease(integration.id, &holder, owner, self.now_ms(), ttl)?;
        if taken {
            tracing::warn!(integration = %integration.name, holder = %holder, "took over the collection lease of a process on this machine that has exited; the collection resumes from its last committed checkpoint");
        }
        Ok(taken)
    }
}

/// Who holds a lease: `host:pid-namespace:pid:random.random`. The first
/// random part makes two platforms in one process two owners, the second
/// two leases of one platform two holders.
#[derive(Debug, PartialEq, Eq)]
struct Owner {
    host: String,
    pid_namespace: String,
    pid: u32,
}

impl Owner {
    fn this_process() -> Owner {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".into());
        // Two containers may share a host name and a data directory but
        // not their process ids: a pid means something only in its namespace.
        let pid_namespace = std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .and_then(|link| {
                let link = link.to_string_lossy().into_owned();
                let inode = link.strip_prefix("pid:[")?.strip_suffix(']')?.to_owned();
                Some(inode)
            })
            .unwrap_or_else(|| "-".into());
        Owner {
            host,
            pid_namespace,
            pid: std::process::id(),
        }
    }

    fn parse(text: &str) -> Option<Owner> {
        let mut parts = text.rsplitn(4, ':');
        let _random = parts.next()?;
        let pid = parts.next()?.parse().ok()?;
        let pid_namespace = parts.next()?.to_owned();
        let host = parts.next()?.to_owned();
        Some(Owner {
            host,
            pid_namespace,
            pid,
        })
    }

    /// Whether this owner was a process that `observer` can tell has
    /// exited: same machine, same pid namespace (a known one), another pid,
    /// and no such process now. Anything unsure counts as alive.
    fn is_gone(&self, observer: &Owner) -> bool {
        self.host == observer.host
            && self.pid_namespace == observer.pid_namespace
            && self.pid_namespace != "-"
            && self.pid != observer.pid
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// This process's name in a lease.
pub(crate) fn owner_id() -> String {
    let me = Owner::this_process();
    let random: u32 = rand::random();
    format!("{}:{}:{}:{random:08x}", me.host, me.pid_namespace, me.pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_reads_back_from_its_lease_name() {
        let name = owner_id();
        let me = Owner::parse(&name).unwrap();
        assert_eq!(me, Owner::this_process());
        assert!(!me.is_gone(&Owner::this_process()), "this process lives");
        assert_eq!(Owner::parse("vm:15479:38234677"), None, "too few parts");
    }

    #[test]
    fn only_an_exited_process_of_this_machine_and_namespace_is_gone() {
        let me = Owner::this_process();
        // A pid above the kernel's maximum (4194304) never exists.
        let exited = Owner {
            pid: 9_999_999,
            ..Owner::this_process()
        };
        assert!(exited.is_gone(&me));
        let elsewhere = Owner {
            host: "other-host".into(),
            ..Owner::parse(&format!("x:{}:9999999:0", me.pid_namespace)).unwrap()
        };
        assert!(
            !elsewhere.is_gone(&me),
            "another machine's pids say nothing"
        );
        let other_namespace = Owner {
            pid_namespace: "1".into(),
            ..Owner::parse(&format!("{}:x:9999999:0", me.host)).unwrap()
        };
        assert!(!other_namespace.is_gone(&me));
        // Our parent is alive.
        let parent = Owner {
            pid: std::os::unix::process::parent_id(),
            ..Owner::this_process()
        };
        assert!(!parent.is_gone(&me));
    }
}
