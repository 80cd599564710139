//! One mounted volume: the image, its geometry, how names and attributes
//! are read (Rock Ridge, Joliet or plain ISO 9660) and the root.
//!
//! Everything here is fixed at mount time, so the vnode operations that
//! share it need no locks; only "unmounted" changes, once, and the
//! listing cache has its own lock.

use crate::dircache::DirCache;
use crate::disk::{Disk, Geometry};
use crate::mem::Charge;
use crate::names::Style;
use crate::rrip::RockRidge;
use rump_plugin_api::{Errno, KResult};
use std::sync::atomic::{AtomicBool, Ordering};

/// How names and attributes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// Rock Ridge fields (NetBSD's ISO_FTYPE_RRIP).
    RockRidge(RockRidge),
    /// ISO 9660 or Joliet identifiers; `merge_versions` lists a file
    /// recorded in several versions once (ISO_FTYPE_DEFAULT), otherwise
    /// each version shows with its `;N` (ISO_FTYPE_9660, `gens`).
    Iso { style: Style, merge_versions: bool },
}

/// A mounted volume.
pub struct Fs {
    pub disk: Disk,
    pub geo: Geometry,
    pub naming: Naming,
    /// The ISOFSMNT_* flags in force, as MNT_GETARGS reports them.
    pub flags: i32,
    /// Take modes, owners and times from extended attribute records.
    pub extatt: bool,
    /// Match Rock Ridge names without regard to case.
    pub rr_caseins: bool,
    /// The root directory's file number.
    pub root_ino: u64,
    /// `st_dev` of every file.
    pub fsid: u64,
    /// The mount point, for link targets relative to the volume root.
    pub volroot: Vec<u8>,
    /// Listings of the directories used last.
    pub cache: DirCache,
    alive: AtomicBool,
    _charge: Charge,
}

/// What a mount decided, for [`Fs::new`].
pub struct Setup {
    pub disk: Disk,
    pub geo: Geometry,
    pub naming: Naming,
    pub flags: i32,
    pub extatt: bool,
    pub rr_caseins: bool,
    pub root_ino: u64,
    pub fsid: u64,
    pub volroot: Vec<u8>,
}

impl Fs {
    pub fn new(s: Setup) -> KResult<Fs> {
        Ok(Fs {
            disk: s.disk,
            geo: s.geo,
            naming: s.naming,
            flags: s.flags,
            extatt: s.extatt,
            rr_caseins: s.rr_caseins,
            root_ino: s.root_ino,
            fsid: s.fsid,
            volroot: s.volroot,
            cache: DirCache::default(),
            alive: AtomicBool::new(true),
            _charge: Charge::new(crate::mem::MOUNT_COST)?,
        })
    }

    /// EIO once unmounted.
    pub fn alive(&self) -> KResult<()> {
        if self.alive.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Errno::EIO)
        }
    }

    /// Marks the volume unmounted: every later operation fails with EIO,
    /// and the cached listings are given back.
    pub fn unmount(&self) {
        self.alive.store(false, Ordering::Release);
        self.cache.clear();
    }

    /// The file number of a directory whose data starts at `block`.
    pub fn dir_ino(&self, block: u64) -> u64 {
        block << self.geo.shift
    }

    /// Whether this volume is read with Rock Ridge.
    pub fn rock_ridge(&self) -> Option<&RockRidge> {
        match &self.naming {
            Naming::RockRidge(rr) => Some(rr),
            Naming::Iso { .. } => None,
        }
    }
}
