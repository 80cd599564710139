//! The device a file system lives on, seen through checked reads and
//! writes: a short read, or an access past the end, is EIO; writes to a
//! read-only mount are EROFS.

use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};

pub struct Disk {
    dev: DeviceObj,
    size: u64,
}

impl Disk {
    pub fn new(dev: DeviceObj) -> Disk {
        let size = dev.size();
        Disk { dev, size }
    }

    /// Whether the device refuses writes.
    pub fn readonly(&self) -> bool {
        self.dev.readonly()
    }

    /// The device's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Exactly `len` bytes at `off` (in the buffer the device made: no
    /// copy on the way).
    pub fn read(&self, off: u64, len: usize) -> KResult<RVec<u8>> {
        if off
            .checked_add(len as u64)
            .is_none_or(|end| end > self.size)
        {
            return Err(Errno::EIO);
        }
        let v = self.dev.read_at(off, len).into_result()?;
        if v.len() != len {
            return Err(Errno::EIO);
        }
        Ok(v)
    }

    pub fn write(&self, off: u64, data: &[u8]) -> KResult<()> {
        if off
            .checked_add(data.len() as u64)
            .is_none_or(|end| end > self.size)
        {
            return Err(Errno::EIO);
        }
        self.dev.write_at(off, data.into()).into_result()
    }

    pub fn flush(&self) -> KResult<()> {
        self.dev.flush().into_result()
    }
}
