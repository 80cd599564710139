//! The vnodes the VFS sees: an in-core inode of a mount, with each
//! operation taking the name-space lock the way [`crate::fs`] says and
//! delegating to the modules that know the format.

use crate::attr;
use crate::bmap;
use crate::dinode::{Stamp, FL_APPEND, FL_IMMUTABLE};
use crate::dir;
use crate::file;
use crate::fs::{Fs, LINK_MAX, NAME_MAX};
use crate::inode::Inode;
use crate::namespace;
use crate::rename;
use rump_plugin_api::abi::fcntl::{
    _PC_CHOWN_RESTRICTED, _PC_FILESIZEBITS, _PC_LINK_MAX, _PC_NAME_MAX, _PC_NO_TRUNC, _PC_PATH_MAX,
    _PC_PIPE_BUF, _PC_SYNC_IO,
};
use rump_plugin_api::abi::limits::{MAXPATHLEN, PIPE_BUF};
use rump_plugin_api::abi::stat::{Stat, Timespec};
use rump_plugin_api::vfs::{
    downcast_vnode, vnode_obj, DirEntry, SetAttr, VType, Vnode, VnodeObj, Written,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// An ext2fs vnode.
pub struct Ext2Vnode {
    fs: Arc<Fs>,
    inode: Arc<Inode>,
}

impl Ext2Vnode {
    /// The VFS's handle on `inode`.
    pub fn obj(fs: &Arc<Fs>, inode: Arc<Inode>) -> VnodeObj {
        vnode_obj(Arc::new(Ext2Vnode {
            fs: fs.clone(),
            inode,
        }))
    }

    fn wrap(&self, inode: Arc<Inode>) -> VnodeObj {
        Ext2Vnode::obj(&self.fs, inode)
    }

    /// The inode behind `obj` if it is a vnode of this same mount;
    /// EXDEV otherwise.
    fn same_mount(&self, obj: &VnodeObj) -> KResult<Arc<Inode>> {
        downcast_vnode::<Ext2Vnode>(obj)
            .filter(|v| Arc::ptr_eq(&v.fs, &self.fs))
            .map(|v| v.inode.clone())
            .ok_or(Errno::EXDEV)
    }
}

impl Vnode for Ext2Vnode {
    fn vtype(&self) -> VType {
        self.inode.vtype
    }

    fn fileid(&self) -> u64 {
        u64::from(self.inode.ino)
    }

    fn getattr(&self) -> KResult<Stat> {
        self.fs.alive()?;
        let st = self.inode.st.read();
        Ok(attr::stat(&self.fs, self.inode.ino, &st.d))
    }

    fn setattr(&self, sa: &SetAttr) -> KResult<()> {
        self.fs.shared_write(|| {
            let mut st = self.inode.st.write();
            let r = attr::setattr(&self.fs, &mut st, sa);
            self.fs.write_dinode(self.inode.ino, &st.d)?;
            r
        })
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        self.fs.shared(|| {
            let st = self.inode.st.read();
            if !st.d.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if st.d.links() == 0 {
                return Err(Errno::ENOENT);
            }
            let f = dir::find(&self.fs, &st.d, name)?.ok_or(Errno::ENOENT)?;
            drop(st);
            let child = self.fs.get(f.ino)?;
            {
                let cs = child.st.read();
                if cs.d.mode() == 0 || (cs.d.links() == 0 && !Arc::ptr_eq(&child, &self.inode)) {
                    return Err(Errno::EIO);
                }
            }
            Ok(self.wrap(child))
        })
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<VnodeObj> {
        self.fs
            .exclusive(|| namespace::create(&self.fs, &self.inode, name, mode, rdev))
            .map(|i| self.wrap(i))
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.fs
            .exclusive(|| namespace::mkdir(&self.fs, &self.inode, name, mode))
            .map(|i| self.wrap(i))
    }

    fn symlink(&self, name: &[u8], target: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.fs
            .exclusive(|| namespace::symlink(&self.fs, &self.inode, name, target, mode))
            .map(|i| self.wrap(i))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        self.fs.shared(|| {
            let st = self.inode.st.read();
            let d = &st.d;
            if !d.is_lnk() {
                return Err(Errno::EINVAL);
            }
            let len = d.size();
            if bmap::is_fast_symlink(&self.fs.geo, d) {
                if len >= crate::dinode::INLINE_BYTES as u64 {
                    return Err(Errno::EIO);
                }
                return Ok(d.inline()[..len as usize].to_vec());
            }
            bmap::check_mappable(d)?;
            if len >= u64::from(self.fs.geo.bsize) {
                return Err(Errno::EIO);
            }
            let b = bmap::lookup(&self.fs, d, 0)?.ok_or(Errno::EIO)?;
            self.fs.cache.read(b, |blk| blk[..len as usize].to_vec())
        })
    }

    fn link(&self, name: &[u8], target: &VnodeObj) -> KResult<()> {
        let target = self.same_mount(target)?;
        self.fs
            .exclusive(|| namespace::link(&self.fs, &self.inode, name, &target))
    }

    fn remove(&self, name: &[u8]) -> KResult<()> {
        self.fs
            .exclusive(|| namespace::remove(&self.fs, &self.inode, name))
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.fs
            .exclusive(|| namespace::rmdir(&self.fs, &self.inode, name))
    }

    fn rename(&self, from: &[u8], to_dir: &VnodeObj, to: &[u8]) -> KResult<()> {
        let to_dir = self.same_mount(to_dir)?;
        self.fs
            .exclusive(|| rename::rename(&self.fs, &self.inode, from, &to_dir, to))
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        self.fs.shared(|| {
            let st = self.inode.st.read();
            if !st.d.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            dir::list(&self.fs, &st.d, cookie, max)
        })
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.fs.shared(|| {
            let data = {
                let st = self.inode.st.read();
                match self.inode.vtype {
                    VType::Reg => {}
                    VType::Dir => return Err(Errno::EISDIR),
                    _ => return Err(Errno::EINVAL),
                }
                file::read(&self.fs, &st.d, offset, len)?
            };
            if !self.fs.is_readonly() && len > 0 {
                let mut st = self.inode.st.write();
                st.d.set_time(Stamp::Access, Timespec::now());
                self.fs.write_dinode(self.inode.ino, &st.d)?;
            }
            Ok(data)
        })
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        self.fs.shared_write(|| {
            let mut st = self.inode.st.write();
            match self.inode.vtype {
                VType::Reg => {}
                VType::Dir => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
            let flags = st.d.flags();
            if flags & FL_IMMUTABLE != 0 || (flags & FL_APPEND != 0 && !append) {
                return Err(Errno::EPERM);
            }
            let at = if append { st.d.size() } else { offset };
            let r = file::write(&self.fs, &mut st, self.inode.ino, at, data);
            if let Ok(n) = r {
                if n > 0 {
                    let now = Timespec::now();
                    st.d.set_time(Stamp::Modify, now);
                    st.d.set_time(Stamp::Change, now);
                }
            }
            self.fs.write_dinode(self.inode.ino, &st.d)?;
            let n = r?;
            Ok(Written {
                count: n as u64,
                end: at + n as u64,
            })
        })
    }

    fn fsync(&self, _data_only: bool) -> KResult<()> {
        self.fs.alive()?;
        self.fs.sync(true)
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        Ok(match name {
            _PC_LINK_MAX => i64::from(LINK_MAX),
            _PC_NAME_MAX => NAME_MAX as i64,
            _PC_PATH_MAX => MAXPATHLEN as i64,
            _PC_PIPE_BUF => PIPE_BUF as i64,
            _PC_CHOWN_RESTRICTED | _PC_NO_TRUNC => 1,
            _PC_SYNC_IO => 0,
            _PC_FILESIZEBITS => 42,
            _ => return Err(Errno::EINVAL),
        })
    }
}
