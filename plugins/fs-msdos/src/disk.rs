//! Byte-addressed I/O on the block device the volume lives on: reads and
//! writes at any offset, turned into the sector-aligned requests the
//! device takes (a partial sector is read, patched and written back).

use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};

/// Where the I/O of a mount goes: a kernel device or, in unit tests,
/// memory.
pub trait Backing: Send + Sync {
    fn size(&self) -> u64;
    fn sector_size(&self) -> u32;
    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>>;
    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()>;
    fn flush(&self) -> KResult<()>;
}

impl Backing for DeviceObj {
    fn size(&self) -> u64 {
        rump_plugin_api::ffi::DeviceOps::size(self)
    }

    fn sector_size(&self) -> u32 {
        rump_plugin_api::ffi::DeviceOps::sector_size(self)
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        rump_plugin_api::ffi::DeviceOps::read_at(self, offset, len)
            .into_result()
            .map(|v| v.into_vec())
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
        rump_plugin_api::ffi::DeviceOps::write_at(self, offset, data.into()).into_result()
    }

    fn flush(&self) -> KResult<()> {
        rump_plugin_api::ffi::DeviceOps::flush(self).into_result()
    }
}

/// The device, with its sector size.
pub struct Disk {
    dev: Box<dyn Backing>,
    sector: u64,
    size: u64,
}

impl Disk {
    pub fn new(dev: Box<dyn Backing>) -> Disk {
        let sector = u64::from(dev.sector_size().max(1)).next_power_of_two();
        let size = dev.size();
        Disk { dev, sector, size }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads exactly `len` bytes at `offset`; EIO past the end.
    pub fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let end = offset.checked_add(len as u64).ok_or(Errno::EIO)?;
        if end > self.size {
            return Err(Errno::EIO);
        }
        let start = offset & !(self.sector - 1);
        let stop = end.div_ceil(self.sector) * self.sector;
        let got = self.dev.read_at(start, (stop - start) as usize)?;
        let skip = (offset - start) as usize;
        if got.len() < skip + len {
            return Err(Errno::EIO);
        }
        if skip == 0 && got.len() == len {
            return Ok(got);
        }
        Ok(got[skip..skip + len].to_vec())
    }

    /// Writes `data` at `offset`; EIO past the end.
    pub fn write(&self, offset: u64, data: &[u8]) -> KResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EIO)?;
        if end > self.size {
            return Err(Errno::EIO);
        }
        let start = offset & !(self.sector - 1);
        let stop = end.div_ceil(self.sector) * self.sector;
        if start == offset && stop == end {
            return self.dev.write_at(offset, data);
        }
        let stop = stop.min(self.size);
        let mut buf = if stop - start <= 2 * self.sector {
            self.dev.read_at(start, (stop - start) as usize)?
        } else {
            // Only the partial sectors at the edges need their old bytes.
            let mut b = vec![0u8; (stop - start) as usize];
            let head = self.dev.read_at(start, self.sector as usize)?;
            let n = head.len().min(b.len());
            b[..n].copy_from_slice(&head[..n]);
            let last = stop - self.sector;
            let tail = self.dev.read_at(last, self.sector as usize)?;
            let at = (last - start) as usize;
            let n = tail.len().min(b.len() - at);
            b[at..at + n].copy_from_slice(&tail[..n]);
            b
        };
        if buf.len() < (stop - start) as usize {
            return Err(Errno::EIO);
        }
        let skip = (offset - start) as usize;
        buf[skip..skip + data.len()].copy_from_slice(data);
        self.dev.write_at(start, &buf)
    }

    /// Writes `len` zero bytes at `offset`.
    pub fn zero(&self, offset: u64, len: u64) -> KResult<()> {
        const CHUNK: u64 = 256 << 10;
        let mut done = 0;
        let zeros = vec![0u8; CHUNK.min(len) as usize];
        while done < len {
            let n = CHUNK.min(len - done);
            self.write(offset + done, &zeros[..n as usize])?;
            done += n;
        }
        Ok(())
    }

    pub fn flush(&self) -> KResult<()> {
        self.dev.flush()
    }
}

#[cfg(test)]
pub mod testing {
    //! A device in memory.

    use super::*;
    use parking_lot::Mutex;
    use std::sync::Arc;

    #[derive(Clone)]
    pub struct MemDev(pub Arc<Mutex<Vec<u8>>>);

    impl Backing for MemDev {
        fn size(&self) -> u64 {
            self.0.lock().len() as u64
        }

        fn sector_size(&self) -> u32 {
            512
        }

        fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
            assert_eq!(offset % 512, 0, "aligned reads");
            assert_eq!(len % 512, 0, "whole sectors");
            let d = self.0.lock();
            let s = (offset as usize).min(d.len());
            let e = (s + len).min(d.len());
            Ok(d[s..e].to_vec())
        }

        fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
            assert_eq!(offset % 512, 0, "aligned writes");
            assert_eq!(data.len() % 512, 0, "whole sectors");
            let mut d = self.0.lock();
            let s = offset as usize;
            if s + data.len() > d.len() {
                return Err(Errno::EIO);
            }
            d[s..s + data.len()].copy_from_slice(data);
            Ok(())
        }

        fn flush(&self) -> KResult<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::MemDev;
    use super::*;
    use parking_lot::Mutex;
    use std::sync::Arc;

    #[test]
    fn unaligned_reads_and_writes() {
        let mem = MemDev(Arc::new(Mutex::new(vec![0u8; 8192])));
        let d = Disk::new(Box::new(mem.clone()));
        d.write(100, b"hello").unwrap();
        d.write(1000, &[7u8; 3000]).unwrap();
        assert_eq!(d.read(100, 5).unwrap(), b"hello");
        assert_eq!(d.read(999, 3002).unwrap()[1..3001], [7u8; 3000]);
        assert_eq!(mem.0.lock()[999], 0);
        assert_eq!(mem.0.lock()[4000], 0);
        assert_eq!(d.read(8190, 4), Err(Errno::EIO));
        assert_eq!(d.write(8190, b"abcd"), Err(Errno::EIO));
        d.zero(1000, 10).unwrap();
        assert_eq!(d.read(1000, 11).unwrap(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    }
}
