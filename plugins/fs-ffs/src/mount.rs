//! The file system type `ffs` and its mounts: reading `struct ufs_args`
//! (a pointer to the device path in the caller's memory), finding and
//! checking the superblock, deciding read-only or read-write (an
//! unclean file system, or a feature this implementation does not
//! keep up, means read-only, with a kernel log line saying why), and
//! statvfs, sync, update and unmount.

use crate::alloc::Alloc;
use crate::core::Core;
use crate::disk::Disk;
use crate::fs::Fs;
use crate::mem::Mem;
use crate::superblock::*;
use crate::vnode::FfsVnode;
use parking_lot::Mutex;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::mount::{MNT_FORCE, MNT_RDONLY, UFS_ARGS_SIZE};
use rump_plugin_api::kernel;
use rump_plugin_api::vfs::{
    mount_obj, DeviceObj, FsStats, FsType, Mount, MountArgs, MountEnv, MountObj, VnodeObj,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

pub struct FfsType;

impl FsType for FfsType {
    fn name(&self) -> &str {
        "ffs"
    }

    fn args_len(&self) -> usize {
        UFS_ARGS_SIZE
    }

    fn mount(&self, args: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj> {
        if args.data.len() < UFS_ARGS_SIZE {
            return Err(Errno::EINVAL);
        }
        let mut p = [0u8; 8];
        p.copy_from_slice(&args.data[..8]);
        let fspec = u64::from_le_bytes(p);
        if fspec == 0 {
            return Err(Errno::EINVAL);
        }
        let mut path = args.lwp.copyinstr(fspec, MAXPATHLEN)?;
        while path.last() == Some(&0) {
            path.pop();
        }
        let rdonly = args.flags & MNT_RDONLY != 0;
        let dev = env.open_device(&path, rdonly)?;
        let source = String::from_utf8_lossy(&path).into_owned();
        let fs = mount_device(dev, env.fsid(), args.flags, source, args.on)?;
        Ok(mount_obj(FfsMount {
            fs,
            on: args.on.to_vec(),
            lock: Mutex::new(()),
        }))
    }
}

/// Finds a superblock as NetBSD does: the standard places in order,
/// skipping alternates.
fn find_superblock(disk: &Disk) -> KResult<Superblock> {
    let mut why = String::from("no superblock found");
    for loc in SBLOCK_SEARCH {
        let len = SBLOCKSIZE.min(disk.size().saturating_sub(loc) as usize);
        if len < SB_MIN_SIZE {
            continue;
        }
        let raw = disk.read(loc, len / 512 * 512)?;
        match Superblock::parse(&raw, loc, disk.size()) {
            Ok(sb) => return Ok(sb),
            Err(w) => {
                if crate::le::u32_at(&raw, 1372) != 0 {
                    why = w;
                }
            }
        }
    }
    kernel::warn(&format!("ffs: {why}"));
    Err(Errno::EINVAL)
}

/// The fs_flags this file system knows (others refuse a mount).
const KNOWN_FLAGS: u32 = FS_UNCLEAN
    | FS_DOSOFTDEP
    | FS_NEEDSFSCK
    | FS_SUJ
    | FS_POSIX1EACLS
    | FS_MULTILABEL
    | FS_GJOURNAL
    | FS_FLAGS_UPDATED
    | FS_DOWAPBL
    | FS_DOQUOTA2
    | FS_TRIM
    | FS_NFS4ACLS
    | FS_INTERNAL;

/// The features that keep a mount read-only, by name.
fn unsupported_features(sb: &Superblock) -> Vec<&'static str> {
    let mut v = Vec::new();
    let f = sb.flags;
    if f & FS_DOWAPBL != 0 {
        v.push("WAPBL journal (log not replayed)");
    }
    if f & FS_DOSOFTDEP != 0 {
        v.push("soft dependencies");
    }
    if f & FS_SUJ != 0 {
        v.push("soft updates journal");
    }
    if f & FS_GJOURNAL != 0 {
        v.push("gjournal");
    }
    if f & FS_DOQUOTA2 != 0 {
        v.push("quotas (QUOTA2)");
    }
    if f & (FS_POSIX1EACLS | FS_NFS4ACLS) != 0 {
        v.push("ACLs");
    }
    if sb.magic == UFS2EA_MAGIC {
        v.push("extended attributes (UFS2EA)");
    }
    if sb.snapshots {
        v.push("snapshots");
    }
    if sb.old_rotational() {
        v.push("old UFS1 rotational tables");
    }
    v
}

/// Mounts the file system on `dev`.
pub fn mount_device(
    dev: DeviceObj,
    fsid: u64,
    flags: i32,
    source: String,
    on: &[u8],
) -> KResult<Arc<Fs>> {
    let disk = Disk::new(dev);
    let sb = find_superblock(&disk)?;
    if !sb.ufs2 && sb.old_inodefmt < 2 {
        kernel::warn(&format!(
            "ffs {source}: 4.2BSD inode format is not supported"
        ));
        return Err(Errno::EINVAL);
    }
    let expect = if sb.ufs2 { 120 } else { 60 };
    if sb.maxsymlinklen != expect {
        kernel::warn(&format!(
            "ffs {source}: unexpected fs_maxsymlinklen {}",
            sb.maxsymlinklen
        ));
        return Err(Errno::EINVAL);
    }
    let force = flags & MNT_FORCE != 0;
    let mut ro = flags & MNT_RDONLY != 0;
    let want_rw = !ro;
    if sb.flags & !KNOWN_FLAGS != 0 {
        kernel::warn(&format!(
            "ffs {source}: unknown ufs flags: {:#010x}{}",
            sb.flags,
            if force { "" } else { ", not mounting" }
        ));
        if !force {
            return Err(Errno::EINVAL);
        }
        ro = true;
    }
    if !ro {
        let missing = unsupported_features(&sb);
        if !missing.is_empty() {
            kernel::warn(&format!(
                "ffs {source}: {} not supported for writing: mounting read-only",
                missing.join(", ")
            ));
            ro = true;
        }
    }
    if !ro && sb.clean & FS_ISCLEAN == 0 {
        if force {
            kernel::warn(&format!(
                "ffs {source}: file system not clean (fs_clean={:#x}); mounting read-write as forced, please fsck",
                sb.clean
            ));
        } else {
            kernel::warn(&format!(
                "ffs {source}: file system not clean (fs_clean={:#x}); mounting read-only, please fsck",
                sb.clean
            ));
            ro = true;
        }
    }
    let mem = Arc::new(Mem::default());
    let alloc = Alloc::load(sb.clone(), &disk, mem.clone())?;
    let core = Core {
        disk,
        geo: sb,
        alloc: Mutex::new(alloc),
        itable: Mutex::new(()),
    };
    let fs = Fs::new(core, fsid, ro, mem, source.clone());
    let root = fs.root()?;
    if !root.d.read().is_dir() {
        kernel::warn(&format!("ffs {source}: root inode is not a directory"));
        return Err(Errno::EINVAL);
    }
    drop(root);
    if !ro {
        fs.mark_dirty_on_disk(on)?;
    }
    kernel::info(&format!(
        "ffs {source}: UFS{} mounted {}{}",
        if fs.geo().ufs2 { 2 } else { 1 },
        if ro { "read-only" } else { "read-write" },
        if ro && want_rw {
            " (asked for read-write)"
        } else {
            ""
        }
    ));
    Ok(fs)
}

/// A mounted FFS.
pub struct FfsMount {
    fs: Arc<Fs>,
    /// The mount point, for the superblock's fs_fsmnt.
    on: Vec<u8>,
    lock: Mutex<()>,
}

impl FfsMount {
    pub fn fs(&self) -> &Arc<Fs> {
        &self.fs
    }

    /// Read-only to read-write (MNT_UPDATE), with a read-write mount's
    /// checks: EROFS for a read-only device or features this file system
    /// cannot write, EPERM (as NetBSD) for an unclean file system unless
    /// `force`.
    fn make_writable(&self, force: bool) -> KResult<()> {
        let src = &self.fs.source;
        if self.fs.core.disk.readonly() {
            kernel::warn(&format!("ffs {src}: the device is read-only"));
            return Err(Errno::EROFS);
        }
        let (flags, clean, missing) = self
            .fs
            .with_alloc(|a| (a.sb.flags, a.sb.clean, unsupported_features(&a.sb)));
        if flags & !KNOWN_FLAGS != 0 || !missing.is_empty() {
            kernel::warn(&format!(
                "ffs {src}: {} not supported for writing: staying read-only",
                if missing.is_empty() {
                    "unknown ufs flags".to_string()
                } else {
                    missing.join(", ")
                }
            ));
            return Err(Errno::EROFS);
        }
        if clean & FS_ISCLEAN == 0 && !force {
            kernel::warn(&format!(
                "ffs {src}: file system not clean (fs_clean={clean:#x}); please fsck"
            ));
            return Err(Errno::EPERM);
        }
        self.fs.mark_dirty_on_disk(&self.on)?;
        self.fs.set_readonly(false);
        kernel::info(&format!("ffs {src}: now read-write"));
        Ok(())
    }
}

impl Mount for FfsMount {
    fn root(&self) -> KResult<VnodeObj> {
        self.fs.alive()?;
        Ok(FfsVnode::obj(&self.fs, self.fs.root()?))
    }

    fn statvfs(&self) -> KResult<FsStats> {
        self.fs.alive()?;
        self.fs.reap();
        Ok(self.fs.statvfs())
    }

    fn sync(&self, _wait: bool) -> KResult<()> {
        let _g = self.lock.lock();
        self.fs.sync(false)
    }

    fn unmount(&self, force: bool) -> KResult<()> {
        let _g = self.lock.lock();
        let r = self.fs.unmount();
        if force {
            Ok(())
        } else {
            r
        }
    }

    /// MNT_UPDATE: read-write to read-only writes everything out and
    /// marks the file system clean.
    fn update(&self, flags: i32, _data: &[u8]) -> KResult<()> {
        let _g = self.lock.lock();
        self.fs.alive()?;
        if flags & MNT_RDONLY != 0 {
            if !self.fs.readonly() {
                self.fs.sync(true)?;
                self.fs.set_readonly(true);
            }
            return Ok(());
        }
        if self.fs.readonly() {
            self.make_writable(flags & MNT_FORCE != 0)?;
        }
        Ok(())
    }

    fn getargs(&self) -> KResult<Vec<u8>> {
        Ok(vec![0u8; UFS_ARGS_SIZE])
    }

    fn source(&self) -> String {
        self.fs.source.clone()
    }

    fn readonly(&self) -> bool {
        self.fs.readonly()
    }
}

impl Drop for FfsMount {
    fn drop(&mut self) {
        if self.fs.alive().is_ok() {
            let _ = self.fs.unmount();
        }
    }
}
