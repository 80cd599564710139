//! Memory accounting: every byte a mount keeps is charged to the kernel's
//! memory accountant (the `-r` limit) and counted against the mount's own
//! limits (`ta_size_max`, `ta_nodes_max`).
//!
//! What is charged, and how much:
//!
//! | what | bytes |
//! |---|---|
//! | a node (file, directory, link, device, fifo, socket) | [`NODE_COST`] = 256 |
//! | a directory entry | [`ENTRY_COST`] = 64, plus the length of its name |
//! | a symbolic link's target | its length |
//! | file data | [`PAGE_SIZE`] = 4096 per allocated page (holes cost nothing) |
//!
//! A reservation that the kernel refuses, or that would take the mount past
//! its size or node limit, fails with ENOSPC and charges nothing. The
//! accounting goes through [`MemSink`] so that tests can stand in for the
//! kernel.

use crate::supply::Supply;
use parking_lot::Mutex;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The unit of file data, of statvfs blocks and of `st_blksize`.
pub const PAGE_SIZE: u64 = 4096;
/// What one node costs.
pub const NODE_COST: u64 = 256;
/// What one directory entry costs, besides its name.
pub const ENTRY_COST: u64 = 64;
/// The size statvfs reports for a mount without a size limit (NetBSD
/// reports the machine's memory; a rump kernel's default is 512 MiB).
pub const UNLIMITED_BYTES: u64 = 512 << 20;

pub use rump_plugin_api::mem::{KernelMem, MemSink};

/// A mount's limits: bytes (`None`: only the kernel's limit applies) and
/// nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub size_max: Option<u64>,
    pub nodes_max: u64,
}

/// What a mount uses and may use, at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub nodes: u64,
    pub limits: Limits,
}

impl Usage {
    /// The bytes in use, rounded up to whole pages.
    pub fn pages(&self) -> u64 {
        self.bytes.div_ceil(PAGE_SIZE)
    }
}

struct State {
    bytes: u64,
    nodes: u64,
    limits: Limits,
    /// Unmounted: everything was returned, nothing more is charged.
    dead: bool,
}

/// One mount's account with the kernel, and the supply of huge extents
/// that its files' pages come from.
pub struct Accountant {
    sink: Arc<dyn MemSink>,
    st: Mutex<State>,
    supply: Supply,
}

impl Accountant {
    pub fn new(sink: Arc<dyn MemSink>, limits: Limits) -> Arc<Accountant> {
        Arc::new(Accountant {
            supply: Supply::new(sink.clone()),
            sink,
            st: Mutex::new(State {
                bytes: 0,
                nodes: 0,
                limits,
                dead: false,
            }),
        })
    }

    fn reserve_inner(&self, bytes: u64, nodes: u64) -> KResult<()> {
        let mut st = self.st.lock();
        if st.dead {
            return Err(Errno::EIO);
        }
        let new_nodes = st.nodes.checked_add(nodes).ok_or(Errno::ENOSPC)?;
        if nodes > 0 && new_nodes > st.limits.nodes_max {
            return Err(Errno::ENOSPC);
        }
        let new_bytes = st.bytes.checked_add(bytes).ok_or(Errno::ENOSPC)?;
        if st.limits.size_max.is_some_and(|max| new_bytes > max) {
            return Err(Errno::ENOSPC);
        }
        // The kernel's accountant is a lock-free counter: calling it with
        // this leaf lock held keeps the two counts in step.
        if bytes > 0 {
            self.sink.reserve(bytes).map_err(|_| Errno::ENOSPC)?;
        }
        st.bytes = new_bytes;
        st.nodes = new_nodes;
        Ok(())
    }

    fn release_inner(&self, bytes: u64, nodes: u64) {
        let mut st = self.st.lock();
        if st.dead {
            return;
        }
        let bytes = bytes.min(st.bytes);
        st.bytes -= bytes;
        st.nodes = st.nodes.saturating_sub(nodes);
        if bytes > 0 {
            self.sink.release(bytes);
        }
    }

    /// Where the mount's huge extents come from.
    pub fn supply(&self) -> &Supply {
        &self.supply
    }

    /// Charges `bytes`, or fails with ENOSPC and charges nothing.
    pub fn reserve(&self, bytes: u64) -> KResult<()> {
        self.reserve_inner(bytes, 0)
    }

    /// Returns `bytes`.
    pub fn release(&self, bytes: u64) {
        self.release_inner(bytes, 0)
    }

    /// Charges a new node of `bytes`, or fails with ENOSPC.
    pub fn reserve_node(&self, bytes: u64) -> KResult<()> {
        self.reserve_inner(bytes, 1)
    }

    /// Returns a node of `bytes`.
    pub fn release_node(&self, bytes: u64) {
        self.release_inner(bytes, 1)
    }

    /// Returns everything (unmount); later releases are no-ops and later
    /// reservations fail.
    pub fn release_all(&self) {
        self.supply.stop();
        let mut st = self.st.lock();
        if st.dead {
            return;
        }
        st.dead = true;
        let bytes = std::mem::take(&mut st.bytes);
        st.nodes = 0;
        if bytes > 0 {
            self.sink.release(bytes);
        }
    }

    /// Whether the mount is gone.
    pub fn is_dead(&self) -> bool {
        self.st.lock().dead
    }

    pub fn usage(&self) -> Usage {
        let st = self.st.lock();
        Usage {
            bytes: st.bytes,
            nodes: st.nodes,
            limits: st.limits,
        }
    }

    /// Changes the limits (a mount update), as NetBSD does: EBUSY if the
    /// mount already uses more nodes, or at least as many bytes (in
    /// pages), than the new limit.
    pub fn set_limits(&self, size_max: Option<Option<u64>>, nodes_max: Option<u64>) -> KResult<()> {
        let mut st = self.st.lock();
        if let Some(n) = nodes_max {
            if n < st.nodes {
                return Err(Errno::EBUSY);
            }
        }
        if let Some(Some(max)) = size_max {
            if st.bytes.div_ceil(PAGE_SIZE) * PAGE_SIZE >= max {
                return Err(Errno::EBUSY);
            }
        }
        if let Some(s) = size_max {
            st.limits.size_max = s;
        }
        if let Some(n) = nodes_max {
            st.limits.nodes_max = n;
        }
        Ok(())
    }
}

/// Bytes charged to an accountant, returned when this is dropped.
pub struct Charge {
    acct: Arc<Accountant>,
    bytes: u64,
}

impl Charge {
    /// Charges `bytes`, or fails with ENOSPC.
    pub fn new(acct: &Arc<Accountant>, bytes: u64) -> KResult<Charge> {
        acct.reserve(bytes)?;
        Ok(Charge {
            acct: acct.clone(),
            bytes,
        })
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.acct.release(self.bytes);
    }
}

/// The charge of a directory entry named `name`.
pub fn entry_cost(name: &[u8]) -> u64 {
    ENTRY_COST + name.len() as u64
}

#[cfg(test)]
pub mod testing {
    //! A stand-in for the kernel's accountant.

    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Counts what is charged, up to an optional limit.
    pub struct FakeMem {
        pub used: AtomicU64,
        pub limit: AtomicU64,
    }

    impl FakeMem {
        pub fn new(limit: Option<u64>) -> Arc<FakeMem> {
            Arc::new(FakeMem {
                used: AtomicU64::new(0),
                limit: AtomicU64::new(limit.unwrap_or(u64::MAX)),
            })
        }

        pub fn used(&self) -> u64 {
            self.used.load(Ordering::SeqCst)
        }
    }

    impl MemSink for FakeMem {
        fn reserve(&self, bytes: u64) -> KResult<()> {
            let limit = self.limit.load(Ordering::SeqCst);
            self.used
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                    u.checked_add(bytes).filter(|&n| n <= limit)
                })
                .map(|_| ())
                .map_err(|_| Errno::ENOMEM)
        }

        fn release(&self, bytes: u64) {
            let prev = self.used.fetch_sub(bytes, Ordering::SeqCst);
            assert!(prev >= bytes, "released more than was charged");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::FakeMem;
    use super::*;

    fn acct(size: Option<u64>, nodes: u64, kernel: Option<u64>) -> (Arc<FakeMem>, Arc<Accountant>) {
        let fake = FakeMem::new(kernel);
        let a = Accountant::new(
            fake.clone(),
            Limits {
                size_max: size,
                nodes_max: nodes,
            },
        );
        (fake, a)
    }

    #[test]
    fn size_limit_and_kernel_limit_give_enospc() {
        let (fake, a) = acct(Some(1000), 10, None);
        a.reserve(600).unwrap();
        assert_eq!(a.reserve(401), Err(Errno::ENOSPC));
        a.reserve(400).unwrap();
        assert_eq!(fake.used(), 1000);
        a.release(1000);
        assert_eq!(fake.used(), 0);

        let (fake, a) = acct(None, 10, Some(100));
        assert_eq!(a.reserve(101), Err(Errno::ENOSPC));
        assert_eq!(a.usage().bytes, 0);
        a.reserve(100).unwrap();
        assert_eq!(fake.used(), 100);
    }

    #[test]
    fn node_limit() {
        let (_, a) = acct(None, 2, None);
        a.reserve_node(NODE_COST).unwrap();
        a.reserve_node(NODE_COST).unwrap();
        assert_eq!(a.reserve_node(NODE_COST), Err(Errno::ENOSPC));
        assert_eq!(a.usage().nodes, 2);
        a.release_node(NODE_COST);
        a.reserve_node(NODE_COST).unwrap();
    }

    #[test]
    fn charges_return_on_drop_and_release_all_returns_everything() {
        let (fake, a) = acct(None, 10, None);
        let c = Charge::new(&a, 70).unwrap();
        assert_eq!(fake.used(), 70);
        drop(c);
        assert_eq!(fake.used(), 0);
        let c = Charge::new(&a, 70).unwrap();
        a.reserve_node(NODE_COST).unwrap();
        a.release_all();
        assert_eq!(fake.used(), 0);
        drop(c);
        assert_eq!(fake.used(), 0);
        assert_eq!(a.reserve(1), Err(Errno::EIO));
    }

    #[test]
    fn limits_can_change_unless_in_use() {
        let (_, a) = acct(Some(1 << 20), 10, None);
        a.reserve_node(5000).unwrap();
        a.reserve_node(5000).unwrap();
        assert_eq!(a.set_limits(None, Some(1)), Err(Errno::EBUSY));
        assert_eq!(a.set_limits(Some(Some(8192)), None), Err(Errno::EBUSY));
        a.set_limits(Some(Some(16384)), Some(2)).unwrap();
        assert_eq!(a.reserve_node(1), Err(Errno::ENOSPC));
        a.set_limits(Some(None), Some(3)).unwrap();
        a.reserve_node(1).unwrap();
    }
}
