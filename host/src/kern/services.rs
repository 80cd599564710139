//! The kernel services handed to each component: the host side of
//! plugin-api's `KernelServices`.

use super::sysctl::Leaf;
use super::systable::{Handler, SysEntry};
use super::{kernel, sched};
use netbsd_abi::sysno;
use netbsd_abi::Errno;
use rump_plugin_api::abi_stable::std_types::{RBox, RResult, RStr, RString, RVec};
use rump_plugin_api::disk::DiskScannerObj;
use rump_plugin_api::ffi::{KernelServices, ProcHooks_TO, VfsHost_TO};
use rump_plugin_api::guard::{guard, guard_or};
use rump_plugin_api::kernel::LogLevel;
use rump_plugin_api::syscall::SyscallObj;
use rump_plugin_api::sysctl::SysctlObj;
use rump_plugin_api::vfs::FsTypeObj;
use rump_plugin_api::{Kernel, SysctlData};
use std::sync::Arc;

/// The services of one component.
#[derive(Clone)]
struct Services {
    component: Arc<str>,
}

/// A kernel handle for the component `name`.
pub fn handle(name: &str) -> Kernel {
    Kernel::new(Services {
        component: name.into(),
    })
}

struct ComponentLeaf(SysctlObj);

impl Leaf for ComponentLeaf {
    fn get(&self) -> Result<SysctlData, Errno> {
        self.0.get().into_result()
    }

    fn set(&self, value: SysctlData) -> Result<(), Errno> {
        self.0.set(value).into_result()
    }
}

impl KernelServices for Services {
    fn component(&self) -> RString {
        RString::from(&*self.component)
    }

    fn log(&self, level: LogLevel, message: RStr<'_>) {
        let c = &*self.component;
        let m = message.as_str();
        match level {
            LogLevel::Error => tracing::error!(component = %c, "{m}"),
            LogLevel::Warn => tracing::warn!(component = %c, "{m}"),
            LogLevel::Info => tracing::info!(component = %c, "{m}"),
            LogLevel::Debug => tracing::debug!(component = %c, "{m}"),
            LogLevel::Trace => tracing::trace!(component = %c, "{m}"),
        }
    }

    fn register_syscall(&self, num: i32, handler: SyscallObj) -> RResult<(), Errno> {
        guard("register_syscall", || {
            let entry = SysEntry {
                name: sysno::name(num).unwrap_or("(unnamed)"),
                owner: self.component.to_string(),
                handler: Handler::Component(handler),
            };
            kernel().syscalls.register(num, entry)
        })
    }

    fn register_sysctl(
        &self,
        path: RStr<'_>,
        description: RStr<'_>,
        writable: bool,
        value: SysctlObj,
    ) -> RResult<(), Errno> {
        guard("register_sysctl", || {
            let parts: Vec<&str> = path.as_str().split('.').collect();
            let Some((name, parent)) = parts.split_last() else {
                return Err(Errno::EINVAL);
            };
            let leaf = Arc::new(ComponentLeaf(value));
            kernel()
                .sysctl
                .add_leaf(parent, name, None, description.as_str(), writable, leaf)?;
            kernel()
                .factions
                .sysctl_added(&self.component, path.as_str());
            Ok(())
        })
    }

    fn mem_reserve(&self, bytes: u64) -> RResult<(), Errno> {
        kernel().mem.reserve(bytes).into()
    }

    fn mem_release(&self, bytes: u64) {
        kernel().mem.release(bytes)
    }

    fn mem_limit(&self) -> u64 {
        kernel().mem.limit().unwrap_or(0)
    }

    fn block_begin(&self) {
        guard_or("block_begin", (), sched::block_begin)
    }

    fn block_end(&self) {
        guard_or("block_end", (), sched::block_end)
    }

    fn require(&self, name: RStr<'_>, version: RStr<'_>) -> RResult<(), RString> {
        let r = guard_or("require", Err("panicked".to_string()), || {
            kernel().modules.require(name.as_str(), version.as_str())
        });
        r.map_err(RString::from).into()
    }

    fn register_fs_type(&self, fs: FsTypeObj) -> RResult<(), Errno> {
        guard("register_fs_type", || {
            kernel().factions.register_fs_type(&self.component, fs)
        })
    }

    fn fs_type(&self, name: RStr<'_>) -> RResult<FsTypeObj, RString> {
        let r = guard_or("fs_type", Err("panicked".to_string()), || {
            kernel().factions.fs_type(name.as_str())
        });
        r.map_err(RString::from).into()
    }

    fn fs_type_ref(&self, name: RStr<'_>, delta: i32) {
        guard_or("fs_type_ref", (), || {
            if let Some(owner) = kernel().factions.fs_owner(name.as_str()) {
                kernel().modules.add_ref(&owner, delta);
            }
        })
    }

    fn register_proc_hooks(&self, hooks: ProcHooks_TO<'static, RBox<()>>) -> RResult<(), Errno> {
        guard("register_proc_hooks", || {
            kernel().factions.register_hooks(&self.component, hooks);
            Ok(())
        })
    }

    fn register_vfs(&self, vfs: VfsHost_TO<'static, RBox<()>>) -> RResult<(), Errno> {
        guard("register_vfs", || {
            kernel().factions.register_vfs(&self.component, vfs)
        })
    }

    fn interrupted(&self) -> bool {
        sched::interrupted()
    }

    fn register_disk_scanner(&self, scanner: DiskScannerObj) -> RResult<(), Errno> {
        guard("register_disk_scanner", || {
            kernel()
                .factions
                .register_disk_scanner(&self.component, scanner);
            // Disks attached before the scanner came get scanned now.
            if let Some(vfs) = kernel().factions.vfs() {
                vfs.disk_scanners_changed();
            }
            Ok(())
        })
    }

    fn disk_scanners(&self) -> RVec<DiskScannerObj> {
        guard_or("disk_scanners", RVec::new(), || {
            kernel().factions.disk_scanners().into()
        })
    }
}
