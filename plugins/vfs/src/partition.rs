//! Partitions of etfs disks: asking the partition scanners that device
//! components registered which partitions a disk holds, checking what
//! they report, and the window device each partition's node reads and
//! writes through.
//!
//! A window delegates to the disk's own cached device, so a partition
//! and its disk share one buffer cache and see each other's writes.
//! Scanners are foreign code reading an untrusted image: every partition
//! they report must start inside the disk on a sector boundary and is
//! clipped at the disk's end; a suffix must be a short name without `/`
//! or NUL. Anything else is dropped with a log line.

use rump_plugin_api::disk::Partition;
use rump_plugin_api::vfs::{Device, DeviceObj};
use rump_plugin_api::{Errno, KResult, Kernel};

/// Longest partition suffix accepted.
pub const MAX_SUFFIX: usize = 64;

/// A partition's byte range on its disk.
pub struct Window {
    disk: DeviceObj,
    offset: u64,
    size: u64,
}

impl Window {
    pub fn new(disk: DeviceObj, offset: u64, size: u64) -> Window {
        Window { disk, offset, size }
    }

    /// Where `len` bytes at `offset` of the partition are on the disk,
    /// cut at the partition's end; EINVAL past it.
    fn place(&self, offset: u64, len: usize) -> KResult<(u64, usize)> {
        if offset > self.size {
            return Err(Errno::EINVAL);
        }
        let len = (len as u64).min(self.size - offset) as usize;
        Ok((self.offset + offset, len))
    }
}

impl Device for Window {
    fn size(&self) -> u64 {
        self.size
    }

    fn sector_size(&self) -> u32 {
        self.disk.sector_size()
    }

    fn readonly(&self) -> bool {
        self.disk.readonly()
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let (at, len) = self.place(offset, len)?;
        self.disk.read_at(at, len).into_result().map(Into::into)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EINVAL)?;
        if end > self.size {
            return Err(Errno::EINVAL);
        }
        self.disk
            .write_at(self.offset + offset, data.into())
            .into_result()
    }

    fn flush(&self) -> KResult<()> {
        self.disk.flush().into_result()
    }

    fn invalidate(&self) -> KResult<()> {
        self.disk.invalidate().into_result()
    }
}

/// A partition that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub suffix: Vec<u8>,
    pub offset: u64,
    pub size: u64,
    pub ptype: String,
    pub wname: String,
}

/// What the checks make of a reported partition.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Found),
    /// Accepted, cut at the end of the disk from the size it had.
    Clipped(Found, u64),
    Refused(&'static str),
}

/// Checks one reported partition of a disk of `size` bytes with
/// `sector`-byte sectors.
pub fn check(size: u64, sector: u64, p: &Partition) -> Verdict {
    let suffix = p.suffix.as_str();
    if suffix.is_empty() || suffix.len() > MAX_SUFFIX || suffix.contains(['/', '\0']) {
        return Verdict::Refused("bad name");
    }
    if p.size == 0 {
        return Verdict::Refused("empty");
    }
    if p.offset % sector != 0 {
        return Verdict::Refused("not on a sector boundary");
    }
    if p.offset >= size {
        return Verdict::Refused("starts past the end of the disk");
    }
    let clipped = p.size.min(size - p.offset) / sector * sector;
    if clipped == 0 {
        return Verdict::Refused("less than a sector");
    }
    let found = Found {
        suffix: suffix.as_bytes().to_vec(),
        offset: p.offset,
        size: clipped,
        ptype: p.ptype.to_string(),
        wname: p.wname.to_string(),
    };
    if clipped == p.size {
        Verdict::Accepted(found)
    } else {
        Verdict::Clipped(found, p.size)
    }
}

/// Asks the registered scanners about the disk `name`; the first that
/// finds partitions decides.
pub fn scan(k: &Kernel, name: &str, disk: &DeviceObj) -> Vec<Found> {
    let size = disk.size();
    let sector = u64::from(disk.sector_size().max(1));
    for s in k.disk_scanners() {
        match s.scan(name.into(), disk.clone()).into_result() {
            Ok(parts) if parts.is_empty() => {}
            Ok(parts) => {
                let mut out: Vec<Found> = Vec::new();
                for p in parts.iter() {
                    let f = match check(size, sector, p) {
                        Verdict::Accepted(f) => f,
                        Verdict::Clipped(f, was) => {
                            k.warn(&format!(
                                "{name}: partition `{}` clipped from {was} to {} bytes at the end of the disk",
                                p.suffix, f.size
                            ));
                            f
                        }
                        Verdict::Refused(why) => {
                            k.warn(&format!("{name}: partition `{}` refused: {why}", p.suffix));
                            continue;
                        }
                    };
                    if out.iter().any(|o| o.suffix == f.suffix) {
                        k.warn(&format!(
                            "{name}: partition `{}` reported twice",
                            String::from_utf8_lossy(&f.suffix)
                        ));
                        continue;
                    }
                    out.push(f);
                }
                return out;
            }
            Err(e) => k.warn(&format!("{name}: partition scanner {}: {e}", s.name())),
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use rump_plugin_api::vfs::device_obj;
    use std::sync::Arc;

    struct MemDisk(Mutex<Vec<u8>>);

    impl Device for MemDisk {
        fn size(&self) -> u64 {
            self.0.lock().len() as u64
        }

        fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
            let d = self.0.lock();
            let lo = (offset as usize).min(d.len());
            let hi = lo.saturating_add(len).min(d.len());
            Ok(d[lo..hi].to_vec())
        }

        fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
            let mut d = self.0.lock();
            d[offset as usize..offset as usize + data.len()].copy_from_slice(data);
            Ok(())
        }
    }

    #[test]
    fn a_window_reads_and_writes_its_range_only() {
        let disk = Arc::new(MemDisk(Mutex::new((0..8192u32).map(|i| i as u8).collect())));
        let w = Window::new(device_obj(disk.clone()), 1024, 2048);
        assert_eq!(w.read_at(0, 4).unwrap(), [0, 1, 2, 3]);
        assert_eq!(w.read_at(2040, 100).unwrap().len(), 8, "cut at the end");
        assert!(w.read_at(2048, 10).unwrap().is_empty());
        assert_eq!(w.read_at(2049, 1), Err(Errno::EINVAL));
        w.write_at(2044, &[9; 4]).unwrap();
        assert_eq!(&disk.0.lock()[3068..3072], &[9; 4]);
        assert_eq!(w.write_at(2045, &[9; 4]), Err(Errno::EINVAL));
        assert_eq!(w.write_at(u64::MAX, &[9; 4]), Err(Errno::EINVAL));
    }

    fn part(suffix: &str, offset: u64, size: u64) -> Partition {
        Partition {
            suffix: suffix.into(),
            offset,
            size,
            ..Partition::default()
        }
    }

    #[test]
    fn reported_partitions_are_checked() {
        let disk = 1 << 20;
        let ok = |v: Verdict| matches!(v, Verdict::Accepted(_));
        assert!(ok(check(disk, 512, &part("a", 512, 1024))));
        for (p, why) in [
            (part("", 512, 512), "bad name"),
            (part("x/y", 512, 512), "bad name"),
            (part("a\0", 512, 512), "bad name"),
            (part(&"a".repeat(65), 512, 512), "bad name"),
            (part("a", 512, 0), "empty"),
            (part("a", 100, 512), "not on a sector boundary"),
            (part("a", disk, 512), "starts past the end of the disk"),
            (
                part("a", u64::MAX - 511, 512),
                "starts past the end of the disk",
            ),
        ] {
            assert_eq!(check(disk, 512, &p), Verdict::Refused(why), "{p:?}");
        }
        match check(disk, 512, &part("e", disk - 1024, u64::MAX)) {
            Verdict::Clipped(f, was) => assert_eq!((f.size, was), (1024, u64::MAX)),
            v => panic!("{v:?}"),
        }
        assert_eq!(
            check(disk + 100, 512, &part("e", disk, 4096)),
            Verdict::Refused("less than a sector")
        );
    }
}
