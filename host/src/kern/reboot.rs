//! reboot(2) and halting: what `rump.halt` and SIGTERM/SIGINT lead to.

use super::kernel;
use crate::sp::lwp::LwpCtx;
use netbsd_abi::reboot::{RB_DUMP, RB_HALT, RB_NOSYNC};
use rump_plugin_api::{Args, KResult, SysRet};
use std::io::Write;

fn console(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// reboot(opt, bootstr): halts the kernel as `opt` says. The caller gets
/// its (successful) reply before the server goes away.
pub fn sys_reboot(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    halt(a.int(0), Some(lwp))
}

/// Halts the kernel: syncs (unless RB_NOSYNC or RB_DUMP), removes the unix
/// socket, answers the caller if there is one, and then exits with status
/// 0, aborts (RB_DUMP) or stops serving and sleeps for ever (RB_HALT).
pub fn halt(howto: i32, mut caller: Option<&mut LwpCtx<'_>>) -> ! {
    console("rump kernel halting...");
    tracing::debug!(howto = format_args!("{howto:#x}"), "halting");
    let k = kernel();
    let reply = |c: &mut Option<&mut LwpCtx<'_>>| {
        if let Some(lwp) = c.as_deref_mut() {
            lwp.reply_now(Ok(SysRet::ZERO));
        }
    };
    if howto & RB_DUMP != 0 {
        k.remove_socket();
        reply(&mut caller);
        std::process::abort();
    }
    // The VFS writes every file system out and unmounts it (rump_vfs_fini),
    // unless told not to sync.
    if let Some(vfs) = k.factions.vfs() {
        if howto & RB_NOSYNC == 0 {
            vfs.sync_all();
        }
        vfs.unmount_all(howto & RB_NOSYNC != 0);
    }
    if howto & RB_HALT != 0 {
        console("rump kernel halted (with RB_HALT, not exiting)");
        k.remove_socket();
        reply(&mut caller);
        crate::sp::server::stop();
        loop {
            std::thread::park();
        }
    }
    k.remove_socket();
    reply(&mut caller);
    console("halted");
    std::process::exit(0);
}
