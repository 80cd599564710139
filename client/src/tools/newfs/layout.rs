//! How a new file system is laid out: from the size and the options to
//! a complete superblock, by NetBSD newfs's rules (as few cylinder
//! groups as fit their maps in one block, at least four unless the file
//! system is small, inodes spread evenly; the last group dropped if too
//! small to hold its own inodes).

use crate::tools::ufs::sb::{cg_size_for, max_file_size, Superblock};
use crate::tools::ufs::{
    Ufs, CSUM_SIZE, DEV_BSIZE, FS_44INODEFMT, FS_DYNAMICPOSTBLFMT, FS_FLAGS_UPDATED, FS_ISCLEAN,
    FS_MAXCONTIG, FS_UFS1_MAGIC, FS_UFS2_MAGIC, MAXBSIZE, MAXFRAG, MINBSIZE, SBLOCKSIZE,
    SBLOCK_UFS1, SBLOCK_UFS2,
};

/// Fewest cylinder groups wanted.
const MINCYLGRPS: u64 = 4;

/// What the superblock is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub ufs: Ufs,
    /// Size in 512-byte sectors.
    pub sectors: u64,
    pub bsize: u64,
    pub fsize: u64,
    /// Bytes of data per inode.
    pub density: u64,
    /// Inodes wanted (overrides the density when non-zero).
    pub inodes: u64,
    pub minfree: i32,
    pub optim: i32,
    pub maxcontig: u64,
    /// Largest extent (-d; 0 for the block size).
    pub maxbsize: u64,
    pub maxbpg: u64,
    pub avgfilesize: i32,
    pub avgfpdir: i32,
    /// Seconds since the epoch, for the times and the file system id.
    pub time: i64,
    /// The id's random half.
    pub id: i32,
}

/// A layout that cannot be made: newfs's message and exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub status: i32,
}

fn refuse(status: i32, message: String) -> Refusal {
    Refusal { message, status }
}

/// The superblock of a new file system (its totals still to be filled
/// in from the cylinder groups), and "Maxcontig raised" if it was.
pub fn plan(p: &Params) -> Result<(Superblock, Option<u64>), Refusal> {
    let (bsize, fsize) = (p.bsize, p.fsize);
    if !bsize.is_power_of_two() {
        return Err(refuse(
            16,
            format!("block size must be a power of 2, not {bsize}"),
        ));
    }
    if !fsize.is_power_of_two() {
        return Err(refuse(
            17,
            format!("fragment size must be a power of 2, not {fsize}"),
        ));
    }
    if fsize < DEV_BSIZE {
        return Err(refuse(
            18,
            format!("fragment size {fsize} is too small, minimum is {DEV_BSIZE}"),
        ));
    }
    if bsize < MINBSIZE {
        return Err(refuse(
            19,
            format!("block size {bsize} is too small, minimum is {MINBSIZE}"),
        ));
    }
    if bsize > MAXBSIZE {
        return Err(refuse(
            19,
            format!("block size {bsize} is too large, maximum is {MAXBSIZE}"),
        ));
    }
    if bsize < fsize {
        return Err(refuse(
            20,
            format!("block size ({bsize}) cannot be smaller than fragment size ({fsize})"),
        ));
    }
    let mut sb = Superblock {
        old_inodefmt: FS_44INODEFMT,
        maxsymlinklen: p.ufs.maxsymlinklen(),
        old_flags: FS_FLAGS_UPDATED,
        avgfilesize: p.avgfilesize,
        avgfpdir: p.avgfpdir,
        bsize: bsize as i32,
        fsize: fsize as i32,
        ..Superblock::default()
    };
    let maxbsize = if p.maxbsize < bsize || !p.maxbsize.is_power_of_two() {
        bsize
    } else {
        p.maxbsize.min(FS_MAXCONTIG * bsize)
    };
    sb.maxbsize = maxbsize as i32;
    let mut maxcontig = p.maxcontig;
    let mut raised = None;
    if maxcontig < maxbsize / bsize {
        maxcontig = maxbsize / bsize;
        raised = Some(maxcontig);
    }
    sb.maxcontig = maxcontig as i32;
    let contigsumsize = if maxcontig > 1 {
        maxcontig.min(FS_MAXCONTIG)
    } else {
        0
    };
    sb.contigsumsize = contigsumsize as i32;
    sb.bmask = !(bsize as i32 - 1);
    sb.fmask = !(fsize as i32 - 1);
    sb.qbmask = !i64::from(sb.bmask);
    sb.qfmask = !i64::from(sb.fmask);
    sb.bshift = bsize.trailing_zeros() as i32;
    sb.fshift = fsize.trailing_zeros() as i32;
    let frag = bsize / fsize;
    sb.frag = frag as i32;
    sb.fragshift = frag.trailing_zeros() as i32;
    if frag > MAXFRAG {
        return Err(refuse(
            21,
            format!(
                "fragment size {fsize} is too small, minimum with block size {bsize} is {}",
                bsize / MAXFRAG
            ),
        ));
    }
    let fsbtodb = (fsize / DEV_BSIZE).trailing_zeros();
    sb.fsbtodb = fsbtodb as i32;
    let mut size = p.sectors >> fsbtodb;
    let old_cpg = match p.ufs {
        Ufs::V1 => {
            if size >= 1 << 31 {
                return Err(refuse(
                    22,
                    format!("Too many fragments (0x{size:x}) for a FFSv1 filesystem"),
                ));
            }
            sb.magic = FS_UFS1_MAGIC;
            sb.sblockloc = SBLOCK_UFS1 as i64;
            sb.old_cgoffset = 0;
            sb.old_cgmask = -1;
            sb.old_rotdelay = 0;
            sb.old_rps = 60;
            sb.old_nspf = (fsize / DEV_BSIZE) as i32;
            sb.old_cpg = 1;
            sb.old_interleave = 1;
            sb.old_trackskew = 0;
            sb.old_cpc = 0;
            sb.old_postblformat = FS_DYNAMICPOSTBLFMT;
            sb.old_nrpos = 1;
            1
        }
        Ufs::V2 => {
            sb.magic = FS_UFS2_MAGIC;
            sb.sblockloc = SBLOCK_UFS2 as i64;
            0
        }
    };
    let inopb = bsize / p.ufs.dinode_size() as u64;
    let nindir = bsize / p.ufs.ptr_size() as u64;
    sb.nindir = nindir as i32;
    sb.inopb = inopb as i32;
    let sblockloc = sb.sblockloc as u64;
    let sbfrags = SBLOCKSIZE as u64;
    let sblkno = (sblockloc + sbfrags).div_ceil(fsize).next_multiple_of(frag);
    let cblkno = sblkno + sbfrags.div_ceil(fsize).next_multiple_of(frag);
    let iblkno = cblkno + frag;
    sb.sblkno = sblkno as i32;
    sb.cblkno = cblkno as i32;
    sb.iblkno = iblkno as i32;
    sb.maxfilesize = max_file_size(bsize, nindir);

    if size < iblkno + 3 * frag {
        return Err(refuse(
            23,
            format!(
                "Filesystem size {size} < minimum size of {}",
                iblkno + 3 * frag
            ),
        ));
    }
    let mut inodeblks = if p.inodes != 0 {
        p.inodes.div_ceil(inopb)
    } else {
        let per_block = (p.density.saturating_mul(inopb) >> fsize.trailing_zeros()).max(1);
        (size - iblkno) / (frag + per_block)
    };
    inodeblks = inodeblks.max(1);
    let room = (size - iblkno) / frag - 2;
    if inodeblks > room {
        inodeblks = room;
    }
    if inodeblks * inopb >= 1 << 31 {
        inodeblks = ((1u64 << 31) - 8) / inopb;
    }
    let cgsize_if = |ipg: u64, fpg: u64| cg_size_for(old_cpg, contigsumsize, frag, ipg, fpg);
    let cgzero = cgsize_if(0, 0);
    let cgall = cgsize_if(inodeblks * inopb, size);
    let mut ncg = (cgall - cgzero).div_ceil(bsize - cgzero);
    if ncg < MINCYLGRPS {
        let u = size / 2 / (iblkno + inodeblks * frag);
        ncg = ncg.max(u).min(MINCYLGRPS).min(inodeblks);
    }
    let mut fpg = size
        .div_ceil(ncg)
        .next_multiple_of(frag)
        .next_multiple_of(8);
    let mut ipg = ((inodeblks - 1) / ncg + 1) * inopb;
    let need = cgsize_if(ipg, fpg);
    if need > bsize {
        fpg -= (need - bsize) * 8;
        ncg = size.div_ceil(fpg);
        ipg = ((inodeblks - 1) / ncg + 1) * inopb;
    }
    if cgsize_if(ipg, fpg) > bsize {
        return Err(refuse(
            24,
            format!("CGSIZE miscalculated {} > {bsize}", cgsize_if(ipg, fpg)),
        ));
    }
    let inopf = inopb >> frag.trailing_zeros();
    let dblkno = iblkno + ipg / inopf;
    let last = size - fpg * (ncg - 1);
    if last < dblkno {
        ncg -= 1;
        size -= last;
    }
    if ncg == 0 {
        return Err(refuse(
            23,
            format!(
                "Filesystem size {size} < minimum size of {}",
                dblkno + 2 * frag
            ),
        ));
    }
    sb.ipg = ipg as i32;
    sb.fpg = fpg as i32;
    sb.dblkno = dblkno as i32;
    sb.ncg = ncg as i32;
    sb.size = size as i64;
    sb.cgsize = cgsize_if(ipg, fpg).next_multiple_of(fsize) as i32;
    if p.ufs == Ufs::V1 {
        sb.old_size = size as i32;
        sb.old_spc = (fpg * (fsize / DEV_BSIZE)) as i32;
        sb.old_nsect = sb.old_spc;
        sb.old_npsect = sb.old_spc;
        sb.old_ncyl = ncg as i32;
    }
    sb.csaddr = dblkno as i64;
    sb.cssize = (ncg * CSUM_SIZE).next_multiple_of(fsize) as i32;
    sb.sbsize = (Superblock::SIZE as u64)
        .next_multiple_of(fsize)
        .min(SBLOCKSIZE as u64) as i32;
    sb.minfree = p.minfree;
    sb.maxbpg = p.maxbpg as i32;
    sb.optim = p.optim;
    sb.clean = FS_ISCLEAN;
    sb.id = [p.time as i32, p.id & i32::MAX];
    let csfrags = (sb.cssize as u64).div_ceil(fsize);
    sb.dsize = (size - sblkno - ncg * (dblkno - sblkno) - csfrags) as i64;
    sb.time = p.time;
    if p.ufs == Ufs::V1 {
        sb.old_time = p.time as i32;
        sb.old_dsize = sb.dsize as i32;
        sb.old_csaddr = sb.csaddr as i32;
    }
    Ok((sb, raised))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(ufs: Ufs, mb: u64, fsize: u64) -> Params {
        Params {
            ufs,
            sectors: mb << 11,
            bsize: fsize * 8,
            fsize,
            density: fsize * 4,
            inodes: 0,
            minfree: 5,
            optim: 0,
            maxcontig: 65_536 / (fsize * 8),
            maxbsize: 0,
            maxbpg: fsize * 8 / if ufs == Ufs::V1 { 4 } else { 8 },
            avgfilesize: 16_384,
            avgfpdir: 64,
            time: 1_000_000_000,
            id: 7,
        }
    }

    #[test]
    fn geometry_follows_newfs() {
        // NetBSD newfs on 64 MiB: 1k fragments, 8k blocks, 4 groups of
        // 2048 blocks and 3872 inodes.
        let (sb, raised) = plan(&params(Ufs::V2, 64, 1024)).unwrap();
        assert_eq!(raised, None);
        assert_eq!((sb.bsize, sb.fsize, sb.frag, sb.ncg), (8192, 1024, 8, 4));
        assert_eq!((sb.sblkno, sb.cblkno, sb.iblkno), (72, 80, 88));
        assert_eq!(sb.fpg, 16384);
        assert_eq!(sb.ipg, 3872);
        assert_eq!(sb.dblkno, 88 + 3872 / 4);
        assert_eq!(sb.cssize, 1024);
        assert_eq!(sb.contigsumsize, 8);
        let (sb1, _) = plan(&params(Ufs::V1, 64, 1024)).unwrap();
        assert_eq!((sb1.sblkno, sb1.cblkno, sb1.iblkno), (16, 24, 32));
        assert_eq!((sb1.old_size, sb1.old_cpg, sb1.old_nspf), (65536, 1, 2));
        assert_eq!((sb1.ncg, sb1.ipg), (4, 3968));
    }

    #[test]
    fn refusals() {
        let mut p = params(Ufs::V2, 64, 1024);
        p.bsize = 3000;
        assert_eq!(plan(&p).unwrap_err().status, 16);
        p.bsize = 65536;
        p.fsize = 512;
        assert_eq!(plan(&p).unwrap_err().status, 21);
        let tiny = Params {
            sectors: 60,
            ..params(Ufs::V1, 1, 512)
        };
        assert_eq!(plan(&tiny).unwrap_err().status, 23);
    }
}
