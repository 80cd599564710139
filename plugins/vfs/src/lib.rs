//! librumpvfs: the VFS faction of the rump kernel.
//!
//! It brings the kernel a file system namespace: name lookup with
//! symbolic links and mount points ([`namei`]), the mount table
//! ([`mount`]), rumpfs as the root file system with `/dev` and `/tmp`
//! ([`rumpfs`]), host files mapped in with etfs for `-d` and `-m`
//! ([`etfs`]) and the partitions on its disks ([`partition`]), device
//! nodes ([`dev`]), open files of vnodes ([`file`]),
//! advisory locks ([`locks`]) and every file syscall ([`sys`]). File
//! systems are other components that register a type; the VFS mounts
//! them on request.
#![deny(unsafe_code)]

pub mod bufcache;
pub mod dev;
pub mod etfs;
pub mod fifo;
pub mod file;
pub mod locks;
pub mod mount;
pub mod namei;
pub mod partition;
pub mod rumpfs;
pub mod state;
pub mod sys;
pub mod vn;

use rump_plugin_api::abi_stable::std_types::{RResult, RSlice, RStr, RVec};
use rump_plugin_api::ffi::{ProcHooks, VfsHost};
use rump_plugin_api::file::File;
use rump_plugin_api::vfs::EtfsType;
use rump_plugin_api::{export_plugin, Component, ComponentClass, Errno, KResult};
use state::vfs;

fn components() -> Vec<Component> {
    vec![Component::new(
        "rumpvfs",
        env!("CARGO_PKG_VERSION"),
        ComponentClass::Faction,
    )
    .description("VFS: name lookup, vnodes, mounts, rumpfs, etfs, file syscalls")
    .requires("rumpkern", "^0.1")
    .on_init(|k| {
        state::init(k.clone()).map_err(|e| format!("root file system: {e}"))?;
        sys::register(k)?;
        k.register_proc_hooks(Hooks)
            .map_err(|e| format!("process hooks: {e}"))?;
        k.register_vfs(Host)
            .map_err(|e| format!("host interface: {e}"))?;
        Ok(())
    })]
}

export_plugin!(components);

struct Hooks;

impl ProcHooks for Hooks {
    fn fork(&self, parent: i32, child: i32) {
        vfs().fork(parent, child);
    }

    fn exit(&self, pid: i32) {
        vfs().exit(pid);
    }
}

struct Host;

/// Reads a whole file through the VFS, from the kernel's root.
fn read_file(path: &[u8]) -> KResult<Vec<u8>> {
    let root = vfs().root();
    let s = namei::Start {
        root: root.clone(),
        dir: root,
    };
    let vn = namei::lookup(&s, path, true)?;
    if vn.is_dir() {
        return Err(Errno::EISDIR);
    }
    let f = file::VnodeFile::new(vn);
    let mut out = Vec::new();
    loop {
        let chunk = f.read(1 << 20, Some(out.len() as i64), 0)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
    }
}

impl VfsHost for Host {
    fn etfs_register(
        &self,
        key: RStr<'_>,
        hostpath: RStr<'_>,
        ftype: EtfsType,
        begin: u64,
        size: u64,
    ) -> RResult<(), Errno> {
        vfs()
            .etfs
            .register(key.as_str(), hostpath.as_str(), ftype, begin, size)
            .into()
    }

    fn etfs_remove(&self, key: RStr<'_>) -> RResult<(), Errno> {
        vfs().etfs.remove(key.as_str()).into()
    }

    fn read_file(&self, path: RSlice<'_, u8>) -> RResult<RVec<u8>, Errno> {
        read_file(path.as_slice()).map(RVec::from).into()
    }

    fn sync_all(&self) {
        sys::sync_all(true);
    }

    fn disk_scanners_changed(&self) {
        vfs().etfs.rescan();
    }

    fn unmount_all(&self, nosync: bool) {
        for m in vfs().mounts.all().iter().rev() {
            if m.covered.is_some() {
                if let Err(e) = sys::unmount(m, true, !nosync) {
                    vfs().kernel.warn(&format!("unmount {}: {e}", m.on));
                }
            }
        }
    }
}
