//! A mounted FAT volume: its geometry, device and FAT, the table of
//! nodes in use, and the operations on its tree (lookup, create, mkdir,
//! remove, rmdir, readdir, attributes). One lock serializes the changes
//! of a mount; file numbers stay the same across renames while the
//! mount lives.

use crate::args::{Options, MSDOSFSMNT_LONGNAME, MSDOSFSMNT_SHORTNAME};
use crate::bpb::{FatType, Geometry};
use crate::dir::{find, list, short_taken, DirBuf, DirLoc, Item, Place};
use crate::dirent::{lfn_slots, ShortEntry, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_LFN, ATTR_READONLY};
use crate::dirent::{SLOT, SLOT_DELETED, SLOT_END};
use crate::disk::Disk;
use crate::fat::Fat;
use crate::mem::{Charge, ID_COST, NODE_COST};
use crate::names::{checksum, short_name, to_utf16, Fit, ShortName};
use crate::node::{derived_id, dir_id, dir_loc, Deferred, Node, NodeState, FRESH_IDS, ROOT_ID};
use crate::time::{from_dos, to_dos};
use parking_lot::{Mutex, MutexGuard};
use rump_plugin_api::abi::stat::{Stat, Timespec, S_IFDIR, S_IFREG};
use rump_plugin_api::vfs::{DirEntry, FsStats, SetAttr, VType};
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

/// The readdir cookie after a directory's last entry.
const EOF_COOKIE: i64 = i64::MAX;
/// `st_flags` bit: archived (the DOS archive attribute is clear).
const SF_ARCHIVED: u32 = 0x0001_0000;
/// The mode bit NetBSD shows for files that are not archived.
const S_ARCH1: u32 = 0o200000;

/// What changes under the mount's lock.
pub struct Inner {
    pub fat: Fat,
    pub opts: Options,
    pub readonly: bool,
    pub dead: bool,
    /// Nodes in use, by the place of their entry.
    live: HashMap<(DirLoc, u32), Weak<Node>>,
    /// File numbers of entries that moved, by their place.
    renamed: HashMap<(DirLoc, u32), u64>,
    /// File numbers held by entries (or unlinked nodes) away from the
    /// place they derive from, so new entries there must not take them.
    carried: HashMap<u64, u32>,
    next_fresh: u64,
    ids_charge: Charge,
}

/// A mounted volume.
pub struct Fs {
    pub geo: Geometry,
    pub disk: Disk,
    pub fsid: u64,
    /// Where the root directory's slots are.
    pub root_loc: DirLoc,
    pub source: Vec<u8>,
    pub inner: Mutex<Inner>,
    deferred: Arc<Mutex<Vec<Deferred>>>,
    root: Mutex<Option<Arc<Node>>>,
}

/// The current time.
pub fn now() -> Timespec {
    Timespec::now()
}

impl Fs {
    /// Mounts the volume on `disk`.
    pub fn new(
        disk: Disk,
        mut opts: Options,
        readonly: bool,
        fsid: u64,
        source: Vec<u8>,
    ) -> KResult<Arc<Fs>> {
        let mut boot_len = 512usize;
        let first = disk.read(0, boot_len)?;
        let bps = u16::from_le_bytes([first[11], first[12]]) as usize;
        let boot = if bps > boot_len
            && bps <= 4096
            && bps.is_power_of_two()
            && disk.size() >= bps as u64
        {
            boot_len = bps;
            disk.read(0, boot_len)?
        } else {
            first
        };
        let geo = Geometry::parse(&boot, disk.size())?;
        let mut fat = Fat::load(&disk, &geo)?;
        if let Some(s) = geo.fsinfo_sec {
            let sec = disk.read(u64::from(s) * u64::from(geo.bps), 512)?;
            if &sec[0..4] == b"RRaA" && &sec[484..488] == b"rrAa" {
                fat.set_next_free(u32::from_le_bytes([sec[492], sec[493], sec[494], sec[495]]));
            }
        }
        let root_loc = match geo.fat_type {
            FatType::Fat32 => DirLoc::Chain(geo.root_cluster),
            _ => DirLoc::Root,
        };
        if opts.flags & (MSDOSFSMNT_SHORTNAME | MSDOSFSMNT_LONGNAME) == 0 {
            // As NetBSD: FAT32 has long names; otherwise the root says.
            let long = geo.fat_type == FatType::Fat32 || {
                let tmp = Fs::bare(&disk, &geo, root_loc, &fat)?;
                has_win95_names(&tmp)
            };
            opts.flags |= if long {
                MSDOSFSMNT_LONGNAME
            } else {
                MSDOSFSMNT_SHORTNAME
            };
        }
        let fs = Arc::new(Fs {
            geo,
            disk,
            fsid,
            root_loc,
            source,
            inner: Mutex::new(Inner {
                fat,
                opts,
                readonly,
                dead: false,
                live: HashMap::new(),
                renamed: HashMap::new(),
                carried: HashMap::new(),
                next_fresh: FRESH_IDS,
                ids_charge: Charge::new(0)?,
            }),
            deferred: Arc::new(Mutex::new(Vec::new())),
            root: Mutex::new(None),
        });
        let mut entry = ShortEntry::new(*b"           ", ATTR_DIRECTORY);
        if let DirLoc::Chain(c) = root_loc {
            entry.set_cluster(c, FatType::Fat32);
        }
        let root = Node::new(
            ROOT_ID,
            true,
            NodeState {
                place: None,
                parent: None,
                entry,
                unlinked: false,
                doomed: 0,
                zombie: false,
                cursor: Default::default(),
            },
            fs.deferred.clone(),
            Charge::new(NODE_COST)?,
        );
        *fs.root.lock() = Some(root);
        // The root's slots must at least be readable.
        {
            let g = fs.inner.lock();
            fs.read_dir(&g.fat, root_loc)?;
        }
        Ok(fs)
    }

    /// The first slots of the root, read before the mount is complete.
    fn bare(disk: &Disk, geo: &Geometry, loc: DirLoc, fat: &Fat) -> KResult<Vec<u8>> {
        Ok(match loc {
            DirLoc::Root => {
                let (off, len) = geo.root_area();
                disk.read(off, len as usize)?
            }
            DirLoc::Chain(c) => {
                let cl = fat.chain(c, 1)?;
                disk.read(
                    geo.cluster_offset(*cl.first().ok_or(Errno::EIO)?),
                    geo.csize as usize,
                )?
            }
        })
    }

    pub fn root(&self) -> KResult<Arc<Node>> {
        self.root.lock().clone().ok_or(Errno::EIO)
    }

    /// Locks the mount for an operation: EIO once unmounted; work left by
    /// dropped nodes is done first.
    pub fn lock(&self) -> KResult<MutexGuard<'_, Inner>> {
        let mut g = self.inner.lock();
        if g.dead {
            return Err(Errno::EIO);
        }
        self.run_deferred(&mut g);
        Ok(g)
    }

    /// Locks the mount for a change: EROFS when it is read-only.
    pub fn lock_rw(&self) -> KResult<MutexGuard<'_, Inner>> {
        let g = self.lock()?;
        if g.readonly {
            return Err(Errno::EROFS);
        }
        Ok(g)
    }

    fn run_deferred(&self, g: &mut Inner) {
        let work: Vec<Deferred> = std::mem::take(&mut *self.deferred.lock());
        if work.is_empty() {
            return;
        }
        for w in work {
            match w {
                Deferred::Free(c) => {
                    if !g.readonly {
                        g.fat.free_chain(c)
                    }
                }
                Deferred::Uncarry(id) => uncarry(g, id),
            }
        }
        if g.fat.is_dirty() {
            let _ = g.fat.flush(&self.disk, &self.geo);
        }
    }

    /// Writes out the FAT and FSInfo if they changed.
    pub fn commit(&self, g: &mut Inner) -> KResult<()> {
        if g.fat.is_dirty() {
            g.fat.flush(&self.disk, &self.geo)?;
        }
        Ok(())
    }

    pub fn kind(&self) -> FatType {
        self.geo.fat_type
    }

    /// Where directory node `n`'s slots are; EIO for a directory entry
    /// whose cluster is not one.
    pub fn loc_of(&self, n: &Node) -> KResult<DirLoc> {
        let loc = dir_loc(n, self.root_loc, self.kind());
        match loc {
            DirLoc::Chain(c) if !self.geo.valid_cluster(c) => Err(Errno::EIO),
            _ => Ok(loc),
        }
    }

    pub fn listing(&self, g: &Inner, buf: &DirBuf) -> Vec<Item> {
        let long = g.opts.long_names();
        list(buf, long, !long)
    }

    /// The file number of `item`, an entry of a directory.
    fn id_of(&self, g: &Inner, item: &Item) -> u64 {
        if item.entry.is_dir() {
            return dir_id(item.entry.cluster(self.kind()), self.geo.root_cluster);
        }
        if let Some(n) = g.live.get(&item.place.key()).and_then(Weak::upgrade) {
            return n.id;
        }
        g.renamed
            .get(&item.place.key())
            .copied()
            .unwrap_or_else(|| derived_id(&item.place))
    }

    /// The node of `item` in directory `parent`: the one in use, or a new
    /// one.
    pub fn node_of(&self, g: &mut Inner, parent: &Arc<Node>, item: &Item) -> KResult<Arc<Node>> {
        let key = item.place.key();
        if let Some(n) = g.live.get(&key).and_then(Weak::upgrade) {
            return Ok(n);
        }
        let is_dir = item.entry.is_dir();
        if is_dir && !self.geo.valid_cluster(item.entry.cluster(self.kind())) {
            return Err(Errno::EIO);
        }
        let id = self.id_of(g, item);
        let n = Node::new(
            id,
            is_dir,
            NodeState {
                place: Some(item.place),
                parent: Some(parent.clone()),
                entry: item.entry,
                unlinked: false,
                doomed: 0,
                zombie: false,
                cursor: Default::default(),
            },
            self.deferred.clone(),
            Charge::new(NODE_COST)?,
        );
        if g.live.len() > 64 && g.live.len().is_power_of_two() {
            g.live.retain(|_, w| w.strong_count() > 0);
        }
        g.live.insert(key, Arc::downgrade(&n));
        Ok(n)
    }

    /// The node in use at `place`, if any.
    pub fn live_at(&self, g: &Inner, place: &Place) -> Option<Arc<Node>> {
        g.live.get(&place.key()).and_then(Weak::upgrade)
    }

    /// Forgets the table entries of the entry at `place` (its node is
    /// `live`, if in use), as the entry goes away.
    pub fn forget(
        &self,
        g: &mut Inner,
        place: &Place,
        id: u64,
        is_dir: bool,
        live: Option<&Arc<Node>>,
    ) {
        g.live.remove(&place.key());
        if g.renamed.remove(&place.key()).is_some() {
            g.ids_charge.shrink(ID_COST);
        }
        if is_dir {
            return;
        }
        match live {
            Some(n) => {
                // In use: its number stays taken until the node goes.
                if id == derived_id(place) {
                    carry(g, id);
                }
                n.st.lock().zombie = true;
            }
            None => uncarry(g, id),
        }
    }

    /// Puts node `n` in the table at its new place.
    pub fn relive(&self, g: &mut Inner, to: &Place, n: &Arc<Node>) {
        g.live.insert(to.key(), Arc::downgrade(n));
    }

    /// Records that the file numbered `id` now has its entry at `place`.
    pub fn moved(&self, g: &mut Inner, id: u64, to: &Place) -> KResult<()> {
        if id != derived_id(to) {
            if g.renamed.insert(to.key(), id).is_none() {
                g.ids_charge.grow(ID_COST)?;
            }
            carry(g, id);
        }
        Ok(())
    }

    /// A new file's entry went to `place`: if its derived number is
    /// carried by another file, it gets a fresh one. Returns its number.
    pub fn born(&self, g: &mut Inner, place: &Place, is_dir: bool, cluster: u32) -> KResult<u64> {
        if is_dir {
            return Ok(dir_id(cluster, self.geo.root_cluster));
        }
        let id = derived_id(place);
        if !g.carried.contains_key(&id) {
            return Ok(id);
        }
        let fresh = g.next_fresh;
        g.next_fresh += 1;
        g.ids_charge.grow(ID_COST)?;
        g.renamed.insert(place.key(), fresh);
        Ok(fresh)
    }

    /// A short name for `name` that no entry of `items` has, and whether
    /// a long name must go with it.
    pub fn unique_short(
        &self,
        g: &Inner,
        items: &[Item],
        name: &[u8],
    ) -> KResult<(ShortName, bool)> {
        let (s, fit) = short_name(name, 0).ok_or(Errno::EINVAL)?;
        let long = g.opts.long_names() && fit != Fit::Exact;
        if fit != Fit::Lossy && !short_taken(items, &s) {
            return Ok((s, long));
        }
        for gen in 1..=999_999 {
            let Some((s, _)) = short_name(name, gen) else {
                break;
            };
            if !short_taken(items, &s) {
                return Ok((s, long));
            }
        }
        Err(Errno::EEXIST)
    }

    /// The slots of an entry named `name` with short entry `e` (whose
    /// name is set here).
    pub fn slots_for(
        &self,
        g: &Inner,
        items: &[Item],
        name: &[u8],
        mut e: ShortEntry,
    ) -> KResult<Vec<[u8; SLOT]>> {
        let units = to_utf16(name).ok_or(Errno::ENAMETOOLONG)?;
        let (short, long) = self.unique_short(g, items, name)?;
        e.set_name(short);
        e.set_case_bits(0);
        let mut slots = if long {
            lfn_slots(&units, checksum(&short))
        } else {
            Vec::new()
        };
        slots.push(e.0);
        Ok(slots)
    }

    /// Sets the modification time of directory `dir` to now (the root has
    /// no entry to keep it in).
    pub fn touch_dir(&self, g: &Inner, dir: &Node) -> KResult<()> {
        let mut st = dir.st.lock();
        let Some(place) = st.place else {
            return Ok(());
        };
        let t = to_dos(now(), g.opts.gmtoff);
        st.entry.set_mtime(t);
        if g.opts.win95() {
            st.entry.set_adate(t);
        }
        let a = st.entry.attr() | ATTR_ARCHIVE;
        st.entry.set_attr(a);
        self.write_entry(&g.fat, &place, &st.entry)
    }

    /// Finds `name` in directory `dir`: its directory buffer, listing
    /// and entry.
    fn find_in(
        &self,
        g: &Inner,
        dir: &Node,
        name: &[u8],
    ) -> KResult<(DirBuf, Vec<Item>, Option<Item>)> {
        if dir.st.lock().unlinked {
            return Ok((
                DirBuf {
                    loc: DirLoc::Root,
                    bytes: Vec::new(),
                    clusters: Vec::new(),
                },
                Vec::new(),
                None,
            ));
        }
        let buf = self.read_dir(&g.fat, self.loc_of(dir)?)?;
        let items = self.listing(g, &buf);
        let hit = find(&items, name).cloned();
        Ok((buf, items, hit))
    }

    pub fn lookup(&self, dir: &Arc<Node>, name: &[u8]) -> KResult<Arc<Node>> {
        if !dir.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let mut g = self.lock()?;
        if name == b".." {
            return Ok(dir.st.lock().parent.clone().unwrap_or_else(|| dir.clone()));
        }
        if name == b"." {
            return Ok(dir.clone());
        }
        let (_, _, hit) = self.find_in(&g, dir, name)?;
        let item = hit.ok_or(Errno::ENOENT)?;
        self.node_of(&mut g, dir, &item)
    }

    /// A new entry `name` in `dir` with attributes `attr` and first
    /// cluster `cluster`.
    fn add(
        &self,
        g: &mut Inner,
        dir: &Arc<Node>,
        name: &[u8],
        attr: u8,
        cluster: u32,
    ) -> KResult<Arc<Node>> {
        let (mut buf, items, hit) = self.find_in(g, dir, name)?;
        if dir.st.lock().unlinked {
            return Err(Errno::ENOENT);
        }
        if hit.is_some() {
            return Err(Errno::EEXIST);
        }
        let mut e = ShortEntry::new(*b"           ", attr);
        let t = to_dos(now(), g.opts.gmtoff);
        e.set_mtime(t);
        if g.opts.win95() {
            e.set_adate(t);
            e.set_ctime(t);
        }
        e.set_cluster(cluster, self.kind());
        let slots = self.slots_for(g, &items, name, e)?;
        let e = ShortEntry(slots[slots.len() - 1]);
        let place = self.add_slots(&mut g.fat, &mut buf, &slots)?;
        let id = self.born(g, &place, attr & ATTR_DIRECTORY != 0, cluster)?;
        self.touch_dir(g, dir)?;
        let item = Item {
            name: name.to_vec(),
            entry: e,
            place,
            long: true,
        };
        let n = self.node_of(g, dir, &item)?;
        debug_assert_eq!(n.id, id);
        Ok(n)
    }

    /// Creates the regular file `name` (other types are EINVAL, as
    /// NetBSD's msdosfs has them); read-only unless `mode` has the owner's
    /// write bit.
    pub fn create(&self, dir: &Arc<Node>, name: &[u8], mode: u32) -> KResult<Arc<Node>> {
        let mut g = self.lock_rw()?;
        let (_, _, hit) = self.find_in(&g, dir, name)?;
        if hit.is_some() {
            return Err(Errno::EEXIST);
        }
        if VType::from_mode(mode) != VType::Reg {
            return Err(Errno::EINVAL);
        }
        let attr = if mode & 0o200 != 0 {
            ATTR_ARCHIVE
        } else {
            ATTR_ARCHIVE | ATTR_READONLY
        };
        let r = self.add(&mut g, dir, name, attr, 0);
        self.commit(&mut g)?;
        r
    }

    /// Creates directory `name`: one zeroed cluster with `.` and `..`.
    pub fn mkdir(&self, dir: &Arc<Node>, name: &[u8]) -> KResult<Arc<Node>> {
        let mut g = self.lock_rw()?;
        let (_, _, hit) = self.find_in(&g, dir, name)?;
        if hit.is_some() {
            return Err(Errno::EEXIST);
        }
        let r = self.mkdir_locked(&mut g, dir, name);
        self.commit(&mut g)?;
        r
    }

    fn mkdir_locked(&self, g: &mut Inner, dir: &Arc<Node>, name: &[u8]) -> KResult<Arc<Node>> {
        let c = g.fat.alloc(1, None)?[0];
        let made = (|| {
            let parent_cluster = match self.loc_of(dir)? {
                DirLoc::Chain(p) if p != self.geo.root_cluster || self.kind() != FatType::Fat32 => {
                    p
                }
                _ => 0,
            };
            let mut block = vec![0u8; self.geo.csize as usize];
            let t = to_dos(now(), g.opts.gmtoff);
            for (i, (n, cl)) in [(*b".          ", c), (*b"..         ", parent_cluster)]
                .iter()
                .enumerate()
            {
                let mut e = ShortEntry::new(*n, ATTR_DIRECTORY);
                e.set_cluster(*cl, self.kind());
                e.set_mtime(t);
                if g.opts.win95() {
                    e.set_adate(t);
                    e.set_ctime(t);
                }
                block[i * SLOT..(i + 1) * SLOT].copy_from_slice(&e.0);
            }
            self.disk.write(self.geo.cluster_offset(c), &block)?;
            self.add(g, dir, name, ATTR_DIRECTORY, c)
        })();
        if made.is_err() {
            g.fat.free_chain(c);
        }
        made
    }

    /// Removes the file (`want_dir` false) or empty directory named
    /// `name` from `dir`.
    pub fn remove(&self, dir: &Arc<Node>, name: &[u8], want_dir: bool) -> KResult<()> {
        let mut g = self.lock_rw()?;
        let (mut buf, _, hit) = self.find_in(&g, dir, name)?;
        let item = hit.ok_or(Errno::ENOENT)?;
        let is_dir = item.entry.is_dir();
        match (want_dir, is_dir) {
            (false, true) => return Err(Errno::EPERM),
            (true, false) => return Err(Errno::ENOTDIR),
            _ => {}
        }
        if is_dir && !self.dir_is_empty(&g, item.entry.cluster(self.kind()))? {
            return Err(Errno::ENOTEMPTY);
        }
        self.unlink_item(&mut g, &mut buf, &item)?;
        self.touch_dir(&g, dir)?;
        self.commit(&mut g)
    }

    /// Frees the slots of `item` and its clusters (at once, or when its
    /// node goes if it is in use).
    pub fn unlink_item(&self, g: &mut Inner, buf: &mut DirBuf, item: &Item) -> KResult<()> {
        self.free_slots(buf, &item.place)?;
        let id = self.id_of(g, item);
        let live = self.live_at(g, &item.place);
        let cluster = item.entry.cluster(self.kind());
        self.forget(g, &item.place, id, item.entry.is_dir(), live.as_ref());
        match live {
            Some(n) => {
                let mut st = n.st.lock();
                st.unlinked = true;
                st.place = None;
                st.doomed = cluster;
            }
            None => {
                if cluster != 0 {
                    g.fat.free_chain(cluster);
                }
            }
        }
        Ok(())
    }

    /// Whether the directory at cluster `c` has nothing but `.` and `..`.
    pub fn dir_is_empty(&self, g: &Inner, c: u32) -> KResult<bool> {
        if !self.geo.valid_cluster(c) {
            return Err(Errno::EIO);
        }
        let buf = self.read_dir(&g.fat, DirLoc::Chain(c))?;
        for i in 0..buf.slots() {
            let s = buf.slot(i);
            if s[0] == SLOT_END {
                break;
            }
            if s[0] == SLOT_DELETED || s[11] == ATTR_LFN || s[0] == b'.' {
                continue;
            }
            if s[11] & 0x08 != 0 {
                continue;
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// Entries of `dir` from `cookie`: 0 is `.`, 1 is `..`, then 2 plus
    /// the slot to go on from, and [`EOF_COOKIE`] past the last entry.
    pub fn readdir(&self, dir: &Arc<Node>, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        if !dir.is_dir {
            return Err(Errno::ENOTDIR);
        }
        let g = self.lock()?;
        let mut out = Vec::new();
        let dt_dir = VType::Dir.dtype();
        if cookie <= 0 && out.len() < max {
            out.push(DirEntry {
                fileno: dir.id,
                dtype: dt_dir,
                name: b".".to_vec().into(),
                next: 1,
            });
        }
        if cookie <= 1 && out.len() < max {
            let up = dir.st.lock().parent.as_ref().map_or(dir.id, |p| p.id);
            out.push(DirEntry {
                fileno: up,
                dtype: dt_dir,
                name: b"..".to_vec().into(),
                next: 2,
            });
        }
        if dir.st.lock().unlinked || out.len() >= max {
            return Ok(out);
        }
        if cookie == EOF_COOKIE {
            return Ok(out);
        }
        let from = (cookie.max(2) - 2) as u32;
        let buf = self.read_dir(&g.fat, self.loc_of(dir)?)?;
        let items = self.listing(&g, &buf);
        let last = items.last().map(|it| it.place.slot);
        for it in items {
            if it.place.slot < from {
                continue;
            }
            if out.len() >= max {
                break;
            }
            // After the last entry, reading is over: entries added later
            // are for the next reader.
            let next = if Some(it.place.slot) == last {
                EOF_COOKIE
            } else {
                i64::from(it.place.slot) + 3
            };
            out.push(DirEntry {
                fileno: self.id_of(&g, &it),
                dtype: if it.entry.is_dir() {
                    dt_dir
                } else {
                    VType::Reg.dtype()
                },
                name: it.name.into(),
                next,
            });
        }
        Ok(out)
    }

    /// The size a node shows: a file's size, a directory's clusters.
    fn shown_size(&self, g: &Inner, n: &Node, e: &ShortEntry) -> u64 {
        if !n.is_dir {
            return u64::from(e.size());
        }
        match dir_loc(n, self.root_loc, self.kind()) {
            DirLoc::Root => self.geo.root_area().1,
            DirLoc::Chain(c) => {
                let count = g.fat.chain(c, u32::MAX).map_or(0, |v| v.len() as u64);
                count * u64::from(self.geo.csize)
            }
        }
    }

    pub fn getattr(&self, n: &Arc<Node>) -> KResult<Stat> {
        let g = self.lock()?;
        let st = n.st.lock();
        let e = st.entry;
        let perm = if e.attr() & ATTR_READONLY != 0 {
            0o555
        } else {
            0o777
        };
        let (ty, mask) = if n.is_dir {
            (S_IFDIR, g.opts.dirmask)
        } else {
            (S_IFREG, g.opts.mask)
        };
        let mut mode = ty | (perm & mask);
        let mut flags = 0;
        if e.attr() & ATTR_ARCHIVE == 0 {
            mode |= S_ARCH1;
            flags |= SF_ARCHIVED;
        }
        let gmt = g.opts.gmtoff;
        let mtime = from_dos(e.mtime(), gmt);
        let (atime, ctime) = if g.opts.long_names() && !n.is_root() {
            (from_dos(e.adate(), gmt), from_dos(e.ctime(), gmt))
        } else {
            (mtime, mtime)
        };
        drop(st);
        let size = self.shown_size(&g, n, &e);
        let cs = u64::from(self.geo.csize);
        Ok(Stat {
            dev: self.fsid,
            mode,
            ino: n.id,
            nlink: if n.st.lock().unlinked { 0 } else { 1 },
            uid: g.opts.uid,
            gid: g.opts.gid,
            rdev: 0,
            atime,
            mtime,
            ctime,
            birthtime: ctime,
            size: size as i64,
            blocks: (size.div_ceil(cs) * cs / 512) as i64,
            blksize: cs as i32,
            flags,
            gen: 0,
        })
    }

    /// chmod (the owner's write bit is the read-only attribute), chown
    /// (EINVAL unless to the mount's owner and group), times, size and
    /// the archived flag, as NetBSD's msdosfs_setattr; directories take
    /// none of it (silently).
    pub fn setattr(&self, n: &Arc<Node>, a: &SetAttr) -> KResult<()> {
        let mut g = self.lock()?;
        if a.uid.into_option().is_some_and(|u| u != g.opts.uid)
            || a.gid.into_option().is_some_and(|x| x != g.opts.gid)
        {
            return Err(Errno::EINVAL);
        }
        if n.is_dir {
            if a.size.is_some() {
                return Err(Errno::EISDIR);
            }
            return Ok(());
        }
        let changes = a.size.is_some()
            || a.atime.is_some()
            || a.mtime.is_some()
            || a.mode.is_some()
            || a.flags.is_some();
        if !changes {
            return Ok(());
        }
        if g.readonly {
            return Err(Errno::EROFS);
        }
        if let Some(size) = a.size.into_option() {
            self.truncate_locked(&mut g, n, size)?;
        }
        let mut st = n.st.lock();
        let gmt = g.opts.gmtoff;
        if let Some(t) = a.atime.into_option() {
            if g.opts.win95() {
                st.entry.set_adate(to_dos(t, gmt));
            }
        }
        if let Some(t) = a.mtime.into_option() {
            st.entry.set_mtime(to_dos(t, gmt));
        }
        if a.atime.is_some() || a.mtime.is_some() {
            let attr = st.entry.attr() | ATTR_ARCHIVE;
            st.entry.set_attr(attr);
        }
        if let Some(m) = a.mode.into_option() {
            let attr = if m & 0o200 != 0 {
                st.entry.attr() & !ATTR_READONLY
            } else {
                st.entry.attr() | ATTR_READONLY
            };
            st.entry.set_attr(attr);
        }
        if let Some(f) = a.flags.into_option() {
            let attr = if f & SF_ARCHIVED != 0 {
                st.entry.attr() & !ATTR_ARCHIVE
            } else {
                st.entry.attr() | ATTR_ARCHIVE
            };
            st.entry.set_attr(attr);
        }
        if let Some(p) = st.place {
            self.write_entry(&g.fat, &p, &st.entry)?;
        }
        drop(st);
        self.commit(&mut g)
    }

    pub fn statvfs(&self) -> KResult<FsStats> {
        let g = self.lock()?;
        let cs = u64::from(self.geo.csize);
        let free = u64::from(g.fat.free_count());
        Ok(FsStats {
            bsize: cs,
            frsize: cs,
            iosize: cs,
            blocks: u64::from(self.geo.nclusters),
            bfree: free,
            bavail: free,
            bresvd: 0,
            files: u64::from(self.geo.root_ents),
            ffree: 0,
            favail: 0,
            fresvd: 0,
            namemax: if g.opts.long_names() { 255 } else { 12 },
        })
    }

    /// Writes everything out.
    pub fn sync(&self) -> KResult<()> {
        let mut g = self.lock()?;
        if g.readonly {
            return Ok(());
        }
        self.commit(&mut g)?;
        self.disk.flush()
    }

    /// Gives back the clusters of unlinked nodes still in use, writes
    /// everything out and refuses further work.
    pub fn unmount(&self) -> KResult<()> {
        let mut g = self.inner.lock();
        if g.dead {
            return Ok(());
        }
        self.run_deferred(&mut g);
        if !g.readonly {
            let live: Vec<Arc<Node>> = g.live.values().filter_map(Weak::upgrade).collect();
            for n in live {
                let mut st = n.st.lock();
                if st.doomed != 0 {
                    g.fat.free_chain(st.doomed);
                    st.doomed = 0;
                }
            }
            self.commit(&mut g)?;
            self.disk.flush()?;
        }
        g.dead = true;
        g.live.clear();
        g.renamed.clear();
        drop(g);
        self.root.lock().take();
        Ok(())
    }

    /// Whether the volume was unmounted.
    pub fn is_dead(&self) -> bool {
        self.inner.lock().dead
    }
}

fn carry(g: &mut Inner, id: u64) {
    *g.carried.entry(id).or_insert(0) += 1;
}

fn uncarry(g: &mut Inner, id: u64) {
    if let Some(c) = g.carried.get_mut(&id) {
        *c -= 1;
        if *c == 0 {
            g.carried.remove(&id);
        }
    }
}

/// NetBSD's test for Win95 long names on a FAT12/16 volume: the first
/// entry of the root that is not free or deleted has long-name slots
/// before it.
fn has_win95_names(root: &[u8]) -> bool {
    let mut win = false;
    for s in root.chunks_exact(SLOT) {
        match s[0] {
            SLOT_END => return win,
            SLOT_DELETED => {
                win = false;
                continue;
            }
            _ => {}
        }
        if s[11] == ATTR_LFN {
            win = true;
            continue;
        }
        return win;
    }
    win
}
