//! The device switch: which driver a device node's number leads to. The
//! memory devices (`/dev/null`, `/dev/zero`: major 2), the etfs disks
//! (rumpblk: major 197, one minor per unit) and the partitions found on
//! them (dk, NetBSD's wedge driver: major 168, one minor per partition).

use parking_lot::RwLock;
use rump_plugin_api::abi::stat::{major, minor};
use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;

/// Major number of the memory devices.
pub const MEM_MAJOR: u32 = 2;
/// Major number of etfs block and character devices (rumpblk).
pub const RUMPBLK_MAJOR: u32 = 197;
/// Most rumpblk units.
pub const RUMPBLK_UNITS: usize = 16;
/// Major number of partitions (dk).
pub const DK_MAJOR: u32 = 168;
/// Most dk units.
pub const DK_UNITS: usize = 4096;

/// What a device number leads to.
#[derive(Clone)]
pub enum DevKind {
    Null,
    Zero,
    Disk(DeviceObj),
}

/// The registered disks.
#[derive(Default)]
pub struct Devices {
    disks: RwLock<HashMap<u32, DeviceObj>>,
    partitions: RwLock<HashMap<u32, DeviceObj>>,
}

impl Devices {
    /// Finds the driver for `rdev`; ENXIO if there is none.
    pub fn lookup(&self, rdev: u64) -> KResult<DevKind> {
        match (major(rdev), minor(rdev)) {
            (MEM_MAJOR, 2) => Ok(DevKind::Null),
            (MEM_MAJOR, 12) => Ok(DevKind::Zero),
            (RUMPBLK_MAJOR, unit) => self
                .disks
                .read()
                .get(&unit)
                .cloned()
                .map(DevKind::Disk)
                .ok_or(Errno::ENXIO),
            (DK_MAJOR, unit) => self
                .partitions
                .read()
                .get(&unit)
                .cloned()
                .map(DevKind::Disk)
                .ok_or(Errno::ENXIO),
            _ => Err(Errno::ENXIO),
        }
    }

    /// Attaches a disk as a free rumpblk unit; EBUSY when all are taken.
    pub fn attach(&self, disk: DeviceObj) -> KResult<u32> {
        let mut d = self.disks.write();
        let unit = (0..RUMPBLK_UNITS as u32)
            .find(|u| !d.contains_key(u))
            .ok_or(Errno::EBUSY)?;
        d.insert(unit, disk);
        Ok(unit)
    }

    /// Detaches a unit.
    pub fn detach(&self, unit: u32) {
        self.disks.write().remove(&unit);
    }

    /// Attaches a partition as a free dk unit; EBUSY when all are taken.
    pub fn attach_partition(&self, part: DeviceObj) -> KResult<u32> {
        let mut p = self.partitions.write();
        let unit = (0..DK_UNITS as u32)
            .find(|u| !p.contains_key(u))
            .ok_or(Errno::EBUSY)?;
        p.insert(unit, part);
        Ok(unit)
    }

    /// Detaches a dk unit.
    pub fn detach_partition(&self, unit: u32) {
        self.partitions.write().remove(&unit);
    }

    /// Writes every disk's cached blocks back and makes them durable.
    pub fn flush_all(&self) {
        let disks: Vec<DeviceObj> = self.disks.read().values().cloned().collect();
        for d in disks {
            if let Err(e) = d.flush().into_result() {
                if let Some(k) = rump_plugin_api::kernel::try_kernel() {
                    k.warn(&format!("flushing a disk: {e}"));
                }
            }
        }
    }
}
