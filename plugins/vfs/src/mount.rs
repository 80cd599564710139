//! The mount table: what is mounted where, fsids, and crossing mount
//! points during lookup.

use crate::vn::Vn;
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::mount::{MNT_LOCAL, MNT_ROOTFS, MNT_VISFLAGMASK};
use rump_plugin_api::abi::stat::makedev;
use rump_plugin_api::abi::statvfs::StatVfs;
use rump_plugin_api::vfs::{DeviceObj, MountObj, VnodeObj};
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A mounted file system.
pub struct Mnt {
    pub id: u64,
    pub fstype: String,
    pub fsid: u64,
    pub fsidx: [i32; 2],
    flags: AtomicI32,
    pub ops: MountObj,
    root_obj: VnodeObj,
    pub root_fileid: u64,
    /// The directory this file system is mounted on (none for `/`).
    pub covered: Option<Vn>,
    pub on: String,
    pub from: String,
    /// Open files, working directories and roots inside this mount.
    pub users: AtomicUsize,
    /// The devices the file system opened when it mounted; their caches
    /// are dropped when it is unmounted.
    pub devices: Vec<DeviceObj>,
}

impl Mnt {
    /// MNT_* flags as statvfs shows them.
    pub fn flags(&self) -> i32 {
        self.flags.load(Ordering::Acquire)
    }

    pub fn set_flags(&self, f: i32) {
        self.flags.store(f, Ordering::Release);
    }

    pub fn readonly(&self) -> bool {
        self.flags() & rump_plugin_api::abi::mount::MNT_RDONLY != 0
    }

    /// EROFS on a read-only mount.
    pub fn check_writable(&self) -> KResult<()> {
        if self.readonly() {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// Its statvfs record.
    pub fn statvfs(&self) -> KResult<StatVfs> {
        let s = self.ops.statvfs().into_result()?;
        Ok(StatVfs {
            flag: (self.flags() & MNT_VISFLAGMASK) as u32 as u64,
            bsize: s.bsize,
            frsize: s.frsize,
            iosize: s.iosize,
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bavail,
            bresvd: s.bresvd,
            files: s.files,
            ffree: s.ffree,
            favail: s.favail,
            fresvd: s.fresvd,
            fsidx: self.fsidx,
            fsid: self.fsid,
            namemax: s.namemax,
            fstypename: self.fstype.clone(),
            mntonname: self.on.clone(),
            mntfromname: self.from.clone(),
            ..StatVfs::default()
        })
    }
}

/// NetBSD's `makefstype`: a number made from a type name.
pub fn makefstype(name: &str) -> i64 {
    name.bytes().fold(0i64, |rv, b| (rv << 2) ^ i64::from(b))
}

/// Everything mounted.
pub struct Mounts {
    list: RwLock<Vec<Arc<Mnt>>>,
    covered: RwLock<HashMap<(u64, u64), Arc<Mnt>>>,
    next_id: AtomicU64,
    /// NetBSD's `xxxfs_mntid`, shared by all types.
    mntid: Mutex<u16>,
}

/// What a new mount is made of.
pub struct NewMount {
    pub fstype: String,
    pub flags: i32,
    pub ops: MountObj,
    pub covered: Option<Vn>,
    pub on: String,
    pub from: String,
    pub devices: Vec<DeviceObj>,
}

impl Mounts {
    pub fn new() -> Mounts {
        Mounts {
            list: RwLock::new(Vec::new()),
            covered: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            mntid: Mutex::new(0),
        }
    }

    /// A new fsid for a file system of type `fstype`, as vfs_getnewfsid
    /// makes them: (makedev(type & 0xff, n), type).
    pub fn new_fsid(&self, fstype: &str) -> ([i32; 2], u64) {
        let mtype = makefstype(fstype);
        let mut mntid = self.mntid.lock();
        if *mntid == 0 {
            *mntid = 1;
        }
        let mut idx0 = makedev((mtype & 0xff) as u32, u32::from(*mntid)) as i32;
        let list = self.list.read();
        while list.iter().any(|m| m.fsidx == [idx0, mtype as i32]) {
            idx0 += 1;
            *mntid = mntid.wrapping_add(1);
        }
        ([idx0, mtype as i32], idx0 as u32 as u64)
    }

    /// Enters a mounted file system into the table.
    pub fn add(&self, n: NewMount, fsid: ([i32; 2], u64)) -> KResult<Arc<Mnt>> {
        let root_obj = n.ops.root().into_result()?;
        let root_fileid = root_obj.fileid();
        let local = if n.covered.is_none() {
            MNT_LOCAL | MNT_ROOTFS
        } else {
            MNT_LOCAL
        };
        let m = Arc::new(Mnt {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            fstype: n.fstype,
            fsid: fsid.1,
            fsidx: fsid.0,
            flags: AtomicI32::new(n.flags | local),
            ops: n.ops,
            root_obj,
            root_fileid,
            covered: n.covered,
            on: n.on,
            from: n.from,
            users: AtomicUsize::new(0),
            devices: n.devices,
        });
        if let Some(c) = &m.covered {
            self.covered.write().insert(c.key(), m.clone());
        }
        self.list.write().push(m.clone());
        Ok(m)
    }

    /// The root vnode of a mount.
    pub fn root_of(&self, m: &Arc<Mnt>) -> Vn {
        Vn::new(m.root_obj.clone(), m.clone())
    }

    /// If a file system is mounted on `vn`, its root (repeatedly, for
    /// mounts on mounts); otherwise `vn`.
    pub fn cross(&self, mut vn: Vn) -> Vn {
        loop {
            let over = self.covered.read().get(&vn.key()).cloned();
            match over {
                Some(m) => vn = self.root_of(&m),
                None => return vn,
            }
        }
    }

    /// Whether a file system is mounted on `vn`.
    pub fn is_covered(&self, vn: &Vn) -> bool {
        self.covered.read().contains_key(&vn.key())
    }

    /// Every mount, in mount order.
    pub fn all(&self) -> Vec<Arc<Mnt>> {
        self.list.read().clone()
    }

    /// Whether other file systems are mounted inside `m`.
    pub fn has_submounts(&self, m: &Mnt) -> bool {
        self.list
            .read()
            .iter()
            .any(|x| x.covered.as_ref().is_some_and(|c| c.mnt.id == m.id))
    }

    /// Takes `m` out of the table.
    pub fn remove(&self, m: &Arc<Mnt>) {
        if let Some(c) = &m.covered {
            self.covered.write().remove(&c.key());
        }
        self.list.write().retain(|x| x.id != m.id);
    }
}

impl Default for Mounts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstype_numbers_match_netbsd() {
        assert_eq!(makefstype("tmpfs"), 0x69ab);
        assert_eq!(makedev((makefstype("tmpfs") & 0xff) as u32, 1), 0xab01);
    }
}
