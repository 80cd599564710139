//! In-core inodes: one per inode in use by the VFS, shared by all its
//! vnodes, holding the inode's bytes behind a lock. Every change is
//! stored straight back into the inode table (in the block cache), so
//! an in-core inode can be dropped at any time and read again.
//!
//! When the last reference to an inode with no links goes, the inode
//! is an orphan to be freed; see [`crate::fs::Fs::inode_released`].

use crate::dinode::Dinode;
use crate::fs::Fs;
use crate::mem::Charge;
use parking_lot::RwLock;
use rump_plugin_api::vfs::VType;
use std::sync::Weak;

/// What is locked with an inode.
pub struct InodeState {
    pub d: Dinode,
    /// Where the next block of this file is wanted (the block after the
    /// last one allocated).
    pub goal: u64,
}

/// An inode in use.
pub struct Inode {
    pub ino: u32,
    /// The type, from the mode at load; it never changes.
    pub vtype: VType,
    pub st: RwLock<InodeState>,
    fs: Weak<Fs>,
    _charge: Charge,
}

impl Inode {
    pub fn new(ino: u32, d: Dinode, fs: Weak<Fs>, charge: Charge) -> Inode {
        Inode {
            ino,
            vtype: VType::from_mode(d.mode()),
            st: RwLock::new(InodeState { d, goal: 0 }),
            fs,
            _charge: charge,
        }
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        if let Some(fs) = self.fs.upgrade() {
            fs.inode_released(self.ino);
        }
    }
}
