//! What factions and file systems hand to the kernel core: file system
//! types, partition scanners, process hooks, and the VFS faction's host
//! interface.

use super::kernel;
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi_stable::std_types::RBox;
use rump_plugin_api::disk::DiskScannerObj;
use rump_plugin_api::ffi::{ProcHooks_TO, VfsHost_TO};
use rump_plugin_api::vfs::FsTypeObj;
use rump_plugin_api::Errno;

type HooksObj = ProcHooks_TO<'static, RBox<()>>;
type VfsObj = VfsHost_TO<'static, RBox<()>>;

struct FsEntry {
    name: String,
    owner: String,
    obj: FsTypeObj,
}

/// The registrations.
#[derive(Default)]
pub struct Factions {
    fs_types: RwLock<Vec<FsEntry>>,
    /// Partition scanners, oldest first, with the component of each.
    scanners: RwLock<Vec<(String, DiskScannerObj)>>,
    hooks: RwLock<Vec<(String, HooksObj)>>,
    vfs: Mutex<Option<(String, std::sync::Arc<VfsObj>)>>,
    /// Sysctl leaves added by components: (owner, dotted path).
    sysctls: Mutex<Vec<(String, String)>>,
}

impl Factions {
    /// Offers a file system type on behalf of component `owner`.
    pub fn register_fs_type(&self, owner: &str, obj: FsTypeObj) -> Result<(), Errno> {
        let name = obj.name().to_string();
        let mut t = self.fs_types.write();
        if name.is_empty() || t.iter().any(|e| e.name == name) {
            return Err(Errno::EEXIST);
        }
        t.push(FsEntry {
            name,
            owner: owner.to_string(),
            obj,
        });
        Ok(())
    }

    /// The file system type `name`, activating its component if needed.
    pub fn fs_type(&self, name: &str) -> Result<FsTypeObj, String> {
        if let Some(e) = self.fs_types.read().iter().find(|e| e.name == name) {
            return Ok(e.obj.clone());
        }
        // A component of that name that could not start yet may start now.
        if kernel().modules.get(name).is_some() {
            kernel().modules.require(name, "*")?;
            if let Some(e) = self.fs_types.read().iter().find(|e| e.name == name) {
                return Ok(e.obj.clone());
            }
        }
        Err(format!("no file system type {name} is loaded"))
    }

    /// The component that provides file system type `name`.
    pub fn fs_owner(&self, name: &str) -> Option<String> {
        self.fs_types
            .read()
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.owner.clone())
    }

    /// Names of the file system types.
    pub fn fs_type_names(&self) -> Vec<String> {
        self.fs_types
            .read()
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }

    /// Offers a partition scanner on behalf of component `owner`.
    pub fn register_disk_scanner(&self, owner: &str, obj: DiskScannerObj) {
        self.scanners.write().push((owner.to_string(), obj));
    }

    /// The partition scanners, oldest first.
    pub fn disk_scanners(&self) -> Vec<DiskScannerObj> {
        self.scanners
            .read()
            .iter()
            .map(|(_, s)| s.clone())
            .collect()
    }

    pub fn register_hooks(&self, owner: &str, h: HooksObj) {
        self.hooks.write().push((owner.to_string(), h));
    }

    pub fn register_vfs(&self, owner: &str, v: VfsObj) -> Result<(), Errno> {
        let mut slot = self.vfs.lock();
        if slot.is_some() {
            return Err(Errno::EEXIST);
        }
        *slot = Some((owner.to_string(), std::sync::Arc::new(v)));
        Ok(())
    }

    /// The VFS faction's host interface, if the VFS is loaded.
    pub fn vfs(&self) -> Option<std::sync::Arc<VfsObj>> {
        self.vfs.lock().as_ref().map(|(_, v)| v.clone())
    }

    /// Records that `owner` added the sysctl leaf `path`.
    pub fn sysctl_added(&self, owner: &str, path: &str) {
        self.sysctls
            .lock()
            .push((owner.to_string(), path.to_string()));
    }

    /// Forgets everything component `owner` registered (it is unloading).
    pub fn forget(&self, owner: &str) {
        self.sysctls.lock().retain(|(o, path)| {
            if o == owner {
                kernel().sysctl.remove(&path.split('.').collect::<Vec<_>>());
            }
            o != owner
        });
        self.fs_types.write().retain(|e| e.owner != owner);
        self.scanners.write().retain(|(o, _)| o != owner);
        self.hooks.write().retain(|(o, _)| o != owner);
        let mut v = self.vfs.lock();
        if v.as_ref().is_some_and(|(o, _)| o == owner) {
            *v = None;
        }
    }

    /// Tells the hooks that `child` was forked from `parent`.
    pub fn forked(&self, parent: i32, child: i32) {
        for (_, h) in self.hooks.read().iter() {
            h.fork(parent, child);
        }
    }

    /// Tells the hooks that `pid` is gone.
    pub fn exited(&self, pid: i32) {
        for (_, h) in self.hooks.read().iter() {
            h.exit(pid);
        }
    }
}
