//! Pending pushes (Admin API verification pushes and Auth API transactions), whose
//! outcome each simulated user decides.

use std::collections::HashMap;

use crate::config::PushAnswer;
use crate::data::Dataset;
use crate::data::catalog::{factor, reason, result};
use crate::data::model::Event;

/// Duo push requests expire after 60 s.
pub const PUSH_TIMEOUT_MS: i64 = 60_000;
/// Verification-push results stay readable for 120 s, then 404.
pub const VERIFICATION_TTL_MS: i64 = 120_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Waiting,
    Approved,
    Denied,
    Fraud,
    TimedOut,
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub user: u32,
    pub started: i64,
    pub answer: PushAnswer,
}

impl Pending {
    pub fn outcome(&self, now: i64) -> Outcome {
        match self.answer {
            PushAnswer::Approve => Outcome::Approved,
            PushAnswer::Deny => Outcome::Denied,
            PushAnswer::Fraud => Outcome::Fraud,
            PushAnswer::NoAnswer if now - self.started >= PUSH_TIMEOUT_MS => Outcome::TimedOut,
            PushAnswer::NoAnswer => Outcome::Waiting,
        }
    }
}

#[derive(Default)]
pub struct Pushes {
    pub answers: HashMap<String, PushAnswer>,
    pub verifications: HashMap<String, Pending>,
    pub transactions: HashMap<String, Pending>,
}

impl Pushes {
    pub fn answer_for(&self, username: &str) -> PushAnswer {
        self.answers.get(username).copied().unwrap_or_default()
    }
}

/// Keeps `events` sorted by (ms, txid).
pub fn insert_event(ds: &mut Dataset, ev: Event) {
    let at = ds.events.partition_point(|e| e.key() < ev.key());
    ds.events.insert(at, ev);
}

/// The auth-log record a push produces once the user has (or has not) answered.
pub fn push_event(ds: &Dataset, p: &Pending, app: u16, txid: u128) -> Event {
    let u = &ds.users[p.user as usize];
    let (res, rs, after) = match p.answer {
        PushAnswer::Approve => (result::SUCCESS, reason::USER_APPROVED, 4_000),
        PushAnswer::Deny => (result::DENIED, reason::USER_MISTAKE, 5_000),
        PushAnswer::Fraud => (result::FRAUD, reason::USER_MARKED_FRAUD, 6_000),
        PushAnswer::NoAnswer => (result::DENIED, reason::NO_RESPONSE, PUSH_TIMEOUT_MS),
    };
    Event {
        ms: p.started + after,
        txid,
        user: p.user,
        access_ip: u.ip,
        auth_ip: crate::data::generate::carrier_ip(usize::from(u.home_city), p.user),
        phone: u
            .phones
            .first()
            .copied()
            .unwrap_or(crate::data::model::NO_PHONE),
        app,
        access_city: u.home_city,
        auth_city: u.home_city,
        factor: factor::PUSH,
        result: res,
        reason: rs,
        flags: 0,
        profile: u.profile,
    }
}
