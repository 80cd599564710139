//! The buffer cache: block devices seen through a write-back cache of
//! 4 KiB blocks, so that file systems may read and write metadata in small
//! pieces without a host system call each.
//!
//! Every cached block is charged to the kernel's memory accountant, and
//! all caches together stay under a budget (an eighth of the `-r` limit,
//! or [`UNLIMITED_BUDGET`] without one), so that a file system streaming
//! a large file through a small kernel keeps a small footprint. Dirty
//! blocks go back to the device on [`Device::flush`] (sync, fsync,
//! unmount, halt), when dirty data passes half the cache's share, and
//! when memory is needed; adjacent blocks leave in one write. A miss
//! right after the previous read's end reads ahead.

use parking_lot::Mutex;
use rump_plugin_api::vfs::{Device, DeviceObj};
use rump_plugin_api::{Errno, KResult};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

/// The cache's unit, in bytes.
pub const BLOCK: u64 = 4096;
/// The budget of all caches together when the kernel has no memory limit.
pub const UNLIMITED_BUDGET: u64 = 64 << 20;
/// Blocks read ahead on a sequential miss.
const READ_AHEAD: u64 = 32;
/// The largest single write of adjacent dirty blocks.
const MAX_WRITE: u64 = 256;

/// How much all caches may hold, and how much they do.
pub struct Budget {
    held: AtomicU64,
    /// A fixed size; `None`: from the kernel's memory limit.
    fixed: Option<u64>,
}

/// The budget of the kernel's block devices.
pub static KERNEL_BUDGET: Budget = Budget {
    held: AtomicU64::new(0),
    fixed: None,
};

impl Budget {
    /// A budget of `bytes`, not tied to the kernel (for tests).
    pub const fn fixed(bytes: u64) -> Budget {
        Budget {
            held: AtomicU64::new(0),
            fixed: Some(bytes),
        }
    }

    fn size(&self) -> u64 {
        if let Some(b) = self.fixed {
            return b;
        }
        match rump_plugin_api::kernel::try_kernel().and_then(|k| k.mem_limit()) {
            Some(limit) => (limit / 8).max(16 * BLOCK),
            None => UNLIMITED_BUDGET,
        }
    }

    /// Charges `bytes` here and to the kernel; false if either is full.
    fn charge(&self, bytes: u64) -> bool {
        let prev = self.held.fetch_add(bytes, Ordering::AcqRel);
        if prev + bytes > self.size() {
            self.held.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        let kernel_ok = match rump_plugin_api::kernel::try_kernel() {
            Some(k) => k.mem_reserve(bytes).is_ok(),
            None => true,
        };
        if !kernel_ok {
            self.held.fetch_sub(bytes, Ordering::AcqRel);
        }
        kernel_ok
    }

    fn uncharge(&self, bytes: u64) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
        if let Some(k) = rump_plugin_api::kernel::try_kernel() {
            k.mem_release(bytes);
        }
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }
}

struct Buf {
    data: Vec<u8>,
    dirty: bool,
    /// When it was last used (a key of `State::lru`).
    used: u64,
}

#[derive(Default)]
struct State {
    bufs: HashMap<u64, Buf>,
    /// Block numbers by last use, oldest first.
    lru: BTreeMap<u64, u64>,
    clock: u64,
    dirty: u64,
    /// Where the last read ended, to notice sequential reading.
    last_read_end: u64,
}

impl State {
    fn touch(&mut self, blk: u64) {
        self.clock += 1;
        let now = self.clock;
        if let Some(b) = self.bufs.get_mut(&blk) {
            self.lru.remove(&b.used);
            b.used = now;
            self.lru.insert(now, blk);
        }
    }
}

/// A device with a buffer cache in front of it.
pub struct CachedDevice {
    dev: DeviceObj,
    size: u64,
    budget: &'static Budget,
    st: Mutex<State>,
}

impl CachedDevice {
    /// `dev` behind a cache charged to the kernel's budget.
    pub fn new(dev: DeviceObj) -> Self {
        Self::with_budget(dev, &KERNEL_BUDGET)
    }

    pub fn with_budget(dev: DeviceObj, budget: &'static Budget) -> Self {
        let size = dev.size();
        CachedDevice {
            dev,
            size,
            budget,
            st: Mutex::new(State::default()),
        }
    }

    /// The bytes of block `blk` that lie on the device.
    fn block_len(&self, blk: u64) -> usize {
        (self.size - blk * BLOCK).min(BLOCK) as usize
    }

    /// Puts a block in the cache (charging it), making room if needed.
    /// Returns false when no room can be made: the caller then goes to
    /// the device directly.
    fn insert(&self, st: &mut State, blk: u64, data: Vec<u8>, dirty: bool) -> KResult<bool> {
        if let Some(b) = st.bufs.get_mut(&blk) {
            if dirty && !b.dirty {
                st.dirty += 1;
            }
            b.dirty |= dirty;
            b.data = data;
            st.touch(blk);
            return Ok(true);
        }
        while !self.budget.charge(BLOCK) {
            if !self.evict_one(st)? {
                return Ok(false);
            }
        }
        st.clock += 1;
        let used = st.clock;
        st.lru.insert(used, blk);
        st.bufs.insert(blk, Buf { data, dirty, used });
        if dirty {
            st.dirty += 1;
        }
        Ok(true)
    }

    /// Drops the least recently used block, writing it (and its dirty
    /// neighbours) back first if dirty; false if the cache is empty.
    fn evict_one(&self, st: &mut State) -> KResult<bool> {
        let Some((_, &blk)) = st.lru.iter().next() else {
            return Ok(false);
        };
        if st.bufs[&blk].dirty {
            self.write_back_around(st, blk)?;
        }
        let b = st.bufs.remove(&blk).expect("lru and map agree");
        st.lru.remove(&b.used);
        self.budget.uncharge(BLOCK);
        Ok(true)
    }

    /// Writes back the run of adjacent dirty blocks that contains `blk`.
    fn write_back_around(&self, st: &mut State, blk: u64) -> KResult<()> {
        let dirty = |st: &State, b: u64| st.bufs.get(&b).is_some_and(|x| x.dirty);
        let mut first = blk;
        while first > 0 && blk - first < MAX_WRITE / 2 && dirty(st, first - 1) {
            first -= 1;
        }
        let mut end = blk + 1;
        while end - first < MAX_WRITE && dirty(st, end) {
            end += 1;
        }
        self.write_run(st, first, end)
    }

    /// Writes dirty blocks `first..end` (all dirty) in one device write.
    fn write_run(&self, st: &mut State, first: u64, end: u64) -> KResult<()> {
        let mut out = Vec::with_capacity(((end - first) * BLOCK) as usize);
        for b in first..end {
            out.extend_from_slice(&st.bufs[&b].data);
        }
        self.dev
            .write_at(first * BLOCK, out.as_slice().into())
            .into_result()?;
        for b in first..end {
            if let Some(x) = st.bufs.get_mut(&b) {
                x.dirty = false;
            }
        }
        st.dirty -= end - first;
        Ok(())
    }

    /// Writes every dirty block back, in runs of adjacent blocks.
    fn write_back_all(&self, st: &mut State) -> KResult<()> {
        let mut dirty: Vec<u64> = st
            .bufs
            .iter()
            .filter(|(_, b)| b.dirty)
            .map(|(&k, _)| k)
            .collect();
        dirty.sort_unstable();
        let mut i = 0;
        while i < dirty.len() {
            let first = dirty[i];
            let mut end = first + 1;
            i += 1;
            while i < dirty.len() && dirty[i] == end && end - first < MAX_WRITE {
                end += 1;
                i += 1;
            }
            self.write_run(st, first, end)?;
        }
        Ok(())
    }

    /// Keeps dirty data under half of what the cache may hold.
    fn limit_dirty(&self, st: &mut State) -> KResult<()> {
        let limit = (self.budget.size() / BLOCK / 2).max(8);
        while st.dirty > limit {
            let oldest_dirty = st
                .lru
                .values()
                .copied()
                .find(|b| st.bufs[b].dirty)
                .expect("dirty blocks are in the lru");
            self.write_back_around(st, oldest_dirty)?;
        }
        Ok(())
    }

    /// Reads blocks `first..end` that are not cached from the device and
    /// caches them (as room allows); returns what it read, by block.
    fn fill(&self, st: &mut State, first: u64, end: u64) -> KResult<HashMap<u64, Vec<u8>>> {
        let mut read = HashMap::new();
        let mut b = first;
        while b < end {
            if st.bufs.contains_key(&b) {
                b += 1;
                continue;
            }
            let mut run_end = b + 1;
            while run_end < end && !st.bufs.contains_key(&run_end) {
                run_end += 1;
            }
            let bytes = self
                .dev
                .read_at(b * BLOCK, ((run_end - b) * BLOCK) as usize)
                .into_result()?;
            for blk in b..run_end {
                let at = ((blk - b) * BLOCK) as usize;
                let len = self.block_len(blk);
                let got = bytes.get(at..).unwrap_or(&[]);
                let mut data = got[..got.len().min(len)].to_vec();
                data.resize(len, 0);
                self.insert(st, blk, data.clone(), false)?;
                read.insert(blk, data);
            }
            b = run_end;
        }
        Ok(read)
    }

    fn blocks_of(&self, offset: u64, len: usize) -> Option<(u64, u64, u64)> {
        let end = offset.checked_add(len as u64)?.min(self.size);
        if offset >= end {
            return None;
        }
        Some((offset / BLOCK, end.div_ceil(BLOCK), end))
    }

    /// Drops every block (after writing dirty ones back).
    fn clear(&self) -> KResult<()> {
        let mut st = self.st.lock();
        self.write_back_all(&mut st)?;
        let n = st.bufs.len() as u64;
        st.bufs.clear();
        st.lru.clear();
        self.budget.uncharge(n * BLOCK);
        Ok(())
    }
}

impl Drop for CachedDevice {
    fn drop(&mut self) {
        if let Err(e) = self.clear() {
            if let Some(k) = rump_plugin_api::kernel::try_kernel() {
                k.warn(&format!("buffer cache: write-back failed: {e}"));
            }
        }
    }
}

impl Device for CachedDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn sector_size(&self) -> u32 {
        self.dev.sector_size()
    }

    fn readonly(&self) -> bool {
        self.dev.readonly()
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let Some((first, end, stop)) = self.blocks_of(offset, len) else {
            return Ok(Vec::new());
        };
        let mut st = self.st.lock();
        let sequential = offset == st.last_read_end && offset != 0;
        let ahead = if sequential {
            (end + READ_AHEAD).min(self.size.div_ceil(BLOCK))
        } else {
            end
        };
        let missing = (first..end).any(|b| !st.bufs.contains_key(&b));
        // On a miss, filling may evict blocks of this very range to make
        // room: keep copies of the cached ones first.
        let mut got = HashMap::new();
        if missing {
            for b in first..end {
                if let Some(buf) = st.bufs.get(&b) {
                    got.insert(b, buf.data.clone());
                }
            }
            got.extend(self.fill(&mut st, first, ahead)?);
        }
        let mut out = Vec::with_capacity((stop - offset) as usize);
        for b in first..end {
            let data = match got.get(&b) {
                Some(d) => d,
                None => &st.bufs[&b].data,
            };
            let lo = offset.max(b * BLOCK) - b * BLOCK;
            let hi = stop.min(b * BLOCK + data.len() as u64) - b * BLOCK;
            out.extend_from_slice(&data[lo as usize..hi as usize]);
        }
        for b in first..end {
            st.touch(b);
        }
        st.last_read_end = stop;
        Ok(out)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
        if self.dev.readonly() {
            return Err(Errno::EROFS);
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EINVAL)?;
        if end > self.size {
            return Err(Errno::EINVAL);
        }
        let Some((first, last_end, _)) = self.blocks_of(offset, data.len()) else {
            return Ok(());
        };
        let mut st = self.st.lock();
        for b in first..last_end {
            let b_start = b * BLOCK;
            let b_len = self.block_len(b);
            let lo = offset.max(b_start);
            let hi = end.min(b_start + b_len as u64);
            let piece = &data[(lo - offset) as usize..(hi - offset) as usize];
            let whole = lo == b_start && piece.len() == b_len;
            let mut block = if whole {
                piece.to_vec()
            } else {
                match st.bufs.get(&b) {
                    Some(buf) => buf.data.clone(),
                    None => {
                        let mut d = self.dev.read_at(b_start, b_len).into_result()?.into_vec();
                        d.resize(b_len, 0);
                        d
                    }
                }
            };
            if !whole {
                block[(lo - b_start) as usize..(hi - b_start) as usize].copy_from_slice(piece);
            }
            if !self.insert(&mut st, b, block, true)? {
                // No room at all: write through.
                self.dev.write_at(lo, piece.into()).into_result()?;
            }
        }
        self.limit_dirty(&mut st)
    }

    fn flush(&self) -> KResult<()> {
        let mut st = self.st.lock();
        self.write_back_all(&mut st)?;
        drop(st);
        self.dev.flush().into_result()
    }

    fn invalidate(&self) -> KResult<()> {
        self.clear()?;
        self.st.lock().last_read_end = 0;
        self.dev.flush().into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rump_plugin_api::vfs::device_obj;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    /// A disk in memory that counts the writes reaching it.
    struct MemDisk {
        data: Mutex<Vec<u8>>,
        writes: AtomicUsize,
    }

    impl Device for MemDisk {
        fn size(&self) -> u64 {
            self.data.lock().len() as u64
        }

        fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
            let d = self.data.lock();
            let lo = (offset as usize).min(d.len());
            let hi = lo.saturating_add(len).min(d.len());
            Ok(d[lo..hi].to_vec())
        }

        fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
            self.writes.fetch_add(1, Ordering::Relaxed);
            let mut d = self.data.lock();
            d[offset as usize..offset as usize + data.len()].copy_from_slice(data);
            Ok(())
        }
    }

    fn disk(size: usize) -> Arc<MemDisk> {
        Arc::new(MemDisk {
            data: Mutex::new((0..size).map(|i| (i % 251) as u8).collect()),
            writes: AtomicUsize::new(0),
        })
    }

    fn cached(d: &Arc<MemDisk>, budget: u64) -> CachedDevice {
        let budget = Box::leak(Box::new(Budget::fixed(budget)));
        CachedDevice::with_budget(device_obj(d.clone()), budget)
    }

    #[test]
    fn writes_stay_cached_until_flushed_and_leave_in_one_write() {
        let d = disk(1 << 20);
        let c = cached(&d, 1 << 20);
        let before = d.data.lock().clone();
        let new: Vec<u8> = vec![0xab; 10 * BLOCK as usize + 100];
        c.write_at(3 * BLOCK + 7, &new).unwrap();
        assert!(*d.data.lock() == before, "nothing written yet");
        assert_eq!(c.read_at(3 * BLOCK + 7, new.len()).unwrap(), new);
        c.flush().unwrap();
        assert_eq!(
            d.writes.load(Ordering::Relaxed),
            1,
            "adjacent blocks coalesce"
        );
        let mut want = before;
        want[3 * BLOCK as usize + 7..][..new.len()].copy_from_slice(&new);
        assert!(
            *d.data.lock() == want,
            "partial blocks kept their other bytes"
        );
    }

    #[test]
    fn a_small_budget_bounds_the_cache_and_loses_nothing() {
        let d = disk(4 << 20);
        let c = cached(&d, 16 * BLOCK);
        let data: Vec<u8> = (0..3 << 20).map(|i| (i * 7 % 256) as u8).collect();
        for (i, chunk) in data.chunks(10_000).enumerate() {
            c.write_at(5 + (i * 10_000) as u64, chunk).unwrap();
            assert!(c.budget.held() <= 16 * BLOCK);
        }
        assert!(d.writes.load(Ordering::Relaxed) > 0, "written behind");
        let mut back = Vec::new();
        for off in (0..data.len()).step_by(65536) {
            back.extend(
                c.read_at(5 + off as u64, 65536.min(data.len() - off))
                    .unwrap(),
            );
        }
        assert!(back == data, "reads see every write");
        c.flush().unwrap();
        assert!(d.data.lock()[5..5 + data.len()] == data[..]);
        drop(c);
    }

    #[test]
    fn the_last_block_may_be_short_and_nothing_goes_past_the_end() {
        let d = disk(3 * BLOCK as usize + 1000);
        let c = cached(&d, 1 << 20);
        assert_eq!(c.read_at(3 * BLOCK + 900, 500).unwrap().len(), 100);
        assert!(c.read_at(3 * BLOCK + 1000, 10).unwrap().is_empty());
        assert_eq!(c.write_at(3 * BLOCK + 900, &[1; 200]), Err(Errno::EINVAL));
        c.write_at(3 * BLOCK + 990, &[9; 10]).unwrap();
        c.flush().unwrap();
        assert_eq!(d.data.lock().len(), 3 * BLOCK as usize + 1000);
        assert_eq!(&d.data.lock()[3 * BLOCK as usize + 990..], &[9; 10]);
    }

    #[test]
    fn a_big_read_keeps_blocks_of_block_size() {
        let d = disk(2 << 20);
        let c = cached(&d, 4 << 20);
        assert_eq!(c.read_at(0, 2 << 20).unwrap().len(), 2 << 20);
        let st = c.st.lock();
        assert_eq!(st.bufs.len(), 512);
        assert!(st
            .bufs
            .values()
            .all(|b| b.data.capacity() == BLOCK as usize));
    }

    #[test]
    fn dropping_the_cache_writes_back_and_returns_its_memory() {
        let d = disk(1 << 20);
        let c = cached(&d, 1 << 20);
        c.write_at(0, &[7; 8192]).unwrap();
        let budget = c.budget;
        assert_eq!(budget.held(), 2 * BLOCK);
        drop(c);
        assert_eq!(budget.held(), 0);
        assert_eq!(&d.data.lock()[..8192], &[7; 8192][..]);
    }
}
