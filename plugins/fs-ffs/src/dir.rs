//! Directories: 512-byte chunks (DIRBLKSIZ) of `struct direct` records
//! (`d_ino`, `d_reclen`, `d_type`, `d_namlen`, the name and a NUL,
//! padded to 4 bytes). A record's `d_reclen` takes in the free space
//! after it; records never cross a chunk; a free record has `d_ino` 0.
//!
//! Every chunk is checked as a whole before it is used: records must
//! tile it exactly and every name must fit its record. A bad chunk, or a
//! hole in a directory, is EIO.
//!
//! A directory of more than [`INDEX_FROM`] chunks gets a [`DirIndex`] in
//! memory (the job NetBSD's dirhash does): where each name is and how
//! much room each chunk has, so that a lookup reads one chunk and an
//! addition finds its chunk without reading the ones before it. Without
//! it, creating n files in one directory reads the directory n times.

use crate::blocks::Blocks;
use crate::core::Core;
use crate::file;
use crate::inode::Dinode;
use crate::le::*;
use crate::superblock::DIRBLKSIZ;
use rump_plugin_api::kernel;
use rump_plugin_api::mem::Charge;
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;

/// Directories of more chunks than this are indexed.
pub const INDEX_FROM: u64 = 8;

/// What an index costs per name, besides the name.
const INDEX_ENTRY_COST: u64 = 48;

/// A directory's names by offset, and the largest free gap in each chunk.
pub struct DirIndex {
    names: HashMap<Box<[u8]>, u64>,
    gaps: Vec<u16>,
    charge: Charge,
}

impl DirIndex {
    /// Indexes every chunk of `d`; None when the kernel has no memory
    /// for it (the directory is then read as without an index).
    fn build(core: &Core, d: &Dinode) -> KResult<Option<DirIndex>> {
        let max = core.geo.max_ino();
        let mut names = HashMap::new();
        let mut gaps = Vec::new();
        let mut bytes = 0;
        scan(core, d, 0, |base, chunk| {
            let es = parse_chunk(chunk, base, max)?;
            gaps.push(max_gap(&es));
            for e in es.into_iter().filter(|e| e.ino != 0) {
                bytes += e.name.len() as u64 + INDEX_ENTRY_COST;
                names.insert(e.name.into_boxed_slice(), e.off);
            }
            Ok(None::<()>)
        })?;
        Ok(Charge::new(bytes).ok().map(|charge| DirIndex {
            names,
            gaps,
            charge,
        }))
    }

    /// The first chunk with a gap of `need` bytes.
    fn room(&self, need: usize) -> Option<u64> {
        self.gaps
            .iter()
            .position(|&g| usize::from(g) >= need)
            .map(|i| i as u64 * DIRBLKSIZ)
    }

    /// Records the chunk at `base` as it now is.
    fn chunk_changed(&mut self, base: u64, es: &[Entry]) {
        let i = (base / DIRBLKSIZ) as usize;
        if i >= self.gaps.len() {
            self.gaps.resize(i + 1, 0);
        }
        self.gaps[i] = max_gap(es);
    }

    fn insert(&mut self, name: &[u8], off: u64) -> KResult<()> {
        self.charge.grow(name.len() as u64 + INDEX_ENTRY_COST)?;
        self.names.insert(name.into(), off);
        Ok(())
    }

    fn forget(&mut self, name: &[u8]) {
        if self.names.remove(name).is_some() {
            self.charge.shrink(name.len() as u64 + INDEX_ENTRY_COST);
        }
    }
}

/// The index of `d` in `ix`, built first if the directory is big enough
/// and has none.
fn index<'a>(
    core: &Core,
    d: &Dinode,
    ix: &'a mut Option<DirIndex>,
) -> KResult<Option<&'a mut DirIndex>> {
    if ix.is_none() && dir_len(d) > INDEX_FROM * DIRBLKSIZ {
        *ix = DirIndex::build(core, d)?;
    }
    Ok(ix.as_mut())
}

/// Drops an index that disagrees with the directory (it is not used for
/// the rest of the operation, and rebuilt by the next one).
fn out_of_step(ix: &mut Option<DirIndex>) {
    kernel::warn("ffs: directory index out of step; reading the directory");
    *ix = None;
}

/// The room a record leaves after its own bytes (all of it when free).
fn gap(e: &Entry) -> usize {
    let used = if e.ino == 0 { 0 } else { dirsiz(e.name.len()) };
    usize::from(e.reclen) - used
}

fn max_gap(es: &[Entry]) -> u16 {
    es.iter().map(gap).max().unwrap_or(0) as u16
}

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

/// The record named `name` (through the directory's index `ix` when it
/// has one).
pub fn lookup(
    core: &Core,
    d: &Dinode,
    name: &[u8],
    ix: &mut Option<DirIndex>,
) -> KResult<Option<Entry>> {
    let max = core.geo.max_ino();
    if let Some(x) = index(core, d, ix)? {
        let Some(&off) = x.names.get(name) else {
            return Ok(None);
        };
        let base = off / DIRBLKSIZ * DIRBLKSIZ;
        let found = parse_chunk(&read_chunk(core, d, base)?, base, max)?
            .into_iter()
            .find(|e| e.off == off && e.ino != 0 && e.name == name);
        if found.is_some() {
            return Ok(found);
        }
        out_of_step(ix);
    }
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
    ix: &mut Option<DirIndex>,
) -> KResult<()> {
    let r = add_record(core, ino, d, name, target, dtype, ix);
    if r.is_err() {
        *ix = None; // what reached the disk is not known
    }
    r
}

fn add_record(
    core: &Core,
    ino: u32,
    d: &mut Dinode,
    name: &[u8],
    target: u32,
    dtype: u8,
    ix: &mut Option<DirIndex>,
) -> KResult<()> {
    let need = dirsiz(name.len());
    let max = core.geo.max_ino();
    let first_room = |es: Vec<Entry>| es.into_iter().find(|e| gap(e) >= need);
    let mut spot = None;
    if let Some(x) = index(core, d, ix)? {
        if let Some(base) = x.room(need) {
            let es = parse_chunk(&read_chunk(core, d, base)?, base, max)?;
            match first_room(es) {
                Some(e) => spot = Some((base, e)),
                None => out_of_step(ix),
            }
        }
    }
    if ix.is_none() {
        spot = scan(core, d, 0, |base, chunk| {
            Ok(first_room(parse_chunk(chunk, base, max)?).map(|e| (base, e)))
        })?;
    }
    let (base, chunk, off) = match spot {
        Some((base, e)) => {
            let mut chunk = read_chunk(core, d, base)?;
            let at = (e.off - base) as usize;
            let at = if e.ino == 0 {
                put_entry(&mut chunk, at, target, e.reclen.into(), dtype, name);
                at
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
                at + keep
            };
            write_chunk(core, ino, d, base, &chunk)?;
            (base, chunk, base + at as u64)
        }
        None => {
            let off = dir_len(d);
            let mut chunk = vec![0u8; DIRBLKSIZ as usize];
            put_entry(&mut chunk, 0, target, DIRBLKSIZ as usize, dtype, name);
            d.size = off;
            write_chunk(core, ino, d, off, &chunk)?;
            (off, chunk, off)
        }
    };
    if let Some(x) = ix {
        x.chunk_changed(base, &parse_chunk(&chunk, base, max)?);
        if x.insert(name, off).is_err() {
            *ix = None;
        }
    }
    Ok(())
}

/// Removes the record `name`, folding its space into the record before
/// it (or marking it free when it starts its chunk). Returns what it
/// pointed to.
pub fn remove(
    core: &Core,
    ino: u32,
    d: &mut Dinode,
    name: &[u8],
    ix: &mut Option<DirIndex>,
) -> KResult<Entry> {
    let r = remove_record(core, ino, d, name, ix);
    if matches!(r, Err(e) if e != Errno::ENOENT) {
        *ix = None;
    }
    r
}

fn remove_record(
    core: &Core,
    ino: u32,
    d: &mut Dinode,
    name: &[u8],
    ix: &mut Option<DirIndex>,
) -> KResult<Entry> {
    let max = core.geo.max_ino();
    let pick = |base: u64, es: Vec<Entry>| {
        let pos = es.iter().position(|e| e.ino != 0 && e.name == name);
        pos.map(|i| (base, es[i].clone(), i.checked_sub(1).map(|p| es[p].clone())))
    };
    let mut found = None;
    if let Some(x) = index(core, d, ix)? {
        if let Some(&off) = x.names.get(name) {
            let base = off / DIRBLKSIZ * DIRBLKSIZ;
            let es = parse_chunk(&read_chunk(core, d, base)?, base, max)?;
            match pick(base, es) {
                Some(f) => found = Some(f),
                None => out_of_step(ix),
            }
        }
    }
    if ix.is_none() {
        found = scan(core, d, 0, |base, chunk| {
            Ok(pick(base, parse_chunk(chunk, base, max)?))
        })?;
    }
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
    if let Some(x) = ix {
        x.forget(name);
        x.chunk_changed(base, &parse_chunk(&chunk, base, max)?);
    }
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
    ix: &mut Option<DirIndex>,
) -> KResult<()> {
    let e = lookup(core, d, name, ix)?.ok_or(Errno::ENOENT)?;
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
