//! The volume descriptor set (ECMA-119 8): the primary descriptor, and
//! the supplementary one that makes a Joliet volume.
//!
//! As in NetBSD: descriptors are read from sector 16 on (2048-byte
//! sectors) until the terminator, at most up to sector 100; each must
//! carry the standard identifier `CD001`. The first primary and the first
//! supplementary descriptor count. A logical block size other than a
//! power of two from 512 to 65536 bytes refuses the volume.

use crate::disk::{Disk, Geometry};
use crate::num::{both16, both32, bytes, u8_at};
use rump_plugin_api::{Errno, KResult};

/// The size of a volume descriptor (and of a logical sector).
pub const SECTOR: u64 = 2048;
/// Where the descriptors start, and the sector NetBSD stops looking at.
const FIRST: u64 = 16;
const LIMIT: u64 = 100;

const TYPE_PRIMARY: u8 = 1;
const TYPE_SUPPLEMENTARY: u8 = 2;
const TYPE_TERMINATOR: u8 = 255;
const STANDARD_ID: &[u8] = b"CD001";

/// What a primary or supplementary descriptor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub geo: Geometry,
    /// The root directory record's extent and extended attribute length.
    pub root_extent: u32,
    pub root_xattr: u8,
}

impl Descriptor {
    fn parse(s: &[u8]) -> KResult<Descriptor> {
        let lbs = both16(s, 128).ok_or(Errno::EINVAL)?;
        if !(512..=65535).contains(&lbs) || !lbs.is_power_of_two() {
            return Err(Errno::EINVAL);
        }
        let root = bytes(s, 156, 34).ok_or(Errno::EINVAL)?;
        Ok(Descriptor {
            geo: Geometry {
                shift: lbs.trailing_zeros(),
                blocks: u64::from(both32(s, 80).ok_or(Errno::EINVAL)?),
            },
            root_extent: both32(root, 2).ok_or(Errno::EINVAL)?,
            root_xattr: root[1],
        })
    }

    /// The root directory's first data block.
    pub fn root_block(&self) -> u64 {
        u64::from(self.root_extent) + u64::from(self.root_xattr)
    }
}

/// The descriptors a mount chooses from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Volume {
    pub primary: Descriptor,
    /// A Joliet supplementary descriptor and its level (1 to 3).
    pub joliet: Option<(u8, Descriptor)>,
}

/// The Joliet level an escape sequence names.
fn joliet_level(s: &[u8]) -> Option<u8> {
    if u8_at(s, 7)? & 1 != 0 {
        return None;
    }
    match bytes(s, 88, 3)? {
        b"%/@" => Some(1),
        b"%/C" => Some(2),
        b"%/E" => Some(3),
        _ => None,
    }
}

/// Reads the descriptor set. EINVAL when it is missing, unterminated
/// before the image ends, or has no primary descriptor.
pub fn scan(disk: &Disk) -> KResult<Volume> {
    let mut primary = None;
    let mut supplementary: Option<Vec<u8>> = None;
    for n in FIRST..LIMIT {
        let s = disk
            .read(n * SECTOR, SECTOR as usize)
            .map_err(|_| Errno::EINVAL)?;
        if &s[1..6] != STANDARD_ID {
            return Err(Errno::EINVAL);
        }
        match s[0] {
            TYPE_PRIMARY if primary.is_none() => primary = Some(Descriptor::parse(&s)?),
            TYPE_SUPPLEMENTARY if supplementary.is_none() => supplementary = Some(s),
            TYPE_TERMINATOR => break,
            _ => {}
        }
    }
    let primary = primary.ok_or(Errno::EINVAL)?;
    let joliet = match supplementary {
        Some(s) => match joliet_level(&s) {
            Some(level) => Some((level, Descriptor::parse(&s)?)),
            None => None,
        },
        None => None,
    };
    Ok(Volume { primary, joliet })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(kind: u8, lbs: u16, blocks: u32, root: u32, escape: &[u8]) -> Vec<u8> {
        let mut s = vec![0u8; 2048];
        s[0] = kind;
        s[1..6].copy_from_slice(STANDARD_ID);
        s[6] = 1;
        s[80..84].copy_from_slice(&blocks.to_le_bytes());
        s[84..88].copy_from_slice(&blocks.to_be_bytes());
        s[88..88 + escape.len()].copy_from_slice(escape);
        s[128..130].copy_from_slice(&lbs.to_le_bytes());
        s[130..132].copy_from_slice(&lbs.to_be_bytes());
        s[156] = 34;
        s[158..162].copy_from_slice(&root.to_le_bytes());
        s
    }

    fn image(descs: &[Vec<u8>]) -> Disk {
        let mut img = vec![0u8; 16 * 2048];
        for d in descs {
            img.extend_from_slice(d);
        }
        Disk::new(Box::new(img))
    }

    #[test]
    fn primary_and_joliet() {
        let d = image(&[
            descriptor(1, 2048, 200, 20, b""),
            descriptor(2, 2048, 200, 30, b"%/E"),
            descriptor(255, 0, 0, 0, b""),
        ]);
        let v = scan(&d).unwrap();
        assert_eq!(v.primary.root_block(), 20);
        assert_eq!(
            v.primary.geo,
            Geometry {
                shift: 11,
                blocks: 200
            }
        );
        let (level, j) = v.joliet.unwrap();
        assert_eq!((level, j.root_extent), (3, 30));
        let d = image(&[
            descriptor(1, 2048, 200, 20, b""),
            descriptor(2, 2048, 200, 30, b"xyz"),
            descriptor(2, 2048, 200, 40, b"%/@"),
            descriptor(255, 0, 0, 0, b""),
        ]);
        assert_eq!(
            scan(&d).unwrap().joliet,
            None,
            "only the first supplementary counts"
        );
    }

    #[test]
    fn refusals() {
        let end = descriptor(255, 0, 0, 0, b"");
        assert_eq!(
            scan(&image(std::slice::from_ref(&end))),
            Err(Errno::EINVAL),
            "no primary"
        );
        let mut bad = descriptor(1, 2048, 200, 20, b"");
        bad[1] = b'X';
        assert_eq!(scan(&image(&[bad, end.clone()])), Err(Errno::EINVAL));
        for lbs in [0, 256, 3000, 1000] {
            let p = descriptor(1, lbs, 200, 20, b"");
            assert_eq!(scan(&image(&[p, end.clone()])), Err(Errno::EINVAL), "{lbs}");
        }
        let p = descriptor(1, 2048, 200, 20, b"");
        assert_eq!(
            scan(&image(&[p])),
            Err(Errno::EINVAL),
            "unterminated, then the image ends"
        );
        assert_eq!(
            scan(&Disk::new(Box::new(vec![0u8; 1000]))),
            Err(Errno::EINVAL)
        );
        let p = descriptor(1, 512, 200, 20, b"");
        assert_eq!(scan(&image(&[p, end])).unwrap().primary.geo.shift, 9);
    }
}
