//! What every operation of a mount needs: the device, the geometry (a
//! copy of the superblock taken at mount; its counts are not used), the
//! allocator behind its lock, and the lock that orders read-modify-write
//! cycles on shared inode sectors.

use crate::alloc::Alloc;
use crate::disk::Disk;
use crate::superblock::Superblock;
use parking_lot::Mutex;
use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::kernel;
use rump_plugin_api::{Errno, KResult};

pub struct Core {
    pub disk: Disk,
    pub geo: Superblock,
    pub alloc: Mutex<Alloc>,
    pub itable: Mutex<()>,
}

impl Core {
    /// Checks that fragments `at..at+n` may be file data or metadata.
    pub fn check(&self, at: u64, n: u64) -> KResult<()> {
        if self.geo.data_range_ok(at, n) {
            Ok(())
        } else {
            kernel::warn(&format!("ffs: bad block pointer {at} ({n} fragments)"));
            Err(Errno::EIO)
        }
    }

    /// Reads `len` bytes of fragment `at` onwards.
    pub fn read_frags(&self, at: u64, len: u64) -> KResult<RVec<u8>> {
        self.disk.read(
            self.geo.fsb_bytes(at),
            usize::try_from(len).map_err(|_| Errno::EIO)?,
        )
    }

    pub fn write_frags(&self, at: u64, data: &[u8]) -> KResult<()> {
        self.disk.write(self.geo.fsb_bytes(at), data)
    }

    /// Entry `i` of an indirect block.
    pub fn ptr_at(&self, blk: &[u8], i: u64) -> u64 {
        let i = i as usize;
        if self.geo.ufs2 {
            crate::le::u64_at(blk, i * 8)
        } else {
            u64::from(crate::le::u32_at(blk, i * 4))
        }
    }

    pub fn set_ptr(&self, blk: &mut [u8], i: u64, v: u64) {
        let i = i as usize;
        if self.geo.ufs2 {
            crate::le::put_u64(blk, i * 8, v);
        } else {
            crate::le::put_u32(blk, i * 4, v as u32);
        }
    }

    pub fn bsize(&self) -> u64 {
        u64::from(self.geo.bsize)
    }

    pub fn fsize(&self) -> u64 {
        u64::from(self.geo.fsize)
    }

    pub fn frag(&self) -> u64 {
        u64::from(self.geo.frag)
    }

    /// The largest file the format (and this file system) can hold.
    pub fn max_file_size(&self) -> u64 {
        let n = u64::from(self.geo.nindir);
        let blocks = 12u64
            .saturating_add(n)
            .saturating_add(n.saturating_mul(n))
            .saturating_add(n.saturating_mul(n).saturating_mul(n));
        let by_tree = blocks.saturating_mul(self.bsize()).saturating_sub(1);
        let sb = if self.geo.maxfilesize == 0 {
            u64::MAX
        } else {
            self.geo.maxfilesize
        };
        by_tree.min(sb).min(i64::MAX as u64)
    }
}
