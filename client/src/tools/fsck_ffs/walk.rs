//! Walking an inode's block pointers (fsck_ffs's ckinode and iblock):
//! direct blocks (the last one maybe a few fragments), then the single,
//! double and triple indirect trees as far as the file's size reaches.

use super::state::Fsck;
use crate::tools::ufs::dinode::Dinode;
use crate::tools::ufs::{Ufs, IFBLK, IFCHR, IFLNK, NDADDR, NIADDR};

/// What a visitor wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    KeepOn,
    /// Do not descend into this (indirect) block.
    Skip,
    /// Stop walking this inode.
    Stop,
}

/// Called for each pointer met.
pub(super) trait Visitor {
    /// A data block (or `nfrags` fragments of one) at `blk`.
    fn data(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow;
    /// An indirect block at `blk`, before it is read (`Skip` leaves it
    /// unread). Walks of directory contents do not call it.
    fn indirect(&mut self, _f: &mut Fsck<'_>, _blk: i64) -> Flow {
        Flow::KeepOn
    }
    /// Non-zero pointers past the end of the file in an indirect block.
    fn truncated(&mut self, _f: &mut Fsck<'_>) {}
    /// A hole inside a directory.
    fn hole(&mut self, _f: &mut Fsck<'_>) {}
}

/// The walk of one inode.
pub(super) struct Walk {
    /// Directory contents: holes matter, indirect blocks are not data.
    pub contents: bool,
    /// Pointers still allowed to be visited.
    pub budget: u64,
    /// Pointers visited.
    pub visited: u64,
}

impl Walk {
    pub(super) fn new(contents: bool, budget: u64) -> Walk {
        Walk {
            contents,
            budget,
            visited: 0,
        }
    }

    fn spend(&mut self) -> bool {
        if self.visited >= self.budget {
            return false;
        }
        self.visited += 1;
        true
    }

    /// Walks `d` as if its size were `size`.
    pub(super) fn run(
        &mut self,
        f: &mut Fsck<'_>,
        d: &Dinode,
        size: u64,
        v: &mut dyn Visitor,
    ) -> Flow {
        if has_no_blocks(f, d) {
            return Flow::KeepOn;
        }
        let (bsize, frag) = (f.g.bsize, f.g.frag);
        let mut ndb = size.div_ceil(bsize) as i64;
        for &blk in d.db.iter().take(NDADDR) {
            ndb -= 1;
            let tail = size % bsize;
            let nfrags = if ndb == 0 && tail != 0 {
                tail.div_ceil(f.g.fsize)
            } else {
                frag
            };
            if blk == 0 {
                if self.contents && ndb >= 0 {
                    v.hole(f);
                }
                continue;
            }
            if !self.spend() {
                return Flow::Stop;
            }
            if v.data(f, blk, nfrags) == Flow::Stop {
                return Flow::Stop;
            }
        }
        let mut remsize = i128::from(size) - i128::from(bsize) * NDADDR as i128;
        let mut sizepb = i128::from(bsize);
        for (level, &blk) in d.ib.iter().enumerate().take(NIADDR) {
            if blk != 0 {
                if self.indirect(f, blk, level as u32 + 1, remsize, v) == Flow::Stop {
                    return Flow::Stop;
                }
            } else if self.contents && remsize > 0 {
                v.hole(f);
            }
            sizepb *= i128::from(f.g.nindir);
            remsize -= sizepb;
        }
        Flow::KeepOn
    }

    fn indirect(
        &mut self,
        f: &mut Fsck<'_>,
        blk: i64,
        level: u32,
        isize: i128,
        v: &mut dyn Visitor,
    ) -> Flow {
        if !self.contents {
            if !self.spend() {
                return Flow::Stop;
            }
            match v.indirect(f, blk) {
                Flow::KeepOn => {}
                other => return other,
            }
        }
        if f.chkrange(blk, f.g.frag) {
            return Flow::Skip;
        }
        let ufs = f.g.ufs;
        let nindir = f.g.nindir;
        let buf = f.read_frags(blk as u64, f.g.bsize as usize);
        let ptr = |i: u64| -> i64 {
            let i = i as usize;
            match ufs {
                Ufs::V1 => i64::from(i32::from_le_bytes(
                    buf[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]),
                )),
                Ufs::V2 => i64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8])),
            }
        };
        let mut sizepb = i128::from(f.g.bsize);
        for _ in 1..level {
            sizepb *= i128::from(nindir);
        }
        let nif = if isize <= 0 {
            0
        } else {
            let n = (isize + sizepb - 1) / sizepb;
            n.min(i128::from(nindir)) as u64
        };
        if !self.contents && (nif..nindir).any(|i| ptr(i) != 0) {
            v.truncated(f);
        }
        let mut isize = isize;
        for i in 0..nif {
            let p = ptr(i);
            if p != 0 {
                let flow = if level == 1 {
                    if !self.spend() {
                        return Flow::Stop;
                    }
                    v.data(f, p, f.g.frag)
                } else {
                    self.indirect(f, p, level - 1, isize, v)
                };
                if flow == Flow::Stop {
                    return Flow::Stop;
                }
            } else if self.contents && isize > 0 {
                v.hole(f);
            }
            isize -= sizepb;
        }
        Flow::KeepOn
    }
}

/// Device nodes keep a device number where blocks would be, and short
/// symbolic links their target.
pub(super) fn has_no_blocks(f: &Fsck<'_>, d: &Dinode) -> bool {
    let t = d.ifmt();
    if t == IFBLK || t == IFCHR {
        return true;
    }
    let max = f.maxsymlinklen();
    t == IFLNK && (d.size < max as u64 || (max == 0 && d.blocks == 0))
}
