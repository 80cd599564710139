//! Directories as files of directory blocks: finding a name, listing
//! from a cookie (the byte offset of a record), adding a name where a
//! block has room or in a new block at the end, removing, retargeting
//! and checking emptiness.
//!
//! A directory is read up to its size or its first hole, whichever
//! comes first. A changed directory loses its hash-index flag: the
//! index is not maintained, and the linear records are what every
//! implementation falls back on.

use crate::bmap;
use crate::dinode::{Dinode, FL_INDEX};
use crate::dirent;
use crate::fs::Fs;
use rump_plugin_api::abi::stat::Timespec;
use rump_plugin_api::vfs::DirEntry;
use rump_plugin_api::{Errno, KResult};

/// Where a name was found.
pub struct Found {
    pub ino: u32,
    pub ftype: u8,
    /// The directory block holding it.
    pub blk: u64,
    /// The record's offset in that block.
    pub off: usize,
}

/// The directory's blocks, as many as its size says.
fn nblocks(fs: &Fs, d: &Dinode) -> u64 {
    d.size()
        .div_ceil(u64::from(fs.geo.bsize))
        .min(fs.geo.blocks_count)
}

/// The device block of directory block `lbn`, or None past the end or
/// at a hole.
fn block(fs: &Fs, d: &Dinode, lbn: u64) -> KResult<Option<u64>> {
    if lbn >= nblocks(fs, d) {
        return Ok(None);
    }
    bmap::lookup(fs, d, lbn)
}

/// Runs `f` on the records of each directory block in turn until it
/// returns something.
fn each_block<T>(
    fs: &Fs,
    d: &Dinode,
    mut f: impl FnMut(u64, dirent::Records<'_>) -> Option<T>,
) -> KResult<Option<T>> {
    bmap::check_mappable(d)?;
    let ft = fs.geo.filetype();
    let max = fs.geo.inodes_count;
    let mut lbn = 0;
    while let Some(b) = block(fs, d, lbn)? {
        if let Some(v) = fs
            .cache
            .read(b, |blk| f(b, dirent::records(blk, ft, max)))?
        {
            return Ok(Some(v));
        }
        lbn += 1;
    }
    Ok(None)
}

/// Finds `name` in directory `d`.
pub fn find(fs: &Fs, d: &Dinode, name: &[u8]) -> KResult<Option<Found>> {
    each_block(fs, d, |blk, mut recs| {
        recs.find(|r| r.ino != 0 && r.name == name).map(|r| Found {
            ino: r.ino,
            ftype: r.ftype,
            blk,
            off: r.off,
        })
    })
}

/// Up to `max` entries from `cookie` on.
pub fn list(fs: &Fs, d: &Dinode, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
    bmap::check_mappable(d)?;
    let bsize = u64::from(fs.geo.bsize);
    let Ok(mut pos) = u64::try_from(cookie) else {
        return Ok(Vec::new());
    };
    let ft = fs.geo.filetype();
    let maxino = fs.geo.inodes_count;
    let mut out = Vec::new();
    while out.len() < max {
        let lbn = pos / bsize;
        let Some(b) = block(fs, d, lbn)? else {
            break;
        };
        let within = (pos % bsize) as usize;
        let full = fs.cache.read(b, |blk| {
            for r in dirent::records(blk, ft, maxino).filter(|r| r.off >= within) {
                if out.len() >= max {
                    return true;
                }
                pos = lbn * bsize + (r.off + r.rec_len) as u64;
                if r.ino == 0 {
                    continue;
                }
                out.push(DirEntry {
                    fileno: u64::from(r.ino),
                    dtype: if ft {
                        dirent::dtype_of_ftype(r.ftype)
                    } else {
                        0
                    },
                    name: r.name.to_vec().into(),
                    next: pos as i64,
                });
            }
            false
        })?;
        if full {
            break;
        }
        // The rest of the block (a malformed tail) is skipped.
        pos = (lbn + 1) * bsize;
    }
    Ok(out)
}

/// Whether directory `d` holds nothing but `.` and `..`.
pub fn is_empty(fs: &Fs, d: &Dinode) -> KResult<bool> {
    let verdict = each_block(fs, d, |_, mut recs| {
        let busy = recs
            .by_ref()
            .any(|r| r.ino != 0 && r.name != b"." && r.name != b"..");
        if busy {
            Some(Ok(false))
        } else if recs.malformed {
            Some(Err(Errno::EIO))
        } else {
            None
        }
    })?;
    verdict.unwrap_or(Ok(true))
}

/// Drops the hash index flag of a changed directory and, with `touch`,
/// sets its modification and change times.
fn changed(d: &mut Dinode, touch: bool) {
    if d.flags() & FL_INDEX != 0 {
        d.set_flags(d.flags() & !FL_INDEX);
    }
    if touch {
        let now = Timespec::now();
        d.set_time(crate::dinode::Stamp::Modify, now);
        d.set_time(crate::dinode::Stamp::Change, now);
    }
}

/// Adds `name` → `ino` (of directory file type `ftype`) to directory
/// `d`: into room in an existing block, or a new last block (ENOSPC if
/// none can be had). The caller has checked the name is not there.
pub fn add(
    fs: &Fs,
    d: &mut Dinode,
    goal: &mut u64,
    name: &[u8],
    ino: u32,
    ftype: u8,
) -> KResult<()> {
    bmap::check_mappable(d)?;
    let need = dirent::rec_len_for(name.len());
    let filetype = fs.geo.filetype();
    let max = fs.geo.inodes_count;
    let ftype = if filetype { ftype } else { 0 };
    let mut lbn = 0;
    while let Some(b) = block(fs, d, lbn)? {
        if let Some(at) = fs
            .cache
            .read(b, |blk| dirent::find_room(blk, filetype, max, need))?
        {
            fs.cache
                .modify(b, |blk| dirent::insert(blk, at, ino, name, ftype, filetype))?;
            changed(d, true);
            return Ok(());
        }
        lbn += 1;
    }
    if lbn < nblocks(fs, d) {
        // A hole inside the directory: damaged.
        return Err(Errno::EIO);
    }
    // No room: a new block after the last one. A block mapped beyond
    // the directory's size is stale and taken over.
    let bsize = u64::from(fs.geo.bsize);
    let (b, _) = bmap::map_alloc(fs, d, lbn, goal)?;
    fs.cache.overwrite(b, |blk| {
        let len = blk.len();
        dirent::write_record(blk, 0, len, ino, name, ftype, filetype);
    })?;
    d.set_size((lbn + 1) * bsize);
    changed(d, true);
    Ok(())
}

/// Removes the record `f` found by [`find`].
pub fn remove(fs: &Fs, d: &mut Dinode, f: &Found) -> KResult<()> {
    let ft = fs.geo.filetype();
    let max = fs.geo.inodes_count;
    fs.cache
        .modify(f.blk, |b| dirent::remove(b, ft, max, f.off))?;
    changed(d, true);
    Ok(())
}

/// Points the record `f` found by [`find`] at `ino` of type `ftype`
/// (with `touch`, as a change of the directory's contents).
pub fn retarget(
    fs: &Fs,
    d: &mut Dinode,
    f: &Found,
    ino: u32,
    ftype: u8,
    touch: bool,
) -> KResult<()> {
    let ft = fs.geo.filetype();
    fs.cache.modify(f.blk, |b| {
        crate::le::set_u32(b, f.off, ino);
        if ft {
            b[f.off + 7] = ftype;
        }
    })?;
    changed(d, touch);
    Ok(())
}

/// Writes the first block of new directory `me` (`.` and `..` →
/// `parent`) and sizes `d` to it.
pub fn init(fs: &Fs, d: &mut Dinode, goal: &mut u64, me: u32, parent: u32) -> KResult<()> {
    let (b, _) = bmap::map_alloc(fs, d, 0, goal)?;
    let ft = fs.geo.filetype();
    fs.cache
        .overwrite(b, |blk| dirent::dot_block(blk, me, parent, ft))?;
    d.set_size(u64::from(fs.geo.bsize));
    Ok(())
}

/// Points the `..` of directory `d` at `parent`.
pub fn set_parent(fs: &Fs, d: &mut Dinode, parent: u32) -> KResult<()> {
    let f = find(fs, d, b"..")?.ok_or(Errno::EIO)?;
    let ft = if fs.geo.filetype() { dirent::FT_DIR } else { 0 };
    retarget(fs, d, &f, parent, ft, false)
}
