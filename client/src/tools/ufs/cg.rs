//! The cylinder group block (`struct cg`): header layout, where NetBSD
//! places the maps behind it, and the block/fragment bitmap helpers.

use super::bytes::{clrbit, isset, layout, setbit};
use super::sb::Csum;
use super::Ufs;

/// `sizeof(struct cg)` in C (header plus one byte of maps, padded).
pub const CG_STRUCT_SIZE: u64 = 176;

/// Where the maps start: the header's end.
pub const CG_HEADER_SIZE: u64 = 168;

layout! {
    /// A cylinder group's header.
    pub struct CgHeader(168) {
        firstfield: i32 = 0,
        magic: i32 = 4,
        old_time: i32 = 8,
        cgx: i32 = 12,
        old_ncyl: i16 = 16,
        old_niblk: i16 = 18,
        ndblk: i32 = 20,
        cs: Csum = 24,
        rotor: i32 = 40,
        frotor: i32 = 44,
        irotor: i32 = 48,
        frsum: [i32; 8] = 52,
        old_btotoff: i32 = 84,
        old_boff: i32 = 88,
        iusedoff: i32 = 92,
        freeoff: i32 = 96,
        nextfreeoff: i32 = 100,
        clustersumoff: i32 = 104,
        clusteroff: i32 = 108,
        nclusterblks: i32 = 112,
        niblk: i32 = 116,
        initediblk: i32 = 120,
        sparecon32: [i32; 3] = 124,
        time: i64 = 136,
        sparecon64: [i64; 3] = 144,
    }
}

/// Byte offsets of the maps in a cylinder group block, as NetBSD's
/// newfs and fsck_ffs lay them out for a given superblock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgLayout {
    pub btotoff: u64,
    pub boff: u64,
    pub iusedoff: u64,
    pub freeoff: u64,
    pub nextfreeoff: u64,
    /// Zero without clustering.
    pub clustersumoff: u64,
    pub clusteroff: u64,
}

impl CgLayout {
    /// The standard layout: (UFS1 only) the old rotational tables, the
    /// inode map, the fragment map, and with clustering the cluster
    /// counts (whose unused slot 0 overlaps the fragment map's last
    /// word) and the cluster map.
    pub fn standard(
        ufs: Ufs,
        old_cpg: u64,
        old_nrpos: u64,
        contigsumsize: u64,
        frag: u64,
        ipg: u64,
        fpg: u64,
    ) -> CgLayout {
        let mut l = CgLayout {
            iusedoff: CG_HEADER_SIZE,
            ..CgLayout::default()
        };
        if ufs == Ufs::V1 {
            l.btotoff = CG_HEADER_SIZE;
            l.boff = l.btotoff + old_cpg * 4;
            l.iusedoff = l.boff + old_cpg * old_nrpos.max(1) * 2;
        }
        l.freeoff = l.iusedoff + ipg.div_ceil(8);
        l.nextfreeoff = l.freeoff + fpg.div_ceil(8);
        if contigsumsize > 0 {
            l.clustersumoff = (l.nextfreeoff - 4).next_multiple_of(4);
            l.clusteroff = l.clustersumoff + (contigsumsize + 1) * 4;
            l.nextfreeoff = l.clusteroff + (fpg / frag).div_ceil(8);
        }
        l
    }

    /// The inode map of a block.
    pub fn inosused<'a>(&self, cg: &'a [u8]) -> &'a [u8] {
        slice(cg, self.iusedoff, self.freeoff)
    }

    /// The free-fragment map of a block.
    pub fn blksfree<'a>(&self, cg: &'a [u8], fpg: u64) -> &'a [u8] {
        slice(cg, self.freeoff, self.freeoff + fpg.div_ceil(8))
    }
}

/// `cg[from..to]`, clipped to the block.
fn slice(cg: &[u8], from: u64, to: u64) -> &[u8] {
    let len = cg.len() as u64;
    let (a, b) = (from.min(len) as usize, to.min(len) as usize);
    &cg[a..b.max(a)]
}

/// Whether every fragment of block `h` (of `frag` fragments) is free.
pub fn isblock(map: &[u8], frag: u64, h: u64) -> bool {
    (0..frag).all(|i| isset(map, h * frag + i))
}

/// Marks block `h` free.
pub fn setblock(map: &mut [u8], frag: u64, h: u64) {
    for i in 0..frag {
        setbit(map, h * frag + i);
    }
}

/// Marks block `h` in use.
pub fn clrblock(map: &mut [u8], frag: u64, h: u64) {
    for i in 0..frag {
        clrbit(map, h * frag + i);
    }
}

/// Adds to `frsum` the runs of free fragments inside the block whose
/// first fragment is `start`: a run of `n` free fragments (n < frag)
/// counts in `frsum[n]` (ffs_fragacct).
pub fn count_free_runs(map: &[u8], frag: u64, start: u64, frsum: &mut [i32; 8]) {
    let mut run = 0usize;
    for i in 0..=frag {
        if i < frag && isset(map, start + i) {
            run += 1;
            continue;
        }
        if run > 0 && (run as u64) < frag {
            frsum[run] += 1;
        }
        run = 0;
    }
}

/// Counts the runs of free clusters (whole free blocks) of the map
/// `clusters` (`nblocks` bits): `sum[min(run, contigsumsize)] += 1`.
pub fn cluster_sums(clusters: &[u8], nblocks: u64, contigsumsize: u64) -> Vec<i32> {
    let mut sum = vec![0i32; contigsumsize as usize + 1];
    let mut run = 0u64;
    for i in 0..=nblocks {
        if i < nblocks && isset(clusters, i) {
            run += 1;
        } else if run > 0 {
            sum[run.min(contigsumsize) as usize] += 1;
            run = 0;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_newfs() {
        // makefs -t ffs -o version=1: 64 inodes, 8192 frags, 8 per block.
        let l = CgLayout::standard(Ufs::V1, 1, 1, 8, 8, 64, 8192);
        assert_eq!(
            (l.btotoff, l.boff, l.iusedoff, l.freeoff, l.nextfreeoff),
            (168, 172, 174, 182, 1368)
        );
        assert_eq!((l.clustersumoff, l.clusteroff), (1204, 1240));
        let l = CgLayout::standard(Ufs::V2, 0, 0, 0, 8, 32, 5728);
        assert_eq!((l.iusedoff, l.freeoff, l.nextfreeoff), (168, 172, 888));
    }

    #[test]
    fn fragment_runs() {
        // Block of 8: frags 1,2 free, 4 free, 6,7 free.
        let map = [0b1101_0110u8];
        let mut s = [0i32; 8];
        count_free_runs(&map, 8, 0, &mut s);
        assert_eq!(s, [0, 1, 2, 0, 0, 0, 0, 0]);
        let mut s = [0i32; 8];
        count_free_runs(&[0xff], 8, 0, &mut s);
        assert_eq!(s, [0; 8], "a whole free block is not a fragment run");
        assert!(isblock(&[0xf0], 4, 1) && !isblock(&[0xf0], 4, 0));
        let mut m = [0u8; 1];
        setblock(&mut m, 2, 1);
        assert_eq!(m, [0b1100]);
        clrblock(&mut m, 2, 1);
        assert_eq!(m, [0]);
        assert_eq!(cluster_sums(&[0b0111_0011], 8, 2), vec![0, 0, 2]);
        assert_eq!(cluster_sums(&[0b0101_0001], 8, 4), vec![0, 3, 0, 0, 0]);
    }
}
