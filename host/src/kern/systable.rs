//! The syscall table: NetBSD syscall numbers to handlers, built-in or
//! registered by components.

use crate::sp::lwp::LwpCtx;
use netbsd_abi::sysno::{self, Provider, NSYSENT};
use netbsd_abi::Errno;
use parking_lot::RwLock;
use rump_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use rump_plugin_api::ffi::LwpOps_TO;
use rump_plugin_api::syscall::SyscallObj;
use rump_plugin_api::{Args, KResult, SysRet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A syscall implemented in the kernel core.
pub type BuiltinFn = fn(&mut LwpCtx<'_>, &Args) -> KResult<SysRet>;

/// How a syscall is served.
pub enum Handler {
    Builtin(BuiltinFn),
    Component(SyscallObj),
}

/// One table entry.
pub struct SysEntry {
    pub name: &'static str,
    /// The component that registered it.
    pub owner: String,
    pub handler: Handler,
}

/// The table.
pub struct SyscallTable {
    entries: RwLock<Vec<Option<Arc<SysEntry>>>>,
    warned: Vec<AtomicBool>,
}

impl SyscallTable {
    pub fn new() -> Self {
        SyscallTable {
            entries: RwLock::new(vec![None; NSYSENT as usize]),
            warned: (0..NSYSENT).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Installs a handler; EEXIST if the number is taken, EINVAL if out
    /// of range.
    pub fn register(&self, num: i32, entry: SysEntry) -> Result<(), Errno> {
        let i = usize::try_from(num)
            .ok()
            .filter(|&i| i < NSYSENT as usize)
            .ok_or(Errno::EINVAL)?;
        let mut t = self.entries.write();
        if t[i].is_some() {
            return Err(Errno::EEXIST);
        }
        t[i] = Some(Arc::new(entry));
        Ok(())
    }

    /// Removes every handler `owner` registered.
    pub fn unregister_owner(&self, owner: &str) {
        for e in self.entries.write().iter_mut() {
            if e.as_ref().is_some_and(|e| e.owner == owner) {
                *e = None;
            }
        }
    }

    /// The entry for `num`, if one is installed.
    pub fn get(&self, num: i32) -> Option<Arc<SysEntry>> {
        let i = usize::try_from(num).ok()?;
        self.entries.read().get(i).cloned().flatten()
    }

    /// Runs syscall `num`. Numbers without a handler give ENOSYS; the
    /// first time for each, the log says which part of the kernel would
    /// serve it.
    pub fn call(&self, lwp: &mut LwpCtx<'_>, num: i32, args: &Args) -> KResult<SysRet> {
        let Some(e) = self.get(num) else {
            self.explain_missing(num);
            return Err(Errno::ENOSYS);
        };
        let _span = tracing::debug_span!("syscall", pid = lwp.pid(), name = e.name).entered();
        let res = match &e.handler {
            Handler::Builtin(f) => f(lwp, args),
            Handler::Component(obj) => obj.call(LwpOps_TO::from_ptr(lwp, TD_Opaque), args).into(),
        };
        if let Err(err) = res {
            tracing::debug!(error = ?err, "failed");
        }
        res
    }

    fn explain_missing(&self, num: i32) {
        let Some(info) = sysno::info(num) else { return };
        let Some(flag) = self.warned.get(num as usize) else {
            return;
        };
        if flag.swap(true, Ordering::Relaxed) {
            return;
        }
        let needs = match info.provider {
            Provider::Kern => return,
            Provider::Vfs => {
                "the VFS faction, which is not loaded (start the server with -lrumpvfs)"
            }
            Provider::Net => "the networking faction, which this server does not have",
            Provider::Module => "a kernel module that is not loaded",
            Provider::Compat => "the compat_50 module, which this server does not have",
        };
        let pending = crate::kern::kernel().modules.inactive_summary();
        let pending = if pending.is_empty() {
            String::new()
        } else {
            format!("; {pending}")
        };
        tracing::warn!(
            "syscall {} ({num}) needs {needs}: it fails with ENOSYS{pending}",
            info.name
        );
    }
}

impl Default for SyscallTable {
    fn default() -> Self {
        Self::new()
    }
}
