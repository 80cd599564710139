//! The file allocation table, kept in memory for the life of a mount:
//! reading and changing entries of any width, following and checking
//! cluster chains, allocating and freeing clusters, the free count, and
//! writing changed sectors to every FAT copy and the FSInfo sector.

use crate::bpb::{FatType, Geometry, FIRST_CLUSTER};
use crate::disk::Disk;
use crate::mem::Charge;
use rump_plugin_api::{Errno, KResult};
use std::collections::BTreeSet;

/// The table and what is known about it.
pub struct Fat {
    kind: FatType,
    bytes: Vec<u8>,
    /// Sectors (of the table) changed since the last flush.
    dirty: BTreeSet<u32>,
    bps: u32,
    max_cluster: u32,
    free: u32,
    next_free: u32,
    fsinfo_dirty: bool,
    _charge: Charge,
}

/// The end-of-chain mark written for each type.
fn eoc(kind: FatType) -> u32 {
    match kind {
        FatType::Fat12 => 0xfff,
        FatType::Fat16 => 0xffff,
        FatType::Fat32 => 0x0fff_ffff,
    }
}

/// The first value that ends a chain.
fn eoc_min(kind: FatType) -> u32 {
    match kind {
        FatType::Fat12 => 0xff8,
        FatType::Fat16 => 0xfff8,
        FatType::Fat32 => 0x0fff_fff8,
    }
}

impl Fat {
    /// Reads the active FAT copy of the volume.
    pub fn load(disk: &Disk, g: &Geometry) -> KResult<Fat> {
        let len = u64::from(g.fat_secs) * u64::from(g.bps);
        let charge = Charge::new(len)?;
        let bytes = disk.read(g.fat_offset(g.active_fat), len as usize)?;
        let mut fat = Fat {
            kind: g.fat_type,
            bytes,
            dirty: BTreeSet::new(),
            bps: g.bps,
            max_cluster: g.max_cluster(),
            free: 0,
            next_free: FIRST_CLUSTER,
            fsinfo_dirty: false,
            _charge: charge,
        };
        fat.free = (FIRST_CLUSTER..=fat.max_cluster)
            .filter(|&c| fat.get(c) == 0)
            .count() as u32;
        Ok(fat)
    }

    pub fn kind(&self) -> FatType {
        self.kind
    }

    pub fn free_count(&self) -> u32 {
        self.free
    }

    pub fn next_free(&self) -> u32 {
        self.next_free
    }

    /// Starts allocation searches at `c` (the FSInfo hint), if it is a
    /// cluster.
    pub fn set_next_free(&mut self, c: u32) {
        if (FIRST_CLUSTER..=self.max_cluster).contains(&c) {
            self.next_free = c;
        }
    }

    /// The raw entry of cluster `c` (any number up to the maximum).
    pub fn get(&self, c: u32) -> u32 {
        let c = c as usize;
        let b = &self.bytes;
        match self.kind {
            FatType::Fat12 => {
                let off = c + c / 2;
                if off + 1 >= b.len() {
                    return 0;
                }
                let v = u32::from(u16::from_le_bytes([b[off], b[off + 1]]));
                if c & 1 == 1 {
                    v >> 4
                } else {
                    v & 0xfff
                }
            }
            FatType::Fat16 => {
                let off = c * 2;
                if off + 1 >= b.len() {
                    return 0;
                }
                u32::from(u16::from_le_bytes([b[off], b[off + 1]]))
            }
            FatType::Fat32 => {
                let off = c * 4;
                if off + 3 >= b.len() {
                    return 0;
                }
                u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]) & 0x0fff_ffff
            }
        }
    }

    fn mark(&mut self, off: usize, len: usize) {
        let bps = self.bps as usize;
        for s in off / bps..=(off + len - 1) / bps {
            self.dirty.insert(s as u32);
        }
    }

    /// Sets the entry of cluster `c`, keeping the free count.
    pub(crate) fn set(&mut self, c: u32, v: u32) {
        let old = self.get(c);
        let ci = c as usize;
        match self.kind {
            FatType::Fat12 => {
                let off = ci + ci / 2;
                if off + 1 >= self.bytes.len() {
                    return;
                }
                let cur = u16::from_le_bytes([self.bytes[off], self.bytes[off + 1]]);
                let v = (v & 0xfff) as u16;
                let new = if ci & 1 == 1 {
                    (cur & 0x000f) | (v << 4)
                } else {
                    (cur & 0xf000) | v
                };
                self.bytes[off..off + 2].copy_from_slice(&new.to_le_bytes());
                self.mark(off, 2);
            }
            FatType::Fat16 => {
                let off = ci * 2;
                if off + 1 >= self.bytes.len() {
                    return;
                }
                self.bytes[off..off + 2].copy_from_slice(&(v as u16).to_le_bytes());
                self.mark(off, 2);
            }
            FatType::Fat32 => {
                let off = ci * 4;
                if off + 3 >= self.bytes.len() {
                    return;
                }
                let cur = u32::from_le_bytes([
                    self.bytes[off],
                    self.bytes[off + 1],
                    self.bytes[off + 2],
                    self.bytes[off + 3],
                ]);
                // The top four bits are reserved and kept.
                let new = (cur & 0xf000_0000) | (v & 0x0fff_ffff);
                self.bytes[off..off + 4].copy_from_slice(&new.to_le_bytes());
                self.mark(off, 4);
            }
        }
        let now = self.get(c);
        if old == 0 && now != 0 {
            self.free -= 1;
        } else if old != 0 && now == 0 {
            self.free += 1;
        }
        self.fsinfo_dirty = true;
    }

    /// The cluster after `c` in its chain: None at the end; EIO when the
    /// entry is free, bad or out of range (a broken chain).
    pub fn next(&self, c: u32) -> KResult<Option<u32>> {
        let v = self.get(c);
        if v >= eoc_min(self.kind) {
            return Ok(None);
        }
        if v < FIRST_CLUSTER || v > self.max_cluster {
            return Err(Errno::EIO);
        }
        Ok(Some(v))
    }

    /// The highest cluster number of the volume.
    pub fn max_cluster(&self) -> u32 {
        self.max_cluster
    }

    /// EIO unless `c` can start a chain.
    pub fn check_start(&self, c: u32) -> KResult<()> {
        if (FIRST_CLUSTER..=self.max_cluster).contains(&c) {
            Ok(())
        } else {
            Err(Errno::EIO)
        }
    }

    /// The clusters of the chain starting at `start` (empty for 0), at
    /// most `limit` of them; EIO for a broken or looping chain.
    pub fn chain(&self, start: u32, limit: u32) -> KResult<Vec<u32>> {
        let mut out = Vec::new();
        if start == 0 {
            return Ok(out);
        }
        if !(FIRST_CLUSTER..=self.max_cluster).contains(&start) {
            return Err(Errno::EIO);
        }
        let mut c = start;
        loop {
            out.push(c);
            if out.len() as u64 > u64::from(self.max_cluster) {
                return Err(Errno::EIO);
            }
            if out.len() as u32 >= limit {
                return Ok(out);
            }
            match self.next(c)? {
                Some(n) => c = n,
                None => return Ok(out),
            }
        }
    }

    /// Takes `n` free clusters, chains them together with an end mark,
    /// and hangs them after `tail` (the last cluster of a chain) if
    /// given. ENOSPC, with nothing changed, if there are not that many.
    pub fn alloc(&mut self, n: u32, tail: Option<u32>) -> KResult<Vec<u32>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if n > self.free {
            return Err(Errno::ENOSPC);
        }
        let span = self.max_cluster - FIRST_CLUSTER + 1;
        let mut got = Vec::with_capacity(n as usize);
        let mut c = self.next_free;
        for _ in 0..span {
            if !(FIRST_CLUSTER..=self.max_cluster).contains(&c) {
                c = FIRST_CLUSTER;
            }
            if self.get(c) == 0 {
                got.push(c);
                if got.len() as u32 == n {
                    break;
                }
            }
            c += 1;
        }
        if (got.len() as u32) < n {
            return Err(Errno::ENOSPC);
        }
        for w in got.windows(2) {
            self.set(w[0], w[1]);
        }
        let last = *got.last().unwrap_or(&0);
        self.set(last, eoc(self.kind));
        if let Some(t) = tail {
            self.set(t, got[0]);
        }
        self.next_free = if last >= self.max_cluster {
            FIRST_CLUSTER
        } else {
            last + 1
        };
        Ok(got)
    }

    /// Frees the chain starting at `start`, as far as it goes sanely.
    pub fn free_chain(&mut self, start: u32) {
        let mut c = start;
        let mut steps = 0u64;
        while (FIRST_CLUSTER..=self.max_cluster).contains(&c)
            && steps <= u64::from(self.max_cluster)
        {
            let next = self.get(c);
            if next == 0 {
                break;
            }
            self.set(c, 0);
            steps += 1;
            if next >= eoc_min(self.kind) {
                break;
            }
            c = next;
        }
    }

    /// Ends a chain at `last`, freeing what followed it.
    pub fn cut_after(&mut self, last: u32) {
        let rest = self.get(last);
        self.set(last, eoc(self.kind));
        if rest >= FIRST_CLUSTER && rest < eoc_min(self.kind) {
            self.free_chain(rest);
        }
    }

    /// Whether anything awaits a flush.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty() || self.fsinfo_dirty
    }

    /// Writes the changed sectors to every FAT copy (or only the active
    /// one when mirroring is off) and the free count and hint to FSInfo.
    pub fn flush(&mut self, disk: &Disk, g: &Geometry) -> KResult<()> {
        let bps = self.bps as usize;
        let copies: Vec<u32> = if g.mirror {
            (0..g.nfats).collect()
        } else {
            vec![g.active_fat]
        };
        // Runs of adjacent sectors go out in one write.
        let sectors: Vec<u32> = self.dirty.iter().copied().collect();
        let mut i = 0;
        while i < sectors.len() {
            let mut j = i;
            while j + 1 < sectors.len() && sectors[j + 1] == sectors[j] + 1 {
                j += 1;
            }
            let from = sectors[i] as usize * bps;
            let to = ((sectors[j] as usize + 1) * bps).min(self.bytes.len());
            for &n in &copies {
                disk.write(g.fat_offset(n) + from as u64, &self.bytes[from..to])?;
            }
            i = j + 1;
        }
        self.dirty.clear();
        if self.fsinfo_dirty {
            if let Some(s) = g.fsinfo_sec {
                let off = u64::from(s) * u64::from(g.bps);
                let mut sec = disk.read(off, 512)?;
                if &sec[0..4] == b"RRaA" && &sec[484..488] == b"rrAa" {
                    sec[488..492].copy_from_slice(&self.free.to_le_bytes());
                    sec[492..496].copy_from_slice(&self.next_free.to_le_bytes());
                    disk.write(off, &sec)?;
                }
            }
            self.fsinfo_dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bpb::tests::fat16_boot;
    use crate::disk::testing::MemDev;
    use parking_lot::Mutex;
    use std::sync::Arc;

    pub(crate) fn setup(kind: FatType) -> (MemDev, Disk, Geometry) {
        let mem = MemDev(Arc::new(Mutex::new(vec![0u8; 20000 * 512])));
        let disk = Disk::new(Box::new(mem.clone()));
        let mut g = Geometry::parse(&fat16_boot(), 20000 * 512).unwrap();
        g.fat_type = kind;
        if kind != FatType::Fat16 {
            g.nclusters = 2000;
        }
        (mem, disk, g)
    }

    #[test]
    fn entries_chains_and_both_copies() {
        for kind in [FatType::Fat12, FatType::Fat16, FatType::Fat32] {
            let (mem, disk, g) = setup(kind);
            let mut fat = Fat::load(&disk, &g).unwrap();
            let total = fat.free_count();
            assert_eq!(total, g.nclusters);
            let a = fat.alloc(3, None).unwrap();
            assert_eq!(a, vec![2, 3, 4]);
            let b = fat.alloc(2, Some(4)).unwrap();
            assert_eq!(fat.chain(2, u32::MAX).unwrap(), vec![2, 3, 4, 5, 6]);
            assert_eq!(b, vec![5, 6]);
            assert_eq!(fat.free_count(), total - 5);
            fat.cut_after(3);
            assert_eq!(fat.chain(2, u32::MAX).unwrap(), vec![2, 3]);
            assert_eq!(fat.free_count(), total - 2);
            fat.flush(&disk, &g).unwrap();
            let m = mem.0.lock();
            let (f0, f1) = (g.fat_offset(0) as usize, g.fat_offset(1) as usize);
            let len = (g.fat_secs * g.bps) as usize;
            assert_eq!(m[f0..f0 + len], m[f1..f1 + len], "copies agree");
            assert!(m[f0..f0 + len].iter().any(|&b| b != 0));
            drop(m);
            let again = Fat::load(&disk, &g).unwrap();
            assert_eq!(again.chain(2, u32::MAX).unwrap(), vec![2, 3]);
            fat.free_chain(2);
            assert_eq!(fat.free_count(), total);
            assert_eq!(fat.alloc(total + 1, None), Err(Errno::ENOSPC));
        }
    }

    #[test]
    fn broken_chains_are_eio() {
        let (_mem, disk, g) = setup(FatType::Fat16);
        let mut fat = Fat::load(&disk, &g).unwrap();
        fat.set(2, 3);
        fat.set(3, 2);
        assert_eq!(fat.chain(2, u32::MAX), Err(Errno::EIO), "a loop");
        fat.set(3, 0);
        assert_eq!(
            fat.chain(2, u32::MAX),
            Err(Errno::EIO),
            "into a free cluster"
        );
        fat.set(3, 0xfff7);
        assert_eq!(
            fat.chain(2, u32::MAX),
            Err(Errno::EIO),
            "into a bad cluster"
        );
        assert_eq!(fat.chain(1, u32::MAX), Err(Errno::EIO));
        assert_eq!(fat.chain(0, u32::MAX).unwrap(), Vec::<u32>::new());
        fat.free_chain(2);
    }
}
