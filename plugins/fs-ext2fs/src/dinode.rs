//! The on-disk inode: its fields read from and written to the inode's
//! bytes as they sit in the inode table, so that fields this
//! implementation does not interpret (extended attributes stored in
//! large inodes, project ids) survive a change.
//!
//! Times: the base fields hold 32-bit seconds. Inodes larger than 128
//! bytes whose `i_extra_isize` covers them add `*_extra` words (two
//! epoch bits extending the seconds, then nanoseconds) and a creation
//! time; without them times have whole seconds and no birth time.

use crate::le::{set_u16, set_u32, u16_at, u32_at};
use rump_plugin_api::abi::stat::{Timespec, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

/// Byte offsets of the fields.
pub mod off {
    pub const MODE: usize = 0;
    pub const UID: usize = 2;
    pub const SIZE: usize = 4;
    pub const ATIME: usize = 8;
    pub const CTIME: usize = 12;
    pub const MTIME: usize = 16;
    pub const DTIME: usize = 20;
    pub const GID: usize = 24;
    pub const LINKS: usize = 26;
    pub const BLOCKS: usize = 28;
    pub const FLAGS: usize = 32;
    pub const BLOCK: usize = 40;
    pub const GENERATION: usize = 100;
    pub const FILE_ACL: usize = 104;
    pub const SIZE_HIGH: usize = 108;
    pub const BLOCKS_HIGH: usize = 116;
    pub const UID_HIGH: usize = 120;
    pub const GID_HIGH: usize = 122;
    pub const EXTRA_ISIZE: usize = 128;
    pub const CTIME_EXTRA: usize = 132;
    pub const MTIME_EXTRA: usize = 136;
    pub const ATIME_EXTRA: usize = 140;
    pub const CRTIME: usize = 144;
    pub const CRTIME_EXTRA: usize = 148;
}

/// Block pointers in the inode: 12 direct, then single, double and
/// triple indirect.
pub const N_BLOCKS: usize = 15;
pub const N_DIRECT: usize = 12;
/// Bytes of the block pointer area, where a short symbolic link keeps
/// its target.
pub const INLINE_BYTES: usize = 60;

/// `i_flags` bits used.
pub const FL_IMMUTABLE: u32 = 0x0000_0010;
pub const FL_APPEND: u32 = 0x0000_0020;
pub const FL_NODUMP: u32 = 0x0000_0040;
pub const FL_INDEX: u32 = 0x0000_1000;
pub const FL_HUGE_FILE: u32 = 0x0004_0000;
pub const FL_EXTENTS: u32 = 0x0008_0000;
pub const FL_INLINE_DATA: u32 = 0x1000_0000;

/// A time stamp of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    Access,
    Modify,
    Change,
    Birth,
}

impl Stamp {
    fn fields(self) -> (usize, usize) {
        match self {
            Stamp::Access => (off::ATIME, off::ATIME_EXTRA),
            Stamp::Modify => (off::MTIME, off::MTIME_EXTRA),
            Stamp::Change => (off::CTIME, off::CTIME_EXTRA),
            Stamp::Birth => (off::CRTIME, off::CRTIME_EXTRA),
        }
    }
}

/// An inode's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dinode {
    raw: Vec<u8>,
    /// Revision 1 or later: regular files have 64-bit sizes.
    rev1: bool,
    /// The huge_file feature: `i_blocks` has high bits.
    huge: bool,
}

impl Dinode {
    /// An inode from its bytes in the table.
    pub fn from_bytes(raw: &[u8], rev1: bool, huge: bool) -> Dinode {
        Dinode {
            raw: raw.to_vec(),
            rev1,
            huge,
        }
    }

    /// A zeroed inode of `size` bytes whose extra part is
    /// `extra_isize` bytes.
    pub fn new(size: usize, rev1: bool, extra_isize: u16) -> Dinode {
        let mut d = Dinode {
            raw: vec![0u8; size.max(128)],
            rev1,
            huge: false,
        };
        if d.raw.len() > 128 {
            set_u16(&mut d.raw, off::EXTRA_ISIZE, extra_isize);
        }
        d
    }

    pub fn bytes(&self) -> &[u8] {
        &self.raw
    }

    fn extra_isize(&self) -> usize {
        if self.raw.len() <= 128 {
            return 0;
        }
        (u16_at(&self.raw, off::EXTRA_ISIZE) as usize).min(self.raw.len() - 128)
    }

    /// Whether the 4-byte field at `at` (in the extra part) exists.
    fn has(&self, at: usize) -> bool {
        at + 4 <= 128 + self.extra_isize()
    }

    /// Whether times carry nanoseconds.
    pub fn has_nsec(&self) -> bool {
        self.has(off::ATIME_EXTRA)
    }

    pub fn mode(&self) -> u32 {
        u32::from(u16_at(&self.raw, off::MODE))
    }

    pub fn set_mode(&mut self, mode: u32) {
        set_u16(&mut self.raw, off::MODE, mode as u16);
    }

    pub fn file_type(&self) -> u32 {
        self.mode() & S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    pub fn is_reg(&self) -> bool {
        self.file_type() == S_IFREG
    }

    pub fn is_lnk(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    pub fn uid(&self) -> u32 {
        u32::from(u16_at(&self.raw, off::UID)) | u32::from(u16_at(&self.raw, off::UID_HIGH)) << 16
    }

    pub fn set_uid(&mut self, uid: u32) {
        set_u16(&mut self.raw, off::UID, uid as u16);
        set_u16(&mut self.raw, off::UID_HIGH, (uid >> 16) as u16);
    }

    pub fn gid(&self) -> u32 {
        u32::from(u16_at(&self.raw, off::GID)) | u32::from(u16_at(&self.raw, off::GID_HIGH)) << 16
    }

    pub fn set_gid(&mut self, gid: u32) {
        set_u16(&mut self.raw, off::GID, gid as u16);
        set_u16(&mut self.raw, off::GID_HIGH, (gid >> 16) as u16);
    }

    /// The size: 64 bits for regular files of revision 1, else 32.
    pub fn size(&self) -> u64 {
        let lo = u64::from(u32_at(&self.raw, off::SIZE));
        if self.rev1 && self.is_reg() {
            lo | u64::from(u32_at(&self.raw, off::SIZE_HIGH)) << 32
        } else {
            lo
        }
    }

    pub fn set_size(&mut self, size: u64) {
        set_u32(&mut self.raw, off::SIZE, size as u32);
        if self.rev1 && self.is_reg() {
            set_u32(&mut self.raw, off::SIZE_HIGH, (size >> 32) as u32);
        }
    }

    pub fn links(&self) -> u32 {
        u32::from(u16_at(&self.raw, off::LINKS))
    }

    pub fn set_links(&mut self, n: u32) {
        set_u16(&mut self.raw, off::LINKS, n.min(0xffff) as u16);
    }

    /// `i_blocks` as stored, in 512-byte units (or file system blocks
    /// for a huge_file inode flagged so).
    pub fn blocks_raw(&self) -> u64 {
        let lo = u64::from(u32_at(&self.raw, off::BLOCKS));
        if self.huge {
            lo | u64::from(u16_at(&self.raw, off::BLOCKS_HIGH)) << 32
        } else {
            lo
        }
    }

    /// `i_blocks` in 512-byte units, for `st_blocks`.
    pub fn sectors(&self, bsize: u32) -> u64 {
        if self.huge && self.flags() & FL_HUGE_FILE != 0 {
            self.blocks_raw().saturating_mul(u64::from(bsize / 512))
        } else {
            self.blocks_raw()
        }
    }

    /// Sets `i_blocks` (512-byte units; fits 32 bits, see
    /// [`crate::superblock::Geometry::max_file_size`]).
    pub fn set_sectors(&mut self, n: u64) {
        set_u32(
            &mut self.raw,
            off::BLOCKS,
            n.min(u64::from(u32::MAX)) as u32,
        );
    }

    pub fn flags(&self) -> u32 {
        u32_at(&self.raw, off::FLAGS)
    }

    pub fn set_flags(&mut self, f: u32) {
        set_u32(&mut self.raw, off::FLAGS, f);
    }

    pub fn dtime(&self) -> u32 {
        u32_at(&self.raw, off::DTIME)
    }

    pub fn set_dtime(&mut self, t: u32) {
        set_u32(&mut self.raw, off::DTIME, t);
    }

    pub fn generation(&self) -> u32 {
        u32_at(&self.raw, off::GENERATION)
    }

    pub fn set_generation(&mut self, g: u32) {
        set_u32(&mut self.raw, off::GENERATION, g);
    }

    /// The extended attribute block (0: none).
    pub fn file_acl(&self) -> u64 {
        u64::from(u32_at(&self.raw, off::FILE_ACL))
    }

    pub fn set_file_acl(&mut self, b: u64) {
        set_u32(&mut self.raw, off::FILE_ACL, b as u32);
    }

    /// Block pointer `i` (0..15).
    pub fn block(&self, i: usize) -> u64 {
        u64::from(u32_at(&self.raw, off::BLOCK + 4 * i))
    }

    pub fn set_block(&mut self, i: usize, b: u64) {
        set_u32(&mut self.raw, off::BLOCK + 4 * i, b as u32);
    }

    /// The block pointer area as bytes (a short symlink's target, a
    /// device number).
    pub fn inline(&self) -> &[u8] {
        &self.raw[off::BLOCK..off::BLOCK + INLINE_BYTES]
    }

    pub fn inline_mut(&mut self) -> &mut [u8] {
        &mut self.raw[off::BLOCK..off::BLOCK + INLINE_BYTES]
    }

    /// A time stamp; None for the birth time of an inode without one.
    pub fn time(&self, s: Stamp) -> Option<Timespec> {
        let (base, extra) = s.fields();
        if s == Stamp::Birth && !self.has(base) {
            return None;
        }
        let secs = i64::from(u32_at(&self.raw, base) as i32);
        if !self.has(extra) {
            return Some(Timespec { sec: secs, nsec: 0 });
        }
        let x = u32_at(&self.raw, extra);
        let nsec = i64::from(x >> 2).min(999_999_999);
        Some(Timespec {
            sec: secs + (i64::from(x & 3) << 32),
            nsec,
        })
    }

    /// Sets a time stamp, clamped to what the inode can hold (the birth
    /// time of an inode without one is dropped).
    pub fn set_time(&mut self, s: Stamp, t: Timespec) {
        let (base, extra) = s.fields();
        if s == Stamp::Birth && !self.has(base) {
            return;
        }
        let with_extra = self.has(extra);
        let lo = i64::from(i32::MIN);
        let hi = if with_extra {
            i64::from(i32::MAX) + (3i64 << 32)
        } else {
            i64::from(i32::MAX)
        };
        let sec = t.sec.clamp(lo, hi);
        set_u32(&mut self.raw, base, sec as u32);
        if with_extra {
            let epoch = ((sec - i64::from(sec as u32 as i32)) >> 32) as u32 & 3;
            let nsec = t.nsec.clamp(0, 999_999_999) as u32;
            set_u32(&mut self.raw, extra, nsec << 2 | epoch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_high_halves() {
        let mut d = Dinode::new(256, true, 32);
        d.set_mode(S_IFREG | 0o644);
        d.set_uid(70_000);
        d.set_gid(65_536 + 5);
        d.set_size(5 << 32 | 7);
        assert_eq!((d.uid(), d.gid(), d.size()), (70_000, 65_541, 5 << 32 | 7));
        assert_eq!(u16_at(d.bytes(), off::UID), (70_000u32 & 0xffff) as u16);
        assert_eq!(u16_at(d.bytes(), off::UID_HIGH), 1);
        d.set_mode(S_IFDIR | 0o755);
        assert_eq!(d.size(), 7, "directories have 32-bit sizes");
        let old = Dinode::new(128, false, 0);
        let mut old = Dinode::from_bytes(old.bytes(), false, false);
        old.set_mode(S_IFREG);
        old.set_size(1 << 32 | 9);
        assert_eq!(old.size(), 9, "revision 0 has 32-bit sizes");
    }

    #[test]
    fn times() {
        let mut d = Dinode::new(256, true, 32);
        let t = Timespec {
            sec: 1_500_000_002,
            nsec: 222_222_000,
        };
        d.set_time(Stamp::Modify, t);
        assert_eq!(d.time(Stamp::Modify), Some(t));
        let far = Timespec {
            sec: 5_000_000_000,
            nsec: 1,
        };
        d.set_time(Stamp::Birth, far);
        assert_eq!(d.time(Stamp::Birth), Some(far), "past 2038 with epoch bits");
        let neg = Timespec { sec: -5, nsec: 3 };
        d.set_time(Stamp::Access, neg);
        assert_eq!(d.time(Stamp::Access), Some(neg));
        let mut small = Dinode::new(128, true, 0);
        small.set_time(Stamp::Modify, t);
        assert_eq!(
            small.time(Stamp::Modify),
            Some(Timespec {
                sec: 1_500_000_002,
                nsec: 0
            })
        );
        assert_eq!(small.time(Stamp::Birth), None);
        small.set_time(Stamp::Modify, far);
        assert_eq!(small.time(Stamp::Modify).unwrap().sec, i64::from(i32::MAX));
        let mut short_extra = Dinode::new(256, true, 4);
        short_extra.set_time(Stamp::Modify, t);
        assert!(!short_extra.has_nsec());
        assert_eq!(short_extra.time(Stamp::Modify).unwrap().nsec, 0);
    }
}
