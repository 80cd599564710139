//! What the check learns as it goes: each inode's state, link count
//! still unaccounted for and type, the directories and their parents,
//! and the map of fragments found in use.

use super::report::Report;
use crate::tools::ufs::dinode::Dinode;
use crate::tools::ufs::disk::Disk;
use crate::tools::ufs::sb::{Csum, Geometry};
use crate::tools::ufs::ROOTINO;
use std::collections::{BTreeMap, BTreeSet};

/// An inode's state (fsck_ffs's USTATE, FSTATE, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum State {
    /// Unallocated (or never looked at).
    #[default]
    Unused,
    /// A file.
    File,
    /// A directory not (yet) found from the root.
    Dir,
    /// A directory found from the root.
    DirFound,
    /// A directory to be cleared: empty, or with bad or duplicate blocks.
    DirClear,
    /// A file to be cleared: unknown type, bad or duplicate blocks.
    FileClear,
}

impl State {
    pub(super) fn is_dir(self) -> bool {
        matches!(self, State::Dir | State::DirFound | State::DirClear)
    }
}

/// What `..` of a directory was found to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum DotDot {
    /// No `..` entry yet.
    #[default]
    Missing,
    /// The second entry was something else: no `..` to check.
    Unfixable,
    Ino(u64),
}

/// A directory met in phase 1.
#[derive(Clone, Debug)]
pub(super) struct DirInfo {
    /// Its inode as read (block pointers for phase 2).
    pub dinode: Dinode,
    /// Size, rounded up to whole directory chunks in phase 2.
    pub isize: u64,
    /// The directory an entry of which names it (0: none yet).
    pub parent: u64,
    pub dotdot: DotDot,
}

/// The state of one check.
pub(super) struct Fsck<'a> {
    pub disk: &'a dyn Disk,
    pub g: Geometry,
    pub r: Report<'a>,
    /// The cylinder summaries read from the summary area.
    pub csums: Vec<Csum>,
    pub states: Vec<State>,
    /// Link count minus the references found so far.
    pub links: Vec<i32>,
    /// Directory entry type of each inode's mode.
    pub types: Vec<u8>,
    /// Block pointers phase 1 visited per inode: later walks of the same
    /// inode stop there, so a self-referencing tree cannot spin.
    pub visits: Vec<u32>,
    /// Inodes phase 1 scanned in each group.
    pub scanned: Vec<u64>,
    pub dirs: BTreeMap<u64, DirInfo>,
    /// Directories, for the loop bound of phase 3.
    pub countdirs: u64,
    /// Inodes whose link count is zero or less.
    pub zero_links: BTreeSet<u64>,
    /// Fragments in use (bit set).
    blockmap: Vec<u64>,
    /// Fragments claimed more than once.
    pub dups: BTreeSet<u64>,
    pub n_files: u64,
    pub n_blks: u64,
}

impl<'a> Fsck<'a> {
    pub(super) fn new(disk: &'a dyn Disk, g: Geometry, r: Report<'a>, csums: Vec<Csum>) -> Self {
        let maxino = g.maxino() as usize;
        let frags = g.size.next_multiple_of(g.frag);
        Fsck {
            disk,
            r,
            csums,
            states: vec![State::Unused; maxino],
            links: vec![0; maxino],
            types: vec![0; maxino],
            visits: vec![0; maxino],
            scanned: vec![0; g.ncg as usize],
            dirs: BTreeMap::new(),
            countdirs: 0,
            zero_links: BTreeSet::new(),
            blockmap: vec![0; frags.div_ceil(64) as usize],
            dups: BTreeSet::new(),
            n_files: 0,
            n_blks: 0,
            g,
        }
    }

    /// Whether fragment `f` is marked in use.
    pub(super) fn testbmap(&self, f: u64) -> bool {
        self.blockmap
            .get((f / 64) as usize)
            .is_some_and(|w| w & (1 << (f % 64)) != 0)
    }

    pub(super) fn setbmap(&mut self, f: u64) {
        if let Some(w) = self.blockmap.get_mut((f / 64) as usize) {
            *w |= 1 << (f % 64);
        }
    }

    /// Whether `cnt` fragments at `blk` are outside the data areas (or
    /// cross a block, or run past the file system): fsck's chkrange.
    pub(super) fn chkrange(&self, blk: i64, cnt: u64) -> bool {
        let g = &self.g;
        let Ok(blk) = u64::try_from(blk) else {
            return true;
        };
        if blk == 0 || cnt == 0 || blk.checked_add(cnt).is_none_or(|e| e > g.size) {
            return true;
        }
        if blk % g.frag + cnt > g.frag {
            return true;
        }
        let c = g.dtog(blk);
        if blk < g.cgdmin(c) {
            blk + cnt > g.cgsblock(c)
        } else {
            blk + cnt > g.cgbase(c + 1)
        }
    }

    /// The state of inode `ino` (unused past the end).
    pub(super) fn state(&self, ino: u64) -> State {
        self.states.get(ino as usize).copied().unwrap_or_default()
    }

    pub(super) fn set_state(&mut self, ino: u64, s: State) {
        if let Some(v) = self.states.get_mut(ino as usize) {
            *v = s;
        }
    }

    /// Counts one reference to `ino`.
    pub(super) fn unlink_one(&mut self, ino: u64) {
        if let Some(v) = self.links.get_mut(ino as usize) {
            *v -= 1;
        }
    }

    /// Reads inode `ino` from the disk (None if unreadable or out of
    /// range).
    pub(super) fn ginode(&self, ino: u64) -> Option<Dinode> {
        if ino >= self.g.maxino() {
            return None;
        }
        let mut b = vec![0u8; self.g.ufs.dinode_size()];
        self.disk.read_at(self.g.inode_offset(ino), &mut b).ok()?;
        Some(Dinode::decode(self.g.ufs, &b))
    }

    /// Reads `len` bytes at fragment `frag`; an unreadable area is
    /// reported (CANNOT READ BLK, as fsck_ffs continues with -n) and
    /// read as zeros.
    pub(super) fn read_frags(&mut self, frag: u64, len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        if self.disk.read_at(self.g.frag_bytes(frag), &mut b).is_err() {
            self.r.problem(&format!("CANNOT READ BLK: {frag}"));
            self.r.ask("CONTINUE");
            b.fill(0);
        }
        b
    }

    /// Inode `ino`, described for a message: " I=n  OWNER=..." .
    pub(super) fn pinode(&mut self, ino: u64) {
        let d = if (ROOTINO..self.g.maxino()).contains(&ino) {
            self.ginode(ino)
        } else {
            None
        };
        self.r.pinode(ino, d.as_ref());
    }

    /// A path name for inode `ino` made from the names phase 2 found
    /// ("?" where the way up to the root is unknown).
    pub(super) fn path(&self, names: &BTreeMap<u64, (u64, Vec<u8>)>, ino: u64) -> String {
        if ino == ROOTINO {
            return "/".into();
        }
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut cur = ino;
        let mut complete = false;
        while seen.insert(cur) {
            if cur == ROOTINO {
                complete = true;
                break;
            }
            match names.get(&cur) {
                Some((parent, name)) => {
                    parts.push(name);
                    cur = *parent;
                }
                None => break,
            }
        }
        let mut p = String::from(if complete { "" } else { "?" });
        for part in parts.iter().rev() {
            p.push('/');
            p.push_str(&String::from_utf8_lossy(part));
        }
        if p.is_empty() {
            p.push('/');
        }
        p
    }
}

impl Fsck<'_> {
    /// The longest symlink kept in the inode: 4.4BSD inodes have them,
    /// 4.2BSD ones do not.
    pub(super) fn maxsymlinklen(&self) -> i32 {
        if self.g.new_dir_format() {
            self.g.ufs.maxsymlinklen()
        } else {
            0
        }
    }
}
