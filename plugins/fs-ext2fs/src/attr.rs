//! Attributes: `struct stat` from an inode, and setattr in NetBSD's
//! order (flags, then owner, size, times and mode; an immutable or
//! append-only file refuses all but a change of its flags with EPERM).
//!
//! Flags map as NetBSD maps them without EXT2FS_SYSTEM_FLAGS: the
//! immutable and append-only inode flags are `UF_IMMUTABLE` and
//! `UF_APPEND` (the `SF_` forms are accepted too), no-dump is
//! `UF_NODUMP`. Device numbers are NetBSD's `dev_t` in the first block
//! pointer, as NetBSD stores them; Linux's encoding in the second
//! pointer is read too.

use crate::dinode::{Dinode, Stamp, FL_APPEND, FL_IMMUTABLE, FL_NODUMP};
use crate::file;
use crate::fs::Fs;
use rump_plugin_api::abi::stat::{makedev, Stat, Timespec, ALLPERMS, NODEV, S_IFBLK, S_IFCHR};
use rump_plugin_api::vfs::SetAttr;
use rump_plugin_api::{Errno, KResult};

const UF_NODUMP: u32 = 0x0000_0001;
const UF_IMMUTABLE: u32 = 0x0000_0002;
const UF_APPEND: u32 = 0x0000_0004;
const SF_IMMUTABLE: u32 = 0x0002_0000;
const SF_APPEND: u32 = 0x0004_0000;
/// `VNOVAL` as an owner: leave it.
const VNOVAL: u32 = u32::MAX;

/// Whether the inode refuses changes (immutable or append-only).
pub fn locked(d: &Dinode) -> bool {
    d.flags() & (FL_IMMUTABLE | FL_APPEND) != 0
}

/// The device number of a device inode.
pub fn rdev(d: &Dinode) -> u64 {
    let t = d.file_type();
    if t != S_IFCHR && t != S_IFBLK {
        return NODEV;
    }
    let old = d.block(0);
    if old != 0 {
        return old;
    }
    // Linux's large encoding: 12 bits of major, 20 of minor.
    let new = d.block(1);
    let major = ((new & 0xfff00) >> 8) as u32;
    let minor = ((new & 0xff) | ((new >> 12) & 0xfff00)) as u32;
    makedev(major, minor)
}

/// `struct stat` for inode `ino`.
pub fn stat(fs: &Fs, ino: u32, d: &Dinode) -> Stat {
    let zero = Timespec { sec: 0, nsec: 0 };
    let f = d.flags();
    let mut flags = 0;
    if f & FL_NODUMP != 0 {
        flags |= UF_NODUMP;
    }
    if f & FL_IMMUTABLE != 0 {
        flags |= UF_IMMUTABLE;
    }
    if f & FL_APPEND != 0 {
        flags |= UF_APPEND;
    }
    Stat {
        dev: fs.fsid,
        mode: d.mode(),
        ino: u64::from(ino),
        nlink: d.links(),
        uid: d.uid(),
        gid: d.gid(),
        rdev: rdev(d),
        atime: d.time(Stamp::Access).unwrap_or(zero),
        mtime: d.time(Stamp::Modify).unwrap_or(zero),
        ctime: d.time(Stamp::Change).unwrap_or(zero),
        birthtime: d.time(Stamp::Birth).unwrap_or(zero),
        size: d.size().min(i64::MAX as u64) as i64,
        blocks: d.sectors(fs.geo.bsize).min(i64::MAX as u64) as i64,
        blksize: fs.geo.bsize as i32,
        flags,
        gen: d.generation(),
    }
}

/// Applies `sa` to inode `d`.
pub fn setattr(fs: &Fs, st: &mut crate::inode::InodeState, sa: &SetAttr) -> KResult<()> {
    let now = Timespec::now();
    let d = &mut st.d;
    if let Some(flags) = sa.flags.into_option() {
        let mut f = d.flags() & !(FL_APPEND | FL_IMMUTABLE | FL_NODUMP);
        if flags & (UF_APPEND | SF_APPEND) != 0 {
            f |= FL_APPEND;
        }
        if flags & (UF_IMMUTABLE | SF_IMMUTABLE) != 0 {
            f |= FL_IMMUTABLE;
        }
        if flags & UF_NODUMP != 0 {
            f |= FL_NODUMP;
        }
        d.set_flags(f);
        d.set_time(Stamp::Change, now);
        if locked(d) {
            return Ok(());
        }
    }
    let uid = sa.uid.into_option().filter(|&u| u != VNOVAL);
    let gid = sa.gid.into_option().filter(|&g| g != VNOVAL);
    let others = uid.is_some()
        || gid.is_some()
        || sa.size.is_some()
        || sa.mode.is_some()
        || sa.atime.is_some()
        || sa.mtime.is_some()
        || sa.birthtime.is_some();
    if others && locked(d) {
        return Err(Errno::EPERM);
    }
    if uid.is_some() || gid.is_some() {
        d.set_uid(uid.unwrap_or(d.uid()));
        d.set_gid(gid.unwrap_or(d.gid()));
        d.set_time(Stamp::Change, now);
    }
    if let Some(size) = sa.size.into_option() {
        if d.is_dir() {
            return Err(Errno::EISDIR);
        }
        if d.is_reg() {
            file::truncate(fs, d, size)?;
            d.set_time(Stamp::Modify, now);
            d.set_time(Stamp::Change, now);
        }
    }
    let pick = |t: Option<Timespec>| match t {
        Some(t) if t.nsec == Timespec::UTIME_OMIT => None,
        Some(t) if t.nsec == Timespec::UTIME_NOW => Some(now),
        other => other,
    };
    let times = [
        (Stamp::Access, pick(sa.atime.into_option())),
        (Stamp::Modify, pick(sa.mtime.into_option())),
        (Stamp::Birth, pick(sa.birthtime.into_option())),
    ];
    if times.iter().any(|(_, t)| t.is_some()) {
        for (s, t) in times {
            if let Some(t) = t {
                d.set_time(s, t);
            }
        }
        d.set_time(Stamp::Change, now);
    }
    if let Some(mode) = sa.mode.into_option() {
        d.set_mode((d.mode() & !ALLPERMS) | (mode & ALLPERMS));
        d.set_time(Stamp::Change, now);
    }
    Ok(())
}
