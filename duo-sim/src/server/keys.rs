//! The integrations (ikey/skey pairs) the simulated account has, and their grants.

use crate::config::Credentials;
use crate::data::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grants {
    pub read_log: bool,
    pub read_resource: bool,
    pub write_resource: bool,
    pub read_info: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Admin(Grants),
    Auth,
}

#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub ikey: String,
    pub skey: String,
    pub kind: KeyKind,
}

impl KeyEntry {
    pub fn credentials(&self) -> Credentials {
        Credentials {
            ikey: self.ikey.clone(),
            skey: self.skey.clone(),
        }
    }
}

pub struct Keys {
    pub read_only: KeyEntry,
    pub read_write: KeyEntry,
    pub log_only: KeyEntry,
    pub auth: KeyEntry,
}

impl Keys {
    pub fn generate(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0xA5A5_1234_0F0F_9876);
        let mut key = |kind| KeyEntry {
            ikey: rng.duo_id("DI"),
            skey: rng.secret(),
            kind,
        };
        let read = Grants {
            read_log: true,
            read_resource: true,
            write_resource: false,
            read_info: true,
        };
        Keys {
            read_only: key(KeyKind::Admin(read)),
            read_write: key(KeyKind::Admin(Grants {
                write_resource: true,
                ..read
            })),
            log_only: key(KeyKind::Admin(Grants {
                read_log: true,
                ..Grants::default()
            })),
            auth: key(KeyKind::Auth),
        }
    }

    pub fn find(&self, ikey: &str) -> Option<&KeyEntry> {
        [
            &self.read_only,
            &self.read_write,
            &self.log_only,
            &self.auth,
        ]
        .into_iter()
        .find(|k| k.ikey == ikey)
    }
}
