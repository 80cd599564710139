//! One cylinder group block: its header, its inode and fragment
//! bitmaps, and the summaries derived from them.
//!
//! The fragment map (a set bit is a free fragment) and the inode map (a
//! set bit is a used inode) are the truth. The free counts in the
//! header move with every change; the fragment-run summary, the cluster
//! map and the cluster summary are recomputed from the fragment map
//! whenever the block is written, so they are always exact.

use crate::le::*;
use crate::superblock::{Csum, Superblock};

pub const CG_MAGIC: u32 = 0x0009_0255;

const O_MAGIC: usize = 4;
const O_OLD_TIME: usize = 8;
const O_CGX: usize = 12;
const O_NDBLK: usize = 20;
const O_CS: usize = 24;
const O_ROTOR: usize = 40;
const O_FROTOR: usize = 44;
const O_IROTOR: usize = 48;
const O_FRSUM: usize = 52;
const O_IUSEDOFF: usize = 92;
const O_FREEOFF: usize = 96;
const O_CLUSTERSUMOFF: usize = 104;
const O_CLUSTEROFF: usize = 108;
const O_NCLUSTERBLKS: usize = 112;
const O_INITEDIBLK: usize = 120;
const O_TIME: usize = 136;

/// A checked cylinder group block.
#[derive(Clone, Debug)]
pub struct Cg {
    pub raw: Vec<u8>,
    pub cgx: u32,
    /// Fragments in this group.
    pub ndblk: u64,
    iused: usize,
    free: usize,
    clsum: usize,
    clmap: usize,
    ipg: u32,
    frag: u32,
    contigsumsize: i32,
    ufs2: bool,
}

fn count_run(b: &[u8], off: usize, bits: u64) -> Option<usize> {
    let end = off.checked_add(usize::try_from(bits.div_ceil(8)).ok()?)?;
    (end <= b.len()).then_some(end)
}

impl Cg {
    /// Checks the group block `raw` of group `cgx`.
    pub fn parse(sb: &Superblock, cgx: u32, raw: Vec<u8>) -> Result<Cg, String> {
        if u32_at(&raw, O_MAGIC) != CG_MAGIC {
            return Err(format!("cylinder group {cgx}: bad magic"));
        }
        if u32_at(&raw, O_CGX) != cgx {
            return Err(format!("cylinder group {cgx}: wrong group number"));
        }
        let ndblk = u64::from(u32_at(&raw, O_NDBLK));
        if ndblk != sb.cg_frags(cgx) {
            return Err(format!("cylinder group {cgx}: wrong size {ndblk}"));
        }
        let iused = u32_at(&raw, O_IUSEDOFF) as usize;
        let free = u32_at(&raw, O_FREEOFF) as usize;
        let bad = || format!("cylinder group {cgx}: maps outside the block");
        if iused < 168 || free < 168 {
            return Err(bad());
        }
        let iend = count_run(&raw, iused, u64::from(sb.ipg)).ok_or_else(bad)?;
        let fend = count_run(&raw, free, u64::from(sb.fpg)).ok_or_else(bad)?;
        if iused < fend && free < iend {
            return Err(format!("cylinder group {cgx}: maps overlap"));
        }
        let (mut clsum, mut clmap) = (0, 0);
        if sb.contigsumsize > 0 {
            clsum = u32_at(&raw, O_CLUSTERSUMOFF) as usize;
            clmap = u32_at(&raw, O_CLUSTEROFF) as usize;
            let nblk = u64::from(sb.fpg >> sb.fragshift);
            let send = clsum
                .checked_add((sb.contigsumsize as usize + 1) * 4)
                .filter(|&e| e <= raw.len())
                .ok_or_else(bad)?;
            let cend = count_run(&raw, clmap, nblk).ok_or_else(bad)?;
            // Index 0 of the cluster summary is never used and may
            // share bytes with the free map.
            let s1 = clsum + 4;
            let overlaps = |a: usize, ae: usize, b: usize, be: usize| a < be && b < ae;
            if clsum < 168
                || clmap < 168
                || overlaps(s1, send, clmap, cend)
                || overlaps(s1, send, free, fend)
                || overlaps(s1, send, iused, iend)
                || overlaps(clmap, cend, free, fend)
                || overlaps(clmap, cend, iused, iend)
            {
                return Err(format!("cylinder group {cgx}: cluster maps overlap"));
            }
        }
        if sb.ufs2 && u32_at(&raw, O_INITEDIBLK) > sb.ipg {
            return Err(format!("cylinder group {cgx}: bad initialised inode count"));
        }
        Ok(Cg {
            raw,
            cgx,
            ndblk,
            iused,
            free,
            clsum,
            clmap,
            ipg: sb.ipg,
            frag: sb.frag,
            contigsumsize: sb.contigsumsize,
            ufs2: sb.ufs2,
        })
    }

    pub fn cs(&self) -> Csum {
        let g = |k: usize| i64::from(i32_at(&self.raw, O_CS + 4 * k));
        Csum {
            ndir: g(0),
            nbfree: g(1),
            nifree: g(2),
            nffree: g(3),
        }
    }

    fn set_cs(&mut self, cs: &Csum) {
        for (k, v) in [cs.ndir, cs.nbfree, cs.nifree, cs.nffree]
            .into_iter()
            .enumerate()
        {
            put_i32(&mut self.raw, O_CS + 4 * k, v as i32);
        }
    }

    fn adjust(&mut self, f: impl FnOnce(&mut Csum)) {
        let mut cs = self.cs();
        f(&mut cs);
        self.set_cs(&cs);
    }

    pub fn rotor(&self) -> u64 {
        u64::from(u32_at(&self.raw, O_ROTOR))
    }

    pub fn set_rotor(&mut self, v: u64) {
        put_u32(&mut self.raw, O_ROTOR, v as u32);
    }

    pub fn frotor(&self) -> u64 {
        u64::from(u32_at(&self.raw, O_FROTOR))
    }

    pub fn set_frotor(&mut self, v: u64) {
        put_u32(&mut self.raw, O_FROTOR, v as u32);
    }

    pub fn irotor(&self) -> u32 {
        u32_at(&self.raw, O_IROTOR)
    }

    pub fn initediblk(&self) -> u32 {
        if self.ufs2 {
            u32_at(&self.raw, O_INITEDIBLK)
        } else {
            self.ipg
        }
    }

    pub fn set_initediblk(&mut self, v: u32) {
        put_u32(&mut self.raw, O_INITEDIBLK, v);
    }

    /// Whether fragment `f` (relative to the group) is free.
    pub fn frag_free(&self, f: u64) -> bool {
        f < self.ndblk && bit(&self.raw[self.free..], f)
    }

    /// Free fragments of the block holding fragment `f`, and whether the
    /// whole block is free.
    fn block_state(&self, blk: u64) -> (u64, bool) {
        let fr = u64::from(self.frag);
        let start = blk * fr;
        let n = (start..start + fr).filter(|&f| self.frag_free(f)).count() as u64;
        (n, n == fr)
    }

    fn contribution(&self, blk: u64) -> (i64, i64) {
        match self.block_state(blk) {
            (_, true) => (1, 0),
            (n, false) => (0, n as i64),
        }
    }

    /// Marks fragments `f..f+n` (one block at most) used or free,
    /// moving the free counts. Returns false (and changes nothing) if
    /// any of them was already in that state.
    pub fn set_frags(&mut self, f: u64, n: u64, free: bool) -> bool {
        let fr = u64::from(self.frag);
        if n == 0 || f + n > self.ndblk || f / fr != (f + n - 1) / fr {
            return false;
        }
        if (f..f + n).any(|x| self.frag_free(x) == free) {
            return false;
        }
        let blk = f / fr;
        let before = self.contribution(blk);
        let map = &mut self.raw[self.free..];
        for x in f..f + n {
            set_bit(map, x, free);
        }
        let after = self.contribution(blk);
        self.adjust(|cs| {
            cs.nbfree += after.0 - before.0;
            cs.nffree += after.1 - before.1;
        });
        true
    }

    /// Whether block `blk` (group-relative block number) is wholly free.
    pub fn block_free(&self, blk: u64) -> bool {
        (blk + 1) * u64::from(self.frag) <= self.ndblk && self.block_state(blk).1
    }

    /// Blocks in this group.
    pub fn nblocks(&self) -> u64 {
        self.ndblk.div_ceil(u64::from(self.frag))
    }

    /// The first wholly free block at or after `from`, wrapping.
    pub fn find_free_block(&self, from: u64) -> Option<u64> {
        let n = self.nblocks();
        if n == 0 {
            return None;
        }
        let from = from % n;
        (from..n).chain(0..from).find(|&b| self.block_free(b))
    }

    /// The best place for `n` fragments in a partly used block: the
    /// first run of the smallest size that fits, searching from `from`.
    /// Returns the group-relative fragment.
    pub fn find_frag_run(&self, n: u64, from: u64) -> Option<u64> {
        let fr = u64::from(self.frag);
        let nb = self.nblocks();
        if nb == 0 {
            return None;
        }
        let mut best: Option<(u64, u64)> = None;
        let from = from % nb;
        for blk in (from..nb).chain(0..from) {
            let (free, whole) = self.block_state(blk);
            if whole || free < n {
                continue;
            }
            let start = blk * fr;
            let mut run = 0;
            for f in start..=start + fr {
                if f < start + fr && self.frag_free(f) {
                    run += 1;
                    continue;
                }
                if run >= n && best.is_none_or(|(len, _)| run < len) {
                    best = Some((run, f - run));
                    if run == n {
                        return Some(f - run);
                    }
                }
                run = 0;
            }
        }
        best.map(|(_, at)| at)
    }

    /// Whether inode index `i` (within the group) is used.
    pub fn inode_used(&self, i: u32) -> bool {
        i < self.ipg && bit(&self.raw[self.iused..], u64::from(i))
    }

    /// Marks inode `i` used (or free), counting directories; false if it
    /// already was.
    pub fn set_inode(&mut self, i: u32, used: bool, dir: bool) -> bool {
        if i >= self.ipg || self.inode_used(i) == used {
            return false;
        }
        set_bit(&mut self.raw[self.iused..], u64::from(i), used);
        let d = if used { 1 } else { -1 };
        self.adjust(|cs| {
            cs.nifree -= d;
            if dir {
                cs.ndir += d;
            }
        });
        if used {
            put_u32(&mut self.raw, O_IROTOR, i);
        }
        true
    }

    /// The first free inode at or after `from`, wrapping.
    pub fn find_free_inode(&self, from: u32) -> Option<u32> {
        let from = from % self.ipg;
        (from..self.ipg)
            .chain(0..from)
            .find(|&i| !self.inode_used(i))
    }

    /// Brings the derived summaries (fragment runs, cluster map and
    /// summary, free counts) in line with the maps and stamps the time;
    /// returns the group's counts for the summary area.
    pub fn finish(&mut self, now: i64) -> Csum {
        let fr = u64::from(self.frag);
        let mut frsum = [0i32; 8];
        let (mut nbfree, mut nffree) = (0i64, 0i64);
        let nb = self.nblocks();
        let mut run = 0u64;
        let csz = self.contigsumsize.max(0) as u64;
        let mut clsum = vec![0i32; csz as usize + 1];
        let clmap = self.clmap;
        for blk in 0..nb {
            let whole = self.block_free(blk);
            if whole {
                nbfree += 1;
            } else {
                let start = blk * fr;
                let mut r = 0;
                for f in start..=start + fr {
                    if f < start + fr && self.frag_free(f) {
                        r += 1;
                        nffree += 1;
                    } else {
                        if r > 0 && r < fr {
                            frsum[r as usize] += 1;
                        }
                        r = 0;
                    }
                }
            }
            if csz > 0 {
                set_bit(&mut self.raw[clmap..], blk, whole);
                if whole {
                    run += 1;
                } else if run > 0 {
                    clsum[run.min(csz) as usize] += 1;
                    run = 0;
                }
            }
        }
        if csz > 0 {
            if run > 0 {
                clsum[run.min(csz) as usize] += 1;
            }
            for (i, v) in clsum.iter().enumerate().skip(1) {
                put_i32(&mut self.raw, self.clsum + 4 * i, *v);
            }
            put_u32(&mut self.raw, O_NCLUSTERBLKS, (self.ndblk / fr) as u32);
        }
        for (i, v) in frsum.iter().enumerate() {
            put_i32(&mut self.raw, O_FRSUM + 4 * i, *v);
        }
        let used = (0..self.ipg).filter(|&i| self.inode_used(i)).count() as i64;
        let mut cs = self.cs();
        cs.nbfree = nbfree;
        cs.nffree = nffree;
        cs.nifree = i64::from(self.ipg) - used;
        self.set_cs(&cs);
        put_i32(&mut self.raw, O_OLD_TIME, now as i32);
        put_i64(&mut self.raw, O_TIME, now);
        cs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::superblock::{test_raw, Superblock};

    fn group() -> (Superblock, Cg) {
        let sb = Superblock::parse(&test_raw(true), 8192, 8000 * 1024).unwrap();
        let mut raw = vec![0u8; 8192];
        put_u32(&mut raw, O_MAGIC, CG_MAGIC);
        put_u32(&mut raw, O_NDBLK, 4096);
        put_u32(&mut raw, O_IUSEDOFF, 168);
        put_u32(&mut raw, O_FREEOFF, 176);
        put_u32(&mut raw, O_INITEDIBLK, 64);
        let mut cg = Cg::parse(&sb, 0, raw).unwrap();
        for f in 48..4096 {
            set_bit(&mut cg.raw[176..], f, true);
        }
        cg.finish(0);
        (sb, cg)
    }

    #[test]
    fn counts_follow_every_change_and_match_a_recount() {
        let (_, mut cg) = group();
        assert_eq!((cg.cs().nbfree, cg.cs().nffree), (506, 0));
        assert!(cg.set_frags(48, 8, false), "a whole block");
        assert!(!cg.set_frags(48, 1, false), "already used");
        assert!(
            cg.set_frags(56, 3, false),
            "three fragments of a free block"
        );
        assert_eq!((cg.cs().nbfree, cg.cs().nffree), (504, 5));
        assert_eq!(cg.find_frag_run(2, 0), Some(59));
        assert_eq!(cg.find_frag_run(6, 0), None);
        assert_eq!(cg.find_free_block(0), Some(8));
        assert!(cg.set_frags(57, 1, true));
        assert_eq!(
            cg.find_frag_run(1, 0),
            Some(57),
            "the smallest run that fits"
        );
        assert!(!cg.set_frags(60, 8, false), "never across a block");
        assert!(cg.set_inode(5, true, true));
        assert!(!cg.set_inode(5, true, true));
        assert_eq!(cg.find_free_inode(5), Some(6));
        let before = cg.cs();
        let recount = cg.finish(1);
        assert_eq!(before, recount);
        assert_eq!((recount.ndir, recount.nifree), (1, 63));
        assert_eq!(i32_at(&cg.raw, O_FRSUM + 4), 1, "one run of one fragment");
        assert_eq!(i32_at(&cg.raw, O_FRSUM + 4 * 5), 1, "one run of five");
    }

    #[test]
    fn bad_groups_are_refused() {
        let (sb, cg) = group();
        let mut raw = cg.raw.clone();
        put_u32(&mut raw, O_MAGIC, 1);
        assert!(Cg::parse(&sb, 0, raw).is_err());
        let mut raw = cg.raw.clone();
        put_u32(&mut raw, O_FREEOFF, 8000);
        assert!(Cg::parse(&sb, 0, raw).is_err());
        assert!(
            Cg::parse(&sb, 1, cg.raw.clone()).is_err(),
            "wrong group number"
        );
    }
}
