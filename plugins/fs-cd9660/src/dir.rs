//! readdir and lookup: the entries of a directory (from its cached
//! listing, or walked on the image) with NetBSD's rules.
//!
//! Readdir cookies are byte offsets into the directory (0: the start);
//! each entry's cookie is the offset just past its last record. A record
//! that is malformed ends a readdir with EINVAL (after the entries before
//! it) and a lookup with ENOENT, as in NetBSD.
//!
//! Without Rock Ridge, a file recorded in several versions in a row is
//! listed once, by its last record (unless the mount keeps versions),
//! and a lookup finds that same record; names match as
//! [`crate::names::matches`] says, and a leading `=` asks for an
//! associated file. With Rock Ridge, the first entry of the name asked
//! for is found, exactly or (with `rrcaseins`) without regard to ASCII
//! case.

use crate::dircache::Listing;
use crate::fs::{Fs, Naming};
use crate::names;
use crate::node::Node;
use crate::walk::{Entry, Walk};
use rump_plugin_api::vfs::DirEntry;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// Where entries come from.
enum Source<'a> {
    Cached(Arc<Listing>, usize),
    Walking(Walk<'a>),
}

impl<'a> Source<'a> {
    /// The entries of `dir` from offset `from` on.
    fn open(fs: &'a Fs, dir: &Node, from: u64) -> KResult<Source<'a>> {
        Ok(match fs.cache.listing(fs, dir)? {
            Some(l) => {
                let i = l.index_of(from);
                Source::Cached(l, i)
            }
            None => Source::Walking(Walk::new(fs, dir, from)),
        })
    }

    fn next(&mut self) -> KResult<Option<Entry>> {
        match self {
            Source::Walking(w) => w.next_entry(),
            Source::Cached(l, i) => match l.entries.get(*i) {
                Some(e) => {
                    *i += 1;
                    Ok(Some(e.clone()))
                }
                None => match l.error {
                    Some(err) => Err(err),
                    None => Ok(None),
                },
            },
        }
    }
}

/// Up to `max` entries of `dir` from `cookie` on.
pub fn readdir(fs: &Fs, dir: &Node, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
    let size = dir.extents.first().map_or(0, |e| e.size);
    let Ok(from) = u64::try_from(cookie) else {
        return Ok(Vec::new());
    };
    if from >= size || max == 0 {
        return Ok(Vec::new());
    }
    let merge = matches!(
        fs.naming,
        Naming::Iso {
            merge_versions: true,
            ..
        }
    );
    let mut src = Source::open(fs, dir, from)?;
    let mut out: Vec<DirEntry> = Vec::new();
    let mut held: Option<Entry> = None;
    loop {
        let e = match src.next() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(err) if out.is_empty() && held.is_none() => return Err(err),
            Err(_) => break,
        };
        if e.name.is_empty() {
            continue;
        }
        match held.take() {
            Some(h) if merge && h.dot.is_none() && e.dot.is_none() && h.name == e.name => {
                held = Some(e);
                continue;
            }
            Some(h) => {
                out.push(listed(h));
                if out.len() == max {
                    return Ok(out);
                }
                held = Some(e);
            }
            None => held = Some(e),
        }
    }
    if let Some(h) = held {
        out.push(listed(h));
    }
    Ok(out)
}

fn listed(e: Entry) -> DirEntry {
    DirEntry {
        fileno: e.ino,
        dtype: e.dtype,
        name: e.name.into(),
        next: e.next as i64,
    }
}

/// What a lookup does with the next entry.
enum Step {
    Go,
    Found(u64),
    Stop,
}

/// A lookup of one name, entry by entry.
struct Matcher<'n> {
    name: &'n [u8],
    /// `.` or `..` asked for.
    dots: Option<u8>,
    /// An associated file asked for, and the name without its `=`.
    assoc: bool,
    bare: &'n [u8],
    found: Option<u64>,
}

impl<'n> Matcher<'n> {
    fn new(fs: &Fs, name: &'n [u8]) -> Matcher<'n> {
        let (dots, assoc, bare) = match name {
            b"." => (Some(0), false, name),
            b".." => (Some(1), false, name),
            [names::ASSOC_CHAR, rest @ ..] if fs.rock_ridge().is_none() => (None, true, rest),
            _ => (None, false, name),
        };
        Matcher {
            name,
            dots,
            assoc,
            bare,
            found: None,
        }
    }

    fn feed(&mut self, fs: &Fs, e: &Entry) -> Step {
        if e.name.is_empty() {
            return Step::Go;
        }
        match &fs.naming {
            Naming::RockRidge(_) => {
                let same = if fs.rr_caseins {
                    e.name.eq_ignore_ascii_case(self.name)
                } else {
                    e.name == self.name
                };
                if same {
                    Step::Found(e.ino)
                } else {
                    Step::Go
                }
            }
            Naming::Iso { style, .. } => {
                if self.dots.is_some() || e.dot.is_some() {
                    return if self.dots.is_some() && e.dot == self.dots {
                        Step::Found(e.ino)
                    } else {
                        Step::Go
                    };
                }
                if e.assoc != self.assoc {
                    return Step::Go;
                }
                if names::matches(self.bare, &e.raw, style.joliet > 0) {
                    // The last of a run of matching records wins.
                    self.found = Some(e.ino);
                    Step::Go
                } else if self.found.is_some() {
                    Step::Stop
                } else {
                    Step::Go
                }
            }
        }
    }

    fn finish(self) -> KResult<u64> {
        self.found.ok_or(Errno::ENOENT)
    }
}

/// The file number `name` has in `dir`; ENOENT if none.
pub fn lookup(fs: &Fs, dir: &Node, name: &[u8]) -> KResult<u64> {
    let listing = fs.cache.listing(fs, dir)?;
    let mut m = Matcher::new(fs, name);
    match listing {
        Some(l) if fs.rock_ridge().is_some() => {
            return l.find(name, fs.rr_caseins).ok_or(Errno::ENOENT)
        }
        Some(l) => {
            for e in &l.entries {
                match m.feed(fs, e) {
                    Step::Go => {}
                    Step::Found(ino) => return Ok(ino),
                    Step::Stop => break,
                }
            }
        }
        None => {
            let mut walk = Walk::new(fs, dir, 0);
            loop {
                let e = match walk.next_entry() {
                    Ok(Some(e)) => e,
                    Ok(None) | Err(Errno::EINVAL) => break,
                    Err(err) => return Err(err),
                };
                match m.feed(fs, &e) {
                    Step::Go => {}
                    Step::Found(ino) => return Ok(ino),
                    Step::Stop => break,
                }
            }
        }
    }
    m.finish()
}
