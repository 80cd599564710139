//! Block group descriptors: where each group's bitmaps and inode table
//! are, and its free and directory counts. The table follows the
//! superblock (block `first_data_block + 1` on); it is read whole at
//! mount, checked, kept in memory and written back on sync.

use crate::le::{set_u16, set_u32, u16_at, u32_at};
use crate::superblock::{Geometry, GROUP_DESC_SIZE};

/// `bg_flags` bits that mean a group's bitmaps or table were never
/// written (`uninit_bg`); such an image is mounted read-only.
pub const BG_INODE_UNINIT: u16 = 0x0001;
pub const BG_BLOCK_UNINIT: u16 = 0x0002;

/// One group descriptor, as used; the bytes it came from are kept so
/// that fields this implementation does not know survive a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDesc {
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks: u32,
    pub free_inodes: u32,
    pub used_dirs: u32,
    pub flags: u16,
    raw: [u8; GROUP_DESC_SIZE as usize],
}

impl GroupDesc {
    pub fn decode(b: &[u8]) -> GroupDesc {
        let mut raw = [0u8; GROUP_DESC_SIZE as usize];
        raw.copy_from_slice(&b[..GROUP_DESC_SIZE as usize]);
        GroupDesc {
            block_bitmap: u64::from(u32_at(b, 0)),
            inode_bitmap: u64::from(u32_at(b, 4)),
            inode_table: u64::from(u32_at(b, 8)),
            free_blocks: u32::from(u16_at(b, 12)),
            free_inodes: u32::from(u16_at(b, 14)),
            used_dirs: u32::from(u16_at(b, 16)),
            flags: u16_at(b, 18),
            raw,
        }
    }

    /// The 32 bytes of this descriptor.
    pub fn encode(&self) -> [u8; GROUP_DESC_SIZE as usize] {
        let mut b = self.raw;
        set_u32(&mut b, 0, self.block_bitmap as u32);
        set_u32(&mut b, 4, self.inode_bitmap as u32);
        set_u32(&mut b, 8, self.inode_table as u32);
        set_u16(&mut b, 12, self.free_blocks.min(0xffff) as u16);
        set_u16(&mut b, 14, self.free_inodes.min(0xffff) as u16);
        set_u16(&mut b, 16, self.used_dirs.min(0xffff) as u16);
        set_u16(&mut b, 18, self.flags);
        b
    }

    /// A descriptor for a new file system.
    pub fn new(block_bitmap: u64, inode_bitmap: u64, inode_table: u64) -> GroupDesc {
        GroupDesc {
            block_bitmap,
            inode_bitmap,
            inode_table,
            free_blocks: 0,
            free_inodes: 0,
            used_dirs: 0,
            flags: 0,
            raw: [0; GROUP_DESC_SIZE as usize],
        }
    }
}

/// Decodes the table in `bytes` (the group descriptor blocks) and
/// checks every descriptor: bitmaps and inode table inside the file
/// system (inside their own group unless `flex_bg` lets them roam),
/// counts no larger than the group. The reason if one is wrong.
pub fn decode_table(geo: &Geometry, bytes: &[u8]) -> Result<Vec<GroupDesc>, String> {
    let flex = geo.features.has_incompat(crate::features::INCOMPAT_FLEX_BG);
    let mut out = Vec::with_capacity(geo.groups as usize);
    for g in 0..geo.groups {
        let at = g as usize * GROUP_DESC_SIZE as usize;
        let d = GroupDesc::decode(&bytes[at..at + GROUP_DESC_SIZE as usize]);
        let (lo, hi) = if flex {
            (geo.first_data_block, geo.blocks_count)
        } else {
            let first = geo.group_first_block(g);
            (first, first + u64::from(geo.group_blocks(g)))
        };
        let inside = |b: u64, n: u64| b >= lo && b.checked_add(n).is_some_and(|end| end <= hi);
        if !inside(d.block_bitmap, 1) {
            return Err(format!(
                "group {g}: block bitmap {} out of range",
                d.block_bitmap
            ));
        }
        if !inside(d.inode_bitmap, 1) {
            return Err(format!(
                "group {g}: inode bitmap {} out of range",
                d.inode_bitmap
            ));
        }
        if !inside(d.inode_table, u64::from(geo.itable_blocks)) {
            return Err(format!(
                "group {g}: inode table {} out of range",
                d.inode_table
            ));
        }
        if d.free_blocks > geo.group_blocks(g)
            || d.free_inodes > geo.inodes_per_group
            || d.used_dirs > geo.inodes_per_group
        {
            return Err(format!("group {g}: counts out of range"));
        }
        out.push(d);
    }
    Ok(out)
}

/// The table's bytes, padded to whole blocks.
pub fn encode_table(geo: &Geometry, groups: &[GroupDesc]) -> Vec<u8> {
    let mut b = vec![0u8; geo.gdt_blocks as usize * geo.bsize as usize];
    for (i, d) in groups.iter().enumerate() {
        let at = i * GROUP_DESC_SIZE as usize;
        b[at..at + GROUP_DESC_SIZE as usize].copy_from_slice(&d.encode());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::superblock::testing::small_super;

    #[test]
    fn round_trip_and_checks() {
        let geo = Geometry::from_super(&small_super(), 1 << 20).unwrap();
        let mut d = GroupDesc::new(3, 4, 5);
        d.free_blocks = 900;
        d.free_inodes = 100;
        d.used_dirs = 2;
        let bytes = encode_table(&geo, &[d.clone()]);
        assert_eq!(bytes.len(), 1024);
        let back = decode_table(&geo, &bytes).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].encode(), d.encode());
        assert_eq!((back[0].free_blocks, back[0].used_dirs), (900, 2));
        let mut bad = d.clone();
        bad.inode_table = 1020;
        assert!(decode_table(&geo, &encode_table(&geo, &[bad])).is_err());
        let mut bad = d.clone();
        bad.free_inodes = 129;
        assert!(decode_table(&geo, &encode_table(&geo, &[bad])).is_err());
        let mut bad = d;
        bad.block_bitmap = 0;
        assert!(decode_table(&geo, &encode_table(&geo, &[bad])).is_err());
    }
}
