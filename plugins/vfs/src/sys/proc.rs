//! Per-process VFS state: the file creation mask and the working
//! directory's name.

use super::path::dir_path;
use crate::state::vfs;
use rump_plugin_api::abi::stat::ALLPERMS;
use rump_plugin_api::abi::sysno as nr;
use rump_plugin_api::{Args, Errno, KResult, Lwp, SysRet};

type Handler = fn(&mut Lwp<'_>, &Args) -> KResult<SysRet>;

pub fn table() -> Vec<(i32, &'static str, Handler)> {
    vec![
        (nr::UMASK, "umask", sys_umask),
        (nr::GETCWD, "__getcwd", sys_getcwd),
    ]
}

fn sys_umask(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let new = a.uint(0) & ALLPERMS;
    let old = vfs().update_proc(lwp.pid(), |p| std::mem::replace(&mut p.umask, new));
    Ok(SysRet::val(i64::from(old)))
}

/// __getcwd(buf, length): the path with its NUL; ERANGE when it does not
/// fit (or `length` < 2).
fn sys_getcwd(lwp: &mut Lwp<'_>, a: &Args) -> KResult<SysRet> {
    let len = a.size(1).min(4096);
    if len < 2 {
        return Err(Errno::ERANGE);
    }
    let p = vfs().proc(lwp.pid());
    let mut path = dir_path(p.cwd.vn(), p.root.vn())?;
    path.push(0);
    if path.len() > len {
        return Err(Errno::ERANGE);
    }
    lwp.copyout(a.ptr(0), &path)?;
    Ok(SysRet::val(path.len() as i64))
}
