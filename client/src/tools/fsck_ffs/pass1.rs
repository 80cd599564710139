//! Phase 1 - Check Blocks and Sizes: every inode in use gets a type,
//! a state and its link count; its block pointers are checked for
//! range and for blocks claimed twice, and its size and block count
//! against the blocks it holds.

use super::state::{DirInfo, DotDot, Fsck, State};
use super::walk::{Flow, Visitor, Walk};
use crate::tools::ufs::cg::CgHeader;
use crate::tools::ufs::dinode::{addr_area, Dinode};
use crate::tools::ufs::{
    iftodt, Ufs, CG_MAGIC, DEV_BSIZE, IFBLK, IFCHR, IFDIR, IFIFO, IFLNK, IFMT, IFREG, IFSOCK,
    NDADDR, NIADDR, ROOTINO, SF_SNAPSHOT,
};

/// Bad or duplicate blocks tolerated in one inode before giving up on it.
const MAXBAD: u32 = 10;
const MAXDUP: u32 = 10;
/// Snapshot block markers.
const BLK_NOCOPY: i64 = 1;
const BLK_SNAP: i64 = 2;
/// Largest directory size.
const MAXDIRSIZE: u64 = 0x7fff_ffff;
/// Inode bytes read at once.
const READ_CHUNK: u64 = 1 << 20;

pub(super) fn run(f: &mut Fsck<'_>) {
    mark_metadata(f);
    let g = f.g.clone();
    for c in 0..g.ncg {
        let inosused = inodes_to_scan(f, c);
        f.scanned[c as usize] = inosused;
        let isz = g.ufs.dinode_size() as u64;
        let per_read = (READ_CHUNK / isz).max(g.inopb);
        let mut done = 0;
        while done < inosused {
            let n = per_read.min(inosused - done);
            let first = c * g.ipg + done;
            let start_frag = g.cgimin(c) + done / g.inopf().max(1);
            let buf = f.read_frags(start_frag, (n * isz) as usize);
            for i in 0..n {
                let ino = first + i;
                if ino < ROOTINO {
                    continue;
                }
                let at = (i * isz) as usize;
                let raw = &buf[at..at + isz as usize];
                if never_used(g.ufs, raw) {
                    continue;
                }
                check_inode(f, ino, &Dinode::decode(g.ufs, raw));
            }
            done += n;
        }
    }
}

/// A free inode with nothing left in it (no type, size or block
/// pointers): the common case, told without decoding it.
fn never_used(ufs: Ufs, raw: &[u8]) -> bool {
    let size_at = match ufs {
        Ufs::V1 => 8,
        Ufs::V2 => 16,
    };
    let zero = |r: std::ops::Range<usize>| raw.get(r).is_some_and(|b| b.iter().all(|&x| x == 0));
    raw.len() >= 2
        && u16::from_le_bytes([raw[0], raw[1]]) & IFMT == 0
        && zero(size_at..size_at + 8)
        && zero(addr_area(ufs))
}

/// The boot area, superblock copies, group blocks, inode tables and the
/// summary area are in use before any file is looked at.
fn mark_metadata(f: &mut Fsck<'_>) {
    let g = f.g.clone();
    for c in 0..g.ncg {
        let from = if c == 0 { g.cgbase(0) } else { g.cgsblock(c) };
        for d in from..g.cgdmin(c) {
            f.setbmap(d);
        }
    }
    for d in g.csaddr..g.csaddr + g.csfrags() {
        f.setbmap(d);
    }
}

/// Inodes of group `c` worth reading: UFS2 initializes inode blocks
/// lazily and records how many in the group block.
fn inodes_to_scan(f: &mut Fsck<'_>, c: u64) -> u64 {
    let g = &f.g;
    if g.ufs == Ufs::V1 {
        return g.ipg;
    }
    let (at, len) = (g.cgtod(c), g.cgsize as usize);
    let cg = CgHeader::decode(&f.read_frags(at, len));
    if cg.magic != CG_MAGIC {
        return f.g.ipg;
    }
    u64::try_from(cg.initediblk).map_or(f.g.ipg, |n| n.min(f.g.ipg))
}

/// The largest size the kernel accepts for a file.
fn kernel_max_size(f: &Fsck<'_>) -> u64 {
    match f.g.ufs {
        Ufs::V2 => f.g.maxfilesize,
        Ufs::V1 => (0x8000_0000u64 * f.g.bsize) - 1,
    }
}

fn type_ok(mode: u16) -> bool {
    matches!(mode, IFDIR | IFREG | IFBLK | IFCHR | IFLNK | IFSOCK | IFIFO)
}

/// The directory entry type phase 2 expects for an inode.
fn check_inode(f: &mut Fsck<'_>, ino: u64, d: &Dinode) {
    let mode = d.ifmt();
    if mode == 0 {
        if !d.no_addresses() || d.size != 0 {
            f.r.problem(&format!("PARTIALLY ALLOCATED INODE I={ino}"));
            f.r.ask("CLEAR");
        }
        f.set_state(ino, State::Unused);
        return;
    }
    if !shape_ok(f, d) {
        f.r.problem(&format!("UNKNOWN FILE TYPE I={ino}"));
        f.set_state(ino, State::FileClear);
        f.r.ask("CLEAR");
        return;
    }
    f.n_files += 1;
    f.links[ino as usize] = i32::from(d.nlink);
    if d.nlink <= 0 {
        f.zero_links.insert(ino);
    }
    if mode == IFDIR {
        let state = if d.size == 0 {
            State::DirClear
        } else {
            State::Dir
        };
        f.set_state(ino, state);
        f.dirs.insert(
            ino,
            DirInfo {
                dinode: d.clone(),
                isize: d.size,
                parent: if ino == ROOTINO { ROOTINO } else { 0 },
                dotdot: DotDot::Missing,
            },
        );
        f.countdirs += 1;
    } else {
        f.set_state(ino, State::File);
    }
    f.types[ino as usize] = iftodt(d.mode);
    let mut v = Claim {
        ino,
        snapshot: d.flags & SF_SNAPSHOT != 0,
        frags: 0,
        bad: 0,
        dup: 0,
        truncated_told: false,
    };
    let mut w = Walk::new(false, u64::MAX);
    w.run(f, d, d.size, &mut v);
    f.visits[ino as usize] = u32::try_from(w.visited).unwrap_or(u32::MAX);
    let counted = v.frags * (f.g.fsize / DEV_BSIZE);
    if d.blocks != counted {
        f.r.problem(&format!(
            "INCORRECT BLOCK COUNT I={ino} ({} should be {counted})",
            d.blocks
        ));
        f.r.ask("CORRECT");
    }
}

/// Whether the size fits the type and no block pointer lies past the
/// size (fsck_ffs calls anything else an unknown file type).
fn shape_ok(f: &Fsck<'_>, d: &Dinode) -> bool {
    let mode = d.ifmt();
    if d.size > kernel_max_size(f)
        || d.size.checked_add(f.g.bsize - 1).is_none()
        || (mode == IFDIR && d.size > MAXDIRSIZE)
    {
        return false;
    }
    let nindir = f.g.nindir as i64;
    let mut ndb = d.size.div_ceil(f.g.bsize) as i64;
    if mode == IFBLK || mode == IFCHR {
        ndb += 1;
    }
    if mode == IFLNK {
        let max = f.maxsymlinklen();
        if d.size < max as u64 || (max == 0 && d.blocks == 0) {
            // The target sits in the pointer area: pointers past its end
            // must be zero.
            ndb = d.size.div_ceil(f.g.ufs.ptr_size() as u64) as i64;
            if ndb > NDADDR as i64 {
                let mut j = ndb - NDADDR as i64;
                ndb = 1;
                while j > 1 {
                    ndb = ndb.saturating_mul(nindir);
                    j -= 1;
                }
                ndb += NDADDR as i64;
            }
        }
    }
    if ndb < NDADDR as i64 && d.db[ndb.max(0) as usize..].iter().any(|&b| b != 0) {
        return false;
    }
    let mut rest = ndb - NDADDR as i64;
    let mut levels = 0;
    while rest > 0 {
        rest /= nindir;
        levels += 1;
    }
    if d.ib[levels.min(NIADDR)..].iter().any(|&b| b != 0) {
        return false;
    }
    type_ok(mode)
}

/// Phase 1's visit of each block: claim it in the map, or report it as
/// out of range (BAD) or already claimed (DUP).
struct Claim {
    ino: u64,
    snapshot: bool,
    /// Fragments the inode holds (counted whether good or not).
    frags: u64,
    bad: u32,
    dup: u32,
    truncated_told: bool,
}

impl Claim {
    fn claim(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow {
        if self.snapshot && (blk == BLK_NOCOPY || blk == BLK_SNAP) {
            return Flow::KeepOn;
        }
        let ino = self.ino;
        let anyout = f.chkrange(blk, nfrags);
        if anyout {
            blkerror(f, ino, "BAD", blk);
            self.bad += 1;
            if self.bad > MAXBAD {
                f.r.problem(&format!("EXCESSIVE BAD BLKS I={ino}"));
                f.r.ask("CONTINUE");
                return Flow::Stop;
            }
        }
        let mut res = Flow::KeepOn;
        for i in 0..nfrags {
            let b = blk.saturating_add(i as i64);
            if anyout && f.chkrange(b, 1) {
                res = Flow::Skip;
            } else if !f.testbmap(b as u64) {
                f.n_blks += 1;
                f.setbmap(b as u64);
            } else {
                blkerror(f, ino, "DUP", b);
                self.dup += 1;
                if self.dup > MAXDUP {
                    f.r.problem(&format!("EXCESSIVE DUP BLKS I={ino}"));
                    f.r.ask("CONTINUE");
                    return Flow::Stop;
                }
                f.dups.insert(b as u64);
            }
            self.frags += 1;
        }
        res
    }
}

impl Visitor for Claim {
    fn data(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow {
        self.claim(f, blk, nfrags)
    }

    fn indirect(&mut self, f: &mut Fsck<'_>, blk: i64) -> Flow {
        let frag = f.g.frag;
        self.claim(f, blk, frag)
    }

    fn truncated(&mut self, f: &mut Fsck<'_>) {
        if !self.truncated_told {
            self.truncated_told = true;
            f.r.problem(&format!("PARTIALLY TRUNCATED INODE I={}", self.ino));
            f.r.ask("SALVAGE");
        }
    }
}

/// "blk BAD I=ino" or "blk DUP I=ino"; the inode is to be cleared.
pub(super) fn blkerror(f: &mut Fsck<'_>, ino: u64, what: &str, blk: i64) {
    f.r.problem(&format!("{blk} {what} I={ino}\n"));
    let next = match f.state(ino) {
        State::Dir | State::DirFound => State::DirClear,
        State::File => State::FileClear,
        s => s,
    };
    f.set_state(ino, next);
}
