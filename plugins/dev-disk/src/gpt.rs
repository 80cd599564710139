//! The GUID partition table (UEFI specification, chapter 5).
//!
//! Facts used: the primary header is in LBA 1 and the backup header in
//! the disk's last LBA. A header starts with `EFI PART`, then (all
//! little-endian) the revision (u32 at 8, 0x00010000), its size (u32 at
//! 12, at least 92), its CRC-32 (u32 at 16, computed over `size` bytes
//! with this field zero), its own LBA (u64 at 24), the other header's
//! LBA (32), the first and last LBA usable by partitions (40, 48), the
//! disk GUID (16 bytes at 56), the LBA of the entry array (72), the
//! number of entries (u32 at 80), the size of one entry (u32 at 84) and
//! the array's CRC-32 (u32 at 88). An entry holds the type GUID (0),
//! the partition's GUID (16), its first and last LBA, inclusive (u64 at
//! 32 and 40), attributes (48) and a name of 36 UTF-16LE code units
//! (56). An all-zero type GUID marks an unused entry.
//!
//! The primary header and its array are used when both check out, the
//! backup ones otherwise. Entries must lie within the usable range and
//! end after they start; the array may be at most [`MAX_TABLE`] bytes.

use crate::crc32::crc32;
use crate::media::{Disk, MAX_READ};
use crate::notes::Notes;
use rump_plugin_api::KResult;

/// The header's signature.
pub const SIGNATURE: &[u8; 8] = b"EFI PART";
/// The smallest header.
pub const HEADER_MIN: usize = 92;
/// The smallest entry.
pub const ENTRY_MIN: u32 = 128;
/// The largest entry accepted.
pub const ENTRY_MAX: u32 = 4096;
/// The largest entry array accepted, in bytes.
pub const MAX_TABLE: u64 = MAX_READ;

/// A GUID as stored: the first three fields little-endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9]
        )?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02x}"))
    }
}

/// A header that checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub lba: u64,
    pub first_usable: u64,
    pub last_usable: u64,
    pub disk_guid: Guid,
    pub table_lba: u64,
    pub entries: u32,
    pub entry_size: u32,
    pub table_crc: u32,
}

fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn le64(b: &[u8], o: usize) -> u64 {
    u64::from(le32(b, o)) | (u64::from(le32(b, o + 4)) << 32)
}

fn guid(b: &[u8], o: usize) -> Guid {
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[o..o + 16]);
    Guid(g)
}

/// Whether `sector` starts with the GPT signature.
pub fn has_signature(sector: &[u8]) -> bool {
    sector.starts_with(SIGNATURE)
}

/// Checks the header in `sector`, read from LBA `lba`; the error says
/// what is wrong.
pub fn parse_header(sector: &[u8], lba: u64) -> Result<Header, &'static str> {
    if !has_signature(sector) {
        return Err("no signature");
    }
    if le32(sector, 8) >> 16 != 1 {
        return Err("unknown revision");
    }
    let size = le32(sector, 12) as usize;
    if size < HEADER_MIN || size > sector.len() {
        return Err("bad header size");
    }
    let mut h = sector[..size].to_vec();
    h[16..20].fill(0);
    if crc32(&h) != le32(sector, 16) {
        return Err("bad header CRC");
    }
    if le64(sector, 24) != lba {
        return Err("header says it is elsewhere");
    }
    let hdr = Header {
        lba,
        first_usable: le64(sector, 40),
        last_usable: le64(sector, 48),
        disk_guid: guid(sector, 56),
        table_lba: le64(sector, 72),
        entries: le32(sector, 80),
        entry_size: le32(sector, 84),
        table_crc: le32(sector, 88),
    };
    if hdr.first_usable > hdr.last_usable {
        return Err("usable range ends before it starts");
    }
    if hdr.entry_size < ENTRY_MIN || hdr.entry_size > ENTRY_MAX || hdr.entry_size % 8 != 0 {
        return Err("bad entry size");
    }
    if hdr.entries == 0 || u64::from(hdr.entries) * u64::from(hdr.entry_size) > MAX_TABLE {
        return Err("bad number of entries");
    }
    if hdr.table_lba == lba {
        return Err("entry array over the header");
    }
    Ok(hdr)
}

/// Reads and checks the header at `lba` and its entry array.
fn read_at(disk: &Disk<'_>, lba: u64) -> KResult<Result<(Header, Vec<u8>), &'static str>> {
    let Some(sector) = disk.read(lba, 1)? else {
        return Ok(Err("not on the disk"));
    };
    let h = match parse_header(&sector, lba) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let len = u64::from(h.entries) * u64::from(h.entry_size);
    let Some(offset) = h.table_lba.checked_mul(disk.sector) else {
        return Ok(Err("entry array off the disk"));
    };
    let Some(table) = disk.read_bytes(offset, len)? else {
        return Ok(Err("entry array off the disk"));
    };
    if crc32(&table) != h.table_crc {
        return Ok(Err("bad entry array CRC"));
    }
    Ok(Ok((h, table)))
}

/// One partition entry in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GptPart {
    /// 1 for the first entry (as gpt(8), sfdisk and parted number them).
    pub number: u32,
    pub ptype: Guid,
    pub guid: Guid,
    pub first: u64,
    pub last: u64,
    pub name: String,
}

/// A GPT that checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gpt {
    pub header: Header,
    /// Whether the backup was used.
    pub backup: bool,
    pub parts: Vec<GptPart>,
}

/// Decodes a UTF-16LE name up to its first NUL.
fn name(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Reads the GPT: `None` if the disk has none (no signature at either
/// place, or neither copy checks out, which is noted).
pub fn read(disk: &Disk<'_>, notes: &mut Notes) -> KResult<Option<Gpt>> {
    let last = disk.sectors.saturating_sub(1);
    let primary = read_at(disk, 1)?;
    let (header, table, backup) = match primary {
        Ok((h, t)) => (h, t, false),
        Err(why_primary) => {
            let backup = if last > 1 {
                read_at(disk, last)?
            } else {
                Err("not on the disk")
            };
            let signed = |lba: u64| -> KResult<bool> {
                Ok(disk.read(lba, 1)?.is_some_and(|s| has_signature(&s)))
            };
            match backup {
                Ok((h, t)) => {
                    notes.warn(format!(
                        "GPT: primary header at LBA 1 unusable ({why_primary}); using the backup at LBA {last}"
                    ));
                    (h, t, true)
                }
                Err(why_backup) => {
                    if signed(1)? || (last > 1 && signed(last)?) {
                        notes.warn(format!(
                            "GPT: neither header is usable (primary: {why_primary}; backup: {why_backup})"
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    };
    let mut parts = Vec::new();
    let esz = header.entry_size as usize;
    for (i, e) in table.chunks_exact(esz).enumerate() {
        let ptype = guid(e, 0);
        if ptype.is_zero() {
            continue;
        }
        let number = i as u32 + 1;
        let (first, last) = (le64(e, 32), le64(e, 40));
        if first > last {
            notes.warn(format!(
                "GPT entry {number}: ends (LBA {last}) before it starts (LBA {first}); ignored"
            ));
            continue;
        }
        if first < header.first_usable || last > header.last_usable {
            notes.warn(format!(
                "GPT entry {number}: LBA {first} to {last} is outside the usable {} to {}; ignored",
                header.first_usable, header.last_usable
            ));
            continue;
        }
        parts.push(GptPart {
            number,
            ptype,
            guid: guid(e, 16),
            first,
            last,
            name: name(&e[56..128]),
        });
    }
    Ok(Some(Gpt {
        header,
        backup,
        parts,
    }))
}

/// NetBSD's `dkw_ptype` for a partition type GUID (the types its GPT
/// wedge method names); empty when unknown.
pub fn ptype_name(t: &Guid) -> &'static str {
    const TYPES: [(&str, &str); 11] = [
        ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "msdos"), // EFI system
        ("49f48d32-b10e-11dc-b99b-0019d1879648", "swap"),  // NetBSD swap
        ("516e7cb5-6ecf-11d6-8ff8-00022d09712b", "swap"),  // FreeBSD swap
        ("49f48d5a-b10e-11dc-b99b-0019d1879648", "ffs"),   // NetBSD FFS
        ("516e7cb6-6ecf-11d6-8ff8-00022d09712b", "ffs"),   // FreeBSD UFS
        ("55465300-0000-11aa-aa11-00306543ecac", "ffs"),   // Apple UFS
        ("49f48d82-b10e-11dc-b99b-0019d1879648", "lfs"),   // NetBSD LFS
        ("49f48daa-b10e-11dc-b99b-0019d1879648", "raidframe"),
        ("2db519c4-b10f-11dc-b99b-0019d1879648", "ccd"),
        ("2db519ec-b10f-11dc-b99b-0019d1879648", "cgd"),
        ("48465300-0000-11aa-aa11-00306543ecac", "hfs"), // Apple HFS
    ];
    let s = t.to_string();
    TYPES.iter().find(|(g, _)| *g == s).map_or("", |(_, n)| n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::media::Bytes;

    /// The GUID whose text is `s`.
    pub fn guid_of(s: &str) -> Guid {
        let hex: Vec<u8> = s
            .split('-')
            .flat_map(|p| {
                (0..p.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&p[i..i + 2], 16).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut g = [0u8; 16];
        g[..4].copy_from_slice(&[hex[3], hex[2], hex[1], hex[0]]);
        g[4..6].copy_from_slice(&[hex[5], hex[4]]);
        g[6..8].copy_from_slice(&[hex[7], hex[6]]);
        g[8..].copy_from_slice(&hex[8..]);
        Guid(g)
    }

    /// Writes a GPT with `parts` (type, first, last, name) into `img`
    /// (512-byte sectors), both copies, with room for 128 entries or as
    /// many as there are parts.
    pub fn write(img: &mut [u8], parts: &[(&str, u64, u64, &str)]) {
        let sectors = (img.len() / 512) as u64;
        let entries = parts.len().max(128).next_multiple_of(4);
        let tsec = (entries / 4) as u64;
        let mut table = vec![0u8; entries * 128];
        for (i, (t, first, last, nm)) in parts.iter().enumerate() {
            let e = &mut table[i * 128..(i + 1) * 128];
            e[..16].copy_from_slice(&guid_of(t).0);
            e[16..24].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            e[32..40].copy_from_slice(&first.to_le_bytes());
            e[40..48].copy_from_slice(&last.to_le_bytes());
            for (j, u) in nm.encode_utf16().enumerate() {
                e[56 + 2 * j..58 + 2 * j].copy_from_slice(&u.to_le_bytes());
            }
        }
        let tcrc = crc32(&table);
        for (lba, alt, tlba) in [(1, sectors - 1, 2), (sectors - 1, 1, sectors - 1 - tsec)] {
            let mut h = vec![0u8; 92];
            h[..8].copy_from_slice(SIGNATURE);
            h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
            h[12..16].copy_from_slice(&92u32.to_le_bytes());
            h[24..32].copy_from_slice(&lba.to_le_bytes());
            h[32..40].copy_from_slice(&alt.to_le_bytes());
            h[40..48].copy_from_slice(&(2 + tsec).to_le_bytes());
            h[48..56].copy_from_slice(&(sectors - 2 - tsec).to_le_bytes());
            h[56] = 0xd1;
            h[72..80].copy_from_slice(&tlba.to_le_bytes());
            h[80..84].copy_from_slice(&(entries as u32).to_le_bytes());
            h[84..88].copy_from_slice(&128u32.to_le_bytes());
            h[88..92].copy_from_slice(&tcrc.to_le_bytes());
            let c = crc32(&h);
            h[16..20].copy_from_slice(&c.to_le_bytes());
            let at = lba as usize * 512;
            img[at..at + 512].fill(0);
            img[at..at + 92].copy_from_slice(&h);
            let t = tlba as usize * 512;
            img[t..t + table.len()].copy_from_slice(&table);
        }
    }

    const LINUX: &str = "0fc63daf-8483-4772-8e79-3d69d8477de4";
    const FFS: &str = "49f48d5a-b10e-11dc-b99b-0019d1879648";

    fn scan(img: &[u8]) -> (Option<Gpt>, Notes) {
        let mut notes = Notes::default();
        let b = Bytes(img);
        let d = Disk::new(&b, 512).unwrap();
        (read(&d, &mut notes).unwrap(), notes)
    }

    #[test]
    fn guids_print_as_netbsd_prints_them() {
        assert_eq!(guid_of(FFS).to_string(), FFS);
        assert_eq!(ptype_name(&guid_of(FFS)), "ffs");
        assert_eq!(ptype_name(&guid_of(LINUX)), "");
    }

    #[test]
    fn reads_entries_and_falls_back_to_the_backup() {
        let mut img = vec![0u8; 2048 * 512];
        write(&mut img, &[(LINUX, 40, 99, "root"), (FFS, 100, 2000, "")]);
        let (g, notes) = scan(&img);
        let g = g.unwrap();
        assert!(!g.backup && notes.lines.is_empty(), "{notes:?}");
        assert_eq!(g.parts.len(), 2);
        assert_eq!(
            (g.parts[0].number, g.parts[0].first, g.parts[0].last),
            (1, 40, 99)
        );
        assert_eq!(g.parts[0].name, "root");
        assert_eq!(g.parts[1].name, "");
        for corrupt in [512 + 20, 2 * 512 + 40] {
            let mut bad = img.clone();
            bad[corrupt] ^= 0xff; // header, then entry array
            let (g, notes) = scan(&bad);
            let g = g.unwrap();
            assert!(g.backup, "the backup is used");
            assert_eq!(g.parts.len(), 2);
            assert!(notes.mention("using the backup"), "{notes:?}");
        }
        let mut both = img.clone();
        both[512 + 20] ^= 0xff;
        both[2047 * 512 + 20] ^= 0xff;
        let (g, notes) = scan(&both);
        assert!(g.is_none());
        assert!(notes.mention("neither header is usable"));
        assert!(scan(&vec![0u8; 4096]).0.is_none());
    }

    #[test]
    fn entries_outside_the_usable_range_are_ignored() {
        let mut img = vec![0u8; 2048 * 512];
        write(
            &mut img,
            &[
                (LINUX, 10, 99, "over the table"),
                (FFS, 500, 400, "backwards"),
                (FFS, 100, 5000, "long"),
            ],
        );
        let (g, notes) = scan(&img);
        assert!(g.unwrap().parts.is_empty());
        assert!(notes.mention("GPT entry 1: LBA 10 to 99 is outside"));
        assert!(notes.mention("GPT entry 2: ends"));
        assert!(notes.mention("GPT entry 3"));
    }
}
