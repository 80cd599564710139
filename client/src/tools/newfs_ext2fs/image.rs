//! The bytes of a new ext2 file system for a [`Layout`]: superblock and
//! group descriptor copies, bitmaps, zeroed inode tables, and the root
//! directory with its `lost+found`.
//!
//! Revision 1 file systems get the `filetype`, `sparse_super` and
//! `large_file` features (NetBSD's newfs_ext2fs also prepares
//! `resize_inode`, which is left out here), revision 0 none.

use super::layout::{Layout, FIRST_INO};

/// The root directory's inode.
const ROOT_INO: u32 = 2;
/// lost+found takes the first inode a file may have.
const LOST_FOUND_INO: u32 = FIRST_INO;
/// lost+found is made this large (in direct blocks only), so that
/// fsck_ext2fs can put files there without allocating.
const LOST_FOUND_BYTES: u64 = 16384;

/// What to write where: blocks to zero, then bytes to write.
pub struct Image {
    /// (first block, count) ranges to fill with zeros.
    pub zero: Vec<(u64, u64)>,
    /// (byte offset, bytes) to write after the zeros.
    pub writes: Vec<(u64, Vec<u8>)>,
}

/// The rest of what the superblock holds.
pub struct Identity {
    pub now: u32,
    pub uuid: [u8; 16],
    pub volume: Vec<u8>,
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn set_bit(b: &mut [u8], i: u64) {
    b[(i / 8) as usize] |= 1 << (i % 8);
}

/// A directory record (with `filetype`: type 2, directory).
fn dirent(b: &mut [u8], at: usize, ino: u32, rec_len: usize, name: &[u8], ft: bool) {
    put32(b, at, ino);
    put16(b, at + 4, rec_len.min(65535) as u16);
    b[at + 6] = name.len() as u8;
    b[at + 7] = if ft { 2 } else { 0 };
    b[at + 8..at + 8 + name.len()].copy_from_slice(name);
}

impl Image {
    /// Everything to write for `l`.
    pub fn build(l: &Layout, id: &Identity) -> Image {
        let bs = u64::from(l.bsize);
        let ft = l.rev > 0;
        let ipg = u64::from(l.inodes_per_group);
        // Data blocks of the root directory and lost+found: the first
        // blocks after group 0's inode table.
        let data0 = l.group[0].first + l.group[0].overhead;
        let lf_blocks = (LOST_FOUND_BYTES / bs).clamp(1, 12);
        let root_blk = data0;
        let lf_first = data0 + 1;
        let used0 = 1 + lf_blocks;

        let mut writes = Vec::new();
        let mut zero = Vec::new();
        let mut free_blocks = 0u64;
        let mut descs = vec![0u8; (l.gdt_blocks * bs) as usize];
        for (g, gl) in l.group.iter().enumerate() {
            let mut bb = vec![0u8; bs as usize];
            for i in 0..gl.overhead {
                set_bit(&mut bb, i);
            }
            let mut nbfree = gl.blocks - gl.overhead;
            if g == 0 {
                for i in 0..used0 {
                    set_bit(&mut bb, gl.overhead + i);
                }
                nbfree -= used0;
            }
            for i in gl.blocks..bs * 8 {
                set_bit(&mut bb, i);
            }
            let mut ib = vec![0u8; bs as usize];
            let mut nifree = ipg;
            let mut ndirs = 0;
            if g == 0 {
                for i in 0..u64::from(FIRST_INO) {
                    set_bit(&mut ib, i);
                }
                nifree -= u64::from(FIRST_INO);
                ndirs = 2;
            }
            for i in ipg..bs * 8 {
                set_bit(&mut ib, i);
            }
            writes.push((gl.block_bitmap * bs, bb));
            writes.push((gl.inode_bitmap * bs, ib));
            zero.push((gl.inode_table, l.itable_blocks));
            free_blocks += nbfree;
            let d = &mut descs[g * 32..g * 32 + 32];
            put32(d, 0, gl.block_bitmap as u32);
            put32(d, 4, gl.inode_bitmap as u32);
            put32(d, 8, gl.inode_table as u32);
            put16(d, 12, nbfree as u16);
            put16(d, 14, nifree as u16);
            put16(d, 16, ndirs);
        }
        let free_inodes = l.inodes() - u64::from(FIRST_INO);
        let sb = superblock(l, id, free_blocks, free_inodes);
        for (g, gl) in l.group.iter().enumerate() {
            if !gl.has_super {
                continue;
            }
            let mut copy = sb.clone();
            put16(&mut copy, 90, g as u16);
            // The superblock sits 1024 bytes into the device, whatever
            // the block size; copies start their group.
            let at = if g == 0 { 1024 } else { gl.first * bs };
            writes.push((at, copy));
            writes.push(((gl.first + 1) * bs, descs.clone()));
        }

        // The root directory and lost+found.
        let mut root = vec![0u8; bs as usize];
        dirent(&mut root, 0, ROOT_INO, 12, b".", ft);
        dirent(&mut root, 12, ROOT_INO, 12, b"..", ft);
        dirent(
            &mut root,
            24,
            LOST_FOUND_INO,
            bs as usize - 24,
            b"lost+found",
            ft,
        );
        writes.push((root_blk * bs, root));
        let mut lf = vec![0u8; bs as usize];
        dirent(&mut lf, 0, LOST_FOUND_INO, 12, b".", ft);
        dirent(&mut lf, 12, ROOT_INO, bs as usize - 12, b"..", ft);
        writes.push((lf_first * bs, lf));
        for i in 1..lf_blocks {
            let mut empty = vec![0u8; bs as usize];
            put16(&mut empty, 4, bs.min(65535) as u16);
            writes.push(((lf_first + i) * bs, empty));
        }
        let itable = l.group[0].inode_table * bs;
        let isz = u64::from(l.inode_size);
        let root_ino = inode(l, id.now, 0o040755, 3, &[root_blk]);
        writes.push((itable + u64::from(ROOT_INO - 1) * isz, root_ino));
        let lf_list: Vec<u64> = (0..lf_blocks).map(|i| lf_first + i).collect();
        let lf_ino = inode(l, id.now, 0o040700, 2, &lf_list);
        writes.push((itable + u64::from(LOST_FOUND_INO - 1) * isz, lf_ino));
        Image { zero, writes }
    }
}

/// A directory inode owning `blocks` (direct blocks).
fn inode(l: &Layout, now: u32, mode: u16, links: u16, blocks: &[u64]) -> Vec<u8> {
    let bs = u64::from(l.bsize);
    let mut d = vec![0u8; l.inode_size as usize];
    put16(&mut d, 0, mode);
    put32(&mut d, 4, (blocks.len() as u64 * bs) as u32);
    for at in [8, 12, 16] {
        put32(&mut d, at, now);
    }
    put16(&mut d, 26, links);
    put32(&mut d, 28, (blocks.len() as u64 * bs / 512) as u32);
    for (i, b) in blocks.iter().enumerate() {
        put32(&mut d, 40 + 4 * i, *b as u32);
    }
    if l.inode_size > 128 {
        put16(&mut d, 128, 32);
        put32(&mut d, 144, now);
    }
    d
}

/// The superblock's 1024 bytes.
fn superblock(l: &Layout, id: &Identity, free_blocks: u64, free_inodes: u64) -> Vec<u8> {
    let mut s = vec![0u8; 1024];
    put32(&mut s, 0, l.inodes() as u32);
    put32(&mut s, 4, l.blocks as u32);
    put32(&mut s, 8, l.reserved_blocks as u32);
    put32(&mut s, 12, free_blocks as u32);
    put32(&mut s, 16, free_inodes as u32);
    put32(&mut s, 20, l.first_data_block as u32);
    put32(&mut s, 24, l.log_bsize);
    put32(&mut s, 28, l.log_bsize);
    put32(&mut s, 32, l.blocks_per_group as u32);
    put32(&mut s, 36, l.blocks_per_group as u32);
    put32(&mut s, 40, l.inodes_per_group);
    put32(&mut s, 48, id.now);
    put16(&mut s, 54, 20); // maximal mount count
    put16(&mut s, 56, 0xef53);
    put16(&mut s, 58, 1); // clean
    put16(&mut s, 60, 1); // errors: continue
    put32(&mut s, 64, id.now); // last check
    put32(&mut s, 68, 180 * 24 * 60 * 60); // check interval
    put32(&mut s, 76, l.rev);
    if l.rev > 0 {
        put32(&mut s, 84, FIRST_INO);
        put16(&mut s, 88, l.inode_size as u16);
        put32(&mut s, 96, 0x0002); // filetype
        put32(&mut s, 100, 0x0001 | 0x0002); // sparse_super, large_file
        s[104..120].copy_from_slice(&id.uuid);
        let n = id.volume.len().min(16);
        s[120..120 + n].copy_from_slice(&id.volume[..n]);
        put32(&mut s, 264, id.now); // creation time
        if l.inode_size > 128 {
            put16(&mut s, 348, 32);
            put16(&mut s, 350, 32);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::layout::Params;
    use super::*;

    #[test]
    fn counts_agree_with_bitmaps() {
        let l = Layout::new(&Params {
            sectors: 40000,
            bsize: 1024,
            density: 0,
            inodes: 0,
            minfree: 5,
            rev: 1,
            inode_size: 128,
        })
        .unwrap();
        let id = Identity {
            now: 1_700_000_000,
            uuid: [7; 16],
            volume: b"vol".to_vec(),
        };
        let img = Image::build(&l, &id);
        let sb = img.writes.iter().find(|(at, _)| *at == 1024).unwrap();
        let free = u32::from_le_bytes(sb.1[12..16].try_into().unwrap());
        let bitmaps: u64 = l
            .group
            .iter()
            .map(|g| {
                let bm = &img
                    .writes
                    .iter()
                    .find(|(at, _)| *at == g.block_bitmap * 1024)
                    .unwrap()
                    .1;
                (0..g.blocks)
                    .filter(|&i| bm[(i / 8) as usize] & (1 << (i % 8)) == 0)
                    .count() as u64
            })
            .sum();
        assert_eq!(u64::from(free), bitmaps);
        assert_eq!(&sb.1[120..123], b"vol");
        assert_eq!(img.zero.len(), l.groups as usize);
    }
}
