//! The trait objects that cross the library boundary.
//!
//! Each trait here is expanded by abi_stable's `#[sabi_trait]` into a
//! stable vtable and a trait-object type (`<Trait>_TO`). That generated
//! code is the only `unsafe` code of this crate, which is why these
//! declarations live together in one module that allows it; the rest of
//! the crate denies unsafe code. Component authors do not implement these
//! traits directly: the safe wrappers in the sibling modules do, and they
//! add the panic guard every entry point needs.
#![allow(unsafe_code)]

use crate::file::{FileKind, FileObj, OpenFile};
use crate::kernel::LogLevel;
use crate::lwp::LwpObj;
use crate::syscall::{Args, SysRet, SyscallObj};
use crate::sysctl::{SysctlData, SysctlObj};
use crate::Errno;
use abi_stable::{
    sabi_trait,
    std_types::{ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec},
};
use netbsd_abi::stat::Stat;

/// The init and fini entries of a component, as the kernel calls them.
#[sabi_trait]
pub trait ComponentEntry: Send + Sync {
    /// Brings the component up; an error is a message for the log.
    fn init(&self, kernel: crate::kernel::KernelObj) -> RResult<(), RString>;

    /// Takes the component down before it is unloaded.
    #[sabi(last_prefix_field)]
    fn fini(&self) -> RResult<(), RString>;
}

/// What the kernel offers a component. Implemented by the host; a
/// component calls it through [`Kernel`].
#[sabi_trait]
pub trait KernelServices: Send + Sync + Clone {
    /// The name of the component this handle was given to.
    fn component(&self) -> RString;

    /// Writes to the server's log, attributed to the component.
    fn log(&self, level: LogLevel, message: RStr<'_>);

    /// Serves syscall `num` with `handler` from now on. EEXIST if another
    /// component already serves it.
    fn register_syscall(&self, num: i32, handler: SyscallObj) -> RResult<(), Errno>;

    /// Adds a sysctl leaf at a dotted path such as `hw.example.greeting`.
    /// Missing intermediate nodes are created with dynamic numbers.
    fn register_sysctl(
        &self,
        path: RStr<'_>,
        description: RStr<'_>,
        writable: bool,
        value: SysctlObj,
    ) -> RResult<(), Errno>;

    /// Charges `bytes` of kernel memory against the `-r` limit; ENOMEM
    /// when the limit would be exceeded.
    fn mem_reserve(&self, bytes: u64) -> RResult<(), Errno>;

    /// Returns memory charged with `mem_reserve`.
    fn mem_release(&self, bytes: u64);

    /// Tells the kernel that the calling thread is about to wait (on a
    /// lock, a condition or I/O), so that it may run other work meanwhile.
    /// Must be paired with `block_end`.
    fn block_begin(&self);

    /// Ends a wait started with `block_begin`.
    fn block_end(&self);

    /// Checks that the component `name` is present at a version matching
    /// `version` and active, activating it if its requirements are now
    /// met. The error says what is missing.
    #[sabi(last_prefix_field)]
    fn require(&self, name: RStr<'_>, version: RStr<'_>) -> RResult<(), RString>;
}

/// What a syscall handler can do with its caller. Implemented by the host.
#[sabi_trait]
pub trait LwpOps {
    /// The calling process's pid.
    fn pid(&self) -> i32;

    /// The calling process's parent pid.
    fn ppid(&self) -> i32;

    /// Reads `buf.len()` bytes of client memory at `addr`. EFAULT if the
    /// client cannot supply them.
    fn copyin(&mut self, addr: u64, buf: RSliceMut<'_, u8>) -> RResult<(), Errno>;

    /// Reads a NUL-terminated string of at most `maxlen` bytes (NUL
    /// included) at `addr`, returned without the NUL. ENAMETOOLONG if no
    /// NUL comes within `maxlen` bytes.
    fn copyinstr(&mut self, addr: u64, maxlen: usize) -> RResult<RVec<u8>, Errno>;

    /// Writes `data` to client memory at `addr`.
    fn copyout(&mut self, addr: u64, data: RSlice<'_, u8>) -> RResult<(), Errno>;

    /// The open file behind descriptor `fd`; EBADF if none.
    fn fd_get(&self, fd: i32) -> RResult<OpenFile, Errno>;

    /// Installs `file` in the lowest free descriptor slot with the
    /// kernel file flags `fflags` (FREAD, FWRITE and status flags).
    #[sabi(last_prefix_field)]
    fn fd_install(&mut self, file: FileObj, fflags: i32, cloexec: bool) -> RResult<i32, Errno>;
}

/// A syscall implementation as it crosses the library boundary.
#[sabi_trait]
pub trait SyscallHandler: Send + Sync {
    #[sabi(last_prefix_field)]
    fn call(&self, lwp: LwpObj<'_>, args: &Args) -> RResult<SysRet, Errno>;
}

/// Serves reads and writes of one sysctl leaf.
#[sabi_trait]
pub trait SysctlValue: Send + Sync {
    /// The current value.
    fn get(&self) -> RResult<SysctlData, Errno>;

    /// Stores a new value of the same type. The default refuses (EPERM).
    #[sabi(last_prefix_field)]
    fn set(&self, value: SysctlData) -> RResult<(), Errno> {
        let _ = value;
        RResult::RErr(Errno::EPERM)
    }
}

/// File operations as they cross the library boundary.
#[sabi_trait]
pub trait FileOps: Send + Sync + Clone {
    /// The kind of object.
    fn kind(&self) -> FileKind;

    /// Reads up to `len` bytes at `offset` (or at the file's own offset
    /// when `None`). `fflags` are the descriptor's current file flags.
    fn read(&self, len: usize, offset: ROption<i64>, fflags: i32) -> RResult<RVec<u8>, Errno>;

    /// Writes `data` at `offset` (or the file's own offset); returns the
    /// number of bytes written.
    fn write(&self, data: RSlice<'_, u8>, offset: ROption<i64>, fflags: i32)
        -> RResult<u64, Errno>;

    /// Attributes for fstat.
    fn stat(&self) -> RResult<Stat, Errno>;

    /// A device- or type-specific request. `data` holds the parameter
    /// (copied in before, copied out after, as the command encodes).
    fn ioctl(&self, cmd: u64, data: RSliceMut<'_, u8>, fflags: i32) -> RResult<i64, Errno>;

    /// Moves the file's own offset; returns the new offset.
    #[sabi(last_prefix_field)]
    fn seek(&self, offset: i64, whence: i32) -> RResult<i64, Errno>;
}
