//! rename: every check first (ENOENT, EISDIR, ENOTDIR, ENOTEMPTY,
//! EMLINK, EPERM), then the new name (which may need a new directory
//! block and so fail with ENOSPC while nothing has changed yet), then
//! the old name goes, the moved directory's `..` follows it, and a
//! replaced file loses a link (a replaced directory goes).
//!
//! The VFS has already refused moving a directory into its own subtree
//! and renaming `.` or `..`.

use crate::attr::locked;
use crate::dinode::{Stamp, FL_APPEND, FL_IMMUTABLE};
use crate::dir;
use crate::file::goal;
use crate::fs::{Fs, LINK_MAX};
use crate::inode::{Inode, InodeState};
use crate::namespace::{check_name, count_subdir, ftype, is_dot, kill_dir, unlink_one};
use parking_lot::RwLockWriteGuard;
use rump_plugin_api::abi::stat::Timespec;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The target directory's state: its own lock, or the source
/// directory's when they are the same.
fn target<'a>(
    from: &'a mut RwLockWriteGuard<'_, InodeState>,
    to: &'a mut Option<RwLockWriteGuard<'_, InodeState>>,
) -> &'a mut InodeState {
    match to {
        Some(g) => g,
        None => from,
    }
}

/// Moves `from_name` in `from_dir` to `to_name` in `to_dir`.
pub fn rename(
    fs: &Fs,
    from_dir: &Arc<Inode>,
    from_name: &[u8],
    to_dir: &Arc<Inode>,
    to_name: &[u8],
) -> KResult<()> {
    check_name(from_name)?;
    check_name(to_name)?;
    if is_dot(from_name) || is_dot(to_name) {
        return Err(Errno::EINVAL);
    }
    let same_dir = Arc::ptr_eq(from_dir, to_dir);
    let mut fs_g = from_dir.st.write();
    let mut ts_g = if same_dir {
        None
    } else {
        Some(to_dir.st.write())
    };
    if !fs_g.d.is_dir() || !target(&mut fs_g, &mut ts_g).d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if target(&mut fs_g, &mut ts_g).d.links() == 0 {
        return Err(Errno::ENOENT);
    }
    let src_at = dir::find(fs, &fs_g.d, from_name)?.ok_or(Errno::ENOENT)?;
    let src = fs.get(src_at.ino)?;
    if Arc::ptr_eq(&src, from_dir) || Arc::ptr_eq(&src, to_dir) {
        return Err(Errno::EINVAL);
    }
    let dst_at = dir::find(fs, &target(&mut fs_g, &mut ts_g).d, to_name)?;
    if dst_at.as_ref().is_some_and(|t| t.ino == src.ino) {
        // Two names of one file: nothing to do.
        return Ok(());
    }
    let victim = match &dst_at {
        Some(t) => {
            let v = fs.get(t.ino)?;
            if Arc::ptr_eq(&v, from_dir) || Arc::ptr_eq(&v, to_dir) {
                return Err(Errno::EINVAL);
            }
            Some(v)
        }
        None => None,
    };
    let mut ss = src.st.write();
    let mut vs = victim.as_ref().map(|v| v.st.write());
    let src_is_dir = ss.d.is_dir();
    if let Some(vs) = vs.as_ref() {
        if src_is_dir {
            if !vs.d.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if !dir::is_empty(fs, &vs.d)? {
                return Err(Errno::ENOTEMPTY);
            }
        } else if vs.d.is_dir() {
            return Err(Errno::EISDIR);
        }
        if locked(&vs.d) {
            return Err(Errno::EPERM);
        }
    }
    if locked(&ss.d) || fs_g.d.flags() & (FL_APPEND | FL_IMMUTABLE) != 0 {
        return Err(Errno::EPERM);
    }
    if target(&mut fs_g, &mut ts_g).d.flags() & FL_IMMUTABLE != 0 {
        return Err(Errno::EPERM);
    }
    if src_is_dir && !same_dir && vs.is_none() {
        let t = &target(&mut fs_g, &mut ts_g).d;
        if t.links() >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
    }
    let ft = ftype(&ss.d);

    // The new name.
    {
        let t = target(&mut fs_g, &mut ts_g);
        let r = match &dst_at {
            Some(at) => dir::retarget(fs, &mut t.d, at, src.ino, ft, true),
            None => {
                let mut g = goal(fs, t, to_dir.ino);
                let r = dir::add(fs, &mut t.d, &mut g, to_name, src.ino, ft);
                t.goal = g;
                r
            }
        };
        fs.write_dinode(to_dir.ino, &t.d)?;
        r?;
    }
    // The old name (found again: adding may have moved nothing, but the
    // record index must be current).
    let src_at = dir::find(fs, &fs_g.d, from_name)?.ok_or(Errno::EIO)?;
    dir::remove(fs, &mut fs_g.d, &src_at)?;
    ss.d.set_time(Stamp::Change, Timespec::now());
    if src_is_dir && !same_dir {
        // The moved directory's ".." now counts in the target.
        dir::set_parent(fs, &mut ss.d, to_dir.ino)?;
        count_subdir(fs, &mut fs_g.d, false);
        count_subdir(fs, &mut target(&mut fs_g, &mut ts_g).d, true);
    }
    fs.write_dinode(src.ino, &ss.d)?;
    if let (Some(v), Some(vs)) = (&victim, vs.as_mut()) {
        if vs.d.is_dir() {
            // The replaced directory's ".." no longer counts.
            count_subdir(fs, &mut target(&mut fs_g, &mut ts_g).d, false);
            kill_dir(fs, v.ino, &mut vs.d)?;
        } else {
            unlink_one(fs, v.ino, &mut vs.d)?;
        }
    }
    fs.write_dinode(from_dir.ino, &fs_g.d)?;
    if let Some(t) = ts_g.as_ref() {
        fs.write_dinode(to_dir.ino, &t.d)?;
    }
    Ok(())
}
