//! File data: reading, writing and truncating through a file's cluster
//! chain. There are no holes on FAT: growing a file allocates clusters
//! and zeroes every byte between the old end and the new data.

use crate::dirent::ATTR_ARCHIVE;
use crate::fs::{now, Fs, Inner};
use crate::node::Node;
use crate::time::to_dos;
use rump_plugin_api::vfs::Written;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The largest file FAT holds.
pub const FILESIZE_MAX: u64 = 0xffff_ffff;

impl Fs {
    /// Runs of (device offset, bytes) covering file bytes `off..off+len`
    /// through `chain`, the file's clusters from index `first` on; EIO if
    /// it is short.
    fn spans(&self, chain: &[u32], first: u64, off: u64, len: u64) -> KResult<Vec<(u64, u64)>> {
        let cs = u64::from(self.geo.csize);
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut pos = off;
        let end = off + len;
        while pos < end {
            let idx = (pos / cs - first) as usize;
            let c = *chain.get(idx).ok_or(Errno::EIO)?;
            let within = pos % cs;
            let n = (cs - within).min(end - pos);
            let dev = self.geo.cluster_offset(c) + within;
            match out.last_mut() {
                Some(last) if last.0 + last.1 == dev => last.1 += n,
                _ => out.push((dev, n)),
            }
            pos += n;
        }
        Ok(out)
    }

    /// The index of the cluster holding file byte `pos`, and the
    /// clusters of `n`'s chain that hold bytes `from..to`: EIO if the
    /// chain is shorter.
    fn clusters(&self, g: &Inner, n: &Node, from: u64, to: u64) -> KResult<(u64, Vec<u32>)> {
        let cs = u64::from(self.geo.csize);
        if to <= from {
            return Ok((from / cs, Vec::new()));
        }
        let (first, last) = (from / cs, (to - 1) / cs);
        let count = u32::try_from(last - first + 1).map_err(|_| Errno::EFBIG)?;
        let mut st = n.st.lock();
        let start = st.entry.cluster(self.kind());
        let chain = st.cursor.clusters(&g.fat, start, first as u32, count)?;
        if chain.len() as u32 != count {
            return Err(Errno::EIO);
        }
        Ok((first, chain))
    }

    pub fn read(&self, n: &Arc<Node>, off: u64, len: usize) -> KResult<Vec<u8>> {
        if n.is_dir {
            return Err(Errno::EISDIR);
        }
        let g = self.lock()?;
        let e = n.st.lock().entry;
        let size = u64::from(e.size());
        if off >= size || len == 0 {
            return Ok(Vec::new());
        }
        let len = (len as u64).min(size - off);
        let (first, chain) = self.clusters(&g, n, off, off + len)?;
        let mut out = Vec::with_capacity(len as usize);
        for (dev, n) in self.spans(&chain, first, off, len)? {
            out.extend_from_slice(&self.disk.read(dev, n as usize)?);
        }
        Ok(out)
    }

    /// The clusters in `n`'s chain.
    fn chain_len(&self, g: &Inner, n: &Node) -> KResult<u64> {
        let mut st = n.st.lock();
        let start = st.entry.cluster(self.kind());
        Ok(u64::from(st.cursor.end(&g.fat, start)?.0))
    }

    /// Makes the file's chain hold `bytes` bytes, allocating clusters as
    /// needed (ENOSPC, with nothing allocated, if there are not enough).
    fn grow_chain(&self, g: &mut Inner, n: &Node, bytes: u64) -> KResult<()> {
        let cs = u64::from(self.geo.csize);
        let want = bytes.div_ceil(cs);
        let mut st = n.st.lock();
        let start = st.entry.cluster(self.kind());
        let (have, last) = st.cursor.end(&g.fat, start)?;
        let have = u64::from(have);
        if have >= want {
            return Ok(());
        }
        let tail = (start != 0).then_some(last);
        let new = g.fat.alloc((want - have) as u32, tail)?;
        let start = if start == 0 {
            st.entry.set_cluster(new[0], self.kind());
            if st.unlinked {
                st.doomed = new[0];
            }
            new[0]
        } else {
            start
        };
        st.cursor.appended(start, &new);
        Ok(())
    }

    /// Writes zeros over file bytes `from..to` through `chain` (clusters
    /// from index `first`).
    fn zero_range(&self, chain: &[u32], first: u64, from: u64, to: u64) -> KResult<()> {
        if to <= from {
            return Ok(());
        }
        for (dev, n) in self.spans(chain, first, from, to - from)? {
            self.disk.zero(dev, n)?;
        }
        Ok(())
    }

    /// Marks the file modified now and writes its entry.
    fn modified(&self, g: &Inner, n: &Node, size: u64) -> KResult<()> {
        let mut st = n.st.lock();
        st.entry.set_size(size as u32);
        st.entry.set_mtime(to_dos(now(), g.opts.gmtoff));
        let a = st.entry.attr() | ATTR_ARCHIVE;
        st.entry.set_attr(a);
        match st.place {
            Some(p) => self.write_entry(&g.fat, &p, &st.entry),
            None => Ok(()),
        }
    }

    pub fn write(&self, n: &Arc<Node>, off: u64, data: &[u8], append: bool) -> KResult<Written> {
        if n.is_dir {
            return Err(Errno::EISDIR);
        }
        let mut g = self.lock_rw()?;
        let size = u64::from(n.st.lock().entry.size());
        let off = if append { size } else { off };
        if data.is_empty() {
            return Ok(Written { count: 0, end: off });
        }
        let end = off.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > FILESIZE_MAX {
            return Err(Errno::EFBIG);
        }
        // Short of space, write what fits.
        let cs = u64::from(self.geo.csize);
        let have = self.chain_len(&g, n)?;
        let room = (have + u64::from(g.fat.free_count())) * cs;
        let end = end.min(room);
        if end <= off {
            return Err(Errno::ENOSPC);
        }
        let data = &data[..(end - off) as usize];
        let r = (|| {
            self.grow_chain(&mut g, n, end.max(size))?;
            let (first, chain) = self.clusters(&g, n, size.min(off), end)?;
            self.zero_range(&chain, first, size, off)?;
            for (dev, len, at) in
                self.spans(&chain, first, off, end - off)?
                    .into_iter()
                    .scan(0u64, |at, (d, l)| {
                        let here = *at;
                        *at += l;
                        Some((d, l, here))
                    })
            {
                self.disk
                    .write(dev, &data[at as usize..(at + len) as usize])?;
            }
            self.modified(&g, n, end.max(size))
        })();
        self.commit(&mut g)?;
        r?;
        Ok(Written {
            count: end - off,
            end,
        })
    }

    /// Sets the file's size: cutting frees clusters, growing allocates
    /// zeroed ones.
    pub fn truncate_locked(&self, g: &mut Inner, n: &Arc<Node>, size: u64) -> KResult<()> {
        if size > FILESIZE_MAX {
            return Err(Errno::EFBIG);
        }
        let old = u64::from(n.st.lock().entry.size());
        let cs = u64::from(self.geo.csize);
        if size < old {
            let keep = size.div_ceil(cs);
            let mut st = n.st.lock();
            let start = st.entry.cluster(self.kind());
            if keep == 0 {
                if start != 0 {
                    g.fat.free_chain(start);
                }
                st.entry.set_cluster(0, self.kind());
                if st.unlinked {
                    st.doomed = 0;
                }
            } else {
                let chain = st.cursor.clusters(&g.fat, start, keep as u32 - 1, 1)?;
                let last = *chain.first().ok_or(Errno::EIO)?;
                g.fat.cut_after(last);
            }
            st.cursor.forget();
        } else if size > old {
            self.grow_chain(g, n, size)?;
            let (first, chain) = self.clusters(g, n, old, size)?;
            self.zero_range(&chain, first, old, size)?;
        }
        self.modified(g, n, size)
    }

    pub fn fsync(&self) -> KResult<()> {
        let mut g = self.lock()?;
        if !g.readonly {
            self.commit(&mut g)?;
            self.disk.flush()?;
        }
        Ok(())
    }
}
