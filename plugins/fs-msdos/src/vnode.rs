//! The vnodes the VFS sees: a node of a mount, with the [`Vnode`]
//! operations delegated to [`Fs`]. Links, symbolic links and device
//! nodes do not exist on FAT.

use crate::fs::Fs;
use crate::node::Node;
use rump_plugin_api::abi::fcntl::{
    _PC_CHOWN_RESTRICTED, _PC_FILESIZEBITS, _PC_LINK_MAX, _PC_NAME_MAX, _PC_NO_TRUNC, _PC_PATH_MAX,
    _PC_SYNC_IO,
};
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::vfs::{
    downcast_vnode, vnode_obj, DirEntry, SetAttr, VType, Vnode, VnodeObj, Written,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// A msdosfs vnode.
pub struct MsdosVnode {
    fs: Arc<Fs>,
    node: Arc<Node>,
}

impl MsdosVnode {
    /// The VFS's handle on `node`.
    pub fn obj(fs: &Arc<Fs>, node: Arc<Node>) -> VnodeObj {
        vnode_obj(Arc::new(MsdosVnode {
            fs: fs.clone(),
            node,
        }))
    }

    /// The node behind `obj` if it is a vnode of this same mount; EXDEV
    /// otherwise.
    fn same_mount(&self, obj: &VnodeObj) -> KResult<Arc<Node>> {
        downcast_vnode::<MsdosVnode>(obj)
            .filter(|v| Arc::ptr_eq(&v.fs, &self.fs))
            .map(|v| v.node.clone())
            .ok_or(Errno::EXDEV)
    }

    fn wrap(&self, node: Arc<Node>) -> VnodeObj {
        MsdosVnode::obj(&self.fs, node)
    }

    fn dir(&self) -> KResult<()> {
        if self.node.is_dir {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }
}

impl Vnode for MsdosVnode {
    fn vtype(&self) -> VType {
        if self.node.is_dir {
            VType::Dir
        } else {
            VType::Reg
        }
    }

    fn fileid(&self) -> u64 {
        self.node.id
    }

    fn getattr(&self) -> KResult<Stat> {
        self.fs.getattr(&self.node)
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.fs.setattr(&self.node, attr)
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        self.fs.lookup(&self.node, name).map(|n| self.wrap(n))
    }

    fn create(&self, name: &[u8], mode: u32, _rdev: u64) -> KResult<VnodeObj> {
        self.dir()?;
        self.fs.create(&self.node, name, mode).map(|n| self.wrap(n))
    }

    fn mkdir(&self, name: &[u8], _mode: u32) -> KResult<VnodeObj> {
        self.dir()?;
        self.fs.mkdir(&self.node, name).map(|n| self.wrap(n))
    }

    fn symlink(&self, _name: &[u8], _target: &[u8], _mode: u32) -> KResult<VnodeObj> {
        self.dir()?;
        Err(Errno::EOPNOTSUPP)
    }

    fn link(&self, _name: &[u8], target: &VnodeObj) -> KResult<()> {
        self.dir()?;
        self.same_mount(target)?;
        Err(Errno::EOPNOTSUPP)
    }

    fn remove(&self, name: &[u8]) -> KResult<()> {
        self.dir()?;
        self.fs.remove(&self.node, name, false)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.dir()?;
        self.fs.remove(&self.node, name, true)
    }

    fn rename(&self, from: &[u8], to_dir: &VnodeObj, to: &[u8]) -> KResult<()> {
        self.dir()?;
        let to_dir = self.same_mount(to_dir)?;
        self.fs.rename(&self.node, from, &to_dir, to)
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        self.fs.readdir(&self.node, cookie, max)
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.fs.read(&self.node, offset, len)
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        self.fs.write(&self.node, offset, data, append)
    }

    fn fsync(&self, _data_only: bool) -> KResult<()> {
        self.fs.fsync()
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        Ok(match name {
            _PC_LINK_MAX => 1,
            _PC_NAME_MAX => self.fs.statvfs()?.namemax as i64,
            _PC_PATH_MAX => MAXPATHLEN as i64,
            _PC_CHOWN_RESTRICTED | _PC_SYNC_IO => 1,
            _PC_NO_TRUNC => 0,
            _PC_FILESIZEBITS => 32,
            _ => return Err(Errno::EINVAL),
        })
    }
}
