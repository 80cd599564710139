//! Disk partitions: how a device component offers a partition scanner to
//! the VFS, and what a scanner reports.
//!
//! A scanner reads a block device (a disk mapped with `-d`) and says
//! which partitions its partition table describes. The VFS asks every
//! registered scanner about each block device it attaches, in the order
//! they were registered; the first one that finds a table decides, as
//! NetBSD's wedge discovery methods do. For each partition the VFS makes
//! a block device node named after the disk's key with the partition's
//! suffix, whose I/O is a window on the disk (sharing its buffer cache).
//!
//! A scanner registered later (a module loaded with modload) is asked
//! about the disks that have no partitions yet. Partitions stay when the
//! scanner's component is unloaded, since their I/O is the VFS's own;
//! they go with their disk's key. Only block keys are scanned: not
//! character (raw) keys, and not the partitions themselves.
//!
//! Everything a scanner reports is checked again by the VFS: a partition
//! must start inside the disk at a sector boundary and is clipped at the
//! disk's end, and a suffix must be a short name without `/`.

use crate::ffi::{DiskScannerOps, DiskScannerOps_TO};
use crate::guard::{guard, guard_or};
use crate::vfs::DeviceObj;
use crate::{Errno, KResult};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RArc, RResult, RStr, RString, RVec};
use abi_stable::StableAbi;
use std::sync::Arc;

/// One partition of a disk, as a scanner reports it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// What is appended to the disk's key to name the partition's node
    /// (`a` for `/dev/wd0` makes `/dev/wd0a`).
    pub suffix: RString,
    /// Where it starts on the disk, in bytes (a multiple of the disk's
    /// sector size).
    pub offset: u64,
    /// Its length in bytes.
    pub size: u64,
    /// What it holds, as NetBSD's `dkw_ptype` names it (`ffs`, `msdos`,
    /// `ext2fs`, `swap`, ...); empty when unknown.
    pub ptype: RString,
    /// The wedge name NetBSD would give it (a GPT partition's name or
    /// GUID, `pack/a` for a named disklabel); empty to use the node's
    /// name.
    pub wname: RString,
}

/// The trait object of a partition scanner.
pub type DiskScannerObj = DiskScannerOps_TO<'static, RArc<()>>;

/// A partition scanner, as a device component implements it.
pub trait DiskScanner: Send + Sync + 'static {
    /// A short name for logs (`disk`).
    fn name(&self) -> &str;

    /// The partitions of `disk`: empty when it holds no partition table
    /// this scanner knows; an error when the disk cannot be read. `name`
    /// names the disk in log lines (its key, such as `/dev/wd0`).
    fn scan(&self, name: &str, disk: &DeviceObj) -> KResult<Vec<Partition>>;
}

struct GuardedScanner<T>(Arc<T>);

impl<T> Clone for GuardedScanner<T> {
    fn clone(&self) -> Self {
        GuardedScanner(self.0.clone())
    }
}

impl<T: DiskScanner> DiskScannerOps for GuardedScanner<T> {
    fn name(&self) -> RString {
        guard_or("scanner name", RString::new(), || self.0.name().into())
    }

    fn scan(&self, name: RStr<'_>, disk: DeviceObj) -> RResult<RVec<Partition>, Errno> {
        guard("disk scan", || {
            self.0.scan(name.as_str(), &disk).map(RVec::from)
        })
    }
}

/// Wraps a [`DiskScanner`] for registration with the kernel.
pub fn disk_scanner_obj<T: DiskScanner>(s: T) -> DiskScannerObj {
    DiskScannerOps_TO::from_ptr(RArc::new(GuardedScanner(Arc::new(s))), TD_Opaque)
}
