//! The image as the file system sees it: exact reads from the block
//! device, and the logical block geometry of the volume.
//!
//! A read that would go past the end of the device fails with EIO, so a
//! truncated image makes the syscall that needs the missing part fail.

use rump_plugin_api::ffi::DeviceOps;
use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};

/// Where the bytes come from: a device, or (in unit tests) memory.
pub trait Source: Send + Sync {
    fn size(&self) -> u64;
    /// Up to `len` bytes at `offset` (short at the end).
    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>>;
}

/// A block device opened through the VFS.
pub struct Device(pub DeviceObj);

impl Source for Device {
    fn size(&self) -> u64 {
        DeviceOps::size(&self.0)
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        DeviceOps::read_at(&self.0, offset, len)
            .into_result()
            .map(|v| v.into_vec())
    }
}

impl Source for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let end = start.saturating_add(len).min(self.len());
        Ok(self[start..end].to_vec())
    }
}

/// The image.
pub struct Disk {
    src: Box<dyn Source>,
    size: u64,
}

impl Disk {
    pub fn new(src: Box<dyn Source>) -> Disk {
        let size = src.size();
        Disk { src, size }
    }

    /// The image's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Exactly `len` bytes at `offset`; EIO if any lies past the end or
    /// the device fails.
    pub fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let end = offset.checked_add(len as u64).ok_or(Errno::EIO)?;
        if end > self.size {
            return Err(Errno::EIO);
        }
        let got = self.src.read_at(offset, len).map_err(|_| Errno::EIO)?;
        if got.len() != len {
            return Err(Errno::EIO);
        }
        Ok(got)
    }
}

/// The logical block size of a volume and its size in blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// log2 of the logical block size (9 to 16).
    pub shift: u32,
    /// The volume's size in logical blocks.
    pub blocks: u64,
}

impl Geometry {
    /// The logical block size in bytes.
    pub fn block_size(&self) -> usize {
        1 << self.shift
    }

    /// The byte address of block `b`.
    pub fn byte(&self, b: u64) -> Option<u64> {
        b.checked_mul(1 << self.shift)
    }

    /// The block holding byte address `a` and the offset in it.
    pub fn split(&self, a: u64) -> (u64, usize) {
        (a >> self.shift, (a & ((1 << self.shift) - 1)) as usize)
    }

    /// Logical block `b`, whole; EIO outside the volume or the image.
    pub fn block(&self, disk: &Disk, b: u64) -> KResult<Vec<u8>> {
        if b >= self.blocks {
            return Err(Errno::EIO);
        }
        disk.read(self.byte(b).ok_or(Errno::EIO)?, self.block_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_exact_and_bounded() {
        let d = Disk::new(Box::new(vec![7u8; 5000]));
        assert_eq!(d.read(4990, 10).unwrap(), vec![7; 10]);
        assert_eq!(d.read(4990, 11), Err(Errno::EIO));
        assert_eq!(d.read(u64::MAX, 2), Err(Errno::EIO));
        let g = Geometry {
            shift: 11,
            blocks: 3,
        };
        assert_eq!(g.block(&d, 1).unwrap().len(), 2048);
        assert_eq!(g.block(&d, 2), Err(Errno::EIO), "past the image");
        assert_eq!(g.block(&d, 3), Err(Errno::EIO), "past the volume");
        assert_eq!(g.split(2048 * 5 + 7), (5, 7));
    }
}
