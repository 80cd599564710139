//! The boot sector's BIOS parameter block: where the FATs, the root
//! directory and the clusters are, and which FAT type the volume has.
//! Every number is checked before use: a volume that does not add up is
//! EINVAL, as NetBSD's `msdosfs_mountfs` makes it.

use rump_plugin_api::{Errno, KResult};

/// The width of FAT entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

/// The first cluster number of the data area.
pub const FIRST_CLUSTER: u32 = 2;
/// The most clusters a FAT32 volume can have.
pub const FAT32_MAX_CLUSTERS: u32 = 0x0fff_fff5;

/// The layout of a volume, from its boot sector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes per sector (a power of two, 512 to 4096).
    pub bps: u32,
    /// Sectors per cluster.
    pub spc: u32,
    /// Bytes per cluster.
    pub csize: u32,
    /// Sectors before the first FAT.
    pub reserved: u32,
    pub nfats: u32,
    /// Sectors per FAT.
    pub fat_secs: u32,
    /// Entries of the fixed root directory (0 on FAT32).
    pub root_ents: u32,
    pub total_secs: u32,
    pub fat_type: FatType,
    /// First sector of the fixed root directory (FAT12/16).
    pub root_sec: u32,
    /// Sectors of the fixed root directory (FAT12/16).
    pub root_secs: u32,
    /// First sector of cluster 2.
    pub data_sec: u32,
    /// Clusters in the data area.
    pub nclusters: u32,
    /// The root directory's first cluster (FAT32).
    pub root_cluster: u32,
    /// The FSInfo sector (FAT32), if the volume has one.
    pub fsinfo_sec: Option<u32>,
    /// Whether every FAT copy is kept the same (else only `active_fat`).
    pub mirror: bool,
    pub active_fat: u32,
}

fn u16_at(b: &[u8], off: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[off], b[off + 1]]))
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

impl Geometry {
    /// Reads the boot sector `b` (at least 512 bytes) of a device of
    /// `dev_size` bytes.
    pub fn parse(b: &[u8], dev_size: u64) -> KResult<Geometry> {
        if b.len() < 512 || b[510] != 0x55 || b[511] != 0xaa {
            return Err(Errno::EINVAL);
        }
        let bps = u16_at(b, 11);
        let spc = u32::from(b[13]);
        let reserved = u16_at(b, 14);
        let nfats = u32::from(b[16]);
        let root_ents = u16_at(b, 17);
        let secs16 = u16_at(b, 19);
        let fat16_secs = u16_at(b, 22);
        let sec_per_track = u16_at(b, 24);
        let secs32 = u32_at(b, 32);
        if !bps.is_power_of_two() || !(512..=4096).contains(&bps) {
            return Err(Errno::EINVAL);
        }
        if spc == 0 || !spc.is_power_of_two() || sec_per_track > 63 {
            return Err(Errno::EINVAL);
        }
        if reserved == 0 || nfats == 0 {
            return Err(Errno::EINVAL);
        }
        let total_secs = if secs16 != 0 { secs16 } else { secs32 };
        let csize = bps * spc;
        let fat32 = root_ents == 0;
        let (fat_secs, root_cluster, fsinfo, mirror, active_fat) = if fat32 {
            let version = u16_at(b, 42);
            if secs16 != 0 || fat16_secs != 0 || version != 0 {
                return Err(Errno::EINVAL);
            }
            let ext_flags = u16_at(b, 40);
            let mirror = ext_flags & 0x80 == 0;
            let active = if mirror { 0 } else { ext_flags & 0x0f };
            let fsinfo = u16_at(b, 48);
            (u32_at(b, 36), u32_at(b, 44), fsinfo, mirror, active)
        } else {
            (fat16_secs, 0, 0, true, 0)
        };
        if fat_secs == 0 || active_fat >= nfats {
            return Err(Errno::EINVAL);
        }
        let fats_end = u64::from(reserved) + u64::from(nfats) * u64::from(fat_secs);
        let root_secs = (root_ents * 32).div_ceil(bps);
        let data_sec = fats_end + u64::from(root_secs);
        if data_sec >= u64::from(total_secs) {
            return Err(Errno::EINVAL);
        }
        // The metadata must be on the device; clusters past its end fail
        // when they are used.
        if data_sec * u64::from(bps) > dev_size {
            return Err(Errno::EINVAL);
        }
        let data_sec = data_sec as u32;
        let mut nclusters = (total_secs - data_sec) / spc;
        if nclusters == 0 {
            return Err(Errno::EINVAL);
        }
        let fat_type = if fat32 {
            FatType::Fat32
        } else if nclusters < 0xff4 {
            // NetBSD's rule: a maximum cluster number that fits the
            // FAT12 range makes FAT12.
            FatType::Fat12
        } else {
            FatType::Fat16
        };
        // No more clusters than the FAT (and the type) can describe.
        let fat_bytes = u64::from(fat_secs) * u64::from(bps);
        let describable = match fat_type {
            FatType::Fat12 => fat_bytes * 2 / 3,
            FatType::Fat16 => fat_bytes / 2,
            FatType::Fat32 => fat_bytes / 4,
        }
        .saturating_sub(2);
        let type_max = match fat_type {
            FatType::Fat12 => 0xff5,
            FatType::Fat16 => 0xfff5,
            FatType::Fat32 => FAT32_MAX_CLUSTERS,
        };
        nclusters = nclusters.min(describable.min(u64::from(type_max)) as u32);
        if nclusters == 0 {
            return Err(Errno::EINVAL);
        }
        if fat32 && (root_cluster < FIRST_CLUSTER || root_cluster > nclusters + 1) {
            return Err(Errno::EINVAL);
        }
        let fsinfo_sec = (fat32 && fsinfo != 0 && fsinfo < reserved).then_some(fsinfo);
        Ok(Geometry {
            bps,
            spc,
            csize,
            reserved,
            nfats,
            fat_secs,
            root_ents,
            total_secs,
            fat_type,
            root_sec: fats_end as u32,
            root_secs,
            data_sec,
            nclusters,
            root_cluster,
            fsinfo_sec,
            mirror,
            active_fat,
        })
    }

    /// The highest cluster number.
    pub fn max_cluster(&self) -> u32 {
        self.nclusters + 1
    }

    /// Whether `c` names a data cluster.
    pub fn valid_cluster(&self, c: u32) -> bool {
        (FIRST_CLUSTER..=self.max_cluster()).contains(&c)
    }

    /// The byte offset of cluster `c` (a valid cluster).
    pub fn cluster_offset(&self, c: u32) -> u64 {
        (u64::from(self.data_sec) + u64::from(c - FIRST_CLUSTER) * u64::from(self.spc))
            * u64::from(self.bps)
    }

    /// The byte offset of FAT copy `n`.
    pub fn fat_offset(&self, n: u32) -> u64 {
        (u64::from(self.reserved) + u64::from(n) * u64::from(self.fat_secs)) * u64::from(self.bps)
    }

    /// The byte offset and length of the fixed root directory.
    pub fn root_area(&self) -> (u64, u64) {
        (
            u64::from(self.root_sec) * u64::from(self.bps),
            u64::from(self.root_secs) * u64::from(self.bps),
        )
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A FAT16 boot sector: 512-byte sectors, 4 sectors a cluster, 20000
    /// sectors, 2 FATs of 20 sectors, 512 root entries.
    pub fn fat16_boot() -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[11..13].copy_from_slice(&512u16.to_le_bytes());
        b[13] = 4;
        b[14..16].copy_from_slice(&1u16.to_le_bytes());
        b[16] = 2;
        b[17..19].copy_from_slice(&512u16.to_le_bytes());
        b[19..21].copy_from_slice(&20000u16.to_le_bytes());
        b[22..24].copy_from_slice(&20u16.to_le_bytes());
        b[24..26].copy_from_slice(&32u16.to_le_bytes());
        b[510] = 0x55;
        b[511] = 0xaa;
        b
    }

    #[test]
    fn fat16_layout() {
        let g = Geometry::parse(&fat16_boot(), 20000 * 512).unwrap();
        assert_eq!(g.fat_type, FatType::Fat16);
        assert_eq!((g.root_sec, g.root_secs, g.data_sec), (41, 32, 73));
        assert_eq!(g.nclusters, (20000 - 73) / 4);
        assert_eq!(g.cluster_offset(2), 73 * 512);
        assert_eq!(g.fat_offset(1), 21 * 512);
    }

    #[test]
    fn nonsense_is_einval() {
        let good = fat16_boot();
        let cases: Vec<(usize, u8)> = vec![
            (510, 0),
            (12, 0),
            (13, 3),
            (13, 0),
            (16, 0),
            (14, 0),
            (22, 0),
        ];
        for (off, v) in cases {
            let mut b = good.clone();
            b[off] = v;
            if off == 14 {
                b[15] = 0;
            }
            assert_eq!(
                Geometry::parse(&b, 20000 * 512),
                Err(Errno::EINVAL),
                "byte {off}"
            );
        }
        assert_eq!(
            Geometry::parse(&good, 1024),
            Err(Errno::EINVAL),
            "metadata past the end"
        );
        assert_eq!(Geometry::parse(&good[..100], 1 << 20), Err(Errno::EINVAL));
    }
}
