//! File data: reading, writing and truncating through a file's cluster
//! chain. There are no holes on FAT: growing a file allocates clusters
//! and zeroes every byte between the old end and the new data.

use crate::dirent::{ShortEntry, ATTR_ARCHIVE};
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
    /// of a file whose chain is `chain`; EIO if the chain is short.
    fn spans(&self, chain: &[u32], off: u64, len: u64) -> KResult<Vec<(u64, u64)>> {
        let cs = u64::from(self.geo.csize);
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut pos = off;
        let end = off + len;
        while pos < end {
            let idx = (pos / cs) as usize;
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

    /// The clusters of a file's chain that hold its first `bytes` bytes.
    fn chain_for(&self, g: &Inner, e: &ShortEntry, bytes: u64) -> KResult<Vec<u32>> {
        let cs = u64::from(self.geo.csize);
        let want = bytes.div_ceil(cs);
        if want == 0 {
            return Ok(Vec::new());
        }
        let chain = g
            .fat
            .chain(e.cluster(self.kind()), want.min(u64::from(u32::MAX)) as u32)?;
        if (chain.len() as u64) < want {
            return Err(Errno::EIO);
        }
        Ok(chain)
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
        let chain = self.chain_for(&g, &e, off + len)?;
        let mut out = Vec::with_capacity(len as usize);
        for (dev, n) in self.spans(&chain, off, len)? {
            out.extend_from_slice(&self.disk.read(dev, n as usize)?);
        }
        Ok(out)
    }

    /// Makes the file's chain hold `bytes` bytes, allocating clusters as
    /// needed (ENOSPC, with nothing allocated, if there are not enough);
    /// returns the chain.
    fn grow_chain(&self, g: &mut Inner, n: &Node, bytes: u64) -> KResult<Vec<u32>> {
        let cs = u64::from(self.geo.csize);
        let want = bytes.div_ceil(cs);
        let mut st = n.st.lock();
        let start = st.entry.cluster(self.kind());
        let mut chain = g.fat.chain(start, u32::MAX)?;
        let have = chain.len() as u64;
        if have >= want {
            chain.truncate(want as usize);
            return Ok(chain);
        }
        let new = g.fat.alloc((want - have) as u32, chain.last().copied())?;
        if start == 0 {
            st.entry.set_cluster(new[0], self.kind());
            if st.unlinked {
                st.doomed = new[0];
            }
        }
        chain.extend_from_slice(&new);
        Ok(chain)
    }

    /// Writes zeros over file bytes `from..to` through `chain`.
    fn zero_range(&self, chain: &[u32], from: u64, to: u64) -> KResult<()> {
        if to <= from {
            return Ok(());
        }
        for (dev, n) in self.spans(chain, from, to - from)? {
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
        let have = {
            let st = n.st.lock();
            g.fat.chain(st.entry.cluster(self.kind()), u32::MAX)?.len() as u64
        };
        let room = (have + u64::from(g.fat.free_count())) * cs;
        let end = end.min(room);
        if end <= off {
            return Err(Errno::ENOSPC);
        }
        let data = &data[..(end - off) as usize];
        let r = (|| {
            let chain = self.grow_chain(&mut g, n, end.max(size))?;
            self.zero_range(&chain, size, off)?;
            for (dev, len, at) in
                self.spans(&chain, off, end - off)?
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
                let chain = g.fat.chain(start, keep as u32)?;
                let last = *chain.last().ok_or(Errno::EIO)?;
                if (chain.len() as u64) < keep {
                    return Err(Errno::EIO);
                }
                g.fat.cut_after(last);
            }
        } else if size > old {
            let chain = self.grow_chain(g, n, size)?;
            self.zero_range(&chain, old, size)?;
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
