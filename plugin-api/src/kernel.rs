//! The kernel services a component reaches through its [`Kernel`] handle.

use crate::disk::{disk_scanner_obj, DiskScanner, DiskScannerObj};
use crate::ffi::{
    KernelServices, KernelServices_TO, ProcHooks, ProcHooks_TO, SyscallHandler, SyscallHandler_TO,
    SysctlValue, SysctlValue_TO, VfsHost, VfsHost_TO,
};
use crate::guard;
use crate::lwp::{Lwp, LwpObj};
use crate::syscall::{Args, SysRet};
use crate::sysctl::SysctlData;
use crate::vfs::{fs_type_obj, EtfsType, FsType, FsTypeObj};
use crate::{Errno, KResult};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RArc, RResult, RSlice, RStr, RVec},
    StableAbi,
};
use parking_lot::{Condvar, MutexGuard};
use std::sync::OnceLock;
use std::time::Duration;

/// Severity of a log message.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The trait object behind a [`Kernel`].
pub type KernelObj = KernelServices_TO<'static, RArc<()>>;

/// A component's handle to the kernel.
#[repr(transparent)]
#[derive(Clone)]
pub struct Kernel {
    obj: KernelObj,
}

static KERNEL: OnceLock<Kernel> = OnceLock::new();

/// Remembers the first kernel handle this library was given, so that code
/// without a handle at hand (panic reports, file objects) can log, and
/// routes this library's panic messages into the kernel log.
pub(crate) fn install(k: &Kernel) {
    if KERNEL.set(k.clone()).is_ok() {
        crate::guard::install_hook();
    }
}

/// The kernel handle of this library, once any of its components has
/// been initialised.
pub fn try_kernel() -> Option<&'static Kernel> {
    KERNEL.get()
}

/// Logs `message` in the kernel log, once a component of this library
/// was initialised (before that, as in unit tests, nowhere).
pub fn log(level: LogLevel, message: &str) {
    if let Some(k) = try_kernel() {
        k.log(level, message);
    }
}

/// [`log`] at level warn.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// [`log`] at level info.
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// The kernel handle of this library.
///
/// # Panics
/// If called before any component of the library was initialised.
pub fn kernel() -> &'static Kernel {
    KERNEL
        .get()
        .expect("kernel handle used before component init")
}

impl Kernel {
    /// Wraps a trait object (host side: built from its services type).
    pub fn from_obj(obj: KernelObj) -> Kernel {
        Kernel { obj }
    }

    /// Builds a handle from a services implementation.
    pub fn new<T: KernelServices + 'static>(services: T) -> Kernel {
        Kernel {
            obj: KernelServices_TO::from_ptr(RArc::new(services), TD_Opaque),
        }
    }

    /// The underlying trait object.
    pub fn obj(&self) -> &KernelObj {
        &self.obj
    }

    /// The name of the component this handle belongs to.
    pub fn component(&self) -> String {
        self.obj.component().into()
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        self.obj.log(level, message.into());
    }

    pub fn error(&self, message: &str) {
        self.log(LogLevel::Error, message);
    }

    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message);
    }

    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, message);
    }

    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message);
    }

    /// Serves syscall `num` (named `name` in logs) with `f`.
    pub fn register_syscall<F>(&self, num: i32, name: &'static str, f: F) -> KResult<()>
    where
        F: Fn(&mut Lwp<'_>, &Args) -> KResult<SysRet> + Send + Sync + 'static,
    {
        let handler = SyscallHandler_TO::from_value(GuardedSyscall { name, f }, TD_Opaque);
        self.obj.register_syscall(num, handler).into()
    }

    /// Adds a read-only sysctl leaf whose value never changes.
    pub fn register_sysctl_const(
        &self,
        path: &str,
        description: &str,
        value: SysctlData,
    ) -> KResult<()> {
        self.register_sysctl(path, description, false, ConstValue(value))
    }

    /// Adds a sysctl leaf served by `value`.
    pub fn register_sysctl<V: SysctlValue + 'static>(
        &self,
        path: &str,
        description: &str,
        writable: bool,
        value: V,
    ) -> KResult<()> {
        let obj = SysctlValue_TO::from_value(GuardedValue(value), TD_Opaque);
        self.obj
            .register_sysctl(path.into(), description.into(), writable, obj)
            .into()
    }

    /// Charges kernel memory; see [`KernelServices::mem_reserve`].
    pub fn mem_reserve(&self, bytes: u64) -> KResult<()> {
        self.obj.mem_reserve(bytes).into()
    }

    /// Returns charged kernel memory.
    pub fn mem_release(&self, bytes: u64) {
        self.obj.mem_release(bytes)
    }

    /// The `-r` limit on kernel memory, if there is one.
    pub fn mem_limit(&self) -> Option<u64> {
        Some(self.obj.mem_limit()).filter(|&l| l > 0)
    }

    /// Runs `f`, which may wait, with the kernel told that this thread is
    /// blocked (see [`KernelServices::block_begin`]).
    pub fn blocking<T>(&self, f: impl FnOnce() -> T) -> T {
        struct End<'a>(&'a KernelObj);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                self.0.block_end();
            }
        }
        self.obj.block_begin();
        let _end = End(&self.obj);
        f()
    }

    /// Waits on `cv` (at most `timeout`) as a blocked thread: the virtual
    /// CPU is given up for the wait and taken back with `guard` unlocked,
    /// since a thread that holds a CPU may be waiting for the same lock.
    /// Like any condition wait it may return early; check and loop.
    pub fn wait_for<T>(&self, cv: &Condvar, guard: &mut MutexGuard<'_, T>, timeout: Duration) {
        self.obj.block_begin();
        cv.wait_for(guard, timeout);
        MutexGuard::unlocked(guard, || self.obj.block_end());
    }

    /// Checks a requirement at run time; see [`KernelServices::require`].
    pub fn require(&self, name: &str, version: &str) -> Result<(), String> {
        self.obj
            .require(name.into(), version.into())
            .into_result()
            .map_err(String::from)
    }

    /// Offers a file system type.
    pub fn register_fs_type<T: FsType>(&self, fs: T) -> KResult<()> {
        self.obj.register_fs_type(fs_type_obj(fs)).into()
    }

    /// The file system type `name` (see [`KernelServices::fs_type`]).
    pub fn fs_type(&self, name: &str) -> Result<FsTypeObj, String> {
        self.obj
            .fs_type(name.into())
            .into_result()
            .map_err(String::from)
    }

    /// Counts a mount of file system type `name` in (+1) or out (-1).
    pub fn fs_type_ref(&self, name: &str, delta: i32) {
        self.obj.fs_type_ref(name.into(), delta)
    }

    /// Follows process creation and exit.
    pub fn register_proc_hooks<H: ProcHooks + 'static>(&self, hooks: H) -> KResult<()> {
        self.obj
            .register_proc_hooks(ProcHooks_TO::from_value(GuardedHooks(hooks), TD_Opaque))
            .into()
    }

    /// Installs the VFS faction's host interface.
    pub fn register_vfs<V: VfsHost + 'static>(&self, vfs: V) -> KResult<()> {
        self.obj
            .register_vfs(VfsHost_TO::from_value(GuardedVfsHost(vfs), TD_Opaque))
            .into()
    }

    /// Whether the calling thread's process is going away.
    pub fn interrupted(&self) -> bool {
        self.obj.interrupted()
    }

    /// Offers a partition scanner to the VFS (see [`crate::disk`]).
    pub fn register_disk_scanner<T: DiskScanner>(&self, scanner: T) -> KResult<()> {
        self.obj
            .register_disk_scanner(disk_scanner_obj(scanner))
            .into()
    }

    /// The registered partition scanners, oldest first.
    pub fn disk_scanners(&self) -> Vec<DiskScannerObj> {
        self.obj.disk_scanners().into_vec()
    }
}

struct GuardedHooks<H>(H);

impl<H: ProcHooks> ProcHooks for GuardedHooks<H> {
    fn fork(&self, parent: i32, child: i32) {
        guard::guard_or("fork hook", (), || self.0.fork(parent, child))
    }

    fn exit(&self, pid: i32) {
        guard::guard_or("exit hook", (), || self.0.exit(pid))
    }
}

struct GuardedVfsHost<V>(V);

impl<V: VfsHost> VfsHost for GuardedVfsHost<V> {
    fn etfs_register(
        &self,
        key: RStr<'_>,
        hostpath: RStr<'_>,
        ftype: EtfsType,
        begin: u64,
        size: u64,
    ) -> RResult<(), Errno> {
        guard::guard("etfs_register", || {
            self.0
                .etfs_register(key, hostpath, ftype, begin, size)
                .into_result()
        })
    }

    fn etfs_remove(&self, key: RStr<'_>) -> RResult<(), Errno> {
        guard::guard("etfs_remove", || self.0.etfs_remove(key).into_result())
    }

    fn read_file(&self, path: RSlice<'_, u8>) -> RResult<RVec<u8>, Errno> {
        guard::guard("read_file", || self.0.read_file(path).into_result())
    }

    fn sync_all(&self) {
        guard::guard_or("sync_all", (), || self.0.sync_all())
    }

    fn unmount_all(&self, nosync: bool) {
        guard::guard_or("unmount_all", (), || self.0.unmount_all(nosync))
    }

    fn disk_scanners_changed(&self) {
        guard::guard_or("disk_scanners_changed", (), || {
            self.0.disk_scanners_changed()
        })
    }
}

struct GuardedSyscall<F> {
    name: &'static str,
    f: F,
}

impl<F> SyscallHandler for GuardedSyscall<F>
where
    F: Fn(&mut Lwp<'_>, &Args) -> KResult<SysRet> + Send + Sync + 'static,
{
    fn call(&self, lwp: LwpObj<'_>, args: &Args) -> RResult<SysRet, Errno> {
        let mut lwp = Lwp::from_obj(lwp);
        guard::guard(self.name, || (self.f)(&mut lwp, args))
    }
}

struct GuardedValue<V>(V);

impl<V: SysctlValue> SysctlValue for GuardedValue<V> {
    fn get(&self) -> RResult<SysctlData, Errno> {
        guard::guard("sysctl read", || self.0.get().into_result())
    }

    fn set(&self, value: SysctlData) -> RResult<(), Errno> {
        guard::guard("sysctl write", || self.0.set(value).into_result())
    }
}

struct ConstValue(SysctlData);

impl SysctlValue for ConstValue {
    fn get(&self) -> RResult<SysctlData, Errno> {
        RResult::ROk(self.0.clone())
    }
}
