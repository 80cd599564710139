//! The 32-byte directory slots: short entries (name, attributes, times,
//! first cluster, size) and the long-name slots before them.

use crate::bpb::FatType;
use crate::names::{ShortName, WIN_CHARS};
use crate::time::DosTime;

pub const SLOT: usize = 32;
pub const ATTR_READONLY: u8 = 0x01;
pub const ATTR_HIDDEN: u8 = 0x02;
pub const ATTR_SYSTEM: u8 = 0x04;
pub const ATTR_VOLUME: u8 = 0x08;
pub const ATTR_DIRECTORY: u8 = 0x10;
pub const ATTR_ARCHIVE: u8 = 0x20;
/// The attribute byte of a long-name slot.
pub const ATTR_LFN: u8 = 0x0f;
/// First byte of a free slot.
pub const SLOT_DELETED: u8 = 0xe5;
/// First byte of the slot that ends a directory.
pub const SLOT_END: u8 = 0x00;
/// Case bits (Windows NT): the name part is lower case.
pub const LCASE_BASE: u8 = 0x08;
/// Case bits (Windows NT): the extension is lower case.
pub const LCASE_EXT: u8 = 0x10;
/// The flag of the last (first stored) long-name slot.
pub const LFN_LAST: u8 = 0x40;

/// A short directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortEntry(pub [u8; SLOT]);

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

impl ShortEntry {
    /// An entry named `name` with attributes `attr` and every other
    /// field zero.
    pub fn new(name: ShortName, attr: u8) -> ShortEntry {
        let mut b = [0u8; SLOT];
        b[..11].copy_from_slice(&name);
        b[11] = attr;
        ShortEntry(b)
    }

    pub fn name(&self) -> ShortName {
        let mut n = [0u8; 11];
        n.copy_from_slice(&self.0[..11]);
        n
    }

    pub fn set_name(&mut self, n: ShortName) {
        self.0[..11].copy_from_slice(&n);
    }

    pub fn attr(&self) -> u8 {
        self.0[11]
    }

    pub fn set_attr(&mut self, a: u8) {
        self.0[11] = a;
    }

    pub fn is_dir(&self) -> bool {
        self.attr() & ATTR_DIRECTORY != 0
    }

    /// The Windows NT case bits.
    pub fn case_bits(&self) -> u8 {
        self.0[12]
    }

    pub fn set_case_bits(&mut self, b: u8) {
        self.0[12] = b;
    }

    /// The first cluster (the high half only counts on FAT32).
    pub fn cluster(&self, kind: FatType) -> u32 {
        let lo = u32::from(u16_at(&self.0, 26));
        match kind {
            FatType::Fat32 => lo | (u32::from(u16_at(&self.0, 20)) << 16),
            _ => lo,
        }
    }

    pub fn set_cluster(&mut self, c: u32, kind: FatType) {
        self.0[26..28].copy_from_slice(&(c as u16).to_le_bytes());
        let hi = if kind == FatType::Fat32 {
            (c >> 16) as u16
        } else {
            0
        };
        self.0[20..22].copy_from_slice(&hi.to_le_bytes());
    }

    pub fn size(&self) -> u32 {
        u32::from_le_bytes([self.0[28], self.0[29], self.0[30], self.0[31]])
    }

    pub fn set_size(&mut self, s: u32) {
        self.0[28..32].copy_from_slice(&s.to_le_bytes());
    }

    pub fn mtime(&self) -> DosTime {
        DosTime {
            date: u16_at(&self.0, 24),
            time: u16_at(&self.0, 22),
            hundredths: 0,
        }
    }

    pub fn set_mtime(&mut self, t: DosTime) {
        self.0[22..24].copy_from_slice(&t.time.to_le_bytes());
        self.0[24..26].copy_from_slice(&t.date.to_le_bytes());
    }

    /// The access date (no time of day).
    pub fn adate(&self) -> DosTime {
        DosTime {
            date: u16_at(&self.0, 18),
            time: 0,
            hundredths: 0,
        }
    }

    pub fn set_adate(&mut self, t: DosTime) {
        self.0[18..20].copy_from_slice(&t.date.to_le_bytes());
    }

    pub fn ctime(&self) -> DosTime {
        DosTime {
            date: u16_at(&self.0, 16),
            time: u16_at(&self.0, 14),
            hundredths: self.0[13],
        }
    }

    pub fn set_ctime(&mut self, t: DosTime) {
        self.0[13] = t.hundredths;
        self.0[14..16].copy_from_slice(&t.time.to_le_bytes());
        self.0[16..18].copy_from_slice(&t.date.to_le_bytes());
    }
}

/// Whether slot `b` is a long-name slot.
pub fn is_lfn(b: &[u8]) -> bool {
    b[11] == ATTR_LFN && b[0] != SLOT_DELETED
}

/// Byte offsets of the 13 UTF-16 units in a long-name slot.
const LFN_UNITS: [usize; WIN_CHARS] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/// The long-name slots of `units` for short name checksum `sum`, in
/// the order they are stored (the last part first).
pub fn lfn_slots(units: &[u16], sum: u8) -> Vec<[u8; SLOT]> {
    let n = units.len().div_ceil(WIN_CHARS);
    let mut out = Vec::with_capacity(n);
    for ord in (1..=n).rev() {
        let mut b = [0u8; SLOT];
        b[0] = ord as u8 | if ord == n { LFN_LAST } else { 0 };
        b[11] = ATTR_LFN;
        b[13] = sum;
        let part = &units[(ord - 1) * WIN_CHARS..];
        for (i, &off) in LFN_UNITS.iter().enumerate() {
            let u: u16 = match i.cmp(&part.len()) {
                std::cmp::Ordering::Less => part[i],
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 0xffff,
            };
            b[off..off + 2].copy_from_slice(&u.to_le_bytes());
        }
        out.push(b);
    }
    out
}

/// The order number (1-based), last flag, checksum and the units of a
/// long-name slot, up to its terminating NUL.
pub fn lfn_parse(b: &[u8]) -> (u8, bool, u8, Vec<u16>) {
    let mut units = Vec::with_capacity(WIN_CHARS);
    for &off in LFN_UNITS.iter() {
        let u = u16_at(b, off);
        if u == 0 {
            break;
        }
        units.push(u);
    }
    (b[0] & 0x1f, b[0] & LFN_LAST != 0, b[13], units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_entry_fields() {
        let mut e = ShortEntry::new(*b"FOO     TXT", ATTR_ARCHIVE);
        e.set_cluster(0x12345, FatType::Fat32);
        e.set_size(777);
        assert_eq!(e.cluster(FatType::Fat32), 0x12345);
        assert_eq!(e.cluster(FatType::Fat16), 0x2345);
        e.set_cluster(0x2345, FatType::Fat16);
        assert_eq!(e.0[20..22], [0, 0]);
        assert_eq!(e.size(), 777);
        let t = DosTime {
            date: 0x5a21,
            time: 0x7bcf,
            hundredths: 150,
        };
        e.set_ctime(t);
        e.set_mtime(t);
        e.set_adate(t);
        assert_eq!(e.ctime(), t);
        assert_eq!(e.mtime(), DosTime { hundredths: 0, ..t });
        assert_eq!(e.adate().date, t.date);
    }

    #[test]
    fn long_name_slots_round_trip() {
        let units: Vec<u16> = "a name of 20 letters".encode_utf16().collect();
        let slots = lfn_slots(&units, 0x5a);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0][0], 0x42);
        assert_eq!(slots[1][0], 0x01);
        let (ord, last, sum, tail) = lfn_parse(&slots[0]);
        assert_eq!((ord, last, sum), (2, true, 0x5a));
        assert_eq!(tail, units[13..].to_vec());
        assert_eq!(u16_at(&slots[0], 14 + 2 * (7 - 5)), 0, "NUL after the name");
        assert_eq!(u16_at(&slots[0], 30), 0xffff, "then padding");
        let (ord, last, _, head) = lfn_parse(&slots[1]);
        assert_eq!((ord, last), (1, false));
        assert_eq!(head, units[..13].to_vec());
        assert!(is_lfn(&slots[1]));
    }
}
