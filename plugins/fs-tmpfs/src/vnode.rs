//! The vnodes the VFS sees: a node of a mount, with the [`Vnode`]
//! operations delegated to [`Fs`] and [`Node`].
//!
//! A vnode is a cheap handle: every lookup makes a new one, and all the
//! vnodes of a node share it (and its `fileid`). Once the mount is gone
//! every operation fails with EIO.

use crate::fs::Fs;
use crate::node::Node;
use rump_plugin_api::abi::fcntl::{
    _PC_CHOWN_RESTRICTED, _PC_FILESIZEBITS, _PC_LINK_MAX, _PC_NAME_MAX, _PC_NO_TRUNC, _PC_PATH_MAX,
    _PC_PIPE_BUF, _PC_SYNC_IO,
};
use rump_plugin_api::abi::limits::{MAXPATHLEN, NAME_MAX_FS, PIPE_BUF};
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::vfs::{
    downcast_vnode, vnode_obj, DirEntry, SetAttr, VType, Vnode, VnodeObj, Written,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// A tmpfs vnode.
pub struct TmpfsVnode {
    fs: Arc<Fs>,
    node: Arc<Node>,
}

impl TmpfsVnode {
    /// The VFS's handle on `node`.
    pub fn obj(fs: &Arc<Fs>, node: Arc<Node>) -> VnodeObj {
        vnode_obj(Arc::new(TmpfsVnode {
            fs: fs.clone(),
            node,
        }))
    }

    /// The node behind `obj` if it is a vnode of this same mount; EXDEV
    /// otherwise (another file system, or another tmpfs mount).
    fn same_mount(&self, obj: &VnodeObj) -> KResult<Arc<Node>> {
        downcast_vnode::<TmpfsVnode>(obj)
            .filter(|v| Arc::ptr_eq(&v.fs, &self.fs))
            .map(|v| v.node.clone())
            .ok_or(Errno::EXDEV)
    }

    fn wrap(&self, node: Arc<Node>) -> VnodeObj {
        TmpfsVnode::obj(&self.fs, node)
    }
}

impl Vnode for TmpfsVnode {
    fn vtype(&self) -> VType {
        self.node.vtype
    }

    fn fileid(&self) -> u64 {
        self.node.id
    }

    fn getattr(&self) -> KResult<Stat> {
        self.fs.alive()?;
        Ok(self.node.stat(self.fs.fsid))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.fs.alive()?;
        self.node.setattr(attr)
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        self.fs.alive()?;
        self.fs.lookup(&self.node, name).map(|n| self.wrap(n))
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<VnodeObj> {
        self.fs.alive()?;
        self.fs
            .create(&self.node, name, mode, rdev)
            .map(|n| self.wrap(n))
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.fs.alive()?;
        self.fs.mkdir(&self.node, name, mode).map(|n| self.wrap(n))
    }

    fn symlink(&self, name: &[u8], target: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.fs.alive()?;
        self.fs
            .symlink(&self.node, name, target, mode)
            .map(|n| self.wrap(n))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.fs.alive()?;
        self.node.readlink()
    }

    fn link(&self, name: &[u8], target: &VnodeObj) -> KResult<()> {
        self.fs.alive()?;
        let target = self.same_mount(target)?;
        self.fs.link(&self.node, name, &target)
    }

    fn remove(&self, name: &[u8]) -> KResult<()> {
        self.fs.alive()?;
        self.fs.remove(&self.node, name)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.fs.alive()?;
        self.fs.rmdir(&self.node, name)
    }

    fn rename(&self, from: &[u8], to_dir: &VnodeObj, to: &[u8]) -> KResult<()> {
        self.fs.alive()?;
        let to_dir = self.same_mount(to_dir)?;
        self.fs.rename(&self.node, from, &to_dir, to)
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        self.fs.alive()?;
        self.fs.readdir(&self.node, cookie, max)
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.fs.alive()?;
        self.node.read(offset, len)
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        self.fs.alive()?;
        self.node.write(offset, data, append)
    }

    fn fsync(&self, _data_only: bool) -> KResult<()> {
        self.fs.alive()
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        Ok(match name {
            _PC_LINK_MAX => i64::from(crate::node::LINK_MAX),
            _PC_NAME_MAX => NAME_MAX_FS as i64,
            _PC_PATH_MAX => MAXPATHLEN as i64,
            _PC_PIPE_BUF => PIPE_BUF as i64,
            _PC_CHOWN_RESTRICTED | _PC_NO_TRUNC | _PC_SYNC_IO => 1,
            _PC_FILESIZEBITS => 64,
            _ => return Err(Errno::EINVAL),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::testing::FakeMem;
    use crate::mem::{Accountant, Limits};
    use rump_plugin_api::abi::stat::S_IFREG;
    use rump_plugin_api::abi_stable::std_types::RSlice;

    fn mount() -> Arc<Fs> {
        let acct = Accountant::new(
            FakeMem::new(None),
            Limits {
                size_max: None,
                nodes_max: 1000,
            },
        );
        Fs::new(acct, 7, 0, 0, 0o755).unwrap()
    }

    fn ok<T>(r: rump_plugin_api::abi_stable::std_types::RResult<T, Errno>) -> T {
        match r.into_result() {
            Ok(v) => v,
            Err(e) => panic!("failed: {e:?}"),
        }
    }

    #[test]
    fn vnodes_of_one_mount_work_together_and_others_are_exdev() {
        let fs = mount();
        let other = mount();
        let root = TmpfsVnode::obj(&fs, fs.root().unwrap());
        let oroot = TmpfsVnode::obj(&other, other.root().unwrap());
        let f = ok(root.create(RSlice::from_slice(b"f"), S_IFREG | 0o644, 0));
        let w = ok(f.write(0, RSlice::from_slice(b"hello"), false));
        assert_eq!(w.end, 5);
        let again = ok(root.lookup(RSlice::from_slice(b"f")));
        assert_eq!(again.fileid(), f.fileid());
        assert_eq!(ok(again.getattr()).size, 5);
        assert_eq!(ok(again.getattr()).dev, 7);
        let d = ok(root.mkdir(RSlice::from_slice(b"d"), 0o755));
        ok(d.link(RSlice::from_slice(b"g"), &f));
        ok(root.rename(RSlice::from_slice(b"f"), &d, RSlice::from_slice(b"h")));
        assert_eq!(ok(f.getattr()).nlink, 2);
        assert_eq!(
            oroot.link(RSlice::from_slice(b"x"), &f).into_result().err(),
            Some(Errno::EXDEV)
        );
        assert_eq!(
            d.rename(RSlice::from_slice(b"h"), &oroot, RSlice::from_slice(b"h"))
                .into_result()
                .err(),
            Some(Errno::EXDEV)
        );
        assert_eq!(ok(root.pathconf(_PC_LINK_MAX)), 32767);
        assert_eq!(ok(root.pathconf(_PC_NAME_MAX)), 255);
        assert_eq!(ok(root.pathconf(_PC_PATH_MAX)), 1024);
        assert_eq!(ok(root.pathconf(_PC_PIPE_BUF)), 512);
        assert_eq!(ok(root.pathconf(_PC_FILESIZEBITS)), 64);
        assert_eq!(root.pathconf(99).into_result().err(), Some(Errno::EINVAL));
        ok(f.fsync(true));
        fs.unmount();
        assert_eq!(f.getattr().into_result().err(), Some(Errno::EIO));
    }
}
