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

/// A record of a directory block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Offset in the block.
    pub off: usize,
    pub rec_len: usize,
    pub ino: u32,
    pub ftype: u8,
    pub name: Vec<u8>,
}

impl Record {
    /// The bytes this record's name needs.
    pub fn used(&self) -> usize {
        if self.ino == 0 {
            0
        } else {
            rec_len_for(self.name.len())
        }
    }
}

/// The well-formed records of `block`, in order, and whether the whole
/// block was well formed. Inode numbers above `max_ino` make a record
/// malformed.
pub fn parse(block: &[u8], filetype: bool, max_ino: u32) -> (Vec<Record>, bool) {
    let bsize = block.len();
    let mut out = Vec::new();
    let mut off = 0;
    while off < bsize {
        if off + HEADER > bsize {
            return (out, false);
        }
        let ino = u32_at(block, off);
        let rec_len = decode_rec_len(u16_at(block, off + 4), bsize);
        let (name_len, ftype) = if filetype {
            (usize::from(block[off + 6]), block[off + 7])
        } else {
            (usize::from(u16_at(block, off + 6)), 0)
        };
        if rec_len < HEADER
            || rec_len % 4 != 0
            || off + rec_len > bsize
            || HEADER + name_len > rec_len
            || name_len > 255
            || ino > max_ino
            || (ino != 0 && name_len == 0)
        {
            return (out, false);
        }
        out.push(Record {
            off,
            rec_len,
            ino,
            ftype,
            name: block[off + HEADER..off + HEADER + name_len].to_vec(),
        });
        off += rec_len;
    }
    (out, true)
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

/// Where a new record of `need` bytes fits among `recs`: an unused
/// record long enough, or the slack after a used one. Returns (record
/// index, offset of the new record, its length).
pub fn find_room(recs: &[Record], need: usize) -> Option<(usize, usize, usize)> {
    recs.iter().enumerate().find_map(|(i, r)| {
        if r.ino == 0 {
            (r.rec_len >= need).then_some((i, r.off, r.rec_len))
        } else {
            let used = r.used();
            (r.rec_len - used >= need).then_some((i, r.off + used, r.rec_len - used))
        }
    })
}

/// Puts a record for `name` into `block` at the place [`find_room`]
/// chose.
pub fn insert(
    block: &mut [u8],
    recs: &[Record],
    at: (usize, usize, usize),
    ino: u32,
    name: &[u8],
    ftype: u8,
    filetype: bool,
) {
    let (i, off, len) = at;
    let r = &recs[i];
    if r.ino != 0 {
        // Shorten the record whose slack is taken.
        set_u16(block, r.off + 4, encode_rec_len(r.used()));
    }
    write_record(block, off, len, ino, name, ftype, filetype);
}

/// Removes record `i` of `recs` from `block`: the previous record takes
/// its space, or a record at the start of the block is marked unused.
pub fn remove(block: &mut [u8], recs: &[Record], i: usize) {
    let r = &recs[i];
    if i == 0 {
        set_u32(block, r.off, 0);
    } else {
        let p = &recs[i - 1];
        set_u16(block, p.off + 4, encode_rec_len(p.rec_len + r.rec_len));
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

    #[test]
    fn build_insert_remove() {
        let mut b = vec![0u8; 1024];
        dot_block(&mut b, 12, 2, true);
        let (r, ok) = parse(&b, true, 100);
        assert!(ok);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].name.as_slice(), r[0].ino, r[0].rec_len),
            (&b"."[..], 12, 12)
        );
        assert_eq!(
            (r[1].name.as_slice(), r[1].ino, r[1].rec_len),
            (&b".."[..], 2, 1012)
        );
        let at = find_room(&r, rec_len_for(5)).unwrap();
        assert_eq!(at, (1, 24, 1000));
        insert(&mut b, &r, at, 13, b"hello", FT_REG, true);
        let (r, ok) = parse(&b, true, 100);
        assert!(ok);
        assert_eq!(r.len(), 3);
        assert_eq!((r[2].off, r[2].rec_len, r[2].ftype), (24, 1000, FT_REG));
        remove(&mut b, &r, 2);
        let (r, _) = parse(&b, true, 100);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].rec_len, 1012);
        let mut e = vec![0u8; 1024];
        empty_block(&mut e);
        let (r, ok) = parse(&e, true, 100);
        assert!(ok && r.len() == 1 && r[0].ino == 0);
        assert_eq!(find_room(&r, 12), Some((0, 0, 1024)));
    }

    #[test]
    fn malformed_records_stop_parsing() {
        let mut b = vec![0u8; 1024];
        dot_block(&mut b, 12, 2, false);
        let (r, ok) = parse(&b, false, 100);
        assert!(ok && r.len() == 2);
        set_u16(&mut b, 16, 2000);
        let (r, ok) = parse(&b, false, 100);
        assert!(!ok);
        assert_eq!(r.len(), 1);
        dot_block(&mut b, 12, 2, false);
        set_u32(&mut b, 12, 101);
        assert!(!parse(&b, false, 100).1, "inode number out of range");
        dot_block(&mut b, 12, 2, true);
        assert!(
            !parse(&b, false, 100).1,
            "a type byte without the filetype feature"
        );
    }

    #[test]
    fn big_blocks_record_lengths() {
        let mut b = vec![0u8; 65536];
        empty_block(&mut b);
        assert_eq!(u16_at(&b, 4), 65535);
        let (r, ok) = parse(&b, true, 1);
        assert!(ok);
        assert_eq!(r[0].rec_len, 65536);
        assert_eq!(dtype_of_ftype(FT_DIR), 4);
        assert_eq!(ftype_of_mode(S_IFLNK | 0o777), FT_SYMLINK);
    }
}
