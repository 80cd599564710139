//! The contents of a regular file: a size and sparse 4 KiB pages.
//!
//! Only pages that were written exist; a hole reads as zeros and costs
//! nothing, so a file may be 2^40 bytes long and hold one page. This type
//! only stores bytes: the caller charges the pages a write adds
//! ([`FileData::missing_pages`]) before it writes, and returns the pages a
//! truncation frees.

use crate::mem::PAGE_SIZE;
use std::collections::BTreeMap;

const PAGE: usize = PAGE_SIZE as usize;

/// The largest size a file may have (`off_t` is signed).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// A regular file's bytes.
#[derive(Default)]
pub struct FileData {
    pages: BTreeMap<u64, Box<[u8]>>,
    size: u64,
}

fn page_of(offset: u64) -> u64 {
    offset / PAGE_SIZE
}

fn offset_in_page(offset: u64) -> usize {
    (offset % PAGE_SIZE) as usize
}

impl FileData {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Pages that hold data.
    pub fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Up to `len` bytes at `offset`; short or empty past the end.
    pub fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        if offset >= self.size || len == 0 {
            return Vec::new();
        }
        let len = (self.size - offset).min(len as u64) as usize;
        let mut out = vec![0u8; len];
        let end = offset + len as u64;
        for (&idx, page) in self.pages.range(page_of(offset)..=page_of(end - 1)) {
            let page_start = idx * PAGE_SIZE;
            let from = offset.max(page_start);
            let to = end.min(page_start + PAGE_SIZE);
            let src = &page[(from - page_start) as usize..(to - page_start) as usize];
            out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
        out
    }

    /// How many pages a write of `len` bytes at `offset` would add.
    pub fn missing_pages(&self, offset: u64, len: usize) -> u64 {
        if len == 0 {
            return 0;
        }
        let first = page_of(offset);
        let last = page_of(offset + len as u64 - 1);
        let present = self.pages.range(first..=last).count() as u64;
        last - first + 1 - present
    }

    /// Writes `data` at `offset` (the caller checked that the end fits in
    /// [`MAX_FILE_SIZE`] and charged the missing pages), extending the
    /// file if it ends past the current size.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let at = offset_in_page(pos);
            let n = rest.len().min(PAGE - at);
            let page = self
                .pages
                .entry(page_of(pos))
                .or_insert_with(|| vec![0u8; PAGE].into_boxed_slice());
            page[at..at + n].copy_from_slice(&rest[..n]);
            pos += n as u64;
            rest = &rest[n..];
        }
        self.size = self.size.max(pos);
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
        let freed = self.pages.split_off(&keep).len() as u64;
        let at = offset_in_page(size);
        if at != 0 {
            if let Some(page) = self.pages.get_mut(&page_of(size)) {
                page[at..].fill(0);
            }
        }
        self.size = size;
        freed
    }

    /// Drops every page; returns how many there were.
    pub fn clear(&mut self) -> u64 {
        let n = self.pages();
        self.pages.clear();
        self.size = 0;
        n
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
