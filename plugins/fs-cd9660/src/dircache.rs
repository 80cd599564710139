//! A cache of directory listings, so that a lookup does not read and
//! parse the whole directory again: each mount keeps the named entries of
//! the directories it used last, with a map from Rock Ridge names to
//! entries.
//!
//! The cache holds at most [`CACHE_BYTES`] per mount (and a sixteenth of
//! the kernel's `-r` limit), charged to the kernel; the least recently
//! used listings make room. A directory whose listing would cost more
//! than [`LISTING_BYTES`] (or the whole budget), or that the kernel has no
//! memory for, is walked on the image each time instead. A walk that
//! ends at a malformed record keeps what came before it and remembers the
//! error; a walk that cannot read the image is not cached.

use crate::fs::Fs;
use crate::mem::Charge;
use crate::node::Node;
use crate::walk::{Entry, Walk};
use parking_lot::Mutex;
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::Arc;

/// What the listings of one mount may cost together.
pub const CACHE_BYTES: u64 = 8 << 20;
/// What one listing may cost.
pub const LISTING_BYTES: u64 = 2 << 20;
/// What an entry costs besides its names.
const ENTRY_COST: u64 = 128;

/// What the listings of one mount may cost together in this kernel.
fn budget() -> u64 {
    let limit = rump_plugin_api::kernel::try_kernel().and_then(|k| k.mem_limit());
    limit.map_or(CACHE_BYTES, |l| (l / 16).min(CACHE_BYTES))
}

/// The named entries of a directory, in order.
pub struct Listing {
    pub entries: Vec<Entry>,
    /// Rock Ridge names (lower-cased for `rrcaseins`) to the first entry
    /// of that name.
    by_name: HashMap<Vec<u8>, usize>,
    /// The error that ended the walk early.
    pub error: Option<Errno>,
    cost: u64,
    _charge: Charge,
}

impl Listing {
    /// Walks `dir` whole; `None` if the listing is too large to keep or
    /// the kernel has no memory for it.
    fn build(fs: &Fs, dir: &Node) -> KResult<Option<Listing>> {
        let most = LISTING_BYTES.min(budget());
        let mut walk = Walk::new(fs, dir, 0);
        let mut entries = Vec::new();
        let mut cost = 0u64;
        let mut error = None;
        loop {
            match walk.next_entry() {
                Ok(Some(e)) if e.name.is_empty() => {}
                Ok(Some(e)) => {
                    cost += ENTRY_COST + (e.name.len() + e.raw.len()) as u64;
                    if cost > most {
                        return Ok(None);
                    }
                    entries.push(e);
                }
                Ok(None) => break,
                Err(Errno::EINVAL) => {
                    error = Some(Errno::EINVAL);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let Ok(charge) = Charge::new(cost) else {
            return Ok(None);
        };
        let mut by_name = HashMap::new();
        if fs.rock_ridge().is_some() {
            for (i, e) in entries.iter().enumerate() {
                by_name.entry(key(&e.name, fs.rr_caseins)).or_insert(i);
            }
        }
        Ok(Some(Listing {
            entries,
            by_name,
            error,
            cost,
            _charge: charge,
        }))
    }

    /// The file number of the first entry named `name` (Rock Ridge).
    pub fn find(&self, name: &[u8], caseins: bool) -> Option<u64> {
        self.by_name
            .get(&key(name, caseins))
            .map(|&i| self.entries[i].ino)
    }

    /// The index of the first entry at or after directory offset `cookie`.
    pub fn index_of(&self, cookie: u64) -> usize {
        self.entries.partition_point(|e| e.start < cookie)
    }
}

fn key(name: &[u8], caseins: bool) -> Vec<u8> {
    if caseins {
        name.to_ascii_lowercase()
    } else {
        name.to_vec()
    }
}

/// Which directory a listing is of: its number and extent.
type Key = (u64, u64, u64);

#[derive(Default)]
struct State {
    map: HashMap<Key, (Arc<Listing>, u64)>,
    bytes: u64,
    clock: u64,
}

/// One mount's listings.
#[derive(Default)]
pub struct DirCache {
    st: Mutex<State>,
}

impl DirCache {
    /// The listing of `dir`, from the cache or walked now; `None` when it
    /// is not to be kept (walk the image instead).
    pub fn listing(&self, fs: &Fs, dir: &Node) -> KResult<Option<Arc<Listing>>> {
        let k = dir
            .extents
            .first()
            .map_or((dir.ino, 0, 0), |e| (dir.ino, e.block, e.size));
        {
            let mut st = self.st.lock();
            st.clock += 1;
            let now = st.clock;
            if let Some((l, used)) = st.map.get_mut(&k) {
                *used = now;
                return Ok(Some(l.clone()));
            }
        }
        let Some(l) = Listing::build(fs, dir)? else {
            return Ok(None);
        };
        let l = Arc::new(l);
        let budget = budget();
        let mut st = self.st.lock();
        while st.bytes + l.cost > budget {
            let Some((&oldest, _)) = st.map.iter().min_by_key(|(_, (_, used))| *used) else {
                break;
            };
            if let Some((gone, _)) = st.map.remove(&oldest) {
                st.bytes -= gone.cost;
            }
        }
        let now = st.clock;
        if let Some((old, _)) = st.map.insert(k, (l.clone(), now)) {
            st.bytes -= old.cost;
        }
        st.bytes += l.cost;
        Ok(Some(l))
    }

    /// Drops every listing (unmount).
    pub fn clear(&self) {
        let mut st = self.st.lock();
        st.map.clear();
        st.bytes = 0;
    }
}
