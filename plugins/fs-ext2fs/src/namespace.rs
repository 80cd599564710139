//! Changes to directories: create, mkdir, symlink, link, remove, rmdir.
//! Each runs with the name space held exclusively (see [`crate::fs`]),
//! checks everything first, and undoes its allocations if a later step
//! fails (ENOSPC for the directory's new block, say), so a failure
//! leaves the file system as it was.
//!
//! New inodes belong to root (every client is root) and to the group of
//! their directory, as BSD does.

use crate::attr::locked;
use crate::bmap;
use crate::dinode::{Dinode, Stamp, FL_APPEND, FL_IMMUTABLE, INLINE_BYTES};
use crate::dir;
use crate::dirent::{ftype_of_mode, FT_DIR};
use crate::features::RO_COMPAT_DIR_NLINK;
use crate::file::goal;
use crate::fs::{Fs, LINK_MAX, NAME_MAX};
use crate::inode::{Inode, InodeState};
use rump_plugin_api::abi::stat::{
    Timespec, ALLPERMS, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The owner of new inodes.
const NEW_UID: u32 = 0;

/// ENAMETOOLONG for a name over 255 bytes, ENOENT for an empty one.
pub fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        Err(Errno::ENOENT)
    } else {
        Ok(())
    }
}

pub fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// Checks that `st` is a live directory that may get a new entry
/// `name`.
fn check_new_entry(fs: &Fs, st: &InodeState, name: &[u8]) -> KResult<()> {
    check_name(name)?;
    if !st.d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if st.d.links() == 0 {
        return Err(Errno::ENOENT);
    }
    if is_dot(name) || dir::find(fs, &st.d, name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    if st.d.flags() & FL_IMMUTABLE != 0 {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// A new inode's bytes.
fn new_dinode(fs: &Fs, mode: u32, gid: u32, links: u32) -> Dinode {
    let mut d = Dinode::new(
        fs.geo.inode_size as usize,
        fs.geo.rev > 0,
        fs.geo.new_extra_isize,
    );
    d.set_mode(mode);
    d.set_uid(NEW_UID);
    d.set_gid(gid);
    d.set_links(links);
    let now = Timespec::now();
    for s in [Stamp::Access, Stamp::Modify, Stamp::Change, Stamp::Birth] {
        d.set_time(s, now);
    }
    d.set_generation(fs.next_generation());
    d
}

/// Gives back inode `ino` and the blocks of `d` after a failed
/// creation.
fn undo(fs: &Fs, ino: u32, d: &mut Dinode) {
    if bmap::has_block_map(&fs.geo, d) {
        let _ = bmap::truncate(fs, d, 0);
    }
    d.set_links(0);
    d.set_size(0);
    d.set_dtime(Timespec::now().sec as u32);
    let _ = fs.write_dinode(ino, d);
    let _ = fs.free_inode(ino, d.is_dir());
}

/// Enters inode `ino` (bytes `d`) as `name` in directory `dst`, undoing
/// the inode if that fails.
fn enter(
    fs: &Fs,
    dir_ino: u32,
    dst: &mut InodeState,
    name: &[u8],
    ino: u32,
    d: &mut Dinode,
) -> KResult<()> {
    let mut g = goal(fs, dst, dir_ino);
    let r = dir::add(fs, &mut dst.d, &mut g, name, ino, ftype_of_mode(d.mode()));
    dst.goal = g;
    let w = fs.write_dinode(dir_ino, &dst.d);
    if let Err(e) = r.and(w) {
        undo(fs, ino, d);
        return Err(e);
    }
    Ok(())
}

/// Creates the non-directory `name` with `mode` (type and permissions)
/// and, for devices, `rdev`.
pub fn create(fs: &Fs, dir: &Arc<Inode>, name: &[u8], mode: u32, rdev: u64) -> KResult<Arc<Inode>> {
    let kind = mode & S_IFMT;
    let kind = if kind == 0 { S_IFREG } else { kind };
    if ![S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK].contains(&kind) {
        return Err(Errno::EINVAL);
    }
    let mut ds = dir.st.write();
    check_new_entry(fs, &ds, name)?;
    let ino = fs.alloc_inode(dir.ino, false)?;
    let mut d = new_dinode(fs, kind | (mode & ALLPERMS), ds.d.gid(), 1);
    if kind == S_IFCHR || kind == S_IFBLK {
        d.set_block(0, rdev & 0xffff_ffff);
    }
    if let Err(e) = fs.write_dinode(ino, &d) {
        undo(fs, ino, &mut d);
        return Err(e);
    }
    enter(fs, dir.ino, &mut ds, name, ino, &mut d)?;
    drop(ds);
    fs.get(ino)
}

/// Whether directory `d` can count one more subdirectory.
fn check_subdir_room(fs: &Fs, d: &Dinode) -> KResult<()> {
    let uncounted = fs.geo.features.has_ro_compat(RO_COMPAT_DIR_NLINK) && d.links() == 1;
    if !uncounted && d.links() >= LINK_MAX {
        return Err(Errno::EMLINK);
    }
    Ok(())
}

/// One more (`up`) or one less subdirectory in directory `d`; a count
/// of 1 under dir_nlink means "too many to count" and stays.
pub fn count_subdir(fs: &Fs, d: &mut Dinode, up: bool) {
    let n = d.links();
    if fs.geo.features.has_ro_compat(RO_COMPAT_DIR_NLINK) && n == 1 {
        return;
    }
    d.set_links(if up {
        n + 1
    } else {
        n.saturating_sub(1).max(1)
    });
}

/// Creates the directory `name` with permissions `mode`.
pub fn mkdir(fs: &Fs, dir: &Arc<Inode>, name: &[u8], mode: u32) -> KResult<Arc<Inode>> {
    let mut ds = dir.st.write();
    check_new_entry(fs, &ds, name)?;
    check_subdir_room(fs, &ds.d)?;
    let ino = fs.alloc_inode(dir.ino, true)?;
    let mut d = new_dinode(fs, S_IFDIR | (mode & ALLPERMS), ds.d.gid(), 2);
    let mut g = fs.geo.group_first_block(fs.geo.group_of_inode(ino));
    let made = dir::init(fs, &mut d, &mut g, ino, dir.ino).and_then(|()| fs.write_dinode(ino, &d));
    if let Err(e) = made {
        undo(fs, ino, &mut d);
        return Err(e);
    }
    enter(fs, dir.ino, &mut ds, name, ino, &mut d)?;
    count_subdir(fs, &mut ds.d, true);
    fs.write_dinode(dir.ino, &ds.d)?;
    drop(ds);
    fs.get(ino)
}

/// Creates the symbolic link `name` → `target`: in the inode when it
/// fits (under 60 bytes), else in a block of its own.
pub fn symlink(
    fs: &Fs,
    dir: &Arc<Inode>,
    name: &[u8],
    target: &[u8],
    mode: u32,
) -> KResult<Arc<Inode>> {
    if target.len() >= fs.geo.bsize as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut ds = dir.st.write();
    check_new_entry(fs, &ds, name)?;
    let ino = fs.alloc_inode(dir.ino, false)?;
    let mut d = new_dinode(fs, S_IFLNK | (mode & ALLPERMS), ds.d.gid(), 1);
    d.set_size(target.len() as u64);
    let stored = if target.len() < INLINE_BYTES {
        d.inline_mut()[..target.len()].copy_from_slice(target);
        Ok(())
    } else {
        let mut g = goal(fs, &ds, dir.ino);
        bmap::map_alloc(fs, &mut d, 0, &mut g).and_then(|(b, _)| {
            fs.cache
                .overwrite(b, |blk| blk[..target.len()].copy_from_slice(target))
        })
    };
    if let Err(e) = stored.and_then(|()| fs.write_dinode(ino, &d)) {
        undo(fs, ino, &mut d);
        return Err(e);
    }
    enter(fs, dir.ino, &mut ds, name, ino, &mut d)?;
    drop(ds);
    fs.get(ino)
}

/// Makes `name` in `dir` another link to `target`.
pub fn link(fs: &Fs, dir: &Arc<Inode>, name: &[u8], target: &Arc<Inode>) -> KResult<()> {
    if Arc::ptr_eq(dir, target) {
        return Err(Errno::EPERM);
    }
    let mut ds = dir.st.write();
    check_new_entry(fs, &ds, name)?;
    let mut ts = target.st.write();
    if ts.d.is_dir() {
        return Err(Errno::EPERM);
    }
    if ts.d.links() == 0 {
        return Err(Errno::ENOENT);
    }
    if ts.d.links() >= LINK_MAX {
        return Err(Errno::EMLINK);
    }
    if locked(&ts.d) {
        return Err(Errno::EPERM);
    }
    let mut g = goal(fs, &ds, dir.ino);
    let r = dir::add(
        fs,
        &mut ds.d,
        &mut g,
        name,
        target.ino,
        ftype_of_mode(ts.d.mode()),
    );
    ds.goal = g;
    fs.write_dinode(dir.ino, &ds.d)?;
    r?;
    let n = ts.d.links() + 1;
    ts.d.set_links(n);
    ts.d.set_time(Stamp::Change, Timespec::now());
    fs.write_dinode(target.ino, &ts.d)
}

/// The inode named `name` in locked directory `ds` (never the
/// directory itself), and where.
fn victim(
    fs: &Fs,
    dir: &Arc<Inode>,
    ds: &InodeState,
    name: &[u8],
) -> KResult<(dir::Found, Arc<Inode>)> {
    check_name(name)?;
    if !ds.d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let f = dir::find(fs, &ds.d, name)?.ok_or(Errno::ENOENT)?;
    let v = fs.get(f.ino)?;
    if Arc::ptr_eq(&v, dir) {
        return Err(Errno::EINVAL);
    }
    Ok((f, v))
}

/// Removes the non-directory `name` (EPERM for a directory, as NetBSD).
pub fn remove(fs: &Fs, dir: &Arc<Inode>, name: &[u8]) -> KResult<()> {
    if is_dot(name) {
        return Err(Errno::EINVAL);
    }
    let mut ds = dir.st.write();
    let (f, v) = victim(fs, dir, &ds, name)?;
    let mut vs = v.st.write();
    if vs.d.is_dir() {
        return Err(Errno::EPERM);
    }
    if locked(&vs.d) || ds.d.flags() & (FL_APPEND | FL_IMMUTABLE) != 0 {
        return Err(Errno::EPERM);
    }
    dir::remove(fs, &mut ds.d, &f)?;
    fs.write_dinode(dir.ino, &ds.d)?;
    unlink_one(fs, v.ino, &mut vs.d)
}

/// One link of non-directory `d` gone; an orphan at none.
pub fn unlink_one(fs: &Fs, ino: u32, d: &mut Dinode) -> KResult<()> {
    let n = d.links().saturating_sub(1);
    d.set_links(n);
    d.set_time(Stamp::Change, Timespec::now());
    fs.write_dinode(ino, d)?;
    if n == 0 {
        fs.add_orphan(ino);
    }
    Ok(())
}

/// Empties directory `d` (its last name went): no links, no blocks; the
/// inode itself is freed when nobody uses it.
pub fn kill_dir(fs: &Fs, ino: u32, d: &mut Dinode) -> KResult<()> {
    d.set_links(0);
    bmap::truncate(fs, d, 0)?;
    d.set_size(0);
    d.set_time(Stamp::Change, Timespec::now());
    fs.write_dinode(ino, d)?;
    fs.add_orphan(ino);
    Ok(())
}

/// Removes the empty directory `name`.
pub fn rmdir(fs: &Fs, dir: &Arc<Inode>, name: &[u8]) -> KResult<()> {
    if name == b"." {
        return Err(Errno::EINVAL);
    }
    if name == b".." {
        return Err(Errno::ENOTEMPTY);
    }
    let mut ds = dir.st.write();
    let (f, v) = victim(fs, dir, &ds, name)?;
    let mut vs = v.st.write();
    if !vs.d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !dir::is_empty(fs, &vs.d)? {
        return Err(Errno::ENOTEMPTY);
    }
    if locked(&vs.d) || ds.d.flags() & (FL_APPEND | FL_IMMUTABLE) != 0 {
        return Err(Errno::EPERM);
    }
    dir::remove(fs, &mut ds.d, &f)?;
    count_subdir(fs, &mut ds.d, false);
    fs.write_dinode(dir.ino, &ds.d)?;
    kill_dir(fs, v.ino, &mut vs.d)
}

/// The directory file type byte of `d`.
pub fn ftype(d: &Dinode) -> u8 {
    if d.is_dir() {
        FT_DIR
    } else {
        ftype_of_mode(d.mode())
    }
}
