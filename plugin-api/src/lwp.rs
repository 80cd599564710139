//! The calling thread of a syscall: its process, and the client memory
//! that the syscall's pointer arguments refer to.

use crate::ffi::LwpOps_TO;
use crate::file::{FileObj, OpenFile};
use crate::KResult;
use abi_stable::{sabi_types::RMut, std_types::RVec};
use netbsd_abi::limits::MAXPATHLEN;

/// The trait object behind an [`Lwp`].
pub type LwpObj<'a> = LwpOps_TO<'a, RMut<'a, ()>>;

/// The caller of a syscall, with conveniences over [`LwpOps`].
pub struct Lwp<'a> {
    obj: LwpObj<'a>,
}

impl<'a> Lwp<'a> {
    /// Wraps a trait object.
    pub fn from_obj(obj: LwpObj<'a>) -> Self {
        Lwp { obj }
    }

    pub fn pid(&self) -> i32 {
        self.obj.pid()
    }

    /// The trait object, reborrowed, to hand to another component's entry
    /// (a file system's mount).
    pub fn reborrow(&mut self) -> LwpObj<'_> {
        self.obj.sabi_reborrow_mut()
    }

    pub fn ppid(&self) -> i32 {
        self.obj.ppid()
    }

    /// Fills `buf` from client memory at `addr`.
    pub fn copyin(&mut self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.obj.copyin(addr, buf.into()).into()
    }

    /// Reads `len` bytes of client memory at `addr`.
    pub fn copyin_vec(&mut self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.copyin(addr, &mut v)?;
        Ok(v)
    }

    /// Reads a string of at most `maxlen` bytes, NUL included.
    pub fn copyinstr(&mut self, addr: u64, maxlen: usize) -> KResult<Vec<u8>> {
        self.obj
            .copyinstr(addr, maxlen)
            .into_result()
            .map(RVec::into_vec)
    }

    /// Reads a path argument (at most MAXPATHLEN bytes, NUL included).
    pub fn copyin_path(&mut self, addr: u64) -> KResult<Vec<u8>> {
        self.copyinstr(addr, MAXPATHLEN)
    }

    /// Writes `data` to client memory at `addr`.
    pub fn copyout(&mut self, addr: u64, data: &[u8]) -> KResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.obj.copyout(addr, data.into()).into()
    }

    /// The open file behind `fd`.
    pub fn fd_get(&self, fd: i32) -> KResult<OpenFile> {
        self.obj.fd_get(fd).into()
    }

    /// Installs `file` in a new descriptor.
    pub fn fd_install(&mut self, file: FileObj, fflags: i32, cloexec: bool) -> KResult<i32> {
        self.obj.fd_install(file, fflags, cloexec).into()
    }
}
