//! A file's block tree: twelve direct pointers, then single, double and
//! triple indirect blocks. Finding the block behind a logical block,
//! allocating it (growing a fragment tail in place or moving it when it
//! must grow), and freeing everything past a new end of file.
//!
//! Every pointer read from disk is checked before it is followed, and
//! the tree is never deeper than three levels, so a corrupt or looping
//! tree ends in EIO, never in a panic or an endless walk.

use crate::core::Core;
use crate::inode::Dinode;
use crate::superblock::NDADDR;
use rump_plugin_api::{Errno, KResult};

/// Where a logical block lives: a direct slot, or the indirect tree
/// `level` (0: single, 1: double, 2: triple) with an index per level,
/// top first.
#[derive(Debug, PartialEq, Eq)]
pub enum Where {
    Direct(usize),
    Indirect { level: usize, idx: Vec<u64> },
}

/// The path to logical block `lbn`; EFBIG past the triple indirect.
pub fn locate(nindir: u64, lbn: u64) -> KResult<Where> {
    if lbn < NDADDR as u64 {
        return Ok(Where::Direct(lbn as usize));
    }
    let mut l = lbn - NDADDR as u64;
    let mut span = 1u64;
    for level in 0..3 {
        span = span.checked_mul(nindir).ok_or(Errno::EFBIG)?;
        if l < span {
            let mut idx = vec![0u64; level + 1];
            let mut rest = l;
            for d in (0..=level).rev() {
                idx[d] = rest % nindir;
                rest /= nindir;
            }
            return Ok(Where::Indirect { level, idx });
        }
        l -= span;
    }
    Err(Errno::EFBIG)
}

/// The first logical block covered by indirect tree `level`.
fn tree_base(nindir: u64, level: usize) -> u64 {
    let mut base = NDADDR as u64;
    let mut span = 1u64;
    for _ in 0..level {
        span = span.saturating_mul(nindir);
        base = base.saturating_add(span);
    }
    base
}

/// Indirect blocks read (and changed) during one operation.
pub struct Blocks<'a> {
    core: &'a Core,
    cache: Vec<(u64, Vec<u8>, bool)>,
}

impl<'a> Blocks<'a> {
    pub fn new(core: &'a Core) -> Blocks<'a> {
        Blocks {
            core,
            cache: Vec::new(),
        }
    }

    fn ind(&mut self, at: u64) -> KResult<usize> {
        if let Some(i) = self.cache.iter().position(|(a, _, _)| *a == at) {
            return Ok(i);
        }
        self.core.check(at, self.core.frag())?;
        if self.cache.len() >= 4 {
            let (a, b, dirty) = self.cache.remove(0);
            if dirty {
                self.core.write_frags(a, &b)?;
            }
        }
        let b = self.core.read_frags(at, self.core.bsize())?.into_vec();
        self.cache.push((at, b, false));
        Ok(self.cache.len() - 1)
    }

    /// Writes back changed indirect blocks.
    pub fn flush(&mut self) -> KResult<()> {
        for (a, b, dirty) in self.cache.iter_mut() {
            if *dirty {
                self.core.write_frags(*a, b)?;
                *dirty = false;
            }
        }
        Ok(())
    }

    /// The fragment address of logical block `lbn`, 0 for a hole.
    pub fn lookup(&mut self, d: &Dinode, lbn: u64) -> KResult<u64> {
        match locate(u64::from(self.core.geo.nindir), lbn)? {
            Where::Direct(i) => Ok(d.db[i]),
            Where::Indirect { level, idx } => {
                let mut at = d.ib[level];
                for &i in &idx {
                    if at == 0 {
                        return Ok(0);
                    }
                    let k = self.ind(at)?;
                    at = self.core.ptr_at(&self.cache[k].1, i);
                }
                Ok(at)
            }
        }
    }

    fn new_block(
        &mut self,
        d: &mut Dinode,
        ino: u32,
        lbn: u64,
        index: u64,
        prev: u64,
        n: u64,
    ) -> KResult<u64> {
        let mut a = self.core.alloc.lock();
        let pref = a.blkpref(ino, lbn, index, prev);
        let cg = self.core.geo.ino_to_cg(ino);
        let at = a.alloc(&self.core.disk, pref, cg, n)?;
        d.blocks = d.blocks.saturating_add(n * self.core.fsize() / 512);
        Ok(at)
    }

    /// Makes logical block `lbn` exist with at least `want` bytes (a
    /// multiple of the fragment size; the block size past the direct
    /// blocks). `have` is its current size when it exists (from the
    /// file's size). Returns its address, its size, and whether it is
    /// new (so reads as zeros).
    pub fn ensure(
        &mut self,
        ino: u32,
        d: &mut Dinode,
        lbn: u64,
        have: u64,
        want: u64,
    ) -> KResult<(u64, u64, bool)> {
        let fsz = self.core.fsize();
        let bsz = self.core.bsize();
        match locate(u64::from(self.core.geo.nindir), lbn)? {
            Where::Direct(i) => {
                let cur = d.db[i];
                let prev = if i > 0 { d.db[i - 1] } else { 0 };
                if cur == 0 {
                    let at = self.new_block(d, ino, lbn, lbn, prev, want / fsz)?;
                    d.db[i] = at;
                    return Ok((at, want, true));
                }
                let have = have.max(fsz);
                self.core.check(cur, have / fsz)?;
                if have >= want {
                    return Ok((cur, have, false));
                }
                let grown = {
                    let mut a = self.core.alloc.lock();
                    a.extend(&self.core.disk, cur, have / fsz, want / fsz)?
                };
                if grown {
                    d.blocks = d.blocks.saturating_add((want - have) / 512);
                    return Ok((cur, want, false));
                }
                // Move the fragments to a place with room.
                let old = self.core.read_frags(cur, have)?;
                let at = self.new_block(d, ino, lbn, lbn, prev, want / fsz)?;
                let mut buf = old;
                buf.resize(want as usize, 0);
                self.core.write_frags(at, &buf)?;
                self.core
                    .alloc
                    .lock()
                    .free(&self.core.disk, cur, have / fsz)?;
                d.blocks = d.blocks.saturating_sub(have / 512);
                d.db[i] = at;
                Ok((at, want, false))
            }
            Where::Indirect { level, idx } => {
                let frag = self.core.frag();
                if d.ib[level] == 0 {
                    let at = self.new_block(d, ino, lbn, 0, 0, frag)?;
                    self.cache.push((at, vec![0u8; bsz as usize], true));
                    d.ib[level] = at;
                }
                let mut parent = d.ib[level];
                for (depth, &i) in idx.iter().enumerate() {
                    let k = self.ind(parent)?;
                    let entry = self.core.ptr_at(&self.cache[k].1, i);
                    let leaf = depth == level;
                    if entry != 0 {
                        if leaf {
                            self.core.check(entry, frag)?;
                            return Ok((entry, bsz, false));
                        }
                        parent = entry;
                        continue;
                    }
                    let prev = if i > 0 {
                        self.core.ptr_at(&self.cache[k].1, i - 1)
                    } else {
                        0
                    };
                    let at = self.new_block(d, ino, lbn, i, prev, frag)?;
                    // `ind` may have reordered the cache: find it again.
                    let k = self.ind(parent)?;
                    let core = self.core;
                    core.set_ptr(&mut self.cache[k].1, i, at);
                    self.cache[k].2 = true;
                    if leaf {
                        return Ok((at, bsz, true));
                    }
                    if self.cache.len() >= 4 {
                        self.flush()?;
                        self.cache.remove(0);
                    }
                    self.cache.push((at, vec![0u8; bsz as usize], true));
                    parent = at;
                }
                Err(Errno::EIO)
            }
        }
    }
}

/// Frees every block of `d` past `new_size` (which is below its size),
/// trims a direct tail block to its fragments, and zeroes the tail of
/// the new last block. The inode's pointers and block count follow.
pub fn truncate(core: &Core, d: &mut Dinode, new_size: u64) -> KResult<()> {
    let bsz = core.bsize();
    let fsz = core.fsize();
    let last = if new_size == 0 {
        None
    } else {
        Some((new_size - 1) / bsz)
    };
    let old_size = d.size;
    for lbn in 0..NDADDR as u64 {
        let at = d.db[lbn as usize];
        if at == 0 {
            continue;
        }
        let osz = core.geo.blksize(old_size, lbn);
        let keep = match last {
            Some(l) if lbn < l => osz,
            Some(l) if lbn == l => core.geo.blksize(new_size, lbn).min(osz),
            _ => 0,
        };
        if keep == 0 {
            core.alloc.lock().free(&core.disk, at, osz / fsz)?;
            d.db[lbn as usize] = 0;
            d.blocks = d.blocks.saturating_sub(osz / 512);
        } else if keep < osz {
            core.alloc
                .lock()
                .free(&core.disk, at + keep / fsz, (osz - keep) / fsz)?;
            d.blocks = d.blocks.saturating_sub((osz - keep) / 512);
        }
    }
    let nindir = u64::from(core.geo.nindir);
    for level in 0..3 {
        let at = d.ib[level];
        if at == 0 {
            continue;
        }
        let base = tree_base(nindir, level);
        let span = (0..=level).fold(1u64, |s, _| s.saturating_mul(nindir));
        match last {
            Some(l) if l >= base.saturating_add(span) - 1 => {}
            Some(l) if l >= base => {
                free_tree(core, d, at, level, Some(l - base))?;
            }
            _ => {
                free_tree(core, d, at, level, None)?;
                core.alloc.lock().free(&core.disk, at, core.frag())?;
                d.blocks = d.blocks.saturating_sub(bsz / 512);
                d.ib[level] = 0;
            }
        }
    }
    d.size = new_size;
    // Zero what lies past the new end in the last block.
    if let Some(l) = last {
        let off = new_size % bsz;
        if off != 0 {
            let at = Blocks::new(core).lookup(d, l)?;
            if at != 0 {
                let have = core.geo.blksize(new_size, l);
                core.check(at, have / fsz)?;
                let mut b = core.read_frags(at, have)?;
                b[off as usize..].fill(0);
                core.write_frags(at, &b)?;
            }
        }
    }
    Ok(())
}

/// Frees the entries of the indirect block `at` (of tree `level`) past
/// relative logical block `keep` (all of them for `None`), returning
/// with the block rewritten. The block itself is the caller's.
fn free_tree(core: &Core, d: &mut Dinode, at: u64, level: usize, keep: Option<u64>) -> KResult<()> {
    core.check(at, core.frag())?;
    let nindir = u64::from(core.geo.nindir);
    let mut blk = core.read_frags(at, core.bsize())?;
    let span = (0..level).fold(1u64, |s, _| s.saturating_mul(nindir));
    let mut changed = false;
    let bsz = core.bsize();
    for i in 0..nindir {
        let entry = core.ptr_at(&blk, i);
        if entry == 0 {
            continue;
        }
        let start = i * span;
        match keep {
            Some(k) if start <= k => {
                if level > 0 && start.saturating_add(span) - 1 > k {
                    free_tree(core, d, entry, level - 1, Some(k - start))?;
                }
            }
            _ => {
                if level > 0 {
                    free_tree(core, d, entry, level - 1, None)?;
                }
                core.alloc.lock().free(&core.disk, entry, core.frag())?;
                d.blocks = d.blocks.saturating_sub(bsz / 512);
                core.set_ptr(&mut blk, i, 0);
                changed = true;
            }
        }
    }
    if changed {
        core.write_frags(at, &blk)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_through_the_tree() {
        assert_eq!(locate(4, 0).unwrap(), Where::Direct(0));
        assert_eq!(locate(4, 11).unwrap(), Where::Direct(11));
        assert_eq!(
            locate(4, 12).unwrap(),
            Where::Indirect {
                level: 0,
                idx: vec![0]
            }
        );
        assert_eq!(
            locate(4, 15).unwrap(),
            Where::Indirect {
                level: 0,
                idx: vec![3]
            }
        );
        assert_eq!(
            locate(4, 16).unwrap(),
            Where::Indirect {
                level: 1,
                idx: vec![0, 0]
            }
        );
        assert_eq!(
            locate(4, 16 + 5).unwrap(),
            Where::Indirect {
                level: 1,
                idx: vec![1, 1]
            }
        );
        assert_eq!(
            locate(4, 32).unwrap(),
            Where::Indirect {
                level: 2,
                idx: vec![0, 0, 0]
            }
        );
        assert_eq!(
            locate(4, 32 + 63).unwrap(),
            Where::Indirect {
                level: 2,
                idx: vec![3, 3, 3]
            }
        );
        assert_eq!(locate(4, 32 + 64), Err(Errno::EFBIG));
        assert_eq!(tree_base(4, 0), 12);
        assert_eq!(tree_base(4, 1), 16);
        assert_eq!(tree_base(4, 2), 32);
    }
}
