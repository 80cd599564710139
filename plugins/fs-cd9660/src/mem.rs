//! Memory accounting: what a mount keeps (its state, every loaded node
//! with its extents and link target, and the directory listings it
//! caches) is charged to the kernel's memory accountant (the `-r` limit)
//! while it is kept.
//!
//! | what | bytes |
//! |---|---|
//! | a mount | [`MOUNT_COST`] |
//! | a node | [`NODE_COST`], plus [`EXTENT_COST`] per extent and the link target |
//! | a cached listing | 128 per entry plus its names (see [`crate::dircache`]) |
//!
//! A charge the kernel refuses fails with ENOMEM. Outside a kernel (unit
//! tests) nothing is charged.

use rump_plugin_api::{Errno, KResult};

/// What a mount's own state costs.
pub const MOUNT_COST: u64 = 512;
/// What one loaded node costs, besides its extents and link target.
pub const NODE_COST: u64 = 256;
/// What one extent of a file costs.
pub const EXTENT_COST: u64 = 32;

/// Bytes charged to the kernel, returned when this is dropped.
#[derive(Debug)]
pub struct Charge {
    bytes: u64,
}

impl Charge {
    /// Charges `bytes`, or fails with ENOMEM.
    pub fn new(bytes: u64) -> KResult<Charge> {
        if let Some(k) = rump_plugin_api::kernel::try_kernel() {
            k.mem_reserve(bytes).map_err(|_| Errno::ENOMEM)?;
        }
        Ok(Charge { bytes })
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some(k) = rump_plugin_api::kernel::try_kernel() {
            k.mem_release(self.bytes);
        }
    }
}
