//! The UFS1/UFS2 (FFSv1/FFSv2) on-disk format as NetBSD lays it out,
//! little-endian: shared by rump.newfs, which writes it, and
//! rump.fsck_ffs, which checks it. Everything read from a disk is
//! untrusted: decoders never panic on short or odd data, and
//! [`sb::Geometry`] checks a superblock before anything is derived
//! from it.

pub(crate) mod bytes;
pub mod cg;
pub mod dinode;
pub mod dir;
pub mod disk;
pub mod sb;

/// Where a superblock may be, in the order they are tried.
pub const SBLOCK_SEARCH: [u64; 4] = [SBLOCK_UFS2, SBLOCK_UFS1, 0, 262_144];
/// UFS1's superblock offset.
pub const SBLOCK_UFS1: u64 = 8192;
/// UFS2's superblock offset.
pub const SBLOCK_UFS2: u64 = 65_536;
/// Bytes reserved for a superblock.
pub const SBLOCKSIZE: usize = 8192;
/// Device sector size the format counts in (DEV_BSIZE).
pub const DEV_BSIZE: u64 = 512;

pub const FS_UFS1_MAGIC: i32 = 0x011954;
pub const FS_UFS2_MAGIC: i32 = 0x19540119;
pub const CG_MAGIC: i32 = 0x090255;

pub const MINBSIZE: u64 = 4096;
pub const MAXBSIZE: u64 = 65_536;
pub const MAXFRAG: u64 = 8;
/// Longest cluster the summary tracks.
pub const FS_MAXCONTIG: u64 = 16;
/// Default minimum free space, percent.
pub const MINFREE: i32 = 5;
/// Expected average file size and files per directory (tuning hints).
pub const AVFILESIZ: i32 = 16_384;
pub const AFPDIR: i32 = 64;

/// `fs_clean`: unmounted cleanly.
pub const FS_ISCLEAN: u8 = 0x01;
/// `fs_old_flags`: the superblock has UFS2's layout of sizes and totals.
pub const FS_FLAGS_UPDATED: u8 = 0x80;
/// `fs_flags` NetBSD knows.
pub const FS_DOSOFTDEP: u32 = 0x002;
pub const FS_DOWAPBL: u32 = 0x100;
pub const FS_DOQUOTA2: u32 = 0x200;
pub const FS_KNOWN_FLAGS: u32 = FS_DOSOFTDEP | FS_DOWAPBL | FS_DOQUOTA2;
/// `fs_old_inodefmt` of 4.4BSD inodes (with typed directory entries).
pub const FS_44INODEFMT: i32 = 2;
/// `fs_old_postblformat` of the dynamic rotational tables.
pub const FS_DYNAMICPOSTBLFMT: i32 = 1;
/// `fs_optim` values.
pub const FS_OPTTIME: i32 = 0;
pub const FS_OPTSPACE: i32 = 1;

/// The root directory's inode; inode 1 marks whiteouts.
pub const ROOTINO: u64 = 2;
pub const WINO: u64 = 1;
/// Direct and indirect block pointers in an inode.
pub const NDADDR: usize = 12;
pub const NIADDR: usize = 3;
/// Directory chunk size: entries never cross one.
pub const DIRBLKSIZ: u64 = 512;
/// `struct csum` bytes.
pub const CSUM_SIZE: u64 = 16;
/// Inode flag of a snapshot file (SF_SNAPSHOT).
pub const SF_SNAPSHOT: u32 = 0x0020_0000;

/// File types in an inode's mode.
pub const IFMT: u16 = 0o170000;
pub const IFIFO: u16 = 0o010000;
pub const IFCHR: u16 = 0o020000;
pub const IFDIR: u16 = 0o040000;
pub const IFBLK: u16 = 0o060000;
pub const IFREG: u16 = 0o100000;
pub const IFLNK: u16 = 0o120000;
pub const IFSOCK: u16 = 0o140000;

/// Directory entry types.
pub const DT_UNKNOWN: u8 = 0;
pub const DT_DIR: u8 = 4;
pub const DT_WHT: u8 = 14;

/// The directory entry type of a mode (IFTODT).
pub fn iftodt(mode: u16) -> u8 {
    ((mode & IFMT) >> 12) as u8
}

/// The two formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ufs {
    /// FFSv1: 128-byte inodes, 32-bit block pointers.
    V1,
    /// FFSv2: 256-byte inodes, 64-bit block pointers.
    V2,
}

impl Ufs {
    /// Bytes per on-disk inode.
    pub fn dinode_size(self) -> usize {
        match self {
            Ufs::V1 => 128,
            Ufs::V2 => 256,
        }
    }

    /// Bytes per block pointer.
    pub fn ptr_size(self) -> usize {
        match self {
            Ufs::V1 => 4,
            Ufs::V2 => 8,
        }
    }

    /// Longest symlink target kept inside the inode.
    pub fn maxsymlinklen(self) -> i32 {
        ((NDADDR + NIADDR) * self.ptr_size()) as i32
    }

    /// Format number as newfs's -O takes it.
    pub fn number(self) -> u32 {
        match self {
            Ufs::V1 => 1,
            Ufs::V2 => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(Ufs::V1.maxsymlinklen(), 60);
        assert_eq!(Ufs::V2.maxsymlinklen(), 120);
        assert_eq!(iftodt(0o040755), DT_DIR);
        assert_eq!(iftodt(0o120777), 10);
    }
}
