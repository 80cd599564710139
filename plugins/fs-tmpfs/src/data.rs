//! The contents of a regular file: a size and sparse runs of 4 KiB pages.
//!
//! Only pages that were written exist; a hole reads as zeros and costs
//! nothing, so a file may be 2^40 bytes long and hold one page. Pages are
//! kept in [`Extent`]s, runs of consecutive pages in one allocation: a
//! 64 KiB write allocates once, not sixteen times, and a file written
//! front to back grows its last extent; past its first 2 MiB such a file
//! continues in huge extents. This type only stores bytes: the caller
//! charges what a write adds ([`FileData::charge_for_write`]) before it
//! writes, and returns what a truncation frees.

use crate::extent::{Extent, HUGE_PAGES, MAX_HEAP_PAGES};
use crate::mem::PAGE_SIZE;
use crate::supply::Supply;
use std::collections::BTreeMap;

/// The largest size a file may have (`off_t` is signed).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// A regular file's bytes.
#[derive(Default)]
pub struct FileData {
    /// Extents by their first page; they never overlap.
    extents: BTreeMap<u64, Extent>,
    /// Pages written (holding data).
    pages: u64,
    /// Pages charged: those written, and the unwritten rest of huge
    /// extents.
    charged: u64,
    size: u64,
}

/// What a write does at one page, decided by [`FileData::step`].
enum Step {
    /// Copies into the extent at `start`, which holds the page.
    Inside { start: u64 },
    /// Appends `n` pages to the extent at `start`, which ends at the page.
    Grow { start: u64, n: u64 },
    /// Makes a new extent of `n` pages there.
    New { n: u64, huge: bool },
}

fn page_of(offset: u64) -> u64 {
    offset / PAGE_SIZE
}

impl FileData {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Pages that hold data.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Pages charged for this file.
    pub fn charged(&self) -> u64 {
        self.charged
    }

    /// The first page of the extents that may overlap pages from `first`
    /// on: the extent holding `first`, if any, else `first`.
    fn scan_from(&self, first: u64) -> u64 {
        match self.extents.range(..=first).next_back() {
            Some((&start, e)) if start + e.pages() > first => start,
            _ => first,
        }
    }

    /// The extents overlapping pages `first..=last`, with their first page.
    fn overlapping(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, &Extent)> {
        self.extents
            .range(self.scan_from(first)..=last)
            .map(|(&s, e)| (s, e))
    }

    /// Up to `len` bytes at `offset`; short or empty past the end.
    pub fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        if offset >= self.size || len == 0 {
            return Vec::new();
        }
        let len = (self.size - offset).min(len as u64) as usize;
        let end = offset + len as u64;
        let mut out = Vec::with_capacity(len);
        for (start, e) in self.overlapping(page_of(offset), page_of(end - 1)) {
            let e_start = start * PAGE_SIZE;
            let from = offset.max(e_start);
            let to = end.min(e_start + e.bytes().len() as u64);
            if from < to {
                out.resize((from - offset) as usize, 0);
                out.extend_from_slice(
                    &e.bytes()[(from - e_start) as usize..(to - e_start) as usize],
                );
            }
        }
        out.resize(len, 0);
        out
    }

    /// What a write does at `page` (of a write ending in page `last`), and
    /// the page after it. Growing the extent that ends just before a hole
    /// is preferred to a new extent, except where a huge extent can start:
    /// at a 2 MiB boundary, right after data, with 2 MiB free ahead.
    /// `continued` says that an earlier step of the write ended at `page`.
    fn step(&self, page: u64, last: u64, huge: bool, continued: bool) -> (Step, u64) {
        let before = self.extents.range(..=page).next_back();
        if let Some((&s, e)) = before {
            if s + e.pages() > page {
                return (Step::Inside { start: s }, s + e.pages());
            }
        }
        let next = self
            .extents
            .range(page + 1..)
            .next()
            .map_or(u64::MAX, |(&s, _)| s);
        let hole = next.min(last + 1) - page;
        let ends_here = before.filter(|(&s, e)| s + e.pages() == page);
        let after_data = continued || ends_here.is_some();
        if huge && after_data && page % HUGE_PAGES == 0 && next - page >= HUGE_PAGES {
            let n = hole.min(HUGE_PAGES);
            return (Step::New { n, huge: true }, page + n);
        }
        if let Some((&s, e)) = ends_here.filter(|(_, e)| e.room() > 0) {
            let n = hole.min(e.room());
            return (Step::Grow { start: s, n }, page + n);
        }
        let n = hole.min(MAX_HEAP_PAGES);
        (Step::New { n, huge: false }, page + n)
    }

    /// The pages a write of `len` bytes at `offset` adds to the charge,
    /// with huge extents allowed or not.
    pub fn charge_for_write(&self, offset: u64, len: usize, huge: bool) -> u64 {
        if len == 0 {
            return 0;
        }
        let last = page_of(offset + len as u64 - 1);
        let first = page_of(offset);
        let mut page = first;
        let mut charge = 0;
        // Walking without writing takes the same steps as the write: a
        // step looks at the extents around its page, which earlier steps
        // only changed by ending there (`continued`), and those it grew
        // or made have no room left or end the write.
        while page <= last {
            let (step, next) = self.step(page, last, huge, page != first);
            charge += match step {
                Step::Inside { .. } => 0,
                Step::Grow { start, n } => self.extents[&start].charge_to_append(n),
                Step::New { n, huge } => {
                    if huge {
                        HUGE_PAGES
                    } else {
                        n
                    }
                }
            };
            page = next;
        }
        charge
    }

    /// Writes `data` at `offset` (the caller checked that the end fits in
    /// [`MAX_FILE_SIZE`] and charged [`FileData::charge_for_write`] with
    /// huge extents allowed if it passes `huge`, where they come from),
    /// extending the file if it ends past the current size; the new bytes
    /// are written once. Returns the pages charged, which is less than
    /// planned when the host had no huge mapping.
    pub fn write(&mut self, offset: u64, data: &[u8], supply: Option<&Supply>) -> u64 {
        let huge = supply.is_some();
        if data.is_empty() {
            return 0;
        }
        let end = offset + data.len() as u64;
        let last = page_of(end - 1);
        let first = page_of(offset);
        let mut page = first;
        let before = (self.pages, self.charged);
        let planned =
            cfg!(debug_assertions).then(|| self.charge_for_write(offset, data.len(), huge));
        while page <= last {
            let (step, next) = self.step(page, last, huge, page != first);
            let (start, e) = match step {
                Step::Inside { start } => {
                    let e = self
                        .extents
                        .get_mut(&start)
                        .expect("the extent stepped into");
                    copy_into(e.bytes_mut(), start, offset, data);
                    page = next;
                    continue;
                }
                Step::Grow { start, n } => {
                    let e = self.extents.get_mut(&start).expect("the extent to grow");
                    self.charged += e.charge_to_append(n);
                    append_pages(e, page, n, offset, data);
                    (start, e)
                }
                Step::New { n, huge } => {
                    let map = supply.filter(|_| huge).and_then(Supply::take);
                    let mut e = map.map_or_else(|| Extent::heap(n), Extent::huge);
                    self.charged += e.charge_to_append(n) + e.charged();
                    append_pages(&mut e, page, n, offset, data);
                    (page, self.extents.entry(page).or_insert(e))
                }
            };
            debug_assert_eq!(start + e.pages(), next);
            self.pages += next - page;
            page = next;
        }
        self.size = self.size.max(end);
        debug_assert!(self.pages >= before.0);
        let charged = self.charged - before.1;
        // Less only when the host had no mapping for a huge extent.
        debug_assert!(planned.is_none_or(|p| charged == p || (huge && charged < p)));
        charged
    }

    /// Sets the size. Shrinking frees the pages past the end and zeroes
    /// the rest of the last page, so that growing again reads zeros;
    /// growing adds a hole. Returns the number of pages uncharged.
    pub fn truncate(&mut self, size: u64) -> u64 {
        if size >= self.size {
            self.size = size;
            return 0;
        }
        let keep = size.div_ceil(PAGE_SIZE);
        let before = self.charged;
        for e in self.extents.split_off(&keep).into_values() {
            self.pages -= e.pages();
            self.charged -= e.charged();
        }
        if let Some((&s, e)) = self.extents.range_mut(..keep).next_back() {
            let held = e.pages();
            if s + held > keep {
                self.pages -= s + held - keep;
                self.charged -= e.truncate_pages(keep - s);
            }
            let tail = (size - s * PAGE_SIZE) as usize;
            let bytes = e.bytes_mut();
            if tail < bytes.len() {
                bytes[tail..].fill(0);
            }
        }
        self.size = size;
        before - self.charged
    }

    /// Drops every page; returns how many were charged.
    pub fn clear(&mut self) -> u64 {
        let n = self.charged;
        self.extents.clear();
        self.pages = 0;
        self.charged = 0;
        self.size = 0;
        n
    }
}

/// Copies the part of `data` (file offset `offset`) that falls in the
/// extent bytes `e` starting at page `start`.
fn copy_into(e: &mut [u8], start: u64, offset: u64, data: &[u8]) {
    let e_start = start * PAGE_SIZE;
    let lo = offset.max(e_start);
    let hi = (offset + data.len() as u64).min(e_start + e.len() as u64);
    if lo < hi {
        e[(lo - e_start) as usize..(hi - e_start) as usize]
            .copy_from_slice(&data[(lo - offset) as usize..(hi - offset) as usize]);
    }
}

/// Appends pages `page..page + n` to extent `e`: the part of `data` (file
/// offset `offset`) that falls in them, and zeros around it.
fn append_pages(e: &mut Extent, page: u64, n: u64, offset: u64, data: &[u8]) {
    let lo = page * PAGE_SIZE;
    let hi = lo + n * PAGE_SIZE;
    let from = offset.clamp(lo, hi);
    let to = (offset + data.len() as u64).clamp(from, hi);
    e.append_pages(
        n,
        (from - lo) as usize,
        &data[(from - offset) as usize..(to - offset) as usize],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extent::PAGE;
    use crate::mem::testing::FakeMem;

    /// A supply of huge extents that charges nothing that counts.
    fn supply() -> Supply {
        Supply::new(FakeMem::new(None))
    }

    #[test]
    fn holes_read_as_zeros_and_reads_stop_at_eof() {
        let mut f = FileData::default();
        f.write(10_000, b"hello", None);
        assert_eq!(f.size(), 10_005);
        assert_eq!(f.pages(), 1);
        let all = f.read(0, 20_000);
        assert_eq!(all.len(), 10_005);
        assert!(all[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&all[10_000..], b"hello");
        assert_eq!(f.read(10_003, 100), b"lo");
        assert!(f.read(10_005, 100).is_empty());
        assert!(f.read(u64::MAX, 100).is_empty());
    }

    #[test]
    fn writes_across_pages() {
        let mut f = FileData::default();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(f.charge_for_write(4000, data.len(), false), 4);
        f.write(4000, &data, None);
        assert_eq!(f.pages(), 4);
        assert_eq!(f.read(4000, 10_000), data);
        assert_eq!(f.charge_for_write(0, 20_000, false), 1);
        assert_eq!(f.charge_for_write(4096, 1, false), 0);
        assert_eq!(f.charge_for_write(5, 0, false), 0);
    }

    #[test]
    fn truncate_frees_pages_and_zeroes_the_tail() {
        let mut f = FileData::default();
        f.write(0, &[0xaa; 3 * PAGE], None);
        assert_eq!(f.truncate(5000), 1);
        assert_eq!(f.size(), 5000);
        assert_eq!(f.pages(), 2);
        assert_eq!(f.truncate(3 * PAGE_SIZE), 0);
        let back = f.read(0, 3 * PAGE);
        assert!(back[..5000].iter().all(|&b| b == 0xaa));
        assert!(back[5000..].iter().all(|&b| b == 0));
        assert_eq!(f.truncate(4096), 1);
        assert_eq!(f.truncate(0), 1);
        assert_eq!(f.pages(), 0);
    }

    #[test]
    fn sequential_writes_grow_one_extent_up_to_the_cap() {
        let mut f = FileData::default();
        let block: Vec<u8> = (0..PAGE).map(|i| (i % 253) as u8).collect();
        let n = MAX_HEAP_PAGES + 3;
        for i in 0..n {
            assert_eq!(f.charge_for_write(i * PAGE_SIZE, PAGE, false), 1);
            f.write(i * PAGE_SIZE, &block, None);
        }
        assert_eq!(f.pages(), n);
        assert_eq!(f.extents.len(), 2);
        for i in [0, MAX_HEAP_PAGES - 1, MAX_HEAP_PAGES, n - 1] {
            assert_eq!(f.read(i * PAGE_SIZE, PAGE), block);
        }
        assert_eq!(f.charge_for_write(0, n as usize * PAGE, false), 0);
    }

    #[test]
    fn writes_fill_holes_between_extents() {
        let mut f = FileData::default();
        f.write(0, &[1; PAGE], None);
        f.write(4 * PAGE_SIZE, &[5; PAGE], None);
        assert_eq!(f.charge_for_write(0, 5 * PAGE, false), 3);
        // One write over the hole and both neighbours.
        f.write(PAGE_SIZE / 2, &vec![9; 4 * PAGE], None);
        assert_eq!(f.pages(), 5);
        let all = f.read(0, 5 * PAGE);
        assert!(all[..PAGE / 2].iter().all(|&b| b == 1));
        assert!(all[PAGE / 2..PAGE / 2 + 4 * PAGE].iter().all(|&b| b == 9));
        assert!(all[PAGE / 2 + 4 * PAGE..].iter().all(|&b| b == 5));
        // Truncating inside an extent frees its tail.
        assert_eq!(f.truncate(PAGE_SIZE + 1), 3);
        assert_eq!(f.pages(), 2);
        assert_eq!(f.read(PAGE_SIZE, PAGE), vec![9]);
        f.truncate(3 * PAGE_SIZE);
        assert_eq!(f.read(PAGE_SIZE, 2 * PAGE)[1..], vec![0; 2 * PAGE - 1][..]);
    }

    #[test]
    fn large_sparse_offsets() {
        let mut f = FileData::default();
        let off = 1u64 << 40;
        f.write(off, b"far away", None);
        assert_eq!(f.size(), off + 8);
        assert_eq!(f.pages(), 1);
        assert_eq!(f.read(off - 4, 12), b"\0\0\0\0far away");
        assert_eq!(f.read(1 << 39, 4), vec![0; 4]);
        f.truncate(1 << 50);
        assert_eq!(f.pages(), 1);
        assert_eq!(f.truncate(off + 3), 0);
        assert_eq!(f.read(off, 100), b"far");
        assert_eq!(f.truncate(1), 1);
        assert_eq!(f.clear(), 0);
    }

    /// Writes `total` bytes front to back in 64 KiB calls, charging as a
    /// node does; returns the file and what was charged.
    fn stream(total: usize, huge: bool) -> (FileData, u64) {
        let supply = supply();
        let mut f = FileData::default();
        let block: Vec<u8> = (0..64 << 10).map(|i| (i % 251) as u8).collect();
        let mut charged = 0;
        for at in (0..total).step_by(block.len()) {
            let plan = f.charge_for_write(at as u64, block.len(), huge);
            let done = f.write(at as u64, &block, huge.then_some(&supply));
            assert_eq!(done, plan, "a write charges what was planned");
            charged += done;
        }
        (f, charged)
    }

    #[test]
    fn big_files_continue_in_huge_extents_charged_whole() {
        let (f, charged) = stream(5 << 20, true);
        assert_eq!(f.pages(), 1280);
        // 2 MiB in heap extents, then two huge ones (the second one half
        // written but charged whole).
        assert_eq!(charged, 512 + 2 * HUGE_PAGES);
        assert_eq!(f.charged(), charged);
        let huge: Vec<u64> = f
            .extents
            .iter()
            .filter(|(_, e)| e.is_huge())
            .map(|(&s, _)| s)
            .collect();
        assert_eq!(huge, [512, 1024]);
        let back = f.read(0, 5 << 20);
        assert!(back
            .chunks(64 << 10)
            .all(|c| c.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8)));
        // Without huge extents the charge is the pages written.
        let (g, charged) = stream(5 << 20, false);
        assert_eq!((g.pages(), charged), (1280, 1280));
        assert!(g.extents.values().all(|e| !e.is_huge()));
    }

    #[test]
    fn truncating_into_a_huge_extent_keeps_it_charged_and_zeroes_the_rest() {
        let (mut f, charged) = stream(3 << 20, true);
        assert_eq!(charged, 512 + HUGE_PAGES);
        assert_eq!(f.truncate((2 << 20) + 10), 0);
        assert_eq!(f.pages(), 513);
        assert_eq!(f.charged(), 512 + HUGE_PAGES);
        f.truncate(3 << 20);
        assert!(f.read((2 << 20) + 10, 1 << 20).iter().all(|&b| b == 0));
        assert_eq!(f.truncate(2 << 20), HUGE_PAGES);
        assert_eq!((f.pages(), f.charged()), (512, 512));
        assert_eq!(f.clear(), 512);
    }

    #[test]
    fn sparse_writes_far_out_never_make_huge_extents() {
        let mut f = FileData::default();
        let off = 1u64 << 30; // a 2 MiB boundary, after a hole
        assert_eq!(f.charge_for_write(off, PAGE, true), 1);
        assert_eq!(f.write(off, &[1; PAGE], Some(&supply())), 1);
        assert!(f.extents.values().all(|e| !e.is_huge()));
    }

    #[test]
    fn random_writes_match_a_plain_model_and_their_plans() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let supply = supply();
        for round in 0..8 {
            let mut f = FileData::default();
            let mut model: Vec<u8> = Vec::new();
            for i in 0..60 {
                let at = match rnd(4) {
                    0 => model.len() as u64, // append
                    1 => rnd(model.len() as u64 + 1),
                    2 => rnd(8) << 20, // where extents start and end
                    _ => rnd(8 << 20),
                };
                let len = [1, 4096, 65536, 300_000, 1 << 20][rnd(5) as usize] + rnd(5000) as usize;
                let byte = (round * 60 + i) as u8 | 1;
                let huge = rnd(4) != 0;
                let plan = f.charge_for_write(at, len, huge);
                assert_eq!(f.write(at, &vec![byte; len], huge.then_some(&supply)), plan);
                let end = at as usize + len;
                if model.len() < end {
                    model.resize(end, 0);
                }
                model[at as usize..end].fill(byte);
                if rnd(10) == 0 {
                    let size = rnd(model.len() as u64 + 1);
                    f.truncate(size);
                    model.truncate(size as usize);
                }
                assert_eq!(f.size(), model.len() as u64);
                assert!(f.charged() >= f.pages());
            }
            assert!(f.read(0, model.len()) == model, "round {round}");
            let held: u64 = f.extents.values().map(Extent::charged).sum();
            assert_eq!(held, f.charged());
            assert_eq!(f.clear(), held);
        }
    }
}
