//! Syscalls on descriptors of vnodes: positioned I/O, seeking, directory
//! reading, syncing, truncating and changing attributes through an open
//! file.

use super::path::{setattr, timespecs, timevals, truncate};
use super::vnode_fd;
use crate::file::VnodeFile;
use rump_plugin_api::abi::dirent;
use rump_plugin_api::abi::fcntl::{FREAD, FWRITE};
use rump_plugin_api::abi::limits::IOV_MAX;
use rump_plugin_api::abi::stat::ALLPERMS;
use rump_plugin_api::abi::sysno as nr;
use rump_plugin_api::file::{downcast, FileKind};
use rump_plugin_api::vfs::SetAttr;
use rump_plugin_api::{Args, Errno, KResult, Lwp, OpenFile, SysRet};

type Handler = fn(&mut Lwp<'_>, &Args) -> KResult<SysRet>;

pub fn table() -> Vec<(i32, &'static str, Handler)> {
    vec![
        (nr::LSEEK, "lseek", sys_lseek),
        (nr::PREAD, "pread", sys_pread),
        (nr::PWRITE, "pwrite", sys_pwrite),
        (nr::PREADV, "preadv", sys_preadv),
        (nr::PWRITEV, "pwritev", sys_pwritev),
        (nr::GETDENTS30, "__getdents30", sys_getdents),
        (nr::FCHDIR, "fchdir", sys_fchdir),
        (nr::FCHROOT, "fchroot", sys_fchroot),
        (nr::FSYNC, "fsync", sys_fsync),
        (nr::FDATASYNC, "fdatasync", sys_fdatasync),
        (nr::FSYNC_RANGE, "fsync_range", sys_fsync_range),
        (nr::FTRUNCATE, "ftruncate", sys_ftruncate),
        (nr::FCHMOD, "fchmod", sys_fchmod),
        (nr::FCHOWN, "fchown", sys_fchown),
        (nr::POSIX_FCHOWN, "__posix_fchown", sys_fchown),
        (nr::FCHFLAGS, "fchflags", sys_fchflags),
        (nr::FUTIMES50, "__futimes50", sys_futimes),
        (nr::FUTIMENS, "futimens", sys_futimens),
        (nr::FSTATVFS1, "fstatvfs1", sys_fstatvfs1),
        (nr::FPATHCONF, "fpathconf", sys_fpathconf),
    ]
}

fn sys_lseek(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let of = lwp.fd_get(a.int(0))?;
    Ok(SysRet::val(
        of.file.seek(a.long(2), a.int(3)).into_result()?,
    ))
}

/// A descriptor for positioned I/O: a vnode opened for `need`.
fn positioned(lwp: &Lwp<'_>, fd: i32, need: i32, offset: i64) -> KResult<OpenFile> {
    let of = lwp.fd_get(fd)?;
    if of.fflags & need == 0 {
        return Err(Errno::EBADF);
    }
    if of.file.kind() != FileKind::Vnode {
        return Err(Errno::ESPIPE);
    }
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(of)
}

fn sys_pread(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let of = positioned(lwp, a.int(0), FREAD, a.long(4))?;
    let data: Vec<u8> = of
        .file
        .read(a.size(2), Some(a.long(4)).into(), of.fflags)
        .into_result()?
        .into();
    lwp.copyout(a.ptr(1), &data)?;
    Ok(SysRet::val(data.len() as i64))
}

fn sys_pwrite(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let of = positioned(lwp, a.int(0), FWRITE, a.long(4))?;
    let data = lwp.copyin_vec(a.ptr(1), a.size(2))?;
    let n = of
        .file
        .write(data.as_slice().into(), Some(a.long(4)).into(), of.fflags)
        .into_result()?;
    Ok(SysRet::val(n as i64))
}

fn iovecs(lwp: &mut Lwp<'_>, addr: u64, n: i32) -> KResult<Vec<(u64, usize)>> {
    if n <= 0 || n as usize > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let raw = lwp.copyin_vec(addr, n as usize * 16)?;
    let v: Vec<(u64, usize)> = raw
        .chunks(16)
        .map(|c| {
            let r = rump_plugin_api::abi::bytes::Reader::new(c);
            (r.u64(0), r.u64(8) as usize)
        })
        .collect();
    v.iter()
        .try_fold(0usize, |t, (_, l)| {
            t.checked_add(*l).filter(|&t| t <= isize::MAX as usize)
        })
        .ok_or(Errno::EINVAL)?;
    Ok(v)
}

fn sys_preadv(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let of = positioned(lwp, a.int(0), FREAD, a.long(4))?;
    let iov = iovecs(lwp, a.ptr(1), a.int(2))?;
    let total = iov.iter().map(|(_, l)| l).sum();
    let data: Vec<u8> = of
        .file
        .read(total, Some(a.long(4)).into(), of.fflags)
        .into_result()?
        .into();
    let mut off = 0;
    for (base, len) in iov {
        let n = len.min(data.len() - off);
        lwp.copyout(base, &data[off..off + n])?;
        off += n;
    }
    Ok(SysRet::val(data.len() as i64))
}

fn sys_pwritev(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let of = positioned(lwp, a.int(0), FWRITE, a.long(4))?;
    let iov = iovecs(lwp, a.ptr(1), a.int(2))?;
    let mut data = Vec::new();
    for (base, len) in iov {
        data.extend(lwp.copyin_vec(base, len)?);
    }
    let n = of
        .file
        .write(data.as_slice().into(), Some(a.long(4)).into(), of.fflags)
        .into_result()?;
    Ok(SysRet::val(n as i64))
}

/// getdents(2): whole records only, one copy-out per record (as NetBSD's
/// file systems move them); a buffer too small for the next record reads
/// as the end and leaves the offset alone.
fn sys_getdents(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let (buf, count) = (a.ptr(1), a.size(2));
    let of = lwp.fd_get(a.int(0))?;
    if of.fflags & FREAD == 0 {
        return Err(Errno::EBADF);
    }
    let f = downcast::<VnodeFile>(&of.file).ok_or(Errno::ENOTDIR)?;
    if !f.vn().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut cookie = f.offset();
    let mut used = 0;
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut next = *cookie;
    'fill: loop {
        let want = (count - used) / 16 + 1;
        let batch = f.vn().obj.readdir(next, want.min(1024)).into_result()?;
        if batch.is_empty() {
            break;
        }
        for e in batch.iter() {
            let mut rec = Vec::new();
            dirent::push(&mut rec, e.fileno, e.dtype, &e.name);
            if used + rec.len() > count {
                break 'fill;
            }
            used += rec.len();
            records.push(rec);
            next = e.next;
        }
    }
    let mut at = buf;
    for rec in &records {
        lwp.copyout(at, rec)?;
        at += rec.len() as u64;
    }
    *cookie = next;
    Ok(SysRet::val(used as i64))
}

fn dir_fd(lwp: &Lwp<'_>, fd: i32) -> KResult<crate::vn::Vn> {
    let (_of, vn) = vnode_fd(lwp, fd, Errno::ENOTDIR)?;
    if !vn.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(vn)
}

fn sys_fchdir(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = dir_fd(lwp, a.int(0))?;
    super::path::set_cwd(lwp.pid(), vn);
    Ok(SysRet::ZERO)
}

fn sys_fchroot(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = dir_fd(lwp, a.int(0))?;
    let new = crate::vn::VnRef::new(vn);
    let old = crate::state::vfs().update_proc(lwp.pid(), |p| std::mem::replace(&mut p.root, new));
    drop(old);
    Ok(SysRet::ZERO)
}

fn sync_fd(lwp: &Lwp<'_>, fd: i32, data_only: bool) -> KResult<SysRet> {
    let (_of, vn) = vnode_fd(lwp, fd, Errno::EINVAL)?;
    fsync_vnode(&vn, data_only)?;
    Ok(SysRet::ZERO)
}

/// fsync of a vnode; for a disk's device node, its cached blocks too.
fn fsync_vnode(vn: &crate::vn::Vn, data_only: bool) -> KResult<()> {
    vn.obj.fsync(data_only).into_result()?;
    use rump_plugin_api::vfs::VType;
    if matches!(vn.vtype(), VType::Blk | VType::Chr) {
        let rdev = vn.getattr()?.rdev;
        if let Ok(crate::dev::DevKind::Disk(d)) = crate::state::vfs().devs.lookup(rdev) {
            d.flush().into_result()?;
        }
    }
    Ok(())
}

fn sys_fsync(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    sync_fd(lwp, a.int(0), false)
}

fn sys_fdatasync(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    sync_fd(lwp, a.int(0), true)
}

fn sys_fsync_range(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let (_of, vn) = vnode_fd(lwp, a.int(0), Errno::EINVAL)?;
    if a.long(2) < 0 || a.long(3) < 0 {
        return Err(Errno::EINVAL);
    }
    // FDATASYNC is 0x0010 among the flags.
    fsync_vnode(&vn, a.int(1) & 0x10 != 0)?;
    Ok(SysRet::ZERO)
}

fn sys_ftruncate(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let (of, vn) = vnode_fd(lwp, a.int(0), Errno::EINVAL)?;
    if of.fflags & FWRITE == 0 {
        return Err(Errno::EINVAL);
    }
    truncate(&vn, a.long(2))
}

fn fd_vn(lwp: &Lwp<'_>, fd: i32) -> KResult<crate::vn::Vn> {
    vnode_fd(lwp, fd, Errno::EINVAL).map(|(_, vn)| vn)
}

fn sys_fchmod(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    setattr(
        &vn,
        SetAttr {
            mode: Some(a.uint(1) & ALLPERMS).into(),
            ..SetAttr::default()
        },
    )
}

fn sys_fchown(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    let keep = |v: u32| {
        if v == u32::MAX {
            None.into()
        } else {
            Some(v).into()
        }
    };
    setattr(
        &vn,
        SetAttr {
            uid: keep(a.uint(1)),
            gid: keep(a.uint(2)),
            ..SetAttr::default()
        },
    )
}

fn sys_fchflags(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    setattr(
        &vn,
        SetAttr {
            flags: Some(a.uint(1)).into(),
            ..SetAttr::default()
        },
    )
}

fn sys_futimes(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    let attr = timevals(lwp, a.ptr(1))?;
    setattr(&vn, attr)
}

fn sys_futimens(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    let attr = timespecs(lwp, a.ptr(1))?;
    setattr(&vn, attr)
}

fn sys_fstatvfs1(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = fd_vn(lwp, a.int(0))?;
    let st = vn.mnt.statvfs()?;
    lwp.copyout(a.ptr(1), &st.encode())?;
    Ok(SysRet::ZERO)
}

fn sys_fpathconf(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    use rump_plugin_api::abi::fcntl::_PC_PIPE_BUF;
    let of = lwp.fd_get(a.int(0))?;
    match downcast::<VnodeFile>(&of.file) {
        Some(f) => Ok(SysRet::val(f.vn().obj.pathconf(a.int(1)).into_result()?)),
        None if a.int(1) == _PC_PIPE_BUF => Ok(SysRet::val(512)),
        None => Err(Errno::EINVAL),
    }
}
