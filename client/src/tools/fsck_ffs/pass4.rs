//! Phase 4 - Check Reference Counts: each inode's link count against
//! the directory entries naming it; inodes nothing names, directories
//! never reached, and inodes phase 1 condemned.

use super::state::{Fsck, State};
use crate::tools::ufs::{IFDIR, ROOTINO};

pub(super) fn run(f: &mut Fsck<'_>) {
    for ino in ROOTINO..f.g.maxino() {
        let state = f.state(ino);
        match state {
            State::Unused => {}
            State::File | State::DirFound => {
                let n = f.links[ino as usize];
                if n != 0 {
                    adjust(f, ino, n);
                } else if f.zero_links.contains(&ino) {
                    clear(f, ino, "UNREF");
                }
            }
            State::Dir => clear(f, ino, "UNREF"),
            State::DirClear => {
                let empty = f.ginode(ino).is_some_and(|d| d.size == 0);
                clear(f, ino, if empty { "ZERO LENGTH" } else { "BAD/DUP" });
            }
            State::FileClear => clear(f, ino, "BAD/DUP"),
        }
    }
}

fn kind(f: &Fsck<'_>, ino: u64) -> &'static str {
    match f.ginode(ino) {
        Some(d) if d.ifmt() == IFDIR => "DIR",
        _ => "FILE",
    }
}

/// "UNREF FILE I=..." (or another reason): would be cleared.
fn clear(f: &mut Fsck<'_>, ino: u64, why: &str) {
    let k = kind(f, ino);
    f.r.problem(&format!("{why} {k}"));
    f.pinode(ino);
    f.r.ask("CLEAR");
}

/// A link count off by `lcnt`: when nothing names the inode it is an
/// orphan to reconnect, otherwise the count is wrong.
fn adjust(f: &mut Fsck<'_>, ino: u64, lcnt: i32) {
    let nlink = f.ginode(ino).map_or(0, |d| i32::from(d.nlink));
    if nlink == lcnt {
        let k = kind(f, ino);
        f.r.problem(&format!("UNREF {k} "));
        f.pinode(ino);
        f.r.ask("RECONNECT");
        f.r.ask("CLEAR");
        return;
    }
    let k = kind(f, ino);
    f.r.problem(&format!("LINK COUNT {k}"));
    f.pinode(ino);
    f.r.put(&format!(" COUNT {nlink} SHOULD BE {}", nlink - lcnt));
    f.r.ask("ADJUST");
}
