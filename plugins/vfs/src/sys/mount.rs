//! mount(2), unmount(2), statvfs and sync.

use super::path::dir_path;
use super::{path_arg, start};
use crate::mount::{Mnt, NewMount};
use crate::namei;
use crate::state::vfs;
use crate::vn::Vn;
use rump_plugin_api::abi::fcntl::AT_FDCWD;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::mount::*;
use rump_plugin_api::abi::statvfs::StatVfs;
use rump_plugin_api::abi::sysno as nr;
use rump_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use rump_plugin_api::abi_stable::std_types::{RResult, RSlice};
use rump_plugin_api::ffi::{MountEnv, MountEnv_TO};
use rump_plugin_api::vfs::{DeviceObj, VType};
use rump_plugin_api::{Args, Errno, KResult, Lwp, SysRet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Handler = fn(&mut Lwp<'_>, &Args) -> KResult<SysRet>;

pub fn table() -> Vec<(i32, &'static str, Handler)> {
    vec![
        (nr::MOUNT50, "__mount50", sys_mount),
        (nr::UNMOUNT, "unmount", sys_unmount),
        (nr::STATVFS1, "statvfs1", sys_statvfs1),
        (nr::GETVFSSTAT, "getvfsstat", sys_getvfsstat),
        (nr::SYNC, "sync", sys_sync),
    ]
}

/// The VFS's help for a file system that is mounting.
struct Env {
    fsid: u64,
    pid: i32,
    opened: Vec<DeviceObj>,
}

impl MountEnv for Env {
    fn fsid(&self) -> u64 {
        self.fsid
    }

    fn open_device(&mut self, path: RSlice<'_, u8>, readonly: bool) -> RResult<DeviceObj, Errno> {
        rump_plugin_api::guard::guard("open_device", || {
            let d = open_device(self.pid, path.as_slice(), readonly)?;
            self.opened.push(d.clone());
            Ok(d)
        })
    }
}

/// The disk behind the block device node at `path`.
pub fn open_device(pid: i32, path: &[u8], readonly: bool) -> KResult<DeviceObj> {
    let p = vfs().proc(pid);
    let s = namei::Start {
        root: p.root.vn().clone(),
        dir: p.cwd.vn().clone(),
    };
    let vn = namei::lookup(&s, path, true)?;
    if vn.vtype() != VType::Blk {
        return Err(Errno::ENOTBLK);
    }
    match vfs().devs.lookup(vn.getattr()?.rdev)? {
        crate::dev::DevKind::Disk(d) => {
            if !readonly && d.readonly() {
                return Err(Errno::EACCES);
            }
            Ok(d)
        }
        _ => Err(Errno::ENXIO),
    }
}

/// The mount whose root `vn` is; EINVAL if it is not a mount's root.
fn mount_at(vn: &Vn) -> KResult<Arc<Mnt>> {
    if !vn.is_mount_root() {
        return Err(Errno::EINVAL);
    }
    Ok(vn.mnt.clone())
}

/// __mount50(type, path, flags, data, data_len). The copy order is
/// NetBSD's: the path, the type, the argument block; after a mount the
/// file system reads the path again twice (as NetBSD's do for their
/// statvfs names).
fn sys_mount(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let (type_ptr, path_ptr, flags, data_ptr, data_len) =
        (a.ptr(0), a.ptr(1), a.int(2), a.ptr(3), a.size(4));
    let path = path_arg(lwp, path_ptr)?;
    let s = start(lwp, AT_FDCWD)?;
    let vn = namei::lookup(&s, &path, true)?;
    if flags & MNT_GETARGS != 0 {
        let m = mount_at(&vn)?;
        let args: Vec<u8> = m.ops.getargs().into_result()?.into();
        let n = args.len().min(data_len);
        lwp.copyout(data_ptr, &args[..n])?;
        return Ok(SysRet::val(n as i64));
    }
    let fstype = lwp.copyinstr(type_ptr, MFSNAMELEN)?;
    let fstype = String::from_utf8_lossy(&fstype).into_owned();
    if data_len > VFS_MAX_MOUNT_DATA {
        return Err(Errno::EINVAL);
    }
    if flags & MNT_UPDATE != 0 {
        let m = mount_at(&vn)?;
        let data = if data_ptr == 0 {
            Vec::new()
        } else {
            lwp.copyin_vec(data_ptr, data_len)?
        };
        m.ops.update(flags, data.as_slice().into()).into_result()?;
        let keep = m.flags() & !(MNT_VISFLAGMASK & !(MNT_LOCAL | MNT_ROOTFS));
        let mut shown = keep | (flags & MNT_VISFLAGMASK & !(MNT_LOCAL | MNT_ROOTFS));
        if m.ops.readonly() {
            shown |= MNT_RDONLY;
        }
        m.set_flags(shown);
        return Ok(SysRet::ZERO);
    }
    let fs = vfs().kernel.fs_type(&fstype).map_err(|why| {
        vfs().kernel.warn(&format!("mount -t {fstype}: {why}"));
        Errno::ENODEV
    })?;
    let data_len = if data_len == 0 {
        fs.args_len()
    } else {
        data_len
    };
    let data = if data_ptr == 0 {
        Vec::new()
    } else {
        lwp.copyin_vec(data_ptr, data_len)?
    };
    if !vn.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    // The root of a mounted file system cannot be mounted on (VV_ROOT).
    if vn.is_mount_root() || vfs().mounts.is_covered(&vn) {
        return Err(Errno::EBUSY);
    }
    let fsid = vfs().mounts.new_fsid(&fstype);
    let mut env = Env {
        fsid: fsid.1,
        pid: lwp.pid(),
        opened: Vec::new(),
    };
    let mounted = fs
        .mount(
            lwp.reborrow(),
            MountEnv_TO::from_ptr(&mut env, TD_Opaque),
            flags,
            data.as_slice().into(),
            path.as_slice().into(),
        )
        .into_result();
    let ops = match mounted {
        Ok(ops) => ops,
        Err(e) => {
            // What a failed mount read stays out of the cache.
            for d in &env.opened {
                let _ = d.invalidate();
            }
            return Err(e);
        }
    };
    let _ = lwp.copyinstr(path_ptr, MAXPATHLEN - 1);
    let _ = lwp.copyinstr(path_ptr, MAXPATHLEN);
    let on =
        String::from_utf8_lossy(&dir_path(&vn, &vfs().root()).unwrap_or(path.clone())).into_owned();
    let source = ops.source().to_string();
    let from = if source.is_empty() {
        fstype.clone()
    } else {
        source
    };
    let mut flags = flags & MNT_VISFLAGMASK & !(MNT_LOCAL | MNT_ROOTFS);
    if ops.readonly() {
        // The file system keeps itself read-only (it says why in the log).
        flags |= MNT_RDONLY;
    }
    vfs().mounts.add(
        NewMount {
            fstype: fstype.clone(),
            flags,
            ops,
            covered: Some(vn),
            on,
            from,
            devices: env.opened,
        },
        fsid,
    )?;
    vfs().kernel.fs_type_ref(&fstype, 1);
    Ok(SysRet::ZERO)
}

/// Unmounts `m` (checks first unless `force`).
pub fn unmount(m: &Arc<Mnt>, force: bool, sync: bool) -> KResult<()> {
    if m.covered.is_none() {
        return Err(Errno::EINVAL);
    }
    if vfs().mounts.has_submounts(m) {
        return Err(Errno::EBUSY);
    }
    if !force && m.users.load(Ordering::Acquire) > 0 {
        return Err(Errno::EBUSY);
    }
    if sync && !m.readonly() {
        let r = m.ops.sync(true).into_result();
        if !force {
            r?;
        }
    }
    m.ops.unmount(force).into_result()?;
    vfs().mounts.remove(m);
    vfs().kernel.fs_type_ref(&m.fstype, -1);
    // As NetBSD does when a device is closed: its cached blocks go, so a
    // later mount reads the medium afresh.
    for d in &m.devices {
        if let Err(e) = d.invalidate().into_result() {
            vfs()
                .kernel
                .warn(&format!("unmount {}: writing back: {e}", m.on));
        }
    }
    Ok(())
}

fn sys_unmount(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = namei::lookup(&start(lwp, AT_FDCWD)?, &path, true)?;
    let m = mount_at(&vn)?;
    drop(vn);
    unmount(&m, a.int(1) & MNT_FORCE != 0, true)?;
    Ok(SysRet::ZERO)
}

fn sys_statvfs1(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = namei::lookup(&start(lwp, AT_FDCWD)?, &path, true)?;
    let st = vn.mnt.statvfs()?;
    lwp.copyout(a.ptr(1), &st.encode())?;
    Ok(SysRet::ZERO)
}

/// getvfsstat(buf, bufsize, flags): the number of mounts when `buf` is
/// NULL, else the records that fit, one copy-out each.
fn sys_getvfsstat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let mounts = vfs().mounts.all();
    if a.ptr(0) == 0 {
        return Ok(SysRet::val(mounts.len() as i64));
    }
    let fit = a.size(1) / StatVfs::SIZE;
    let mut n = 0;
    for m in mounts.iter().take(fit) {
        let st = m.statvfs()?;
        lwp.copyout(a.ptr(0) + (n * StatVfs::SIZE) as u64, &st.encode())?;
        n += 1;
    }
    Ok(SysRet::val(n as i64))
}

fn sys_sync(_lwp: &mut Lwp<'_>, _a: &Args) -> KResult<SysRet> {
    sync_all(false);
    Ok(SysRet::ZERO)
}

/// Writes every writable file system out, then the disks' caches.
pub fn sync_all(wait: bool) {
    for m in vfs().mounts.all() {
        if !m.readonly() {
            if let Err(e) = m.ops.sync(wait).into_result() {
                vfs().kernel.warn(&format!("sync {}: {e}", m.on));
            }
        }
    }
    vfs().devs.flush_all();
}
