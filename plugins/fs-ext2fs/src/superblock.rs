//! The superblock: its fields, the checks an untrusted one must pass
//! before anything else is read, and the geometry it implies (block
//! size, groups, inode table size).
//!
//! The superblock lives at byte 1024 of the device and is 1024 bytes
//! long. It is kept in memory as those bytes; the fields that change
//! while mounted (free counts, state, write time, features, last mount
//! point) are stored back into them before they are written.

use crate::features::{Features, Verdict};
use crate::le::{u16_at, u32_at};

/// Where the superblock is and how long.
pub const SB_OFFSET: u64 = 1024;
pub const SB_SIZE: usize = 1024;
pub const MAGIC: u16 = 0xef53;

/// Byte offsets of the fields used.
pub mod off {
    pub const INODES_COUNT: usize = 0;
    pub const BLOCKS_COUNT: usize = 4;
    pub const R_BLOCKS_COUNT: usize = 8;
    pub const FREE_BLOCKS: usize = 12;
    pub const FREE_INODES: usize = 16;
    pub const FIRST_DATA_BLOCK: usize = 20;
    pub const LOG_BLOCK_SIZE: usize = 24;
    pub const LOG_FRAG_SIZE: usize = 28;
    pub const BLOCKS_PER_GROUP: usize = 32;
    pub const FRAGS_PER_GROUP: usize = 36;
    pub const INODES_PER_GROUP: usize = 40;
    pub const MTIME: usize = 44;
    pub const WTIME: usize = 48;
    pub const MNT_COUNT: usize = 52;
    pub const MAX_MNT_COUNT: usize = 54;
    pub const MAGIC: usize = 56;
    pub const STATE: usize = 58;
    pub const ERRORS: usize = 60;
    pub const MINOR_REV: usize = 62;
    pub const LASTCHECK: usize = 64;
    pub const CHECKINTERVAL: usize = 68;
    pub const CREATOR_OS: usize = 72;
    pub const REV_LEVEL: usize = 76;
    pub const DEF_RESUID: usize = 80;
    pub const DEF_RESGID: usize = 82;
    pub const FIRST_INO: usize = 84;
    pub const INODE_SIZE: usize = 88;
    pub const BLOCK_GROUP_NR: usize = 90;
    pub const FEATURE_COMPAT: usize = 92;
    pub const FEATURE_INCOMPAT: usize = 96;
    pub const FEATURE_RO_COMPAT: usize = 100;
    pub const UUID: usize = 104;
    pub const VOLUME_NAME: usize = 120;
    pub const LAST_MOUNTED: usize = 136;
    pub const LAST_MOUNTED_LEN: usize = 64;
    pub const HASH_SEED: usize = 236;
    pub const DEF_HASH_VERSION: usize = 252;
    pub const MKFS_TIME: usize = 264;
    pub const MIN_EXTRA_ISIZE: usize = 348;
    pub const WANT_EXTRA_ISIZE: usize = 350;
    pub const FLAGS: usize = 352;
}

/// `s_state` bits.
pub const STATE_CLEAN: u16 = 0x0001;
pub const STATE_ERRORS: u16 = 0x0002;

/// The first inode numbers with fixed roles.
pub const ROOT_INO: u32 = 2;
/// The first inode number an old (revision 0) file system may use.
pub const REV0_FIRST_INO: u32 = 11;
/// The inode size of revision 0.
pub const REV0_INODE_SIZE: u32 = 128;
/// Size of a group descriptor without the 64bit feature.
pub const GROUP_DESC_SIZE: u32 = 32;
/// Block sizes understood: 1 KiB to 64 KiB.
pub const MAX_LOG_BLOCK_SIZE: u32 = 6;

/// The fixed shape of a file system, derived from a checked superblock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub rev: u32,
    pub bsize: u32,
    pub log_bsize: u32,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inodes_count: u32,
    pub groups: u32,
    pub inode_size: u32,
    pub first_ino: u32,
    /// Blocks of the inode table of each group.
    pub itable_blocks: u32,
    /// Blocks of the group descriptor table.
    pub gdt_blocks: u32,
    pub features: Features,
    /// What the features allow.
    pub verdict: Verdict,
    /// The `i_extra_isize` given to new inodes (0 for 128-byte inodes).
    pub new_extra_isize: u16,
}

impl Geometry {
    /// Checks the superblock bytes `sb` of a device of `dev_size`
    /// bytes; the reason, in words, if they do not describe a file
    /// system this implementation can read.
    pub fn from_super(sb: &[u8], dev_size: u64) -> Result<Geometry, String> {
        if sb.len() < SB_SIZE {
            return Err("short superblock".into());
        }
        if u16_at(sb, off::MAGIC) != MAGIC {
            return Err("bad magic number: not an ext2 file system".into());
        }
        let rev = u32_at(sb, off::REV_LEVEL);
        if rev > 1 {
            return Err(format!("unsupported revision {rev}"));
        }
        let log_bsize = u32_at(sb, off::LOG_BLOCK_SIZE);
        if log_bsize > MAX_LOG_BLOCK_SIZE {
            return Err(format!("bad block size (log {log_bsize})"));
        }
        let bsize = 1024u32 << log_bsize;
        let blocks_count = u64::from(u32_at(sb, off::BLOCKS_COUNT));
        let first_data_block = u64::from(u32_at(sb, off::FIRST_DATA_BLOCK));
        if first_data_block != u64::from(bsize == 1024) {
            return Err(format!("invalid first data block {first_data_block}"));
        }
        if blocks_count <= first_data_block + 1 {
            return Err(format!("invalid block count {blocks_count}"));
        }
        let bits = bsize * 8;
        let bpg = u32_at(sb, off::BLOCKS_PER_GROUP);
        if bpg < 8 || bpg > bits || bpg % 8 != 0 {
            return Err(format!("invalid blocks per group {bpg}"));
        }
        let ipg = u32_at(sb, off::INODES_PER_GROUP);
        if ipg == 0 || ipg > bits {
            return Err(format!("invalid inodes per group {ipg}"));
        }
        let (inode_size, first_ino) = if rev == 0 {
            (REV0_INODE_SIZE, REV0_FIRST_INO)
        } else {
            (
                u32::from(u16_at(sb, off::INODE_SIZE)),
                u32_at(sb, off::FIRST_INO),
            )
        };
        if inode_size < 128 || !inode_size.is_power_of_two() || inode_size > bsize {
            return Err(format!("invalid inode size {inode_size}"));
        }
        let groups64 = (blocks_count - first_data_block).div_ceil(u64::from(bpg));
        let groups = u32::try_from(groups64).map_err(|_| "too many groups".to_string())?;
        let inodes_count = u32_at(sb, off::INODES_COUNT);
        if u64::from(inodes_count) != u64::from(groups) * u64::from(ipg) {
            return Err(format!(
                "inode count {inodes_count} is not {groups} groups of {ipg}"
            ));
        }
        if first_ino < REV0_FIRST_INO || first_ino > inodes_count {
            return Err(format!("invalid first inode {first_ino}"));
        }
        let need = blocks_count
            .checked_mul(u64::from(bsize))
            .ok_or_else(|| "block count overflows".to_string())?;
        if need > dev_size {
            return Err(format!(
                "file system of {need} bytes is larger than its device ({dev_size} bytes)"
            ));
        }
        let r_blocks = u64::from(u32_at(sb, off::R_BLOCKS_COUNT));
        let free_blocks = u64::from(u32_at(sb, off::FREE_BLOCKS));
        let free_inodes = u32_at(sb, off::FREE_INODES);
        if r_blocks > blocks_count || free_blocks > blocks_count || free_inodes > inodes_count {
            return Err("invalid free or reserved counts".into());
        }
        let gdt_blocks64 =
            (u64::from(groups) * u64::from(GROUP_DESC_SIZE)).div_ceil(u64::from(bsize));
        if first_data_block + 1 + gdt_blocks64 > blocks_count {
            return Err("group descriptors beyond the end".into());
        }
        let itable_blocks = (u64::from(ipg) * u64::from(inode_size)).div_ceil(u64::from(bsize));
        let features = if rev == 0 {
            Features::default()
        } else {
            Features {
                compat: u32_at(sb, off::FEATURE_COMPAT),
                incompat: u32_at(sb, off::FEATURE_INCOMPAT),
                ro_compat: u32_at(sb, off::FEATURE_RO_COMPAT),
            }
        };
        let verdict = features.verdict();
        let new_extra_isize = if inode_size > 128 {
            let max = (inode_size - 128) as u16;
            let want = u16_at(sb, off::WANT_EXTRA_ISIZE).max(u16_at(sb, off::MIN_EXTRA_ISIZE));
            let pick = if want >= 4 && want % 4 == 0 { want } else { 32 };
            pick.min(max)
        } else {
            0
        };
        Ok(Geometry {
            rev,
            bsize,
            log_bsize,
            blocks_count,
            first_data_block,
            blocks_per_group: bpg,
            inodes_per_group: ipg,
            inodes_count,
            groups,
            inode_size,
            first_ino,
            itable_blocks: itable_blocks as u32,
            gdt_blocks: gdt_blocks64 as u32,
            features,
            verdict,
            new_extra_isize,
        })
    }

    /// Block pointers per indirect block.
    pub fn ptrs_per_block(&self) -> u64 {
        u64::from(self.bsize / 4)
    }

    /// The first block of group `g`.
    pub fn group_first_block(&self, g: u32) -> u64 {
        self.first_data_block + u64::from(g) * u64::from(self.blocks_per_group)
    }

    /// How many blocks group `g` has (the last one may be short).
    pub fn group_blocks(&self, g: u32) -> u32 {
        let first = self.group_first_block(g);
        let left = self.blocks_count.saturating_sub(first);
        left.min(u64::from(self.blocks_per_group)) as u32
    }

    /// The group holding block `b` (a valid data block number).
    pub fn group_of_block(&self, b: u64) -> u32 {
        ((b - self.first_data_block) / u64::from(self.blocks_per_group)) as u32
    }

    /// The group holding inode `ino` (1-based).
    pub fn group_of_inode(&self, ino: u32) -> u32 {
        (ino - 1) / self.inodes_per_group
    }

    /// Whether group `g` carries a copy of the superblock and the group
    /// descriptors (every group, or with sparse_super only 0, 1 and the
    /// powers of 3, 5 and 7).
    pub fn group_has_super(&self, g: u32) -> bool {
        if !self
            .features
            .has_ro_compat(crate::features::RO_COMPAT_SPARSE_SUPER)
        {
            return true;
        }
        if g <= 1 {
            return true;
        }
        [3u32, 5, 7].iter().any(|&base| {
            let mut p = base;
            while p < g {
                match p.checked_mul(base) {
                    Some(n) => p = n,
                    None => return false,
                }
            }
            p == g
        })
    }

    /// Whether `b` may hold data: inside the file system, past the boot
    /// block.
    pub fn valid_block(&self, b: u64) -> bool {
        b >= self.first_data_block && b < self.blocks_count
    }

    /// Whether directory entries carry a file type.
    pub fn filetype(&self) -> bool {
        self.features
            .has_incompat(crate::features::INCOMPAT_FILETYPE)
    }

    /// The largest file size: what the block map addresses, what
    /// `i_blocks` (512-byte units in 32 bits) can count, and 2 GiB - 1 on
    /// revision 0.
    pub fn max_file_size(&self) -> u64 {
        if self.rev == 0 {
            return 0x7fff_ffff;
        }
        let n = self.ptrs_per_block();
        let addressable = 12 + n + n * n + n * n * n;
        let by_map = addressable.saturating_mul(u64::from(self.bsize));
        // Data and indirect blocks together must fit in 2^32 sectors;
        // leave room for the indirect blocks (at most one per n data).
        let sectors_per_block = u64::from(self.bsize / 512);
        let by_count = ((1u64 << 32) - 1) / sectors_per_block * n / (n + 1) * u64::from(self.bsize);
        by_map.min(by_count) - 1
    }
}

#[cfg(test)]
pub mod testing {
    //! A minimal valid superblock for unit tests.

    use super::*;
    use crate::le::{set_u16, set_u32};

    /// One group of 1 KiB blocks: 1024 blocks, 128 inodes of 128 bytes.
    pub fn small_super() -> Vec<u8> {
        let mut sb = vec![0u8; SB_SIZE];
        set_u32(&mut sb, off::INODES_COUNT, 128);
        set_u32(&mut sb, off::BLOCKS_COUNT, 1024);
        set_u32(&mut sb, off::FIRST_DATA_BLOCK, 1);
        set_u32(&mut sb, off::BLOCKS_PER_GROUP, 8192);
        set_u32(&mut sb, off::INODES_PER_GROUP, 128);
        set_u16(&mut sb, off::MAGIC, MAGIC);
        set_u32(&mut sb, off::REV_LEVEL, 1);
        set_u32(&mut sb, off::FIRST_INO, 11);
        set_u16(&mut sb, off::INODE_SIZE, 128);
        sb
    }
}

#[cfg(test)]
mod tests {
    use super::testing::small_super;
    use super::*;
    use crate::le::{set_u16, set_u32};

    #[test]
    fn a_small_file_system() {
        let g = Geometry::from_super(&small_super(), 1 << 20).unwrap();
        assert_eq!(
            (g.bsize, g.groups, g.gdt_blocks, g.itable_blocks),
            (1024, 1, 1, 16)
        );
        assert_eq!(g.group_blocks(0), 1023);
        assert_eq!(g.verdict, Verdict::ReadWrite);
        assert!(g.valid_block(1) && !g.valid_block(0) && !g.valid_block(1024));
        assert_eq!(g.max_file_size(), 16_843_020 * 1024 - 1);
    }

    #[test]
    fn bad_superblocks_are_refused() {
        let cases: Vec<(usize, u32, bool)> = vec![
            (off::BLOCKS_COUNT, 5000, false),
            (off::LOG_BLOCK_SIZE, 7, false),
            (off::BLOCKS_PER_GROUP, 0, false),
            (off::INODES_PER_GROUP, 0, false),
            (off::INODES_COUNT, 129, false),
            (off::REV_LEVEL, 2, false),
            (off::FIRST_INO, 3, false),
            (off::FREE_BLOCKS, 2000, false),
            (off::FIRST_DATA_BLOCK, 0, false),
        ];
        for (at, v, _) in cases {
            let mut sb = small_super();
            set_u32(&mut sb, at, v);
            assert!(
                Geometry::from_super(&sb, 1 << 20).is_err(),
                "field at {at} = {v}"
            );
        }
        let mut sb = small_super();
        set_u16(&mut sb, off::INODE_SIZE, 100);
        assert!(Geometry::from_super(&sb, 1 << 20).is_err());
        let mut sb = small_super();
        set_u16(&mut sb, off::MAGIC, 0);
        assert!(Geometry::from_super(&sb, 1 << 20).is_err());
        assert!(Geometry::from_super(&small_super(), 1000 * 1024).is_err());
    }

    #[test]
    fn sparse_super_groups() {
        let mut sb = small_super();
        set_u32(&mut sb, off::FEATURE_RO_COMPAT, 1);
        let g = Geometry::from_super(&sb, 1 << 20).unwrap();
        let with: Vec<u32> = (0..50).filter(|&i| g.group_has_super(i)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49]);
        let plain = Geometry::from_super(&small_super(), 1 << 20).unwrap();
        assert!((0..50).all(|i| plain.group_has_super(i)));
    }
}
