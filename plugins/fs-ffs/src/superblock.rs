//! The FFS superblock: finding it, checking every field a mount relies
//! on, the geometry derived from it, and writing back the fields that
//! change while mounted (summary totals, clean flag, time, flags).
//!
//! Both formats are handled: UFS1 (magic 0x011954, 128-byte inodes,
//! 32-bit block numbers) and UFS2 (magic 0x19540119, 256-byte inodes,
//! 64-bit block numbers). Unknown bytes of the superblock are kept as
//! read and written back unchanged.

use crate::le::*;

pub const UFS1_MAGIC: u32 = 0x0001_1954;
pub const UFS2_MAGIC: u32 = 0x1954_0119;
pub const UFS2EA_MAGIC: u32 = 0x1901_2038;
/// Where superblocks are searched for, in NetBSD's order.
pub const SBLOCK_SEARCH: [u64; 4] = [65536, 8192, 0, 262_144];
pub const SBLOCKSIZE: usize = 8192;
/// The size of `struct fs` up to and including fs_magic.
pub const SB_MIN_SIZE: usize = 1376;

pub const FS_ISCLEAN: u8 = 0x01;
pub const FS_WASCLEAN: u8 = 0x02;

pub const FS_UNCLEAN: u32 = 0x001;
pub const FS_DOSOFTDEP: u32 = 0x002;
pub const FS_NEEDSFSCK: u32 = 0x004;
pub const FS_SUJ: u32 = 0x008;
pub const FS_POSIX1EACLS: u32 = 0x010;
pub const FS_MULTILABEL: u32 = 0x020;
pub const FS_GJOURNAL: u32 = 0x040;
pub const FS_FLAGS_UPDATED: u32 = 0x080;
pub const FS_DOWAPBL: u32 = 0x100;
pub const FS_DOQUOTA2: u32 = 0x200;
pub const FS_TRIM: u32 = 0x400;
pub const FS_NFS4ACLS: u32 = 0x800;
pub const FS_INTERNAL: u32 = 0x8000_0000;

/// Direct block pointers in an inode.
pub const NDADDR: usize = 12;
/// Indirect block pointers in an inode.
pub const NIADDR: usize = 3;
/// The root directory's inode.
pub const ROOTINO: u32 = 2;
/// Directory blocks never straddle this many bytes.
pub const DIRBLKSIZ: u64 = 512;
/// Largest contiguous-cluster summary NetBSD keeps.
pub const FS_MAXCONTIG: i32 = 16;

// Byte offsets of superblock fields.
const O_SBLKNO: usize = 8;
const O_CBLKNO: usize = 12;
const O_IBLKNO: usize = 16;
const O_DBLKNO: usize = 20;
const O_OLD_CGOFFSET: usize = 24;
const O_OLD_CGMASK: usize = 28;
const O_OLD_TIME: usize = 32;
const O_OLD_SIZE: usize = 36;
const O_OLD_DSIZE: usize = 40;
const O_NCG: usize = 44;
const O_BSIZE: usize = 48;
const O_FSIZE: usize = 52;
const O_FRAG: usize = 56;
const O_MINFREE: usize = 60;
const O_BMASK: usize = 72;
const O_FMASK: usize = 76;
const O_BSHIFT: usize = 80;
const O_FSHIFT: usize = 84;
const O_MAXCONTIG: usize = 88;
const O_MAXBPG: usize = 92;
const O_FRAGSHIFT: usize = 96;
const O_FSBTODB: usize = 100;
const O_SBSIZE: usize = 104;
const O_NINDIR: usize = 116;
const O_INOPB: usize = 120;
const O_ID: usize = 144;
const O_OLD_CSADDR: usize = 152;
const O_CSSIZE: usize = 156;
const O_CGSIZE: usize = 160;
const O_IPG: usize = 184;
const O_FPG: usize = 188;
const O_OLD_CSTOTAL: usize = 192;
const O_FMOD: usize = 208;
const O_CLEAN: usize = 209;
const O_RONLY: usize = 210;
const O_OLD_FLAGS: usize = 211;
const O_FSMNT: usize = 212;
const MAXMNTLEN: usize = 468;
const O_SBLOCKLOC: usize = 1000;
const O_CSTOTAL: usize = 1008;
const O_TIME: usize = 1072;
const O_SIZE: usize = 1080;
const O_DSIZE: usize = 1088;
const O_CSADDR: usize = 1096;
const O_PENDINGBLOCKS: usize = 1104;
const O_PENDINGINODES: usize = 1112;
const O_SNAPINUM: usize = 1116;
const O_AVGFILESIZE: usize = 1196;
const O_AVGFPDIR: usize = 1200;
const O_FLAGS: usize = 1312;
const O_CONTIGSUMSIZE: usize = 1316;
const O_MAXSYMLINKLEN: usize = 1320;
const O_OLD_INODEFMT: usize = 1324;
const O_MAXFILESIZE: usize = 1328;
const O_OLD_NRPOS: usize = 1360;
const O_MAGIC: usize = 1372;

/// Summary counts (`struct csum` per group, `csum_total` for the fs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Csum {
    pub ndir: i64,
    pub nbfree: i64,
    pub nifree: i64,
    pub nffree: i64,
}

impl Csum {
    pub fn add(&mut self, o: &Csum) {
        self.ndir += o.ndir;
        self.nbfree += o.nbfree;
        self.nifree += o.nifree;
        self.nffree += o.nffree;
    }
}

/// A checked superblock.
#[derive(Clone, Debug)]
pub struct Superblock {
    raw: Vec<u8>,
    /// Byte offset of this superblock on the device.
    pub loc: u64,
    pub ufs2: bool,
    pub magic: u32,
    pub sblkno: u64,
    pub cblkno: u64,
    pub iblkno: u64,
    pub dblkno: u64,
    pub cgoffset: u64,
    pub cgmask: i32,
    pub ncg: u32,
    pub bsize: u32,
    pub fsize: u32,
    pub frag: u32,
    pub minfree: u32,
    pub bshift: u32,
    pub fshift: u32,
    pub fragshift: u32,
    pub maxcontig: u32,
    pub maxbpg: u32,
    pub nindir: u32,
    pub inopb: u32,
    pub ipg: u32,
    pub fpg: u32,
    pub cssize: u32,
    pub cgsize: u32,
    pub csaddr: u64,
    pub size: u64,
    pub dsize: u64,
    pub cstotal: Csum,
    pub clean: u8,
    pub flags: u32,
    pub old_flags: u8,
    pub contigsumsize: i32,
    pub maxsymlinklen: u32,
    pub maxfilesize: u64,
    pub avgfilesize: u32,
    pub avgfpdir: u32,
    pub time: i64,
    pub id: [i32; 2],
    pub snapshots: bool,
    pub old_inodefmt: i32,
}

fn log2_exact(v: u32) -> Option<u32> {
    (v != 0 && v.is_power_of_two()).then(|| v.trailing_zeros())
}

impl Superblock {
    /// Checks the superblock bytes `raw` (at least `SBLOCKSIZE` or the
    /// device's rest) found at byte offset `loc` of a device of
    /// `dev_size` bytes. `Err(why)` says what is wrong.
    pub fn parse(raw: &[u8], loc: u64, dev_size: u64) -> Result<Superblock, String> {
        let magic = u32_at(raw, O_MAGIC);
        let ufs2 = match magic {
            UFS1_MAGIC => false,
            UFS2_MAGIC | UFS2EA_MAGIC => true,
            _ => return Err("no FFS magic".into()),
        };
        let old_flags = u8_at(raw, O_OLD_FLAGS);
        let updated = ufs2 || u32::from(old_flags) & FS_FLAGS_UPDATED != 0;
        // The location check that tells a primary from an alternate.
        if updated {
            let at = u64_at(raw, O_SBLOCKLOC);
            if at != loc {
                return Err(format!("superblock says it lives at {at}, not {loc}"));
            }
        } else if loc == 65536 {
            return Err("first alternate of an old UFS1 file system".into());
        }
        let sbsize = u32_at(raw, O_SBSIZE) as usize;
        if !(SB_MIN_SIZE..=SBLOCKSIZE).contains(&sbsize) || sbsize > raw.len() {
            return Err(format!("bad superblock size {sbsize}"));
        }
        let g = |o| u32_at(raw, o);
        let bsize = g(O_BSIZE);
        let fsize = g(O_FSIZE);
        let frag = g(O_FRAG);
        let bshift = log2_exact(bsize).ok_or("block size not a power of two")?;
        let fshift = log2_exact(fsize).ok_or("fragment size not a power of two")?;
        if !(4096..=65536).contains(&bsize) {
            return Err(format!("block size {bsize} out of range"));
        }
        if fsize < 512 || fsize > bsize || bsize / fsize != frag || frag > 8 {
            return Err(format!(
                "fragment size {fsize} does not divide block size {bsize}"
            ));
        }
        let fragshift = log2_exact(frag).ok_or("bad frag count")?;
        if g(O_BSHIFT) != bshift
            || g(O_FSHIFT) != fshift
            || g(O_FRAGSHIFT) != fragshift
            || g(O_BMASK) != !(bsize - 1)
            || g(O_FMASK) != !(fsize - 1)
            || g(O_FSBTODB) != fshift - 9
        {
            return Err("derived shift and mask fields disagree".into());
        }
        let ptr = if ufs2 { 8 } else { 4 };
        let isize = if ufs2 { 256 } else { 128 };
        let nindir = g(O_NINDIR);
        let inopb = g(O_INOPB);
        if nindir != bsize / ptr || inopb != bsize / isize {
            return Err("indirect or inode-per-block count wrong".into());
        }
        let ncg = g(O_NCG);
        let ipg = g(O_IPG);
        let fpg = g(O_FPG);
        if ncg == 0 || ipg == 0 || ipg % inopb != 0 || fpg < frag || fpg % frag != 0 {
            return Err("bad group geometry".into());
        }
        if u64::from(ncg) * u64::from(ipg) > u64::from(u32::MAX) {
            return Err("too many inodes".into());
        }
        let (sblkno, cblkno, iblkno, dblkno) = (
            u64::from(g(O_SBLKNO)),
            u64::from(g(O_CBLKNO)),
            u64::from(g(O_IBLKNO)),
            u64::from(g(O_DBLKNO)),
        );
        let ifrags = u64::from(ipg / inopb) * u64::from(frag);
        if !(sblkno < cblkno && cblkno < iblkno && iblkno + ifrags <= dblkno)
            || dblkno > u64::from(fpg)
            || (u64::from(SBLOCKSIZE as u32) >> fshift) + sblkno > cblkno
        {
            return Err("bad layout of a cylinder group".into());
        }
        let cgsize = g(O_CGSIZE);
        if cgsize < 168 || cgsize > bsize.max(SBLOCKSIZE as u32) {
            return Err(format!("bad cylinder group size {cgsize}"));
        }
        if cblkno * u64::from(fsize) + u64::from(cgsize) > iblkno * u64::from(fsize) {
            return Err("cylinder group block overlaps the inodes".into());
        }
        let (cgoffset, cgmask) = if ufs2 {
            (0, -1)
        } else {
            (u64::from(g(O_OLD_CGOFFSET)), i32_at(raw, O_OLD_CGMASK))
        };
        let (size, dsize, csaddr, cstotal, time) = if updated {
            let t = |k: usize| i64_at(raw, O_CSTOTAL + 8 * k);
            (
                u64_at(raw, O_SIZE),
                u64_at(raw, O_DSIZE),
                u64_at(raw, O_CSADDR),
                Csum {
                    ndir: t(0),
                    nbfree: t(1),
                    nifree: t(2),
                    nffree: t(3),
                },
                i64_at(raw, O_TIME),
            )
        } else {
            let t = |k: usize| i64::from(i32_at(raw, O_OLD_CSTOTAL + 4 * k));
            (
                u64::from(g(O_OLD_SIZE)),
                u64::from(g(O_OLD_DSIZE)),
                u64::from(g(O_OLD_CSADDR)),
                Csum {
                    ndir: t(0),
                    nbfree: t(1),
                    nifree: t(2),
                    nffree: t(3),
                },
                i64::from(i32_at(raw, O_OLD_TIME)),
            )
        };
        if size == 0 || dsize > size {
            return Err("bad file system size".into());
        }
        if !ufs2 && size > i32::MAX as u64 {
            return Err("UFS1 file system too large".into());
        }
        let fpg64 = u64::from(fpg);
        if (u64::from(ncg) - 1) * fpg64 >= size || u64::from(ncg) * fpg64 < size {
            return Err("group count does not match the size".into());
        }
        let bytes = size.checked_mul(u64::from(fsize)).ok_or("size overflows")?;
        if bytes > dev_size {
            return Err(format!(
                "file system of {bytes} bytes is larger than its device ({dev_size} bytes)"
            ));
        }
        // Every group's layout must fit inside the group.
        let max_shift = if cgmask == -1 || cgoffset == 0 {
            0
        } else {
            let stagger = u64::from(!(cgmask as u32)) & u64::from(ncg.saturating_sub(1));
            cgoffset.checked_mul(stagger).ok_or("bad cg offset")?
        };
        if max_shift.saturating_add(dblkno) > fpg64 {
            return Err("staggered groups overflow".into());
        }
        let cssize = g(O_CSSIZE);
        if u64::from(cssize) < u64::from(ncg) * 16 || cssize > 1 << 26 {
            return Err("bad summary area size".into());
        }
        let csfrags = u64::from(cssize).div_ceil(u64::from(fsize));
        if csaddr.checked_add(csfrags).is_none_or(|e| e > size) {
            return Err("summary area outside the file system".into());
        }
        let contigsumsize = i32_at(raw, O_CONTIGSUMSIZE);
        if !(0..=FS_MAXCONTIG).contains(&contigsumsize) {
            return Err("bad cluster summary size".into());
        }
        let maxsymlinklen = u32_at(raw, O_MAXSYMLINKLEN);
        let old_inodefmt = i32_at(raw, O_OLD_INODEFMT);
        let minfree = g(O_MINFREE);
        if minfree > 99 {
            return Err("bad minfree".into());
        }
        let snapshots = (0..20).any(|k| u32_at(raw, O_SNAPINUM + 4 * k) != 0);
        Ok(Superblock {
            raw: raw[..sbsize].to_vec(),
            loc,
            ufs2,
            magic,
            sblkno,
            cblkno,
            iblkno,
            dblkno,
            cgoffset,
            cgmask,
            ncg,
            bsize,
            fsize,
            frag,
            minfree,
            bshift,
            fshift,
            fragshift,
            maxcontig: g(O_MAXCONTIG).max(1),
            maxbpg: g(O_MAXBPG).max(1),
            nindir,
            inopb,
            ipg,
            fpg,
            cssize,
            cgsize,
            csaddr,
            size,
            dsize,
            cstotal,
            clean: u8_at(raw, O_CLEAN),
            flags: if updated {
                g(O_FLAGS)
            } else {
                u32::from(old_flags)
            },
            old_flags,
            contigsumsize,
            maxsymlinklen,
            maxfilesize: u64_at(raw, O_MAXFILESIZE),
            avgfilesize: g(O_AVGFILESIZE),
            avgfpdir: g(O_AVGFPDIR),
            time,
            id: [i32_at(raw, O_ID), i32_at(raw, O_ID + 4)],
            snapshots,
            old_inodefmt,
        })
    }

    /// Whether this UFS1 file system predates FS_FLAGS_UPDATED (and
    /// so keeps rotational tables we do not maintain).
    pub fn old_rotational(&self) -> bool {
        !self.ufs2 && u32::from(self.old_flags) & FS_FLAGS_UPDATED == 0
    }

    /// The number of rotational positions (UFS1 only).
    pub fn old_nrpos(&self) -> i32 {
        i32_at(&self.raw, O_OLD_NRPOS)
    }

    pub fn sbsize(&self) -> usize {
        self.raw.len()
    }

    /// Size of an on-disk inode.
    pub fn isize(&self) -> u64 {
        if self.ufs2 {
            256
        } else {
            128
        }
    }

    /// The largest number of inodes.
    pub fn max_ino(&self) -> u64 {
        u64::from(self.ncg) * u64::from(self.ipg)
    }

    /// First fragment of group `c`.
    pub fn cgbase(&self, c: u32) -> u64 {
        u64::from(self.fpg) * u64::from(c)
    }

    /// Where group `c`'s metadata starts (staggered on old UFS1).
    pub fn cgstart(&self, c: u32) -> u64 {
        let stagger = if self.cgmask == -1 {
            0
        } else {
            u64::from(c & !(self.cgmask as u32))
        };
        self.cgbase(c) + self.cgoffset * stagger
    }

    /// The fragment of group `c`'s cylinder group block.
    pub fn cgtod(&self, c: u32) -> u64 {
        self.cgstart(c) + self.cblkno
    }

    /// The first inode block of group `c`.
    pub fn cgimin(&self, c: u32) -> u64 {
        self.cgstart(c) + self.iblkno
    }

    /// The first data fragment after group `c`'s metadata.
    pub fn cgdmin(&self, c: u32) -> u64 {
        self.cgstart(c) + self.dblkno
    }

    /// The superblock copy of group `c`.
    pub fn cgsblock(&self, c: u32) -> u64 {
        self.cgstart(c) + self.sblkno
    }

    /// Fragments in group `c` (the last may be short).
    pub fn cg_frags(&self, c: u32) -> u64 {
        let base = self.cgbase(c);
        (self.size - base.min(self.size)).min(u64::from(self.fpg))
    }

    /// The group a fragment belongs to.
    pub fn dtog(&self, d: u64) -> u32 {
        (d / u64::from(self.fpg)) as u32
    }

    pub fn ino_to_cg(&self, ino: u32) -> u32 {
        ino / self.ipg
    }

    /// Byte offset of inode `ino` on the device.
    pub fn ino_offset(&self, ino: u32) -> u64 {
        let cg = self.ino_to_cg(ino);
        let idx = u64::from(ino % self.ipg);
        let blk = idx / u64::from(self.inopb);
        let frag = self.cgimin(cg) + (blk << self.fragshift);
        (frag << self.fshift) + (idx % u64::from(self.inopb)) * self.isize()
    }

    /// Byte offset of fragment `f`.
    pub fn fsb_bytes(&self, f: u64) -> u64 {
        f << self.fshift
    }

    pub fn fragroundup(&self, bytes: u64) -> u64 {
        bytes.div_ceil(u64::from(self.fsize)) * u64::from(self.fsize)
    }

    /// The size of the data block `lbn` of a file of `size` bytes (0 for
    /// a direct block past the end).
    pub fn blksize(&self, size: u64, lbn: u64) -> u64 {
        let b = u64::from(self.bsize);
        if lbn >= NDADDR as u64 || size >= (lbn + 1).saturating_mul(b) {
            b
        } else {
            self.fragroundup(size.saturating_sub(lbn * b))
        }
    }

    /// Whether fragments `f..f+n` may hold file data or metadata blocks:
    /// inside the file system, inside one block, and not over a group's
    /// superblock, group block, inodes or the summary area.
    pub fn data_range_ok(&self, f: u64, n: u64) -> bool {
        if n == 0 || n > u64::from(self.frag) {
            return false;
        }
        let Some(end) = f.checked_add(n) else {
            return false;
        };
        if end > self.size || (f % u64::from(self.frag)) + n > u64::from(self.frag) {
            return false;
        }
        let c = self.dtog(f);
        let lo = if c == 0 {
            self.cgbase(0)
        } else {
            self.cgsblock(c)
        };
        if f < self.cgdmin(c) && end > lo {
            return false;
        }
        let csfrags = u64::from(self.cssize).div_ceil(u64::from(self.fsize));
        !(f < self.csaddr + csfrags && end > self.csaddr)
    }

    /// The superblock bytes to write, with the fields that change while
    /// mounted brought up to date.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = self.raw.clone();
        put_u8(&mut b, O_FMOD, 0);
        put_u8(&mut b, O_CLEAN, self.clean);
        put_u8(&mut b, O_RONLY, 0);
        put_i64(&mut b, O_TIME, self.time);
        let t = &self.cstotal;
        for (k, v) in [t.ndir, t.nbfree, t.nifree, t.nffree]
            .into_iter()
            .enumerate()
        {
            put_i64(&mut b, O_CSTOTAL + 8 * k, v);
        }
        put_u64(&mut b, O_PENDINGBLOCKS, 0);
        put_u32(&mut b, O_PENDINGINODES, 0);
        put_u32(&mut b, O_FLAGS, self.flags & !FS_INTERNAL);
        if !self.ufs2 {
            // UFS1 keeps 32-bit copies; keep both in step.
            put_i32(&mut b, O_OLD_TIME, self.time as i32);
            for (k, v) in [t.ndir, t.nbfree, t.nifree, t.nffree]
                .into_iter()
                .enumerate()
            {
                put_i32(&mut b, O_OLD_CSTOTAL + 4 * k, v as i32);
            }
            if self.old_rotational() {
                put_u8(&mut b, O_OLD_FLAGS, (self.flags & 0xff) as u8);
            }
        }
        b
    }

    /// Records the mount point name (`fs_fsmnt`).
    pub fn set_fsmnt(&mut self, name: &[u8]) {
        let n = name.len().min(MAXMNTLEN - 1);
        let mut field = vec![0u8; MAXMNTLEN];
        field[..n].copy_from_slice(&name[..n]);
        put_bytes(&mut self.raw, O_FSMNT, &field);
    }

    /// The average free blocks, inodes per group (allocation policy).
    pub fn avg_free(&self) -> (i64, i64) {
        let n = i64::from(self.ncg.max(1));
        (self.cstotal.nbfree / n, self.cstotal.nifree / n)
    }

    /// Fragments held back from ordinary users.
    pub fn reserved_frags(&self) -> u64 {
        self.dsize * u64::from(self.minfree) / 100
    }

    /// Free fragments (whole blocks and loose fragments).
    pub fn free_frags(&self) -> i64 {
        (self.cstotal.nbfree << self.fragshift) + self.cstotal.nffree
    }
}

/// Builds a minimal valid UFS superblock for unit tests.
#[cfg(test)]
pub fn test_raw(ufs2: bool) -> Vec<u8> {
    let mut b = vec![0u8; SBLOCKSIZE];
    let (bsize, fsize, frag) = (8192u32, 1024u32, 8u32);
    put_u32(&mut b, O_MAGIC, if ufs2 { UFS2_MAGIC } else { UFS1_MAGIC });
    put_u32(&mut b, O_SBSIZE, 2048);
    put_u32(&mut b, O_BSIZE, bsize);
    put_u32(&mut b, O_FSIZE, fsize);
    put_u32(&mut b, O_FRAG, frag);
    put_u32(&mut b, O_BSHIFT, 13);
    put_u32(&mut b, O_FSHIFT, 10);
    put_u32(&mut b, O_FRAGSHIFT, 3);
    put_u32(&mut b, O_BMASK, !(bsize - 1));
    put_u32(&mut b, O_FMASK, !(fsize - 1));
    put_u32(&mut b, O_FSBTODB, 1);
    put_u32(&mut b, O_NINDIR, bsize / if ufs2 { 8 } else { 4 });
    put_u32(&mut b, O_INOPB, bsize / if ufs2 { 256 } else { 128 });
    put_u32(&mut b, O_NCG, 2);
    put_u32(&mut b, O_IPG, 64);
    put_u32(&mut b, O_FPG, 4096);
    put_u32(&mut b, O_SBLKNO, 16);
    put_u32(&mut b, O_CBLKNO, 24);
    put_u32(&mut b, O_IBLKNO, 32);
    put_u32(&mut b, O_DBLKNO, 48);
    put_u32(&mut b, O_CGSIZE, 8192);
    put_u32(&mut b, O_CSSIZE, 1024);
    put_i32(&mut b, O_OLD_CGMASK, -1);
    put_u8(&mut b, O_OLD_FLAGS, FS_FLAGS_UPDATED as u8);
    put_u64(&mut b, O_SBLOCKLOC, 8192);
    put_u64(&mut b, O_SIZE, 8000);
    put_u64(&mut b, O_DSIZE, 7800);
    put_u64(&mut b, O_CSADDR, 48);
    put_u32(&mut b, O_MAXSYMLINKLEN, if ufs2 { 120 } else { 60 });
    put_i32(&mut b, O_OLD_INODEFMT, 2);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_superblock_parses_and_geometry_follows() {
        let raw = test_raw(true);
        let sb = Superblock::parse(&raw, 8192, 8000 * 1024).unwrap();
        assert!(sb.ufs2);
        assert_eq!(sb.cgtod(1), 4096 + 24);
        assert_eq!(sb.ino_offset(2), 32 * 1024 + 2 * 256);
        assert_eq!(sb.ino_offset(64 + 33), (4096 + 32 + 8) * 1024 + 256);
        assert_eq!(sb.cg_frags(1), 8000 - 4096);
        assert_eq!(sb.blksize(100, 0), 1024);
        assert_eq!(sb.blksize(100_000, 0), 8192);
        assert_eq!(sb.blksize(100, 3), 0, "past the end");
        assert!(!sb.data_range_ok(48, 1), "summary area");
        assert!(sb.data_range_ok(56, 8));
        assert!(!sb.data_range_ok(57, 8), "crosses a block");
        assert!(!sb.data_range_ok(4096 + 30, 1), "group metadata");
        assert!(
            sb.data_range_ok(4096 + 8, 1),
            "data before a group's superblock copy"
        );
        assert!(!sb.data_range_ok(7999, 2), "past the end");
        let enc = sb.encode();
        assert_eq!(enc.len(), 2048);
        assert_eq!(
            Superblock::parse(&raw, 8192, 1000).unwrap_err(),
            "file system of 8192000 bytes is larger than its device (1000 bytes)"
        );
        assert!(
            Superblock::parse(&raw, 65536, 1 << 30).is_err(),
            "alternate"
        );
    }

    #[test]
    fn every_corrupted_byte_is_caught_or_harmless() {
        let raw = test_raw(false);
        for i in 0..SB_MIN_SIZE {
            for v in [0u8, 0xff, 0x7f, 1] {
                let mut b = raw.clone();
                b[i] = v;
                if let Ok(sb) = Superblock::parse(&b, 8192, 1 << 30) {
                    // Whatever passes has a geometry that stays in range.
                    for c in 0..sb.ncg {
                        assert!(sb.cgdmin(c) <= sb.cgbase(c) + u64::from(sb.fpg));
                    }
                }
            }
        }
    }
}
