//! On-disk inodes: the UFS1 (128-byte) and UFS2 (256-byte) layouts, and
//! [`Dinode`], the one view of either that the tools work with.

use super::bytes::{layout, Bytes};
use super::{Ufs, NDADDR, NIADDR};

layout! {
    /// `struct ufs1_dinode`.
    pub struct Ufs1Dinode(128) {
        mode: u16 = 0,
        nlink: i16 = 2,
        oldids: [u16; 2] = 4,
        size: u64 = 8,
        atime: i32 = 16,
        atimensec: i32 = 20,
        mtime: i32 = 24,
        mtimensec: i32 = 28,
        ctime: i32 = 32,
        ctimensec: i32 = 36,
        db: [i32; 12] = 40,
        ib: [i32; 3] = 88,
        flags: u32 = 100,
        blocks: u32 = 104,
        gen: i32 = 108,
        uid: u32 = 112,
        gid: u32 = 116,
        modrev: u64 = 120,
    }
}

layout! {
    /// `struct ufs2_dinode`.
    pub struct Ufs2Dinode(256) {
        mode: u16 = 0,
        nlink: i16 = 2,
        uid: u32 = 4,
        gid: u32 = 8,
        blksize: u32 = 12,
        size: u64 = 16,
        blocks: u64 = 24,
        atime: i64 = 32,
        mtime: i64 = 40,
        ctime: i64 = 48,
        birthtime: i64 = 56,
        mtimensec: i32 = 64,
        atimensec: i32 = 68,
        ctimensec: i32 = 72,
        birthnsec: i32 = 76,
        gen: i32 = 80,
        kernflags: u32 = 84,
        flags: u32 = 88,
        extsize: i32 = 92,
        extb: [i64; 2] = 96,
        db: [i64; 12] = 112,
        ib: [i64; 3] = 208,
        modrev: u64 = 232,
        spare: Bytes<16> = 240,
    }
}

/// Where the block pointers (and a short symlink's target) sit.
pub fn addr_area(ufs: Ufs) -> std::ops::Range<usize> {
    match ufs {
        Ufs::V1 => 40..100,
        Ufs::V2 => 112..232,
    }
}

/// An inode of either format, with block pointers widened to 64 bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dinode {
    pub mode: u16,
    pub nlink: i16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// 512-byte sectors held.
    pub blocks: u64,
    pub atime: i64,
    pub atimensec: i32,
    pub mtime: i64,
    pub mtimensec: i32,
    pub ctime: i64,
    pub ctimensec: i32,
    pub birthtime: i64,
    pub birthnsec: i32,
    pub gen: i32,
    pub flags: u32,
    pub db: [i64; NDADDR],
    pub ib: [i64; NIADDR],
    /// The raw pointer area (a short symlink's target lives there).
    pub addr_bytes: Vec<u8>,
}

impl Dinode {
    /// Reads an inode of format `ufs` from the start of `buf`.
    pub fn decode(ufs: Ufs, buf: &[u8]) -> Dinode {
        let area = addr_area(ufs);
        let addr_bytes = buf.get(area).map(<[u8]>::to_vec).unwrap_or_default();
        match ufs {
            Ufs::V1 => {
                let d = Ufs1Dinode::decode(buf);
                Dinode {
                    mode: d.mode,
                    nlink: d.nlink,
                    uid: d.uid,
                    gid: d.gid,
                    size: d.size,
                    blocks: d.blocks.into(),
                    atime: d.atime.into(),
                    atimensec: d.atimensec,
                    mtime: d.mtime.into(),
                    mtimensec: d.mtimensec,
                    ctime: d.ctime.into(),
                    ctimensec: d.ctimensec,
                    birthtime: 0,
                    birthnsec: 0,
                    gen: d.gen,
                    flags: d.flags,
                    db: d.db.map(i64::from),
                    ib: d.ib.map(i64::from),
                    addr_bytes,
                }
            }
            Ufs::V2 => {
                let d = Ufs2Dinode::decode(buf);
                Dinode {
                    mode: d.mode,
                    nlink: d.nlink,
                    uid: d.uid,
                    gid: d.gid,
                    size: d.size,
                    blocks: d.blocks,
                    atime: d.atime,
                    atimensec: d.atimensec,
                    mtime: d.mtime,
                    mtimensec: d.mtimensec,
                    ctime: d.ctime,
                    ctimensec: d.ctimensec,
                    birthtime: d.birthtime,
                    birthnsec: d.birthnsec,
                    gen: d.gen,
                    flags: d.flags,
                    db: d.db,
                    ib: d.ib,
                    addr_bytes,
                }
            }
        }
    }

    /// Writes the inode in format `ufs` at the start of `buf` (block
    /// pointers must fit the format: 32 bits for UFS1).
    pub fn encode(&self, ufs: Ufs, buf: &mut [u8]) {
        match ufs {
            Ufs::V1 => Ufs1Dinode {
                mode: self.mode,
                nlink: self.nlink,
                oldids: [0; 2],
                size: self.size,
                atime: self.atime as i32,
                atimensec: self.atimensec,
                mtime: self.mtime as i32,
                mtimensec: self.mtimensec,
                ctime: self.ctime as i32,
                ctimensec: self.ctimensec,
                db: self.db.map(|b| b as i32),
                ib: self.ib.map(|b| b as i32),
                flags: self.flags,
                blocks: self.blocks as u32,
                gen: self.gen,
                uid: self.uid,
                gid: self.gid,
                modrev: 0,
            }
            .encode(buf),
            Ufs::V2 => Ufs2Dinode {
                mode: self.mode,
                nlink: self.nlink,
                uid: self.uid,
                gid: self.gid,
                blksize: 0,
                size: self.size,
                blocks: self.blocks,
                atime: self.atime,
                mtime: self.mtime,
                ctime: self.ctime,
                birthtime: self.birthtime,
                mtimensec: self.mtimensec,
                atimensec: self.atimensec,
                ctimensec: self.ctimensec,
                birthnsec: self.birthnsec,
                gen: self.gen,
                kernflags: 0,
                flags: self.flags,
                extsize: 0,
                extb: [0; 2],
                db: self.db,
                ib: self.ib,
                modrev: 0,
                spare: Bytes::default(),
            }
            .encode(buf),
        }
    }

    /// The file type bits.
    pub fn ifmt(&self) -> u16 {
        self.mode & super::IFMT
    }

    /// Whether every block pointer is zero.
    pub fn no_addresses(&self) -> bool {
        self.db.iter().chain(&self.ib).all(|&b| b == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_round_trip() {
        let mut d = Dinode {
            mode: 0o100644,
            nlink: 1,
            uid: 5,
            gid: 6,
            size: 123_456,
            blocks: 256,
            mtime: 1_000_000,
            gen: 77,
            ..Dinode::default()
        };
        d.db[0] = 40;
        d.ib[2] = 99;
        for (ufs, len) in [(Ufs::V1, 128), (Ufs::V2, 256)] {
            let mut b = vec![0u8; len];
            d.encode(ufs, &mut b);
            let mut back = Dinode::decode(ufs, &b);
            assert_eq!(back.addr_bytes.len(), addr_area(ufs).len());
            back.addr_bytes.clear();
            assert_eq!(back, d, "{ufs:?}");
        }
        let mut b = vec![0u8; 128];
        d.encode(Ufs::V1, &mut b);
        assert_eq!(&b[40..44], &40i32.to_le_bytes());
        assert_eq!(&b[96..100], &99i32.to_le_bytes());
        let mut neg = b.clone();
        neg[40..44].copy_from_slice(&(-5i32).to_le_bytes());
        assert_eq!(Dinode::decode(Ufs::V1, &neg).db[0], -5);
        assert!(!d.no_addresses());
        assert_eq!(d.ifmt(), 0o100000);
    }
}
