//! Phase 2 - Check Pathnames: every directory's blocks are parsed into
//! entries (record lengths, names, inode numbers checked as fsck_ffs's
//! dircheck does); each entry must name an inode in use with the right
//! type, `.` and `..` must come first and be right, and each directory
//! gets the parent that names it. Link counts are charged here.

use super::state::{DotDot, Fsck, State};
use super::walk::{Flow, Visitor, Walk};
use crate::tools::ufs::dir::Entry;
use crate::tools::ufs::{iftodt, DIRBLKSIZ, DT_DIR, DT_WHT, IFDIR, ROOTINO, WINO};
use std::collections::BTreeMap;

/// Smallest directory: `.` and `..`.
const MINDIRSIZE: u64 = 24;

/// What reading a directory met, in order.
enum Event {
    Entry(Entry),
    /// The directory's structure is damaged here (reported once); a
    /// damaged chunk reads as one empty entry.
    Corrupted {
        empty_entry: bool,
    },
    /// A block inside the directory's size is missing (reported once).
    Hole,
}

/// Names found for directories: inode to (parent, name).
type Names = BTreeMap<u64, (u64, Vec<u8>)>;

pub(super) fn run(f: &mut Fsck<'_>) -> Result<(), ()> {
    check_root(f)?;
    let dirs: Vec<u64> = f.dirs.keys().copied().collect();
    let mut scans: Vec<(u64, Vec<Event>)> = Vec::new();
    for &ino in &dirs {
        let Some(info) = f.dirs.get(&ino) else {
            continue;
        };
        if info.isize == 0 {
            continue;
        }
        let (d, isize) = (info.dinode.clone(), info.isize.next_multiple_of(DIRBLKSIZ));
        let mut reader = Reader {
            events: Vec::new(),
            remaining: isize as i64,
            new_format: f.g.new_dir_format(),
        };
        let budget = u64::from(f.visits[ino as usize]);
        Walk::new(true, budget).run(f, &d, isize, &mut reader);
        scans.push((ino, reader.events));
    }
    let names = names_of(f, &scans);
    for (ino, events) in scans {
        check_dir(f, &names, ino, events);
    }
    check_dotdots(f, &names);
    mark_found(f);
    Ok(())
}

/// The root must be a directory in use.
fn check_root(f: &mut Fsck<'_>) -> Result<(), ()> {
    match f.state(ROOTINO) {
        State::Unused => {
            f.r.problem("ROOT INODE UNALLOCATED");
            f.r.ask("ALLOCATE");
            Err(())
        }
        State::DirClear => {
            f.r.problem("DUPS/BAD IN ROOT INODE");
            f.r.ask("REALLOCATE");
            f.r.ask("CONTINUE");
            Ok(())
        }
        State::File | State::FileClear => {
            f.r.problem("ROOT INODE NOT DIRECTORY");
            f.r.ask("REALLOCATE");
            f.r.ask("FIX");
            Err(())
        }
        State::Dir | State::DirFound => Ok(()),
    }
}

/// Parses directory blocks into entries (fsck_readdir and dircheck).
struct Reader {
    events: Vec<Event>,
    /// Bytes of the directory not yet read.
    remaining: i64,
    new_format: bool,
}

impl Reader {
    /// Whether the entry at `loc` of `buf` is sound: inode in range,
    /// record inside its chunk and long enough, name clean.
    fn sound(&self, f: &Fsck<'_>, buf: &[u8], loc: usize) -> bool {
        let spaceleft = DIRBLKSIZ as usize - loc % DIRBLKSIZ as usize;
        let chunk_end = (loc + spaceleft).min(buf.len());
        let Some(e) = Entry::decode(&buf[loc..chunk_end], self.new_format) else {
            return false;
        };
        let reclen = usize::from(e.reclen);
        if u64::from(e.ino) >= f.g.maxino() || reclen == 0 || reclen > spaceleft || reclen % 4 != 0
        {
            return false;
        }
        if e.ino == 0 {
            return true;
        }
        let size = e.size();
        if reclen < size || self.remaining < size as i64 || e.dtype > 15 {
            return false;
        }
        e.terminated && !e.name.iter().any(|&c| c == 0 || c == b'/')
    }

    fn entry_at(&self, buf: &[u8], loc: usize) -> Entry {
        let end = (loc + DIRBLKSIZ as usize - loc % DIRBLKSIZ as usize).min(buf.len());
        Entry::decode(&buf[loc..end], self.new_format).unwrap_or(Entry {
            ino: 0,
            reclen: 0,
            dtype: 0,
            namlen: 0,
            name: Vec::new(),
            terminated: true,
        })
    }

    fn scan_block(&mut self, f: &Fsck<'_>, buf: &[u8]) {
        let blksiz = buf.len();
        let mut loc = 0usize;
        loop {
            if loc % DIRBLKSIZ as usize == 0
                && self.remaining > 0
                && loc < blksiz
                && !self.sound(f, buf, loc)
            {
                // A bad first entry costs the whole chunk.
                self.events.push(Event::Corrupted { empty_entry: true });
                loc += DIRBLKSIZ as usize;
                self.remaining -= DIRBLKSIZ as i64;
                continue;
            }
            if self.remaining <= 0 || loc >= blksiz {
                return;
            }
            let mut e = self.entry_at(buf, loc);
            loc += usize::from(e.reclen);
            self.remaining -= i64::from(e.reclen);
            if loc % DIRBLKSIZ as usize != 0
                && loc < blksiz
                && self.remaining > 0
                && !self.sound(f, buf, loc)
            {
                // A bad entry after a good one: the good one's record is
                // taken to run to the chunk's end.
                let size = DIRBLKSIZ as usize - loc % DIRBLKSIZ as usize;
                loc += size;
                self.remaining -= size as i64;
                e.reclen = e.reclen.saturating_add(size as u16);
                self.events.push(Event::Corrupted { empty_entry: false });
            }
            self.events.push(Event::Entry(e));
        }
    }
}

impl Visitor for Reader {
    fn data(&mut self, f: &mut Fsck<'_>, blk: i64, nfrags: u64) -> Flow {
        let blksiz = (nfrags * f.g.fsize) as i64;
        if f.chkrange(blk, nfrags) {
            self.remaining -= blksiz;
            return Flow::Skip;
        }
        let buf = f.read_frags(blk as u64, blksiz as usize);
        self.scan_block(f, &buf);
        if self.remaining > 0 {
            Flow::KeepOn
        } else {
            Flow::Stop
        }
    }

    fn hole(&mut self, _f: &mut Fsck<'_>) {
        self.events.push(Event::Hole);
    }
}

/// Where each directory hangs: the first entry (other than `.` and
/// `..`) naming it, for path names in messages.
fn names_of(f: &Fsck<'_>, scans: &[(u64, Vec<Event>)]) -> Names {
    let mut names = Names::new();
    for (dir, events) in scans {
        for ev in events {
            let Event::Entry(e) = ev else { continue };
            let ino = u64::from(e.ino);
            if ino == 0 || e.name == b"." || e.name == b".." || ino == ROOTINO {
                continue;
            }
            if f.dirs.contains_key(&ino) {
                names.entry(ino).or_insert((*dir, e.name.clone()));
            }
        }
    }
    names
}

fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// `path` of `dir` joined with `name`.
fn join(base: &str, name: &[u8]) -> String {
    if base == "/" {
        format!("/{}", show(name))
    } else {
        format!("{base}/{}", show(name))
    }
}

/// direrror/fileerror: the message, the inode, then its path.
fn file_error(f: &mut Fsck<'_>, ino: u64, path: &str, msg: &str) {
    f.r.problem(&format!("{msg} "));
    f.pinode(ino);
    f.r.put("\n");
    let label = match f.ginode(ino) {
        Some(d) if (ROOTINO..f.g.maxino()).contains(&ino) && d.ifmt() != 0 => {
            if d.ifmt() == IFDIR {
                "DIR"
            } else {
                "FILE"
            }
        }
        _ => "NAME",
    };
    f.r.line(&format!("{label}={path}"));
}

/// Checks one directory's size and entries.
fn check_dir(f: &mut Fsck<'_>, names: &Names, dir: u64, events: Vec<Event>) {
    let here = f.path(names, dir);
    let isize = f.dirs.get(&dir).map_or(0, |i| i.isize);
    if isize < MINDIRSIZE {
        file_error(f, dir, &here, "DIRECTORY TOO SHORT");
        f.r.ask("FIX");
    } else if isize % DIRBLKSIZ != 0 {
        f.r.problem(&format!(
            "DIRECTORY {here}: LENGTH {isize} NOT MULTIPLE OF {DIRBLKSIZ}"
        ));
        f.r.ask("ADJUST");
    }
    let (mut corrupted_told, mut hole_told) = (false, false);
    let mut pos = 0usize;
    for ev in events {
        let e = match ev {
            Event::Corrupted { empty_entry } => {
                if !corrupted_told {
                    corrupted_told = true;
                    file_error(f, dir, &here, "DIRECTORY CORRUPTED");
                    f.r.ask("SALVAGE");
                }
                if !empty_entry {
                    continue;
                }
                Entry {
                    ino: 0,
                    reclen: DIRBLKSIZ as u16,
                    dtype: 0,
                    namlen: 0,
                    name: Vec::new(),
                    terminated: true,
                }
            }
            Event::Hole => {
                if !hole_told {
                    hole_told = true;
                    f.r.problem(&format!("DIRECTORY {here}: CONTAINS EMPTY BLOCKS"));
                    f.r.ask("ADJUST LENGTH");
                }
                continue;
            }
            Event::Entry(e) => e,
        };
        match pos {
            0 => first_entry(f, names, dir, &here, &e),
            1 => second_entry(f, names, dir, &here, &e),
            _ => later_entry(f, names, dir, &here, &e),
        }
        pos += 1;
    }
}

/// The first entry must be `.`, naming the directory itself.
fn first_entry(f: &mut Fsck<'_>, names: &Names, dir: u64, here: &str, e: &Entry) {
    if e.ino != 0 && e.name == b"." {
        if u64::from(e.ino) != dir {
            file_error(f, dir, here, "BAD INODE NUMBER FOR '.'");
            f.r.ask("FIX");
        }
        if f.g.new_dir_format() && e.dtype != DT_DIR {
            file_error(f, dir, here, "BAD TYPE VALUE FOR '.'");
            f.r.ask("FIX");
        }
        reference(f, names, dir, here, e, 0);
        return;
    }
    file_error(f, dir, here, "MISSING '.'");
    if e.ino != 0 && e.name != b".." {
        f.r.problem(&format!(
            "CANNOT FIX, FIRST ENTRY IN DIRECTORY CONTAINS {}\n",
            show(&e.name)
        ));
        later_entry(f, names, dir, here, e);
    } else {
        f.r.ask("FIX");
        if e.ino != 0 {
            // The `..` came first.
            second_entry(f, names, dir, here, e);
        }
    }
}

/// The second entry must be `..`.
fn second_entry(f: &mut Fsck<'_>, names: &Names, dir: u64, here: &str, e: &Entry) {
    if e.ino != 0 && e.name == b".." {
        if let Some(info) = f.dirs.get_mut(&dir) {
            info.dotdot = DotDot::Ino(u64::from(e.ino));
        }
        if f.g.new_dir_format() && e.dtype != DT_DIR {
            file_error(f, dir, here, "BAD TYPE VALUE FOR '..'");
            f.r.ask("FIX");
        }
        reference(f, names, dir, here, e, 1);
        return;
    }
    if e.ino != 0 && e.name != b"." {
        file_error(f, dir, here, "MISSING '..'");
        f.r.problem(&format!(
            "CANNOT FIX, SECOND ENTRY IN DIRECTORY CONTAINS {}\n",
            show(&e.name)
        ));
        if let Some(info) = f.dirs.get_mut(&dir) {
            info.dotdot = DotDot::Unfixable;
        }
        later_entry(f, names, dir, here, e);
    }
}

/// Any entry after the first two.
fn later_entry(f: &mut Fsck<'_>, names: &Names, dir: u64, here: &str, e: &Entry) {
    if e.ino == 0 {
        return;
    }
    if e.name == b"." || e.name == b".." {
        let which = if e.name == b"." { "'.'" } else { "'..'" };
        file_error(f, dir, here, &format!("EXTRA {which} ENTRY"));
        f.r.ask("FIX");
        return;
    }
    reference(f, names, dir, here, e, 2);
}

/// An entry of `dir` naming an inode: it must be in use and of the
/// type the entry says; it counts as one link.
fn reference(f: &mut Fsck<'_>, names: &Names, dir: u64, here: &str, e: &Entry, pos: usize) {
    let ino = u64::from(e.ino);
    let path = if pos >= 2 {
        join(here, &e.name)
    } else {
        here.to_string()
    };
    let new_format = f.g.new_dir_format();
    if ino >= f.g.maxino() {
        file_error(f, ino, &path, "I OUT OF RANGE");
        f.r.ask("REMOVE");
        return;
    }
    if new_format && ((ino == WINO) != (e.dtype == DT_WHT)) {
        file_error(f, ino, &path, "BAD WHITEOUT ENTRY");
        f.r.ask("FIX");
        return;
    }
    if ino == WINO {
        return;
    }
    match f.state(ino) {
        State::Unused => {
            if pos >= 2 {
                file_error(f, ino, &path, "UNALLOCATED");
                f.r.ask("REMOVE");
            }
            return;
        }
        State::DirClear | State::FileClear => {
            if pos < 2 {
                return;
            }
            // fsck_ffs calls every condemned directory zero length; one
            // with a size was condemned for its blocks.
            let empty = f.dirs.get(&ino).is_some_and(|i| i.isize == 0);
            let msg = if f.state(ino) == State::DirClear && empty {
                "ZERO LENGTH DIRECTORY"
            } else {
                "DUP/BAD"
            };
            file_error(f, ino, &path, msg);
            f.r.ask("REMOVE");
            // Kept: count it as what its mode says, from its full count.
            let Some(d) = f.ginode(ino) else { return };
            let state = if d.ifmt() == IFDIR {
                State::Dir
            } else {
                State::File
            };
            f.set_state(ino, state);
            f.links[ino as usize] = i32::from(d.nlink);
            f.types[ino as usize] = iftodt(d.mode);
        }
        _ => {}
    }
    if f.state(ino).is_dir() && pos >= 2 {
        let parent = f.dirs.get(&ino).map_or(0, |i| i.parent);
        if parent != 0 {
            let target = f.path(names, ino);
            f.r.problem(&format!(
                "{path} IS AN EXTRANEOUS HARD LINK TO DIRECTORY {target}\n"
            ));
            f.r.ask("REMOVE");
        } else if let Some(info) = f.dirs.get_mut(&ino) {
            info.parent = dir;
        }
    }
    if new_format && e.dtype != f.types[ino as usize] {
        file_error(f, ino, &path, "BAD TYPE VALUE");
        f.r.ask("FIX");
    }
    f.unlink_one(ino);
}

/// Each directory's `..` must name the directory that names it.
fn check_dotdots(f: &mut Fsck<'_>, names: &Names) {
    let dirs: Vec<(u64, u64, DotDot, u64)> = f
        .dirs
        .iter()
        .map(|(&ino, i)| (ino, i.parent, i.dotdot, i.isize))
        .collect();
    for (ino, parent, dotdot, isize) in dirs {
        if parent == 0 || isize == 0 {
            continue;
        }
        let path = f.path(names, ino);
        match dotdot {
            DotDot::Unfixable => {}
            DotDot::Ino(d) if d == parent => {}
            DotDot::Missing => {
                file_error(f, ino, &path, "MISSING '..'");
                f.r.ask("FIX");
            }
            DotDot::Ino(_) => {
                file_error(f, ino, &path, "BAD INODE NUMBER FOR '..'");
                f.r.ask("FIX");
            }
        }
    }
}

/// Marks every directory reachable from the root through the parents
/// found (fsck_ffs's propagate).
fn mark_found(f: &mut Fsck<'_>) {
    let mut children: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (&ino, info) in &f.dirs {
        if ino != ROOTINO && info.parent != 0 {
            children.entry(info.parent).or_default().push(ino);
        }
    }
    let mut todo = vec![ROOTINO];
    while let Some(d) = todo.pop() {
        if !f.state(d).is_dir() || f.state(d) == State::DirFound {
            continue;
        }
        f.set_state(d, State::DirFound);
        if let Some(kids) = children.get(&d) {
            todo.extend(kids);
        }
    }
}
