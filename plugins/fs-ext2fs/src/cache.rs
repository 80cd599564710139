//! The metadata block cache: bitmaps, inode table blocks, indirect
//! blocks, directory and symbolic-link blocks, kept in memory and
//! written back on sync, on unmount, and when the least recently used
//! block must make room.
//!
//! Every cached block is charged to the kernel's memory accountant. When
//! the kernel refuses a charge, the cache gives up older blocks and
//! tries again; with nothing left to give up it works without keeping
//! the block (read from the device, or read, changed and written back
//! at once), so a tight `-r` limit slows the file system down but does
//! not fail it.
//!
//! File data never passes through here: regular files are read and
//! written on the device directly. A freed block is dropped from the
//! cache ([`BlockCache::forget`]) before it can be reused for data, so
//! a stale copy is never written over it.
//!
//! The callbacks given to [`BlockCache::read`] and friends run with the
//! cache locked; they must not call into the cache.

use crate::disk::DiskRef;
use crate::mem::{MemSink, BLOCK_OVERHEAD};
use parking_lot::Mutex;
use rump_plugin_api::{Errno, KResult};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The most bytes written to the device in one request by a flush.
const MAX_RUN_BYTES: usize = 1 << 20;

struct Slot {
    data: Box<[u8]>,
    dirty: bool,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<u64, Slot>,
    /// Last use → block, oldest first.
    lru: BTreeMap<u64, u64>,
    tick: u64,
}

/// A write-back cache of the file system blocks of one device.
pub struct BlockCache {
    disk: DiskRef,
    bsize: usize,
    capacity: usize,
    mem: Arc<dyn MemSink>,
    inner: Mutex<Inner>,
}

impl BlockCache {
    /// A cache of at most `capacity` blocks of `bsize` bytes.
    pub fn new(disk: DiskRef, bsize: u32, capacity: usize, mem: Arc<dyn MemSink>) -> BlockCache {
        BlockCache {
            disk,
            bsize: bsize as usize,
            capacity: capacity.max(4),
            mem,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn bsize(&self) -> usize {
        self.bsize
    }

    fn charge(&self) -> u64 {
        self.bsize as u64 + BLOCK_OVERHEAD
    }

    fn offset(&self, blk: u64) -> KResult<u64> {
        let off = blk.checked_mul(self.bsize as u64).ok_or(Errno::EIO)?;
        if off
            .checked_add(self.bsize as u64)
            .is_none_or(|e| e > self.disk.size())
        {
            return Err(Errno::EIO);
        }
        Ok(off)
    }

    /// Gives up the least recently used block, writing it first if it
    /// is dirty; false if there is none.
    fn evict_one(&self, inner: &mut Inner) -> KResult<bool> {
        let Some((&tick, &blk)) = inner.lru.iter().next() else {
            return Ok(false);
        };
        if let Some(s) = inner.slots.get(&blk) {
            if s.dirty {
                self.disk.write(self.offset(blk)?, &s.data)?;
            }
        }
        inner.lru.remove(&tick);
        inner.slots.remove(&blk);
        self.mem.release(self.charge());
        Ok(true)
    }

    /// The slot of `blk`, loaded from the device (or zeroed when
    /// `!load`); None when memory for it cannot be had.
    fn slot<'a>(
        &self,
        inner: &'a mut Inner,
        blk: u64,
        load: bool,
    ) -> KResult<Option<&'a mut Slot>> {
        inner.tick += 1;
        let tick = inner.tick;
        if inner.slots.contains_key(&blk) {
            let s = inner.slots.get_mut(&blk).ok_or(Errno::EIO)?;
            inner.lru.remove(&s.tick);
            s.tick = tick;
            inner.lru.insert(tick, blk);
            return Ok(inner.slots.get_mut(&blk));
        }
        let off = self.offset(blk)?;
        while inner.slots.len() >= self.capacity {
            if !self.evict_one(inner)? {
                break;
            }
        }
        loop {
            if self.mem.reserve(self.charge()).is_ok() {
                break;
            }
            if !self.evict_one(inner)? {
                return Ok(None);
            }
        }
        let data = if load {
            match self.disk.read(off, self.bsize) {
                Ok(d) => d.into_vec().into_boxed_slice(),
                Err(e) => {
                    self.mem.release(self.charge());
                    return Err(e);
                }
            }
        } else {
            vec![0u8; self.bsize].into_boxed_slice()
        };
        inner.lru.insert(tick, blk);
        Ok(Some(inner.slots.entry(blk).or_insert(Slot {
            data,
            dirty: false,
            tick,
        })))
    }

    /// Runs `f` on the contents of block `blk`.
    pub fn read<T>(&self, blk: u64, f: impl FnOnce(&[u8]) -> T) -> KResult<T> {
        let mut inner = self.inner.lock();
        match self.slot(&mut inner, blk, true)? {
            Some(s) => Ok(f(&s.data)),
            None => {
                let d = self.disk.read(self.offset(blk)?, self.bsize)?;
                Ok(f(&d))
            }
        }
    }

    /// Runs `f` on block `blk` to change it; the block is written back
    /// later.
    pub fn modify<T>(&self, blk: u64, f: impl FnOnce(&mut [u8]) -> T) -> KResult<T> {
        let mut inner = self.inner.lock();
        match self.slot(&mut inner, blk, true)? {
            Some(s) => {
                s.dirty = true;
                Ok(f(&mut s.data))
            }
            None => {
                let off = self.offset(blk)?;
                let mut d = self.disk.read(off, self.bsize)?;
                let r = f(&mut d);
                self.disk.write(off, &d)?;
                Ok(r)
            }
        }
    }

    /// Replaces block `blk` by zeros changed by `f`, without reading it
    /// (a block just allocated).
    pub fn overwrite(&self, blk: u64, f: impl FnOnce(&mut [u8])) -> KResult<()> {
        let mut inner = self.inner.lock();
        match self.slot(&mut inner, blk, false)? {
            Some(s) => {
                s.data.fill(0);
                f(&mut s.data);
                s.dirty = true;
                Ok(())
            }
            None => {
                let mut d = vec![0u8; self.bsize];
                f(&mut d);
                self.disk.write(self.offset(blk)?, &d)
            }
        }
    }

    /// Drops block `blk` without writing it (it was freed).
    pub fn forget(&self, blk: u64) {
        let mut inner = self.inner.lock();
        if let Some(s) = inner.slots.remove(&blk) {
            inner.lru.remove(&s.tick);
            self.mem.release(self.charge());
        }
    }

    /// Writes every dirty block, in block order, adjacent blocks in one
    /// request.
    pub fn flush(&self) -> KResult<()> {
        let mut inner = self.inner.lock();
        let mut dirty: Vec<u64> = inner
            .slots
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(&b, _)| b)
            .collect();
        dirty.sort_unstable();
        let mut i = 0;
        while i < dirty.len() {
            let start = dirty[i];
            let mut j = i + 1;
            while j < dirty.len()
                && dirty[j] == dirty[j - 1] + 1
                && (j - i + 1) * self.bsize <= MAX_RUN_BYTES
            {
                j += 1;
            }
            let mut buf = Vec::with_capacity((j - i) * self.bsize);
            for b in &dirty[i..j] {
                buf.extend_from_slice(&inner.slots[b].data);
            }
            self.disk.write(self.offset(start)?, &buf)?;
            for b in &dirty[i..j] {
                if let Some(s) = inner.slots.get_mut(b) {
                    s.dirty = false;
                }
            }
            i = j;
        }
        Ok(())
    }

    /// Drops every block (after a flush), returning their memory.
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        let n = inner.slots.len() as u64;
        inner.slots.clear();
        inner.lru.clear();
        self.mem.release(n * self.charge());
    }

    /// Blocks held, and how many of them are dirty.
    pub fn stats(&self) -> (usize, usize) {
        let inner = self.inner.lock();
        let dirty = inner.slots.values().filter(|s| s.dirty).count();
        (inner.slots.len(), dirty)
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::testing::MemDisk;
    use crate::disk::Disk;
    use crate::mem::testing::FakeMem;
    use std::sync::atomic::Ordering;

    fn setup(capacity: usize, limit: u64) -> (Arc<MemDisk>, Arc<FakeMem>, BlockCache) {
        let disk = MemDisk::new(vec![0u8; 64 * 1024]);
        let mem = FakeMem::new(limit);
        let c = BlockCache::new(disk.clone(), 1024, capacity, mem.clone());
        (disk, mem, c)
    }

    #[test]
    fn write_back_on_flush_in_runs() {
        let (disk, mem, c) = setup(16, u64::MAX);
        for b in [3u64, 4, 5, 9] {
            c.modify(b, |d| d[0] = b as u8).unwrap();
        }
        assert_eq!(disk.read(3 * 1024, 1).unwrap(), [0]);
        assert_eq!(c.stats(), (4, 4));
        c.flush().unwrap();
        assert_eq!(disk.writes.load(Ordering::Relaxed), 2, "3-5 in one write");
        assert_eq!(disk.read(4 * 1024, 1).unwrap(), [4]);
        assert_eq!(c.stats(), (4, 0));
        assert_eq!(mem.used(), 4 * (1024 + BLOCK_OVERHEAD));
        c.forget(9);
        c.clear();
        assert_eq!(mem.used(), 0);
    }

    #[test]
    fn eviction_writes_dirty_blocks() {
        let (disk, _mem, c) = setup(4, u64::MAX);
        for b in 0..10u64 {
            c.modify(b, |d| d[1] = 0x80 | b as u8).unwrap();
        }
        assert!(c.stats().0 <= 4);
        assert_eq!(
            disk.read(1024 + 1, 1).unwrap(),
            [0x81],
            "evicted and written"
        );
        c.read(1, |d| assert_eq!(d[1], 0x81)).unwrap();
        c.overwrite(2, |d| d[5] = 1).unwrap();
        c.read(2, |d| assert_eq!((d[1], d[5]), (0, 1))).unwrap();
    }

    #[test]
    fn no_memory_means_write_through() {
        let (disk, mem, c) = setup(16, 0);
        c.modify(7, |d| d[0] = 7).unwrap();
        assert_eq!(disk.read(7 * 1024, 1).unwrap(), [7]);
        c.overwrite(8, |d| d[0] = 8).unwrap();
        assert_eq!(disk.read(8 * 1024, 1).unwrap(), [8]);
        assert_eq!(c.read(7, |d| d[0]).unwrap(), 7);
        assert_eq!(c.stats().0, 0);
        assert_eq!(mem.used(), 0);
        assert_eq!(c.read(64, |_| ()).unwrap_err(), Errno::EIO, "past the end");
    }
}
