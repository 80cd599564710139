//! Nodes: the one in-memory object of each file or directory in use,
//! shared by all its vnodes. A node knows where its entry is, keeps a
//! copy of that entry, and keeps its parent directory in memory (for
//! `..`). A node unlinked while in use keeps its clusters until it is
//! dropped; the drop hands them back through the mount's deferred list.

use crate::cursor::Cursor;
use crate::dir::{DirLoc, Place};
use crate::dirent::ShortEntry;
use crate::mem::Charge;
use parking_lot::Mutex;
use std::sync::Arc;

/// The file number of the root directory.
pub const ROOT_ID: u64 = 1;
/// File numbers of files derived from where their entry is.
const PLACE_IDS: u64 = 1 << 48;
/// File numbers handed out when the derived one is taken.
pub const FRESH_IDS: u64 = 1 << 56;

/// The file number a file's entry at `place` has until it moves.
pub fn derived_id(place: &Place) -> u64 {
    PLACE_IDS | (place.dir.key() << 16) | u64::from(place.slot)
}

/// The file number of the directory whose first cluster is `c`.
pub fn dir_id(c: u32, root_cluster: u32) -> u64 {
    if c == 0 || c == root_cluster {
        ROOT_ID
    } else {
        u64::from(c)
    }
}

/// Work left by dropped nodes for the next operation on the mount.
#[derive(Debug, PartialEq, Eq)]
pub enum Deferred {
    /// Free the chain starting at this cluster.
    Free(u32),
    /// This file number is no longer carried by a removed file.
    Uncarry(u64),
}

/// A node's changing state.
pub struct NodeState {
    /// Where its entry is (None for the root and unlinked nodes).
    pub place: Option<Place>,
    pub parent: Option<Arc<Node>>,
    /// Its short entry (for the root, one made up with its cluster).
    pub entry: ShortEntry,
    pub unlinked: bool,
    /// The chain to free when the node goes (an unlinked file's).
    pub doomed: u32,
    /// Its file number must be uncarried when it goes.
    pub zombie: bool,
    /// Where its cluster chain was last walked.
    pub cursor: Cursor,
}

/// A file or directory in use.
pub struct Node {
    pub id: u64,
    pub is_dir: bool,
    pub st: Mutex<NodeState>,
    deferred: Arc<Mutex<Vec<Deferred>>>,
    _charge: Charge,
}

impl Node {
    pub fn new(
        id: u64,
        is_dir: bool,
        state: NodeState,
        deferred: Arc<Mutex<Vec<Deferred>>>,
        charge: Charge,
    ) -> Arc<Node> {
        Arc::new(Node {
            id,
            is_dir,
            st: Mutex::new(state),
            deferred,
            _charge: charge,
        })
    }

    pub fn is_root(&self) -> bool {
        self.id == ROOT_ID
    }
}

/// The directory a directory node's slots are in, given the mount's root.
pub fn dir_loc(n: &Node, root: DirLoc, kind: crate::bpb::FatType) -> DirLoc {
    if n.is_root() {
        root
    } else {
        DirLoc::Chain(n.st.lock().entry.cluster(kind))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let st = self.st.get_mut();
        let mut d = self.deferred.lock();
        if st.doomed != 0 {
            d.push(Deferred::Free(st.doomed));
        }
        if st.zombie {
            d.push(Deferred::Uncarry(self.id));
        }
    }
}
