//! `struct statvfs` in the layout of NetBSD 3.0 to 9.0 (2256 bytes), as
//! statvfs1, fstatvfs1 and getvfsstat return it.

use crate::bytes::{Reader, Writer};

pub const ST_WAIT: i32 = 1;
pub const ST_NOWAIT: i32 = 2;
pub const MNT_WAIT: i32 = 1;
pub const MNT_NOWAIT: i32 = 2;
pub const MNT_LAZY: i32 = 3;

/// Length of `f_fstypename`.
pub const VFS_NAMELEN: usize = 32;
/// Length of `f_mntonname` and `f_mntfromname`.
pub const VFS_MNAMELEN: usize = 1024;

/// `struct statvfs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatVfs {
    pub flag: u64,
    pub bsize: u64,
    pub frsize: u64,
    pub iosize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub bresvd: u64,
    pub files: u64,
    pub ffree: u64,
    pub favail: u64,
    pub fresvd: u64,
    pub syncreads: u64,
    pub syncwrites: u64,
    pub asyncreads: u64,
    pub asyncwrites: u64,
    /// `f_fsidx`: two ints.
    pub fsidx: [i32; 2],
    pub fsid: u64,
    pub namemax: u64,
    pub owner: u32,
    pub fstypename: String,
    pub mntonname: String,
    pub mntfromname: String,
}

impl StatVfs {
    pub const SIZE: usize = 2256;

    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; Self::SIZE];
        let mut w = Writer::new(&mut b);
        let words = [
            self.flag,
            self.bsize,
            self.frsize,
            self.iosize,
            self.blocks,
            self.bfree,
            self.bavail,
            self.bresvd,
            self.files,
            self.ffree,
            self.favail,
            self.fresvd,
            self.syncreads,
            self.syncwrites,
            self.asyncreads,
            self.asyncwrites,
        ];
        for (i, v) in words.iter().enumerate() {
            w.u64(i * 8, *v);
        }
        w.i32(128, self.fsidx[0])
            .i32(132, self.fsidx[1])
            .u64(136, self.fsid)
            .u64(144, self.namemax)
            .u32(152, self.owner)
            .cstr(172, VFS_NAMELEN, self.fstypename.as_bytes())
            .cstr(204, VFS_MNAMELEN, self.mntonname.as_bytes())
            .cstr(1228, VFS_MNAMELEN, self.mntfromname.as_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        let s = |off, cap| String::from_utf8_lossy(r.cstr(off, cap)).into_owned();
        StatVfs {
            flag: r.u64(0),
            bsize: r.u64(8),
            frsize: r.u64(16),
            iosize: r.u64(24),
            blocks: r.u64(32),
            bfree: r.u64(40),
            bavail: r.u64(48),
            bresvd: r.u64(56),
            files: r.u64(64),
            ffree: r.u64(72),
            favail: r.u64(80),
            fresvd: r.u64(88),
            syncreads: r.u64(96),
            syncwrites: r.u64(104),
            asyncreads: r.u64(112),
            asyncwrites: r.u64(120),
            fsidx: [r.i32(128), r.i32(132)],
            fsid: r.u64(136),
            namemax: r.u64(144),
            owner: r.u32(152),
            fstypename: s(172, VFS_NAMELEN),
            mntonname: s(204, VFS_MNAMELEN),
            mntfromname: s(1228, VFS_MNAMELEN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let v = StatVfs {
            flag: 0x1000,
            bsize: 4096,
            blocks: 256,
            files: 100,
            namemax: 255,
            fsidx: [0xab02, 0x69ab],
            fsid: 0xab02,
            fstypename: "tmpfs".into(),
            mntonname: "/mnt".into(),
            mntfromname: "tmpfs".into(),
            ..Default::default()
        };
        let b = v.encode();
        assert_eq!(b.len(), 2256);
        assert_eq!(b[32], 0);
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 256);
        assert_eq!(&b[172..178], b"tmpfs\0");
        assert_eq!(&b[204..209], b"/mnt\0");
        assert_eq!(&b[1228..1234], b"tmpfs\0");
        assert_eq!(StatVfs::decode(&b), v);
    }
}
