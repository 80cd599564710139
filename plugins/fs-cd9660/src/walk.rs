//! Walking a directory's records in order and naming them.
//!
//! A directory is a contiguous run of logical blocks; records do not
//! cross block boundaries, and a zero length byte pads to the next block.
//! The records of a multi-extent file make one entry, numbered by its
//! first record; other files by their record's byte address, directories
//! by their first block's. With Rock Ridge, names are the `NM` names (or
//! the identifiers as recorded), moved directories appear where `CL`
//! placeholders put them and `..` leads where `PL` says; without it,
//! names are shown as [`crate::names::shown`] says.

use crate::fs::{Fs, Naming};
use crate::names::{self, Style};
use crate::node::{Node, MAX_EXTENTS};
use crate::record::{Record, Slot};
use crate::rrip::{self, Name};
use rump_plugin_api::abi::dirent::{DT_DIR, DT_REG};
use rump_plugin_api::vfs::VType;
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
    /// The offset of its first record in the directory.
    pub start: u64,
    /// The offset just past its last record.
    pub next: u64,
}

/// A walk through a directory's records from some offset.
pub struct Walk<'a> {
    fs: &'a Fs,
    first_block: u64,
    size: u64,
    pos: u64,
    block: Option<(u64, Vec<u8>)>,
}

/// A file's first record (owned), its byte address and its offset in
/// the directory.
struct Found {
    raw: Vec<u8>,
    addr: u64,
    start: u64,
}

impl<'a> Walk<'a> {
    /// A walk of `dir` starting at byte `pos` of it.
    pub fn new(fs: &'a Fs, dir: &Node, pos: u64) -> Walk<'a> {
        let (first_block, size) = dir.extents.first().map_or((0, 0), |e| (e.block, e.size));
        Walk {
            fs,
            first_block,
            size,
            pos,
            block: None,
        }
    }

    /// The record at the walk's position; `None` at the end of a block.
    fn slot(&mut self) -> KResult<Option<(Vec<u8>, u64)>> {
        let (idx, off) = self.fs.geo.split(self.pos);
        if self.block.as_ref().map(|b| b.0) != Some(idx) {
            let b = self.first_block.checked_add(idx).ok_or(Errno::EIO)?;
            self.block = Some((idx, self.fs.geo.block(&self.fs.disk, b)?));
        }
        let block = &self.block.as_ref().expect("just loaded").1;
        match Record::at(block, off).map_err(|_| Errno::EINVAL)? {
            Slot::Padding => {
                self.pos = (idx + 1) << self.fs.geo.shift;
                Ok(None)
            }
            Slot::Record(r) => {
                let addr = self.fs.geo.byte(self.first_block + idx).ok_or(Errno::EIO)? + off as u64;
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
            let start = self.pos;
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
            return Ok(Some(Found { raw, addr, start }));
        }
        Ok(None)
    }

    /// The next entry, named and numbered.
    pub fn next_entry(&mut self) -> KResult<Option<Entry>> {
        let Some(found) = self.next_file()? else {
            return Ok(None);
        };
        let rec = Record::new(&found.raw).map_err(|_| Errno::EINVAL)?;
        Ok(Some(entry(
            self.fs,
            &rec,
            found.addr,
            found.start,
            self.pos,
        )))
    }
}

/// The name, number and type of the file whose first record is `rec` at
/// byte address `addr`, from offset `start` to `next` of its directory.
fn entry(fs: &Fs, rec: &Record<'_>, addr: u64, start: u64, next: u64) -> Entry {
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
        start,
        next,
    }
}
