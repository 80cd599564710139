//! Open files of the VFS: vnodes and device nodes, as the descriptors of
//! the kernel core refer to them.

use crate::dev::DevKind;
use crate::locks::{self, Owner};
use crate::state::vfs;
use crate::vn::{Vn, VnRef};
use parking_lot::Mutex;
use rump_plugin_api::abi::fcntl::*;
use rump_plugin_api::abi::ioctl::{DIOCCACHESYNC, DIOCGMEDIASIZE, FIONREAD};
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::file::{File, FileKind};
use rump_plugin_api::vfs::VType;
use rump_plugin_api::{Errno, KResult};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Computes a new offset for lseek(2).
fn seek_to(cur: i64, size: i64, offset: i64, whence: i32) -> KResult<i64> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => cur,
        SEEK_END => size,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(new)
}

/// An open vnode (regular file, directory, symlink opened with
/// O_NOFOLLOW rules aside).
pub struct VnodeFile {
    vn: VnRef,
    id: u64,
    /// The file offset; for directories, the readdir cookie.
    offset: Mutex<i64>,
}

impl VnodeFile {
    pub fn new(vn: Vn) -> VnodeFile {
        VnodeFile {
            vn: VnRef::new(vn),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            offset: Mutex::new(0),
        }
    }

    pub fn vn(&self) -> &Vn {
        self.vn.vn()
    }

    /// The offset, locked (getdents reads and moves it).
    pub fn offset(&self) -> parking_lot::MutexGuard<'_, i64> {
        self.offset.lock()
    }

    fn size(&self) -> KResult<i64> {
        Ok(self.vn().getattr()?.size)
    }
}

impl Drop for VnodeFile {
    fn drop(&mut self) {
        vfs().locks.release(self.vn().key(), Owner::File(self.id));
    }
}

impl File for VnodeFile {
    fn kind(&self) -> FileKind {
        FileKind::Vnode
    }

    fn read(&self, len: usize, offset: Option<i64>, _fflags: i32) -> KResult<RVec<u8>> {
        if self.vn().is_dir() {
            return Err(Errno::EISDIR);
        }
        match offset {
            Some(off) => {
                let off = u64::try_from(off).map_err(|_| Errno::EINVAL)?;
                self.vn().obj.read(off, len).into_result()
            }
            None => {
                let mut pos = self.offset.lock();
                let data = self.vn().obj.read(*pos as u64, len).into_result()?;
                *pos += data.len() as i64;
                Ok(data)
            }
        }
    }

    fn write(&self, data: &[u8], offset: Option<i64>, fflags: i32) -> KResult<u64> {
        if self.vn().is_dir() {
            return Err(Errno::EISDIR);
        }
        self.vn().mnt.check_writable()?;
        let append = fflags & O_APPEND != 0;
        let w = match offset {
            Some(off) => {
                let off = u64::try_from(off).map_err(|_| Errno::EINVAL)?;
                self.vn()
                    .obj
                    .write(off, data.into(), append)
                    .into_result()?
            }
            None => {
                let mut pos = self.offset.lock();
                let w = self
                    .vn()
                    .obj
                    .write(*pos as u64, data.into(), append)
                    .into_result()?;
                *pos = w.end as i64;
                w
            }
        };
        if fflags & (O_SYNC | O_DSYNC) != 0 {
            self.vn().obj.fsync(fflags & O_SYNC == 0).into_result()?;
        }
        Ok(w.count)
    }

    fn stat(&self) -> KResult<Stat> {
        self.vn().getattr()
    }

    fn ioctl(&self, cmd: u64, data: &mut [u8], _fflags: i32) -> KResult<i64> {
        if cmd == FIONREAD && self.vn().vtype() == VType::Reg {
            let left = (self.size()? - *self.offset.lock()).clamp(0, i32::MAX as i64) as i32;
            data[..4].copy_from_slice(&left.to_le_bytes());
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn seek(&self, offset: i64, whence: i32) -> KResult<i64> {
        let size = if whence == SEEK_END { self.size()? } else { 0 };
        let mut pos = self.offset.lock();
        *pos = seek_to(*pos, size, offset, whence)?;
        Ok(*pos)
    }

    fn advlock(&self, pid: i32, cmd: i32, lock: Flock) -> KResult<Flock> {
        let cur = *self.offset.lock();
        let r = locks::range(&lock, cur, self.size()?)?;
        let key = self.vn().key();
        match cmd {
            F_GETLK => Ok(vfs().locks.test(key, Owner::Proc(pid), r)),
            F_SETLK | F_SETLKW => {
                if !matches!(r.ty, F_RDLCK | F_WRLCK | F_UNLCK) {
                    return Err(Errno::EINVAL);
                }
                vfs()
                    .locks
                    .set(key, Owner::Proc(pid), r, cmd == F_SETLKW)
                    .map(|()| lock)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn flock(&self, how: i32) -> KResult<()> {
        let ty = match how & !LOCK_NB {
            LOCK_SH => F_RDLCK,
            LOCK_EX => F_WRLCK,
            LOCK_UN => F_UNLCK,
            _ => return Err(Errno::EINVAL),
        };
        let r = locks::Request {
            start: 0,
            end: None,
            ty,
        };
        let wait = how & LOCK_NB == 0;
        vfs()
            .locks
            .set(self.vn().key(), Owner::File(self.id), r, wait)
            .map_err(|e| {
                if e == Errno::EAGAIN {
                    Errno::EWOULDBLOCK
                } else {
                    e
                }
            })
    }

    fn closed(&self, pid: i32) {
        vfs().locks.release(self.vn().key(), Owner::Proc(pid));
    }
}

/// An open device node.
pub struct DeviceFile {
    vn: VnRef,
    dev: DevKind,
    raw: bool,
    offset: Mutex<i64>,
}

impl DeviceFile {
    pub fn new(vn: Vn, dev: DevKind) -> DeviceFile {
        let raw = vn.vtype() == VType::Chr;
        DeviceFile {
            vn: VnRef::new(vn),
            dev,
            raw,
            offset: Mutex::new(0),
        }
    }

    pub fn vn(&self) -> &Vn {
        self.vn.vn()
    }

    fn check_raw(&self, offset: u64, len: usize) -> KResult<()> {
        if let DevKind::Disk(d) = &self.dev {
            let sector = u64::from(d.sector_size().max(1));
            if self.raw && (offset % sector != 0 || len as u64 % sector != 0) {
                return Err(Errno::EINVAL);
            }
        }
        Ok(())
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.check_raw(offset, len)?;
        match &self.dev {
            DevKind::Null => Ok(Vec::new()),
            DevKind::Zero => Ok(vec![0; len]),
            DevKind::Disk(d) => d.read_at(offset, len).into_result().map(Into::into),
        }
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<u64> {
        self.check_raw(offset, data.len())?;
        match &self.dev {
            DevKind::Null | DevKind::Zero => Ok(data.len() as u64),
            DevKind::Disk(d) => {
                let room = d.size().saturating_sub(offset);
                let n = (data.len() as u64).min(room) as usize;
                if n == 0 && !data.is_empty() {
                    return Err(Errno::ENOSPC);
                }
                d.write_at(offset, data[..n].into()).into_result()?;
                Ok(n as u64)
            }
        }
    }
}

impl File for DeviceFile {
    fn kind(&self) -> FileKind {
        FileKind::Vnode
    }

    fn read(&self, len: usize, offset: Option<i64>, _fflags: i32) -> KResult<RVec<u8>> {
        match offset {
            Some(off) => self
                .read_at(u64::try_from(off).map_err(|_| Errno::EINVAL)?, len)
                .map(RVec::from),
            None => {
                let mut pos = self.offset.lock();
                let data = self.read_at(*pos as u64, len)?;
                *pos += data.len() as i64;
                Ok(data.into())
            }
        }
    }

    fn write(&self, data: &[u8], offset: Option<i64>, _fflags: i32) -> KResult<u64> {
        match offset {
            Some(off) => self.write_at(u64::try_from(off).map_err(|_| Errno::EINVAL)?, data),
            None => {
                let mut pos = self.offset.lock();
                let n = self.write_at(*pos as u64, data)?;
                *pos += n as i64;
                Ok(n)
            }
        }
    }

    fn stat(&self) -> KResult<Stat> {
        self.vn.vn().getattr()
    }

    fn ioctl(&self, cmd: u64, data: &mut [u8], _fflags: i32) -> KResult<i64> {
        let DevKind::Disk(d) = &self.dev else {
            return Err(Errno::ENOTTY);
        };
        match cmd {
            DIOCGMEDIASIZE => {
                data[..8].copy_from_slice(&d.size().to_le_bytes());
                Ok(0)
            }
            DIOCCACHESYNC => d.flush().into_result().map(|()| 0),
            _ => Err(Errno::ENOTTY),
        }
    }

    fn seek(&self, offset: i64, whence: i32) -> KResult<i64> {
        let size = match &self.dev {
            DevKind::Disk(d) => d.size() as i64,
            _ => 0,
        };
        let mut pos = self.offset.lock();
        *pos = seek_to(*pos, size, offset, whence)?;
        Ok(*pos)
    }
}
