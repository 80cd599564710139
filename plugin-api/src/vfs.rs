//! The interface between the VFS faction and file systems: file system
//! types, mounts, vnodes and the devices file systems live on.
//!
//! A file system is a component that registers a [`FsType`] with the
//! kernel. The VFS faction mounts it, walks paths through its [`Vnode`]s
//! and turns its vnodes into open files. Authors implement the Rust
//! traits here; every method of [`Vnode`] has a default that fails the way
//! NetBSD fails when a file system lacks the operation, so a small file
//! system stays small. The trait objects that cross the library boundary
//! are in [`crate::ffi`]; the wrappers here add the panic guard.

use crate::ffi::{
    DeviceOps, DeviceOps_TO, FsTypeOps, FsTypeOps_TO, MountEnv_TO, MountOps, MountOps_TO, VnodeOps,
    VnodeOps_TO,
};
use crate::guard::{guard, guard_or};
use crate::lwp::{Lwp, LwpObj};
use crate::{Errno, KResult};
use abi_stable::sabi_types::RMut;
use abi_stable::std_types::{RArc, ROption, RResult, RSlice, RString, RVec};
use abi_stable::{sabi_trait::TD_CanDowncast, StableAbi};
use netbsd_abi::stat::{
    Stat, Timespec, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use std::sync::Arc;

/// Vnode types (NetBSD's `enum vtype`).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VType {
    Non = 0,
    Reg = 1,
    Dir = 2,
    Blk = 3,
    Chr = 4,
    Lnk = 5,
    Sock = 6,
    Fifo = 7,
    Bad = 8,
}

impl VType {
    /// The type of a file mode's `S_IFMT` bits.
    pub fn from_mode(mode: u32) -> VType {
        match mode & S_IFMT {
            S_IFREG => VType::Reg,
            S_IFDIR => VType::Dir,
            S_IFBLK => VType::Blk,
            S_IFCHR => VType::Chr,
            S_IFLNK => VType::Lnk,
            S_IFSOCK => VType::Sock,
            S_IFIFO => VType::Fifo,
            _ => VType::Non,
        }
    }

    /// The `S_IFMT` bits of this type.
    pub fn mode_bits(self) -> u32 {
        match self {
            VType::Reg => S_IFREG,
            VType::Dir => S_IFDIR,
            VType::Blk => S_IFBLK,
            VType::Chr => S_IFCHR,
            VType::Lnk => S_IFLNK,
            VType::Sock => S_IFSOCK,
            VType::Fifo => S_IFIFO,
            VType::Non | VType::Bad => 0,
        }
    }

    /// The `d_type` of a directory entry of this type.
    pub fn dtype(self) -> u8 {
        (self.mode_bits() >> 12) as u8
    }
}

/// How a host file appears in the kernel (`enum rump_etfs_type`).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtfsType {
    Reg = 0,
    Blk = 1,
    Chr = 2,
    Dir = 3,
    DirSubdirs = 4,
}

/// Attribute changes: `None` leaves a field alone.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// Permission bits (07777).
    pub mode: ROption<u32>,
    pub uid: ROption<u32>,
    pub gid: ROption<u32>,
    pub size: ROption<u64>,
    pub atime: ROption<Timespec>,
    pub mtime: ROption<Timespec>,
    pub birthtime: ROption<Timespec>,
    /// `st_flags` (chflags).
    pub flags: ROption<u32>,
}

/// One directory entry from [`Vnode::readdir`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub fileno: u64,
    pub dtype: u8,
    pub name: RVec<u8>,
    /// The cookie at which reading continues after this entry.
    pub next: i64,
}

/// The counts and sizes a file system reports for statvfs; the VFS adds
/// the flags, identity and names.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct FsStats {
    pub bsize: u64,
    pub frsize: u64,
    pub iosize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub bresvd: u64,
    pub files: u64,
    pub ffree: u64,
    pub favail: u64,
    pub fresvd: u64,
    pub namemax: u64,
}

/// What the result of a write says.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub count: u64,
    /// The offset just past them (where an append really landed).
    pub end: u64,
}

/// The trait object of a vnode.
pub type VnodeObj = VnodeOps_TO<'static, RArc<()>>;
/// The trait object of a mounted file system.
pub type MountObj = MountOps_TO<'static, RArc<()>>;
/// The trait object of a file system type.
pub type FsTypeObj = FsTypeOps_TO<'static, RArc<()>>;
/// The trait object of a device.
pub type DeviceObj = DeviceOps_TO<'static, RArc<()>>;
/// The trait object of the VFS's help for a mount in progress.
pub type MountEnvObj<'a> = MountEnv_TO<'a, RMut<'a, ()>>;

/// A file or directory of a file system. Every method defaults to the
/// errno NetBSD gives for a missing operation.
pub trait Vnode: Send + Sync + 'static {
    /// The vnode's type; it never changes.
    fn vtype(&self) -> VType;

    /// The file's number within its file system (`st_ino`); cheap, and the
    /// same for every vnode of the same file.
    fn fileid(&self) -> u64;

    /// Attributes. `st_dev` should be the mount's fsid.
    fn getattr(&self) -> KResult<Stat>;

    /// Changes attributes (chmod, chown, utimes, truncate, chflags).
    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        let _ = attr;
        Err(Errno::EOPNOTSUPP)
    }

    /// Finds `name` in this directory (never `.`; `..` only below the
    /// mount's root).
    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Creates a non-directory `name` with `mode` (type and permission
    /// bits) and, for devices, `rdev`. EEXIST if the name exists.
    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<VnodeObj> {
        let _ = (name, mode, rdev);
        Err(Errno::ENOTDIR)
    }

    /// Creates the directory `name` with permission bits `mode`.
    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<VnodeObj> {
        let _ = (name, mode);
        Err(Errno::ENOTDIR)
    }

    /// Creates the symbolic link `name` holding `target`.
    fn symlink(&self, name: &[u8], target: &[u8], mode: u32) -> KResult<VnodeObj> {
        let _ = (name, target, mode);
        Err(Errno::ENOTDIR)
    }

    /// The target of a symbolic link.
    fn readlink(&self) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    /// Makes `name` in this directory another link to `target`, a vnode of
    /// this file system (EXDEV otherwise).
    fn link(&self, name: &[u8], target: &VnodeObj) -> KResult<()> {
        let _ = (name, target);
        Err(Errno::ENOTDIR)
    }

    /// Removes the non-directory `name`.
    fn remove(&self, name: &[u8]) -> KResult<()> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Removes the empty directory `name`.
    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Moves `from` in this directory to `to` in `to_dir` (a directory of
    /// this file system), replacing what is there. The VFS has already
    /// checked the cases POSIX refuses that need no file system knowledge
    /// (a directory into its own subtree, `.` and `..`).
    fn rename(&self, from: &[u8], to_dir: &VnodeObj, to: &[u8]) -> KResult<()> {
        let _ = (from, to_dir, to);
        Err(Errno::ENOTDIR)
    }

    /// Directory entries from `cookie` on (0 is the start), at most
    /// `max` of them; an empty result is the end.
    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        let _ = (cookie, max);
        Err(Errno::ENOTDIR)
    }

    /// Reads up to `len` bytes at `offset`.
    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let _ = (offset, len);
        Err(Errno::EOPNOTSUPP)
    }

    /// Writes `data` at `offset`, or at the end when `append`.
    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        let _ = (offset, data, append);
        Err(Errno::EOPNOTSUPP)
    }

    /// Flushes the file's data (and metadata unless `data_only`).
    fn fsync(&self, data_only: bool) -> KResult<()> {
        let _ = data_only;
        Ok(())
    }

    /// A pathconf(2) value.
    fn pathconf(&self, name: i32) -> KResult<i64> {
        let _ = name;
        Err(Errno::EINVAL)
    }
}

/// A mounted file system.
pub trait Mount: Send + Sync + 'static {
    /// The root directory.
    fn root(&self) -> KResult<VnodeObj>;

    /// Sizes and counts for statvfs.
    fn statvfs(&self) -> KResult<FsStats>;

    /// Writes everything out (`wait`: synchronously).
    fn sync(&self, wait: bool) -> KResult<()> {
        let _ = wait;
        Ok(())
    }

    /// Called once before the file system is detached; `force` when the
    /// caller insists (MNT_FORCE).
    fn unmount(&self, force: bool) -> KResult<()> {
        let _ = force;
        Ok(())
    }

    /// Applies new flags and arguments to a mounted file system
    /// (MNT_UPDATE); `flags` include MNT_RDONLY for read-only.
    fn update(&self, flags: i32, data: &[u8]) -> KResult<()> {
        let _ = (flags, data);
        Err(Errno::EOPNOTSUPP)
    }

    /// The mount arguments, as MNT_GETARGS returns them.
    fn getargs(&self) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }

    /// What it is mounted from, for `f_mntfromname` (the device path; empty
    /// for the type's name, as tmpfs shows).
    fn source(&self) -> String {
        String::new()
    }

    /// Whether the file system keeps itself read-only though the mount
    /// did not ask it to (an image it may only read, say); the VFS then
    /// shows the mount as MNT_RDONLY.
    fn readonly(&self) -> bool {
        false
    }
}

/// What a file system may ask of the VFS while it mounts.
pub struct MountEnv<'a> {
    obj: MountEnvObj<'a>,
}

impl<'a> MountEnv<'a> {
    pub fn from_obj(obj: MountEnvObj<'a>) -> Self {
        MountEnv { obj }
    }

    /// The fsid the VFS gave this mount (for `st_dev` and statvfs).
    pub fn fsid(&self) -> u64 {
        self.obj.fsid()
    }

    /// Opens the block device at `path` in the kernel's namespace (for
    /// example an etfs key such as `/dev/dk`), for writing too unless
    /// `readonly`.
    pub fn open_device(&mut self, path: &[u8], readonly: bool) -> KResult<DeviceObj> {
        self.obj.open_device(path.into(), readonly).into()
    }
}

/// The parameters of a mount request.
pub struct MountArgs<'a, 'b> {
    /// The caller, for arguments that point into its memory (`fspec`).
    pub lwp: &'b mut Lwp<'a>,
    /// MNT_* flags.
    pub flags: i32,
    /// The argument block, as copied in from the caller.
    pub data: &'b [u8],
    /// The mount point, as the caller named it.
    pub on: &'b [u8],
}

/// A file system type.
pub trait FsType: Send + Sync + 'static {
    /// Its name (`tmpfs`, `ffs`, ...).
    fn name(&self) -> &str;

    /// The size of its argument block, used when a caller passes 0.
    fn args_len(&self) -> usize;

    /// Mounts an instance.
    fn mount(&self, args: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj>;
}

/// A block or character device: a byte range with positioned I/O.
pub trait Device: Send + Sync + 'static {
    /// Size in bytes.
    fn size(&self) -> u64;

    /// The sector size I/O must be aligned to (512 for etfs devices).
    fn sector_size(&self) -> u32 {
        512
    }

    /// Whether writes are refused.
    fn readonly(&self) -> bool {
        false
    }

    /// Reads `len` bytes at `offset` (short at the end of the device).
    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>>;

    /// Writes `data` at `offset`.
    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()>;

    /// Makes written data durable.
    fn flush(&self) -> KResult<()> {
        Ok(())
    }

    /// Writes back and forgets what is cached (see
    /// [`DeviceOps::invalidate`]).
    fn invalidate(&self) -> KResult<()> {
        self.flush()
    }
}

struct GuardedVnode<T>(Arc<T>);

impl<T> Clone for GuardedVnode<T> {
    fn clone(&self) -> Self {
        GuardedVnode(self.0.clone())
    }
}

impl<T: Vnode> VnodeOps for GuardedVnode<T> {
    fn vtype(&self) -> VType {
        guard_or("vnode type", VType::Bad, || self.0.vtype())
    }

    fn fileid(&self) -> u64 {
        guard_or("vnode fileid", 0, || self.0.fileid())
    }

    fn getattr(&self) -> RResult<Stat, Errno> {
        guard("getattr", || self.0.getattr())
    }

    fn setattr(&self, attr: &SetAttr) -> RResult<(), Errno> {
        guard("setattr", || self.0.setattr(attr))
    }

    fn lookup(&self, name: RSlice<'_, u8>) -> RResult<VnodeObj, Errno> {
        guard("lookup", || self.0.lookup(name.as_slice()))
    }

    fn create(&self, name: RSlice<'_, u8>, mode: u32, rdev: u64) -> RResult<VnodeObj, Errno> {
        guard("create", || self.0.create(name.as_slice(), mode, rdev))
    }

    fn mkdir(&self, name: RSlice<'_, u8>, mode: u32) -> RResult<VnodeObj, Errno> {
        guard("mkdir", || self.0.mkdir(name.as_slice(), mode))
    }

    fn symlink(
        &self,
        name: RSlice<'_, u8>,
        target: RSlice<'_, u8>,
        mode: u32,
    ) -> RResult<VnodeObj, Errno> {
        guard("symlink", || {
            self.0.symlink(name.as_slice(), target.as_slice(), mode)
        })
    }

    fn readlink(&self) -> RResult<RVec<u8>, Errno> {
        guard("readlink", || self.0.readlink().map(RVec::from))
    }

    fn link(&self, name: RSlice<'_, u8>, target: &VnodeObj) -> RResult<(), Errno> {
        guard("link", || self.0.link(name.as_slice(), target))
    }

    fn remove(&self, name: RSlice<'_, u8>) -> RResult<(), Errno> {
        guard("remove", || self.0.remove(name.as_slice()))
    }

    fn rmdir(&self, name: RSlice<'_, u8>) -> RResult<(), Errno> {
        guard("rmdir", || self.0.rmdir(name.as_slice()))
    }

    fn rename(
        &self,
        from: RSlice<'_, u8>,
        to_dir: &VnodeObj,
        to: RSlice<'_, u8>,
    ) -> RResult<(), Errno> {
        guard("rename", || {
            self.0.rename(from.as_slice(), to_dir, to.as_slice())
        })
    }

    fn readdir(&self, cookie: i64, max: usize) -> RResult<RVec<DirEntry>, Errno> {
        guard("readdir", || self.0.readdir(cookie, max).map(RVec::from))
    }

    fn read(&self, offset: u64, len: usize) -> RResult<RVec<u8>, Errno> {
        guard("read", || self.0.read(offset, len).map(RVec::from))
    }

    fn write(&self, offset: u64, data: RSlice<'_, u8>, append: bool) -> RResult<Written, Errno> {
        guard("write", || self.0.write(offset, data.as_slice(), append))
    }

    fn fsync(&self, data_only: bool) -> RResult<(), Errno> {
        guard("fsync", || self.0.fsync(data_only))
    }

    fn pathconf(&self, name: i32) -> RResult<i64, Errno> {
        guard("pathconf", || self.0.pathconf(name))
    }
}

/// Wraps a [`Vnode`] for the VFS.
pub fn vnode_obj<T: Vnode>(v: Arc<T>) -> VnodeObj {
    VnodeOps_TO::from_ptr(RArc::new(GuardedVnode(v)), TD_CanDowncast)
}

/// The `T` behind `obj`, if `obj` was made by [`vnode_obj`] from a `T` in
/// this same library (how a file system recognises its own vnodes).
pub fn downcast_vnode<T: Vnode>(obj: &VnodeObj) -> Option<Arc<T>> {
    obj.obj
        .downcast_as::<GuardedVnode<T>>()
        .ok()
        .map(|g| g.0.clone())
}

struct GuardedMount<T>(T);

impl<T: Mount> MountOps for GuardedMount<T> {
    fn root(&self) -> RResult<VnodeObj, Errno> {
        guard("root", || self.0.root())
    }

    fn statvfs(&self) -> RResult<FsStats, Errno> {
        guard("statvfs", || self.0.statvfs())
    }

    fn sync(&self, wait: bool) -> RResult<(), Errno> {
        guard("sync", || self.0.sync(wait))
    }

    fn unmount(&self, force: bool) -> RResult<(), Errno> {
        guard("unmount", || self.0.unmount(force))
    }

    fn update(&self, flags: i32, data: RSlice<'_, u8>) -> RResult<(), Errno> {
        guard("mount update", || self.0.update(flags, data.as_slice()))
    }

    fn getargs(&self) -> RResult<RVec<u8>, Errno> {
        guard("getargs", || self.0.getargs().map(RVec::from))
    }

    fn source(&self) -> RString {
        guard_or("mount source", RString::new(), || self.0.source().into())
    }

    fn readonly(&self) -> bool {
        guard_or("mount readonly", false, || self.0.readonly())
    }
}

/// Wraps a [`Mount`] for the VFS.
pub fn mount_obj<T: Mount>(m: T) -> MountObj {
    MountOps_TO::from_ptr(RArc::new(GuardedMount(m)), TD_CanDowncast)
}

struct GuardedFsType<T>(Arc<T>);

impl<T> Clone for GuardedFsType<T> {
    fn clone(&self) -> Self {
        GuardedFsType(self.0.clone())
    }
}

impl<T: FsType> FsTypeOps for GuardedFsType<T> {
    fn name(&self) -> RString {
        guard_or("fs name", RString::new(), || self.0.name().into())
    }

    fn args_len(&self) -> usize {
        guard_or("fs args_len", 0, || self.0.args_len())
    }

    fn mount(
        &self,
        lwp: LwpObj<'_>,
        env: MountEnvObj<'_>,
        flags: i32,
        data: RSlice<'_, u8>,
        on: RSlice<'_, u8>,
    ) -> RResult<MountObj, Errno> {
        let mut lwp = Lwp::from_obj(lwp);
        let mut env = MountEnv::from_obj(env);
        guard("mount", || {
            let args = MountArgs {
                lwp: &mut lwp,
                flags,
                data: data.as_slice(),
                on: on.as_slice(),
            };
            self.0.mount(args, &mut env)
        })
    }
}

/// Wraps a [`FsType`] for registration with the kernel.
pub fn fs_type_obj<T: FsType>(t: T) -> FsTypeObj {
    FsTypeOps_TO::from_ptr(
        RArc::new(GuardedFsType(Arc::new(t))),
        abi_stable::sabi_trait::TD_Opaque,
    )
}

struct GuardedDevice<T>(Arc<T>);

impl<T> Clone for GuardedDevice<T> {
    fn clone(&self) -> Self {
        GuardedDevice(self.0.clone())
    }
}

impl<T: Device> DeviceOps for GuardedDevice<T> {
    fn size(&self) -> u64 {
        guard_or("device size", 0, || self.0.size())
    }

    fn sector_size(&self) -> u32 {
        guard_or("device sector size", 512, || self.0.sector_size())
    }

    fn readonly(&self) -> bool {
        guard_or("device readonly", true, || self.0.readonly())
    }

    fn read_at(&self, offset: u64, len: usize) -> RResult<RVec<u8>, Errno> {
        guard("device read", || {
            self.0.read_at(offset, len).map(RVec::from)
        })
    }

    fn write_at(&self, offset: u64, data: RSlice<'_, u8>) -> RResult<(), Errno> {
        guard("device write", || self.0.write_at(offset, data.as_slice()))
    }

    fn flush(&self) -> RResult<(), Errno> {
        guard("device flush", || self.0.flush())
    }

    fn invalidate(&self) -> RResult<(), Errno> {
        guard("device invalidate", || self.0.invalidate())
    }
}

/// Wraps a [`Device`].
pub fn device_obj<T: Device>(d: Arc<T>) -> DeviceObj {
    DeviceOps_TO::from_ptr(RArc::new(GuardedDevice(d)), TD_CanDowncast)
}
