//! A file's bytes: reading (holes read as zeros), writing (allocating
//! blocks and fragments as the file grows) and changing the size.
//!
//! Reads of whole blocks that lie next to each other on disk are done
//! in one device read; nothing is kept once an operation returns.

use crate::blocks::{truncate, Blocks};
use crate::core::Core;
use crate::inode::Dinode;
use crate::superblock::NDADDR;
use rump_plugin_api::{Errno, KResult};

/// Reads up to `len` bytes at `off`.
pub fn read(core: &Core, d: &Dinode, off: u64, len: usize) -> KResult<Vec<u8>> {
    if off >= d.size || len == 0 {
        return Ok(Vec::new());
    }
    let end = d.size.min(off.saturating_add(len as u64));
    let bsz = core.bsize();
    let fsz = core.fsize();
    let mut out = Vec::with_capacity((end - off) as usize);
    let mut blocks = Blocks::new(core);
    // A run of whole blocks contiguous on disk, not yet read.
    let mut run: Option<(u64, u64)> = None;
    let flush_run = |run: &mut Option<(u64, u64)>, out: &mut Vec<u8>| -> KResult<()> {
        if let Some((at, n)) = run.take() {
            out.extend_from_slice(&core.read_frags(at, n)?);
        }
        Ok(())
    };
    let mut pos = off;
    while pos < end {
        let lbn = pos / bsz;
        let boff = pos % bsz;
        let n = (bsz - boff).min(end - pos);
        let at = blocks.lookup(d, lbn)?;
        if at == 0 {
            flush_run(&mut run, &mut out)?;
            out.resize(out.len() + n as usize, 0);
        } else {
            let have = core.geo.blksize(d.size, lbn);
            core.check(at, have / fsz)?;
            if boff == 0 && n == bsz && have == bsz {
                match run {
                    Some((start, len)) if start + len / fsz == at && len < 1 << 20 => {
                        run = Some((start, len + bsz));
                    }
                    _ => {
                        flush_run(&mut run, &mut out)?;
                        run = Some((at, bsz));
                    }
                }
            } else {
                flush_run(&mut run, &mut out)?;
                let s = boff / 512 * 512;
                let e = (boff + n).div_ceil(512) * 512;
                if s >= have {
                    out.resize(out.len() + n as usize, 0);
                } else {
                    let e = e.min(have);
                    let b = core
                        .disk
                        .read(core.geo.fsb_bytes(at) + s, (e - s) as usize)?;
                    let from = (boff - s) as usize;
                    let avail = (b.len() - from).min(n as usize);
                    out.extend_from_slice(&b[from..from + avail]);
                    out.resize(out.len() + (n as usize - avail), 0);
                }
            }
        }
        pos += n;
    }
    flush_run(&mut run, &mut out)?;
    Ok(out)
}

/// Zeroes block `lbn` of `d` from byte `from` of the block to the end
/// of its allocation (bytes past an old end of file).
fn zero_tail(core: &Core, d: &Dinode, lbn: u64, from: u64, have: u64) -> KResult<()> {
    if from >= have {
        return Ok(());
    }
    let at = Blocks::new(core).lookup(d, lbn)?;
    if at == 0 {
        return Ok(());
    }
    core.check(at, have / core.fsize())?;
    let s = from / 512 * 512;
    let mut b = core
        .disk
        .read(core.geo.fsb_bytes(at) + s, (have - s) as usize)?;
    b[(from - s) as usize..].fill(0);
    core.disk.write(core.geo.fsb_bytes(at) + s, &b)
}

/// Writes `data` at `off` of inode `ino`, growing the file as needed,
/// and returns how much was written (short when the file system filled
/// up part-way). The inode (pointers, size, block count) is updated in
/// `d`; storing it is the caller's job, even when this fails.
pub fn write(core: &Core, ino: u32, d: &mut Dinode, off: u64, data: &[u8]) -> KResult<u64> {
    if data.is_empty() {
        return Ok(0);
    }
    let end = off.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
    if end > core.max_file_size() {
        return Err(Errno::EFBIG);
    }
    let bsz = core.bsize();
    let fsz = core.fsize();
    let old_size = d.size;
    let new_size = old_size.max(end);
    let mut blocks = Blocks::new(core);
    let mut done = 0;
    let r = write_inner(
        core,
        &mut blocks,
        ino,
        d,
        off,
        data,
        old_size,
        new_size,
        bsz,
        fsz,
        &mut done,
    );
    let f = blocks.flush();
    match r {
        Ok(()) => f.map(|_| data.len() as u64),
        Err(e) => {
            d.size = old_size.max(off + done);
            f?;
            if done > 0 {
                Ok(done)
            } else {
                Err(e)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_inner(
    core: &Core,
    blocks: &mut Blocks<'_>,
    ino: u32,
    d: &mut Dinode,
    off: u64,
    data: &[u8],
    old_size: u64,
    new_size: u64,
    bsz: u64,
    fsz: u64,
    done: &mut u64,
) -> KResult<()> {
    let _ = fsz;
    let end = off + data.len() as u64;
    // The size that tells how big each existing direct block is.
    let mut basis = old_size;
    if old_size > 0 && end > old_size {
        let olast = (old_size - 1) / bsz;
        let have = core.geo.blksize(old_size, olast);
        if olast < NDADDR as u64 && d.db[olast as usize] != 0 {
            let want = core.geo.blksize(new_size, olast);
            if want > have {
                // The old tail fragment becomes a bigger piece first.
                blocks.ensure(ino, d, olast, have, want)?;
                basis = olast * bsz + want;
            }
        }
        // Bytes past the old end that this write skips read as zeros.
        if off > old_size {
            let have = core.geo.blksize(basis, olast);
            let stop = (off - olast * bsz).min(have);
            if stop > old_size - olast * bsz {
                zero_tail(core, d, olast, old_size - olast * bsz, have)?;
            }
        }
    }
    let mut pos = off;
    while pos < end {
        let lbn = pos / bsz;
        let boff = pos % bsz;
        let n = (bsz - boff).min(end - pos);
        let want = core.geo.blksize(new_size, lbn);
        let have = core.geo.blksize(basis, lbn);
        let (at, asz, fresh) = blocks.ensure(ino, d, lbn, have, want)?;
        basis = basis.max(lbn * bsz + asz);
        let chunk = &data[(pos - off) as usize..(pos - off + n) as usize];
        if boff == 0 && n == asz {
            core.write_frags(at, chunk)?;
        } else if fresh {
            // A new block is written whole: what it held before is not
            // the file's.
            let mut b = vec![0u8; asz as usize];
            b[boff as usize..(boff + n) as usize].copy_from_slice(chunk);
            core.write_frags(at, &b)?;
        } else {
            let s = boff / 512 * 512;
            let e = ((boff + n).div_ceil(512) * 512).min(asz);
            let mut b = core
                .disk
                .read(core.geo.fsb_bytes(at) + s, (e - s) as usize)?;
            // Whatever lay past the old end of file is not the file's.
            let file_at = lbn * bsz + s;
            if file_at + (e - s) > old_size {
                let z = old_size.saturating_sub(file_at) as usize;
                b[z..].fill(0);
            }
            b[(boff - s) as usize..(boff - s + n) as usize].copy_from_slice(chunk);
            core.disk.write(core.geo.fsb_bytes(at) + s, &b)?;
        }
        pos += n;
        *done = pos - off;
    }
    d.size = new_size;
    Ok(())
}

/// Sets the size of `d`: shrinking frees blocks; growing allocates the
/// new last block (as NetBSD does) and leaves a hole before it.
pub fn set_size(core: &Core, ino: u32, d: &mut Dinode, size: u64) -> KResult<()> {
    if size == d.size {
        return Ok(());
    }
    if size > core.max_file_size() {
        return Err(Errno::EFBIG);
    }
    if size < d.size {
        return truncate(core, d, size);
    }
    write(core, ino, d, size - 1, &[0]).map(|_| ())
}
