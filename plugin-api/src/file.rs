//! Open files: what a descriptor refers to.
//!
//! The kernel core keeps each process's descriptor table; the objects in
//! it come from whoever opened them (the console and pipes from the core,
//! vnodes from the VFS faction). Authors implement [`File`], whose every
//! method defaults to the errno a file of that kind would give, and wrap
//! it with [`file_obj`].

use crate::ffi::{FileOps, FileOps_TO};
use crate::guard;
use crate::{Errno, KResult};
use abi_stable::{
    sabi_trait::TD_CanDowncast,
    std_types::{RArc, ROption, RResult, RSlice, RSliceMut, RVec},
    StableAbi,
};
use netbsd_abi::fcntl::Flock;
use netbsd_abi::stat::Stat;

/// NetBSD's descriptor types (`DTYPE_*`).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Vnode = 1,
    Socket = 2,
    Pipe = 3,
    Kqueue = 4,
    Misc = 5,
}

/// A shared open file (one open file description).
pub type FileObj = FileOps_TO<'static, RArc<()>>;

/// A descriptor's view of an open file: the file and its flags.
#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct OpenFile {
    pub file: FileObj,
    /// Kernel file flags (FREAD, FWRITE, O_APPEND, O_NONBLOCK, ...).
    pub fflags: i32,
}

/// An open file, as its author writes it. Every method has a default
/// that fails the way NetBSD fails for objects that lack the operation.
pub trait File: Send + Sync + 'static {
    /// The kind of object.
    fn kind(&self) -> FileKind;

    /// Up to `len` bytes. The bytes come back in an `RVec` so that a
    /// buffer made in another component crosses without a copy.
    fn read(&self, len: usize, offset: Option<i64>, fflags: i32) -> KResult<RVec<u8>> {
        let _ = (len, offset, fflags);
        Err(Errno::EOPNOTSUPP)
    }

    fn write(&self, data: &[u8], offset: Option<i64>, fflags: i32) -> KResult<u64> {
        let _ = (data, offset, fflags);
        Err(Errno::EOPNOTSUPP)
    }

    fn stat(&self) -> KResult<Stat> {
        Err(Errno::EOPNOTSUPP)
    }

    fn ioctl(&self, cmd: u64, data: &mut [u8], fflags: i32) -> KResult<i64> {
        let _ = (cmd, data, fflags);
        Err(Errno::ENOTTY)
    }

    fn seek(&self, offset: i64, whence: i32) -> KResult<i64> {
        let _ = (offset, whence);
        Err(Errno::ESPIPE)
    }

    /// POSIX record locks (fcntl F_GETLK, F_SETLK, F_SETLKW) for `pid`.
    fn advlock(&self, pid: i32, cmd: i32, lock: Flock) -> KResult<Flock> {
        let _ = (pid, cmd, lock);
        Err(Errno::EINVAL)
    }

    /// flock(2).
    fn flock(&self, how: i32) -> KResult<()> {
        let _ = how;
        Err(Errno::EOPNOTSUPP)
    }

    /// Process `pid` closed a descriptor of this file.
    fn closed(&self, pid: i32) {
        let _ = pid;
    }
}

struct Guarded<T>(std::sync::Arc<T>);

impl<T> Clone for Guarded<T> {
    fn clone(&self) -> Self {
        Guarded(self.0.clone())
    }
}

impl<T: File> FileOps for Guarded<T> {
    fn kind(&self) -> FileKind {
        guard::guard_or("file kind", FileKind::Misc, || self.0.kind())
    }

    fn read(&self, len: usize, offset: ROption<i64>, fflags: i32) -> RResult<RVec<u8>, Errno> {
        guard::guard("file read", || {
            self.0.read(len, offset.into_option(), fflags)
        })
    }

    fn write(
        &self,
        data: RSlice<'_, u8>,
        offset: ROption<i64>,
        fflags: i32,
    ) -> RResult<u64, Errno> {
        guard::guard("file write", || {
            self.0.write(data.as_slice(), offset.into_option(), fflags)
        })
    }

    fn stat(&self) -> RResult<Stat, Errno> {
        guard::guard("file stat", || self.0.stat())
    }

    fn ioctl(&self, cmd: u64, mut data: RSliceMut<'_, u8>, fflags: i32) -> RResult<i64, Errno> {
        guard::guard("file ioctl", || {
            self.0.ioctl(cmd, data.as_mut_slice(), fflags)
        })
    }

    fn seek(&self, offset: i64, whence: i32) -> RResult<i64, Errno> {
        guard::guard("file seek", || self.0.seek(offset, whence))
    }

    fn advlock(&self, pid: i32, cmd: i32, lock: Flock) -> RResult<Flock, Errno> {
        guard::guard("file advlock", || self.0.advlock(pid, cmd, lock))
    }

    fn flock(&self, how: i32) -> RResult<(), Errno> {
        guard::guard("file flock", || self.0.flock(how))
    }

    fn closed(&self, pid: i32) {
        guard::guard_or("file closed", (), || self.0.closed(pid))
    }
}

/// Wraps a [`File`] for a descriptor table.
pub fn file_obj<T: File>(f: T) -> FileObj {
    FileOps_TO::from_ptr(RArc::new(Guarded(std::sync::Arc::new(f))), TD_CanDowncast)
}

/// The `T` inside `obj`, if `obj` was made by [`file_obj`] from a `T` in
/// this same library.
pub fn downcast<T: File>(obj: &FileObj) -> Option<&T> {
    obj.obj.downcast_as::<Guarded<T>>().ok().map(|g| &*g.0)
}
