//! The VFS faction's state: the mount table, the root file system, etfs,
//! devices, locks, and each process's working directory, root and file
//! creation mask.

use crate::dev::Devices;
use crate::etfs::Etfs;
use crate::locks::Locks;
use crate::mount::{Mnt, Mounts, NewMount};
use crate::rumpfs::RumpFs;
use crate::vn::{Vn, VnRef};
use parking_lot::Mutex;
use rump_plugin_api::{KResult, Kernel};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The file creation mask of a new process (CMASK).
pub const CMASK: u32 = 0o022;

/// What the VFS keeps per process.
#[derive(Clone)]
pub struct ProcState {
    pub cwd: VnRef,
    pub root: VnRef,
    pub umask: u32,
}

/// The VFS faction.
pub struct Vfs {
    pub kernel: Kernel,
    pub mounts: Mounts,
    pub rootmnt: Arc<Mnt>,
    pub rumpfs: Arc<RumpFs>,
    pub etfs: Etfs,
    pub devs: Devices,
    pub locks: Locks,
    pub fifos: crate::fifo::Fifos,
    procs: Mutex<HashMap<i32, ProcState>>,
}

static VFS: OnceLock<Vfs> = OnceLock::new();

/// The running VFS.
///
/// # Panics
/// Before [`init`].
pub fn vfs() -> &'static Vfs {
    VFS.get().expect("VFS used before its init")
}

/// Sets the VFS up: rumpfs mounted on `/` with `/dev` (null, zero) and
/// `/tmp`.
pub fn init(kernel: Kernel) -> KResult<&'static Vfs> {
    if let Some(v) = VFS.get() {
        return Ok(v);
    }
    let mounts = Mounts::new();
    let fsid = mounts.new_fsid("rumpfs");
    let rumpfs = RumpFs::new(fsid.1);
    let rootmnt = mounts.add(
        NewMount {
            fstype: "rumpfs".into(),
            flags: 0,
            ops: rumpfs.mount_obj(),
            covered: None,
            on: "/".into(),
            from: "rumpfs".into(),
            devices: Vec::new(),
        },
        fsid,
    )?;
    rumpfs.populate()?;
    let v = Vfs {
        kernel,
        mounts,
        rootmnt,
        rumpfs,
        etfs: Etfs::default(),
        devs: Devices::default(),
        locks: Locks::default(),
        fifos: Default::default(),
        procs: Mutex::new(HashMap::new()),
    };
    let _ = VFS.set(v);
    Ok(vfs())
}

impl Vfs {
    /// The root directory of the kernel.
    pub fn root(&self) -> Vn {
        self.mounts.root_of(&self.rootmnt)
    }

    /// Whether `vn` is the root directory of rumpfs (where etfs keys live).
    pub fn is_rumpfs_root(&self, vn: &Vn) -> bool {
        vn.mnt.id == self.rootmnt.id && vn.is_mount_root()
    }

    fn fresh_proc(&self) -> ProcState {
        let root = VnRef::new(self.root());
        ProcState {
            cwd: root.clone(),
            root,
            umask: CMASK,
        }
    }

    /// The state of process `pid` (a new process starts at `/`).
    pub fn proc(&self, pid: i32) -> ProcState {
        let mut procs = self.procs.lock();
        procs
            .entry(pid)
            .or_insert_with(|| self.fresh_proc())
            .clone()
    }

    /// Changes the state of process `pid`.
    pub fn update_proc<T>(&self, pid: i32, f: impl FnOnce(&mut ProcState) -> T) -> T {
        let mut procs = self.procs.lock();
        let p = procs.entry(pid).or_insert_with(|| self.fresh_proc());
        f(p)
    }

    /// `child` starts with `parent`'s directories and mask.
    pub fn fork(&self, parent: i32, child: i32) {
        let state = self.proc(parent);
        self.procs.lock().insert(child, state);
    }

    /// Forgets process `pid`.
    pub fn exit(&self, pid: i32) {
        let gone = self.procs.lock().remove(&pid);
        drop(gone);
        self.locks.release_owner(crate::locks::Owner::Proc(pid));
    }
}
