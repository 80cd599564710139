//! Reading a disk by sectors, within bounds: the one way the parsers
//! reach the image.

use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};

/// The most bytes one read may ask for (a GPT entry array at most).
pub const MAX_READ: u64 = 1 << 20;

/// What can be read: a block device, or bytes in memory in unit tests.
pub trait Media {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Reads `len` bytes at `offset`, which lie inside the media.
    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>>;
}

impl Media for DeviceObj {
    fn size(&self) -> u64 {
        DeviceObj::size(self)
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        self.read_at(offset, len).into_result().map(Into::into)
    }
}

/// An image in memory.
pub struct Bytes<'a>(pub &'a [u8]);

impl Media for Bytes<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let lo = usize::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let hi = lo.checked_add(len).ok_or(Errno::EINVAL)?;
        self.0.get(lo..hi).map(<[u8]>::to_vec).ok_or(Errno::EINVAL)
    }
}

/// A disk seen as numbered sectors.
pub struct Disk<'a> {
    media: &'a dyn Media,
    /// Bytes per sector.
    pub sector: u64,
    /// Whole sectors on the disk.
    pub sectors: u64,
}

impl<'a> Disk<'a> {
    /// `media` with `sector`-byte sectors; `None` for a sector size that
    /// is not a power of two from 512 to 64 KiB.
    pub fn new(media: &'a dyn Media, sector: u64) -> Option<Disk<'a>> {
        if !(512..=65536).contains(&sector) || !sector.is_power_of_two() {
            return None;
        }
        Some(Disk {
            media,
            sector,
            sectors: media.size() / sector,
        })
    }

    /// Sectors `lba..lba + count`; `None` if they are not all on the disk
    /// or more than [`MAX_READ`] bytes; an error if reading fails.
    pub fn read(&self, lba: u64, count: u64) -> KResult<Option<Vec<u8>>> {
        let Some(end) = lba.checked_add(count) else {
            return Ok(None);
        };
        let bytes = count.saturating_mul(self.sector);
        if end > self.sectors || bytes > MAX_READ {
            return Ok(None);
        }
        let data = self.media.read(lba * self.sector, bytes as usize)?;
        if data.len() as u64 != bytes {
            return Err(Errno::EIO);
        }
        Ok(Some(data))
    }

    /// `len` bytes at byte `offset` (which need not be sector aligned),
    /// under the same rules as [`Disk::read`].
    pub fn read_bytes(&self, offset: u64, len: u64) -> KResult<Option<Vec<u8>>> {
        let Some(end) = offset.checked_add(len) else {
            return Ok(None);
        };
        if end > self.sectors.saturating_mul(self.sector) || len > MAX_READ {
            return Ok(None);
        }
        let data = self.media.read(offset, len as usize)?;
        if data.len() as u64 != len {
            return Err(Errno::EIO);
        }
        Ok(Some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stay_on_the_disk() {
        let img = vec![7u8; 4096 + 100];
        let b = Bytes(&img);
        let d = Disk::new(&b, 512).unwrap();
        assert_eq!(d.sectors, 8, "the partial sector does not count");
        assert_eq!(d.read(7, 1).unwrap().unwrap().len(), 512);
        assert_eq!(d.read(7, 2).unwrap(), None);
        assert_eq!(d.read(u64::MAX, 2).unwrap(), None);
        assert_eq!(d.read(0, u64::MAX).unwrap(), None);
        assert_eq!(d.read_bytes(4000, 96).unwrap().unwrap().len(), 96);
        assert_eq!(d.read_bytes(4000, 97).unwrap(), None);
        assert!(Disk::new(&Bytes(&img), 513).is_none());
        assert!(Disk::new(&Bytes(&img), 256).is_none());
    }
}
