//! Recently checked credentials, keyed by a digest of the credentials (never the secret itself),
//! each kept for its own time: bcrypt checks for a minute, token lookups for two seconds (a revoked
//! token stops working within that time).

use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::super::access::Caller;

/// The credential cache's bound.
pub const CREDENTIAL_CACHE_BYTES: u64 = 4 << 20;

#[derive(Clone)]
struct CheckWeight;

impl Weighter<[u8; 32], (Option<Caller>, Instant)> for CheckWeight {
    fn weight(&self, _key: &[u8; 32], value: &(Option<Caller>, Instant)) -> u64 {
        value.0.as_ref().map_or(0, |c| {
            c.name.len()
                + c.packs
                    .patterns()
                    .iter()
                    .map(|p| p.len() + 24)
                    .sum::<usize>()
        }) as u64
            + 96
    }
}

pub struct CredentialCache {
    checks: Cache<[u8; 32], (Option<Caller>, Instant), CheckWeight>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialCache")
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            checks: Cache::with_weighter(10_000, CREDENTIAL_CACHE_BYTES, CheckWeight),
        }
    }
}

impl CredentialCache {
    pub fn bytes(&self) -> u64 {
        self.checks.weight()
    }

    /// A remembered check that has not expired: `Some(None)` means "known invalid".
    pub fn get(&self, key: &[u8; 32]) -> Option<Option<Caller>> {
        self.checks
            .get(key)
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(caller, _)| caller)
    }

    pub fn put(&self, key: [u8; 32], caller: Option<Caller>, ttl: Duration) {
        self.checks.insert(key, (caller, Instant::now() + ttl));
    }
}
