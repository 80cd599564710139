//! Directory blocks: records of (inode, record length, name length, file
//! type, name), each record reaching to the next and the last to the
//! end of the block. An unused record has inode 0. Without the
//! `filetype` feature the type byte is the high byte of a 16-bit name
//! length and must be 0.
//!
//! Parsing trusts nothing: a block is read up to its first malformed
//! record, and the records before it are all that lookups, listings and
//! changes use.

use crate::le::{set_u16, set_u32, u16_at, u32_at};
use rump_plugin_api::abi::stat::{
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};

/// The fixed part of a record.
pub const HEADER: usize = 8;

/// `file_type` values.
pub const FT_UNKNOWN: u8 = 0;
pub const FT_REG: u8 = 1;
pub const FT_DIR: u8 = 2;
pub const FT_CHR: u8 = 3;
pub const FT_BLK: u8 = 4;
pub const FT_FIFO: u8 = 5;
pub const FT_SOCK: u8 = 6;
pub const FT_SYMLINK: u8 = 7;

/// The directory file type of an inode mode.
pub fn ftype_of_mode(mode: u32) -> u8 {
    match mode & S_IFMT {
        S_IFREG => FT_REG,
        S_IFDIR => FT_DIR,
        S_IFCHR => FT_CHR,
        S_IFBLK => FT_BLK,
        S_IFIFO => FT_FIFO,
        S_IFSOCK => FT_SOCK,
        S_IFLNK => FT_SYMLINK,
        _ => FT_UNKNOWN,
    }
}

/// The `d_type` of a directory file type.
pub fn dtype_of_ftype(ft: u8) -> u8 {
    let mode = match ft {
        FT_REG => S_IFREG,
        FT_DIR => S_IFDIR,
        FT_CHR => S_IFCHR,
        FT_BLK => S_IFBLK,
        FT_FIFO => S_IFIFO,
        FT_SOCK => S_IFSOCK,
        FT_SYMLINK => S_IFLNK,
        _ => 0,
    };
    (mode >> 12) as u8
}

/// The record length a name of `len` bytes needs.
pub fn rec_len_for(len: usize) -> usize {
    (HEADER + len + 3) & !3
}

/// How a record length is stored: 64 KiB blocks store a whole-block
/// record as 65535 (or 0).
fn decode_rec_len(raw: u16, bsize: usize) -> usize {
    if bsize >= 65536 && (raw == 0 || raw == 65535) {
        65536
    } else {
        usize::from(raw)
    }
}

fn encode_rec_len(len: usize) -> u16 {
    if len >= 65536 {
        65535
    } else {
        len as u16
    }
}

/// A record of a directory block, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Offset in the block.
    pub off: usize,
    pub rec_len: usize,
    pub ino: u32,
    pub ftype: u8,
    pub name: &'a [u8],
}

impl Record<'_> {
    /// The bytes this record's name needs.
    pub fn used(&self) -> usize {
        if self.ino == 0 {
            0
        } else {
            rec_len_for(self.name.len())
        }
    }

    /// The slack a new record of `need` bytes could take: (offset,
    /// length).
    pub fn room(&self, need: usize) -> Option<(usize, usize)> {
        let used = self.used();
        (self.rec_len - used >= need).then_some((self.off + used, self.rec_len - used))
    }
}

/// The well-formed records of a block, in order; parsing stops at the
/// first malformed one (see [`Records::malformed`]).
pub struct Records<'a> {
    block: &'a [u8],
    off: usize,
    filetype: bool,
    max_ino: u32,
    /// Parsing stopped at a malformed record.
    pub malformed: bool,
}

/// The records of `block`. Inode numbers above `max_ino` make a record
/// malformed.
pub fn records(block: &[u8], filetype: bool, max_ino: u32) -> Records<'_> {
    Records {
        block,
        off: 0,
        filetype,
        max_ino,
        malformed: false,
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let (block, off) = (self.block, self.off);
        let bsize = block.len();
        if off >= bsize || self.malformed {
            return None;
        }
        if off + HEADER > bsize {
            self.malformed = true;
            return None;
        }
        let ino = u32_at(block, off);
        let rec_len = decode_rec_len(u16_at(block, off + 4), bsize);
        let (name_len, ftype) = if self.filetype {
            (usize::from(block[off + 6]), block[off + 7])
        } else {
            (usize::from(u16_at(block, off + 6)), 0)
        };
        if rec_len < HEADER
            || rec_len % 4 != 0
            || off + rec_len > bsize
            || HEADER + name_len > rec_len
            || name_len > 255
            || ino > self.max_ino
            || (ino != 0 && name_len == 0)
        {
            self.malformed = true;
            return None;
        }
        self.off += rec_len;
        Some(Record {
            off,
            rec_len,
            ino,
            ftype,
            name: &block[off + HEADER..off + HEADER + name_len],
        })
    }
}

/// Whether every record of `block` is well formed.
pub fn well_formed(block: &[u8], filetype: bool, max_ino: u32) -> bool {
    let mut r = records(block, filetype, max_ino);
    r.by_ref().for_each(drop);
    !r.malformed
}

/// Writes a record's header and name at `off` (the space after the name
/// up to `rec_len` is left as it is).
pub fn write_record(
    block: &mut [u8],
    off: usize,
    rec_len: usize,
    ino: u32,
    name: &[u8],
    ftype: u8,
    filetype: bool,
) {
    set_u32(block, off, ino);
    set_u16(block, off + 4, encode_rec_len(rec_len));
    if filetype {
        block[off + 6] = name.len() as u8;
        block[off + 7] = ftype;
    } else {
        set_u16(block, off + 6, name.len() as u16);
    }
    block[off + HEADER..off + HEADER + name.len()].copy_from_slice(name);
}

/// Where a new record of `need` bytes fits in `block`: an unused record
/// long enough, or the slack after a used one. Returns (offset of the
/// record giving room, offset of the new record, its length).
pub fn find_room(
    block: &[u8],
    filetype: bool,
    max_ino: u32,
    need: usize,
) -> Option<(usize, usize, usize)> {
    records(block, filetype, max_ino).find_map(|r| r.room(need).map(|(off, len)| (r.off, off, len)))
}

/// Puts a record for `name` into `block` at the place [`find_room`]
/// chose.
pub fn insert(
    block: &mut [u8],
    at: (usize, usize, usize),
    ino: u32,
    name: &[u8],
    ftype: u8,
    filetype: bool,
) {
    let (giver, off, len) = at;
    if giver != off {
        // Shorten the record whose slack is taken.
        set_u16(block, giver + 4, encode_rec_len(off - giver));
    }
    write_record(block, off, len, ino, name, ftype, filetype);
}

/// Removes the record at offset `off` of `block` (records parsed with
/// `filetype` and `max_ino`): the previous record takes its space, or a
/// record at the start of the block is marked unused.
pub fn remove(block: &mut [u8], filetype: bool, max_ino: u32, off: usize) {
    let mut prev = None;
    let mut found = None;
    for r in records(block, filetype, max_ino) {
        if r.off == off {
            found = Some(r.rec_len);
            break;
        }
        prev = Some((r.off, r.rec_len));
    }
    let Some(len) = found else {
        return;
    };
    match prev {
        None => set_u32(block, off, 0),
        Some((p, plen)) => set_u16(block, p + 4, encode_rec_len(plen + len)),
    }
}

/// A fresh directory block holding one unused record.
pub fn empty_block(block: &mut [u8]) {
    block.fill(0);
    let len = block.len();
    set_u16(block, 4, encode_rec_len(len));
}

/// The first block of a new directory: `.` and `..`.
pub fn dot_block(block: &mut [u8], me: u32, parent: u32, filetype: bool) {
    block.fill(0);
    let ft = if filetype { FT_DIR } else { 0 };
    write_record(block, 0, 12, me, b".", ft, filetype);
    let rest = block.len() - 12;
    write_record(block, 12, rest, parent, b"..", ft, filetype);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (offset, record length, inode, name) of a parsed record.
    type Parsed = (usize, usize, u32, Vec<u8>);

    fn all(b: &[u8], ft: bool, max: u32) -> (Vec<Parsed>, bool) {
        let mut r = records(b, ft, max);
        let v = r
            .by_ref()
            .map(|x| (x.off, x.rec_len, x.ino, x.name.to_vec()))
            .collect();
        (v, !r.malformed)
    }

    #[test]
    fn build_insert_remove() {
        let mut b = vec![0u8; 1024];
        dot_block(&mut b, 12, 2, true);
        let (r, ok) = all(&b, true, 100);
        assert!(ok);
        assert_eq!(
            r,
            vec![(0, 12, 12, b".".to_vec()), (12, 1012, 2, b"..".to_vec())]
        );
        let at = find_room(&b, true, 100, rec_len_for(5)).unwrap();
        assert_eq!(at, (12, 24, 1000));
        insert(&mut b, at, 13, b"hello", FT_REG, true);
        let (r, ok) = all(&b, true, 100);
        assert!(ok);
        assert_eq!(r[2], (24, 1000, 13, b"hello".to_vec()));
        assert_eq!(records(&b, true, 100).nth(2).unwrap().ftype, FT_REG);
        remove(&mut b, true, 100, 24);
        let (r, _) = all(&b, true, 100);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].1, 1012);
        remove(&mut b, true, 100, 0);
        assert_eq!(
            records(&b, true, 100).next().unwrap().ino,
            0,
            "first record unused"
        );
        let mut e = vec![0u8; 1024];
        empty_block(&mut e);
        let (r, ok) = all(&e, true, 100);
        assert!(ok && r.len() == 1 && r[0].2 == 0);
        assert_eq!(find_room(&e, true, 100, 12), Some((0, 0, 1024)));
    }

    #[test]
    fn malformed_records_stop_parsing() {
        let mut b = vec![0u8; 1024];
        dot_block(&mut b, 12, 2, false);
        assert!(well_formed(&b, false, 100));
        set_u16(&mut b, 16, 2000);
        let (r, ok) = all(&b, false, 100);
        assert!(!ok);
        assert_eq!(r.len(), 1);
        dot_block(&mut b, 12, 2, false);
        set_u32(&mut b, 12, 101);
        assert!(!well_formed(&b, false, 100), "inode number out of range");
        dot_block(&mut b, 12, 2, true);
        assert!(
            !well_formed(&b, false, 100),
            "a type byte without the filetype feature"
        );
    }

    #[test]
    fn big_blocks_record_lengths() {
        let mut b = vec![0u8; 65536];
        empty_block(&mut b);
        assert_eq!(u16_at(&b, 4), 65535);
        let (r, ok) = all(&b, true, 1);
        assert!(ok);
        assert_eq!(r[0].1, 65536);
        assert_eq!(dtype_of_ftype(FT_DIR), 4);
        assert_eq!(ftype_of_mode(S_IFLNK | 0o777), FT_SYMLINK);
    }
}
