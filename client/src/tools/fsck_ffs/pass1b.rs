//! Phase 1b - Rescan For More DUPS: phase 1 named the inodes that
//! claimed a block a second time; this finds the ones that claimed it
//! first, so both sides of each duplicate are known.

use super::pass1::blkerror;
use super::state::{Fsck, State};
use super::walk::{Flow, Visitor, Walk};
use crate::tools::ufs::ROOTINO;
use std::collections::BTreeSet;

pub(super) fn run(f: &mut Fsck<'_>) {
    let mut pending: BTreeSet<u64> = f.dups.clone();
    for ino in ROOTINO..f.g.maxino() {
        if pending.is_empty() {
            break;
        }
        let claimed = matches!(
            f.state(ino),
            State::File | State::FileClear | State::Dir | State::DirFound | State::DirClear
        );
        if !claimed {
            continue;
        }
        let Some(d) = f.ginode(ino) else { continue };
        let budget = u64::from(f.visits[ino as usize]);
        let mut v = FirstClaims {
            ino,
            pending: &mut pending,
        };
        Walk::new(false, budget).run(f, &d, d.size, &mut v);
    }
}

/// Reports each still-pending duplicate fragment this inode holds.
struct FirstClaims<'p> {
    ino: u64,
    pending: &'p mut BTreeSet<u64>,
}

impl FirstClaims<'_> {
    fn visit(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow {
        if f.chkrange(blk, nfrags) {
            return Flow::Skip;
        }
        for b in blk as u64..blk as u64 + nfrags {
            if self.pending.remove(&b) {
                blkerror(f, self.ino, "DUP", b as i64);
            }
        }
        if self.pending.is_empty() {
            Flow::Stop
        } else {
            Flow::KeepOn
        }
    }
}

impl Visitor for FirstClaims<'_> {
    fn data(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow {
        self.visit(f, blk, nfrags)
    }

    fn indirect(&mut self, f: &mut Fsck<'_>, blk: i64) -> Flow {
        let frag = f.g.frag;
        self.visit(f, blk, frag)
    }
}
