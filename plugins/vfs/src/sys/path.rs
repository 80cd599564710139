//! Syscalls that name files by path: open, stat, mkdir, remove, rename,
//! links, attributes, device nodes, working directories.

use super::{path_arg, start, umask};
use crate::file::{DeviceFile, VnodeFile};
use crate::namei::{self, Last, Op, Parent, Start};
use crate::state::vfs;
use crate::vn::Vn;
use rump_plugin_api::abi::fcntl::*;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::stat::{
    Stat, Timespec, ACCESSPERMS, ALLPERMS, S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK,
};
use rump_plugin_api::abi::sysno as nr;
use rump_plugin_api::file::file_obj;
use rump_plugin_api::vfs::{SetAttr, VType};
use rump_plugin_api::{Args, Errno, KResult, Lwp, SysRet};

type Handler = fn(&mut Lwp<'_>, &Args) -> KResult<SysRet>;

pub fn table() -> Vec<(i32, &'static str, Handler)> {
    vec![
        (nr::OPEN, "open", sys_open),
        (nr::OPENAT, "openat", sys_openat),
        (nr::STAT50, "__stat50", sys_stat),
        (nr::LSTAT50, "__lstat50", sys_lstat),
        (nr::FSTATAT, "fstatat", sys_fstatat),
        (nr::ACCESS, "access", sys_access),
        (nr::FACCESSAT, "faccessat", sys_faccessat),
        (nr::MKDIR, "mkdir", sys_mkdir),
        (nr::MKDIRAT, "mkdirat", sys_mkdirat),
        (nr::RMDIR, "rmdir", sys_rmdir),
        (nr::UNLINK, "unlink", sys_unlink),
        (nr::UNLINKAT, "unlinkat", sys_unlinkat),
        (nr::RENAME, "rename", sys_rename),
        (nr::POSIX_RENAME, "__posix_rename", sys_rename),
        (nr::RENAMEAT, "renameat", sys_renameat),
        (nr::LINK, "link", sys_link),
        (nr::LINKAT, "linkat", sys_linkat),
        (nr::SYMLINK, "symlink", sys_symlink),
        (nr::SYMLINKAT, "symlinkat", sys_symlinkat),
        (nr::READLINK, "readlink", sys_readlink),
        (nr::READLINKAT, "readlinkat", sys_readlinkat),
        (nr::CHMOD, "chmod", sys_chmod),
        (nr::LCHMOD, "lchmod", sys_lchmod),
        (nr::FCHMODAT, "fchmodat", sys_fchmodat),
        (nr::CHOWN, "chown", sys_chown),
        (nr::POSIX_CHOWN, "__posix_chown", sys_chown),
        (nr::LCHOWN, "lchown", sys_lchown),
        (nr::POSIX_LCHOWN, "__posix_lchown", sys_lchown),
        (nr::FCHOWNAT, "fchownat", sys_fchownat),
        (nr::CHFLAGS, "chflags", sys_chflags),
        (nr::LCHFLAGS, "lchflags", sys_lchflags),
        (nr::UTIMES50, "__utimes50", sys_utimes),
        (nr::LUTIMES50, "__lutimes50", sys_lutimes),
        (nr::UTIMENSAT, "utimensat", sys_utimensat),
        (nr::TRUNCATE, "truncate", sys_truncate),
        (nr::MKNOD50, "__mknod50", sys_mknod),
        (nr::MKNODAT, "mknodat", sys_mknodat),
        (nr::MKFIFO, "mkfifo", sys_mkfifo),
        (nr::MKFIFOAT, "mkfifoat", sys_mkfifoat),
        (nr::CHDIR, "chdir", sys_chdir),
        (nr::CHROOT, "chroot", sys_chroot),
        (nr::PATHCONF, "pathconf", sys_pathconf),
    ]
}

/// File flags kept in the open file (FMASK).
const FMASK: i32 = FREAD
    | FWRITE
    | O_APPEND
    | O_ASYNC
    | O_SYNC
    | O_NONBLOCK
    | O_DSYNC
    | O_RSYNC
    | O_ALT_IO
    | O_DIRECT
    | O_NOSIGPIPE;

fn lookup_in(s: &Start, path: &[u8], follow: bool) -> KResult<Vn> {
    namei::lookup(s, path, follow)
}

/// Looks `name` up in `dir` (no etfs, no mount crossing for the result).
fn child(dir: &Vn, name: &[u8]) -> KResult<Vn> {
    let obj = dir.obj.lookup(name.into()).into_result()?;
    Ok(Vn::new(obj, dir.mnt.clone()))
}

/// Opens the vnode `vn` as a file with open flags `flags`.
fn open_vnode(lwp: &mut Lwp<'_>, vn: Vn, flags: i32, created: bool) -> KResult<i32> {
    let fflags = fflags(flags);
    let write = fflags & FWRITE != 0;
    let t = vn.vtype();
    if flags & O_DIRECTORY != 0 && t != VType::Dir {
        return Err(Errno::ENOTDIR);
    }
    if t == VType::Dir && (write || flags & O_TRUNC != 0) {
        return Err(Errno::EISDIR);
    }
    if write && t == VType::Reg {
        vn.mnt.check_writable()?;
    }
    let file = match t {
        VType::Blk | VType::Chr => {
            let rdev = vn.getattr()?.rdev;
            let dev = vfs().devs.lookup(rdev)?;
            if let crate::dev::DevKind::Disk(d) = &dev {
                if write && d.readonly() {
                    return Err(Errno::EACCES);
                }
            }
            file_obj(DeviceFile::new(vn, dev))
        }
        VType::Fifo => {
            let read = fflags & FREAD != 0;
            file_obj(vfs().fifos.open(vn, read, write, flags)?)
        }
        VType::Sock => return Err(Errno::EOPNOTSUPP),
        _ => {
            if write && flags & O_TRUNC != 0 && t == VType::Reg && !created {
                vn.obj
                    .setattr(&SetAttr {
                        size: Some(0).into(),
                        ..SetAttr::default()
                    })
                    .into_result()?;
            }
            let f = VnodeFile::new(vn);
            let obj = file_obj(f);
            if flags & (O_SHLOCK | O_EXLOCK) != 0 {
                let how = if flags & O_EXLOCK != 0 {
                    LOCK_EX
                } else {
                    LOCK_SH
                };
                let how = if flags & O_NONBLOCK != 0 {
                    how | LOCK_NB
                } else {
                    how
                };
                obj.flock(how).into_result()?;
            }
            obj
        }
    };
    lwp.fd_install(file, fflags & FMASK, flags & O_CLOEXEC != 0)
}

/// open(2)/openat(2) once the path is in.
fn do_open(lwp: &mut Lwp<'_>, s: &Start, path: &[u8], flags: i32, mode: u32) -> KResult<i32> {
    if flags & O_ACCMODE == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    if flags & O_CREAT == 0 {
        let vn = lookup_in(s, path, flags & O_NOFOLLOW == 0)?;
        if flags & O_NOFOLLOW != 0 && vn.vtype() == VType::Lnk {
            return Err(Errno::EFTYPE);
        }
        return open_vnode(lwp, vn, flags, false);
    }
    let mode = (mode & ALLPERMS) & !umask(lwp);
    create_open(lwp, s, path, flags, mode, 0)
}

fn create_open(
    lwp: &mut Lwp<'_>,
    s: &Start,
    path: &[u8],
    flags: i32,
    mode: u32,
    depth: usize,
) -> KResult<i32> {
    let p = namei::parent(s, path, Op::Create)?;
    let name = match p.last {
        Last::Root => {
            return if flags & O_EXCL != 0 {
                Err(Errno::EEXIST)
            } else {
                open_vnode(lwp, p.dir, flags, false)
            }
        }
        Last::Key(vn) => {
            return if flags & O_EXCL != 0 {
                Err(Errno::EEXIST)
            } else {
                open_vnode(lwp, vn, flags, false)
            }
        }
        Last::Name(n) => n,
    };
    if name == b"." || name == b".." {
        let vn = lookup_in(
            &Start {
                root: s.root.clone(),
                dir: p.dir.clone(),
            },
            &name,
            true,
        )?;
        return if flags & O_EXCL != 0 {
            Err(Errno::EEXIST)
        } else {
            open_vnode(lwp, vn, flags, false)
        };
    }
    match child(&p.dir, &name) {
        Ok(existing) => {
            if flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if existing.vtype() == VType::Lnk {
                if flags & O_NOFOLLOW != 0 {
                    return Err(Errno::EFTYPE);
                }
                if depth >= namei::MAXSYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target: Vec<u8> = existing.obj.readlink().into_result()?.into();
                let next = Start {
                    root: s.root.clone(),
                    dir: p.dir.clone(),
                };
                return create_open(lwp, &next, &target, flags, mode, depth + 1);
            }
            let existing = vfs().mounts.cross(existing);
            if p.trailing && !existing.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            open_vnode(lwp, existing, flags, false)
        }
        Err(Errno::ENOENT) => {
            if p.trailing {
                return Err(Errno::EISDIR);
            }
            p.dir.mnt.check_writable()?;
            let obj = p
                .dir
                .obj
                .create(name.as_slice().into(), S_IFREG | mode, 0)
                .into_result()?;
            open_vnode(lwp, Vn::new(obj, p.dir.mnt.clone()), flags, true)
        }
        Err(e) => Err(e),
    }
}

fn sys_open(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let s = start(lwp, AT_FDCWD)?;
    Ok(SysRet::val(
        do_open(lwp, &s, &path, a.int(1), a.uint(2))? as i64
    ))
}

fn sys_openat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    Ok(SysRet::val(
        do_open(lwp, &s, &path, a.int(2), a.uint(3))? as i64
    ))
}

fn stat_out(lwp: &mut Lwp<'_>, vn: &Vn, addr: u64) -> KResult<SysRet> {
    let st: Stat = vn.getattr()?;
    lwp.copyout(addr, &st.encode())?;
    Ok(SysRet::ZERO)
}

fn sys_stat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, true)?;
    stat_out(lwp, &vn, a.ptr(1))
}

fn sys_lstat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, false)?;
    stat_out(lwp, &vn, a.ptr(1))
}

fn sys_fstatat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let follow = a.int(3) & AT_SYMLINK_NOFOLLOW == 0;
    let vn = lookup_in(&start(lwp, a.int(0))?, &path, follow)?;
    stat_out(lwp, &vn, a.ptr(2))
}

fn check_access(vn: &Vn, mode: i32) -> KResult<()> {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    if mode & W_OK != 0 && matches!(vn.vtype(), VType::Reg | VType::Dir | VType::Lnk) {
        vn.mnt.check_writable()?;
    }
    if mode & X_OK != 0 && !vn.is_dir() && vn.getattr()?.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(())
}

fn sys_access(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, true)?;
    check_access(&vn, a.int(1))?;
    Ok(SysRet::ZERO)
}

fn sys_faccessat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let follow = a.int(3) & AT_SYMLINK_NOFOLLOW == 0;
    let vn = lookup_in(&start(lwp, a.int(0))?, &path, follow)?;
    check_access(&vn, a.int(2))?;
    Ok(SysRet::ZERO)
}

/// The parent and new name for something to be created; EEXIST when the
/// path names something that exists already.
fn new_name(s: &Start, path: &[u8]) -> KResult<(Parent, Vec<u8>)> {
    let p = namei::parent(s, path, Op::Create)?;
    let name = match &p.last {
        Last::Root | Last::Key(_) => return Err(Errno::EEXIST),
        Last::Name(n) if n == b"." || n == b".." => return Err(Errno::EEXIST),
        Last::Name(n) => n.clone(),
    };
    p.dir.mnt.check_writable()?;
    Ok((p, name))
}

fn do_mkdir(lwp: &mut Lwp<'_>, s: &Start, path: &[u8], mode: u32) -> KResult<SysRet> {
    let (p, name) = new_name(s, path)?;
    let mode = (mode & ACCESSPERMS) & !umask(lwp);
    p.dir
        .obj
        .mkdir(name.as_slice().into(), mode)
        .into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_mkdir(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let s = start(lwp, AT_FDCWD)?;
    do_mkdir(lwp, &s, &path, a.uint(1))
}

fn sys_mkdirat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    do_mkdir(lwp, &s, &path, a.uint(2))
}

/// The parent and name of something to be removed.
fn old_name(s: &Start, path: &[u8], root_err: Errno) -> KResult<(Parent, Vec<u8>)> {
    let p = namei::parent(s, path, Op::Delete)?;
    let name = match &p.last {
        Last::Root | Last::Key(_) => return Err(root_err),
        Last::Name(n) => n.clone(),
    };
    Ok((p, name))
}

fn do_rmdir(s: &Start, path: &[u8]) -> KResult<SysRet> {
    let (p, name) = old_name(s, path, Errno::EBUSY)?;
    if name == b"." {
        return Err(Errno::EINVAL);
    }
    if name == b".." {
        return Err(Errno::ENOTEMPTY);
    }
    let vn = child(&p.dir, &name)?;
    if !vn.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if vfs().mounts.is_covered(&vn) || vn.same(&s.root) {
        return Err(Errno::EBUSY);
    }
    p.dir.mnt.check_writable()?;
    p.dir.obj.rmdir(name.as_slice().into()).into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_rmdir(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    do_rmdir(&start(lwp, AT_FDCWD)?, &path)
}

fn do_unlink(s: &Start, path: &[u8]) -> KResult<SysRet> {
    let (p, name) = old_name(s, path, Errno::EBUSY)?;
    if name == b"." || name == b".." {
        return Err(Errno::EINVAL);
    }
    let vn = child(&p.dir, &name)?;
    if vfs().mounts.is_covered(&vn) {
        return Err(Errno::EBUSY);
    }
    if p.trailing && !vn.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    p.dir.mnt.check_writable()?;
    p.dir.obj.remove(name.as_slice().into()).into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_unlink(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    do_unlink(&start(lwp, AT_FDCWD)?, &path)
}

fn sys_unlinkat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    match a.int(2) {
        0 => do_unlink(&s, &path),
        AT_REMOVEDIR => do_rmdir(&s, &path),
        _ => Err(Errno::EINVAL),
    }
}

/// Whether directory `dir` is `ancestor` or below it.
fn is_within(dir: &Vn, ancestor: &Vn, root: &Vn) -> KResult<bool> {
    let mut cur = dir.clone();
    for _ in 0..4096 {
        if cur.same(ancestor) {
            return Ok(true);
        }
        if cur.same(root) || cur.is_mount_root() {
            return Ok(false);
        }
        let up = cur.obj.lookup(b"..".as_slice().into()).into_result()?;
        cur = Vn::new(up, cur.mnt.clone());
    }
    Err(Errno::ELOOP)
}

fn do_rename(fs: &Start, from: &[u8], ts: &Start, to: &[u8]) -> KResult<SysRet> {
    let (fp, fname) = old_name(fs, from, Errno::EINVAL)?;
    let (tp, tname) = old_name(ts, to, Errno::EINVAL)?;
    for n in [&fname, &tname] {
        if n.as_slice() == b"." || n.as_slice() == b".." {
            return Err(Errno::EINVAL);
        }
    }
    let fvp = child(&fp.dir, &fname)?;
    if fp.trailing && !fvp.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if fp.dir.mnt.id != tp.dir.mnt.id {
        // rumpfs refuses renames before it looks at the mounts involved.
        return Err(if tp.dir.mnt.id == vfs().rootmnt.id {
            Errno::EOPNOTSUPP
        } else {
            Errno::EXDEV
        });
    }
    if vfs().mounts.is_covered(&fvp) {
        return Err(Errno::EBUSY);
    }
    let tvp = match child(&tp.dir, &tname) {
        Ok(v) => Some(v),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(e),
    };
    if let Some(t) = &tvp {
        if t.same(&fvp) {
            return Ok(SysRet::ZERO);
        }
        if vfs().mounts.is_covered(t) {
            return Err(Errno::EBUSY);
        }
        match (fvp.is_dir(), t.is_dir()) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            _ => {}
        }
    } else if tp.trailing && !fvp.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if fvp.is_dir() && is_within(&tp.dir, &fvp, &ts.root)? {
        return Err(Errno::EINVAL);
    }
    fp.dir.mnt.check_writable()?;
    fp.dir
        .obj
        .rename(
            fname.as_slice().into(),
            &tp.dir.obj,
            tname.as_slice().into(),
        )
        .into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_rename(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let from = path_arg(lwp, a.ptr(0))?;
    let to = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, AT_FDCWD)?;
    do_rename(&s, &from, &s, &to)
}

fn sys_renameat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let from = path_arg(lwp, a.ptr(1))?;
    let to = path_arg(lwp, a.ptr(3))?;
    let (fs, ts) = (start(lwp, a.int(0))?, start(lwp, a.int(2))?);
    do_rename(&fs, &from, &ts, &to)
}

fn do_link(fs: &Start, path: &[u8], ts: &Start, link: &[u8], follow: bool) -> KResult<SysRet> {
    let src = lookup_in(fs, path, follow)?;
    if src.is_dir() {
        return Err(Errno::EPERM);
    }
    let (p, name) = new_name(ts, link)?;
    if p.dir.mnt.id != src.mnt.id {
        return Err(Errno::EXDEV);
    }
    if p.trailing {
        return Err(Errno::ENOENT);
    }
    p.dir
        .obj
        .link(name.as_slice().into(), &src.obj)
        .into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_link(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let link = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, AT_FDCWD)?;
    do_link(&s, &path, &s, &link, false)
}

fn sys_linkat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let link = path_arg(lwp, a.ptr(3))?;
    let flags = a.int(4);
    if flags & !AT_SYMLINK_FOLLOW != 0 {
        return Err(Errno::EINVAL);
    }
    let (fs, ts) = (start(lwp, a.int(0))?, start(lwp, a.int(2))?);
    do_link(&fs, &path, &ts, &link, flags & AT_SYMLINK_FOLLOW != 0)
}

fn do_symlink(lwp: &mut Lwp<'_>, target: &[u8], s: &Start, link: &[u8]) -> KResult<SysRet> {
    let (p, name) = new_name(s, link)?;
    let mode = ACCESSPERMS & !umask(lwp);
    p.dir
        .obj
        .symlink(name.as_slice().into(), target.into(), mode)
        .into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_symlink(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let target = path_arg(lwp, a.ptr(0))?;
    let link = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, AT_FDCWD)?;
    do_symlink(lwp, &target, &s, &link)
}

fn sys_symlinkat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let target = path_arg(lwp, a.ptr(0))?;
    let link = path_arg(lwp, a.ptr(2))?;
    let s = start(lwp, a.int(1))?;
    do_symlink(lwp, &target, &s, &link)
}

fn do_readlink(
    lwp: &mut Lwp<'_>,
    s: &Start,
    path: &[u8],
    buf: u64,
    count: usize,
) -> KResult<SysRet> {
    let vn = lookup_in(s, path, false)?;
    if vn.vtype() != VType::Lnk {
        return Err(Errno::EINVAL);
    }
    let target: Vec<u8> = vn.obj.readlink().into_result()?.into();
    let n = target.len().min(count);
    lwp.copyout(buf, &target[..n])?;
    Ok(SysRet::val(n as i64))
}

fn sys_readlink(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let s = start(lwp, AT_FDCWD)?;
    do_readlink(lwp, &s, &path, a.ptr(1), a.size(2))
}

fn sys_readlinkat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    do_readlink(lwp, &s, &path, a.ptr(2), a.size(3))
}

/// Changes attributes of what `path` names.
fn set_path(
    lwp: &mut Lwp<'_>,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    attr: SetAttr,
) -> KResult<SysRet> {
    let vn = lookup_in(&start(lwp, dirfd)?, path, follow)?;
    setattr(&vn, attr)
}

/// Changes attributes of `vn` (read-only mounts refuse; utimes may move
/// the birth time back).
pub fn setattr(vn: &Vn, mut attr: SetAttr) -> KResult<SysRet> {
    vn.mnt.check_writable()?;
    if let Some(m) = attr.mtime.into_option() {
        let st = vn.getattr()?;
        if m < st.birthtime {
            attr.birthtime = Some(m).into();
        }
    }
    vn.obj.setattr(&attr).into_result()?;
    Ok(SysRet::ZERO)
}

fn mode_attr(mode: u32) -> SetAttr {
    SetAttr {
        mode: Some(mode & ALLPERMS).into(),
        ..SetAttr::default()
    }
}

fn owner_attr(uid: u32, gid: u32) -> SetAttr {
    let keep = |v: u32| {
        if v == u32::MAX {
            None.into()
        } else {
            Some(v).into()
        }
    };
    SetAttr {
        uid: keep(uid),
        gid: keep(gid),
        ..SetAttr::default()
    }
}

fn sys_chmod(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, true, mode_attr(a.uint(1)))
}

fn sys_lchmod(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, false, mode_attr(a.uint(1)))
}

fn sys_fchmodat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let follow = a.int(3) & AT_SYMLINK_NOFOLLOW == 0;
    set_path(lwp, a.int(0), &path, follow, mode_attr(a.uint(2)))
}

fn sys_chown(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, true, owner_attr(a.uint(1), a.uint(2)))
}

fn sys_lchown(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(
        lwp,
        AT_FDCWD,
        &path,
        false,
        owner_attr(a.uint(1), a.uint(2)),
    )
}

fn sys_fchownat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let follow = a.int(4) & AT_SYMLINK_NOFOLLOW == 0;
    set_path(
        lwp,
        a.int(0),
        &path,
        follow,
        owner_attr(a.uint(2), a.uint(3)),
    )
}

fn flags_attr(flags: u64) -> SetAttr {
    SetAttr {
        flags: Some(flags as u32).into(),
        ..SetAttr::default()
    }
}

fn sys_chflags(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, true, flags_attr(a.ptr(1)))
}

fn sys_lchflags(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, false, flags_attr(a.ptr(1)))
}

/// The (atime, mtime) of a `struct timeval[2]` argument; NULL is now.
pub fn timevals(lwp: &mut Lwp<'_>, addr: u64) -> KResult<SetAttr> {
    let (at, mt) = if addr == 0 {
        let now = Timespec::now();
        (now, now)
    } else {
        let b = lwp.copyin_vec(addr, 32)?;
        let (at, mt) = (
            Timespec::decode_timeval(&b[..16]),
            Timespec::decode_timeval(&b[16..]),
        );
        for t in [&at, &mt] {
            if !(0..1_000_000_000).contains(&t.nsec) {
                return Err(Errno::EINVAL);
            }
        }
        (at, mt)
    };
    Ok(SetAttr {
        atime: Some(at).into(),
        mtime: Some(mt).into(),
        ..SetAttr::default()
    })
}

/// The (atime, mtime) of a `struct timespec[2]` argument, with
/// UTIME_NOW and UTIME_OMIT; NULL is now.
pub fn timespecs(lwp: &mut Lwp<'_>, addr: u64) -> KResult<SetAttr> {
    let now = Timespec::now();
    if addr == 0 {
        return Ok(SetAttr {
            atime: Some(now).into(),
            mtime: Some(now).into(),
            ..SetAttr::default()
        });
    }
    let b = lwp.copyin_vec(addr, 32)?;
    let pick = |t: Timespec| -> KResult<Option<Timespec>> {
        match t.nsec {
            Timespec::UTIME_NOW => Ok(Some(now)),
            Timespec::UTIME_OMIT => Ok(None),
            n if (0..1_000_000_000).contains(&n) => Ok(Some(t)),
            _ => Err(Errno::EINVAL),
        }
    };
    Ok(SetAttr {
        atime: pick(Timespec::decode(&b[..16]))?.into(),
        mtime: pick(Timespec::decode(&b[16..]))?.into(),
        ..SetAttr::default()
    })
}

fn sys_utimes(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    // The times are read before the path, as NetBSD does.
    let attr = timevals(lwp, a.ptr(1))?;
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, true, attr)
}

fn sys_lutimes(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let attr = timevals(lwp, a.ptr(1))?;
    let path = path_arg(lwp, a.ptr(0))?;
    set_path(lwp, AT_FDCWD, &path, false, attr)
}

fn sys_utimensat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let attr = timespecs(lwp, a.ptr(2))?;
    let path = path_arg(lwp, a.ptr(1))?;
    let follow = a.int(3) & AT_SYMLINK_NOFOLLOW == 0;
    set_path(lwp, a.int(0), &path, follow, attr)
}

/// Truncates `vn` to `len` bytes.
pub fn truncate(vn: &Vn, len: i64) -> KResult<SysRet> {
    let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
    match vn.vtype() {
        VType::Dir => return Err(Errno::EISDIR),
        VType::Reg => {}
        _ => return Err(Errno::EINVAL),
    }
    setattr(
        vn,
        SetAttr {
            size: Some(len).into(),
            ..SetAttr::default()
        },
    )
}

fn sys_truncate(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, true)?;
    truncate(&vn, a.long(2))
}

fn do_mknod(lwp: &mut Lwp<'_>, s: &Start, path: &[u8], mode: u32, dev: u64) -> KResult<SysRet> {
    match mode & S_IFMT {
        S_IFCHR | S_IFBLK | S_IFIFO | S_IFREG | S_IFSOCK => {}
        0 => return Err(Errno::EINVAL),
        _ => return Err(Errno::EINVAL),
    }
    let (p, name) = new_name(s, path)?;
    let mode = (mode & S_IFMT) | ((mode & ALLPERMS) & !umask(lwp));
    p.dir
        .obj
        .create(name.as_slice().into(), mode, dev)
        .into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_mknod(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let s = start(lwp, AT_FDCWD)?;
    do_mknod(lwp, &s, &path, a.uint(1), a.ptr(2))
}

fn sys_mknodat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    do_mknod(lwp, &s, &path, a.uint(2), a.ptr(4))
}

fn sys_mkfifo(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let s = start(lwp, AT_FDCWD)?;
    do_mknod(lwp, &s, &path, S_IFIFO | (a.uint(1) & ALLPERMS), 0)
}

fn sys_mkfifoat(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(1))?;
    let s = start(lwp, a.int(0))?;
    do_mknod(lwp, &s, &path, S_IFIFO | (a.uint(2) & ALLPERMS), 0)
}

fn dir_at(lwp: &mut Lwp<'_>, addr: u64) -> KResult<Vn> {
    let path = path_arg(lwp, addr)?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, true)?;
    if !vn.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(vn)
}

fn sys_chdir(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = dir_at(lwp, a.ptr(0))?;
    set_cwd(lwp.pid(), vn);
    Ok(SysRet::ZERO)
}

/// Makes `vn` the working directory of `pid`.
pub fn set_cwd(pid: i32, vn: Vn) {
    let new = crate::vn::VnRef::new(vn);
    let old = vfs().update_proc(pid, |p| std::mem::replace(&mut p.cwd, new));
    drop(old);
}

fn sys_chroot(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let vn = dir_at(lwp, a.ptr(0))?;
    let new = crate::vn::VnRef::new(vn);
    let old = vfs().update_proc(lwp.pid(), |p| std::mem::replace(&mut p.root, new));
    drop(old);
    Ok(SysRet::ZERO)
}

fn sys_pathconf(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let path = path_arg(lwp, a.ptr(0))?;
    let vn = lookup_in(&start(lwp, AT_FDCWD)?, &path, true)?;
    Ok(SysRet::val(vn.obj.pathconf(a.int(1)).into_result()?))
}

/// The absolute path of directory `vn` as seen from `root`, found by
/// walking `..` and searching each parent for the child's number.
pub fn dir_path(vn: &Vn, root: &Vn) -> KResult<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut cur = vn.clone();
    let mut total = 0;
    while !cur.same(root) {
        // At the root of a mount, its name is that of the covered vnode.
        while cur.is_mount_root() && !cur.same(root) {
            match &cur.mnt.covered {
                Some(c) => cur = c.clone(),
                None => break,
            }
        }
        if cur.same(root) || (cur.is_mount_root() && cur.mnt.covered.is_none()) {
            break;
        }
        let up = Vn::new(
            cur.obj.lookup(b"..".as_slice().into()).into_result()?,
            cur.mnt.clone(),
        );
        let id = cur.fileid();
        let mut cookie = 0;
        let name = 'search: loop {
            let batch = up.obj.readdir(cookie, 256).into_result()?;
            if batch.is_empty() {
                return Err(Errno::ENOENT);
            }
            for e in batch.iter() {
                cookie = e.next;
                if e.fileno == id && e.name.as_slice() != b"." && e.name.as_slice() != b".." {
                    break 'search e.name.to_vec();
                }
            }
        };
        total += name.len() + 1;
        if total >= MAXPATHLEN {
            return Err(Errno::ENAMETOOLONG);
        }
        parts.push(name);
        cur = up;
    }
    if parts.is_empty() {
        return Ok(b"/".to_vec());
    }
    let mut out = Vec::with_capacity(total);
    for p in parts.iter().rev() {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    Ok(out)
}
