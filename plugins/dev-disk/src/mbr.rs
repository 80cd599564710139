//! The MBR: four primary entries in sector 0, and the chain of extended
//! boot records (EBRs) that holds the logical partitions.
//!
//! Layout: the entries start at byte 446, 16 bytes each (status, first
//! CHS, type, last CHS, first LBA, sector count, little-endian), and the
//! sector ends in 0x55 0xAA. One primary entry of type 0x05, 0x0F or
//! 0x85 is the extended partition. Each EBR in it has the same layout:
//! its first entry is one logical partition, placed relative to the EBR
//! itself; its second, of an extended type, links to the next EBR,
//! placed relative to the start of the extended partition. Type 0xEE
//! marks a protective MBR in front of a GPT.
//!
//! Nothing is trusted: status bytes must be 0x00 or 0x80 (else the
//! sector is a boot sector, not an MBR); the chain must move forward
//! inside the extended partition and is cut after [`MAX_EBRS`] links;
//! a logical partition must lie inside the extended partition.

use crate::media::Disk;
use crate::notes::Notes;
use rump_plugin_api::KResult;

/// Where the entries start in the sector.
pub const ENTRIES: usize = 446;
/// NetBSD's partition type.
pub const TYPE_NETBSD: u8 = 0xa9;
/// A protective MBR's entry, covering a GPT disk.
pub const TYPE_PROTECTIVE: u8 = 0xee;
/// The most EBRs followed.
pub const MAX_EBRS: usize = 128;

/// Whether `t` is an extended partition's type (DOS, DOS with LBA, Linux).
pub fn is_extended(t: u8) -> bool {
    matches!(t, 0x05 | 0x0f | 0x85)
}

/// One 16-byte entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub status: u8,
    pub ptype: u8,
    pub start: u32,
    pub size: u32,
}

impl Entry {
    fn used(&self) -> bool {
        self.ptype != 0
    }
}

/// The four entries of an MBR or EBR sector; `None` without the 0x55AA
/// signature or with a status byte other than 0x00 and 0x80.
pub fn entries(sector: &[u8]) -> Option<[Entry; 4]> {
    if sector.len() < 512 || sector[510] != 0x55 || sector[511] != 0xaa {
        return None;
    }
    let mut out = [Entry::default(); 4];
    for (i, e) in out.iter_mut().enumerate() {
        let b = &sector[ENTRIES + 16 * i..ENTRIES + 16 * (i + 1)];
        let le32 = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        *e = Entry {
            status: b[0],
            ptype: b[4],
            start: le32(8),
            size: le32(12),
        };
        if e.status != 0 && e.status != 0x80 {
            return None;
        }
    }
    Some(out)
}

/// A partition of the MBR or of the EBR chain, in absolute sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MbrPart {
    pub ptype: u8,
    pub start: u64,
    pub size: u64,
    /// Found in an EBR.
    pub logical: bool,
    /// Its entry: 1 to 4 for primaries, 5 on for logicals (as fdisk,
    /// sfdisk and parted number them).
    pub number: usize,
    /// Its place among the partitions NetBSD names: primaries count
    /// from 0 in table order, skipping empty, extended and protective
    /// entries; logicals count from 4 in chain order. Partitions ignored
    /// here keep their place, so the others' names do not move.
    pub slot: usize,
}

/// What sector 0 holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mbr {
    /// Primary partitions in table order (no empty, extended or
    /// protective entries), then logical ones in chain order.
    pub parts: Vec<MbrPart>,
    /// Whether an entry is of type 0xEE.
    pub protective: bool,
}

/// Reads the MBR and its EBR chain; `None` if sector 0 is no MBR.
pub fn read(disk: &Disk<'_>, notes: &mut Notes) -> KResult<Option<Mbr>> {
    let Some(sector) = disk.read(0, 1)? else {
        return Ok(None);
    };
    let Some(table) = entries(&sector) else {
        return Ok(None);
    };
    let mut mbr = Mbr::default();
    let mut extended: Option<Entry> = None;
    let mut slot = 0;
    for (i, e) in table.iter().enumerate() {
        if !e.used() {
            continue;
        }
        if e.ptype == TYPE_PROTECTIVE {
            mbr.protective = true;
            continue;
        }
        if is_extended(e.ptype) {
            if extended.is_some() {
                notes.warn(format!(
                    "MBR entry {}: a second extended partition, ignored",
                    i + 1
                ));
            } else {
                extended = Some(*e);
            }
            continue;
        }
        slot += 1;
        if e.start == 0 {
            notes.warn(format!(
                "MBR entry {}: starts at sector 0, over the MBR; ignored",
                i + 1
            ));
            continue;
        }
        mbr.parts.push(MbrPart {
            ptype: e.ptype,
            start: u64::from(e.start),
            size: u64::from(e.size),
            logical: false,
            number: i + 1,
            slot: slot - 1,
        });
    }
    if let Some(ext) = extended {
        logicals(disk, &ext, &mut mbr, notes)?;
    }
    Ok(Some(mbr))
}

/// Follows the EBR chain of the extended partition `ext`.
fn logicals(disk: &Disk<'_>, ext: &Entry, mbr: &mut Mbr, notes: &mut Notes) -> KResult<()> {
    let base = u64::from(ext.start);
    let end = base + u64::from(ext.size);
    if base == 0 || ext.size == 0 {
        notes.warn("MBR: the extended partition is empty or over the MBR; ignored".into());
        return Ok(());
    }
    let mut here = base;
    let mut number = 5;
    for _ in 0..MAX_EBRS {
        let Some(sector) = disk.read(here, 1)? else {
            notes.warn(format!("EBR at sector {here}: past the end of the disk"));
            return Ok(());
        };
        let Some(table) = entries(&sector) else {
            notes.warn(format!(
                "EBR at sector {here}: no EBR signature; chain ends"
            ));
            return Ok(());
        };
        let part = table.iter().find(|e| e.used() && !is_extended(e.ptype));
        let link = table.iter().find(|e| e.used() && is_extended(e.ptype));
        if let Some(p) = part {
            let start = here + u64::from(p.start);
            let size = u64::from(p.size);
            if p.start == 0 || start + size > end {
                notes.warn(format!(
                    "logical partition {number} (EBR at sector {here}): outside the extended partition; ignored"
                ));
            } else {
                mbr.parts.push(MbrPart {
                    ptype: p.ptype,
                    start,
                    size,
                    logical: true,
                    number,
                    slot: number - 1,
                });
            }
            number += 1;
        }
        let Some(l) = link else {
            return Ok(());
        };
        let next = base + u64::from(l.start);
        if next <= here || next >= end {
            notes.warn(format!(
                "EBR at sector {here}: the link to sector {next} goes back or leaves the extended partition; chain ends"
            ));
            return Ok(());
        }
        here = next;
    }
    notes.warn(format!(
        "MBR: more than {MAX_EBRS} EBRs; the rest are ignored"
    ));
    Ok(())
}

/// NetBSD's `dkw_ptype` for an MBR partition type (as its MBR wedge
/// method names them); empty when unknown.
pub fn ptype_name(t: u8) -> &'static str {
    match t {
        0x01 | 0x04 | 0x06 | 0x0b | 0x0c | 0x0e | 0xef => "msdos",
        0x07 => "ntfs",
        0x82 => "swap",
        0x83 => "ext2fs",
        0xa8 => "appleufs",
        _ => "",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::media::Bytes;

    /// Writes entry `i` of the table in `sector` and the signature.
    pub fn put(sector: &mut [u8], i: usize, ptype: u8, start: u32, size: u32) {
        let e = &mut sector[ENTRIES + 16 * i..ENTRIES + 16 * (i + 1)];
        e[4] = ptype;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&size.to_le_bytes());
        sector[510] = 0x55;
        sector[511] = 0xaa;
    }

    fn img(sectors: usize) -> Vec<u8> {
        vec![0u8; sectors * 512]
    }

    fn sector(img: &mut [u8], lba: u64) -> &mut [u8] {
        &mut img[lba as usize * 512..][..512]
    }

    fn scan(img: &[u8]) -> (Option<Mbr>, Notes) {
        let mut notes = Notes::default();
        let b = Bytes(img);
        let d = Disk::new(&b, 512).unwrap();
        (read(&d, &mut notes).unwrap(), notes)
    }

    #[test]
    fn primaries_and_a_chain_of_logicals() {
        let mut im = img(200);
        put(sector(&mut im, 0), 0, 0x0c, 10, 20);
        put(sector(&mut im, 0), 1, 0x05, 40, 100);
        put(sector(&mut im, 0), 3, 0x83, 150, 10);
        put(sector(&mut im, 40), 0, 0x83, 2, 8);
        put(sector(&mut im, 40), 1, 0x05, 20, 30);
        put(sector(&mut im, 60), 0, 0x82, 1, 5);
        let (m, notes) = scan(&im);
        let m = m.unwrap();
        assert!(notes.lines.is_empty(), "{notes:?}");
        let got: Vec<(u8, u64, u64, bool, usize, usize)> = m
            .parts
            .iter()
            .map(|p| (p.ptype, p.start, p.size, p.logical, p.number, p.slot))
            .collect();
        assert_eq!(
            got,
            [
                (0x0c, 10, 20, false, 1, 0),
                (0x83, 150, 10, false, 4, 1),
                (0x83, 42, 8, true, 5, 4),
                (0x82, 61, 5, true, 6, 5)
            ]
        );
        assert!(!m.protective);
    }

    #[test]
    fn chains_that_loop_or_wander_end() {
        let mut im = img(200);
        put(sector(&mut im, 0), 0, 0x0f, 10, 100);
        put(sector(&mut im, 10), 0, 0x83, 1, 4);
        put(sector(&mut im, 10), 1, 0x05, 20, 10);
        put(sector(&mut im, 30), 0, 0x83, 1, 4);
        put(sector(&mut im, 30), 1, 0x05, 0, 10); // back to the first EBR
        let (m, notes) = scan(&im);
        assert_eq!(m.unwrap().parts.len(), 2);
        assert!(notes.mention("goes back"), "{notes:?}");

        put(sector(&mut im, 30), 1, 0x05, 500, 10); // outside
        let (m, notes) = scan(&im);
        assert_eq!(m.unwrap().parts.len(), 2);
        assert!(notes.mention("leaves the extended partition"));

        put(sector(&mut im, 30), 0, 0x83, 1, 4000); // too long
        put(sector(&mut im, 30), 1, 0, 0, 0);
        let (m, notes) = scan(&im);
        assert_eq!(m.unwrap().parts.len(), 1);
        assert!(notes.mention("outside the extended partition"));
    }

    #[test]
    fn a_boot_sector_is_no_mbr_and_protective_entries_are_noted() {
        let mut im = img(8);
        im[510] = 0x55;
        im[511] = 0xaa;
        im[ENTRIES] = 0x33; // boot code where a status byte would be
        assert_eq!(scan(&im).0, None);
        im[ENTRIES] = 0;
        put(sector(&mut im, 0), 0, TYPE_PROTECTIVE, 1, 7);
        let m = scan(&im).0.unwrap();
        assert!(m.protective && m.parts.is_empty());
        assert_eq!(scan(&img(0)).0, None, "an empty disk");
    }
}
