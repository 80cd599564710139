//! Attributes of files without Rock Ridge fields, as NetBSD gives them:
//! directories and regular files by the record's directory flag, mode
//! `r-xr-xr-x`, owner and group 0, one link, and the recording date as
//! every time. With the `extatt` mount option, a file's extended
//! attribute record (ECMA-119 9.5), when it has one of version 1, gives
//! the permissions, owner, group and times instead.

use crate::disk::{Disk, Geometry};
use crate::num::{both16, u8_at};
use crate::record::Record;
use crate::time;
use rump_plugin_api::abi::stat::{Timespec, S_IFDIR, S_IFREG};

const S_IRUSR: u32 = 0o400;
const S_IXUSR: u32 = 0o100;
const S_IRGRP: u32 = 0o040;
const S_IXGRP: u32 = 0o010;
const S_IROTH: u32 = 0o004;
const S_IXOTH: u32 = 0o001;

/// Ownership and permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Type and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Access, modification and attribute change times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamps {
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// A file's extended attribute record, when the mount wants them and it
/// has one of version 1 that can be read.
pub fn xattr_record(
    disk: &Disk,
    geo: &Geometry,
    rec: &Record<'_>,
    extatt: bool,
) -> Option<Vec<u8>> {
    if !extatt || rec.xattr_len() == 0 {
        return None;
    }
    let block = geo.block(disk, u64::from(rec.extent())).ok()?;
    (u8_at(&block, 180)? == 1).then_some(block)
}

/// The type, permissions and owner of `rec` by its flags (and its
/// extended attribute record `xar`).
pub fn owner(rec: &Record<'_>, xar: Option<&[u8]>) -> Owner {
    let kind = if rec.is_dir() { S_IFDIR } else { S_IFREG };
    let Some(x) = xar else {
        return Owner {
            mode: kind | S_IRUSR | S_IXUSR | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH,
            uid: 0,
            gid: 0,
        };
    };
    // Permission bits set in the record deny; the system class is ignored.
    let (p0, p1) = (x[8], x[9]);
    let allow = [
        (p1 & 0x10, S_IRUSR),
        (p1 & 0x40, S_IXUSR),
        (p0 & 0x01, S_IRGRP),
        (p0 & 0x04, S_IXGRP),
        (p0 & 0x10, S_IROTH),
        (p0 & 0x40, S_IXOTH),
    ];
    let perm = allow
        .iter()
        .filter(|(deny, _)| *deny == 0)
        .fold(0, |m, (_, bit)| m | bit);
    Owner {
        mode: kind | perm,
        uid: u32::from(both16(x, 0).unwrap_or(0)),
        gid: u32::from(both16(x, 4).unwrap_or(0)),
    }
}

/// The times of `rec`: the recording date, or those of its extended
/// attribute record `xar`.
pub fn stamps(rec: &Record<'_>, xar: Option<&[u8]>) -> Stamps {
    let Some(x) = xar else {
        let t = time::short(&rec.date()).unwrap_or_default();
        return Stamps {
            atime: t,
            mtime: t,
            ctime: t,
        };
    };
    let long = |at: usize| -> Option<Timespec> {
        let b: &[u8; time::LONG] = x.get(at..at + time::LONG)?.try_into().ok()?;
        time::long(b)
    };
    let (created, modified, effective) = (long(10), long(27), long(61));
    let atime = effective.or(created).unwrap_or_default();
    let ctime = created.unwrap_or(atime);
    let mtime = modified.unwrap_or(ctime);
    Stamps {
        atime,
        mtime,
        ctime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::record;

    #[test]
    fn plain_attributes() {
        let r = record(b"A;1", 30, 1, 0, b"");
        let o = owner(&Record::new(&r).unwrap(), None);
        assert_eq!((o.mode, o.uid, o.gid), (S_IFREG | 0o555, 0, 0));
        let d = record(b"D", 30, 2048, 2, b"");
        assert_eq!(owner(&Record::new(&d).unwrap(), None).mode, S_IFDIR | 0o555);
        let s = stamps(&Record::new(&r).unwrap(), None);
        // 2026-01-02 03:04:05 UTC, the test record's date
        assert_eq!(
            (s.atime.sec, s.mtime.sec, s.ctime.sec),
            (1_767_323_045, 1_767_323_045, 1_767_323_045)
        );
    }

    #[test]
    fn extended_attribute_records() {
        let mut img = vec![0u8; 4 * 2048];
        let x = &mut img[2 * 2048..3 * 2048];
        x[0..2].copy_from_slice(&1000u16.to_le_bytes());
        x[4..6].copy_from_slice(&100u16.to_le_bytes());
        // deny group execute and all of others
        x[8] = 0x04 | 0x10 | 0x40;
        x[9] = 0;
        x[10..27].copy_from_slice(b"2001020304050600\0");
        x[180] = 1;
        let disk = Disk::new(Box::new(img));
        let geo = Geometry {
            shift: 11,
            blocks: 4,
        };
        let mut r = record(b"A;1", 2, 1, 0, b"");
        r[1] = 1;
        let rec = Record::new(&r).unwrap();
        assert!(xattr_record(&disk, &geo, &rec, false).is_none());
        let xar = xattr_record(&disk, &geo, &rec, true).unwrap();
        let o = owner(&rec, Some(&xar));
        assert_eq!((o.mode, o.uid, o.gid), (S_IFREG | 0o540, 1000, 100));
        let s = stamps(&rec, Some(&xar));
        assert_eq!(
            (s.atime.sec, s.ctime.sec, s.mtime.sec),
            (981_173_106, 981_173_106, 981_173_106)
        );
        let mut r = record(b"A;1", 3, 1, 0, b"");
        r[1] = 1;
        assert!(
            xattr_record(&disk, &geo, &Record::new(&r).unwrap(), true).is_none(),
            "version 0"
        );
        let mut r = record(b"A;1", 9, 1, 0, b"");
        r[1] = 1;
        assert!(
            xattr_record(&disk, &geo, &Record::new(&r).unwrap(), true).is_none(),
            "past the end"
        );
    }
}
