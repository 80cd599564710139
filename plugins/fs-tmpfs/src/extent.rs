//! One run of a file's consecutive pages in memory: a heap buffer that
//! grows with the file, or, in the body of a big file, a fixed 2 MiB
//! anonymous mapping that the host may back with one huge page.
//!
//! Fresh memory costs a page fault per page the first time it is
//! touched; for a file written front to back that fault, not the copy,
//! is most of a write's cost. A huge extent takes one fault per 2 MiB.
//! It is charged whole when it is made (its pages are resident as soon
//! as one byte is written), so a file's charge may run ahead of its
//! written pages by less than 2 MiB.

use memmap2::MmapMut;

/// Bytes in a page.
pub const PAGE: usize = 4096;

/// The most pages a heap extent holds (1 MiB).
pub const MAX_HEAP_PAGES: u64 = 256;

/// The pages of a huge extent (2 MiB, the host's huge page on amd64).
pub const HUGE_PAGES: u64 = 512;

/// The bytes of a huge extent.
pub const HUGE_BYTES: usize = HUGE_PAGES as usize * PAGE;

/// Pages `start..start + n` of a file.
pub enum Extent {
    Heap(Vec<u8>),
    Huge { map: MmapMut, len: usize },
}

impl Extent {
    /// An empty heap extent with room for `pages` pages.
    pub fn heap(pages: u64) -> Extent {
        Extent::Heap(Vec::with_capacity(pages as usize * PAGE))
    }

    /// An empty huge extent in `map`, a mapping of [`HUGE_BYTES`].
    pub fn huge(map: MmapMut) -> Extent {
        debug_assert_eq!(map.len(), HUGE_BYTES);
        Extent::Huge { map, len: 0 }
    }

    pub fn is_huge(&self) -> bool {
        matches!(self, Extent::Huge { .. })
    }

    /// The bytes of the pages held.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Extent::Heap(v) => v,
            Extent::Huge { map, len } => &map[..*len],
        }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Extent::Heap(v) => v,
            Extent::Huge { map, len } => &mut map[..*len],
        }
    }

    /// Pages held.
    pub fn pages(&self) -> u64 {
        (self.bytes().len() / PAGE) as u64
    }

    /// Pages that may still be appended.
    pub fn room(&self) -> u64 {
        match self {
            Extent::Heap(_) => MAX_HEAP_PAGES - self.pages(),
            Extent::Huge { .. } => HUGE_PAGES - self.pages(),
        }
    }

    /// Pages charged for this extent: those held, or a huge extent's all.
    pub fn charged(&self) -> u64 {
        match self {
            Extent::Heap(_) => self.pages(),
            Extent::Huge { .. } => HUGE_PAGES,
        }
    }

    /// Pages that appending `n` pages adds to the charge.
    pub fn charge_to_append(&self, n: u64) -> u64 {
        match self {
            Extent::Heap(_) => n,
            Extent::Huge { .. } => 0,
        }
    }

    /// Appends `n` pages (at most [`Extent::room`]) holding `data` from
    /// byte `at` of the first of them, and zeros around it.
    pub fn append_pages(&mut self, n: u64, at: usize, data: &[u8]) {
        let add = n as usize * PAGE;
        debug_assert!(n <= self.room() && at + data.len() <= add);
        match self {
            Extent::Heap(v) => {
                let want = v.len() + add;
                if want > v.capacity() {
                    // Double as Vec would, but never past the cap.
                    let target = (v.len() * 2).clamp(want, MAX_HEAP_PAGES as usize * PAGE);
                    v.reserve_exact(target - v.len());
                }
                v.resize(v.len() + at, 0);
                v.extend_from_slice(data);
                v.resize(want, 0);
            }
            Extent::Huge { map, len } => {
                let new = &mut map[*len..*len + add];
                new[..at].fill(0);
                new[at..at + data.len()].copy_from_slice(data);
                new[at + data.len()..].fill(0);
                *len += add;
            }
        }
    }

    /// Keeps the first `pages` pages; returns the pages uncharged (a huge
    /// extent stays charged whole while it holds any page).
    pub fn truncate_pages(&mut self, pages: u64) -> u64 {
        let before = self.charged();
        match self {
            Extent::Heap(v) => {
                v.truncate(pages as usize * PAGE);
                v.shrink_to_fit();
            }
            Extent::Huge { len, .. } => *len = (*len).min(pages as usize * PAGE),
        }
        before - self.charged()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_extents_grow_and_shrink_their_charge() {
        let mut e = Extent::heap(1);
        e.append_pages(2, 100, b"abc");
        assert_eq!(
            (e.pages(), e.charged(), e.room()),
            (2, 2, MAX_HEAP_PAGES - 2)
        );
        assert_eq!(&e.bytes()[98..105], b"\0\0abc\0\0");
        assert_eq!(e.charge_to_append(3), 3);
        assert_eq!(e.truncate_pages(1), 1);
        assert_eq!(e.bytes().len(), PAGE);
    }

    #[test]
    fn huge_extents_are_charged_whole() {
        let mut e = Extent::huge(crate::supply::fresh().expect("an anonymous mapping"));
        assert!(e.is_huge());
        assert_eq!(
            (e.pages(), e.charged(), e.room()),
            (0, HUGE_PAGES, HUGE_PAGES)
        );
        e.append_pages(3, PAGE + 1, &[7; PAGE]);
        assert_eq!(e.pages(), 3);
        assert_eq!(e.charge_to_append(10), 0);
        let b = e.bytes();
        assert!(b[..=PAGE].iter().all(|&x| x == 0));
        assert!(b[PAGE + 1..2 * PAGE + 1].iter().all(|&x| x == 7));
        assert!(b[2 * PAGE + 1..].iter().all(|&x| x == 0));
        // Shrinking and growing again reads zeros where the data was.
        assert_eq!(e.truncate_pages(1), 0);
        e.append_pages(2, 0, b"");
        assert!(e.bytes()[PAGE..].iter().all(|&x| x == 0));
    }
}
