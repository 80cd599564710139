//! Block, fragment and inode allocation over the cylinder groups, with
//! NetBSD's policy in spirit: a file's blocks go to its inode's group
//! and follow each other, a big file moves to another group every
//! `fs_maxbpg` blocks, small tails take fragments, new directories are
//! spread over groups with many free inodes and few directories, and a
//! full group sends the search to others (quadratic rehash, then every
//! group in turn).
//!
//! A few cylinder group blocks are cached (charged to the kernel); a
//! changed one is written back when it leaves the cache and on
//! [`Alloc::flush`], which also writes the summary area and the
//! superblock with exact totals.

use crate::cg::Cg;
use crate::disk::Disk;
use crate::mem::Mem;
use crate::superblock::{Csum, Superblock, NDADDR};
use rump_plugin_api::kernel;
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::Arc;

/// Cylinder group blocks kept in memory at once.
const CG_CACHE: usize = 16;

struct Slot {
    cg: Cg,
    dirty: bool,
    used: u64,
}

/// The allocation state of a mount (under one lock).
pub struct Alloc {
    pub sb: Superblock,
    pub cs: Vec<Csum>,
    cs_raw: Vec<u8>,
    cgs: HashMap<u32, Slot>,
    tick: u64,
    mem: Arc<Mem>,
    rng: u64,
    /// Set when anything changed since the last flush.
    pub dirty: bool,
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Alloc {
    /// Reads the summary area of `sb`.
    pub fn load(sb: Superblock, disk: &Disk, mem: Arc<Mem>) -> KResult<Alloc> {
        let len = sb.fragroundup(u64::from(sb.cssize));
        mem.reserve(len + u64::from(sb.ncg) * 32)?;
        let raw = disk.read(sb.fsb_bytes(sb.csaddr), len as usize)?.into_vec();
        let cs = (0..sb.ncg as usize)
            .map(|c| {
                let g = |k: usize| i64::from(crate::le::i32_at(&raw, c * 16 + 4 * k));
                Csum {
                    ndir: g(0),
                    nbfree: g(1),
                    nifree: g(2),
                    nffree: g(3),
                }
            })
            .collect();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Ok(Alloc {
            sb,
            cs,
            cs_raw: raw,
            cgs: HashMap::new(),
            tick: 0,
            mem,
            rng: seed,
            dirty: false,
        })
    }

    /// A pseudo-random number (inode generations, directory placement).
    pub fn random(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 16) as u32
    }

    fn write_cg(&mut self, disk: &Disk, c: u32) -> KResult<()> {
        let now = now_secs();
        let Some(slot) = self.cgs.get_mut(&c) else {
            return Ok(());
        };
        if !slot.dirty {
            return Ok(());
        }
        let cs = slot.cg.finish(now);
        disk.write(self.sb.fsb_bytes(self.sb.cgtod(c)), &slot.cg.raw)?;
        slot.dirty = false;
        if let Some(x) = self.cs.get_mut(c as usize) {
            *x = cs;
        }
        Ok(())
    }

    /// Group `c`'s block, read if need be.
    fn cg(&mut self, disk: &Disk, c: u32) -> KResult<&mut Slot> {
        if c >= self.sb.ncg {
            return Err(Errno::EIO);
        }
        self.tick += 1;
        if !self.cgs.contains_key(&c) {
            if self.cgs.len() >= CG_CACHE {
                let victim = self.cgs.iter().min_by_key(|(_, s)| s.used).map(|(&k, _)| k);
                if let Some(v) = victim {
                    self.write_cg(disk, v)?;
                    self.cgs.remove(&v);
                    self.mem.release(u64::from(self.sb.cgsize));
                }
            }
            let raw = disk
                .read(self.sb.fsb_bytes(self.sb.cgtod(c)), self.sb.cgsize as usize)?
                .into_vec();
            let cg = Cg::parse(&self.sb, c, raw).map_err(|why| {
                kernel::warn(&format!("ffs: {why}"));
                Errno::EIO
            })?;
            self.mem.reserve(u64::from(self.sb.cgsize))?;
            self.cgs.insert(
                c,
                Slot {
                    cg,
                    dirty: false,
                    used: 0,
                },
            );
        }
        let tick = self.tick;
        let slot = self.cgs.get_mut(&c).ok_or(Errno::EIO)?;
        slot.used = tick;
        Ok(slot)
    }

    /// Runs `f` on group `c`, keeping the group's and the file system's
    /// counts in step with what `f` changed.
    fn with_cg<R>(&mut self, disk: &Disk, c: u32, f: impl FnOnce(&mut Cg) -> R) -> KResult<R> {
        let slot = self.cg(disk, c)?;
        let before = slot.cg.cs();
        let r = f(&mut slot.cg);
        let after = slot.cg.cs();
        if after != before {
            slot.dirty = true;
            let d = Csum {
                ndir: after.ndir - before.ndir,
                nbfree: after.nbfree - before.nbfree,
                nifree: after.nifree - before.nifree,
                nffree: after.nffree - before.nffree,
            };
            if let Some(x) = self.cs.get_mut(c as usize) {
                x.add(&d);
            }
            self.sb.cstotal.add(&d);
            self.dirty = true;
        }
        Ok(r)
    }

    /// Where block `lbn` of inode `ino` should go, given the block
    /// before it in the same pointer array (`prev`, 0 for none) and its
    /// index there.
    pub fn blkpref(&self, ino: u32, lbn: u64, index: u64, prev: u64) -> u64 {
        let sb = &self.sb;
        let maxbpg = u64::from(sb.maxbpg);
        if prev != 0 && index % maxbpg != 0 {
            return prev + u64::from(sb.frag);
        }
        let icg = sb.ino_to_cg(ino);
        if lbn < NDADDR as u64 + u64::from(sb.nindir) {
            return sb.cgbase(icg) + u64::from(sb.frag);
        }
        // Move on to a group with more free blocks than average.
        let start = if prev != 0 {
            (sb.dtog(prev) + 1) % sb.ncg
        } else {
            ((u64::from(icg) + lbn / maxbpg) % u64::from(sb.ncg)) as u32
        };
        let (avg, _) = sb.avg_free();
        let n = sb.ncg;
        (start..n)
            .chain(0..start)
            .find(|&c| {
                self.cs
                    .get(c as usize)
                    .is_some_and(|x| x.nbfree >= avg.max(1))
            })
            .map_or(0, |c| sb.cgbase(c) + u64::from(sb.frag))
    }

    /// The order groups are tried in, starting with `first`: NetBSD's
    /// quadratic rehash, then every group.
    fn probe_order(&self, first: u32) -> Vec<u32> {
        let n = self.sb.ncg;
        let mut v = vec![first % n];
        let mut c = first % n;
        let mut i = 1u32;
        while i < n {
            c = ((u64::from(c) + u64::from(i)) % u64::from(n)) as u32;
            v.push(c);
            i = i.saturating_mul(2);
        }
        let start = (first + 2) % n;
        v.extend((start..n).chain(0..start));
        let mut seen = vec![false; n as usize];
        v.retain(|&c| !std::mem::replace(&mut seen[c as usize], true));
        v
    }

    /// Allocates `n` fragments (a whole block when `n` is the block's
    /// count) near `pref`, or in group `cg_hint` when there is no
    /// preference.
    pub fn alloc(&mut self, disk: &Disk, pref: u64, cg_hint: u32, n: u64) -> KResult<u64> {
        let frag = u64::from(self.sb.frag);
        if n == 0 || n > frag {
            return Err(Errno::EINVAL);
        }
        if self.sb.free_frags() < n as i64 || (n == frag && self.sb.cstotal.nbfree <= 0) {
            return Err(Errno::ENOSPC);
        }
        let pref = if pref < self.sb.size { pref } else { 0 };
        let first = if pref != 0 {
            self.sb.dtog(pref)
        } else {
            cg_hint % self.sb.ncg
        };
        for c in self.probe_order(first) {
            let cs = self.cs.get(c as usize).copied().unwrap_or_default();
            if cs.nbfree <= 0 && (n == frag || cs.nffree < n as i64) {
                continue;
            }
            let base = self.sb.cgbase(c);
            let rel_pref =
                (pref >= base && pref < base + u64::from(self.sb.fpg)).then(|| pref - base);
            let got = self.with_cg(disk, c, |cg| {
                if n == frag {
                    let from = rel_pref.map_or(cg.rotor(), |p| p / frag);
                    let b = cg.find_free_block(from)?;
                    cg.set_frags(b * frag, frag, false).then_some(())?;
                    cg.set_rotor(b * frag);
                    Some(b * frag)
                } else {
                    let at = match cg.find_frag_run(n, cg.frotor() / frag) {
                        Some(at) => at,
                        None => {
                            cg.find_free_block(rel_pref.map_or(cg.rotor(), |p| p / frag))? * frag
                        }
                    };
                    cg.set_frags(at, n, false).then_some(())?;
                    cg.set_frotor(at);
                    Some(at)
                }
            })?;
            if let Some(rel) = got {
                return Ok(base + rel);
            }
        }
        Err(Errno::ENOSPC)
    }

    /// Grows the fragments at `at` from `old` to `new` in place, if the
    /// ones after them are free.
    pub fn extend(&mut self, disk: &Disk, at: u64, old: u64, new: u64) -> KResult<bool> {
        let frag = u64::from(self.sb.frag);
        if new <= old || new > frag || (at % frag) + new > frag {
            return Ok(false);
        }
        let c = self.sb.dtog(at);
        let rel = at - self.sb.cgbase(c);
        self.with_cg(disk, c, |cg| cg.set_frags(rel + old, new - old, false))
    }

    /// Frees `n` fragments at `at`.
    pub fn free(&mut self, disk: &Disk, at: u64, n: u64) -> KResult<()> {
        if !self.sb.data_range_ok(at, n) {
            kernel::warn(&format!("ffs: freeing bad block {at} ({n} fragments)"));
            return Err(Errno::EIO);
        }
        let c = self.sb.dtog(at);
        let rel = at - self.sb.cgbase(c);
        if self.with_cg(disk, c, |cg| cg.set_frags(rel, n, true))? {
            Ok(())
        } else {
            kernel::warn(&format!("ffs: freeing free fragment {at} ({n} fragments)"));
            Err(Errno::EIO)
        }
    }

    /// Whether fragments `at..at+n` are marked in use.
    pub fn in_use(&mut self, disk: &Disk, at: u64, n: u64) -> KResult<bool> {
        let c = self.sb.dtog(at);
        let rel = at - self.sb.cgbase(c);
        self.with_cg(disk, c, |cg| (rel..rel + n).all(|f| !cg.frag_free(f)))
    }

    /// The group for a new directory under a directory in `parent_cg`
    /// (`top`: the parent is the root): spread top-level directories
    /// over the groups with the fewest directories and enough room;
    /// keep others near their parent while that group has room.
    pub fn dirpref(&mut self, parent_cg: u32, top: bool) -> u32 {
        let n = self.sb.ncg;
        let (avgb, avgi) = self.sb.avg_free();
        let cs = self.cs.clone();
        let ok = |c: u32, fb: i64, fi: i64| {
            let x = cs[c as usize];
            x.nifree > 0 && x.nifree >= fi && x.nbfree >= fb
        };
        if top {
            let start = self.random() % n;
            let mut best: Option<u32> = None;
            for c in (start..n).chain(0..start) {
                if ok(c, avgb, avgi)
                    && best.is_none_or(|b| cs[c as usize].ndir < cs[b as usize].ndir)
                {
                    best = Some(c);
                }
            }
            if let Some(b) = best {
                return b;
            }
        } else {
            let (minb, mini) = (avgb / 4, avgi / 4);
            for c in (parent_cg..n).chain(0..parent_cg) {
                if ok(c, minb, mini) {
                    return c;
                }
            }
        }
        (parent_cg..n)
            .chain(0..parent_cg)
            .find(|&c| cs[c as usize].nifree > 0)
            .unwrap_or(parent_cg)
    }

    /// Allocates an inode, preferably in group `pref_cg`. New inode
    /// blocks of UFS2 groups are initialised as they come into use.
    pub fn alloc_inode(&mut self, disk: &Disk, pref_cg: u32, dir: bool) -> KResult<u32> {
        if self.sb.cstotal.nifree <= 0 {
            return Err(Errno::ENOSPC);
        }
        for c in self.probe_order(pref_cg % self.sb.ncg) {
            if self.cs.get(c as usize).is_none_or(|x| x.nifree <= 0) {
                continue;
            }
            let found = self.with_cg(disk, c, |cg| cg.find_free_inode(cg.irotor()))?;
            let Some(i) = found else { continue };
            let ino = c * self.sb.ipg + i;
            if ino < crate::superblock::ROOTINO {
                continue;
            }
            // UFS2: initialise inode blocks up to the one holding `i`.
            loop {
                let inited = self.with_cg(disk, c, |cg| cg.initediblk())?;
                if i < inited || inited >= self.sb.ipg {
                    break;
                }
                let first = c * self.sb.ipg + inited;
                let isz = self.sb.isize() as usize;
                let mut blk = vec![0u8; self.sb.inopb as usize * isz];
                for k in 0..self.sb.inopb as usize {
                    let g = self.random();
                    crate::le::put_u32(&mut blk, k * isz + 80, g);
                }
                disk.write(self.sb.ino_offset(first), &blk)?;
                let next = (inited + self.sb.inopb).min(self.sb.ipg);
                let slot = self.cg(disk, c)?;
                slot.cg.set_initediblk(next);
                slot.dirty = true;
                self.dirty = true;
            }
            if self.with_cg(disk, c, |cg| cg.set_inode(i, true, dir))? {
                return Ok(ino);
            }
        }
        Err(Errno::ENOSPC)
    }

    /// How many inodes of group `c` are initialised (all on UFS1).
    pub fn initediblk(&mut self, disk: &Disk, c: u32) -> KResult<u32> {
        self.with_cg(disk, c, |cg| cg.initediblk())
    }

    /// Frees inode `ino`.
    pub fn free_inode(&mut self, disk: &Disk, ino: u32, dir: bool) -> KResult<()> {
        let c = self.sb.ino_to_cg(ino);
        let i = ino % self.sb.ipg;
        if c >= self.sb.ncg || !self.with_cg(disk, c, |cg| cg.set_inode(i, false, dir))? {
            kernel::warn(&format!("ffs: freeing free inode {ino}"));
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Whether inode `ino` is marked in use.
    pub fn inode_used(&mut self, disk: &Disk, ino: u32) -> KResult<bool> {
        let c = self.sb.ino_to_cg(ino);
        let i = ino % self.sb.ipg;
        self.with_cg(disk, c, |cg| cg.inode_used(i))
    }

    /// Writes every changed group, the summary area and the superblock.
    pub fn flush(&mut self, disk: &Disk) -> KResult<()> {
        let dirty: Vec<u32> = self
            .cgs
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(&c, _)| c)
            .collect();
        for c in dirty {
            self.write_cg(disk, c)?;
        }
        let mut total = Csum::default();
        for (c, x) in self.cs.iter().enumerate() {
            total.add(x);
            for (k, v) in [x.ndir, x.nbfree, x.nifree, x.nffree]
                .into_iter()
                .enumerate()
            {
                crate::le::put_i32(&mut self.cs_raw, c * 16 + 4 * k, v as i32);
            }
        }
        self.sb.cstotal = total;
        disk.write(self.sb.fsb_bytes(self.sb.csaddr), &self.cs_raw)?;
        self.write_sb(disk)?;
        self.dirty = false;
        Ok(())
    }

    /// Writes the superblock alone.
    pub fn write_sb(&mut self, disk: &Disk) -> KResult<()> {
        self.sb.time = now_secs();
        let enc = self.sb.encode();
        let len = enc.len().div_ceil(512) * 512;
        let mut buf = if len != enc.len() {
            disk.read(self.sb.loc, len)?.into_vec()
        } else {
            vec![0u8; len]
        };
        buf[..enc.len()].copy_from_slice(&enc);
        disk.write(self.sb.loc, &buf)
    }

    /// Returns what the cache charged (unmount).
    pub fn release_all(&mut self) {
        let n = self.cgs.len() as u64;
        self.cgs.clear();
        self.mem.release(n * u64::from(self.sb.cgsize));
    }
}
