//! rename: a new entry in the target directory (with a new short name),
//! then the old one freed; a replaced target goes first after the
//! checks; a moved directory's `..` follows it; the node keeps its file
//! number.

use crate::bpb::FatType;
use crate::dir::{DirLoc, Item};
use crate::dirent::{ShortEntry, SLOT};
use crate::fs::{Fs, Inner};
use crate::node::Node;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

impl Fs {
    pub fn rename(
        &self,
        from_dir: &Arc<Node>,
        from: &[u8],
        to_dir: &Arc<Node>,
        to: &[u8],
    ) -> KResult<()> {
        let mut g = self.lock_rw()?;
        let r = self.rename_locked(&mut g, from_dir, from, to_dir, to);
        self.commit(&mut g)?;
        r
    }

    fn rename_locked(
        &self,
        g: &mut Inner,
        from_dir: &Arc<Node>,
        from: &[u8],
        to_dir: &Arc<Node>,
        to: &[u8],
    ) -> KResult<()> {
        if !from_dir.is_dir || !to_dir.is_dir {
            return Err(Errno::ENOTDIR);
        }
        if to_dir.st.lock().unlinked {
            return Err(Errno::ENOENT);
        }
        let from_loc = self.loc_of(from_dir)?;
        let to_loc = self.loc_of(to_dir)?;
        let buf = self.read_dir(&g.fat, from_loc)?;
        let items = self.listing(g, &buf);
        let src = crate::dir::find(&items, from)
            .cloned()
            .ok_or(Errno::ENOENT)?;
        let src_is_dir = src.entry.is_dir();
        let tbuf = self.read_dir(&g.fat, to_loc)?;
        let titems = self.listing(g, &tbuf);
        let target = crate::dir::find(&titems, to).cloned();
        if let Some(t) = &target {
            if t.place == src.place {
                // The same entry: only the name (its case) may change.
                if t.name == to {
                    return Ok(());
                }
            } else {
                match (src_is_dir, t.entry.is_dir()) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    (true, true) if !self.dir_is_empty(g, t.entry.cluster(self.kind()))? => {
                        return Err(Errno::ENOTEMPTY);
                    }
                    _ => {}
                }
            }
        }
        let node = self.node_of(g, from_dir, &src)?;
        let id = node.id;
        // Make room first: the replaced target goes, then the new entry
        // is added, then the old one freed.
        let mut tbuf = tbuf;
        if let Some(t) = target.as_ref().filter(|t| t.place != src.place) {
            self.unlink_item(g, &mut tbuf, t)?;
        }
        let others: Vec<Item> = self
            .listing(g, &tbuf)
            .into_iter()
            .filter(|it| it.place != src.place)
            .collect();
        let slots = self.slots_for(g, &others, to, src.entry)?;
        let new_place = self.add_slots(&mut g.fat, &mut tbuf, &slots)?;
        // The old slots, read again if the directory is the same.
        let mut buf = if from_loc == to_loc { tbuf } else { buf };
        self.free_slots(&mut buf, &src.place)?;
        self.forget_moved(g, &src, &new_place, id)?;
        {
            let mut st = node.st.lock();
            st.place = Some(new_place);
            st.parent = Some(to_dir.clone());
            st.entry = ShortEntry(slots[slots.len() - 1]);
        }
        if src_is_dir && from_loc != to_loc {
            self.set_dotdot(g, src.entry.cluster(self.kind()), to_loc)?;
        }
        self.touch_dir(g, from_dir)?;
        if !Arc::ptr_eq(from_dir, to_dir) {
            self.touch_dir(g, to_dir)?;
        }
        Ok(())
    }

    /// Moves the table entries of `src` to `to`; the file keeps `id`.
    fn forget_moved(
        &self,
        g: &mut Inner,
        src: &Item,
        to: &crate::dir::Place,
        id: u64,
    ) -> KResult<()> {
        let node = self.live_at(g, &src.place);
        self.forget(g, &src.place, id, src.entry.is_dir(), None);
        if !src.entry.is_dir() {
            self.moved(g, id, to)?;
        }
        if let Some(n) = node {
            self.relive(g, to, &n);
        }
        Ok(())
    }

    /// Points the `..` of the directory at cluster `c` at `parent`.
    fn set_dotdot(&self, g: &Inner, c: u32, parent: DirLoc) -> KResult<()> {
        let pc = match parent {
            DirLoc::Chain(p) if !(self.kind() == FatType::Fat32 && p == self.geo.root_cluster) => p,
            _ => 0,
        };
        if !self.geo.valid_cluster(c) {
            return Err(Errno::EIO);
        }
        let off = self.geo.cluster_offset(c) + SLOT as u64;
        let mut e = ShortEntry(
            self.disk
                .read(off, SLOT)?
                .try_into()
                .map_err(|_| Errno::EIO)?,
        );
        if &e.name()[..2] != b".." {
            return Ok(());
        }
        e.set_cluster(pc, self.kind());
        let _ = g;
        self.disk.write(off, &e.0)
    }
}
