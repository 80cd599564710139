//! Vnodes as the VFS holds them: a file system's vnode together with the
//! mount it belongs to.

use crate::mount::Mnt;
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::vfs::{VType, VnodeObj};
use rump_plugin_api::KResult;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A vnode and its mount.
#[derive(Clone)]
pub struct Vn {
    pub obj: VnodeObj,
    pub mnt: Arc<Mnt>,
}

impl Vn {
    pub fn new(obj: VnodeObj, mnt: Arc<Mnt>) -> Vn {
        Vn { obj, mnt }
    }

    pub fn vtype(&self) -> VType {
        self.obj.vtype()
    }

    pub fn is_dir(&self) -> bool {
        self.vtype() == VType::Dir
    }

    pub fn fileid(&self) -> u64 {
        self.obj.fileid()
    }

    /// Identity across lookups: (mount, file number).
    pub fn key(&self) -> (u64, u64) {
        (self.mnt.id, self.fileid())
    }

    /// Whether this is the root directory of its mount.
    pub fn is_mount_root(&self) -> bool {
        self.fileid() == self.mnt.root_fileid
    }

    pub fn same(&self, other: &Vn) -> bool {
        self.key() == other.key()
    }

    pub fn getattr(&self) -> KResult<Stat> {
        self.obj.getattr().into_result()
    }
}

/// A vnode kept in use: while it lives, its mount cannot be unmounted
/// (an open file, a working directory).
pub struct VnRef {
    vn: Vn,
}

impl VnRef {
    pub fn new(vn: Vn) -> VnRef {
        vn.mnt.users.fetch_add(1, Ordering::AcqRel);
        VnRef { vn }
    }

    pub fn vn(&self) -> &Vn {
        &self.vn
    }
}

impl Clone for VnRef {
    fn clone(&self) -> Self {
        VnRef::new(self.vn.clone())
    }
}

impl Drop for VnRef {
    fn drop(&mut self) {
        self.vn.mnt.users.fetch_sub(1, Ordering::AcqRel);
    }
}
