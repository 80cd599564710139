//! The vnodes the VFS sees: an in-core inode of a mount, with the
//! [`Vnode`] operations delegated to [`Fs`]. Every operation ends by
//! freeing the unlinked inodes whose last reference went away
//! meanwhile (statvfs, sync and unmount do too).

use crate::fs::{Fs, Inode, LINK_MAX};
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

pub struct FfsVnode {
    fs: Arc<Fs>,
    ip: Arc<Inode>,
    vtype: VType,
}

impl FfsVnode {
    pub fn obj(fs: &Arc<Fs>, ip: Arc<Inode>) -> VnodeObj {
        let vtype = ip.vtype();
        vnode_obj(Arc::new(FfsVnode {
            fs: fs.clone(),
            ip,
            vtype,
        }))
    }

    fn same_mount(&self, obj: &VnodeObj) -> KResult<Arc<Inode>> {
        downcast_vnode::<FfsVnode>(obj)
            .filter(|v| Arc::ptr_eq(&v.fs, &self.fs))
            .map(|v| v.ip.clone())
            .ok_or(Errno::EXDEV)
    }

    /// Runs `f` on a live mount, then frees what became unreferenced.
    fn op<T>(&self, f: impl FnOnce(&Fs) -> KResult<T>) -> KResult<T> {
        self.fs.alive()?;
        let r = f(&self.fs);
        self.fs.reap();
        r
    }

    fn wrap(&self, ip: Arc<Inode>) -> VnodeObj {
        FfsVnode::obj(&self.fs, ip)
    }
}

impl Vnode for FfsVnode {
    fn vtype(&self) -> VType {
        self.vtype
    }

    fn fileid(&self) -> u64 {
        u64::from(self.ip.ino)
    }

    fn getattr(&self) -> KResult<Stat> {
        self.fs.alive()?;
        Ok(self.fs.stat(&self.ip))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.op(|fs| fs.setattr(&self.ip, attr))
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        self.op(|fs| fs.lookup(&self.ip, name))
            .map(|ip| self.wrap(ip))
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<VnodeObj> {
        self.op(|fs| fs.create(&self.ip, name, mode, rdev))
            .map(|ip| self.wrap(ip))
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.op(|fs| fs.mkdir(&self.ip, name, mode))
            .map(|ip| self.wrap(ip))
    }

    fn symlink(&self, name: &[u8], target: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.op(|fs| fs.symlink(&self.ip, name, target, mode))
            .map(|ip| self.wrap(ip))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.op(|fs| fs.readlink(&self.ip))
    }

    fn link(&self, name: &[u8], target: &VnodeObj) -> KResult<()> {
        let target = self.same_mount(target)?;
        self.op(|fs| fs.link(&self.ip, name, &target))
    }

    fn remove(&self, name: &[u8]) -> KResult<()> {
        self.op(|fs| fs.remove(&self.ip, name))
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.op(|fs| fs.rmdir(&self.ip, name))
    }

    fn rename(&self, from: &[u8], to_dir: &VnodeObj, to: &[u8]) -> KResult<()> {
        let to_dir = self.same_mount(to_dir)?;
        self.op(|fs| fs.rename(&self.ip, from, &to_dir, to))
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        self.op(|fs| fs.readdir(&self.ip, cookie, max))
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.op(|fs| fs.read(&self.ip, offset, len))
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        self.op(|fs| fs.write(&self.ip, offset, data, append))
            .map(|(count, end)| Written { count, end })
    }

    fn fsync(&self, _data_only: bool) -> KResult<()> {
        self.op(|fs| fs.fsync(&self.ip))
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        Ok(match name {
            _PC_LINK_MAX => i64::from(LINK_MAX),
            _PC_NAME_MAX => NAME_MAX_FS as i64,
            _PC_PATH_MAX => MAXPATHLEN as i64,
            _PC_PIPE_BUF => PIPE_BUF as i64,
            _PC_CHOWN_RESTRICTED | _PC_NO_TRUNC | _PC_SYNC_IO => 1,
            _PC_FILESIZEBITS => 64,
            _ => return Err(Errno::EINVAL),
        })
    }
}
