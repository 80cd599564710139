//! Where a file's cluster chain was last walked, so that reading or
//! writing a file front to back follows each link of its chain once
//! (walking from the first cluster for every call made a big file's
//! I/O quadratic).
//!
//! A cursor belongs to one node and describes the chain that starts at
//! the cluster it was last asked about; a different start cluster, or
//! [`Cursor::forget`] after the chain was cut, makes it start over.

use crate::fat::Fat;
use rump_plugin_api::{Errno, KResult};

/// A known place in a chain, and the chain's end once it was seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cursor {
    /// The chain's first cluster (0: nothing known).
    start: u32,
    /// A cluster of the chain, by index.
    at: (u32, u32),
    /// The chain's length and last cluster.
    end: Option<(u32, u32)>,
}

impl Cursor {
    fn from(&mut self, start: u32) {
        if self.start != start {
            *self = Cursor {
                start,
                at: (0, start),
                end: None,
            };
        }
    }

    /// Clusters `idx..idx + count` of the chain starting at `start`;
    /// fewer if the chain ends first; EIO for a broken or looping chain.
    pub fn clusters(&mut self, fat: &Fat, start: u32, idx: u32, count: u32) -> KResult<Vec<u32>> {
        if start == 0 || count == 0 {
            return Ok(Vec::new());
        }
        fat.check_start(start)?;
        self.from(start);
        let (mut i, mut c) = if self.at.0 <= idx {
            self.at
        } else {
            (0, start)
        };
        while i < idx {
            match self.step(fat, i, c)? {
                Some(n) => (i, c) = (i + 1, n),
                None => return Ok(Vec::new()),
            }
        }
        let mut out = Vec::with_capacity(count.min(1 << 16) as usize);
        out.push(c);
        while (out.len() as u32) < count {
            match self.step(fat, i, c)? {
                Some(n) => {
                    (i, c) = (i + 1, n);
                    out.push(c);
                }
                None => break,
            }
        }
        self.at = (i, c);
        Ok(out)
    }

    /// The length and last cluster of the chain starting at `start`
    /// ((0, 0) for none).
    pub fn end(&mut self, fat: &Fat, start: u32) -> KResult<(u32, u32)> {
        if start == 0 {
            return Ok((0, 0));
        }
        fat.check_start(start)?;
        self.from(start);
        if let Some(e) = self.end {
            return Ok(e);
        }
        let (mut i, mut c) = self.at;
        while let Some(n) = self.step(fat, i, c)? {
            (i, c) = (i + 1, n);
        }
        self.at = (i, c);
        Ok((i + 1, c))
    }

    /// The link after cluster `c` (index `i`); records the end when
    /// there is none.
    fn step(&mut self, fat: &Fat, i: u32, c: u32) -> KResult<Option<u32>> {
        if i >= fat.max_cluster() {
            return Err(Errno::EIO); // longer than the volume: a loop
        }
        let n = fat.next(c)?;
        if n.is_none() {
            self.end = Some((i + 1, c));
        }
        Ok(n)
    }

    /// Clusters `new` were hung after the end of the chain starting at
    /// `start` (or, for a file that had none, `new[0]` starts it).
    pub fn appended(&mut self, start: u32, new: &[u32]) {
        let Some(&last) = new.last() else { return };
        self.from(start);
        self.end = match self.end {
            Some((len, _)) => Some((len + new.len() as u32, last)),
            None if start == new[0] => Some((new.len() as u32, last)),
            None => None,
        };
    }

    /// The chain was cut or freed: nothing is known any more.
    pub fn forget(&mut self) {
        *self = Cursor::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpb::FatType;
    use crate::fat::tests::setup;

    #[test]
    fn walks_follow_the_chain_from_where_they_were() {
        let (_, disk, g) = setup(FatType::Fat16);
        let mut fat = Fat::load(&disk, &g).unwrap();
        // A chain that is not in cluster order: 2, 3, 4, then 10, 11.
        let a = fat.alloc(3, None).unwrap();
        fat.alloc(5, None).unwrap(); // 5..=9 taken by something else
        fat.alloc(2, Some(4)).unwrap();
        let all = fat.chain(a[0], u32::MAX).unwrap();
        assert_eq!(all, [2, 3, 4, 10, 11]);
        let mut c = Cursor::default();
        assert_eq!(c.clusters(&fat, 2, 0, 2).unwrap(), [2, 3]);
        assert_eq!(c.clusters(&fat, 2, 2, 2).unwrap(), [4, 10]);
        assert_eq!(
            c.clusters(&fat, 2, 1, 10).unwrap(),
            [3, 4, 10, 11],
            "back to the start"
        );
        assert_eq!(
            c.clusters(&fat, 2, 5, 1).unwrap(),
            Vec::<u32>::new(),
            "past the end"
        );
        assert_eq!(c.end(&fat, 2).unwrap(), (5, 11));
        let more = fat.alloc(1, Some(11)).unwrap();
        c.appended(2, &more);
        assert_eq!(c.end(&fat, 2).unwrap(), (6, more[0]));
        assert_eq!(c.clusters(&fat, 2, 5, 1).unwrap(), more);
        fat.cut_after(3);
        c.forget();
        assert_eq!(c.end(&fat, 2).unwrap(), (2, 3));
        // Another file's chain: the cursor starts over.
        assert_eq!(c.clusters(&fat, 5, 0, 1).unwrap(), [5]);
        assert_eq!((c.end(&fat, 0).unwrap()), (0, 0));
        assert_eq!(c.clusters(&fat, 1, 0, 1), Err(Errno::EIO), "not a cluster");
    }

    #[test]
    fn a_looping_chain_is_eio() {
        let (_, disk, g) = setup(FatType::Fat16);
        let mut fat = Fat::load(&disk, &g).unwrap();
        fat.alloc(3, None).unwrap();
        fat.set(4, 2); // 2 -> 3 -> 4 -> 2 ...
        let mut c = Cursor::default();
        assert_eq!(c.end(&fat, 2), Err(Errno::EIO));
        assert_eq!(c.clusters(&fat, 2, 100_000, 1), Err(Errno::EIO));
    }
}
