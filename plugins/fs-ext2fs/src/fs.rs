//! One mounted ext2 file system: mounting (every superblock and group
//! descriptor field checked first), in-core inodes, orphans, sync,
//! read-only/read-write changes and unmount.
//!
//! Locking, outermost first:
//!
//! 1. `ns`, the name-space lock: taken exclusively by the operations that
//!    change directories (create, mkdir, symlink, link, remove, rmdir,
//!    rename), by the freeing of orphans, by sync, by changes between
//!    read-only and read-write and by unmount; shared by every other
//!    operation.
//! 2. An inode's state lock. Under a shared `ns` an operation locks one
//!    inode at most; under an exclusive `ns` nothing else holds inode
//!    locks, so several may be taken in any order.
//! 3. The allocator (`alloc`), then the block cache; the inode table map
//!    and the orphan set are leaves.
//!
//! The state flag follows NetBSD: mounting read-write marks the file
//! system not clean (or with errors, if it was not clean before, and
//! says so); unmounting or going read-only marks it clean again unless
//! errors were recorded.

use crate::alloc::AllocState;
use crate::cache::BlockCache;
use crate::dinode::Dinode;
use crate::disk::DiskRef;
use crate::features::{Verdict, RO_COMPAT_HUGE_FILE};
use crate::group::{decode_table, BG_BLOCK_UNINIT, BG_INODE_UNINIT};
use crate::inode::Inode;
use crate::le::{set_u16, set_u32, u16_at};
use crate::mem::{Charge, MemSink, INODE_OVERHEAD};
use crate::superblock::{off, Geometry, SB_OFFSET, SB_SIZE, STATE_CLEAN, STATE_ERRORS};
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::stat::Timespec;
use rump_plugin_api::kernel;
use rump_plugin_api::vfs::FsStats;
use rump_plugin_api::{Errno, KResult};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

/// Most links to one inode (NetBSD's LINK_MAX).
pub const LINK_MAX: u32 = 32767;
/// Longest name in a directory.
pub const NAME_MAX: usize = 255;
/// Bytes of metadata the block cache may hold per mount.
const CACHE_BYTES: usize = 8 << 20;

/// How a mount was asked for.
pub struct MountRequest<'a> {
    pub disk: DiskRef,
    pub fsid: u64,
    pub readonly: bool,
    /// The device path, for messages and statvfs.
    pub source: String,
    /// Where it is mounted, recorded as the last mount point.
    pub on: &'a [u8],
    pub mem: Arc<dyn MemSink>,
}

/// A mounted file system.
pub struct Fs {
    pub geo: Geometry,
    pub fsid: u64,
    pub disk: DiskRef,
    pub cache: BlockCache,
    pub alloc: Mutex<AllocState>,
    pub ns: RwLock<()>,
    /// The first block of each group's inode table (never changes).
    itables: Vec<u64>,
    inodes: Mutex<HashMap<u32, Weak<Inode>>>,
    orphans: Mutex<HashSet<u32>>,
    readonly: AtomicBool,
    dead: AtomicBool,
    pub mem: Arc<dyn MemSink>,
    pub source: String,
    me: Weak<Fs>,
    _gdt_charge: Charge,
}

impl Fs {
    /// Mounts the file system on `req.disk`: EINVAL for what is not a
    /// usable ext2 file system or needs a feature not implemented,
    /// EROFS for a read-write mount of one that may only be read.
    pub fn mount(req: MountRequest<'_>) -> KResult<Arc<Fs>> {
        let src = req.source.clone();
        let refuse = |why: &str, e: Errno| {
            kernel::warn(&format!("ext2fs: {src}: {why}"));
            e
        };
        let size = req.disk.size();
        if size < SB_OFFSET + SB_SIZE as u64 {
            return Err(refuse("device too small for a superblock", Errno::EINVAL));
        }
        let sb = req.disk.read(SB_OFFSET, SB_SIZE)?.into_vec();
        let geo = Geometry::from_super(&sb, size).map_err(|why| refuse(&why, Errno::EINVAL))?;
        match &geo.verdict {
            Verdict::Refused(names) => {
                return Err(refuse(
                    &format!("unsupported incompatible features: {}", names.join(", ")),
                    Errno::EINVAL,
                ))
            }
            Verdict::ReadOnly(names) if !req.readonly => {
                return Err(refuse(
                    &format!(
                        "features only readable, mount read-only: {}",
                        names.join(", ")
                    ),
                    Errno::EROFS,
                ))
            }
            Verdict::ReadOnly(names) => kernel::warn(&format!(
                "ext2fs: {src}: read-only for features only readable: {}",
                names.join(", ")
            )),
            Verdict::ReadWrite => {}
        }
        let gdt_bytes = geo.gdt_blocks as usize * geo.bsize as usize;
        let gdt_charge = Charge::new(&req.mem, gdt_bytes as u64 * 2).map_err(|_| Errno::ENOMEM)?;
        let gdt = req
            .disk
            .read((geo.first_data_block + 1) * u64::from(geo.bsize), gdt_bytes)?;
        let groups = decode_table(&geo, &gdt).map_err(|why| refuse(&why, Errno::EINVAL))?;
        let uninit = groups
            .iter()
            .any(|g| g.flags & (BG_BLOCK_UNINIT | BG_INODE_UNINIT) != 0);
        if uninit && !req.readonly {
            return Err(refuse(
                "uninitialised block groups, mount read-only",
                Errno::EROFS,
            ));
        }
        let itables = groups.iter().map(|g| g.inode_table).collect();
        let cap = CACHE_BYTES / geo.bsize as usize;
        let cache = BlockCache::new(req.disk.clone(), geo.bsize, cap, req.mem.clone());
        let alloc = AllocState::new(sb, groups);
        let fs = Arc::new_cyclic(|me| Fs {
            geo,
            fsid: req.fsid,
            disk: req.disk,
            cache,
            alloc: Mutex::new(alloc),
            ns: RwLock::new(()),
            itables,
            inodes: Mutex::new(HashMap::new()),
            orphans: Mutex::new(HashSet::new()),
            readonly: AtomicBool::new(req.readonly),
            dead: AtomicBool::new(false),
            mem: req.mem,
            source: req.source,
            me: me.clone(),
            _gdt_charge: gdt_charge,
        });
        // The root must be a directory.
        let root = fs.read_dinode(crate::superblock::ROOT_INO)?;
        if !root.is_dir() || root.links() == 0 {
            return Err(refuse("root inode is not a directory", Errno::EINVAL));
        }
        if !req.readonly {
            fs.mark_dirty_state(Some(req.on))?;
        }
        Ok(fs)
    }

    /// Marks the superblock not clean for a read-write mount (errors if
    /// it was not clean), records the mount point, and writes it.
    fn mark_dirty_state(&self, on: Option<&[u8]>) -> KResult<()> {
        let mut a = self.alloc.lock();
        let state = u16_at(&a.sb, off::STATE);
        if state == STATE_CLEAN {
            set_u16(&mut a.sb, off::STATE, 0);
        } else {
            set_u16(&mut a.sb, off::STATE, STATE_ERRORS);
            kernel::warn(&format!(
                "ext2fs: {}: file system not clean; please fsck(8)",
                self.source
            ));
        }
        if let Some(on) = on {
            if self.geo.rev > 0 {
                let field = &mut a.sb[off::LAST_MOUNTED..off::LAST_MOUNTED + off::LAST_MOUNTED_LEN];
                field.fill(0);
                let n = on.len().min(off::LAST_MOUNTED_LEN - 1);
                field[..n].copy_from_slice(&on[..n]);
            }
        }
        a.dirty = true;
        self.write_super_locked(&mut a)?;
        // On the medium before anything else changes, as NetBSD's
        // synchronous superblock update at mount: a crash from here on
        // leaves a file system marked not clean.
        self.disk.flush()
    }

    /// Writes the superblock and the group descriptor table.
    fn write_super_locked(&self, a: &mut AllocState) -> KResult<()> {
        set_u32(&mut a.sb, off::WTIME, Timespec::now().sec as u32);
        a.store_counts();
        self.disk.write(SB_OFFSET, &a.sb)?;
        let gdt = crate::group::encode_table(&self.geo, &a.groups);
        self.disk.write(
            (self.geo.first_data_block + 1) * u64::from(self.geo.bsize),
            &gdt,
        )?;
        a.dirty = false;
        Ok(())
    }

    /// EIO once unmounted.
    pub fn alive(&self) -> KResult<()> {
        if self.dead.load(Ordering::Acquire) {
            Err(Errno::EIO)
        } else {
            Ok(())
        }
    }

    /// EROFS on a read-only mount.
    pub fn writable(&self) -> KResult<()> {
        self.alive()?;
        if self.readonly.load(Ordering::Acquire) {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    pub fn is_readonly(&self) -> bool {
        self.readonly.load(Ordering::Acquire)
    }

    /// Runs `f` with the name space shared, then frees orphans left.
    pub fn shared<T>(&self, f: impl FnOnce() -> KResult<T>) -> KResult<T> {
        let r = {
            let _ns = self.ns.read();
            self.alive().and_then(|()| f())
        };
        self.reap_orphans();
        r
    }

    /// [`Fs::shared`] for an operation that writes (EROFS on a
    /// read-only mount, checked under the lock so that a change to
    /// read-only cannot slip in between).
    pub fn shared_write<T>(&self, f: impl FnOnce() -> KResult<T>) -> KResult<T> {
        self.shared(|| self.writable().and_then(|()| f()))
    }

    /// Runs `f`, a change to the name space, with it held exclusively.
    pub fn exclusive<T>(&self, f: impl FnOnce() -> KResult<T>) -> KResult<T> {
        let r = {
            let _ns = self.ns.write();
            self.writable().and_then(|()| f())
        };
        self.reap_orphans();
        r
    }

    /// The block and byte offset of inode `ino` in the inode table; EIO
    /// for a number that is not an inode.
    fn inode_location(&self, ino: u32) -> KResult<(u64, usize)> {
        if ino == 0 || ino > self.geo.inodes_count {
            return Err(Errno::EIO);
        }
        let g = self.geo.group_of_inode(ino) as usize;
        let index = u64::from((ino - 1) % self.geo.inodes_per_group);
        let byte = index * u64::from(self.geo.inode_size);
        let bsize = u64::from(self.geo.bsize);
        let blk = self.itables[g] + byte / bsize;
        Ok((blk, (byte % bsize) as usize))
    }

    /// Inode `ino` as the table holds it.
    pub fn read_dinode(&self, ino: u32) -> KResult<Dinode> {
        let (blk, at) = self.inode_location(ino)?;
        let size = self.geo.inode_size as usize;
        let rev1 = self.geo.rev > 0;
        let huge = self.geo.features.has_ro_compat(RO_COMPAT_HUGE_FILE);
        self.cache
            .read(blk, |b| Dinode::from_bytes(&b[at..at + size], rev1, huge))
    }

    /// Stores inode `ino` into the table.
    pub fn write_dinode(&self, ino: u32, d: &Dinode) -> KResult<()> {
        let (blk, at) = self.inode_location(ino)?;
        let bytes = d.bytes();
        let size = (self.geo.inode_size as usize).min(bytes.len());
        self.cache
            .modify(blk, |b| b[at..at + size].copy_from_slice(&bytes[..size]))
    }

    /// The in-core inode `ino`, read from the table if nobody has it.
    pub fn get(&self, ino: u32) -> KResult<Arc<Inode>> {
        let mut map = self.inodes.lock();
        if let Some(i) = map.get(&ino).and_then(Weak::upgrade) {
            return Ok(i);
        }
        let d = self.read_dinode(ino)?;
        let charge = Charge::new(&self.mem, INODE_OVERHEAD + u64::from(self.geo.inode_size))
            .map_err(|_| Errno::ENOMEM)?;
        let inode = Arc::new(Inode::new(ino, d, self.me.clone(), charge));
        if map.len() > 64 && map.len().is_power_of_two() {
            map.retain(|_, w| w.strong_count() > 0);
        }
        map.insert(ino, Arc::downgrade(&inode));
        Ok(inode)
    }

    /// Whether an in-core inode `ino` is in use.
    fn in_use(&self, ino: u32) -> bool {
        self.inodes
            .lock()
            .get(&ino)
            .is_some_and(|w| w.strong_count() > 0)
    }

    /// Notes an inode whose last link went: it is freed once nobody uses
    /// it.
    pub fn add_orphan(&self, ino: u32) {
        self.orphans.lock().insert(ino);
    }

    /// Called when the last reference to in-core inode `ino` goes.
    pub fn inode_released(&self, ino: u32) {
        if let Some(mut map) = self.inodes.try_lock() {
            if map.get(&ino).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&ino);
            }
        }
        self.reap_orphans();
    }

    /// Frees the orphans nobody uses, if the name space can be had
    /// without waiting (otherwise a later operation will).
    pub fn reap_orphans(&self) {
        if self.orphans.lock().is_empty() || self.dead.load(Ordering::Acquire) {
            return;
        }
        if let Some(_ns) = self.ns.try_write() {
            self.free_orphans(false);
        }
    }

    /// Frees orphans (all of them when `all`, in use or not). The name
    /// space must be held exclusively.
    fn free_orphans(&self, all: bool) {
        if self.is_readonly() {
            return;
        }
        let candidates: Vec<u32> = self.orphans.lock().iter().copied().collect();
        for ino in candidates {
            if !all && self.in_use(ino) {
                continue;
            }
            self.orphans.lock().remove(&ino);
            if let Err(e) = self.free_inode_now(ino) {
                kernel::warn(&format!(
                    "ext2fs: {}: freeing inode {ino}: {e}",
                    self.source
                ));
            }
        }
    }

    /// Frees inode `ino`, which has no links: its blocks, its attribute
    /// block, its bit in the inode bitmap.
    fn free_inode_now(&self, ino: u32) -> KResult<()> {
        let mut d = self.read_dinode(ino)?;
        if d.links() != 0 || d.mode() == 0 || d.dtime() != 0 {
            return Ok(());
        }
        if crate::bmap::has_block_map(&self.geo, &d) {
            crate::bmap::truncate(self, &mut d, 0)?;
        }
        crate::xattr::release(self, &mut d)?;
        d.set_size(0);
        d.set_dtime(Timespec::now().sec as u32);
        self.write_dinode(ino, &d)?;
        self.free_inode(ino, d.is_dir())
    }

    /// Writes everything out: cached blocks, then the superblock and
    /// group descriptors; with `wait`, makes it durable.
    pub fn sync(&self, wait: bool) -> KResult<()> {
        let _ns = self.ns.write();
        self.sync_locked(wait)
    }

    /// [`Fs::sync`] with the name space held exclusively.
    fn sync_locked(&self, wait: bool) -> KResult<()> {
        if self.dead.load(Ordering::Acquire) || self.is_readonly() {
            return Ok(());
        }
        self.free_orphans(false);
        self.cache.flush()?;
        {
            let mut a = self.alloc.lock();
            if a.dirty {
                self.write_super_locked(&mut a)?;
            }
        }
        if wait {
            self.disk.flush()?;
        }
        Ok(())
    }

    /// Whether anything waits to be written.
    pub fn is_dirty(&self) -> bool {
        self.cache.stats().1 > 0 || self.alloc.lock().dirty || !self.orphans.lock().is_empty()
    }

    /// Writes everything, marks the file system clean (unless it had
    /// errors) and stops serving.
    pub fn unmount(&self) -> KResult<()> {
        if self.dead.load(Ordering::Acquire) {
            return Ok(());
        }
        let _ns = self.ns.write();
        if !self.is_readonly() {
            self.free_orphans(true);
            self.cache.flush()?;
            let mut a = self.alloc.lock();
            let state = u16_at(&a.sb, off::STATE);
            if state & STATE_ERRORS == 0 {
                set_u16(&mut a.sb, off::STATE, STATE_CLEAN);
            }
            self.write_super_locked(&mut a)?;
            drop(a);
            self.disk.flush()?;
        }
        self.dead.store(true, Ordering::Release);
        self.cache.clear();
        Ok(())
    }

    /// Changes between read-only and read-write (MNT_UPDATE).
    pub fn set_readonly(&self, ro: bool) -> KResult<()> {
        let _ns = self.ns.write();
        self.alive()?;
        if ro == self.is_readonly() {
            return Ok(());
        }
        if ro {
            self.sync_locked(true)?;
            let mut a = self.alloc.lock();
            let state = u16_at(&a.sb, off::STATE);
            if state & STATE_ERRORS == 0 {
                set_u16(&mut a.sb, off::STATE, STATE_CLEAN);
            }
            self.write_super_locked(&mut a)?;
            drop(a);
            self.disk.flush()?;
            self.readonly.store(true, Ordering::Release);
            return Ok(());
        }
        if let Verdict::ReadOnly(names) = &self.geo.verdict {
            kernel::warn(&format!(
                "ext2fs: {}: features only readable: {}",
                self.source,
                names.join(", ")
            ));
            return Err(Errno::EROFS);
        }
        let uninit = self
            .alloc
            .lock()
            .groups
            .iter()
            .any(|g| g.flags & (BG_BLOCK_UNINIT | BG_INODE_UNINIT) != 0);
        if uninit {
            return Err(Errno::EROFS);
        }
        self.mark_dirty_state(None)?;
        self.readonly.store(false, Ordering::Release);
        Ok(())
    }

    /// Sizes and counts, as NetBSD reports them: blocks less the
    /// overhead of superblocks, descriptors, bitmaps and inode tables.
    pub fn statvfs(&self) -> FsStats {
        let g = &self.geo;
        let per_group = 2 + u64::from(g.itable_blocks);
        let with_super = (0..g.groups).filter(|&i| g.group_has_super(i)).count() as u64;
        let reserved_gdt = if g.features.has_compat(crate::features::COMPAT_RESIZE_INODE) {
            u64::from(self.alloc.lock().reserved_gdt())
        } else {
            0
        };
        let overhead = g.first_data_block
            + u64::from(g.groups) * per_group
            + with_super * (1 + u64::from(g.gdt_blocks) + reserved_gdt);
        let a = self.alloc.lock();
        let bsize = u64::from(g.bsize);
        let resvd = a.reserved_blocks();
        FsStats {
            bsize,
            frsize: bsize,
            iosize: bsize,
            blocks: g.blocks_count.saturating_sub(overhead),
            bfree: a.free_blocks,
            bavail: a.free_blocks.saturating_sub(resvd),
            bresvd: resvd,
            files: u64::from(g.inodes_count),
            ffree: a.free_inodes,
            favail: a.free_inodes,
            fresvd: 0,
            namemax: NAME_MAX as u64,
        }
    }
}
