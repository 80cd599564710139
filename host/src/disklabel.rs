//! Finding a partition in a BSD disklabel inside a host file, for
//! `-d ...,disklabel=X`.
//!
//! The label is searched in the first 64 KiB at every 4-byte offset, in
//! either byte order, and must carry the magic twice and a zero checksum.
//! Offsets and sizes are computed in 64 bits (NetBSD's rump_allserver
//! overflows above 4 GiB) and a byte-swapped label is decoded before it
//! is used (NetBSD swaps after using it).

use netbsd_abi::bytes::Reader;
use netbsd_abi::Errno;

/// The disklabel magic, `d_magic` and `d_magic2`.
pub const DISKMAGIC: u32 = 0x8256_4557;
/// Size of `struct disklabel` with 22 partitions on LP64.
pub const LABEL_SIZE: usize = 504;
/// Most partitions a label holds.
pub const MAXPARTITIONS: usize = 22;
const SCAN: usize = 65536;

/// A partition's window in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub size: u64,
}

/// Why no window was found; the message names the step, as NetBSD's do.
#[derive(Debug, PartialEq, Eq)]
pub struct LabelError {
    pub reason: &'static str,
    pub errno: Errno,
}

fn read16(b: &[u8], off: usize, swapped: bool) -> u16 {
    let v = u16::from_le_bytes([b[off], b[off + 1]]);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

fn read32(b: &[u8], off: usize, swapped: bool) -> u32 {
    let v = Reader::new(b).u32(off);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

/// Finds partition `part` (0 for `a`) in the label in `head` (the first
/// 64 KiB of the image, or less if the image is shorter).
pub fn find(head: &[u8], part: u8) -> Result<Window, LabelError> {
    let mut buf = head.to_vec();
    buf.resize(SCAN.max(head.len()), 0);
    for off in (0..=SCAN - LABEL_SIZE).step_by(4) {
        let l = &buf[off..off + LABEL_SIZE];
        let m = Reader::new(l).u32(0);
        let m2 = Reader::new(l).u32(132);
        let swapped = match (m, m2) {
            (DISKMAGIC, DISKMAGIC) => false,
            (a, b) if a == DISKMAGIC.swap_bytes() && b == DISKMAGIC.swap_bytes() => true,
            _ => continue,
        };
        let npart = read16(l, 138, swapped) as usize;
        if npart > MAXPARTITIONS {
            continue;
        }
        let end = 148 + 16 * npart;
        let sum = l[..end]
            .chunks_exact(2)
            .fold(0u16, |acc, w| acc ^ u16::from_le_bytes([w[0], w[1]]));
        if sum != 0 {
            continue;
        }
        if part as usize >= npart {
            return Err(LabelError {
                reason: "partition not available",
                errno: Errno::ENOENT,
            });
        }
        let p = 148 + 16 * part as usize;
        let size = u64::from(read32(l, p, swapped)) << 9;
        let offset = u64::from(read32(l, p + 4, swapped)) << 9;
        return Ok(Window { offset, size });
    }
    Err(LabelError {
        reason: "disklabel not found",
        errno: Errno::ENOENT,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A label with the given (size, offset) partitions, in sectors.
    pub fn label(parts: &[(u32, u32)], swapped: bool) -> Vec<u8> {
        let mut l = vec![0u8; LABEL_SIZE];
        let put32 = |l: &mut [u8], off: usize, v: u32| {
            let v = if swapped { v.swap_bytes() } else { v };
            l[off..off + 4].copy_from_slice(&v.to_le_bytes());
        };
        put32(&mut l, 0, DISKMAGIC);
        put32(&mut l, 132, DISKMAGIC);
        let n = parts.len() as u16;
        let n = if swapped { n.swap_bytes() } else { n };
        l[138..140].copy_from_slice(&n.to_le_bytes());
        for (i, (size, offset)) in parts.iter().enumerate() {
            put32(&mut l, 148 + 16 * i, *size);
            put32(&mut l, 152 + 16 * i, *offset);
        }
        let end = 148 + 16 * parts.len();
        let sum = l[..end]
            .chunks_exact(2)
            .fold(0u16, |a, w| a ^ u16::from_le_bytes([w[0], w[1]]));
        l[136..138].copy_from_slice(&sum.to_le_bytes());
        l
    }

    #[test]
    fn finds_partitions_beyond_4_gib_in_both_byte_orders() {
        for swapped in [false, true] {
            let mut img = vec![0u8; 8192];
            img[512..512 + LABEL_SIZE]
                .copy_from_slice(&label(&[(100, 63), (16_777_216, 9_000_000)], swapped));
            assert_eq!(
                find(&img, 0).unwrap(),
                Window {
                    offset: 63 * 512,
                    size: 100 * 512
                }
            );
            let b = find(&img, 1).unwrap();
            assert_eq!(b.size, 8 << 30, "no 32-bit overflow");
            assert_eq!(b.offset, 9_000_000 * 512);
            assert_eq!(find(&img, 2).unwrap_err().reason, "partition not available");
        }
    }

    #[test]
    fn needs_a_valid_checksum() {
        let mut img = vec![0u8; 4096];
        let mut l = label(&[(1, 2)], false);
        l[150] ^= 1; // inside the checksummed partition table
        img[..LABEL_SIZE].copy_from_slice(&l);
        assert_eq!(find(&img, 0).unwrap_err().reason, "disklabel not found");
        assert_eq!(find(&[], 0).unwrap_err().reason, "disklabel not found");
    }
}
