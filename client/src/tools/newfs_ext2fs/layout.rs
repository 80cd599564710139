//! The shape of a new ext2 file system: block size, groups, inodes per
//! group, where each group's superblock copy, descriptors, bitmaps and
//! inode table go, following newfs_ext2fs(8)'s defaults.
//!
//! Defaults: 1 KiB blocks up to 512 MiB, 4 KiB above; one inode per 8
//! blocks under 4 MiB, per 4 blocks under 512 MiB, per 2 blocks above
//! (`-i` gives bytes per inode instead, `-n` a count); a group covers
//! as many blocks as one bitmap block has bits; a last group too small
//! for its metadata and one data block is dropped.

/// Bytes of a sector, the unit of `-s`.
pub const SECTOR: u64 = 512;
/// The first inode a file may have; 1 to 10 are reserved.
pub const FIRST_INO: u32 = 11;
/// Bytes of a group descriptor.
pub const DESC_SIZE: u64 = 32;

/// What was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// File system size in sectors.
    pub sectors: u64,
    /// Block size (0: the default for the size).
    pub bsize: u32,
    /// Bytes per inode (0: the default).
    pub density: u64,
    /// Number of inodes (0: from the density); wins over `density`.
    pub inodes: u64,
    /// Percentage of blocks reserved for the super-user.
    pub minfree: u32,
    /// Revision: 0 (GOOD_OLD) or 1 (DYNAMIC).
    pub rev: u32,
    /// Inode size (128, or 256 on revision 1).
    pub inode_size: u32,
}

/// Where one group's pieces are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupLayout {
    pub first: u64,
    pub blocks: u64,
    /// Superblock copy and descriptors at `first`.
    pub has_super: bool,
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    /// Blocks taken by all of the above.
    pub overhead: u64,
}

/// The computed file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub bsize: u32,
    pub log_bsize: u32,
    pub blocks: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u64,
    pub groups: u32,
    pub gdt_blocks: u64,
    pub inodes_per_group: u32,
    pub inode_size: u32,
    pub itable_blocks: u64,
    pub reserved_blocks: u64,
    pub rev: u32,
    /// sparse_super: superblock copies only in groups 0, 1 and powers
    /// of 3, 5, 7 (revision 1).
    pub sparse: bool,
    pub group: Vec<GroupLayout>,
}

/// Whether group `g` has a superblock copy with sparse_super.
pub fn sparse_has_super(g: u32) -> bool {
    if g <= 1 {
        return true;
    }
    [3u64, 5, 7].iter().any(|&b| {
        let mut p = b;
        while p < u64::from(g) {
            p *= b;
        }
        p == u64::from(g)
    })
}

impl Layout {
    /// Computes the layout for `p`, or says why it cannot be made.
    pub fn new(p: &Params) -> Result<Layout, String> {
        const MB: u64 = 1 << 20;
        let bytes = p.sectors * SECTOR;
        let bsize = match p.bsize {
            0 if bytes < 512 * MB => 1024,
            0 => 4096,
            b => b,
        };
        if !bsize.is_power_of_two() {
            return Err(format!("block size must be a power of 2, not {bsize}"));
        }
        if !(1024..=65536).contains(&bsize) {
            return Err(format!(
                "block size {bsize} is out of range (1024 to 65536)"
            ));
        }
        if p.rev > 1 {
            return Err(format!("unknown revision {}", p.rev));
        }
        if p.inode_size != 128 && (p.rev == 0 || p.inode_size != 256) {
            return Err(format!(
                "inode size {} is not supported for revision {}",
                p.inode_size, p.rev
            ));
        }
        let bs = u64::from(bsize);
        let first_data_block = u64::from(bsize == 1024);
        let mut blocks = (bytes / bs).min(u64::from(u32::MAX));
        let bpg = bs * 8;
        let ipb = bs / u64::from(p.inode_size);
        let min_blocks = first_data_block + 1 + 1 + 2 + 1 + 2;
        if blocks < min_blocks {
            return Err(format!(
                "file system size {} < minimum size of {}",
                p.sectors,
                min_blocks * bs / SECTOR
            ));
        }
        let mut groups = (blocks - first_data_block).div_ceil(bpg);
        let mut inodes = if p.inodes > 0 {
            p.inodes
        } else if let Some(n) = bytes.checked_div(p.density) {
            n
        } else if bytes < 4 * MB {
            blocks / 8
        } else if bytes < 512 * MB {
            blocks / 4
        } else {
            blocks / 2
        };
        inodes = inodes.max(u64::from(FIRST_INO));
        let sparse = p.rev > 0;
        let has_super = |g: u64| !sparse || sparse_has_super(g as u32);
        // Drop a last group too small for its own metadata and a block.
        loop {
            let gdt = (groups * DESC_SIZE).div_ceil(bs);
            let ipg = Self::per_group(inodes, groups, ipb, bpg);
            let itb = ipg * u64::from(p.inode_size) / bs;
            let last = blocks - first_data_block - bpg * (groups - 1);
            let sb = if has_super(groups - 1) { 1 + gdt } else { 0 };
            if last > sb + 2 + itb {
                break;
            }
            if groups == 1 {
                return Err("file system too small for its inode table".into());
            }
            blocks -= last;
            groups -= 1;
        }
        let gdt_blocks = (groups * DESC_SIZE).div_ceil(bs);
        let ipg = Self::per_group(inodes, groups, ipb, bpg);
        let itable_blocks = ipg * u64::from(p.inode_size) / bs;
        if ipg * groups < u64::from(FIRST_INO) + 1 {
            return Err("too few inodes".into());
        }
        let mut group = Vec::new();
        for g in 0..groups {
            let first = first_data_block + g * bpg;
            let gblocks = (blocks - first).min(bpg);
            let sup = has_super(g);
            let bb = first + if sup { 1 + gdt_blocks } else { 0 };
            group.push(GroupLayout {
                first,
                blocks: gblocks,
                has_super: sup,
                block_bitmap: bb,
                inode_bitmap: bb + 1,
                inode_table: bb + 2,
                overhead: bb + 2 + itable_blocks - first,
            });
        }
        Ok(Layout {
            bsize,
            log_bsize: bsize.trailing_zeros() - 10,
            blocks,
            first_data_block,
            blocks_per_group: bpg,
            groups: groups as u32,
            gdt_blocks,
            inodes_per_group: ipg as u32,
            inode_size: p.inode_size,
            itable_blocks,
            reserved_blocks: blocks * u64::from(p.minfree) / 100,
            rev: p.rev,
            sparse,
            group,
        })
    }

    /// Inodes per group: an even share, in whole inode table blocks and
    /// whole bitmap bytes, at most one bitmap block's bits.
    fn per_group(inodes: u64, groups: u64, ipb: u64, bits: u64) -> u64 {
        let unit = ipb.max(8);
        let want = inodes.div_ceil(groups).div_ceil(unit) * unit;
        want.clamp(unit, bits / unit * unit)
    }

    pub fn inodes(&self) -> u64 {
        u64::from(self.inodes_per_group) * u64::from(self.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sectors: u64) -> Params {
        Params {
            sectors,
            bsize: 0,
            density: 0,
            inodes: 0,
            minfree: 5,
            rev: 1,
            inode_size: 128,
        }
    }

    #[test]
    fn defaults_and_groups() {
        let l = Layout::new(&params(16384)).unwrap(); // 8 MiB
        assert_eq!((l.bsize, l.blocks, l.first_data_block), (1024, 8192, 1));
        assert_eq!((l.groups, l.gdt_blocks), (1, 1));
        assert_eq!(l.inodes_per_group, 2048);
        assert_eq!(l.reserved_blocks, 409);
        let g = &l.group[0];
        assert_eq!((g.block_bitmap, g.inode_bitmap, g.inode_table), (3, 4, 5));
        assert_eq!(g.blocks, 8191);
        let l = Layout::new(&params(3 << 20)).unwrap(); // 1.5 GiB
        assert_eq!((l.bsize, l.groups), (4096, 12));
        assert!(l.group[1].has_super && !l.group[2].has_super && l.group[3].has_super);
        assert_eq!(l.group[2].block_bitmap, l.group[2].first);
    }

    #[test]
    fn small_last_group_is_dropped() {
        let mut p = params(2 * (8193 + 10));
        p.bsize = 1024;
        let l = Layout::new(&p).unwrap();
        assert_eq!(l.groups, 1);
        assert_eq!(l.blocks, 8193);
    }

    #[test]
    fn options() {
        let mut p = params(16384);
        p.inodes = 100;
        assert_eq!(Layout::new(&p).unwrap().inodes_per_group, 104);
        p.inodes = 0;
        p.density = 65536;
        assert_eq!(Layout::new(&p).unwrap().inodes_per_group, 128);
        p.bsize = 3000;
        assert!(Layout::new(&p).is_err());
        p.bsize = 2048;
        p.rev = 0;
        p.inode_size = 256;
        assert!(Layout::new(&p).is_err());
        assert!(Layout::new(&params(10)).is_err());
        assert!(sparse_has_super(49) && !sparse_has_super(50));
    }
}
