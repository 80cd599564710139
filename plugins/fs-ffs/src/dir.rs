//! Directories: 512-byte chunks (DIRBLKSIZ) of `struct direct` records
//! (`d_ino`, `d_reclen`, `d_type`, `d_namlen`, the name and a NUL,
//! padded to 4 bytes). A record's `d_reclen` takes in the free space
//! after it; records never cross a chunk; a free record has `d_ino` 0.
//!
//! Every chunk is checked as a whole before it is used: records must
//! tile it exactly and every name must fit its record. A bad chunk, or a
//! hole in a directory, is EIO.

use crate::blocks::Blocks;
use crate::core::Core;
use crate::file;
use crate::inode::Dinode;
use crate::le::*;
use crate::superblock::DIRBLKSIZ;
use rump_plugin_api::kernel;
use rump_plugin_api::{Errno, KResult};

/// The space a record with a name of `namlen` bytes needs.
pub fn dirsiz(namlen: usize) -> usize {
    8 + ((namlen + 1 + 3) & !3)
}

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Byte offset of the record in the directory.
    pub off: u64,
    pub ino: u32,
    pub reclen: u16,
    pub dtype: u8,
    pub name: Vec<u8>,
}

/// Checks and decodes the chunk `b` found at directory offset `base`.
pub fn parse_chunk(b: &[u8], base: u64, max_ino: u64) -> KResult<Vec<Entry>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < b.len() {
        let ino = u32_at(b, off);
        let reclen = u16_at(b, off + 4) as usize;
        let dtype = u8_at(b, off + 6);
        let namlen = u8_at(b, off + 7) as usize;
        let bad = reclen < 8 || reclen % 4 != 0 || off + reclen > b.len();
        let bad = bad
            || (ino != 0
                && (namlen == 0
                    || dirsiz(namlen) > reclen
                    || u64::from(ino) >= max_ino
                    || b[off + 8..off + 8 + namlen].contains(&0)
                    || b[off + 8..off + 8 + namlen].contains(&b'/')));
        if bad {
            kernel::warn(&format!(
                "ffs: bad directory entry at offset {}",
                base + off as u64
            ));
            return Err(Errno::EIO);
        }
        out.push(Entry {
            off: base + off as u64,
            ino,
            reclen: reclen as u16,
            dtype,
            name: if ino != 0 {
                b[off + 8..off + 8 + namlen].to_vec()
            } else {
                Vec::new()
            },
        });
        off += reclen;
    }
    Ok(out)
}

/// Encodes a record into `b` at `at`.
fn put_entry(b: &mut [u8], at: usize, ino: u32, reclen: usize, dtype: u8, name: &[u8]) {
    put_u32(b, at, ino);
    put_u16(b, at + 4, reclen as u16);
    put_u8(b, at + 6, dtype);
    put_u8(b, at + 7, name.len() as u8);
    let pad = dirsiz(name.len()) - 8;
    let mut n = name.to_vec();
    n.resize(pad, 0);
    put_bytes(b, at + 8, &n);
}

/// The first chunk of a new directory: `.` and `..`.
pub fn new_dir_chunk(me: u32, parent: u32) -> Vec<u8> {
    let mut b = vec![0u8; DIRBLKSIZ as usize];
    put_entry(&mut b, 0, me, 12, 4, b".");
    put_entry(&mut b, 12, parent, DIRBLKSIZ as usize - 12, 4, b"..");
    b
}

/// The bytes of a directory that are its chunks.
fn dir_len(d: &Dinode) -> u64 {
    d.size / DIRBLKSIZ * DIRBLKSIZ
}

/// Calls `f` with every chunk from the one holding `from` on, until it
/// returns `Some`.
pub fn scan<T>(
    core: &Core,
    d: &Dinode,
    from: u64,
    mut f: impl FnMut(u64, &[u8]) -> KResult<Option<T>>,
) -> KResult<Option<T>> {
    let bsz = core.bsize();
    let len = dir_len(d);
    let mut blocks = Blocks::new(core);
    let mut lbn = from / bsz;
    while lbn * bsz < len {
        let at = blocks.lookup(d, lbn)?;
        if at == 0 {
            kernel::warn("ffs: hole in a directory");
            return Err(Errno::EIO);
        }
        let have = core.geo.blksize(d.size, lbn).min(len - lbn * bsz);
        core.check(at, have.div_ceil(core.fsize()))?;
        let data = core.disk.read(core.geo.fsb_bytes(at), have as usize)?;
        let first = if lbn == from / bsz {
            (from % bsz) / DIRBLKSIZ
        } else {
            0
        };
        for c in first..have / DIRBLKSIZ {
            let s = (c * DIRBLKSIZ) as usize;
            if let Some(r) = f(lbn * bsz + c * DIRBLKSIZ, &data[s..s + DIRBLKSIZ as usize])? {
                return Ok(Some(r));
            }
        }
        lbn += 1;
    }
    Ok(None)
}

/// The record named `name`.
pub fn lookup(core: &Core, d: &Dinode, name: &[u8]) -> KResult<Option<Entry>> {
    let max = core.geo.max_ino();
    scan(core, d, 0, |base, chunk| {
        Ok(parse_chunk(chunk, base, max)?
            .into_iter()
            .find(|e| e.ino != 0 && e.name == name))
    })
}

/// Live records from offset `cookie` on, at most `max` of them.
pub fn list(core: &Core, d: &Dinode, cookie: u64, max: usize) -> KResult<Vec<Entry>> {
    let maxino = core.geo.max_ino();
    let mut out = Vec::new();
    scan(core, d, cookie, |base, chunk| {
        for e in parse_chunk(chunk, base, maxino)? {
            if e.ino != 0 && e.off >= cookie {
                out.push(e);
                if out.len() >= max {
                    return Ok(Some(()));
                }
            }
        }
        Ok(None)
    })?;
    Ok(out)
}

/// Whether the directory holds nothing but `.` and `..`.
pub fn is_empty(core: &Core, d: &Dinode) -> KResult<bool> {
    let max = core.geo.max_ino();
    let found = scan(core, d, 0, |base, chunk| {
        Ok(parse_chunk(chunk, base, max)?
            .into_iter()
            .find(|e| e.ino != 0 && e.name != b"." && e.name != b".."))
    })?;
    Ok(found.is_none())
}

fn read_chunk(core: &Core, d: &Dinode, off: u64) -> KResult<Vec<u8>> {
    let b = file::read(core, d, off, DIRBLKSIZ as usize)?;
    if b.len() != DIRBLKSIZ as usize {
        return Err(Errno::EIO);
    }
    Ok(b)
}

fn write_chunk(core: &Core, ino: u32, d: &mut Dinode, off: u64, chunk: &[u8]) -> KResult<()> {
    let n = file::write(core, ino, d, off, chunk)?;
    if n != chunk.len() as u64 {
        return Err(Errno::ENOSPC);
    }
    Ok(())
}

/// Adds the record `name` → `target` to directory `ino`, in the first
/// chunk with room or in a new chunk at the end.
pub fn add(
    core: &Core,
    ino: u32,
    d: &mut Dinode,
    name: &[u8],
    target: u32,
    dtype: u8,
) -> KResult<()> {
    let need = dirsiz(name.len());
    let max = core.geo.max_ino();
    let spot = scan(core, d, 0, |base, chunk| {
        for e in parse_chunk(chunk, base, max)? {
            let used = if e.ino == 0 { 0 } else { dirsiz(e.name.len()) };
            if usize::from(e.reclen) - used >= need {
                return Ok(Some((base, e)));
            }
        }
        Ok(None)
    })?;
    match spot {
        Some((base, e)) => {
            let mut chunk = read_chunk(core, d, base)?;
            let at = (e.off - base) as usize;
            if e.ino == 0 {
                put_entry(&mut chunk, at, target, e.reclen.into(), dtype, name);
            } else {
                let keep = dirsiz(e.name.len());
                put_u16(&mut chunk, at + 4, keep as u16);
                put_entry(
                    &mut chunk,
                    at + keep,
                    target,
                    usize::from(e.reclen) - keep,
                    dtype,
                    name,
                );
            }
            write_chunk(core, ino, d, base, &chunk)
        }
        None => {
            let off = dir_len(d);
            let mut chunk = vec![0u8; DIRBLKSIZ as usize];
            put_entry(&mut chunk, 0, target, DIRBLKSIZ as usize, dtype, name);
            d.size = off;
            write_chunk(core, ino, d, off, &chunk)
        }
    }
}

/// Removes the record `name`, folding its space into the record before
/// it (or marking it free when it starts its chunk). Returns what it
/// pointed to.
pub fn remove(core: &Core, ino: u32, d: &mut Dinode, name: &[u8]) -> KResult<Entry> {
    let max = core.geo.max_ino();
    let found = scan(core, d, 0, |base, chunk| {
        let es = parse_chunk(chunk, base, max)?;
        let pos = es.iter().position(|e| e.ino != 0 && e.name == name);
        Ok(pos.map(|i| (base, es[i].clone(), i.checked_sub(1).map(|p| es[p].clone()))))
    })?;
    let (base, e, prev) = found.ok_or(Errno::ENOENT)?;
    let mut chunk = read_chunk(core, d, base)?;
    match prev {
        Some(p) => {
            let at = (p.off - base) as usize;
            put_u16(&mut chunk, at + 4, p.reclen + e.reclen);
        }
        None => put_u32(&mut chunk, (e.off - base) as usize, 0),
    }
    write_chunk(core, ino, d, base, &chunk)?;
    Ok(e)
}

/// Points the record `name` at `target` (rename over an existing name,
/// and `..` of a moved directory).
pub fn retarget(
    core: &Core,
    ino: u32,
    d: &mut Dinode,
    name: &[u8],
    target: u32,
    dtype: u8,
) -> KResult<()> {
    let e = lookup(core, d, name)?.ok_or(Errno::ENOENT)?;
    let base = e.off / DIRBLKSIZ * DIRBLKSIZ;
    let mut chunk = read_chunk(core, d, base)?;
    let at = (e.off - base) as usize;
    put_u32(&mut chunk, at, target);
    put_u8(&mut chunk, at + 6, dtype);
    write_chunk(core, ino, d, base, &chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_checked() {
        let b = new_dir_chunk(5, 2);
        let es = parse_chunk(&b, 1024, 100).unwrap();
        assert_eq!(es.len(), 2);
        assert_eq!(
            (es[0].ino, es[0].off, &es[0].name[..]),
            (5, 1024, &b"."[..])
        );
        assert_eq!(
            (es[1].ino, es[1].reclen, &es[1].name[..]),
            (2, 500, &b".."[..])
        );
        assert_eq!(parse_chunk(&b, 0, 5), Err(Errno::EIO), "inode out of range");
        let mut bad = b.clone();
        put_u16(&mut bad, 16, 501);
        assert_eq!(parse_chunk(&bad, 0, 100), Err(Errno::EIO));
        let mut bad = b.clone();
        put_u16(&mut bad, 4, 0);
        assert_eq!(
            parse_chunk(&bad, 0, 100),
            Err(Errno::EIO),
            "zero length never loops"
        );
        let mut bad = b;
        put_u8(&mut bad, 7, 200);
        assert_eq!(parse_chunk(&bad, 0, 100), Err(Errno::EIO));
        assert_eq!(dirsiz(1), 12);
        assert_eq!(dirsiz(3), 12);
        assert_eq!(dirsiz(4), 16);
        assert_eq!(dirsiz(255), 264);
    }
}
