//! The device a file system lives on: positioned reads and writes of
//! whole ranges, a short read being an I/O error.

use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// Positioned I/O on a device of fixed size.
pub trait Disk: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Exactly `len` bytes at `offset` (EIO if the device has fewer), in
    /// the buffer the device made.
    fn read(&self, offset: u64, len: usize) -> KResult<RVec<u8>>;
    /// Writes `data` at `offset`.
    fn write(&self, offset: u64, data: &[u8]) -> KResult<()>;
    /// Makes what was written durable.
    fn flush(&self) -> KResult<()>;
}

/// A block device of the kernel.
pub struct DeviceDisk(pub DeviceObj);

impl Disk for DeviceDisk {
    fn size(&self) -> u64 {
        self.0.size()
    }

    fn read(&self, offset: u64, len: usize) -> KResult<RVec<u8>> {
        let v = self.0.read_at(offset, len).into_result()?;
        if v.len() != len {
            return Err(Errno::EIO);
        }
        Ok(v)
    }

    fn write(&self, offset: u64, data: &[u8]) -> KResult<()> {
        self.0.write_at(offset, data.into()).into_result()
    }

    fn flush(&self) -> KResult<()> {
        self.0.flush().into_result()
    }
}

/// A shared handle on a disk.
pub type DiskRef = Arc<dyn Disk>;

#[cfg(test)]
pub mod testing {
    //! A disk in memory for unit tests.

    use super::*;
    use parking_lot::Mutex;

    /// Bytes in memory, with a count of writes.
    pub struct MemDisk {
        pub bytes: Mutex<Vec<u8>>,
        pub writes: std::sync::atomic::AtomicU64,
    }

    impl MemDisk {
        pub fn new(bytes: Vec<u8>) -> Arc<MemDisk> {
            Arc::new(MemDisk {
                bytes: Mutex::new(bytes),
                writes: 0.into(),
            })
        }
    }

    impl Disk for MemDisk {
        fn size(&self) -> u64 {
            self.bytes.lock().len() as u64
        }

        fn read(&self, offset: u64, len: usize) -> KResult<RVec<u8>> {
            let b = self.bytes.lock();
            let start = usize::try_from(offset).map_err(|_| Errno::EIO)?;
            let end = start.checked_add(len).ok_or(Errno::EIO)?;
            b.get(start..end).map(RVec::from_slice).ok_or(Errno::EIO)
        }

        fn write(&self, offset: u64, data: &[u8]) -> KResult<()> {
            let mut b = self.bytes.lock();
            let start = usize::try_from(offset).map_err(|_| Errno::EIO)?;
            let end = start.checked_add(data.len()).ok_or(Errno::EIO)?;
            b.get_mut(start..end)
                .ok_or(Errno::EINVAL)?
                .copy_from_slice(data);
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }

        fn flush(&self) -> KResult<()> {
            Ok(())
        }
    }
}
