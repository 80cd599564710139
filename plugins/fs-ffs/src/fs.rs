//! A mounted FFS: its in-core inodes, and the operations on names and
//! files that the vnodes delegate to.
//!
//! Locks, outermost first: `ns` (every change to a directory's entries,
//! so renames and removals see a stable tree), an inode's `d` (its
//! attributes, block pointers and data), and the leaves: the inode
//! table, the allocator, and the inode-sector lock. A thread holds at
//! most one inode lock at a time, except for a new inode nobody else
//! can see.
//!
//! An inode whose last link is gone is freed when its last in-core
//! reference goes (an open file stays readable after unlink): its drop
//! queues it and the next operation, sync or unmount frees its blocks
//! and its inode.

use crate::alloc::Alloc;
use crate::core::Core;
use crate::dir::{self, DirIndex, Entry};
use crate::file;
use crate::inode::{Dinode, IFDIR, IFLNK, IFMT};
use crate::mem::{Mem, INODE_COST};
use crate::superblock::{Superblock, FS_ISCLEAN, FS_WASCLEAN, ROOTINO};
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::stat::{Stat, Timespec};
use rump_plugin_api::kernel;
use rump_plugin_api::vfs::{DirEntry, FsStats, SetAttr, VType};
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

/// Most links a file may have.
pub const LINK_MAX: u16 = 32767;
const NAME_MAX: usize = 255;
/// Longest symbolic link target.
const SYMLINK_MAX: u64 = 1024;
/// Flags that forbid changes (UF_/SF_ IMMUTABLE and APPEND).
const NOCHANGE: u32 = 0x0000_0002 | 0x0000_0004 | 0x0002_0000 | 0x0004_0000;

type Reaper = Mutex<Vec<(u32, Dinode)>>;

/// A directory's index slot, shared by every in-core inode of it.
pub type IndexSlot = Arc<Mutex<Option<DirIndex>>>;

/// The index slots of directories, by inode number with the generation
/// they belong to: an index outlives the in-core inode, which goes as
/// soon as no vnode holds it.
type Indexes = Mutex<HashMap<u32, (u32, IndexSlot)>>;

/// Slots kept beyond this many are dropped when no inode uses them.
const KEPT_INDEXES: usize = 64;

/// An inode in memory.
pub struct Inode {
    pub ino: u32,
    pub d: RwLock<Dinode>,
    /// A big directory's index (see [`dir::DirIndex`]); lock it after `d`.
    pub ix: IndexSlot,
    reaper: Arc<Reaper>,
    mem: Arc<Mem>,
}

impl Drop for Inode {
    fn drop(&mut self) {
        let d = self.d.get_mut();
        if d.nlink == 0 && d.mode != 0 {
            self.reaper.lock().push((self.ino, d.clone()));
        }
        self.mem.release(INODE_COST);
    }
}

impl Inode {
    pub fn vtype(&self) -> VType {
        VType::from_mode(u32::from(self.d.read().mode))
    }
}

/// A mounted file system.
pub struct Fs {
    pub core: Core,
    pub fsid: u64,
    ro: AtomicBool,
    dead: AtomicBool,
    inodes: Mutex<HashMap<u32, Weak<Inode>>>,
    reaper: Arc<Reaper>,
    indexes: Arc<Indexes>,
    pub ns: Mutex<()>,
    pub mem: Arc<Mem>,
    pub source: String,
}

fn now_for(d: &Dinode) -> Timespec {
    d.clamp_time(Timespec::now())
}

fn dtype_of(mode: u16) -> u8 {
    ((mode & IFMT) >> 12) as u8
}

fn check_name(name: &[u8]) -> KResult<()> {
    if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Fs {
    pub fn new(core: Core, fsid: u64, ro: bool, mem: Arc<Mem>, source: String) -> Arc<Fs> {
        Arc::new(Fs {
            core,
            fsid,
            ro: AtomicBool::new(ro),
            dead: AtomicBool::new(false),
            inodes: Mutex::new(HashMap::new()),
            reaper: Arc::new(Mutex::new(Vec::new())),
            indexes: Arc::new(Mutex::new(HashMap::new())),
            ns: Mutex::new(()),
            mem,
            source,
        })
    }

    pub fn geo(&self) -> &Superblock {
        &self.core.geo
    }

    pub fn alive(&self) -> KResult<()> {
        if self.dead.load(Ordering::Acquire) {
            Err(Errno::EIO)
        } else {
            Ok(())
        }
    }

    pub fn readonly(&self) -> bool {
        self.ro.load(Ordering::Acquire)
    }

    pub fn writable(&self) -> KResult<()> {
        self.alive()?;
        if self.readonly() {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// Reads inode `ino` from disk.
    fn read_dinode(&self, ino: u32) -> KResult<Dinode> {
        let geo = &self.core.geo;
        if u64::from(ino) >= geo.max_ino() || ino < 1 {
            return Err(Errno::EIO);
        }
        if geo.ufs2 {
            // Inode blocks a UFS2 group never initialised read as zeros.
            let c = geo.ino_to_cg(ino);
            let inited = {
                let mut a = self.core.alloc.lock();
                a.initediblk(&self.core.disk, c)?
            };
            if ino % geo.ipg >= inited {
                return Ok(Dinode::empty(true));
            }
        }
        let off = geo.ino_offset(ino);
        let sector = off / 512 * 512;
        let b = self.core.disk.read(sector, 512)?;
        let s = (off - sector) as usize;
        Ok(Dinode::decode(&b[s..s + geo.isize() as usize], geo.ufs2))
    }

    /// Writes `d` as inode `ino`.
    pub fn store(&self, ino: u32, d: &Dinode) -> KResult<()> {
        let geo = &self.core.geo;
        let off = geo.ino_offset(ino);
        let sector = off / 512 * 512;
        let _g = self.core.itable.lock();
        let mut b = self.core.disk.read(sector, 512)?;
        let s = (off - sector) as usize;
        let enc = d.encode();
        b[s..s + enc.len()].copy_from_slice(&enc);
        self.core.disk.write(sector, &b)
    }

    /// The index slot of directory `ino` of generation `gen` (a slot of
    /// an earlier directory of that number is dropped).
    fn index_slot(&self, ino: u32, gen: u32) -> IndexSlot {
        let mut kept = self.indexes.lock();
        if let Some((g, slot)) = kept.get(&ino) {
            if *g == gen {
                return slot.clone();
            }
        }
        if kept.len() >= KEPT_INDEXES {
            kept.retain(|_, (_, slot)| Arc::strong_count(slot) > 1);
        }
        let slot = IndexSlot::default();
        kept.insert(ino, (gen, slot.clone()));
        slot
    }

    fn make_inode(&self, ino: u32, d: Dinode) -> KResult<Arc<Inode>> {
        self.mem.reserve(INODE_COST)?;
        let ix = if d.is_dir() {
            self.index_slot(ino, d.gen)
        } else {
            IndexSlot::default()
        };
        Ok(Arc::new(Inode {
            ino,
            d: RwLock::new(d),
            ix,
            reaper: self.reaper.clone(),
            mem: self.mem.clone(),
        }))
    }

    /// The in-core inode `ino`, read if need be. EIO for an inode that
    /// is not in use or out of range.
    pub fn iget(&self, ino: u32) -> KResult<Arc<Inode>> {
        let mut map = self.inodes.lock();
        if let Some(ip) = map.get(&ino).and_then(Weak::upgrade) {
            return Ok(ip);
        }
        let d = self.read_dinode(ino)?;
        if d.mode == 0 || VType::from_mode(u32::from(d.mode)) == VType::Non {
            kernel::warn(&format!(
                "ffs: inode {ino} is not in use (mode {:o})",
                d.mode
            ));
            return Err(Errno::EIO);
        }
        let fs_bytes = self.core.geo.fsb_bytes(self.core.geo.size);
        if d.is_dir() && (d.size < crate::superblock::DIRBLKSIZ || d.size > fs_bytes) {
            kernel::warn(&format!(
                "ffs: directory inode {ino} has a bad size {}",
                d.size
            ));
            return Err(Errno::EIO);
        }
        let ip = self.make_inode(ino, d)?;
        if map.len() > 256 && map.len() % 256 == 0 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        map.insert(ino, Arc::downgrade(&ip));
        Ok(ip)
    }

    pub fn root(&self) -> KResult<Arc<Inode>> {
        self.iget(ROOTINO)
    }

    /// Frees the inodes queued by their last drop.
    pub fn reap(&self) {
        loop {
            let next = self.reaper.lock().pop();
            let Some((ino, mut d)) = next else { return };
            if self.writable().is_err() {
                continue;
            }
            if self
                .inodes
                .lock()
                .get(&ino)
                .is_some_and(|w| w.strong_count() > 0)
            {
                continue;
            }
            if let Err(e) = self.free_inode(ino, &mut d) {
                kernel::warn(&format!("ffs: freeing inode {ino}: {e}"));
            }
        }
    }

    fn free_inode(&self, ino: u32, d: &mut Dinode) -> KResult<()> {
        let dir = d.is_dir();
        let fast_link =
            d.is_lnk() && d.size < u64::from(self.core.geo.maxsymlinklen) && d.blocks == 0;
        if fast_link {
            d.clear_pointers();
            d.size = 0;
        } else {
            file::set_size(&self.core, ino, d, 0)?;
        }
        // UFS2 extended attribute blocks.
        let bsz = self.core.bsize();
        for i in 0..2 {
            let at = d.extb[i];
            if at == 0 {
                continue;
            }
            let left = u64::from(d.extsize).saturating_sub(i as u64 * bsz);
            let n = if left >= bsz {
                self.core.frag()
            } else {
                self.core.geo.fragroundup(left.max(1)) / self.core.fsize()
            };
            self.core.alloc.lock().free(&self.core.disk, at, n)?;
            d.extb[i] = 0;
        }
        d.extsize = 0;
        d.mode = 0;
        d.blocks = 0;
        d.size = 0;
        d.clear_pointers();
        self.store(ino, d)?;
        self.core.alloc.lock().free_inode(&self.core.disk, ino, dir)
    }

    /// Attributes for stat.
    pub fn stat(&self, ip: &Inode) -> Stat {
        let d = ip.d.read();
        let vt = VType::from_mode(u32::from(d.mode));
        Stat {
            dev: self.fsid,
            mode: u32::from(d.mode),
            ino: u64::from(ip.ino),
            nlink: u32::from(d.nlink),
            uid: d.uid,
            gid: d.gid,
            rdev: if matches!(vt, VType::Blk | VType::Chr) {
                d.rdev()
            } else {
                0
            },
            atime: d.atime,
            mtime: d.mtime,
            ctime: d.ctime,
            birthtime: if d.ufs2 {
                d.birthtime
            } else {
                Timespec { sec: -1, nsec: 0 }
            },
            size: d.size as i64,
            blocks: d.blocks as i64,
            blksize: self.core.geo.bsize as i32,
            flags: d.flags,
            gen: d.gen,
        }
    }

    pub fn setattr(&self, ip: &Inode, sa: &SetAttr) -> KResult<()> {
        self.writable()?;
        let mut d = ip.d.write();
        let now = now_for(&d);
        let r = self.setattr_locked(ip.ino, &mut d, sa, now);
        let s = self.store(ip.ino, &d);
        r.and(s)
    }

    fn setattr_locked(&self, ino: u32, d: &mut Dinode, sa: &SetAttr, now: Timespec) -> KResult<()> {
        let locked = d.flags & NOCHANGE != 0;
        if let Some(flags) = sa.flags.into_option() {
            d.flags = flags;
            d.ctime = now;
        }
        if let Some(size) = sa.size.into_option() {
            match VType::from_mode(u32::from(d.mode)) {
                VType::Dir => return Err(Errno::EISDIR),
                VType::Reg => {
                    if locked {
                        return Err(Errno::EPERM);
                    }
                    if size != d.size {
                        file::set_size(&self.core, ino, d, size)?;
                    }
                    d.mtime = now;
                    d.ctime = now;
                }
                VType::Blk | VType::Chr | VType::Fifo => {}
                _ => return Err(Errno::EOPNOTSUPP),
            }
        }
        let uid = sa.uid.into_option().filter(|&u| u != u32::MAX);
        let gid = sa.gid.into_option().filter(|&g| g != u32::MAX);
        if uid.is_some() || gid.is_some() {
            if locked {
                return Err(Errno::EPERM);
            }
            d.uid = uid.unwrap_or(d.uid);
            d.gid = gid.unwrap_or(d.gid);
            d.ctime = now;
        }
        if let Some(mode) = sa.mode.into_option() {
            if locked {
                return Err(Errno::EPERM);
            }
            d.mode = (d.mode & IFMT) | (mode & 0o7777) as u16;
            d.ctime = now;
        }
        let times = [&sa.atime, &sa.mtime, &sa.birthtime];
        if times.iter().any(|t| t.is_some()) {
            if locked {
                return Err(Errno::EPERM);
            }
            let pick = |t: Option<Timespec>, old: Timespec| match t {
                Some(t) if t.nsec == Timespec::UTIME_OMIT => old,
                Some(t) if t.nsec == Timespec::UTIME_NOW => now,
                Some(t) => d.clamp_time(t),
                None => old,
            };
            let atime = pick(sa.atime.into_option(), d.atime);
            let mtime = pick(sa.mtime.into_option(), d.mtime);
            let birth = pick(sa.birthtime.into_option(), d.birthtime);
            d.atime = atime;
            d.mtime = mtime;
            if d.ufs2 {
                d.birthtime = birth;
                if sa.mtime.is_some() && d.birthtime > d.mtime {
                    d.birthtime = d.mtime;
                }
            }
            d.ctime = now;
        }
        Ok(())
    }

    pub fn read(&self, ip: &Inode, off: u64, len: usize) -> KResult<Vec<u8>> {
        let d = ip.d.read();
        match VType::from_mode(u32::from(d.mode)) {
            VType::Dir => return Err(Errno::EISDIR),
            VType::Reg | VType::Lnk => {}
            _ => return Err(Errno::EOPNOTSUPP),
        }
        file::read(&self.core, &d, off, len)
    }

    /// Writes and returns (bytes written, end offset).
    pub fn write(&self, ip: &Inode, off: u64, data: &[u8], append: bool) -> KResult<(u64, u64)> {
        self.writable()?;
        let mut d = ip.d.write();
        match VType::from_mode(u32::from(d.mode)) {
            VType::Dir => return Err(Errno::EISDIR),
            VType::Reg => {}
            _ => return Err(Errno::EOPNOTSUPP),
        }
        if d.flags & NOCHANGE != 0 && !(append && d.flags & (0x4 | 0x4_0000) != 0) {
            return Err(Errno::EPERM);
        }
        let off = if append { d.size } else { off };
        let r = file::write(&self.core, ip.ino, &mut d, off, data);
        if matches!(r, Ok(n) if n > 0) {
            let now = now_for(&d);
            d.mtime = now;
            d.ctime = now;
            // A write by anyone clears set-id bits, as NetBSD does for
            // unprivileged writers; the VFS runs writes as root, so keep them.
        }
        let s = self.store(ip.ino, &d);
        let n = r?;
        s?;
        Ok((n, off + n))
    }

    pub fn readlink(&self, ip: &Inode) -> KResult<Vec<u8>> {
        let d = ip.d.read();
        if !d.is_lnk() {
            return Err(Errno::EINVAL);
        }
        if d.size > SYMLINK_MAX * 4 {
            return Err(Errno::EIO);
        }
        let fast = d.size < u64::from(self.core.geo.maxsymlinklen) && d.blocks == 0;
        if fast {
            Ok(d.pointer_area()[..d.size as usize].to_vec())
        } else {
            file::read(&self.core, &d, 0, d.size as usize)
        }
    }

    pub fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Arc<Inode>> {
        let ino = {
            let d = dir.d.read();
            if !d.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if name == b"." {
                return self.iget(dir.ino);
            }
            self.find_entry(dir, &d, name)?.ok_or(Errno::ENOENT)?.ino
        };
        self.iget(ino)
    }

    pub fn readdir(&self, dir: &Inode, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        let d = dir.d.read();
        if !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let cookie = u64::try_from(cookie).map_err(|_| Errno::EINVAL)?;
        let es = dir::list(&self.core, &d, cookie, max.max(1))?;
        Ok(es
            .into_iter()
            .map(|e: Entry| DirEntry {
                fileno: u64::from(e.ino),
                dtype: e.dtype,
                next: (e.off + u64::from(e.reclen)) as i64,
                name: e.name.into(),
            })
            .collect())
    }

    /// Makes a new inode of `mode` for an entry in `dir` (whose
    /// attributes are `pd`).
    fn new_inode(&self, dir_ino: u32, pd: &Dinode, mode: u16, nlink: u16) -> KResult<Arc<Inode>> {
        let is_dir = mode & IFMT == IFDIR;
        let geo = &self.core.geo;
        let pcg = geo.ino_to_cg(dir_ino);
        let ino = {
            let mut a = self.core.alloc.lock();
            let cg = if is_dir {
                a.dirpref(pcg, dir_ino == ROOTINO)
            } else {
                pcg
            };
            a.alloc_inode(&self.core.disk, cg, is_dir)?
        };
        let old = self.read_dinode(ino)?;
        if old.mode != 0 {
            kernel::warn(&format!(
                "ffs: allocated inode {ino} is in use (mode {:o})",
                old.mode
            ));
            return Err(Errno::EIO);
        }
        let mut d = Dinode::empty(geo.ufs2);
        d.raw = old.raw.clone();
        d = Dinode::decode(&d.raw, geo.ufs2);
        d.clear_pointers();
        d.extsize = 0;
        d.extb = [0; 2];
        d.size = 0;
        d.blocks = 0;
        d.flags = 0;
        d.gen = if old.gen == 0 || old.gen == u32::MAX {
            self.core.alloc.lock().random() | 1
        } else {
            old.gen + 1
        };
        d.mode = mode;
        d.nlink = nlink;
        d.uid = 0;
        d.gid = pd.gid;
        let now = now_for(&d);
        d.atime = now;
        d.mtime = now;
        d.ctime = now;
        d.birthtime = if geo.ufs2 { now } else { Timespec::default() };
        let ip = self.make_inode(ino, d.clone())?;
        self.store(ino, &d)?;
        self.inodes.lock().insert(ino, Arc::downgrade(&ip));
        Ok(ip)
    }

    /// The record `name` of directory `dir` (its dinode `d`, locked).
    fn find_entry(&self, dir: &Inode, d: &Dinode, name: &[u8]) -> KResult<Option<Entry>> {
        dir::lookup(&self.core, d, name, &mut dir.ix.lock())
    }

    /// Adds `name` -> `target` to directory `dir` (its dinode `pd`).
    fn add_entry(
        &self,
        dir: &Inode,
        pd: &mut Dinode,
        name: &[u8],
        target: u32,
        dtype: u8,
    ) -> KResult<()> {
        dir::add(
            &self.core,
            dir.ino,
            pd,
            name,
            target,
            dtype,
            &mut dir.ix.lock(),
        )
    }

    /// Removes `name` from directory `dir` (its dinode `pd`).
    fn remove_entry(&self, dir: &Inode, pd: &mut Dinode, name: &[u8]) -> KResult<Entry> {
        dir::remove(&self.core, dir.ino, pd, name, &mut dir.ix.lock())
    }

    /// Points `name` of directory `dir` (its dinode `pd`) at `target`.
    fn retarget_entry(
        &self,
        dir: &Inode,
        pd: &mut Dinode,
        name: &[u8],
        target: u32,
        dtype: u8,
    ) -> KResult<()> {
        dir::retarget(
            &self.core,
            dir.ino,
            pd,
            name,
            target,
            dtype,
            &mut dir.ix.lock(),
        )
    }

    fn check_dir_writable(d: &Dinode) -> KResult<()> {
        if !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        if d.flags & NOCHANGE != 0 {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// Creates a non-directory; `fill` runs on the new inode before it
    /// is linked in (symlink targets, device numbers).
    fn create_with(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u16,
        fill: impl FnOnce(&Fs, &Inode, &mut Dinode) -> KResult<()>,
    ) -> KResult<Arc<Inode>> {
        self.writable()?;
        check_name(name)?;
        let _ns = self.ns.lock();
        let mut pd = dir.d.write();
        Self::check_dir_writable(&pd)?;
        if self.find_entry(dir, &pd, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let ip = self.new_inode(dir.ino, &pd, mode, 1)?;
        {
            let mut d = ip.d.write();
            let r = fill(self, &ip, &mut d);
            self.store(ip.ino, &d)?;
            if let Err(e) = r {
                d.nlink = 0;
                return Err(e);
            }
        }
        let r = self.add_entry(dir, &mut pd, name, ip.ino, dtype_of(mode));
        let now = now_for(&pd);
        pd.mtime = now;
        pd.ctime = now;
        self.store(dir.ino, &pd)?;
        if let Err(e) = r {
            ip.d.write().nlink = 0;
            return Err(e);
        }
        Ok(ip)
    }

    pub fn create(&self, dir: &Inode, name: &[u8], mode: u32, rdev: u64) -> KResult<Arc<Inode>> {
        let vt = VType::from_mode(mode);
        if matches!(vt, VType::Dir | VType::Non | VType::Bad) {
            return Err(Errno::EINVAL);
        }
        self.create_with(dir, name, (mode & 0o177777) as u16, |_, _, d| {
            if matches!(vt, VType::Blk | VType::Chr) {
                d.db[0] = if d.ufs2 { rdev } else { u64::from(rdev as u32) };
            }
            Ok(())
        })
    }

    pub fn symlink(
        &self,
        dir: &Inode,
        name: &[u8],
        target: &[u8],
        mode: u32,
    ) -> KResult<Arc<Inode>> {
        if target.len() as u64 >= SYMLINK_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let maxfast = u64::from(self.core.geo.maxsymlinklen);
        let m = (u32::from(IFLNK) | (mode & 0o7777)) as u16;
        self.create_with(dir, name, m, |fs, ip, d| {
            if (target.len() as u64) < maxfast {
                d.set_pointer_area(target);
                d.size = target.len() as u64;
                Ok(())
            } else {
                let n = file::write(&fs.core, ip.ino, d, 0, target)?;
                if n != target.len() as u64 {
                    return Err(Errno::ENOSPC);
                }
                Ok(())
            }
        })
    }

    pub fn mkdir(&self, dir: &Inode, name: &[u8], mode: u32) -> KResult<Arc<Inode>> {
        self.writable()?;
        check_name(name)?;
        let _ns = self.ns.lock();
        let mut pd = dir.d.write();
        Self::check_dir_writable(&pd)?;
        if self.find_entry(dir, &pd, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if pd.nlink >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        let m = IFDIR | (mode & 0o7777) as u16;
        let ip = self.new_inode(dir.ino, &pd, m, 2)?;
        {
            let mut d = ip.d.write();
            let chunk = dir::new_dir_chunk(ip.ino, dir.ino);
            let r = file::write(&self.core, ip.ino, &mut d, 0, &chunk);
            let ok = matches!(r, Ok(n) if n == chunk.len() as u64);
            if !ok {
                d.nlink = 0;
                let _ = self.store(ip.ino, &d);
                return Err(r.err().unwrap_or(Errno::ENOSPC));
            }
            self.store(ip.ino, &d)?;
        }
        let r = self.add_entry(dir, &mut pd, name, ip.ino, dtype_of(m));
        if let Err(e) = r {
            ip.d.write().nlink = 0;
            let _ = self.store(dir.ino, &pd);
            return Err(e);
        }
        pd.nlink += 1;
        let now = now_for(&pd);
        pd.mtime = now;
        pd.ctime = now;
        self.store(dir.ino, &pd)?;
        Ok(ip)
    }

    pub fn link(&self, dir: &Inode, name: &[u8], target: &Inode) -> KResult<()> {
        self.writable()?;
        check_name(name)?;
        let _ns = self.ns.lock();
        {
            let td = target.d.read();
            if td.is_dir() {
                return Err(Errno::EPERM);
            }
            if td.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            if td.nlink >= LINK_MAX {
                return Err(Errno::EMLINK);
            }
            if td.flags & NOCHANGE != 0 {
                return Err(Errno::EPERM);
            }
        }
        let mode = {
            let mut pd = dir.d.write();
            Self::check_dir_writable(&pd)?;
            if self.find_entry(dir, &pd, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            let mode = target.d.read().mode;
            let r = self.add_entry(dir, &mut pd, name, target.ino, dtype_of(mode));
            let now = now_for(&pd);
            pd.mtime = now;
            pd.ctime = now;
            self.store(dir.ino, &pd)?;
            r?;
            mode
        };
        let _ = mode;
        let mut td = target.d.write();
        td.nlink += 1;
        td.ctime = now_for(&td);
        self.store(target.ino, &td)
    }

    /// Drops one link of `ip` (two for a directory, its `.` too).
    fn unlink_inode(&self, ip: &Inode, dir: bool) -> KResult<()> {
        let mut d = ip.d.write();
        if dir {
            d.nlink = 0;
            // Its blocks go with the inode; the size shows it is gone.
        } else {
            d.nlink = d.nlink.saturating_sub(1);
        }
        d.ctime = now_for(&d);
        self.store(ip.ino, &d)
    }

    pub fn remove(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        self.writable()?;
        let _ns = self.ns.lock();
        let victim = {
            let mut pd = dir.d.write();
            Self::check_dir_writable(&pd)?;
            let e = self.find_entry(dir, &pd, name)?.ok_or(Errno::ENOENT)?;
            if e.ino == dir.ino {
                kernel::warn(&format!(
                    "ffs: directory {} lists itself as {:?}",
                    dir.ino,
                    String::from_utf8_lossy(name)
                ));
                return Err(Errno::EIO);
            }
            let victim = self.iget(e.ino)?;
            {
                let vd = victim.d.read();
                if vd.is_dir() {
                    return Err(Errno::EPERM);
                }
                if vd.flags & NOCHANGE != 0 {
                    return Err(Errno::EPERM);
                }
            }
            self.remove_entry(dir, &mut pd, name)?;
            let now = now_for(&pd);
            pd.mtime = now;
            pd.ctime = now;
            self.store(dir.ino, &pd)?;
            victim
        };
        self.unlink_inode(&victim, false)
    }

    pub fn rmdir(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        self.writable()?;
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        let _ns = self.ns.lock();
        let victim = {
            let pd = dir.d.read();
            Self::check_dir_writable(&pd)?;
            let e = self.find_entry(dir, &pd, name)?.ok_or(Errno::ENOENT)?;
            self.iget(e.ino)?
        };
        {
            let vd = victim.d.read();
            if !vd.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if vd.flags & NOCHANGE != 0 {
                return Err(Errno::EPERM);
            }
            if !dir::is_empty(&self.core, &vd)? {
                return Err(Errno::ENOTEMPTY);
            }
        }
        {
            let mut pd = dir.d.write();
            self.remove_entry(dir, &mut pd, name)?;
            pd.nlink = pd.nlink.saturating_sub(1);
            let now = now_for(&pd);
            pd.mtime = now;
            pd.ctime = now;
            self.store(dir.ino, &pd)?;
        }
        self.unlink_inode(&victim, true)
    }

    /// Whether directory `anc` is `ino` or one of its ancestors.
    fn is_ancestor(&self, anc: u32, mut ino: u32) -> KResult<bool> {
        for _ in 0..65536 {
            if ino == anc {
                return Ok(true);
            }
            if ino == ROOTINO {
                return Ok(false);
            }
            let ip = self.iget(ino)?;
            let d = ip.d.read();
            let up = self.find_entry(&ip, &d, b"..")?.ok_or(Errno::EIO)?.ino;
            if up == ino {
                return Err(Errno::EIO);
            }
            ino = up;
        }
        kernel::warn("ffs: directory loop");
        Err(Errno::EIO)
    }

    pub fn rename(&self, sdir: &Inode, from: &[u8], ddir: &Inode, to: &[u8]) -> KResult<()> {
        self.writable()?;
        check_name(to)?;
        if from == b"." || from == b".." || to == b"." || to == b".." {
            return Err(Errno::EINVAL);
        }
        let _ns = self.ns.lock();
        let src = {
            let d = sdir.d.read();
            Self::check_dir_writable(&d)?;
            let e = self.find_entry(sdir, &d, from)?.ok_or(Errno::ENOENT)?;
            self.iget(e.ino)?
        };
        let dst = {
            let d = ddir.d.read();
            Self::check_dir_writable(&d)?;
            match self.find_entry(ddir, &d, to)? {
                Some(e) => Some(self.iget(e.ino)?),
                None => None,
            }
        };
        let (smode, sflags) = {
            let d = src.d.read();
            (d.mode, d.flags)
        };
        let src_dir = smode & IFMT == IFDIR;
        if sflags & NOCHANGE != 0 {
            return Err(Errno::EPERM);
        }
        if let Some(t) = &dst {
            if t.ino == src.ino {
                return Ok(());
            }
            let td = t.d.read();
            if td.flags & NOCHANGE != 0 {
                return Err(Errno::EPERM);
            }
            match (src_dir, td.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dir::is_empty(&self.core, &td)? => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
        }
        let moving_dir = src_dir && sdir.ino != ddir.ino;
        if moving_dir {
            // A directory may not move under itself.
            if self.is_ancestor(src.ino, ddir.ino)? {
                return Err(Errno::EINVAL);
            }
            if dst.is_none() && ddir.d.read().nlink >= LINK_MAX {
                return Err(Errno::EMLINK);
            }
        }
        let dt = dtype_of(smode);
        let dst_dir = dst.as_ref().is_some_and(|t| t.vtype() == VType::Dir);
        if dst
            .as_ref()
            .is_some_and(|t| t.ino == ddir.ino || t.ino == sdir.ino)
            || src.ino == ddir.ino
            || src.ino == sdir.ino
        {
            kernel::warn("ffs: a directory lists itself");
            return Err(Errno::EIO);
        }
        // The new name first, then the old one goes.
        {
            let mut dd = ddir.d.write();
            let r = match &dst {
                Some(_) => self.retarget_entry(ddir, &mut dd, to, src.ino, dt),
                None => self.add_entry(ddir, &mut dd, to, src.ino, dt),
            };
            if r.is_ok() && moving_dir && dst.is_none() {
                dd.nlink += 1;
            }
            if r.is_ok() && dst_dir && !moving_dir {
                // The replaced directory's `..` link to this one goes.
                dd.nlink = dd.nlink.saturating_sub(1);
            }
            let now = now_for(&dd);
            dd.mtime = now;
            dd.ctime = now;
            self.store(ddir.ino, &dd)?;
            r?;
        }
        {
            let mut sd = sdir.d.write();
            let r = self.remove_entry(sdir, &mut sd, from);
            if r.is_ok() && moving_dir {
                sd.nlink = sd.nlink.saturating_sub(1);
            }
            let now = now_for(&sd);
            sd.mtime = now;
            sd.ctime = now;
            self.store(sdir.ino, &sd)?;
            r?;
        }
        if moving_dir {
            let mut d = src.d.write();
            self.retarget_entry(&src, &mut d, b"..", ddir.ino, dtype_of(IFDIR))?;
            d.ctime = now_for(&d);
            self.store(src.ino, &d)?;
        } else {
            let mut d = src.d.write();
            d.ctime = now_for(&d);
            self.store(src.ino, &d)?;
        }
        if let Some(t) = dst {
            self.unlink_inode(&t, dst_dir)?;
        }
        Ok(())
    }

    pub fn fsync(&self, ip: &Inode) -> KResult<()> {
        self.alive()?;
        if self.readonly() {
            return Ok(());
        }
        let d = ip.d.read();
        self.store(ip.ino, &d)?;
        drop(d);
        // The maps, summaries and superblock too: after an fsync the
        // medium holds a consistent file system with the file in it.
        self.core.alloc.lock().flush(&self.core.disk)?;
        self.core.disk.flush()
    }

    pub fn statvfs(&self) -> FsStats {
        let a = self.core.alloc.lock();
        let sb = &a.sb;
        let bfree = sb.free_frags().max(0) as u64;
        let resv = sb.reserved_frags();
        let files = sb.max_ino().saturating_sub(u64::from(ROOTINO));
        let ifree = sb.cstotal.nifree.max(0) as u64;
        FsStats {
            bsize: u64::from(sb.bsize),
            frsize: u64::from(sb.fsize),
            iosize: u64::from(sb.bsize),
            blocks: sb.dsize,
            bfree,
            bavail: bfree.saturating_sub(resv),
            bresvd: resv,
            files,
            ffree: ifree,
            favail: ifree,
            fresvd: 0,
            namemax: NAME_MAX as u64,
        }
    }

    /// Writes the allocation state and superblock out; `clean` marks the
    /// file system clean (unmount, or going read-only).
    pub fn sync(&self, clean: bool) -> KResult<()> {
        self.alive()?;
        if self.readonly() {
            return Ok(());
        }
        self.reap();
        let mut a = self.core.alloc.lock();
        if clean && a.sb.clean & FS_WASCLEAN != 0 {
            a.sb.clean = FS_ISCLEAN;
        }
        a.flush(&self.core.disk)?;
        drop(a);
        self.core.disk.flush()
    }

    /// Unmount: everything out, clean if it was clean when mounted.
    pub fn unmount(&self) -> KResult<()> {
        let r = self.sync(true);
        self.dead.store(true, Ordering::Release);
        self.core.alloc.lock().release_all();
        r
    }

    /// Marks the file system read-only (after a clean sync).
    pub fn set_readonly(&self, ro: bool) {
        self.ro.store(ro, Ordering::Release);
    }

    /// The allocator (tests and the mount code).
    pub fn with_alloc<R>(&self, f: impl FnOnce(&mut Alloc) -> R) -> R {
        f(&mut self.core.alloc.lock())
    }

    /// Marks a read-write mount as in use on disk (not clean).
    pub fn mark_dirty_on_disk(&self, fsmnt: &[u8]) -> KResult<()> {
        let mut a = self.core.alloc.lock();
        a.sb.clean <<= 1;
        a.sb.set_fsmnt(fsmnt);
        a.write_sb(&self.core.disk)?;
        drop(a);
        self.core.disk.flush()
    }
}
