//! Phase 3 - Check Connectivity: directories phase 2 could not reach
//! from the root. Each one is followed up through the directories that
//! name it to the top of its detached tree, which is reported
//! unreferenced, or found to be part of a loop of directories naming
//! each other.

use super::state::{Fsck, State};
use crate::tools::ufs::ROOTINO;
use std::collections::BTreeSet;

pub(super) fn run(f: &mut Fsck<'_>) {
    let dirs: Vec<u64> = f.dirs.keys().rev().copied().collect();
    let mut told = BTreeSet::new();
    for ino in dirs {
        if ino == ROOTINO || f.state(ino) != State::Dir {
            continue;
        }
        let mut top = ino;
        let mut steps = 0u64;
        let mut looped = false;
        loop {
            let parent = f.dirs.get(&top).map_or(0, |i| i.parent);
            if parent == 0 || f.state(parent) != State::Dir {
                break;
            }
            if steps > f.countdirs {
                looped = true;
                break;
            }
            top = parent;
            steps += 1;
        }
        if looped {
            top = cycle_member(f, top);
        }
        if !told.insert(top) {
            continue;
        }
        if looped {
            f.r.problem(&format!("ORPHANED DIRECTORY LOOP DETECTED I={top}"));
            f.r.ask("RECONNECT");
        } else {
            f.r.problem("UNREF DIR ");
            f.pinode(top);
            f.r.ask("RECONNECT");
        }
    }
}

/// The lowest-numbered directory of the loop `start` lies on, so each
/// loop is reported once.
fn cycle_member(f: &Fsck<'_>, start: u64) -> u64 {
    let mut lowest = start;
    let mut cur = start;
    for _ in 0..=f.countdirs {
        cur = f.dirs.get(&cur).map_or(0, |i| i.parent);
        if cur == 0 || cur == start {
            break;
        }
        lowest = lowest.min(cur);
    }
    lowest
}
