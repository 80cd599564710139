//! Charging what a mount keeps in memory (its FAT, its nodes, its table
//! of renamed entries) to the kernel's memory accountant, the `-r` limit.

use rump_plugin_api::{Errno, KResult};

/// What one in-memory node costs.
pub const NODE_COST: u64 = 320;
/// What one remembered file number of a renamed entry costs.
pub const ID_COST: u64 = 64;

fn reserve(bytes: u64) -> KResult<()> {
    match rump_plugin_api::kernel::try_kernel() {
        Some(k) => k.mem_reserve(bytes).map_err(|_| Errno::ENOMEM),
        None => Ok(()),
    }
}

fn release(bytes: u64) {
    if let Some(k) = rump_plugin_api::kernel::try_kernel() {
        k.mem_release(bytes);
    }
}

/// Bytes charged to the kernel, given back when this is dropped.
#[derive(Debug)]
pub struct Charge {
    bytes: u64,
}

impl Charge {
    /// Charges `bytes`, or fails with ENOMEM and charges nothing.
    pub fn new(bytes: u64) -> KResult<Charge> {
        reserve(bytes)?;
        Ok(Charge { bytes })
    }

    /// Charges `more` bytes on top, or fails with ENOMEM.
    pub fn grow(&mut self, more: u64) -> KResult<()> {
        reserve(more)?;
        self.bytes += more;
        Ok(())
    }

    /// Gives back `less` bytes (at most what is charged).
    pub fn shrink(&mut self, less: u64) {
        let less = less.min(self.bytes);
        release(less);
        self.bytes -= less;
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        release(self.bytes);
    }
}
