//! Regular file data: reading (holes read as zeros), writing (blocks
//! allocated on the way, contiguous blocks in one device request) and
//! changing the size (blocks past a new end freed, the rest of the last
//! block zeroed so that growing again shows zeros).

use crate::bmap;
use crate::dinode::Dinode;
use crate::fs::Fs;
use crate::inode::InodeState;
use rump_plugin_api::{Errno, KResult};

/// The most bytes one device request carries.
const MAX_RUN: usize = 1 << 20;
/// The most bytes one read returns (a short read, as POSIX allows).
const MAX_READ: usize = 16 << 20;

/// The goal for the next block of an inode: after its last new block,
/// or the start of its group.
pub fn goal(fs: &Fs, st: &InodeState, ino: u32) -> u64 {
    if st.goal != 0 {
        st.goal
    } else {
        fs.geo.group_first_block(fs.geo.group_of_inode(ino))
    }
}

/// Up to `len` bytes of `d` at `offset`.
pub fn read(fs: &Fs, d: &Dinode, offset: u64, len: usize) -> KResult<Vec<u8>> {
    bmap::check_mappable(d)?;
    let size = d.size();
    if offset >= size || len == 0 {
        return Ok(Vec::new());
    }
    let n = (size - offset).min(len.min(MAX_READ) as u64) as usize;
    let mut out = vec![0u8; n];
    let bs = u64::from(fs.geo.bsize);
    let first = offset / bs;
    let last = (offset + n as u64 - 1) / bs;
    // Runs of contiguous device blocks: (first file block, first device
    // block, count).
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    for lbn in first..=last {
        let Some(p) = bmap::lookup(fs, d, lbn)? else {
            continue;
        };
        match runs.last_mut() {
            Some((l0, p0, c))
                if *l0 + *c == lbn && *p0 + *c == p && ((*c + 1) * bs) as usize <= MAX_RUN =>
            {
                *c += 1
            }
            _ => runs.push((lbn, p, 1)),
        }
    }
    for (l0, p0, c) in runs {
        let data = fs.disk.read(p0 * bs, (c * bs) as usize)?;
        // The part of [l0*bs, (l0+c)*bs) inside [offset, offset+n).
        let from = (l0 * bs).max(offset);
        let to = ((l0 + c) * bs).min(offset + n as u64);
        out[(from - offset) as usize..(to - offset) as usize]
            .copy_from_slice(&data[(from - l0 * bs) as usize..(to - l0 * bs) as usize]);
    }
    Ok(out)
}

/// A pending device write of contiguous blocks.
struct Run {
    start: u64,
    bytes: Vec<u8>,
}

fn flush(fs: &Fs, run: &mut Option<Run>) -> KResult<()> {
    if let Some(r) = run.take() {
        fs.disk.write(r.start * u64::from(fs.geo.bsize), &r.bytes)?;
    }
    Ok(())
}

/// Writes `data` at `offset` of the regular file in `st`; returns how
/// many bytes were written (fewer when the file system fills up part of
/// the way), and updates the size. EFBIG past the largest file size.
pub fn write(fs: &Fs, st: &mut InodeState, ino: u32, offset: u64, data: &[u8]) -> KResult<usize> {
    bmap::check_mappable(&st.d)?;
    if data.is_empty() {
        return Ok(0);
    }
    let max = fs.geo.max_file_size();
    if offset >= max {
        return Err(Errno::EFBIG);
    }
    let len = (data.len() as u64).min(max - offset) as usize;
    let bs = u64::from(fs.geo.bsize);
    let mut goal = goal(fs, st, ino);
    let mut run: Option<Run> = None;
    let mut done = 0usize;
    let mut failure = None;
    while done < len {
        let pos = offset + done as u64;
        let lbn = pos / bs;
        let within = (pos % bs) as usize;
        let take = (bs as usize - within).min(len - done);
        let (p, fresh) = match bmap::map_alloc(fs, &mut st.d, lbn, &mut goal) {
            Ok(v) => v,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let piece = &data[done..done + take];
        let block: Vec<u8> = if take == bs as usize {
            piece.to_vec()
        } else {
            let mut b = if fresh {
                vec![0u8; bs as usize]
            } else {
                fs.disk.read(p * bs, bs as usize)?.into_vec()
            };
            b[within..within + take].copy_from_slice(piece);
            b
        };
        match run.as_mut() {
            Some(r)
                if r.start + (r.bytes.len() as u64) / bs == p
                    && r.bytes.len() + bs as usize <= MAX_RUN =>
            {
                r.bytes.extend_from_slice(&block)
            }
            _ => {
                flush(fs, &mut run)?;
                run = Some(Run {
                    start: p,
                    bytes: block,
                });
            }
        }
        done += take;
    }
    st.goal = goal;
    flush(fs, &mut run)?;
    let end = offset + done as u64;
    if end > st.d.size() {
        set_size_field(fs, &mut st.d, end);
    }
    match failure {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}

/// Stores a new size, turning on large_file for a file reaching 2 GiB.
fn set_size_field(fs: &Fs, d: &mut Dinode, size: u64) {
    if size >= 1 << 31 && fs.geo.rev > 0 {
        fs.set_large_file();
    }
    d.set_size(size);
}

/// Changes the size of the regular file `d` to `size`.
pub fn truncate(fs: &Fs, d: &mut Dinode, size: u64) -> KResult<()> {
    bmap::check_mappable(d)?;
    if size > fs.geo.max_file_size() {
        return Err(Errno::EFBIG);
    }
    let old = d.size();
    if size < old {
        let bs = u64::from(fs.geo.bsize);
        let keep = size.div_ceil(bs);
        bmap::truncate(fs, d, keep)?;
        let tail = (size % bs) as usize;
        if tail != 0 {
            if let Some(p) = bmap::lookup(fs, d, keep - 1)? {
                let mut b = fs.disk.read(p * bs, bs as usize)?;
                b[tail..].fill(0);
                fs.disk.write(p * bs, &b)?;
            }
        }
    }
    set_size_field(fs, d, size);
    Ok(())
}
