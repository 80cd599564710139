//! A file's data: its extents (one per directory record: several for a
//! multi-extent file), each contiguous or interleaved, and reading byte
//! ranges of it from the image.
//!
//! An interleaved extent (ECMA-119 6.4.3) stores its data in file units
//! of `unit` blocks separated by gaps of `gap` blocks. A read of data
//! that lies past the end of the image fails with EIO.

use crate::disk::{Disk, Geometry};
use rump_plugin_api::{Errno, KResult};

/// The most bytes read from the image at once.
const CHUNK: u64 = 1 << 20;

/// One extent of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// The first data block (after any extended attribute record).
    pub block: u64,
    /// Data bytes in this extent.
    pub size: u64,
    /// File unit size in blocks; 0 when not interleaved.
    pub unit: u8,
    /// Interleave gap in blocks.
    pub gap: u8,
}

impl Extent {
    /// The image byte address of data byte `at` of this extent, and how
    /// many bytes from there on are contiguous in the image (at most up
    /// to `end`).
    fn locate(&self, geo: &Geometry, at: u64, end: u64) -> KResult<(u64, u64)> {
        let bs = geo.block_size() as u64;
        let (block, run_end) = if self.unit == 0 {
            (self.block + at / bs, end)
        } else {
            let (unit, stride) = (
                u64::from(self.unit),
                u64::from(self.unit) + u64::from(self.gap),
            );
            let k = at / bs;
            let block = self.block + (k / unit) * stride + k % unit;
            let unit_end = (k / unit + 1) * unit * bs;
            (block, unit_end.min(end))
        };
        let addr = geo
            .byte(block)
            .and_then(|b| b.checked_add(at % bs))
            .ok_or(Errno::EIO)?;
        Ok((addr, run_end - at))
    }

    /// Appends data bytes `from..to` of this extent to `out`.
    fn read_into(
        &self,
        disk: &Disk,
        geo: &Geometry,
        from: u64,
        to: u64,
        out: &mut Vec<u8>,
    ) -> KResult<()> {
        let mut at = from;
        while at < to {
            let (addr, run) = self.locate(geo, at, to)?;
            let n = run.min(CHUNK);
            out.extend_from_slice(&disk.read(addr, n as usize)?);
            at += n;
        }
        Ok(())
    }
}

/// The total size of `extents`.
pub fn size(extents: &[Extent]) -> u64 {
    extents.iter().map(|e| e.size).sum()
}

/// Up to `len` bytes at `offset` of the file made of `extents` (fewer at
/// its end, none past it).
pub fn read(
    disk: &Disk,
    geo: &Geometry,
    extents: &[Extent],
    offset: u64,
    len: usize,
) -> KResult<Vec<u8>> {
    let total = size(extents);
    let end = offset.saturating_add(len as u64).min(total);
    if offset >= end {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity((end - offset) as usize);
    let mut base = 0u64;
    for e in extents {
        let e_end = base + e.size;
        if e_end > offset && base < end {
            let from = offset.max(base) - base;
            let to = end.min(e_end) - base;
            e.read_into(disk, geo, from, to, &mut out)?;
        }
        base = e_end;
        if base >= end {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Disk, Geometry) {
        // block b is filled with byte b
        let img: Vec<u8> = (0..16u8).flat_map(|b| vec![b; 2048]).collect();
        (
            Disk::new(Box::new(img)),
            Geometry {
                shift: 11,
                blocks: 16,
            },
        )
    }

    #[test]
    fn contiguous_and_multi_extent() {
        let (d, g) = setup();
        let ext = [
            Extent {
                block: 2,
                size: 3000,
                unit: 0,
                gap: 0,
            },
            Extent {
                block: 9,
                size: 100,
                unit: 0,
                gap: 0,
            },
        ];
        assert_eq!(size(&ext), 3100);
        let all = read(&d, &g, &ext, 0, 10_000).unwrap();
        assert_eq!(all.len(), 3100);
        assert!(all[..2048].iter().all(|&b| b == 2));
        assert!(all[2048..3000].iter().all(|&b| b == 3));
        assert!(all[3000..].iter().all(|&b| b == 9));
        assert_eq!(
            read(&d, &g, &ext, 2990, 20).unwrap(),
            [vec![3; 10], vec![9; 10]].concat()
        );
        assert!(read(&d, &g, &ext, 3100, 5).unwrap().is_empty());
        assert!(read(&d, &g, &ext, u64::MAX, 5).unwrap().is_empty());
        let past = [Extent {
            block: 15,
            size: 4096,
            unit: 0,
            gap: 0,
        }];
        assert_eq!(read(&d, &g, &past, 0, 4096), Err(Errno::EIO));
        let huge = [Extent {
            block: u64::MAX / 2,
            size: 10,
            unit: 0,
            gap: 0,
        }];
        assert_eq!(read(&d, &g, &huge, 0, 10), Err(Errno::EIO));
    }

    #[test]
    fn interleaved() {
        let (d, g) = setup();
        // units of 2 blocks with gaps of 1: data blocks 1,2, 4,5, 7,...
        let ext = [Extent {
            block: 1,
            size: 5 * 2048,
            unit: 2,
            gap: 1,
        }];
        let all = read(&d, &g, &ext, 0, usize::MAX).unwrap();
        let blocks: Vec<u8> = all.chunks(2048).map(|c| c[0]).collect();
        assert_eq!(blocks, [1, 2, 4, 5, 7]);
        assert!(all.chunks(2048).all(|c| c.iter().all(|&b| b == c[0])));
        assert_eq!(
            read(&d, &g, &ext, 4000, 200).unwrap(),
            [vec![2; 96], vec![4; 104]].concat()
        );
    }
}
