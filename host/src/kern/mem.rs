//! The kernel memory accountant: every tracked allocation is charged
//! against the `-r` limit.

use netbsd_abi::Errno;
use std::sync::atomic::{AtomicU64, Ordering};

/// Charged bytes and the limit they must stay under.
pub struct MemAccount {
    limit: Option<u64>,
    used: AtomicU64,
}

impl MemAccount {
    /// An accountant with `limit` bytes (`None`: only the host's limit).
    pub fn new(limit: Option<u64>) -> Self {
        MemAccount {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// The limit, if one was set.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Bytes charged now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Charges `bytes`; ENOMEM if that would pass the limit.
    pub fn reserve(&self, bytes: u64) -> Result<(), Errno> {
        let Some(limit) = self.limit else {
            self.used.fetch_add(bytes, Ordering::Relaxed);
            return Ok(());
        };
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| {
                u.checked_add(bytes).filter(|&n| n <= limit)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOMEM)
    }

    /// Returns `bytes` charged earlier.
    pub fn release(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_enforced() {
        let m = MemAccount::new(Some(100));
        assert!(m.reserve(60).is_ok());
        assert_eq!(m.reserve(41), Err(Errno::ENOMEM));
        assert!(m.reserve(40).is_ok());
        m.release(50);
        assert_eq!(m.used(), 50);
        let unlimited = MemAccount::new(None);
        assert!(unlimited.reserve(u64::MAX / 2).is_ok());
    }
}
