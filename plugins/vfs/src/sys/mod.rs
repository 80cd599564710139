//! The file syscalls of the VFS faction, with NetBSD's numbers, argument
//! layouts, copy order and errno values.

mod fd;
mod mount;
mod path;
mod proc;

pub use mount::{sync_all, unmount};

use crate::file::VnodeFile;
use crate::namei::Start;
use crate::state::vfs;
use crate::vn::Vn;
use rump_plugin_api::abi::fcntl::AT_FDCWD;
use rump_plugin_api::file::downcast;
use rump_plugin_api::{Args, Errno, KResult, Kernel, Lwp, OpenFile, SysRet};

type Handler = fn(&mut Lwp<'_>, &Args) -> KResult<SysRet>;

/// Every VFS syscall: (number, name, handler).
fn table() -> Vec<(i32, &'static str, Handler)> {
    let mut t = Vec::new();
    t.extend(path::table());
    t.extend(fd::table());
    t.extend(mount::table());
    t.extend(proc::table());
    t
}

/// Installs the syscalls.
pub fn register(k: &Kernel) -> Result<(), String> {
    for (num, name, f) in table() {
        k.register_syscall(num, name, f)
            .map_err(|e| format!("syscall {name} ({num}): {e}"))?;
    }
    Ok(())
}

/// A path argument.
fn path_arg(lwp: &mut Lwp<'_>, addr: u64) -> KResult<Vec<u8>> {
    lwp.copyin_path(addr)
}

/// Where relative paths of the calling process start: its working
/// directory, or the directory open as `dirfd` (for the *at syscalls).
fn start(lwp: &Lwp<'_>, dirfd: i32) -> KResult<Start> {
    let p = vfs().proc(lwp.pid());
    let dir = if dirfd == AT_FDCWD {
        p.cwd.vn().clone()
    } else {
        let of = lwp.fd_get(dirfd)?;
        let f = downcast::<VnodeFile>(&of.file).ok_or(Errno::ENOTDIR)?;
        if !f.vn().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        f.vn().clone()
    };
    Ok(Start {
        root: p.root.vn().clone(),
        dir,
    })
}

/// The open file behind `fd`, which must be a vnode of the VFS; `other`
/// is the errno for other kinds of file.
fn vnode_fd(lwp: &Lwp<'_>, fd: i32, other: Errno) -> KResult<(OpenFile, Vn)> {
    let of = lwp.fd_get(fd)?;
    let vn = downcast::<VnodeFile>(&of.file)
        .map(|f| f.vn().clone())
        .or_else(|| downcast::<crate::file::DeviceFile>(&of.file).map(|f| f.vn().clone()))
        .ok_or(other)?;
    Ok((of, vn))
}

/// The calling process's file creation mask.
fn umask(lwp: &Lwp<'_>) -> u32 {
    vfs().proc(lwp.pid()).umask
}
