//! Directories: walking a directory's records in order, naming them, and
//! readdir and lookup on top of that.
//!
//! A directory is a contiguous run of logical blocks; records do not
//! cross block boundaries, and a zero length byte pads to the next block.
//! Readdir cookies are byte offsets into the directory (0: the start);
//! each entry's cookie is the offset just past its last record. A record
//! that is malformed ends a readdir with EINVAL (after the entries before
//! it) and a lookup with ENOENT, as in NetBSD.
//!
//! The records of a multi-extent file are one entry, numbered by its
//! first record. Without Rock Ridge, a file recorded in several versions
//! in a row is listed once, by its last record (unless the mount keeps
//! versions), and a lookup finds that same record; names match as
//! [`crate::names::matches`] says. With Rock Ridge, names are the `NM`
//! names (or the identifiers as recorded), match exactly (or without
//! regard to ASCII case with `rrcaseins`), moved directories are listed
//! where `CL` placeholders put them and `..` leads where `PL` says.

use crate::fs::{Fs, Naming};
use crate::names::{self, Style};
use crate::node::{Node, MAX_EXTENTS};
use crate::record::{Record, Slot};
use crate::rrip::{self, Name};
use rump_plugin_api::abi::dirent::{DT_DIR, DT_REG};
use rump_plugin_api::vfs::{DirEntry, VType};
use rump_plugin_api::{Errno, KResult};

/// One listed name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name shown (empty: not listed).
    pub name: Vec<u8>,
    /// The identifier as recorded, for ISO 9660 name matching.
    pub raw: Vec<u8>,
    pub ino: u64,
    pub dtype: u8,
    /// 0 for `.`, 1 for `..`.
    pub dot: Option<u8>,
    pub assoc: bool,
    /// The offset just past the entry's last record.
    pub next: u64,
}

/// A walk through a directory's records from some offset.
pub struct Walk<'a> {
    fs: &'a Fs,
    start: u64,
    size: u64,
    pos: u64,
    block: Option<(u64, Vec<u8>)>,
}

/// A file's first record (owned) and where it was.
struct Found {
    raw: Vec<u8>,
    addr: u64,
}

impl<'a> Walk<'a> {
    /// A walk of `dir` starting at byte `pos` of it.
    pub fn new(fs: &'a Fs, dir: &Node, pos: u64) -> Walk<'a> {
        let (start, size) = dir.extents.first().map_or((0, 0), |e| (e.block, e.size));
        Walk {
            fs,
            start,
            size,
            pos,
            block: None,
        }
    }

    /// The record at the walk's position; `None` at the end of a block.
    fn slot(&mut self) -> KResult<Option<(Vec<u8>, u64)>> {
        let (idx, off) = self.fs.geo.split(self.pos);
        if self.block.as_ref().map(|b| b.0) != Some(idx) {
            let b = self.start.checked_add(idx).ok_or(Errno::EIO)?;
            self.block = Some((idx, self.fs.geo.block(&self.fs.disk, b)?));
        }
        let block = &self.block.as_ref().expect("just loaded").1;
        match Record::at(block, off).map_err(|_| Errno::EINVAL)? {
            Slot::Padding => {
                self.pos = (idx + 1) << self.fs.geo.shift;
                Ok(None)
            }
            Slot::Record(r) => {
                let addr = self.fs.geo.byte(self.start + idx).ok_or(Errno::EIO)? + off as u64;
                self.pos += r.len() as u64;
                Ok(Some((block[off..off + r.len()].to_vec(), addr)))
            }
        }
    }

    /// The next file: its first record, having passed over the records
    /// that continue it. EINVAL for a malformed record, EIO when the
    /// image cannot be read.
    fn next_file(&mut self) -> KResult<Option<Found>> {
        while self.pos < self.size {
            let Some((raw, addr)) = self.slot()? else {
                continue;
            };
            let rec = Record::new(&raw).map_err(|_| Errno::EINVAL)?;
            let mut more = rec.continues() && !rec.is_dir();
            let mut count = 1;
            while more && self.pos < self.size && count < MAX_EXTENTS {
                if let Some((next, _)) = self.slot()? {
                    more = Record::new(&next).map_err(|_| Errno::EINVAL)?.continues();
                    count += 1;
                }
            }
            return Ok(Some(Found { raw, addr }));
        }
        Ok(None)
    }

    /// The next entry, named and numbered.
    pub fn next_entry(&mut self) -> KResult<Option<Entry>> {
        let Some(found) = self.next_file()? else {
            return Ok(None);
        };
        let rec = Record::new(&found.raw).map_err(|_| Errno::EINVAL)?;
        Ok(Some(entry(self.fs, &rec, found.addr, self.pos)))
    }
}

/// The name, number and type of the file whose first record is `rec` at
/// byte address `addr`.
fn entry(fs: &Fs, rec: &Record<'_>, addr: u64, next: u64) -> Entry {
    let dot = rec.dot();
    let mut ino = if rec.is_dir() {
        fs.dir_ino(rec.data_block())
    } else {
        addr
    };
    let mut dtype = if rec.is_dir() { DT_DIR } else { DT_REG };
    let name = match &fs.naming {
        Naming::RockRidge(rr) => {
            let info = rrip::read(&fs.disk, &fs.geo, rr, rec, &fs.volroot);
            if let Some(p) = info.posix {
                let t = VType::from_mode(p.mode);
                if t != VType::Non {
                    dtype = t.dtype();
                }
            }
            if let Some(b) = info.child {
                ino = fs.dir_ino(u64::from(b));
                dtype = DT_DIR;
            } else if let Some(b) = info.parent {
                ino = fs.dir_ino(u64::from(b));
            }
            match (dot, info.name) {
                (_, Name::Hidden) => Vec::new(),
                (Some(0), _) => b".".to_vec(),
                (Some(_), _) => b"..".to_vec(),
                (None, Name::Alternate(n)) => n,
                (None, Name::Iso) => names::shown(
                    rec.name(),
                    rec.is_assoc(),
                    Style {
                        joliet: 0,
                        keep_version: true,
                        lower_case: false,
                    },
                ),
            }
        }
        Naming::Iso { style, .. } => match dot {
            Some(0) => b".".to_vec(),
            Some(_) => b"..".to_vec(),
            None => names::shown(rec.name(), rec.is_assoc(), *style),
        },
    };
    Entry {
        name,
        raw: rec.name().to_vec(),
        ino,
        dtype,
        dot,
        assoc: rec.is_assoc(),
        next,
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
    let mut walk = Walk::new(fs, dir, from);
    let mut out: Vec<DirEntry> = Vec::new();
    let mut held: Option<Entry> = None;
    loop {
        let e = match walk.next_entry() {
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

/// The file number `name` has in `dir`; ENOENT if none.
pub fn lookup(fs: &Fs, dir: &Node, name: &[u8]) -> KResult<u64> {
    let mut walk = Walk::new(fs, dir, 0);
    let mut found: Option<u64> = None;
    let (dots, assoc, bare) = match name {
        b"." => (Some(0), false, name),
        b".." => (Some(1), false, name),
        [names::ASSOC_CHAR, rest @ ..] if fs.rock_ridge().is_none() => (None, true, rest),
        _ => (None, false, name),
    };
    loop {
        let e = match walk.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) | Err(Errno::EINVAL) => break,
            Err(err) => return Err(err),
        };
        if e.name.is_empty() {
            continue;
        }
        match &fs.naming {
            Naming::RockRidge(_) => {
                let same = if fs.rr_caseins {
                    e.name.eq_ignore_ascii_case(name)
                } else {
                    e.name == name
                };
                if same {
                    return Ok(e.ino);
                }
            }
            Naming::Iso { style, .. } => {
                if dots.is_some() || e.dot.is_some() {
                    if dots.is_some() && e.dot == dots {
                        return Ok(e.ino);
                    }
                    continue;
                }
                if e.assoc != assoc {
                    continue;
                }
                if names::matches(bare, &e.raw, style.joliet > 0) {
                    // The last of a run of matching records wins.
                    found = Some(e.ino);
                } else if found.is_some() {
                    break;
                }
            }
        }
    }
    found.ok_or(Errno::ENOENT)
}
