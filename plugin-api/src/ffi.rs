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

use crate::disk::{DiskScannerObj, Partition};
use crate::file::{FileKind, FileObj, OpenFile};
use crate::kernel::LogLevel;
use crate::lwp::LwpObj;
use crate::syscall::{Args, SysRet, SyscallObj};
use crate::sysctl::{SysctlData, SysctlObj};
use crate::vfs::{
    DeviceObj, DirEntry, EtfsType, FsStats, FsTypeObj, MountEnvObj, MountObj, SetAttr, VType,
    VnodeObj, Written,
};
use crate::Errno;
use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec},
};
use netbsd_abi::fcntl::Flock;
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
    fn require(&self, name: RStr<'_>, version: RStr<'_>) -> RResult<(), RString>;

    /// Offers a file system type; EEXIST if one of that name exists.
    fn register_fs_type(&self, fs: FsTypeObj) -> RResult<(), Errno>;

    /// The file system type `name`. A component of that name that is
    /// inactive is activated first; the error says why there is none.
    fn fs_type(&self, name: RStr<'_>) -> RResult<FsTypeObj, RString>;

    /// Counts a use (+1) or the end of one (-1) of the component that
    /// provides file system type `name` (a mount): modstat shows it, and
    /// the component cannot be unloaded while used.
    fn fs_type_ref(&self, name: RStr<'_>, delta: i32);

    /// Follows process creation and exit.
    fn register_proc_hooks(&self, hooks: ProcHooks_TO<'static, RBox<()>>) -> RResult<(), Errno>;

    /// Installs the VFS faction's host interface (`-d`, `-m`, halting).
    fn register_vfs(&self, vfs: VfsHost_TO<'static, RBox<()>>) -> RResult<(), Errno>;

    /// Whether the calling thread's process is going away: long waits
    /// should end with EINTR.
    #[sabi(last_prefix_field)]
    fn interrupted(&self) -> bool;

    /// The `-r` limit on kernel memory in bytes; 0 when there is none.
    fn mem_limit(&self) -> u64;

    /// Offers a partition scanner (see [`crate::disk`]); the VFS is told
    /// so that disks attached before it get scanned too.
    fn register_disk_scanner(&self, scanner: DiskScannerObj) -> RResult<(), Errno> {
        let _ = scanner;
        RResult::RErr(Errno::ENOSYS)
    }

    /// The partition scanners, in the order they were registered.
    fn disk_scanners(&self) -> RVec<DiskScannerObj> {
        RVec::new()
    }
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
    fn seek(&self, offset: i64, whence: i32) -> RResult<i64, Errno>;

    /// POSIX record locks for process `pid`: F_GETLK (the conflicting
    /// lock, or one of type F_UNLCK), F_SETLK, F_SETLKW.
    fn advlock(&self, pid: i32, cmd: i32, lock: Flock) -> RResult<Flock, Errno>;

    /// flock(2) on this open file.
    fn flock(&self, how: i32) -> RResult<(), Errno>;

    /// Process `pid` closed a descriptor of this file (its POSIX locks on
    /// the file go).
    #[sabi(last_prefix_field)]
    fn closed(&self, pid: i32);
}

/// A vnode, as the VFS calls it. See [`crate::vfs::Vnode`].
#[sabi_trait]
pub trait VnodeOps: Send + Sync + Clone {
    fn vtype(&self) -> VType;
    fn fileid(&self) -> u64;
    fn getattr(&self) -> RResult<Stat, Errno>;
    fn setattr(&self, attr: &SetAttr) -> RResult<(), Errno>;
    fn lookup(&self, name: RSlice<'_, u8>) -> RResult<VnodeObj, Errno>;
    fn create(&self, name: RSlice<'_, u8>, mode: u32, rdev: u64) -> RResult<VnodeObj, Errno>;
    fn mkdir(&self, name: RSlice<'_, u8>, mode: u32) -> RResult<VnodeObj, Errno>;
    fn symlink(
        &self,
        name: RSlice<'_, u8>,
        target: RSlice<'_, u8>,
        mode: u32,
    ) -> RResult<VnodeObj, Errno>;
    fn readlink(&self) -> RResult<RVec<u8>, Errno>;
    fn link(&self, name: RSlice<'_, u8>, target: &VnodeObj) -> RResult<(), Errno>;
    fn remove(&self, name: RSlice<'_, u8>) -> RResult<(), Errno>;
    fn rmdir(&self, name: RSlice<'_, u8>) -> RResult<(), Errno>;
    fn rename(
        &self,
        from: RSlice<'_, u8>,
        to_dir: &VnodeObj,
        to: RSlice<'_, u8>,
    ) -> RResult<(), Errno>;
    fn readdir(&self, cookie: i64, max: usize) -> RResult<RVec<DirEntry>, Errno>;
    fn read(&self, offset: u64, len: usize) -> RResult<RVec<u8>, Errno>;
    fn write(&self, offset: u64, data: RSlice<'_, u8>, append: bool) -> RResult<Written, Errno>;
    fn fsync(&self, data_only: bool) -> RResult<(), Errno>;
    #[sabi(last_prefix_field)]
    fn pathconf(&self, name: i32) -> RResult<i64, Errno>;
}

/// A mounted file system, as the VFS calls it. See [`crate::vfs::Mount`].
#[sabi_trait]
pub trait MountOps: Send + Sync {
    fn root(&self) -> RResult<VnodeObj, Errno>;
    fn statvfs(&self) -> RResult<FsStats, Errno>;
    fn sync(&self, wait: bool) -> RResult<(), Errno>;
    fn unmount(&self, force: bool) -> RResult<(), Errno>;
    fn update(&self, flags: i32, data: RSlice<'_, u8>) -> RResult<(), Errno>;
    fn getargs(&self) -> RResult<RVec<u8>, Errno>;
    #[sabi(last_prefix_field)]
    fn source(&self) -> RString;
    /// Whether the file system keeps itself read-only though the mount
    /// did not ask it to (a mount made by an older library: no).
    fn readonly(&self) -> bool {
        false
    }
}

/// What the VFS offers a file system while it mounts.
#[sabi_trait]
pub trait MountEnv {
    fn fsid(&self) -> u64;
    #[sabi(last_prefix_field)]
    fn open_device(&mut self, path: RSlice<'_, u8>, readonly: bool) -> RResult<DeviceObj, Errno>;
}

/// A file system type, as the VFS calls it. See [`crate::vfs::FsType`].
#[sabi_trait]
pub trait FsTypeOps: Send + Sync + Clone {
    fn name(&self) -> RString;
    fn args_len(&self) -> usize;
    #[sabi(last_prefix_field)]
    fn mount(
        &self,
        lwp: LwpObj<'_>,
        env: MountEnvObj<'_>,
        flags: i32,
        data: RSlice<'_, u8>,
        on: RSlice<'_, u8>,
    ) -> RResult<MountObj, Errno>;
}

/// A device, as file systems and the VFS call it. See [`crate::vfs::Device`].
#[sabi_trait]
pub trait DeviceOps: Send + Sync + Clone {
    fn size(&self) -> u64;
    fn sector_size(&self) -> u32;
    fn readonly(&self) -> bool;
    fn read_at(&self, offset: u64, len: usize) -> RResult<RVec<u8>, Errno>;
    fn write_at(&self, offset: u64, data: RSlice<'_, u8>) -> RResult<(), Errno>;
    #[sabi(last_prefix_field)]
    fn flush(&self) -> RResult<(), Errno>;

    /// Its user is done with it (a file system was unmounted): write back
    /// what is cached and forget it, so that the next reads come from the
    /// medium, which may have changed meanwhile.
    fn invalidate(&self) -> RResult<(), Errno> {
        RResult::ROk(())
    }
}

/// Process events a faction follows (the VFS keeps each process's
/// working directory and file creation mask).
#[sabi_trait]
pub trait ProcHooks: Send + Sync {
    /// `child` was forked from `parent`.
    fn fork(&self, parent: i32, child: i32);
    /// `pid` is gone.
    #[sabi(last_prefix_field)]
    fn exit(&self, pid: i32);
}

/// What the kernel asks of the VFS faction on behalf of the host side of
/// the server (`-d`, `-m`, halting).
#[sabi_trait]
pub trait VfsHost: Send + Sync {
    /// Maps a host file into the kernel's namespace under `key`
    /// (rump_etfs_register_withsize).
    fn etfs_register(
        &self,
        key: RStr<'_>,
        hostpath: RStr<'_>,
        ftype: EtfsType,
        begin: u64,
        size: u64,
    ) -> RResult<(), Errno>;
    /// Removes a mapping.
    fn etfs_remove(&self, key: RStr<'_>) -> RResult<(), Errno>;
    /// Reads a whole file through the kernel's VFS (module loading).
    fn read_file(&self, path: RSlice<'_, u8>) -> RResult<RVec<u8>, Errno>;
    /// Writes every file system out.
    fn sync_all(&self);
    /// Unmounts every file system (at halt), syncing them unless `nosync`.
    #[sabi(last_prefix_field)]
    fn unmount_all(&self, nosync: bool);

    /// A partition scanner was registered: disks attached without
    /// partitions are scanned again.
    fn disk_scanners_changed(&self) {}
}

/// A partition scanner, as the VFS calls it. See [`crate::disk::DiskScanner`].
#[sabi_trait]
pub trait DiskScannerOps: Send + Sync + Clone {
    fn name(&self) -> RString;
    #[sabi(last_prefix_field)]
    fn scan(&self, name: RStr<'_>, disk: DeviceObj) -> RResult<RVec<Partition>, Errno>;
}
