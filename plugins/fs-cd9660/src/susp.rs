//! The System Use Sharing Protocol (IEEE P1281): the fields in a
//! directory record's system use area and in the continuation areas that
//! `CE` fields chain to.
//!
//! Every field is checked to lie inside its area before it is handed on.
//! A continuation area must lie inside one logical block of the volume;
//! the walk visits at most [`MAX_AREAS`] areas and never the same one
//! twice, so a looping or endless `CE` chain ends the walk instead of
//! hanging it. As in NetBSD, a continuation that cannot be read or is out
//! of bounds ends the walk quietly: the fields seen so far count.

use crate::disk::{Disk, Geometry};
use crate::num::both32;

/// The most areas (the record's own and its continuations) one walk reads.
pub const MAX_AREAS: usize = 32;

/// One field: its signature, version and the bytes after its 4-byte
/// header.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    pub sig: [u8; 2],
    pub version: u8,
    pub data: &'a [u8],
}

/// Whether a walk goes on after a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Go,
    Stop,
}

/// Calls `f` with every version-1 field of `area` and its continuations,
/// in order, except `CE` and `ST` (which the walk obeys itself), until
/// `f` says stop.
pub fn walk(disk: &Disk, geo: &Geometry, area: &[u8], f: &mut dyn FnMut(&Field<'_>) -> Flow) {
    let mut buf = area.to_vec();
    let mut visited: Vec<(u32, u32)> = Vec::new();
    for _ in 0..MAX_AREAS {
        let mut next = None;
        let mut pos = 0usize;
        while pos + 4 <= buf.len() {
            let len = usize::from(buf[pos + 2]);
            if len < 4 || pos + len > buf.len() {
                break;
            }
            let field = Field {
                sig: [buf[pos], buf[pos + 1]],
                version: buf[pos + 3],
                data: &buf[pos + 4..pos + len],
            };
            pos += len;
            if field.version != 1 {
                continue;
            }
            match &field.sig {
                b"CE" => {
                    if let (Some(blk), Some(off), Some(n)) = (
                        both32(field.data, 0),
                        both32(field.data, 8),
                        both32(field.data, 16),
                    ) {
                        next = Some((blk, off, n));
                    }
                }
                b"ST" => break,
                _ => {
                    if f(&field) == Flow::Stop {
                        return;
                    }
                }
            }
        }
        let Some((blk, off, len)) = next else {
            return;
        };
        if u64::from(blk) >= geo.blocks
            || u64::from(off) + u64::from(len) > geo.block_size() as u64
            || visited.contains(&(blk, off))
        {
            return;
        }
        visited.push((blk, off));
        let Ok(block) = geo.block(disk, u64::from(blk)) else {
            return;
        };
        buf = block[off as usize..(off + len) as usize].to_vec();
    }
}

#[cfg(test)]
pub mod testing {
    //! Fields for tests.

    /// A field with signature `sig` and `data`.
    pub fn field(sig: &[u8; 2], data: &[u8]) -> Vec<u8> {
        let mut f = vec![sig[0], sig[1], (data.len() + 4) as u8, 1];
        f.extend_from_slice(data);
        f
    }

    /// A 7.3.3 number.
    pub fn both32(v: u32) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&v.to_le_bytes());
        b[4..].copy_from_slice(&v.to_be_bytes());
        b
    }

    /// A `CE` field pointing at `len` bytes at `off` of block `blk`.
    pub fn ce(blk: u32, off: u32, len: u32) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&both32(blk));
        d.extend_from_slice(&both32(off));
        d.extend_from_slice(&both32(len));
        field(b"CE", &d)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn sigs(disk: &Disk, geo: &Geometry, area: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        walk(disk, geo, area, &mut |f| {
            out.push(String::from_utf8_lossy(&f.sig).into_owned());
            Flow::Go
        });
        out
    }

    #[test]
    fn fields_continuations_and_stops() {
        let mut img = vec![0u8; 4 * 2048];
        let cont = [field(b"NM", b"\0xyz"), field(b"ST", b""), field(b"PX", b"")].concat();
        img[2 * 2048 + 100..2 * 2048 + 100 + cont.len()].copy_from_slice(&cont);
        let disk = Disk::new(Box::new(img));
        let geo = Geometry {
            shift: 11,
            blocks: 4,
        };
        let area = [
            field(b"PX", &[0; 32]),
            ce(2, 100, cont.len() as u32),
            field(b"TF", &[0]),
            [b'N', b'M', 9, 2, 0, 0, 0, 0, 0].to_vec(),
        ]
        .concat();
        assert_eq!(
            sigs(&disk, &geo, &area),
            ["PX", "TF", "NM"],
            "version 2 is skipped, ST stops"
        );
        let mut n = 0;
        walk(&disk, &geo, &area, &mut |_| {
            n += 1;
            Flow::Stop
        });
        assert_eq!(n, 1);
        let truncated = [field(b"PX", &[0; 8]), vec![b'T', b'F', 40, 1, 0]].concat();
        assert_eq!(sigs(&disk, &geo, &truncated), ["PX"]);
        let zero_len = [vec![b'P', b'X', 0, 1], field(b"TF", &[])].concat();
        assert!(sigs(&disk, &geo, &zero_len).is_empty());
    }

    #[test]
    fn bad_and_looping_continuations_end_the_walk() {
        let mut img = vec![0u8; 4 * 2048];
        // block 1 offset 0: a CE pointing at itself; offset 200: a CE to
        // offset 300, which points back at 200.
        let me = ce(1, 0, 28);
        img[2048..2048 + 28].copy_from_slice(&me);
        let a = [field(b"NM", b"\0a"), ce(1, 300, 34)].concat();
        let b = [field(b"NM", b"\0b"), ce(1, 200, 34)].concat();
        img[2048 + 200..2048 + 200 + a.len()].copy_from_slice(&a);
        img[2048 + 300..2048 + 300 + b.len()].copy_from_slice(&b);
        let disk = Disk::new(Box::new(img));
        let geo = Geometry {
            shift: 11,
            blocks: 4,
        };
        assert!(sigs(&disk, &geo, &ce(1, 0, 28)).is_empty());
        assert_eq!(sigs(&disk, &geo, &ce(1, 200, 34)), ["NM", "NM"]);
        assert!(
            sigs(&disk, &geo, &ce(4, 0, 10)).is_empty(),
            "past the volume"
        );
        assert!(
            sigs(&disk, &geo, &ce(1, 2000, 100)).is_empty(),
            "past the block"
        );
        let short_geo = Geometry {
            shift: 11,
            blocks: 9,
        };
        assert!(
            sigs(&disk, &short_geo, &ce(8, 0, 10)).is_empty(),
            "past the image"
        );
    }
}
