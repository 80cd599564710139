//! mount(2) and unmount(2) flags, and the argument structures of the file
//! systems: `tmpfs_args`, `ufs_args`, `msdosfs_args`, `iso_args`.

use crate::bytes::{Reader, Writer};

pub const MNT_RDONLY: i32 = 0x0000_0001;
pub const MNT_SYNCHRONOUS: i32 = 0x0000_0002;
pub const MNT_NOEXEC: i32 = 0x0000_0004;
pub const MNT_NOSUID: i32 = 0x0000_0008;
pub const MNT_NODEV: i32 = 0x0000_0010;
pub const MNT_UNION: i32 = 0x0000_0020;
pub const MNT_ASYNC: i32 = 0x0000_0040;
pub const MNT_LOCAL: i32 = 0x0000_1000;
pub const MNT_QUOTA: i32 = 0x0000_2000;
pub const MNT_ROOTFS: i32 = 0x0000_4000;
pub const MNT_NOCOREDUMP: i32 = 0x0000_8000;
pub const MNT_UPDATE: i32 = 0x0001_0000;
pub const MNT_RELATIME: i32 = 0x0002_0000;
pub const MNT_RELOAD: i32 = 0x0004_0000;
pub const MNT_FORCE: i32 = 0x0008_0000;
pub const MNT_IGNORE: i32 = 0x0010_0000;
pub const MNT_GETARGS: i32 = 0x0040_0000;
pub const MNT_LOG: i32 = 0x0200_0000;
pub const MNT_NOATIME: i32 = 0x0400_0000;
pub const MNT_SYMPERM: i32 = 0x2000_0000;
pub const MNT_NODEVMTIME: i32 = 0x4000_0000;
pub const MNT_SOFTDEP: i32 = 0x8000_0000u32 as i32;

/// Flags a mount keeps and statvfs shows (`MNT_VISFLAGMASK`, roughly).
pub const MNT_VISFLAGMASK: i32 = MNT_RDONLY
    | MNT_SYNCHRONOUS
    | MNT_NOEXEC
    | MNT_NOSUID
    | MNT_NODEV
    | MNT_UNION
    | MNT_ASYNC
    | MNT_NOCOREDUMP
    | MNT_IGNORE
    | MNT_NOATIME
    | MNT_SYMPERM
    | MNT_NODEVMTIME
    | MNT_SOFTDEP
    | MNT_LOG
    | MNT_RELATIME
    | MNT_LOCAL
    | MNT_QUOTA
    | MNT_ROOTFS;

/// Largest mount argument block (VFS_MAX_MOUNT_DATA).
pub const VFS_MAX_MOUNT_DATA: usize = 8192;

/// Longest file system type name, NUL included.
pub const MFSNAMELEN: usize = 32;

/// `tmpfs_args` (40 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TmpfsArgs {
    pub version: i32,
    pub nodes_max: u64,
    pub size_max: i64,
    pub root_uid: u32,
    pub root_gid: u32,
    pub root_mode: u32,
}

impl TmpfsArgs {
    pub const SIZE: usize = 40;
    pub const VERSION: i32 = 1;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b)
            .i32(0, self.version)
            .u64(8, self.nodes_max)
            .i64(16, self.size_max)
            .u32(24, self.root_uid)
            .u32(28, self.root_gid)
            .u32(32, self.root_mode);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        TmpfsArgs {
            version: r.i32(0),
            nodes_max: r.u64(8),
            size_max: r.i64(16),
            root_uid: r.u32(24),
            root_gid: r.u32(28),
            root_mode: r.u32(32),
        }
    }
}

/// `ufs_args` (8 bytes): a pointer to the device path.
pub const UFS_ARGS_SIZE: usize = 8;

/// `msdosfs_args` (168 bytes); only the fields a client sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsdosfsArgs {
    pub fspec: u64,
    pub uid: u32,
    pub gid: u32,
    pub mask: u32,
    pub flags: i32,
    pub version: i32,
    pub dirmask: u32,
    pub gmtoff: i32,
}

impl MsdosfsArgs {
    pub const SIZE: usize = 168;
    pub const VERSION: i32 = 3;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b)
            .u64(0, self.fspec)
            .u32(136, self.uid)
            .u32(140, self.gid)
            .u32(144, self.mask)
            .i32(148, self.flags)
            .i32(152, self.version)
            .u32(156, self.dirmask)
            .i32(160, self.gmtoff);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        MsdosfsArgs {
            fspec: r.u64(0),
            uid: r.u32(136),
            gid: r.u32(140),
            mask: r.u32(144),
            flags: r.i32(148),
            version: r.i32(152),
            dirmask: r.u32(156),
            gmtoff: r.i32(160),
        }
    }
}

/// `iso_args` (144 bytes): the device path's address, an unused `struct
/// export_args30` (bytes 8 to 136) and ISOFSMNT_* flags at 136.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsoArgs {
    pub fspec: u64,
    pub flags: i32,
}

impl IsoArgs {
    pub const SIZE: usize = 144;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b).u64(0, self.fspec).i32(136, self.flags);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        IsoArgs {
            fspec: r.u64(0),
            flags: r.i32(136),
        }
    }
}

/// cd9660: ignore Rock Ridge.
pub const ISOFSMNT_NORRIP: i32 = 0x01;
/// cd9660: show version numbers (`;1`) and keep every version.
pub const ISOFSMNT_GENS: i32 = 0x02;
/// cd9660: take modes and owners from extended attribute records.
pub const ISOFSMNT_EXTATT: i32 = 0x04;
/// cd9660: ignore Joliet.
pub const ISOFSMNT_NOJOLIET: i32 = 0x08;
/// cd9660: keep plain ISO 9660 names in upper case.
pub const ISOFSMNT_NOCASETRANS: i32 = 0x10;
/// cd9660: match Rock Ridge names without regard to case.
pub const ISOFSMNT_RRCASEINS: i32 = 0x20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_args_layout() {
        let a = TmpfsArgs {
            version: 1,
            nodes_max: 100,
            size_max: 1 << 20,
            root_mode: 0o1777,
            ..Default::default()
        };
        let b = a.encode();
        assert_eq!(b[0], 1);
        assert_eq!(b[8], 100);
        assert_eq!(&b[32..34], &[0xff, 0x03]);
        assert_eq!(TmpfsArgs::decode(&b), a);
    }

    #[test]
    fn iso_args_layout() {
        let a = IsoArgs {
            fspec: 0x1122_3344_5566_7788,
            flags: ISOFSMNT_NORRIP | ISOFSMNT_RRCASEINS,
        };
        let b = a.encode();
        assert_eq!(b.len(), 144);
        assert_eq!(&b[..8], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&b[136..140], &[0x21, 0, 0, 0]);
        assert!(b[8..136].iter().all(|&x| x == 0));
        assert_eq!(IsoArgs::decode(&b), a);
    }
}
