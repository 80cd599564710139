//! On-disk inodes (`struct ufs1_dinode`, 128 bytes, and `struct
//! ufs2_dinode`, 256 bytes): decoding, encoding and the attributes the
//! VFS sees. Bytes we do not interpret are kept as read.

use crate::le::*;
use crate::superblock::{NDADDR, NIADDR};
use rump_plugin_api::abi::stat::Timespec;

pub const IFMT: u16 = 0o170000;
pub const IFDIR: u16 = 0o040000;
pub const IFREG: u16 = 0o100000;
pub const IFLNK: u16 = 0o120000;
pub const IFBLK: u16 = 0o060000;
pub const IFCHR: u16 = 0o020000;

/// Offset of the block pointers, which hold a fast symlink's target.
pub fn db_offset(ufs2: bool) -> usize {
    if ufs2 {
        112
    } else {
        40
    }
}

/// A decoded inode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dinode {
    pub raw: Vec<u8>,
    pub ufs2: bool,
    pub mode: u16,
    pub nlink: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// 512-byte sectors held, indirect blocks included.
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub birthtime: Timespec,
    pub flags: u32,
    pub gen: u32,
    pub extsize: u32,
    pub extb: [u64; 2],
    pub db: [u64; NDADDR],
    pub ib: [u64; NIADDR],
}

fn ts(sec: i64, nsec: i32) -> Timespec {
    Timespec {
        sec,
        nsec: i64::from(nsec.clamp(0, 999_999_999)),
    }
}

impl Dinode {
    /// A zeroed inode of the given format.
    pub fn empty(ufs2: bool) -> Dinode {
        Dinode::decode(&vec![0u8; if ufs2 { 256 } else { 128 }], ufs2)
    }

    pub fn decode(raw: &[u8], ufs2: bool) -> Dinode {
        let size_bytes = if ufs2 { 256 } else { 128 };
        let mut r = raw.to_vec();
        r.resize(size_bytes, 0);
        let raw = r;
        let p = |o: usize| -> u64 {
            if ufs2 {
                u64_at(&raw, o)
            } else {
                u64::from(u32_at(&raw, o))
            }
        };
        let w = if ufs2 { 8 } else { 4 };
        let dbo = db_offset(ufs2);
        let mut db = [0u64; NDADDR];
        for (i, d) in db.iter_mut().enumerate() {
            *d = p(dbo + w * i);
        }
        let mut ib = [0u64; NIADDR];
        for (i, d) in ib.iter_mut().enumerate() {
            *d = p(dbo + w * (NDADDR + i));
        }
        if ufs2 {
            Dinode {
                mode: u16_at(&raw, 0),
                nlink: u16_at(&raw, 2),
                uid: u32_at(&raw, 4),
                gid: u32_at(&raw, 8),
                size: u64_at(&raw, 16),
                blocks: u64_at(&raw, 24),
                atime: ts(i64_at(&raw, 32), i32_at(&raw, 68)),
                mtime: ts(i64_at(&raw, 40), i32_at(&raw, 64)),
                ctime: ts(i64_at(&raw, 48), i32_at(&raw, 72)),
                birthtime: ts(i64_at(&raw, 56), i32_at(&raw, 76)),
                gen: u32_at(&raw, 80),
                flags: u32_at(&raw, 88),
                extsize: u32_at(&raw, 92),
                extb: [u64_at(&raw, 96), u64_at(&raw, 104)],
                db,
                ib,
                ufs2,
                raw,
            }
        } else {
            Dinode {
                mode: u16_at(&raw, 0),
                nlink: u16_at(&raw, 2),
                size: u64_at(&raw, 8),
                atime: ts(i64::from(i32_at(&raw, 16)), i32_at(&raw, 20)),
                mtime: ts(i64::from(i32_at(&raw, 24)), i32_at(&raw, 28)),
                ctime: ts(i64::from(i32_at(&raw, 32)), i32_at(&raw, 36)),
                birthtime: Timespec::default(),
                flags: u32_at(&raw, 100),
                blocks: u64::from(u32_at(&raw, 104)),
                gen: u32_at(&raw, 108),
                uid: u32_at(&raw, 112),
                gid: u32_at(&raw, 116),
                extsize: 0,
                extb: [0; 2],
                db,
                ib,
                ufs2,
                raw,
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut r = self.raw.clone();
        let ufs2 = self.ufs2;
        let w = if ufs2 { 8 } else { 4 };
        let dbo = db_offset(ufs2);
        let ptrs = self.db.iter().chain(self.ib.iter());
        for (i, &v) in ptrs.enumerate() {
            if ufs2 {
                put_u64(&mut r, dbo + w * i, v);
            } else {
                put_u32(&mut r, dbo + w * i, v as u32);
            }
        }
        put_u16(&mut r, 0, self.mode);
        put_u16(&mut r, 2, self.nlink);
        if ufs2 {
            put_u32(&mut r, 4, self.uid);
            put_u32(&mut r, 8, self.gid);
            put_u64(&mut r, 16, self.size);
            put_u64(&mut r, 24, self.blocks);
            put_i64(&mut r, 32, self.atime.sec);
            put_i64(&mut r, 40, self.mtime.sec);
            put_i64(&mut r, 48, self.ctime.sec);
            put_i64(&mut r, 56, self.birthtime.sec);
            put_i32(&mut r, 64, self.mtime.nsec as i32);
            put_i32(&mut r, 68, self.atime.nsec as i32);
            put_i32(&mut r, 72, self.ctime.nsec as i32);
            put_i32(&mut r, 76, self.birthtime.nsec as i32);
            put_u32(&mut r, 80, self.gen);
            put_u32(&mut r, 88, self.flags);
            put_u32(&mut r, 92, self.extsize);
            put_u64(&mut r, 96, self.extb[0]);
            put_u64(&mut r, 104, self.extb[1]);
        } else {
            put_u64(&mut r, 8, self.size);
            put_i32(&mut r, 16, self.atime.sec as i32);
            put_i32(&mut r, 20, self.atime.nsec as i32);
            put_i32(&mut r, 24, self.mtime.sec as i32);
            put_i32(&mut r, 28, self.mtime.nsec as i32);
            put_i32(&mut r, 32, self.ctime.sec as i32);
            put_i32(&mut r, 36, self.ctime.nsec as i32);
            put_u32(&mut r, 100, self.flags);
            put_u32(&mut r, 104, self.blocks as u32);
            put_u32(&mut r, 108, self.gen);
            put_u32(&mut r, 112, self.uid);
            put_u32(&mut r, 116, self.gid);
        }
        r
    }

    /// The bytes of the block-pointer area (a fast symlink's target).
    pub fn pointer_area(&self) -> &[u8] {
        let o = db_offset(self.ufs2);
        let len = if self.ufs2 { 120 } else { 60 };
        &self.raw[o..o + len]
    }

    /// Stores a fast symlink's target in the block-pointer area.
    pub fn set_pointer_area(&mut self, target: &[u8]) {
        let o = db_offset(self.ufs2);
        let len = if self.ufs2 { 120 } else { 60 };
        let mut area = vec![0u8; len];
        let n = target.len().min(len);
        area[..n].copy_from_slice(&target[..n]);
        put_bytes(&mut self.raw, o, &area);
        let again = Dinode::decode(&self.raw, self.ufs2);
        self.db = again.db;
        self.ib = again.ib;
    }

    /// Clears the block pointers (and any fast symlink text).
    pub fn clear_pointers(&mut self) {
        self.set_pointer_area(&[]);
    }

    pub fn is_dir(&self) -> bool {
        self.mode & IFMT == IFDIR
    }

    pub fn is_reg(&self) -> bool {
        self.mode & IFMT == IFREG
    }

    pub fn is_lnk(&self) -> bool {
        self.mode & IFMT == IFLNK
    }

    /// Device number of a block or character special file.
    pub fn rdev(&self) -> u64 {
        if self.ufs2 {
            self.db[0]
        } else {
            u64::from(self.db[0] as u32)
        }
    }

    /// Times as the format keeps them: UFS1 holds 32-bit seconds.
    pub fn clamp_time(&self, t: Timespec) -> Timespec {
        if self.ufs2 {
            t
        } else {
            Timespec {
                sec: i64::from(t.sec as i32),
                nsec: t.nsec,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_formats() {
        for ufs2 in [false, true] {
            let mut d = Dinode::empty(ufs2);
            d.mode = IFREG | 0o644;
            d.nlink = 3;
            d.uid = 1000;
            d.gid = 50;
            d.size = 123_456_789;
            d.blocks = 99;
            d.atime = Timespec {
                sec: 1_000_000_001,
                nsec: 111,
            };
            d.mtime = Timespec {
                sec: 1_500_000_002,
                nsec: 222,
            };
            d.ctime = Timespec {
                sec: 1_600_000_003,
                nsec: 333,
            };
            if ufs2 {
                d.birthtime = Timespec { sec: 5, nsec: 6 };
            }
            d.db[0] = 1234;
            d.db[11] = 99;
            d.ib[2] = 777;
            d.gen = 42;
            let back = Dinode::decode(&d.encode(), ufs2);
            assert_eq!(
                back,
                Dinode {
                    raw: d.encode(),
                    ..d.clone()
                }
            );
            let mut l = back.clone();
            l.set_pointer_area(b"a/target");
            assert_eq!(&l.pointer_area()[..8], b"a/target");
            let again = Dinode::decode(&l.encode(), ufs2);
            assert_eq!(&again.pointer_area()[..9], b"a/target\0");
        }
    }
}
