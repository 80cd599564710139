//! The NetBSD disklabel (`struct disklabel`, disklabel(5)).
//!
//! Facts used: the label carries the magic 0x82564557 at byte 0 and
//! again at byte 132 (`d_magic2`); `d_packname` is 16 bytes at 24;
//! `d_npartitions` is a 16-bit count at 138; the partition table starts
//! at byte 148 with 16 bytes per partition (`p_size`, `p_offset` in
//! sectors from the start of the disk, `p_fsize`, then `p_fstype` as one
//! byte). The 16-bit words of the label up to the end of its table XOR to
//! zero (`d_checksum` at 136 makes them). A label written on a machine of
//! the other byte order is found with both magics swapped. The largest
//! `MAXPARTITIONS` of any NetBSD port is 22.
//!
//! On amd64 and i386 the label sits in sector 1 of the disk, or of the
//! NetBSD MBR partition; other ports use sector 0 at byte 0, 64 or 128,
//! or sector 2. The label is therefore looked for at every 4-byte offset
//! of the first three sectors of each place, as NetBSD's wedge code does
//! in the sectors it reads.

/// `d_magic` and `d_magic2`.
pub const DISKMAGIC: u32 = 0x8256_4557;
/// The most partitions a label may have (the largest port's).
pub const MAXPARTITIONS: usize = 22;
/// Where the partition table starts.
const TABLE: usize = 148;
/// Bytes per partition entry.
const ENTRY: usize = 16;
/// `FS_UNUSED`.
pub const FS_UNUSED: u8 = 0;

/// One partition in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPart {
    /// 0 for `a`.
    pub index: usize,
    /// In sectors from the start of the disk.
    pub offset: u64,
    pub size: u64,
    pub fstype: u8,
}

/// A valid label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub packname: String,
    /// Written in the other byte order.
    pub swapped: bool,
    pub npartitions: usize,
    /// The partitions whose type is not `unused` and size not zero.
    pub parts: Vec<LabelPart>,
}

fn u16_at(b: &[u8], off: usize, swapped: bool) -> u16 {
    let v = u16::from_le_bytes([b[off], b[off + 1]]);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

fn u32_at(b: &[u8], off: usize, swapped: bool) -> u32 {
    let v = u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

/// The label at the start of `b`, if it is a valid one that fits in `b`.
fn parse(b: &[u8]) -> Option<Label> {
    if b.len() < TABLE {
        return None;
    }
    let swapped = match (u32_at(b, 0, false), u32_at(b, 132, false)) {
        (DISKMAGIC, DISKMAGIC) => false,
        (m, m2) if m == DISKMAGIC.swap_bytes() && m2 == DISKMAGIC.swap_bytes() => true,
        _ => return None,
    };
    let npartitions = usize::from(u16_at(b, 138, swapped));
    let end = TABLE + ENTRY * npartitions;
    if npartitions > MAXPARTITIONS || end > b.len() {
        return None;
    }
    let sum = b[..end]
        .chunks_exact(2)
        .fold(0u16, |s, w| s ^ u16::from_le_bytes([w[0], w[1]]));
    if sum != 0 {
        return None;
    }
    let pack = &b[24..40];
    let pack = &pack[..pack.iter().position(|&c| c == 0).unwrap_or(pack.len())];
    let parts = (0..npartitions)
        .filter_map(|i| {
            let e = TABLE + ENTRY * i;
            let p = LabelPart {
                index: i,
                size: u64::from(u32_at(b, e, swapped)),
                offset: u64::from(u32_at(b, e + 4, swapped)),
                fstype: b[e + 12],
            };
            (p.fstype != FS_UNUSED && p.size != 0).then_some(p)
        })
        .collect();
    Some(Label {
        packname: String::from_utf8_lossy(pack).into_owned(),
        swapped,
        npartitions,
        parts,
    })
}

/// The first valid label in `buf` at a 4-byte offset, with its offset.
pub fn find(buf: &[u8]) -> Option<(usize, Label)> {
    (0..buf.len())
        .step_by(4)
        .find_map(|off| parse(&buf[off..]).map(|l| (off, l)))
}

/// The letter of partition `index`.
pub fn letter(index: usize) -> char {
    char::from(b'a' + (index as u8))
}

/// NetBSD's `dkw_ptype` for a label's `p_fstype`.
pub fn ptype_name(fstype: u8) -> String {
    const NAMES: [&str; 30] = [
        "unused",
        "swap",
        "v6",
        "v7",
        "sysv",
        "v71k",
        "v8",
        "ffs",
        "msdos",
        "lfs",
        "other",
        "hpfs",
        "cd9660",
        "boot",
        "ados",
        "hfs",
        "filecore",
        "ext2fs",
        "ntfs",
        "raidframe",
        "ccd",
        "jfs2",
        "appleufs",
        "vinum",
        "udf",
        "sysvbfs",
        "efs",
        "nilfs",
        "cgd",
        "minixfs3",
    ];
    match NAMES.get(usize::from(fstype)) {
        Some(n) => (*n).to_string(),
        None => format!("unknown#{fstype}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A label with partitions `(size, offset, fstype)` in sectors.
    pub fn label(pack: &str, parts: &[(u32, u32, u8)], swapped: bool) -> Vec<u8> {
        let mut l = vec![0u8; TABLE + ENTRY * parts.len()];
        let put32 = |l: &mut [u8], off: usize, v: u32| {
            let v = if swapped { v.swap_bytes() } else { v };
            l[off..off + 4].copy_from_slice(&v.to_le_bytes());
        };
        put32(&mut l, 0, DISKMAGIC);
        put32(&mut l, 132, DISKMAGIC);
        l[24..24 + pack.len()].copy_from_slice(pack.as_bytes());
        let n = parts.len() as u16;
        let n = if swapped { n.swap_bytes() } else { n };
        l[138..140].copy_from_slice(&n.to_le_bytes());
        for (i, &(size, offset, fstype)) in parts.iter().enumerate() {
            put32(&mut l, TABLE + ENTRY * i, size);
            put32(&mut l, TABLE + ENTRY * i + 4, offset);
            l[TABLE + ENTRY * i + 12] = fstype;
        }
        let sum = l
            .chunks_exact(2)
            .fold(0u16, |s, w| s ^ u16::from_le_bytes([w[0], w[1]]));
        l[136..138].copy_from_slice(&sum.to_le_bytes());
        l
    }

    #[test]
    fn found_anywhere_in_either_byte_order() {
        for swapped in [false, true] {
            let mut buf = vec![0u8; 1536];
            let l = label("pack", &[(100, 63, 7), (0, 0, 0), (50, 200, 1)], swapped);
            buf[516..516 + l.len()].copy_from_slice(&l);
            let (off, got) = find(&buf).unwrap();
            assert_eq!(off, 516);
            assert_eq!((got.swapped, got.npartitions), (swapped, 3));
            assert_eq!(got.packname, "pack");
            assert_eq!(
                got.parts,
                [
                    LabelPart {
                        index: 0,
                        offset: 63,
                        size: 100,
                        fstype: 7
                    },
                    LabelPart {
                        index: 2,
                        offset: 200,
                        size: 50,
                        fstype: 1
                    }
                ]
            );
        }
    }

    #[test]
    fn bad_labels_are_not_found() {
        let good = label("", &[(1, 2, 7)], false);
        let mut bad_sum = good.clone();
        bad_sum[150] ^= 1;
        let mut too_many = good.clone();
        too_many[138] = 23;
        let mut past_end = good.clone();
        past_end[138] = 20; // a table longer than the buffer
        for b in [bad_sum, too_many, past_end, good[..100].to_vec()] {
            assert_eq!(find(&b), None);
        }
        assert!(find(&good).is_some());
    }

    #[test]
    fn ptype_names() {
        assert_eq!(ptype_name(7), "ffs");
        assert_eq!(ptype_name(8), "msdos");
        assert_eq!(ptype_name(17), "ext2fs");
        assert_eq!(ptype_name(200), "unknown#200");
        assert_eq!(letter(15), 'p');
    }
}
