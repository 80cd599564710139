//! Extended attribute blocks (`ext_attr`): this implementation keeps
//! attributes as they are but must drop an inode's reference to its
//! attribute block when the inode is freed. A block shared by several
//! inodes counts them in its header; the last one frees it.

use crate::dinode::Dinode;
use crate::fs::Fs;
use crate::le::{set_u32, u32_at};
use rump_plugin_api::kernel;
use rump_plugin_api::KResult;

/// The magic number at the start of an attribute block.
const MAGIC: u32 = 0xea02_0000;
const REFCOUNT: usize = 4;

/// Drops `d`'s reference to its attribute block, if it has one.
pub fn release(fs: &Fs, d: &mut Dinode) -> KResult<()> {
    let b = d.file_acl();
    if b == 0 {
        return Ok(());
    }
    d.set_file_acl(0);
    let per_block = u64::from(fs.geo.bsize / 512);
    d.set_sectors(d.blocks_raw().saturating_sub(per_block));
    if !fs.geo.valid_block(b) {
        kernel::warn(&format!("ext2fs: {}: bad attribute block {b}", fs.source));
        return Ok(());
    }
    let last = fs.cache.modify(b, |blk| {
        if u32_at(blk, 0) != MAGIC {
            return None;
        }
        let n = u32_at(blk, REFCOUNT);
        if n > 1 {
            set_u32(blk, REFCOUNT, n - 1);
            Some(false)
        } else {
            Some(true)
        }
    })?;
    match last {
        Some(true) => fs.free_block(b),
        Some(false) => Ok(()),
        None => {
            kernel::warn(&format!("ext2fs: {}: bad attribute block {b}", fs.source));
            Ok(())
        }
    }
}
