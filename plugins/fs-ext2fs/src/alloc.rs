//! Allocating and freeing blocks and inodes: the bitmaps (through the
//! block cache), and the free and directory counts of the group
//! descriptors and the superblock, kept exact.
//!
//! Blocks are taken near a goal (the block after the file's last one,
//! or the start of its inode's group), searching forward through the
//! groups. A new directory goes to a group with an above-average share
//! of free inodes and the most free blocks; other inodes go to their
//! parent directory's group when it has room. The bitmaps are the
//! truth: a group whose count says it has room but whose bitmap is full
//! is passed over, a block a damaged bitmap offers inside its group's own
//! bitmaps, inode table or superblock copy is refused, and freeing what
//! is already free changes no count.

use crate::bitmap;
use crate::fs::Fs;
use crate::group::GroupDesc;
use crate::le::{set_u32, u16_at, u32_at};
use crate::superblock::off;
use rump_plugin_api::kernel;
use rump_plugin_api::{Errno, KResult};

/// The allocator's state: the superblock's bytes and the group
/// descriptors, with the totals they imply.
pub struct AllocState {
    pub sb: Vec<u8>,
    pub groups: Vec<GroupDesc>,
    pub free_blocks: u64,
    pub free_inodes: u64,
    /// The superblock or descriptors changed since last written.
    pub dirty: bool,
    generation: u32,
}

impl AllocState {
    /// The state of a freshly mounted file system; the totals are the
    /// sums of the groups' counts.
    pub fn new(sb: Vec<u8>, groups: Vec<GroupDesc>) -> AllocState {
        let free_blocks = groups.iter().map(|g| u64::from(g.free_blocks)).sum();
        let free_inodes = groups.iter().map(|g| u64::from(g.free_inodes)).sum();
        let seed = rump_plugin_api::abi::stat::Timespec::now();
        let generation = (seed.sec as u32).wrapping_mul(2_654_435_761) ^ seed.nsec as u32;
        let dirty = u32_at(&sb, off::FREE_BLOCKS) as u64 != free_blocks
            || u64::from(u32_at(&sb, off::FREE_INODES)) != free_inodes;
        AllocState {
            sb,
            groups,
            free_blocks,
            free_inodes,
            dirty,
            generation,
        }
    }

    /// Stores the totals into the superblock's bytes.
    pub fn store_counts(&mut self) {
        let fb = self.free_blocks.min(u64::from(u32::MAX)) as u32;
        let fi = self.free_inodes.min(u64::from(u32::MAX)) as u32;
        set_u32(&mut self.sb, off::FREE_BLOCKS, fb);
        set_u32(&mut self.sb, off::FREE_INODES, fi);
    }

    /// Blocks reserved for the super-user.
    pub fn reserved_blocks(&self) -> u64 {
        u64::from(u32_at(&self.sb, off::R_BLOCKS_COUNT))
    }

    /// Descriptor blocks reserved for growing (resize_inode).
    pub fn reserved_gdt(&self) -> u32 {
        u32::from(u16_at(&self.sb, 206))
    }

    /// A generation number for a new inode.
    pub fn next_generation(&mut self) -> u32 {
        self.generation = self
            .generation
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12345);
        self.generation
    }
}

impl Fs {
    /// Whether block `b` of group `g` holds that group's own metadata.
    fn own_metadata(&self, g: u32, d: &GroupDesc, b: u64) -> bool {
        let first = self.geo.group_first_block(g);
        let sb_end = if self.geo.group_has_super(g) {
            first + 1 + u64::from(self.geo.gdt_blocks)
        } else {
            first
        };
        let itable_end = d.inode_table + u64::from(self.geo.itable_blocks);
        (b >= first && b < sb_end)
            || b == d.block_bitmap
            || b == d.inode_bitmap
            || (b >= d.inode_table && b < itable_end)
    }

    /// Allocates a block near `goal`; ENOSPC if there is none.
    pub fn alloc_block(&self, goal: u64) -> KResult<u64> {
        let geo = &self.geo;
        let mut a = self.alloc.lock();
        if a.free_blocks == 0 {
            return Err(Errno::ENOSPC);
        }
        let goal = if geo.valid_block(goal) {
            goal
        } else {
            geo.first_data_block
        };
        let g0 = geo.group_of_block(goal);
        for k in 0..geo.groups {
            let g = (g0 + k) % geo.groups;
            let d = a.groups[g as usize].clone();
            if d.free_blocks == 0 {
                continue;
            }
            let first = geo.group_first_block(g);
            let nbits = geo.group_blocks(g) as usize;
            let start = if k == 0 { (goal - first) as usize } else { 0 };
            let found = self.cache.modify(d.block_bitmap, |bm| {
                let mut from = start;
                let mut wrapped = false;
                loop {
                    let hit = bitmap::find_clear(bm, from, nbits);
                    match hit {
                        Some(i) if self.own_metadata(g, &d, first + i as u64) => from = i + 1,
                        Some(i) => {
                            bitmap::set(bm, i);
                            return Some(i);
                        }
                        None if !wrapped && start > 0 => {
                            wrapped = true;
                            from = 0;
                        }
                        None => return None,
                    }
                    if wrapped && from >= start {
                        return None;
                    }
                }
            })?;
            if let Some(i) = found {
                let gd = &mut a.groups[g as usize];
                gd.free_blocks = gd.free_blocks.saturating_sub(1);
                a.free_blocks = a.free_blocks.saturating_sub(1);
                a.dirty = true;
                return Ok(first + i as u64);
            }
        }
        Err(Errno::ENOSPC)
    }

    /// Frees block `b` (nothing if it is not a valid block or is free
    /// already).
    pub fn free_block(&self, b: u64) -> KResult<()> {
        let geo = &self.geo;
        if !geo.valid_block(b) {
            kernel::warn(&format!("ext2fs: {}: freeing bad block {b}", self.source));
            return Ok(());
        }
        // Drop any cached copy while the block is still ours.
        self.cache.forget(b);
        let g = geo.group_of_block(b);
        let bit = (b - geo.group_first_block(g)) as usize;
        let mut a = self.alloc.lock();
        let bb = a.groups[g as usize].block_bitmap;
        if self.cache.modify(bb, |bm| bitmap::clear(bm, bit))? {
            let limit = geo.group_blocks(g);
            let gd = &mut a.groups[g as usize];
            gd.free_blocks = (gd.free_blocks + 1).min(limit);
            a.free_blocks = (a.free_blocks + 1).min(geo.blocks_count);
            a.dirty = true;
        } else {
            kernel::warn(&format!("ext2fs: {}: freeing free block {b}", self.source));
        }
        Ok(())
    }

    /// Whether block `b` is marked in use.
    pub fn block_in_use(&self, b: u64) -> KResult<bool> {
        let geo = &self.geo;
        if !geo.valid_block(b) {
            return Ok(false);
        }
        let g = geo.group_of_block(b);
        let bit = (b - geo.group_first_block(g)) as usize;
        let bb = self.alloc.lock().groups[g as usize].block_bitmap;
        self.cache.read(bb, |bm| bitmap::test(bm, bit))
    }

    /// The groups to try for a new inode, best first.
    fn inode_groups(&self, a: &AllocState, parent: u32, dir: bool) -> Vec<u32> {
        let n = self.geo.groups;
        let start = if dir {
            let avg = a.free_inodes / u64::from(n);
            (0..n)
                .filter(|&g| {
                    let d = &a.groups[g as usize];
                    d.free_inodes > 0 && u64::from(d.free_inodes) >= avg
                })
                .max_by_key(|&g| (a.groups[g as usize].free_blocks, u32::MAX - g))
                .unwrap_or(0)
        } else {
            self.geo.group_of_inode(parent.max(1)).min(n - 1)
        };
        (0..n).map(|k| (start + k) % n).collect()
    }

    /// Allocates an inode (for a directory when `dir`) near directory
    /// `parent`; ENOSPC if there is none.
    pub fn alloc_inode(&self, parent: u32, dir: bool) -> KResult<u32> {
        let geo = &self.geo;
        let mut a = self.alloc.lock();
        if a.free_inodes == 0 {
            return Err(Errno::ENOSPC);
        }
        for g in self.inode_groups(&a, parent, dir) {
            let d = &a.groups[g as usize];
            if d.free_inodes == 0 {
                continue;
            }
            let base = g * geo.inodes_per_group;
            // Never hand out a reserved inode, whatever the bitmap says.
            let first = geo
                .first_ino
                .saturating_sub(base + 1)
                .min(geo.inodes_per_group) as usize;
            let nbits = geo.inodes_per_group as usize;
            let found = self.cache.modify(d.inode_bitmap, |bm| {
                let i = bitmap::find_clear(bm, first, nbits)?;
                bitmap::set(bm, i);
                Some(i)
            })?;
            if let Some(i) = found {
                let gd = &mut a.groups[g as usize];
                gd.free_inodes = gd.free_inodes.saturating_sub(1);
                if dir {
                    gd.used_dirs += 1;
                }
                a.free_inodes = a.free_inodes.saturating_sub(1);
                a.dirty = true;
                return Ok(base + i as u32 + 1);
            }
        }
        Err(Errno::ENOSPC)
    }

    /// Frees inode `ino` (a directory when `dir`).
    pub fn free_inode(&self, ino: u32, dir: bool) -> KResult<()> {
        let geo = &self.geo;
        if ino == 0 || ino > geo.inodes_count {
            return Ok(());
        }
        let g = geo.group_of_inode(ino);
        let bit = ((ino - 1) % geo.inodes_per_group) as usize;
        let mut a = self.alloc.lock();
        let ib = a.groups[g as usize].inode_bitmap;
        if self.cache.modify(ib, |bm| bitmap::clear(bm, bit))? {
            let gd = &mut a.groups[g as usize];
            gd.free_inodes = (gd.free_inodes + 1).min(geo.inodes_per_group);
            if dir {
                gd.used_dirs = gd.used_dirs.saturating_sub(1);
            }
            a.free_inodes = (a.free_inodes + 1).min(u64::from(geo.inodes_count));
            a.dirty = true;
        } else {
            kernel::warn(&format!(
                "ext2fs: {}: freeing free inode {ino}",
                self.source
            ));
        }
        Ok(())
    }

    /// A generation number for a new inode.
    pub fn next_generation(&self) -> u32 {
        self.alloc.lock().next_generation()
    }

    /// Turns on the large_file feature (a regular file reached 2 GiB).
    pub fn set_large_file(&self) {
        let mut a = self.alloc.lock();
        let f = u32_at(&a.sb, off::FEATURE_RO_COMPAT);
        let want = f | crate::features::RO_COMPAT_LARGE_FILE;
        if f != want {
            set_u32(&mut a.sb, off::FEATURE_RO_COMPAT, want);
            a.dirty = true;
        }
    }
}
