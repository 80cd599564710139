//! Memory a mount keeps (in-core inodes, cached cylinder groups, the
//! summary array) is charged to the kernel's accountant, the `-r`
//! limit; a refused charge is ENOMEM.

use parking_lot::Mutex;
use rump_plugin_api::{mem, KResult};

/// What one in-core inode costs.
pub const INODE_COST: u64 = 512;

/// A mount's account with the kernel.
#[derive(Default)]
pub struct Mem {
    charged: Mutex<u64>,
}

impl Mem {
    pub fn reserve(&self, bytes: u64) -> KResult<()> {
        let mut c = self.charged.lock();
        mem::reserve(bytes)?;
        *c += bytes;
        Ok(())
    }

    pub fn release(&self, bytes: u64) {
        let mut c = self.charged.lock();
        let bytes = bytes.min(*c);
        *c -= bytes;
        mem::release(bytes);
    }

    /// Bytes charged now.
    pub fn charged(&self) -> u64 {
        *self.charged.lock()
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        mem::release(*self.charged.get_mut());
    }
}
