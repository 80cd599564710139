//! Memory accounting: what a mount keeps in memory (cached blocks,
//! in-core inodes, the group descriptor table) is charged to the
//! kernel's memory accountant, the `-r` limit, through [`MemSink`] so
//! that unit tests can stand in for the kernel.

use rump_plugin_api::KResult;
use std::sync::Arc;

/// What one in-core inode costs besides its on-disk bytes.
pub const INODE_OVERHEAD: u64 = 192;
/// What one cached block costs besides its bytes.
pub const BLOCK_OVERHEAD: u64 = 64;

pub use rump_plugin_api::mem::{KernelMem, MemSink};

/// Bytes charged to a sink, returned when dropped.
pub struct Charge {
    sink: Arc<dyn MemSink>,
    bytes: u64,
}

impl Charge {
    /// Charges `bytes`, or fails as the sink does.
    pub fn new(sink: &Arc<dyn MemSink>, bytes: u64) -> KResult<Charge> {
        sink.reserve(bytes)?;
        Ok(Charge {
            sink: sink.clone(),
            bytes,
        })
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.sink.release(self.bytes);
    }
}

#[cfg(test)]
pub mod testing {
    //! A stand-in for the kernel's accountant.

    use super::*;
    use rump_plugin_api::Errno;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Counts what is charged, up to a limit.
    pub struct FakeMem {
        pub used: AtomicU64,
        pub limit: u64,
    }

    impl FakeMem {
        pub fn new(limit: u64) -> Arc<FakeMem> {
            Arc::new(FakeMem {
                used: AtomicU64::new(0),
                limit,
            })
        }

        pub fn used(&self) -> u64 {
            self.used.load(Ordering::SeqCst)
        }
    }

    impl MemSink for FakeMem {
        fn reserve(&self, bytes: u64) -> KResult<()> {
            self.used
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                    u.checked_add(bytes).filter(|&n| n <= self.limit)
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
