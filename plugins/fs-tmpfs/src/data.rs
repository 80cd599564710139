//! The contents of a regular file: a size and sparse runs of 4 KiB pages.
//!
//! Only pages that were written exist; a hole reads as zeros and costs
//! nothing, so a file may be 2^40 bytes long and hold one page. Pages are
//! kept in *extents*, runs of consecutive pages in one allocation (at most
//! [`MAX_EXTENT_PAGES`]): a 64 KiB write allocates once, not sixteen
//! times, and a file written front to back grows its last extent. This
//! type only stores bytes: the caller charges the pages a write adds
//! ([`FileData::missing_pages`]) before it writes, and returns the pages a
//! truncation frees.

use crate::mem::PAGE_SIZE;
use std::collections::BTreeMap;

const PAGE: usize = PAGE_SIZE as usize;

/// The most pages one extent holds (1 MiB).
pub const MAX_EXTENT_PAGES: u64 = 256;

/// The largest size a file may have (`off_t` is signed).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// A regular file's bytes.
#[derive(Default)]
pub struct FileData {
    /// Extents by their first page; they never overlap, and each holds a
    /// whole number of pages.
    extents: BTreeMap<u64, Vec<u8>>,
    pages: u64,
    size: u64,
}

fn page_of(offset: u64) -> u64 {
    offset / PAGE_SIZE
}

fn pages_in(extent: &[u8]) -> u64 {
    (extent.len() / PAGE) as u64
}

impl FileData {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Pages that hold data.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The first page of the extents that may overlap pages from `first`
    /// on: the extent holding `first`, if any, else `first`.
    fn scan_from(&self, first: u64) -> u64 {
        match self.extents.range(..=first).next_back() {
            Some((&start, e)) if start + pages_in(e) > first => start,
            _ => first,
        }
    }

    /// The extents overlapping pages `first..=last`, with their first page.
    fn overlapping(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, &Vec<u8>)> {
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
        let mut out = vec![0u8; len];
        let end = offset + len as u64;
        for (start, e) in self.overlapping(page_of(offset), page_of(end - 1)) {
            let e_start = start * PAGE_SIZE;
            let from = offset.max(e_start);
            let to = end.min(e_start + e.len() as u64);
            if from < to {
                let src = &e[(from - e_start) as usize..(to - e_start) as usize];
                out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
            }
        }
        out
    }

    /// How many pages a write of `len` bytes at `offset` would add.
    pub fn missing_pages(&self, offset: u64, len: usize) -> u64 {
        if len == 0 {
            return 0;
        }
        let (first, last) = (page_of(offset), page_of(offset + len as u64 - 1));
        let present: u64 = self
            .overlapping(first, last)
            .map(|(s, e)| (s + pages_in(e)).min(last + 1) - s.max(first))
            .sum();
        last - first + 1 - present
    }

    /// Writes `data` at `offset` (the caller checked that the end fits in
    /// [`MAX_FILE_SIZE`] and charged the missing pages), extending the
    /// file if it ends past the current size. Pages in a hole are filled
    /// by growing the extent that ends just before it, when it has room,
    /// else by new extents; either way the new bytes are written once.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        let last = page_of(end - 1);
        let mut page = page_of(offset);
        while page <= last {
            let hole = self.hole_at(page, last);
            if let Some((&s, e)) = self.extents.range_mut(..=page).next_back() {
                let held = pages_in(e);
                if s + held > page {
                    copy_into(e, s, offset, data);
                    page = s + held;
                    continue;
                }
                if s + held == page && held < MAX_EXTENT_PAGES {
                    let n = hole.min(MAX_EXTENT_PAGES - held);
                    reserve_pages(e, n);
                    append_pages(e, page, n, offset, data);
                    self.pages += n;
                    page += n;
                    continue;
                }
            }
            let n = hole.min(MAX_EXTENT_PAGES);
            let mut e = Vec::with_capacity(n as usize * PAGE);
            append_pages(&mut e, page, n, offset, data);
            self.extents.insert(page, e);
            self.pages += n;
            page += n;
        }
        self.size = self.size.max(end);
    }

    /// The length of the hole starting at `page`, up to page `last` (when
    /// no extent holds `page`).
    fn hole_at(&self, page: u64, last: u64) -> u64 {
        let next = self.extents.range(page + 1..).next().map(|(&s, _)| s);
        next.unwrap_or(u64::MAX).min(last + 1) - page
    }

    /// Sets the size. Shrinking frees the pages past the end and zeroes
    /// the rest of the last page, so that growing again reads zeros;
    /// growing adds a hole. Returns the number of pages freed.
    pub fn truncate(&mut self, size: u64) -> u64 {
        if size >= self.size {
            self.size = size;
            return 0;
        }
        let keep = size.div_ceil(PAGE_SIZE);
        let mut freed: u64 = self
            .extents
            .split_off(&keep)
            .values()
            .map(|e| pages_in(e))
            .sum();
        if let Some((&s, e)) = self.extents.range_mut(..keep).next_back() {
            let held = pages_in(e);
            if s + held > keep {
                freed += s + held - keep;
                e.truncate((keep - s) as usize * PAGE);
                e.shrink_to_fit();
            }
            let tail = size - s * PAGE_SIZE;
            if (tail as usize) < e.len() {
                e[tail as usize..].fill(0);
            }
        }
        self.pages -= freed;
        self.size = size;
        freed
    }

    /// Drops every page; returns how many there were.
    pub fn clear(&mut self) -> u64 {
        let n = self.pages;
        self.extents.clear();
        self.pages = 0;
        self.size = 0;
        n
    }
}

/// Copies the part of `data` (file offset `offset`) that falls in the
/// extent `e` starting at page `start`.
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
fn append_pages(e: &mut Vec<u8>, page: u64, n: u64, offset: u64, data: &[u8]) {
    let lo = page * PAGE_SIZE;
    let hi = lo + n * PAGE_SIZE;
    let from = offset.clamp(lo, hi);
    let to = (offset + data.len() as u64).clamp(from, hi);
    e.resize(e.len() + (from - lo) as usize, 0);
    e.extend_from_slice(&data[(from - offset) as usize..(to - offset) as usize]);
    e.resize(e.len() + (hi - to) as usize, 0);
}

/// Makes room in extent `e` for `n` more pages, doubling as Vec would,
/// but never past [`MAX_EXTENT_PAGES`].
fn reserve_pages(e: &mut Vec<u8>, n: u64) {
    let want = e.len() + n as usize * PAGE;
    if want > e.capacity() {
        let target = (e.len() * 2).clamp(want, MAX_EXTENT_PAGES as usize * PAGE);
        e.reserve_exact(target - e.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_read_as_zeros_and_reads_stop_at_eof() {
        let mut f = FileData::default();
        f.write(10_000, b"hello");
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
        assert_eq!(f.missing_pages(4000, data.len()), 4);
        f.write(4000, &data);
        assert_eq!(f.pages(), 4);
        assert_eq!(f.read(4000, 10_000), data);
        assert_eq!(f.missing_pages(0, 20_000), 1);
        assert_eq!(f.missing_pages(4096, 1), 0);
        assert_eq!(f.missing_pages(5, 0), 0);
    }

    #[test]
    fn truncate_frees_pages_and_zeroes_the_tail() {
        let mut f = FileData::default();
        f.write(0, &[0xaa; 3 * PAGE]);
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
        let n = MAX_EXTENT_PAGES + 3;
        for i in 0..n {
            assert_eq!(f.missing_pages(i * PAGE_SIZE, PAGE), 1);
            f.write(i * PAGE_SIZE, &block);
        }
        assert_eq!(f.pages(), n);
        assert_eq!(f.extents.len(), 2);
        for i in [0, MAX_EXTENT_PAGES - 1, MAX_EXTENT_PAGES, n - 1] {
            assert_eq!(f.read(i * PAGE_SIZE, PAGE), block);
        }
        assert_eq!(f.missing_pages(0, n as usize * PAGE), 0);
    }

    #[test]
    fn writes_fill_holes_between_extents() {
        let mut f = FileData::default();
        f.write(0, &[1; PAGE]);
        f.write(4 * PAGE_SIZE, &[5; PAGE]);
        assert_eq!(f.missing_pages(0, 5 * PAGE), 3);
        // One write over the hole and both neighbours.
        f.write(PAGE_SIZE / 2, &vec![9; 4 * PAGE]);
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
        f.write(off, b"far away");
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
}
