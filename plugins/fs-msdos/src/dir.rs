//! Directories as slot arrays: reading one (the fixed FAT12/16 root or a
//! cluster chain), listing its entries with their long names, finding a
//! name case-insensitively, and writing, adding and freeing slots
//! (growing a directory by zeroed clusters; ENOSPC when the fixed root
//! or the 65536-slot limit is reached).

use crate::dirent::{
    is_lfn, lfn_parse, ShortEntry, ATTR_LFN, ATTR_VOLUME, SLOT, SLOT_DELETED, SLOT_END,
};
use crate::dirent::{LCASE_BASE, LCASE_EXT};
use crate::fat::Fat;
use crate::fs::Fs;
use crate::names::{
    checksum, fold, from_utf16, short_name, short_to_unix, trimmed, Fit, ShortName,
};
use rump_plugin_api::{Errno, KResult};

/// The most slots a directory may have.
pub const MAX_SLOTS: usize = 65536;

/// Which directory: the fixed root of FAT12/16, or one whose slots are
/// in the cluster chain starting at the given cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DirLoc {
    Root,
    Chain(u32),
}

impl DirLoc {
    /// A number naming the directory in file numbers.
    pub fn key(self) -> u64 {
        match self {
            DirLoc::Root => 0,
            DirLoc::Chain(c) => u64::from(c),
        }
    }
}

/// Where an entry is: its directory, its first slot (a long-name slot,
/// or the short entry) and the slot of its short entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    pub dir: DirLoc,
    pub first: u32,
    pub slot: u32,
}

impl Place {
    /// The key of the entry in a mount's tables.
    pub fn key(&self) -> (DirLoc, u32) {
        (self.dir, self.slot)
    }
}

/// A directory's slots, read whole.
pub struct DirBuf {
    pub loc: DirLoc,
    pub bytes: Vec<u8>,
    /// The clusters holding `bytes` (none for the fixed root).
    pub clusters: Vec<u32>,
}

impl DirBuf {
    pub fn slots(&self) -> usize {
        self.bytes.len() / SLOT
    }

    pub fn slot(&self, i: usize) -> &[u8] {
        &self.bytes[i * SLOT..(i + 1) * SLOT]
    }

    /// The index of the slot that ends the directory (or the slot count).
    pub fn end(&self) -> usize {
        (0..self.slots())
            .find(|&i| self.bytes[i * SLOT] == SLOT_END)
            .unwrap_or(self.slots())
    }
}

/// One entry of a directory listing.
#[derive(Clone, Debug)]
pub struct Item {
    /// Its Unix name: the long name, or the short name shown.
    pub name: Vec<u8>,
    pub entry: ShortEntry,
    pub place: Place,
    /// The name came from long-name slots.
    pub long: bool,
}

/// The entries of `buf`, without `.`, `..` and volume labels. Long names
/// count only when `long_names`, and only when their slots are complete
/// and carry the checksum of the short entry that follows them.
pub fn list(buf: &DirBuf, long_names: bool, lower_short: bool) -> Vec<Item> {
    let mut out = Vec::new();
    // The long name being gathered: its checksum, the order expected
    // next, its first slot and its parts (by order number).
    let mut run: Option<(u8, u8, usize, Vec<Vec<u16>>)> = None;
    for i in 0..buf.slots() {
        let s = buf.slot(i);
        if s[0] == SLOT_END {
            break;
        }
        if s[0] == SLOT_DELETED {
            run = None;
            continue;
        }
        if is_lfn(s) {
            let (ord, last, sum, units) = lfn_parse(s);
            if last {
                run = (1..=20).contains(&ord).then(|| {
                    let mut parts = vec![Vec::new(); ord as usize];
                    parts[ord as usize - 1] = units;
                    (sum, ord - 1, i, parts)
                });
            } else {
                run = match run.take() {
                    Some((rsum, want, first, mut parts))
                        if want == ord && ord >= 1 && rsum == sum =>
                    {
                        parts[ord as usize - 1] = units;
                        Some((rsum, ord - 1, first, parts))
                    }
                    _ => None,
                };
            }
            continue;
        }
        let gathered = run.take();
        let e = ShortEntry(s.try_into().unwrap_or([0u8; SLOT]));
        if e.attr() & ATTR_VOLUME != 0 && e.attr() != ATTR_LFN {
            continue;
        }
        let short = e.name();
        if short[0] == b'.'
            && (short[1..] == [b' '; 10] || (short[1] == b'.' && short[2..] == [b' '; 9]))
        {
            continue;
        }
        let mut place = Place {
            dir: buf.loc,
            first: i as u32,
            slot: i as u32,
        };
        let long = match gathered {
            Some((sum, 0, first, parts)) if long_names && sum == checksum(&short) => {
                let units: Vec<u16> = parts.concat();
                from_utf16(&units).map(|n| (n, first))
            }
            _ => None,
        };
        let item = match long {
            Some((name, first)) => {
                place.first = first as u32;
                Item {
                    name,
                    entry: e,
                    place,
                    long: true,
                }
            }
            None => {
                let cb = e.case_bits();
                let name = short_to_unix(
                    &short,
                    lower_short || cb & LCASE_BASE != 0,
                    lower_short || cb & LCASE_EXT != 0,
                );
                Item {
                    name,
                    entry: e,
                    place,
                    long: false,
                }
            }
        };
        out.push(item);
    }
    out
}

/// The entry of `items` that `name` names: a long name equal to it but
/// for case, or a short name equal to its short form (when that form
/// lost nothing).
pub fn find<'a>(items: &'a [Item], name: &[u8]) -> Option<&'a Item> {
    let want = fold(trimmed(name));
    let short = short_name(name, 0)
        .filter(|(_, fit)| *fit != Fit::Lossy)
        .map(|(s, _)| s);
    items.iter().find(|it| {
        (it.long && fold(&it.name) == want) || short.is_some_and(|s| s == it.entry.name())
    })
}

/// Whether some entry of `items` has short name `s`.
pub fn short_taken(items: &[Item], s: &ShortName) -> bool {
    items.iter().any(|it| it.entry.name() == *s)
}

impl Fs {
    /// The clusters a directory may have at most.
    fn max_dir_clusters(&self) -> u32 {
        ((MAX_SLOTS * SLOT) as u32).div_ceil(self.geo.csize)
    }

    /// Reads directory `loc` whole.
    pub fn read_dir(&self, fat: &Fat, loc: DirLoc) -> KResult<DirBuf> {
        match loc {
            DirLoc::Root => {
                let (off, len) = self.geo.root_area();
                Ok(DirBuf {
                    loc,
                    bytes: self.disk.read(off, len as usize)?,
                    clusters: Vec::new(),
                })
            }
            DirLoc::Chain(c) => {
                let clusters = fat.chain(c, self.max_dir_clusters())?;
                if clusters.is_empty() {
                    return Err(Errno::EIO);
                }
                let bytes = self.read_clusters(&clusters)?;
                Ok(DirBuf {
                    loc,
                    bytes,
                    clusters,
                })
            }
        }
    }

    /// The bytes of `clusters`, one read for each run of adjacent ones.
    pub fn read_clusters(&self, clusters: &[u32]) -> KResult<Vec<u8>> {
        let cs = u64::from(self.geo.csize);
        let mut out = Vec::with_capacity(clusters.len() * cs as usize);
        let mut i = 0;
        while i < clusters.len() {
            let mut j = i;
            while j + 1 < clusters.len() && clusters[j + 1] == clusters[j] + 1 {
                j += 1;
            }
            let n = (j - i + 1) as u64 * cs;
            out.extend_from_slice(
                &self
                    .disk
                    .read(self.geo.cluster_offset(clusters[i]), n as usize)?,
            );
            i = j + 1;
        }
        Ok(out)
    }

    /// The device offset of slot `i` of `buf`.
    fn slot_offset(&self, buf: &DirBuf, i: usize) -> u64 {
        let byte = (i * SLOT) as u64;
        match buf.loc {
            DirLoc::Root => self.geo.root_area().0 + byte,
            DirLoc::Chain(_) => {
                let cs = u64::from(self.geo.csize);
                self.geo.cluster_offset(buf.clusters[(byte / cs) as usize]) + byte % cs
            }
        }
    }

    /// Writes slots `from..to` of `buf` to the device, in whole sectors.
    pub fn write_slots(&self, buf: &DirBuf, from: usize, to: usize) -> KResult<()> {
        let bps = self.geo.bps as usize;
        let unit = match buf.loc {
            DirLoc::Root => buf.bytes.len(),
            DirLoc::Chain(_) => self.geo.csize as usize,
        };
        let mut a = (from * SLOT) / bps * bps;
        let end = (to * SLOT).div_ceil(bps) * bps;
        while a < end {
            // Stop at the end of the cluster (or root) holding `a`.
            let b = end.min((a / unit + 1) * unit);
            self.disk
                .write(self.slot_offset(buf, a / SLOT), &buf.bytes[a..b])?;
            a = b;
        }
        Ok(())
    }

    /// Writes the short entry of the entry at `place`.
    pub fn write_entry(&self, fat: &Fat, place: &Place, e: &ShortEntry) -> KResult<()> {
        let byte = u64::from(place.slot) * SLOT as u64;
        let off = match place.dir {
            DirLoc::Root => self.geo.root_area().0 + byte,
            DirLoc::Chain(c) => {
                let cs = u64::from(self.geo.csize);
                let idx = (byte / cs) as u32;
                let chain = fat.chain(c, idx + 1)?;
                let cl = *chain.get(idx as usize).ok_or(Errno::EIO)?;
                self.geo.cluster_offset(cl) + byte % cs
            }
        };
        self.disk.write(off, &e.0)
    }

    /// Puts `slots` into `buf` at the first run of free slots that holds
    /// them, growing the directory if it must; ENOSPC when it cannot.
    pub fn add_slots(
        &self,
        fat: &mut Fat,
        buf: &mut DirBuf,
        slots: &[[u8; SLOT]],
    ) -> KResult<Place> {
        let n = slots.len();
        let end = buf.end();
        let have = buf.slots();
        let free = |i: usize| i >= end || buf.bytes[i * SLOT] == SLOT_DELETED;
        let mut start = None;
        let mut run = 0;
        for i in 0..have {
            if free(i) {
                run += 1;
                if run == n {
                    start = Some(i + 1 - n);
                    break;
                }
            } else {
                run = 0;
            }
        }
        let s = match start {
            Some(s) => s,
            None => {
                let s = have - run;
                let DirLoc::Chain(_) = buf.loc else {
                    return Err(Errno::ENOSPC);
                };
                if s + n > MAX_SLOTS {
                    return Err(Errno::ENOSPC);
                }
                let cs = self.geo.csize as usize;
                let need = ((s + n) * SLOT - buf.bytes.len()).div_ceil(cs);
                let tail = buf.clusters.last().copied();
                let new = fat.alloc(need as u32, tail)?;
                for &c in &new {
                    if let Err(e) = self.disk.zero(self.geo.cluster_offset(c), cs as u64) {
                        if let Some(t) = tail {
                            fat.cut_after(t);
                        }
                        return Err(e);
                    }
                }
                buf.clusters.extend_from_slice(&new);
                buf.bytes.resize(buf.bytes.len() + need * cs, 0);
                s
            }
        };
        for (k, sl) in slots.iter().enumerate() {
            buf.bytes[(s + k) * SLOT..(s + k + 1) * SLOT].copy_from_slice(sl);
        }
        let mut upto = s + n;
        // Slots past the old end may hold leftovers: the one after the
        // new entries must end the directory again.
        if upto >= end && upto < buf.slots() && buf.bytes[upto * SLOT] != SLOT_END {
            buf.bytes[upto * SLOT..(upto + 1) * SLOT].fill(0);
            upto += 1;
        }
        self.write_slots(buf, s, upto)?;
        Ok(Place {
            dir: buf.loc,
            first: s as u32,
            slot: (s + n - 1) as u32,
        })
    }

    /// Frees the slots of the entry at `place`.
    pub fn free_slots(&self, buf: &mut DirBuf, place: &Place) -> KResult<()> {
        let (a, b) = (place.first as usize, place.slot as usize);
        if b >= buf.slots() || a > b {
            return Err(Errno::EIO);
        }
        for i in a..=b {
            buf.bytes[i * SLOT] = SLOT_DELETED;
        }
        self.write_slots(buf, a, b + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dirent::{lfn_slots, ATTR_ARCHIVE};

    fn buf_of(slots: &[[u8; SLOT]], total: usize) -> DirBuf {
        let mut bytes = vec![0u8; total * SLOT];
        for (i, s) in slots.iter().enumerate() {
            bytes[i * SLOT..(i + 1) * SLOT].copy_from_slice(s);
        }
        DirBuf {
            loc: DirLoc::Root,
            bytes,
            clusters: Vec::new(),
        }
    }

    #[test]
    fn listing_and_finding() {
        let short = *b"LONGFI~1TXT";
        let units: Vec<u16> = "Long File Name.txt".encode_utf16().collect();
        let mut slots = lfn_slots(&units, checksum(&short));
        slots.push(ShortEntry::new(short, ATTR_ARCHIVE).0);
        let mut plain = ShortEntry::new(*b"README     ", ATTR_ARCHIVE);
        plain.set_case_bits(LCASE_BASE);
        slots.push(plain.0);
        // Long-name slots whose checksum does not match are ignored.
        let mut stale = lfn_slots(&units, 0x11);
        stale.push(ShortEntry::new(*b"OTHER   TXT", ATTR_ARCHIVE).0);
        slots.extend(stale);
        slots.push(ShortEntry::new(*b"LABEL      ", ATTR_VOLUME).0);
        let buf = buf_of(&slots, 16);
        let items = list(&buf, true, false);
        let names: Vec<&[u8]> = items.iter().map(|i| i.name.as_slice()).collect();
        assert_eq!(
            names,
            vec![&b"Long File Name.txt"[..], b"readme", b"OTHER.TXT"]
        );
        assert_eq!(
            items[0].place,
            Place {
                dir: DirLoc::Root,
                first: 0,
                slot: 2
            }
        );
        assert!(find(&items, b"long file NAME.TXT").is_some());
        assert!(find(&items, b"longfi~1.txt").is_some(), "by short name");
        assert!(find(&items, b"README").is_some());
        assert!(find(&items, b"other.txt").is_some());
        assert!(find(&items, b"Long File Name.tx").is_none());
        let short_only = list(&buf, false, true);
        assert_eq!(short_only[0].name, b"longfi~1.txt");
        assert!(short_taken(&items, b"README     "));
        assert_eq!(buf.end(), 8);
    }
}
