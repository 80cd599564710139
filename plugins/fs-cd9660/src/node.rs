//! Loading a file from its number, as NetBSD does: the file number is the
//! byte address of the file's directory record (a directory's is its
//! first data block's address, where its `.` record lies), so a node is
//! the record found there, read afresh.
//!
//! Attributes come from Rock Ridge when the volume has it (a record
//! without `PX` or `TF` falls back to the plain ISO 9660 ones) and from
//! [`crate::attrs`] otherwise. A multi-extent file continues in the
//! records after the first, up to [`MAX_EXTENTS`] of them. Device numbers
//! come from `PN`; symbolic link targets from `SL`, and a link whose
//! record gives no size has its target's length as size.

use crate::attrs::{self, Owner, Stamps};
use crate::data::{self, Extent};
use crate::fs::Fs;
use crate::mem::{Charge, EXTENT_COST, NODE_COST};
use crate::record::{Record, Slot, FIXED};
use crate::rrip::{self, Info};
use rump_plugin_api::abi::stat::{Stat, Timespec, S_IFDIR, S_IFMT, S_IFREG};
use rump_plugin_api::vfs::VType;
use rump_plugin_api::{Errno, KResult};

/// The most records one file may have (16 TiB in 4 GiB extents).
pub const MAX_EXTENTS: usize = 4096;
/// `st_birthtime` when the volume records none (NetBSD leaves it 0).
const NO_TIME: Timespec = Timespec { sec: 0, nsec: 0 };

/// A loaded file or directory.
#[derive(Debug)]
pub struct Node {
    pub ino: u64,
    pub vtype: VType,
    /// Permission bits.
    pub perm: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub birthtime: Timespec,
    pub size: u64,
    /// Where the data is (a directory: its records).
    pub extents: Vec<Extent>,
    /// A symbolic link's target; `Err` for broken `SL` fields.
    pub link: Option<Result<Vec<u8>, ()>>,
    _charge: Charge,
}

impl Node {
    /// The file whose number is `ino`. EIO when no sound record lies
    /// there; ENOMEM when the kernel has no memory for it.
    pub fn load(fs: &Fs, ino: u64) -> KResult<Node> {
        let (blk, off) = fs.geo.split(ino);
        if off + FIXED > fs.geo.block_size() {
            return Err(Errno::EIO);
        }
        let block = fs.geo.block(&fs.disk, blk)?;
        let Ok(Slot::Record(rec)) = Record::at(&block, off) else {
            return Err(Errno::EIO);
        };
        let rr = fs
            .rock_ridge()
            .map(|r| rrip::read(&fs.disk, &fs.geo, r, &rec, &fs.volroot));
        let xar = attrs::xattr_record(&fs.disk, &fs.geo, &rec, fs.extatt);
        let owner = owner(&rec, rr.as_ref(), xar.as_deref());
        let stamps = stamps(&rec, rr.as_ref(), xar.as_deref());
        let vtype = VType::from_mode(owner.mode);
        let extents = if vtype == VType::Dir {
            vec![Extent {
                block: rec.data_block(),
                size: u64::from(rec.size()),
                unit: 0,
                gap: 0,
            }]
        } else {
            extents(fs, &rec, blk, off)?
        };
        let link = match (vtype, rr.as_ref()) {
            (VType::Lnk, Some(i)) => Some(i.link.clone().unwrap_or(Err(()))),
            _ => None,
        };
        let mut size = data::size(&extents);
        if let (0, Some(Ok(target))) = (size, &link) {
            size = target.len() as u64;
        }
        let link_len = match &link {
            Some(Ok(t)) => t.len() as u64,
            _ => 0,
        };
        let charge = Charge::new(NODE_COST + EXTENT_COST * extents.len() as u64 + link_len)?;
        let posix = rr.as_ref().and_then(|i| i.posix);
        Ok(Node {
            ino,
            vtype,
            perm: owner.mode & 0o7777,
            nlink: posix.map_or(1, |p| p.nlink),
            uid: owner.uid,
            gid: owner.gid,
            rdev: rr.as_ref().and_then(|i| i.rdev).unwrap_or(0),
            atime: stamps.atime,
            mtime: stamps.mtime,
            ctime: stamps.ctime,
            birthtime: rr
                .as_ref()
                .and_then(|i| i.times)
                .and_then(|t| t.birth)
                .unwrap_or(NO_TIME),
            size,
            extents,
            link,
            _charge: charge,
        })
    }

    /// `struct stat` for this node on a mount with `fsid` and logical
    /// block size `block_size`.
    pub fn stat(&self, fsid: u64, block_size: u32) -> Stat {
        Stat {
            dev: fsid,
            mode: self.vtype.mode_bits() | self.perm,
            ino: self.ino,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: self.rdev,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
            birthtime: self.birthtime,
            size: self.size as i64,
            // NetBSD counts the data bytes in 512-byte units, rounding down.
            blocks: (self.size / 512) as i64,
            blksize: block_size as i32,
            flags: 0,
            gen: 0,
        }
    }
}

/// Type, permissions and owner: Rock Ridge's `PX` when there is one with a
/// file type, else the plain attributes.
fn owner(rec: &Record<'_>, rr: Option<&Info>, xar: Option<&[u8]>) -> Owner {
    match rr.and_then(|i| i.posix) {
        Some(p) if VType::from_mode(p.mode) != VType::Non => Owner {
            mode: p.mode & (S_IFMT | 0o7777),
            uid: p.uid,
            gid: p.gid,
        },
        Some(p) => Owner {
            // A PX without a file type: the record's flag decides.
            mode: if rec.is_dir() { S_IFDIR } else { S_IFREG } | (p.mode & 0o7777),
            uid: p.uid,
            gid: p.gid,
        },
        None => attrs::owner(rec, xar),
    }
}

/// Times: Rock Ridge's `TF` when there is one, else the plain ones.
fn stamps(rec: &Record<'_>, rr: Option<&Info>, xar: Option<&[u8]>) -> Stamps {
    match rr.and_then(|i| i.times) {
        Some(t) => Stamps {
            atime: t.atime,
            mtime: t.mtime,
            ctime: t.ctime,
        },
        None => attrs::stamps(rec, xar),
    }
}

fn extent_of(rec: &Record<'_>) -> Extent {
    Extent {
        block: rec.data_block(),
        size: u64::from(rec.size()),
        unit: rec.unit_size(),
        gap: rec.gap(),
    }
}

/// The extents of the file whose first record is `first`, at offset `off`
/// of block `blk`: the records that follow while each says the file
/// continues (skipping to the next block over padding).
fn extents(fs: &Fs, first: &Record<'_>, blk: u64, off: usize) -> KResult<Vec<Extent>> {
    let mut out = vec![extent_of(first)];
    if !first.continues() {
        return Ok(out);
    }
    let (mut blk, mut pos) = (blk, off + first.len());
    let mut block = fs.geo.block(&fs.disk, blk)?;
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > 2 * MAX_EXTENTS {
            return Err(Errno::EIO);
        }
        let slot = if pos >= block.len() {
            Slot::Padding
        } else {
            Record::at(&block, pos).map_err(|_| Errno::EIO)?
        };
        match slot {
            Slot::Padding => {
                blk += 1;
                pos = 0;
                block = fs.geo.block(&fs.disk, blk)?;
            }
            Slot::Record(rec) => {
                if out.len() == MAX_EXTENTS {
                    return Err(Errno::EIO);
                }
                out.push(extent_of(&rec));
                if !rec.continues() {
                    return Ok(out);
                }
                pos += rec.len();
            }
        }
    }
}
