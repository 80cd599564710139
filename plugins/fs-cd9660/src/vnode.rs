//! The vnodes the VFS sees: a loaded [`Node`] of a mounted volume.
//!
//! A vnode is a handle made by each lookup; the vnodes of one file share
//! its number. Nothing can be changed (EROFS). Once the volume is
//! unmounted every operation fails with EIO.

use crate::data;
use crate::dir;
use crate::fs::Fs;
use crate::node::Node;
use rump_plugin_api::abi::fcntl::{
    _PC_CHOWN_RESTRICTED, _PC_FILESIZEBITS, _PC_LINK_MAX, _PC_NAME_MAX, _PC_NO_TRUNC, _PC_PATH_MAX,
    _PC_PIPE_BUF, _PC_SYNC_IO,
};
use rump_plugin_api::abi::limits::{MAXPATHLEN, PIPE_BUF};
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::vfs::{vnode_obj, DirEntry, SetAttr, VType, Vnode, VnodeObj, Written};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// Longest name on a volume without Rock Ridge, as NetBSD's pathconf
/// reports it.
const ISO_NAME_MAX: i64 = 37;

/// A cd9660 vnode.
pub struct IsoVnode {
    fs: Arc<Fs>,
    node: Node,
}

impl IsoVnode {
    /// The vnode of file number `ino`.
    pub fn load(fs: &Arc<Fs>, ino: u64) -> KResult<VnodeObj> {
        fs.alive()?;
        let node = Node::load(fs, ino)?;
        Ok(vnode_obj(Arc::new(IsoVnode {
            fs: fs.clone(),
            node,
        })))
    }

    fn dir(&self) -> KResult<&Node> {
        if self.node.vtype == VType::Dir {
            Ok(&self.node)
        } else {
            Err(Errno::ENOTDIR)
        }
    }
}

impl Vnode for IsoVnode {
    fn vtype(&self) -> VType {
        self.node.vtype
    }

    fn fileid(&self) -> u64 {
        self.node.ino
    }

    fn getattr(&self) -> KResult<Stat> {
        self.fs.alive()?;
        Ok(self
            .node
            .stat(self.fs.fsid, self.fs.geo.block_size() as u32))
    }

    fn setattr(&self, _attr: &SetAttr) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        self.fs.alive()?;
        let ino = dir::lookup(&self.fs, self.dir()?, name)?;
        IsoVnode::load(&self.fs, ino)
    }

    fn create(&self, _name: &[u8], _mode: u32, _rdev: u64) -> KResult<VnodeObj> {
        Err(Errno::EROFS)
    }

    fn mkdir(&self, _name: &[u8], _mode: u32) -> KResult<VnodeObj> {
        Err(Errno::EROFS)
    }

    fn symlink(&self, _name: &[u8], _target: &[u8], _mode: u32) -> KResult<VnodeObj> {
        Err(Errno::EROFS)
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.fs.alive()?;
        match &self.node.link {
            Some(Ok(t)) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn link(&self, _name: &[u8], _target: &VnodeObj) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn remove(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn rename(&self, _from: &[u8], _to_dir: &VnodeObj, _to: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        self.fs.alive()?;
        dir::readdir(&self.fs, self.dir()?, cookie, max)
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.fs.alive()?;
        match self.node.vtype {
            VType::Reg => data::read(&self.fs.disk, &self.fs.geo, &self.node.extents, offset, len),
            VType::Dir => Err(Errno::EISDIR),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn write(&self, _offset: u64, _data: &[u8], _append: bool) -> KResult<Written> {
        Err(Errno::EROFS)
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        Ok(match name {
            _PC_LINK_MAX => 1,
            _PC_NAME_MAX if self.fs.rock_ridge().is_some() => 255,
            _PC_NAME_MAX => ISO_NAME_MAX,
            _PC_PATH_MAX => MAXPATHLEN as i64,
            _PC_PIPE_BUF => PIPE_BUF as i64,
            _PC_CHOWN_RESTRICTED | _PC_NO_TRUNC | _PC_SYNC_IO => 1,
            // Multi-extent files may pass 4 GiB.
            _PC_FILESIZEBITS => 64,
            _ => return Err(Errno::EINVAL),
        })
    }
}
