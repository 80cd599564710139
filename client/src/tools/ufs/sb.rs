//! The superblock (`struct fs`): its on-disk layout, and the checked
//! geometry ([`Geometry`]) derived from it that every other reader uses,
//! so no later arithmetic runs on an unchecked number.

use super::bytes::{layout, Bytes};
use super::{
    Ufs, CSUM_SIZE, FS_FLAGS_UPDATED, FS_UFS1_MAGIC, FS_UFS2_MAGIC, MAXBSIZE, MAXFRAG, MINBSIZE,
    NDADDR, NIADDR, SBLOCKSIZE,
};

layout! {
    /// A cylinder group's counts (`struct csum`).
    pub struct Csum(16) {
        ndir: i32 = 0,
        nbfree: i32 = 4,
        nifree: i32 = 8,
        nffree: i32 = 12,
    }
}

layout! {
    /// The superblock's 64-bit totals (`struct csum_total`).
    pub struct CsumTotal(64) {
        ndir: i64 = 0,
        nbfree: i64 = 8,
        nifree: i64 = 16,
        nffree: i64 = 24,
        spare: [i64; 4] = 32,
    }
}

layout! {
    /// The superblock as stored (1376 bytes of a SBLOCKSIZE area).
    pub struct Superblock(1376) {
        firstfield: i32 = 0,
        unused_1: i32 = 4,
        sblkno: i32 = 8,
        cblkno: i32 = 12,
        iblkno: i32 = 16,
        dblkno: i32 = 20,
        old_cgoffset: i32 = 24,
        old_cgmask: i32 = 28,
        old_time: i32 = 32,
        old_size: i32 = 36,
        old_dsize: i32 = 40,
        ncg: i32 = 44,
        bsize: i32 = 48,
        fsize: i32 = 52,
        frag: i32 = 56,
        minfree: i32 = 60,
        old_rotdelay: i32 = 64,
        old_rps: i32 = 68,
        bmask: i32 = 72,
        fmask: i32 = 76,
        bshift: i32 = 80,
        fshift: i32 = 84,
        maxcontig: i32 = 88,
        maxbpg: i32 = 92,
        fragshift: i32 = 96,
        fsbtodb: i32 = 100,
        sbsize: i32 = 104,
        spare1: [i32; 2] = 108,
        nindir: i32 = 116,
        inopb: i32 = 120,
        old_nspf: i32 = 124,
        optim: i32 = 128,
        old_npsect: i32 = 132,
        old_interleave: i32 = 136,
        old_trackskew: i32 = 140,
        id: [i32; 2] = 144,
        old_csaddr: i32 = 152,
        cssize: i32 = 156,
        cgsize: i32 = 160,
        spare2: i32 = 164,
        old_nsect: i32 = 168,
        old_spc: i32 = 172,
        old_ncyl: i32 = 176,
        old_cpg: i32 = 180,
        ipg: i32 = 184,
        fpg: i32 = 188,
        old_cstotal: Csum = 192,
        fmod: i8 = 208,
        clean: u8 = 209,
        ronly: i8 = 210,
        old_flags: u8 = 211,
        fsmnt: Bytes<468> = 212,
        volname: Bytes<32> = 680,
        swuid: u64 = 712,
        pad: i32 = 720,
        cgrotor: i32 = 724,
        /// In-core pointers on NetBSD; zero on disk.
        ocsp: Bytes<128> = 728,
        old_cpc: i32 = 856,
        maxbsize: i32 = 860,
        journal_version: u8 = 864,
        journal_location: u8 = 865,
        journal_flags: u32 = 868,
        journallocs: [u64; 4] = 872,
        quota_magic: u32 = 904,
        quota_flags: u8 = 908,
        quotafile: [u64; 2] = 912,
        sparecon64: [i64; 9] = 928,
        sblockloc: i64 = 1000,
        cstotal: CsumTotal = 1008,
        time: i64 = 1072,
        size: i64 = 1080,
        dsize: i64 = 1088,
        csaddr: i64 = 1096,
        pendingblocks: i64 = 1104,
        pendinginodes: i32 = 1112,
        snapinum: [i32; 20] = 1116,
        avgfilesize: i32 = 1196,
        avgfpdir: i32 = 1200,
        save_cgsize: i32 = 1204,
        sparecon32: [i32; 26] = 1208,
        flags: u32 = 1312,
        contigsumsize: i32 = 1316,
        maxsymlinklen: i32 = 1320,
        old_inodefmt: i32 = 1324,
        maxfilesize: u64 = 1328,
        qbmask: i64 = 1336,
        qfmask: i64 = 1344,
        state: i32 = 1352,
        old_postblformat: i32 = 1356,
        old_nrpos: i32 = 1360,
        spare5: [i32; 2] = 1364,
        magic: i32 = 1372,
    }
}

impl super::bytes::Field for Csum {
    const SIZE: usize = Csum::SIZE;
    fn get(buf: &[u8], off: usize) -> Self {
        Csum::decode(buf.get(off..).unwrap_or(&[]))
    }
    fn put(self, buf: &mut [u8], off: usize) {
        if let Some(b) = buf.get_mut(off..) {
            self.encode(b);
        }
    }
}

impl super::bytes::Field for CsumTotal {
    const SIZE: usize = CsumTotal::SIZE;
    fn get(buf: &[u8], off: usize) -> Self {
        CsumTotal::decode(buf.get(off..).unwrap_or(&[]))
    }
    fn put(self, buf: &mut [u8], off: usize) {
        if let Some(b) = buf.get_mut(off..) {
            self.encode(b);
        }
    }
}

impl Superblock {
    /// The format, if the magic number is one of ours (little-endian).
    pub fn ufs(&self) -> Option<Ufs> {
        match self.magic {
            FS_UFS1_MAGIC => Some(Ufs::V1),
            FS_UFS2_MAGIC => Some(Ufs::V2),
            _ => None,
        }
    }

    /// A UFS1 superblock written before UFS2 existed keeps its sizes,
    /// summary address and totals only in the 32-bit fields.
    pub fn old_layout(&self) -> bool {
        self.magic == FS_UFS1_MAGIC && self.old_flags & FS_FLAGS_UPDATED == 0
    }

    /// Size in fragments, read from the field the layout uses.
    pub fn fs_size(&self) -> i64 {
        if self.old_layout() {
            i64::from(self.old_size)
        } else {
            self.size
        }
    }

    /// Data fragments, as [`Superblock::fs_size`].
    pub fn fs_dsize(&self) -> i64 {
        if self.old_layout() {
            i64::from(self.old_dsize)
        } else {
            self.dsize
        }
    }

    /// Summary area address, as [`Superblock::fs_size`].
    pub fn fs_csaddr(&self) -> i64 {
        if self.old_layout() {
            i64::from(self.old_csaddr)
        } else {
            self.csaddr
        }
    }

    /// Totals, as [`Superblock::fs_size`].
    pub fn fs_cstotal(&self) -> CsumTotal {
        if self.old_layout() {
            let o = self.old_cstotal;
            CsumTotal {
                ndir: o.ndir.into(),
                nbfree: o.nbfree.into(),
                nifree: o.nifree.into(),
                nffree: o.nffree.into(),
                spare: [0; 4],
            }
        } else {
            self.cstotal
        }
    }

    /// The fields a backup copy must repeat: those fixed when the file
    /// system was made (fsck_ffs's comparison of a backup). Names of the
    /// fields that differ.
    pub fn differs_from_backup(&self, alt: &Superblock) -> Vec<&'static str> {
        let pairs: [(&'static str, i64, i64); 21] = [
            ("sblkno", self.sblkno.into(), alt.sblkno.into()),
            ("cblkno", self.cblkno.into(), alt.cblkno.into()),
            ("iblkno", self.iblkno.into(), alt.iblkno.into()),
            ("dblkno", self.dblkno.into(), alt.dblkno.into()),
            ("ncg", self.ncg.into(), alt.ncg.into()),
            ("bsize", self.bsize.into(), alt.bsize.into()),
            ("fsize", self.fsize.into(), alt.fsize.into()),
            ("frag", self.frag.into(), alt.frag.into()),
            ("bmask", self.bmask.into(), alt.bmask.into()),
            ("fmask", self.fmask.into(), alt.fmask.into()),
            ("bshift", self.bshift.into(), alt.bshift.into()),
            ("fshift", self.fshift.into(), alt.fshift.into()),
            ("fragshift", self.fragshift.into(), alt.fragshift.into()),
            ("fsbtodb", self.fsbtodb.into(), alt.fsbtodb.into()),
            ("sbsize", self.sbsize.into(), alt.sbsize.into()),
            ("nindir", self.nindir.into(), alt.nindir.into()),
            ("inopb", self.inopb.into(), alt.inopb.into()),
            ("cssize", self.cssize.into(), alt.cssize.into()),
            ("ipg", self.ipg.into(), alt.ipg.into()),
            ("fpg", self.fpg.into(), alt.fpg.into()),
            ("magic", self.magic.into(), alt.magic.into()),
        ];
        pairs
            .iter()
            .filter(|(_, a, b)| a != b)
            .map(|(n, _, _)| *n)
            .collect()
    }
}

/// `log2(n)` when `n` is a power of two.
pub fn log2(n: u64) -> Option<u32> {
    n.is_power_of_two().then(|| n.trailing_zeros())
}

/// Bytes of a cylinder group block holding `ipg` inodes and `fpg`
/// fragments (CGSIZE): the header, the old rotational tables, the maps
/// and, with clustering, the cluster summary and map.
pub fn cg_size_for(old_cpg: u64, contigsumsize: u64, frag: u64, ipg: u64, fpg: u64) -> u64 {
    let mut n = super::cg::CG_STRUCT_SIZE + 4 + old_cpg * 4 + old_cpg * 2;
    n += ipg.div_ceil(8) + fpg.div_ceil(8);
    if contigsumsize > 0 {
        n += contigsumsize * 4 + (fpg / frag).div_ceil(8);
    }
    n
}

/// The largest file size the block pointers can reach.
pub fn max_file_size(bsize: u64, nindir: u64) -> u64 {
    let mut size = (bsize * NDADDR as u64).saturating_sub(1);
    let mut per = bsize;
    for _ in 0..NIADDR {
        per = per.saturating_mul(nindir);
        size = size.saturating_add(per);
    }
    size
}

/// A superblock whose geometry has been checked: every address it
/// yields lies inside the file system, and the file system inside the
/// device. Sizes and addresses are in fragments unless named otherwise.
#[derive(Clone, Debug)]
pub struct Geometry {
    pub ufs: Ufs,
    pub sb: Superblock,
    pub bsize: u64,
    pub fsize: u64,
    pub frag: u64,
    pub fragshift: u32,
    pub fshift: u32,
    pub bshift: u32,
    /// Device sectors (512 bytes) per fragment, as a shift.
    pub fsbtodb: u32,
    pub ncg: u64,
    pub ipg: u64,
    pub fpg: u64,
    /// Fragments in the file system.
    pub size: u64,
    pub dsize: u64,
    pub sblkno: u64,
    pub cblkno: u64,
    pub iblkno: u64,
    pub dblkno: u64,
    pub inopb: u64,
    pub nindir: u64,
    pub csaddr: u64,
    pub cssize: u64,
    pub cgsize: u64,
    pub contigsumsize: u64,
    pub old_cpg: u64,
    pub old_nrpos: u64,
    /// Byte offset the superblock was read from.
    pub sblockloc: u64,
    pub maxfilesize: u64,
}

impl Geometry {
    /// Checks `sb` (the primary superblock at byte `sblockloc`, or a
    /// backup when `alternate`) against itself and a device of
    /// `device_size` bytes.
    /// The error says what is impossible.
    pub fn new(
        sb: &Superblock,
        sblockloc: u64,
        alternate: bool,
        device_size: u64,
    ) -> Result<Geometry, String> {
        let ufs = sb.ufs().ok_or("MAGIC NUMBER WRONG")?;
        let num = |v: i64, what: &str| -> Result<u64, String> {
            u64::try_from(v).map_err(|_| format!("{what}={v} IS NEGATIVE"))
        };
        if sb.sbsize > SBLOCKSIZE as i32 {
            return Err("SIZE PREPOSTEROUSLY LARGE".into());
        }
        if sb.sbsize < Superblock::SIZE as i32 {
            return Err("SIZE PREPOSTEROUSLY SMALL".into());
        }
        let bsize = num(sb.bsize.into(), "BSIZE")?;
        if !bsize.is_power_of_two() || !(MINBSIZE..=MAXBSIZE).contains(&bsize) {
            return Err(format!("IMPOSSIBLE BLOCK SIZE {bsize}"));
        }
        let fsize = num(sb.fsize.into(), "FSIZE")?;
        if !fsize.is_power_of_two() || fsize < 512 || fsize > bsize || bsize / fsize > MAXFRAG {
            return Err(format!("IMPOSSIBLE FRAGMENT SIZE {fsize}"));
        }
        let frag = bsize / fsize;
        let (bshift, fshift, fragshift) = (
            bsize.trailing_zeros(),
            fsize.trailing_zeros(),
            frag.trailing_zeros(),
        );
        if i64::from(sb.frag) != frag as i64
            || sb.bshift != bshift as i32
            || sb.fshift != fshift as i32
            || sb.fragshift != fragshift as i32
        {
            return Err("BLOCK SHIFTS OR FRAGS PER BLOCK INCONSISTENT WITH SIZES".into());
        }
        let fsbtodb = (fsize / 512).trailing_zeros();
        if sb.fsbtodb != fsbtodb as i32 {
            return Err(format!("IMPOSSIBLE FSBTODB={}", sb.fsbtodb));
        }
        let inopb = bsize / ufs.dinode_size() as u64;
        if i64::from(sb.inopb) != inopb as i64 {
            return Err(format!("IMPOSSIBLE INOPB={}", sb.inopb));
        }
        let nindir = bsize / ufs.ptr_size() as u64;
        if i64::from(sb.nindir) != nindir as i64 {
            return Err(format!("IMPOSSIBLE NINDIR={}", sb.nindir));
        }
        let ncg = num(sb.ncg.into(), "NCG")?;
        let ipg = num(sb.ipg.into(), "IPG")?;
        let fpg = num(sb.fpg.into(), "FPG")?;
        if ncg == 0 || ipg == 0 || fpg == 0 {
            return Err("NO CYLINDER GROUPS, INODES OR FRAGMENTS PER GROUP".into());
        }
        if ipg % inopb != 0 {
            return Err(format!("INODES PER GROUP {ipg} NOT A MULTIPLE OF {inopb}"));
        }
        if fpg % frag != 0 {
            return Err(format!(
                "FRAGMENTS PER GROUP {fpg} NOT A MULTIPLE OF {frag}"
            ));
        }
        if ncg.checked_mul(ipg).is_none_or(|n| n > 1 << 31) {
            return Err("TOO MANY INODES".into());
        }
        let size = num(sb.fs_size(), "SIZE")?;
        if size == 0 || size <= (ncg - 1).saturating_mul(fpg) || size > ncg.saturating_mul(fpg) {
            return Err(format!(
                "SIZE {size} DISAGREES WITH {ncg} CYLINDER GROUPS OF {fpg} FRAGMENTS"
            ));
        }
        if size.checked_mul(fsize).is_none_or(|b| b > device_size) {
            return Err(format!(
                "FILE SYSTEM OF {size} FRAGMENTS OF {fsize} BYTES DOES NOT FIT ON A DEVICE OF {device_size} BYTES"
            ));
        }
        let (sblkno, cblkno, iblkno, dblkno) = (
            num(sb.sblkno.into(), "SBLKNO")?,
            num(sb.cblkno.into(), "CBLKNO")?,
            num(sb.iblkno.into(), "IBLKNO")?,
            num(sb.dblkno.into(), "DBLKNO")?,
        );
        let cgsize = num(sb.cgsize.into(), "CGSIZE")?;
        if cgsize < super::cg::CG_STRUCT_SIZE || cgsize > bsize {
            return Err(format!("IMPOSSIBLE CYLINDER GROUP SIZE {cgsize}"));
        }
        let inode_frags = ipg / (inopb >> fragshift).max(1);
        let sbfrags = (sb.sbsize as u64).div_ceil(fsize);
        if sblkno + sbfrags > cblkno
            || cblkno + cgsize.div_ceil(fsize) > iblkno
            || iblkno.checked_add(inode_frags) != Some(dblkno)
            || dblkno > fpg
        {
            return Err(format!(
                "CYLINDER GROUP LAYOUT IMPOSSIBLE (SBLKNO {sblkno} CBLKNO {cblkno} IBLKNO {iblkno} DBLKNO {dblkno})"
            ));
        }
        let old_cpg = match ufs {
            Ufs::V1 => num(sb.old_cpg.into(), "OLD_CPG")?,
            Ufs::V2 => 0,
        };
        let old_nrpos = match ufs {
            Ufs::V1 => num(sb.old_nrpos.into(), "OLD_NRPOS")?,
            Ufs::V2 => 0,
        };
        let contigsumsize = num(sb.contigsumsize.into(), "CONTIGSUMSIZE")?;
        if contigsumsize > super::FS_MAXCONTIG || old_cpg > 1 << 16 || old_nrpos > 8 {
            return Err("IMPOSSIBLE CLUSTER OR ROTATIONAL TABLE SIZES".into());
        }
        let need =
            super::cg::CgLayout::standard(ufs, old_cpg, old_nrpos, contigsumsize, frag, ipg, fpg)
                .nextfreeoff;
        if need > cgsize {
            return Err(format!(
                "CYLINDER GROUP MAPS NEED {need} BYTES, CYLINDER GROUP SIZE IS {cgsize}"
            ));
        }
        let cssize = num(sb.cssize.into(), "CSSIZE")?;
        let csaddr = num(sb.fs_csaddr(), "CSADDR")?;
        if cssize < ncg * CSUM_SIZE
            || cssize.div_ceil(fsize) > fpg
            || csaddr + cssize.div_ceil(fsize) > size
        {
            return Err(format!(
                "CYLINDER SUMMARY AREA ({cssize} BYTES AT {csaddr}) IMPOSSIBLE"
            ));
        }
        let dsize = num(sb.fs_dsize(), "DSIZE")?;
        if !alternate && sblkno != 0 && sblockloc + SBLOCKSIZE as u64 > sblkno * fsize {
            return Err("SUPERBLOCK OVERLAPS THE FIRST CYLINDER GROUP".into());
        }
        let g = Geometry {
            ufs,
            sb: *sb,
            bsize,
            fsize,
            frag,
            fragshift,
            fshift,
            bshift,
            fsbtodb,
            ncg,
            ipg,
            fpg,
            size,
            dsize,
            sblkno,
            cblkno,
            iblkno,
            dblkno,
            inopb,
            nindir,
            csaddr,
            cssize,
            cgsize,
            contigsumsize,
            old_cpg,
            old_nrpos,
            sblockloc,
            maxfilesize: max_file_size(bsize, nindir),
        };
        for c in 0..ncg {
            let start = g.cgstart(c).ok_or("CYLINDER GROUP START OVERFLOWS")?;
            let end = g.cgbase(c) + fpg;
            if start < g.cgbase(c) || start + dblkno > end || start + dblkno > size {
                return Err(format!("CYLINDER GROUP {c} DOES NOT FIT ITS METADATA"));
            }
        }
        Ok(g)
    }

    /// Total inodes (inode numbers are below this).
    pub fn maxino(&self) -> u64 {
        self.ncg * self.ipg
    }

    /// First fragment of cylinder group `c`.
    pub fn cgbase(&self, c: u64) -> u64 {
        self.fpg * c
    }

    /// Where group `c`'s metadata starts (UFS1 may stagger it).
    pub fn cgstart(&self, c: u64) -> Option<u64> {
        match self.ufs {
            Ufs::V2 => Some(self.cgbase(c)),
            Ufs::V1 => {
                let off = u64::try_from(self.sb.old_cgoffset).ok()?;
                let mask = u64::from(self.sb.old_cgmask as u32);
                let stagger = off.checked_mul(c & !mask & 0xffff_ffff)?;
                self.cgbase(c).checked_add(stagger)
            }
        }
    }

    fn start(&self, c: u64) -> u64 {
        self.cgstart(c).unwrap_or(self.cgbase(c))
    }

    /// Group `c`'s backup superblock.
    pub fn cgsblock(&self, c: u64) -> u64 {
        self.start(c) + self.sblkno
    }

    /// Group `c`'s cylinder group block.
    pub fn cgtod(&self, c: u64) -> u64 {
        self.start(c) + self.cblkno
    }

    /// Group `c`'s first inode block.
    pub fn cgimin(&self, c: u64) -> u64 {
        self.start(c) + self.iblkno
    }

    /// Group `c`'s first data fragment.
    pub fn cgdmin(&self, c: u64) -> u64 {
        self.start(c) + self.dblkno
    }

    /// The group holding fragment `d`.
    pub fn dtog(&self, d: u64) -> u64 {
        d / self.fpg
    }

    /// Byte offset of fragment `f`.
    pub fn frag_bytes(&self, f: u64) -> u64 {
        f << self.fshift
    }

    /// Byte offset of inode `ino` on the device.
    pub fn inode_offset(&self, ino: u64) -> u64 {
        let c = ino / self.ipg;
        let within = ino % self.ipg;
        self.frag_bytes(self.cgimin(c)) + within * self.ufs.dinode_size() as u64
    }

    /// Fragments needed for `bytes`.
    pub fn numfrags_up(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.fsize)
    }

    /// Frags of the cylinder summary area.
    pub fn csfrags(&self) -> u64 {
        self.cssize.div_ceil(self.fsize)
    }

    /// Inodes per fragment.
    pub fn inopf(&self) -> u64 {
        self.inopb >> self.fragshift
    }

    /// The directory format: 4.4BSD entries carry a type byte.
    pub fn new_dir_format(&self) -> bool {
        self.ufs == Ufs::V2 || self.sb.old_inodefmt >= super::FS_44INODEFMT
    }

    /// Where the maps sit in a cylinder group block.
    pub fn cg_layout(&self) -> super::cg::CgLayout {
        super::cg::CgLayout::standard(
            self.ufs,
            self.old_cpg,
            self.old_nrpos,
            self.contigsumsize,
            self.frag,
            self.ipg,
            self.fpg,
        )
    }

    /// Fragments in group `c` (the last one may be short).
    pub fn cg_ndblk(&self, c: u64) -> u64 {
        let base = self.cgbase(c);
        (base + self.fpg).min(self.size) - base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_struct_fs() {
        let sb = Superblock {
            ipg: 0x1111,
            magic: FS_UFS2_MAGIC,
            cstotal: CsumTotal {
                nffree: 9,
                ..CsumTotal::default()
            },
            maxfilesize: 0x0102_0304_0506_0708,
            ..Superblock::default()
        };
        let b = sb.to_bytes();
        assert_eq!(b.len(), 1376);
        assert_eq!(&b[184..186], &[0x11, 0x11]);
        assert_eq!(&b[1372..1376], &FS_UFS2_MAGIC.to_le_bytes());
        assert_eq!(b[1008 + 24], 9);
        assert_eq!(b[1328], 8);
        assert_eq!(Superblock::decode(&b), sb);
    }

    #[test]
    fn sizes() {
        assert_eq!(log2(4096), Some(12));
        assert_eq!(log2(4095), None);
        assert_eq!(
            max_file_size(4096, 1024),
            4096 * 12 - 1 + 4096 * 1024 * (1 + 1024 + 1024 * 1024)
        );
        assert_eq!(cg_size_for(0, 0, 8, 0, 0), 180);
    }
}
