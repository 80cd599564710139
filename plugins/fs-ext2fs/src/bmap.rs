//! The block map of an inode: twelve direct pointers, then a single, a
//! double and a triple indirect block. Looking a file block up,
//! allocating it (with the indirect blocks on the way), and freeing
//! every block from some file block on (truncation).
//!
//! Pointers are untrusted: one outside the file system is an I/O error
//! when read through, and is dropped without being freed when
//! truncating. Truncation descends only into indirect blocks still
//! marked in use and frees each before leaving it, so a damaged map
//! whose pointers repeat or loop costs no more than the blocks it
//! really has.

use crate::dinode::{Dinode, FL_EXTENTS, FL_INLINE_DATA, N_DIRECT};
use crate::fs::Fs;
use crate::le::{set_u32, u32_at};
use crate::superblock::Geometry;
use rump_plugin_api::{Errno, KResult};

/// Whether the inode's block pointers really are a block map: regular
/// files, directories and symbolic links too long to live in the inode,
/// unless flagged as something else (extents, inline data).
pub fn has_block_map(geo: &Geometry, d: &Dinode) -> bool {
    if check_mappable(d).is_err() {
        return false;
    }
    if d.is_reg() || d.is_dir() {
        return true;
    }
    d.is_lnk() && !is_fast_symlink(geo, d)
}

/// Whether a symbolic link keeps its target in the inode: it has no
/// blocks (other than an attribute block).
pub fn is_fast_symlink(geo: &Geometry, d: &Dinode) -> bool {
    let acl = if d.file_acl() != 0 {
        u64::from(geo.bsize / 512)
    } else {
        0
    };
    d.is_lnk() && d.sectors(geo.bsize).saturating_sub(acl) == 0
}

/// EIO for an inode whose data this implementation cannot map (extents
/// or inline data on a file system without those features).
pub fn check_mappable(d: &Dinode) -> KResult<()> {
    if d.flags() & (FL_EXTENTS | FL_INLINE_DATA) != 0 {
        return Err(Errno::EIO);
    }
    Ok(())
}

/// Where file block `lbn` hangs: the inode slot, then the index in each
/// indirect block down to it. EFBIG beyond what the map can address.
fn path(n: u64, lbn: u64) -> KResult<(usize, Vec<usize>)> {
    if lbn < N_DIRECT as u64 {
        return Ok((lbn as usize, Vec::new()));
    }
    let mut x = lbn - N_DIRECT as u64;
    if x < n {
        return Ok((12, vec![x as usize]));
    }
    x -= n;
    if x < n * n {
        return Ok((13, vec![(x / n) as usize, (x % n) as usize]));
    }
    x -= n * n;
    if x < n * n * n {
        return Ok((
            14,
            vec![
                (x / (n * n)) as usize,
                ((x / n) % n) as usize,
                (x % n) as usize,
            ],
        ));
    }
    Err(Errno::EFBIG)
}

fn ptr(fs: &Fs, blk: u64, i: usize) -> KResult<u64> {
    fs.cache.read(blk, |b| u64::from(u32_at(b, 4 * i)))
}

/// The device block of file block `lbn`, None for a hole.
pub fn lookup(fs: &Fs, d: &Dinode, lbn: u64) -> KResult<Option<u64>> {
    let (slot, idx) = match path(fs.geo.ptrs_per_block(), lbn) {
        Ok(p) => p,
        Err(_) => return Ok(None),
    };
    let mut b = d.block(slot);
    for &i in &idx {
        if b == 0 {
            return Ok(None);
        }
        if !fs.geo.valid_block(b) {
            return Err(Errno::EIO);
        }
        b = ptr(fs, b, i)?;
    }
    if b == 0 {
        return Ok(None);
    }
    if !fs.geo.valid_block(b) {
        return Err(Errno::EIO);
    }
    Ok(Some(b))
}

/// Counts one more block in `i_blocks`; EFBIG if it cannot.
fn charge_block(fs: &Fs, d: &mut Dinode) -> KResult<()> {
    let per = u64::from(fs.geo.bsize / 512);
    let n = d.blocks_raw() + per;
    if n > u64::from(u32::MAX) {
        return Err(Errno::EFBIG);
    }
    d.set_sectors(n);
    Ok(())
}

/// A new block near `goal`, counted in `d`; an indirect block (`meta`)
/// is zeroed in the cache, a data block is the caller's to fill.
fn new_block(fs: &Fs, d: &mut Dinode, goal: &mut u64, meta: bool) -> KResult<u64> {
    let per = u64::from(fs.geo.bsize / 512);
    if d.blocks_raw() + per > u64::from(u32::MAX) {
        return Err(Errno::EFBIG);
    }
    let b = fs.alloc_block(*goal)?;
    if meta {
        if let Err(e) = fs.cache.overwrite(b, |_| ()) {
            let _ = fs.free_block(b);
            return Err(e);
        }
    }
    charge_block(fs, d)?;
    *goal = b + 1;
    Ok(b)
}

/// The device block of file block `lbn`, allocated (with any missing
/// indirect blocks) if it is a hole; true when the data block is new
/// and holds whatever the device had there.
pub fn map_alloc(fs: &Fs, d: &mut Dinode, lbn: u64, goal: &mut u64) -> KResult<(u64, bool)> {
    let (slot, idx) = path(fs.geo.ptrs_per_block(), lbn)?;
    let mut b = d.block(slot);
    if idx.is_empty() {
        if b != 0 {
            if !fs.geo.valid_block(b) {
                return Err(Errno::EIO);
            }
            return Ok((b, false));
        }
        let nb = new_block(fs, d, goal, false)?;
        d.set_block(slot, nb);
        return Ok((nb, true));
    }
    if b == 0 {
        b = new_block(fs, d, goal, true)?;
        d.set_block(slot, b);
    }
    for (level, &i) in idx.iter().enumerate() {
        if !fs.geo.valid_block(b) {
            return Err(Errno::EIO);
        }
        let last = level + 1 == idx.len();
        let next = ptr(fs, b, i)?;
        if next != 0 {
            if last {
                if !fs.geo.valid_block(next) {
                    return Err(Errno::EIO);
                }
                return Ok((next, false));
            }
            b = next;
            continue;
        }
        let nb = new_block(fs, d, goal, !last)?;
        if let Err(e) = fs.cache.modify(b, |blk| set_u32(blk, 4 * i, nb as u32)) {
            let _ = fs.free_block(nb);
            return Err(e);
        }
        if last {
            return Ok((nb, true));
        }
        b = nb;
    }
    Err(Errno::EIO)
}

/// What a truncation may still visit (indirect blocks), against damaged
/// maps.
struct Budget(u64);

impl Budget {
    fn spend(&mut self) -> KResult<()> {
        if self.0 == 0 {
            return Err(Errno::EIO);
        }
        self.0 -= 1;
        Ok(())
    }
}

/// Frees one block of `d`'s map and uncounts it.
fn release(fs: &Fs, d: &mut Dinode, b: u64) -> KResult<()> {
    let per = u64::from(fs.geo.bsize / 512);
    d.set_sectors(d.blocks_raw().saturating_sub(per));
    fs.free_block(b)
}

/// Frees the subtree under indirect block `blk` of `level` (1: its
/// pointers are data blocks) and the block itself.
fn free_tree(fs: &Fs, d: &mut Dinode, blk: u64, level: u32, budget: &mut Budget) -> KResult<()> {
    if !fs.geo.valid_block(blk) {
        return Ok(());
    }
    if !fs.block_in_use(blk)? {
        // Already freed through another pointer: do not descend twice.
        return Ok(());
    }
    budget.spend()?;
    let ptrs: Vec<u64> = fs.cache.read(blk, |b| {
        b.chunks_exact(4)
            .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    })?;
    for p in ptrs.into_iter().filter(|&p| p != 0) {
        if level == 1 {
            if fs.geo.valid_block(p) {
                release(fs, d, p)?;
            }
        } else {
            free_tree(fs, d, p, level - 1, budget)?;
        }
    }
    release(fs, d, blk)
}

/// Frees what indirect block `blk` of `level` maps from file block
/// `from` on, where its first entry maps file block `base`. Returns
/// whether `blk` now maps nothing (and was freed).
fn trunc_tree(
    fs: &Fs,
    d: &mut Dinode,
    blk: u64,
    level: u32,
    base: u64,
    from: u64,
    budget: &mut Budget,
) -> KResult<bool> {
    if !fs.geo.valid_block(blk) || !fs.block_in_use(blk)? {
        return Ok(true);
    }
    budget.spend()?;
    let n = fs.geo.ptrs_per_block();
    let span = n.pow(level - 1);
    let ptrs: Vec<u64> = fs.cache.read(blk, |b| {
        b.chunks_exact(4)
            .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    })?;
    let mut cleared = Vec::new();
    let mut left = false;
    for (i, &p) in ptrs.iter().enumerate() {
        if p == 0 {
            continue;
        }
        let child_base = base + i as u64 * span;
        if child_base + span <= from {
            left = true;
            continue;
        }
        let gone = if level == 1 {
            if fs.geo.valid_block(p) {
                release(fs, d, p)?;
            }
            true
        } else if child_base >= from {
            free_tree(fs, d, p, level - 1, budget)?;
            true
        } else {
            trunc_tree(fs, d, p, level - 1, child_base, from, budget)?
        };
        if gone {
            cleared.push(i);
        } else {
            left = true;
        }
    }
    if !left {
        release(fs, d, blk)?;
        return Ok(true);
    }
    if !cleared.is_empty() {
        fs.cache.modify(blk, |b| {
            for i in cleared {
                set_u32(b, 4 * i, 0);
            }
        })?;
    }
    Ok(false)
}

/// Frees every block of `d` mapping file block `from` or later, and the
/// indirect blocks left empty.
pub fn truncate(fs: &Fs, d: &mut Dinode, from: u64) -> KResult<()> {
    check_mappable(d)?;
    let n = fs.geo.ptrs_per_block();
    let per = u64::from(fs.geo.bsize / 512);
    let mut budget = Budget((d.blocks_raw() / per).min(fs.geo.blocks_count) + 16);
    for s in (from.min(N_DIRECT as u64) as usize)..N_DIRECT {
        let b = d.block(s);
        if b != 0 {
            if fs.geo.valid_block(b) {
                release(fs, d, b)?;
            }
            d.set_block(s, 0);
        }
    }
    let mut base = N_DIRECT as u64;
    for (slot, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
        let span = n.pow(level);
        let b = d.block(slot);
        if b != 0 && from < base + span {
            let gone = if from <= base {
                free_tree(fs, d, b, level, &mut budget)?;
                true
            } else {
                trunc_tree(fs, d, b, level, base, from, &mut budget)?
            };
            if gone {
                d.set_block(slot, 0);
            }
        }
        base += span;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let n = 256;
        assert_eq!(path(n, 0).unwrap(), (0, vec![]));
        assert_eq!(path(n, 11).unwrap(), (11, vec![]));
        assert_eq!(path(n, 12).unwrap(), (12, vec![0]));
        assert_eq!(path(n, 12 + 255).unwrap(), (12, vec![255]));
        assert_eq!(path(n, 12 + 256).unwrap(), (13, vec![0, 0]));
        assert_eq!(path(n, 12 + 256 + 257).unwrap(), (13, vec![1, 1]));
        let t = 12 + 256 + 256 * 256;
        assert_eq!(path(n, t).unwrap(), (14, vec![0, 0, 0]));
        assert_eq!(path(n, t + 256 * 256 + 3).unwrap(), (14, vec![1, 0, 3]));
        assert_eq!(path(n, t + 256 * 256 * 256), Err(Errno::EFBIG));
    }
}
