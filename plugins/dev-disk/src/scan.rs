//! Which table a disk has, and the partitions it yields, named as NetBSD
//! names them.
//!
//! The tables are tried in the order of NetBSD's wedge discovery: a GPT
//! (either copy) first, then a NetBSD disklabel (in sector 1 of the
//! NetBSD MBR partition, or at the start of the disk), then the MBR. The
//! first one found decides.
//!
//! Names are suffixes to the disk's name:
//!
//! - disklabel partitions are `a` to `v`, the letter of their slot
//!   (NetBSD's `wd0a`); unused slots are skipped;
//! - MBR primary partitions are `e` to `h` in table order, skipping
//!   empty, extended and protective entries, and logical partitions
//!   follow from `i` in chain order, up to `v` (the fictitious disklabel
//!   NetBSD's `subr_disk_mbr.c` builds, and the names its MBR wedges
//!   start from); a partition refused keeps its letter, so that damage
//!   to one does not rename the others;
//! - GPT partitions are `p` and the entry's number from 1 (`p1`), the
//!   numbers gpt(8), sfdisk and parted show: NetBSD gives GPT partitions
//!   only `dkN` nodes, numbered across all disks in discovery order.
//!
//! Every partition is checked against the disk: one starting past its
//! end is refused, one running past it is clipped; MBR and GPT
//! partitions that overlap one accepted before them are refused
//! (disklabel partitions may overlap, as NetBSD's raw partitions do).

use crate::disklabel::{self, Label};
use crate::gpt::{self, Gpt};
use crate::mbr::{self, Mbr};
use crate::media::{Disk, Media};
use crate::notes::Notes;
use rump_plugin_api::disk::Partition;
use rump_plugin_api::KResult;

/// The last letter a partition may have (NetBSD's largest
/// `MAXPARTITIONS`, 22, ends at `v`).
pub const LAST_LETTER: u8 = b'a' + disklabel::MAXPARTITIONS as u8 - 1;
/// How many sectors are searched for a disklabel at each place.
const LABEL_SECTORS: u64 = 3;
/// The most partitions taken from one disk (a GPT may describe
/// thousands; NetBSD reads at most 512 entries).
pub const MAX_PARTITIONS: usize = 256;

/// Gathers partitions, checking each against the disk and the others.
struct Layout<'d> {
    disk: &'d Disk<'d>,
    /// Accepted ranges in sectors, `start..end`.
    taken: Vec<(u64, u64)>,
    out: Vec<Partition>,
}

impl Layout<'_> {
    /// Adds partition `suffix` (`what` in notes) at `start` for `count`
    /// sectors.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        notes: &mut Notes,
        what: &str,
        suffix: String,
        start: u64,
        count: u64,
        may_overlap: bool,
        ptype: &str,
        wname: String,
    ) {
        let sectors = self.disk.sectors;
        if self.out.len() >= MAX_PARTITIONS {
            notes.warn(format!(
                "{what}: more than {MAX_PARTITIONS} partitions; ignored"
            ));
            return;
        }
        if count == 0 {
            notes.warn(format!("{what}: empty; ignored"));
            return;
        }
        if start >= sectors {
            notes.warn(format!(
                "{what}: starts at sector {start}, past the end of the disk ({sectors} sectors); ignored"
            ));
            return;
        }
        let mut end = start.saturating_add(count);
        if end > sectors {
            notes.warn(format!(
                "{what}: runs to sector {end}, past the end of the disk; clipped to {sectors}"
            ));
            end = sectors;
        }
        if !may_overlap {
            if let Some(&(s, e)) = self.taken.iter().find(|&&(s, e)| start < e && s < end) {
                notes.warn(format!(
                    "{what}: sectors {start} to {end} overlap a partition at {s} to {e}; ignored"
                ));
                return;
            }
        }
        self.taken.push((start, end));
        self.out.push(Partition {
            suffix: suffix.into(),
            offset: start * self.disk.sector,
            size: (end - start) * self.disk.sector,
            ptype: ptype.into(),
            wname: wname.into(),
        });
    }
}

/// The partitions of `media` with `sector`-byte sectors; empty when it
/// has no table (or an unusable one, which `notes` explains).
pub fn scan(media: &dyn Media, sector: u64, notes: &mut Notes) -> KResult<Vec<Partition>> {
    let Some(disk) = Disk::new(media, sector) else {
        notes.warn(format!("sector size {sector} not supported"));
        return Ok(Vec::new());
    };
    let mut layout = Layout {
        disk: &disk,
        taken: Vec::new(),
        out: Vec::new(),
    };
    if let Some(g) = gpt::read(&disk, notes)? {
        gpt_parts(&g, &mut layout, notes);
        return Ok(layout.out);
    }
    let mbr = mbr::read(&disk, notes)?;
    if let Some((at, label)) = find_label(&disk, mbr.as_ref())? {
        notes.info(format!(
            "NetBSD disklabel at byte {at}{}, {} partitions",
            if label.swapped {
                " (other byte order)"
            } else {
                ""
            },
            label.npartitions
        ));
        label_parts(&label, &mut layout, notes);
        return Ok(layout.out);
    }
    if let Some(m) = mbr {
        mbr_parts(&m, &mut layout, notes);
    }
    Ok(layout.out)
}

fn gpt_parts(g: &Gpt, layout: &mut Layout<'_>, notes: &mut Notes) {
    notes.info(format!(
        "GPT{}, disk GUID {}, {} partitions",
        if g.backup { " (backup)" } else { "" },
        g.header.disk_guid,
        g.parts.len()
    ));
    for p in &g.parts {
        let wname = if p.name.is_empty() {
            p.guid.to_string()
        } else {
            p.name.clone()
        };
        layout.add(
            notes,
            &format!("GPT entry {}", p.number),
            format!("p{}", p.number),
            p.first,
            p.last - p.first + 1,
            false,
            gpt::ptype_name(&p.ptype),
            wname,
        );
    }
}

/// The disklabel in the NetBSD MBR partitions, else at the start of the
/// disk, with its byte offset on the disk.
fn find_label(disk: &Disk<'_>, mbr: Option<&Mbr>) -> KResult<Option<(u64, Label)>> {
    let mut places: Vec<u64> = mbr
        .iter()
        .flat_map(|m| m.parts.iter())
        .filter(|p| p.ptype == mbr::TYPE_NETBSD)
        .map(|p| p.start)
        .collect();
    places.push(0);
    for lba in places {
        let Some(buf) = disk.read(lba, LABEL_SECTORS)? else {
            continue;
        };
        if let Some((off, label)) = disklabel::find(&buf) {
            return Ok(Some((lba * disk.sector + off as u64, label)));
        }
    }
    Ok(None)
}

fn label_parts(label: &Label, layout: &mut Layout<'_>, notes: &mut Notes) {
    let named = !label.packname.is_empty() && label.packname != "fictitious";
    for p in &label.parts {
        let letter = disklabel::letter(p.index);
        let wname = if named {
            format!("{}/{letter}", label.packname)
        } else {
            String::new()
        };
        layout.add(
            notes,
            &format!("disklabel partition {letter}"),
            letter.to_string(),
            p.offset,
            p.size,
            true,
            &disklabel::ptype_name(p.fstype),
            wname,
        );
    }
}

fn mbr_parts(m: &Mbr, layout: &mut Layout<'_>, notes: &mut Notes) {
    if !m.parts.is_empty() {
        let logicals = m.parts.iter().filter(|p| p.logical).count();
        notes.info(format!(
            "MBR, {} partitions ({logicals} logical)",
            m.parts.len()
        ));
    }
    for p in &m.parts {
        let what = format!("MBR partition {}", p.number);
        let letter = b'e' as usize + p.slot;
        if letter > usize::from(LAST_LETTER) {
            notes.warn(format!("{what}: no letters left; ignored"));
            continue;
        }
        layout.add(
            notes,
            &what,
            char::from(letter as u8).to_string(),
            p.start,
            p.size,
            false,
            mbr::ptype_name(p.ptype),
            String::new(),
        );
    }
    if m.protective && layout.out.is_empty() {
        notes.warn("protective MBR, but no usable GPT".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disklabel::tests::label;
    use crate::gpt::tests::write as write_gpt;
    use crate::mbr::tests::put;
    use crate::media::Bytes;

    fn run(img: &[u8]) -> (Vec<(String, u64, u64, String)>, Notes) {
        let mut notes = Notes::default();
        let parts = scan(&Bytes(img), 512, &mut notes).unwrap();
        let v = parts
            .into_iter()
            .map(|p| {
                (
                    p.suffix.into(),
                    p.offset / 512,
                    p.size / 512,
                    p.ptype.into(),
                )
            })
            .collect();
        (v, notes)
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn mbr_names_follow_netbsd() {
        let mut img = vec![0u8; 400 * 512];
        put(&mut img[..512], 0, 0x0c, 10, 20);
        put(&mut img[..512], 2, 0x05, 100, 200);
        put(&mut img[..512], 3, 0x83, 40, 10);
        put(&mut img[100 * 512..101 * 512], 0, 0x83, 1, 9);
        put(&mut img[100 * 512..101 * 512], 1, 0x05, 50, 50);
        put(&mut img[150 * 512..151 * 512], 0, 0x99, 1, 500); // too long
        let (v, notes) = run(&img);
        assert_eq!(
            v,
            [
                (s("e"), 10, 20, s("msdos")),
                (s("f"), 40, 10, s("ext2fs")),
                (s("i"), 101, 9, s("ext2fs"))
            ]
        );
        assert!(notes.mention("logical partition 6"), "{notes:?}");
    }

    #[test]
    fn overlaps_are_refused_and_ends_clipped() {
        let mut img = vec![0u8; 100 * 512];
        put(&mut img[..512], 0, 0x83, 10, 20);
        put(&mut img[..512], 1, 0x83, 25, 10);
        put(&mut img[..512], 2, 0x83, 90, 20);
        put(&mut img[..512], 3, 0x83, 100, 20);
        let (v, notes) = run(&img);
        assert_eq!(
            v,
            [(s("e"), 10, 20, s("ext2fs")), (s("g"), 90, 10, s("ext2fs"))]
        );
        assert!(notes.mention("MBR partition 2: sectors 25 to 35 overlap"));
        assert!(notes.mention("MBR partition 3: runs to sector 110"));
        assert!(notes.mention("MBR partition 4: starts at sector 100"));
    }

    #[test]
    fn a_label_in_the_netbsd_partition_wins_over_the_mbr() {
        let mut img = vec![0u8; 400 * 512];
        put(&mut img[..512], 0, 0x0c, 10, 20);
        put(&mut img[..512], 1, mbr::TYPE_NETBSD, 64, 300);
        let l = label(
            "",
            &[
                (100, 64, 7),
                (50, 164, 1),
                (300, 64, 0),
                (400, 0, 0),
                (20, 10, 8),
            ],
            false,
        );
        img[65 * 512..65 * 512 + l.len()].copy_from_slice(&l);
        let (v, notes) = run(&img);
        assert_eq!(
            v,
            [
                (s("a"), 64, 100, s("ffs")),
                (s("b"), 164, 50, s("swap")),
                (s("e"), 10, 20, s("msdos"))
            ]
        );
        assert!(notes.mention(&format!("disklabel at byte {}", 65 * 512)));
    }

    #[test]
    fn a_label_at_sector_one_without_an_mbr() {
        let mut img = vec![0u8; 64 * 512];
        let l = label(
            "mypack",
            &[(16, 16, 7), (0, 0, 0), (64, 0, 0), (64, 0, 0), (8, 40, 17)],
            true,
        );
        img[512..512 + l.len()].copy_from_slice(&l);
        let mut notes = Notes::default();
        let parts = scan(&Bytes(&img), 512, &mut notes).unwrap();
        let names: Vec<(&str, &str, &str)> = parts
            .iter()
            .map(|p| (p.suffix.as_str(), p.ptype.as_str(), p.wname.as_str()))
            .collect();
        assert_eq!(
            names,
            [("a", "ffs", "mypack/a"), ("e", "ext2fs", "mypack/e")]
        );
        assert!(notes.mention("other byte order"));
    }

    #[test]
    fn a_gpt_wins_and_is_numbered_from_one() {
        let mut img = vec![0u8; 2048 * 512];
        put(&mut img[..512], 0, mbr::TYPE_PROTECTIVE, 1, 2047);
        write_gpt(
            &mut img,
            &[
                ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", 40, 99, "EFI"),
                ("00000000-0000-0000-0000-000000000000", 0, 0, ""),
                ("49f48d5a-b10e-11dc-b99b-0019d1879648", 100, 199, ""),
                ("49f48d5a-b10e-11dc-b99b-0019d1879648", 150, 249, "overlap"),
            ],
        );
        let mut notes = Notes::default();
        let parts = scan(&Bytes(&img), 512, &mut notes).unwrap();
        let names: Vec<(&str, u64, &str, &str)> = parts
            .iter()
            .map(|p| {
                (
                    p.suffix.as_str(),
                    p.offset / 512,
                    p.ptype.as_str(),
                    p.wname.as_str(),
                )
            })
            .collect();
        assert_eq!(names[0], ("p1", 40, "msdos", "EFI"));
        assert_eq!(names[1].0, "p3");
        assert_eq!(names[1].3.len(), 36, "a GUID when there is no name");
        assert_eq!(names.len(), 2);
        assert!(notes.mention("GPT entry 4: sectors 150 to 250 overlap"));
    }

    #[test]
    fn a_gpt_of_many_partitions_is_cut_short() {
        let mut img = vec![0u8; 2048 * 512];
        let parts: Vec<(&str, u64, u64, &str)> = (0..300)
            .map(|i| ("49f48d5a-b10e-11dc-b99b-0019d1879648", 100 + i, 100 + i, ""))
            .collect();
        write_gpt(&mut img, &parts);
        let mut notes = Notes::default();
        let found = scan(&Bytes(&img), 512, &mut notes).unwrap();
        assert_eq!(found.len(), MAX_PARTITIONS);
        assert_eq!(found[255].suffix.as_str(), "p256");
        assert!(notes.mention("GPT entry 257: more than 256 partitions"));
        assert_eq!(
            notes.dropped,
            300 - MAX_PARTITIONS - crate::notes::MAX_WARNINGS
        );
    }

    #[test]
    fn a_protective_mbr_without_a_gpt_yields_nothing() {
        let mut img = vec![0u8; 64 * 512];
        put(&mut img[..512], 0, mbr::TYPE_PROTECTIVE, 1, 63);
        let (v, notes) = run(&img);
        assert!(v.is_empty());
        assert!(notes.mention("no usable GPT"));
    }

    /// A small deterministic generator for the corruption test.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_damage_never_panics() {
        let mut img = vec![0u8; 2048 * 512];
        put(&mut img[..512], 0, 0x0c, 2000, 10);
        put(&mut img[..512], 1, 0x05, 100, 1000);
        put(&mut img[100 * 512..101 * 512], 0, 0x83, 1, 9);
        put(&mut img[100 * 512..101 * 512], 1, 0x05, 50, 50);
        put(&mut img[150 * 512..151 * 512], 0, 0xa9, 1, 500);
        let l = label("", &[(100, 200, 7), (50, 300, 1)], false);
        img[152 * 512..152 * 512 + l.len()].copy_from_slice(&l);
        let mut with_gpt = img.clone();
        write_gpt(
            &mut with_gpt,
            &[("49f48d5a-b10e-11dc-b99b-0019d1879648", 100, 199, "x")],
        );
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for base in [img, with_gpt] {
            let hot: Vec<usize> = [0usize, 1, 2, 100, 150, 151, 152, 2047]
                .iter()
                .flat_map(|s| s * 512..s * 512 + 512)
                .collect();
            for _ in 0..300 {
                let mut im = base.clone();
                for _ in 0..1 + xorshift(&mut rng) % 8 {
                    let at = hot[(xorshift(&mut rng) % hot.len() as u64) as usize];
                    im[at] = xorshift(&mut rng) as u8;
                }
                let mut notes = Notes::default();
                let parts = scan(&Bytes(&im), 512, &mut notes).unwrap();
                for p in parts {
                    assert!(p.offset + p.size <= im.len() as u64 && p.size > 0);
                }
            }
        }
    }
}
