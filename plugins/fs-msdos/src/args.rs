//! The mount argument block, `struct msdosfs_args`: reading it as
//! NetBSD's `msdosfs_mount` does, and writing it back for MNT_GETARGS.

use rump_plugin_api::abi::mount::MsdosfsArgs;
use rump_plugin_api::abi::stat::ALLPERMS;
use rump_plugin_api::{Errno, KResult};

/// Never generate or read long names.
pub const MSDOSFSMNT_SHORTNAME: i32 = 1;
/// Read and write Win95 long names.
pub const MSDOSFSMNT_LONGNAME: i32 = 2;
/// No Win95 extensions at all (no long names, no access or create times).
pub const MSDOSFSMNT_NOWIN95: i32 = 4;
/// An Atari GEMDOS file system.
pub const MSDOSFSMNT_GEMDOSFS: i32 = 8;
/// The block has `version` and later fields.
pub const MSDOSFSMNT_VERSIONED: i32 = 16;
/// Names are UTF-8 (long names are always kept as UTF-16 here).
pub const MSDOSFSMNT_UTF8: i32 = 32;
/// The flags a mount takes from its arguments.
pub const MSDOSFSMNT_MNTOPT: i32 = MSDOSFSMNT_SHORTNAME
    | MSDOSFSMNT_LONGNAME
    | MSDOSFSMNT_NOWIN95
    | MSDOSFSMNT_GEMDOSFS
    | MSDOSFSMNT_VERSIONED
    | MSDOSFSMNT_UTF8;

/// What a mount (or mount update) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits files may show.
    pub mask: u32,
    /// Permission bits directories may show.
    pub dirmask: u32,
    /// MSDOSFSMNT_* flags.
    pub flags: i32,
    /// Seconds east of UTC of the times on disk.
    pub gmtoff: i32,
}

impl Options {
    /// Reads an argument block and the address of its `fspec` string:
    /// EINVAL if it is short. Unversioned blocks get the directory mask
    /// of the file mask, and blocks before version 3 no UTC offset, as
    /// NetBSD does.
    pub fn parse(data: &[u8]) -> KResult<(Options, u64)> {
        if data.len() < MsdosfsArgs::SIZE {
            return Err(Errno::EINVAL);
        }
        let mut a = MsdosfsArgs::decode(data);
        if a.flags & MSDOSFSMNT_VERSIONED == 0 {
            a.version = 1;
            a.dirmask = a.mask;
        }
        if a.version < 3 {
            a.gmtoff = 0;
        }
        if a.flags & MSDOSFSMNT_GEMDOSFS != 0 {
            // Atari's variant needs geometry rules this file system does
            // not implement.
            return Err(Errno::EINVAL);
        }
        let mut flags = a.flags & MSDOSFSMNT_MNTOPT;
        if flags & MSDOSFSMNT_NOWIN95 != 0 {
            flags |= MSDOSFSMNT_SHORTNAME;
        }
        Ok((
            Options {
                uid: a.uid,
                gid: a.gid,
                mask: a.mask & ALLPERMS,
                dirmask: a.dirmask & ALLPERMS,
                flags,
                gmtoff: a.gmtoff,
            },
            a.fspec,
        ))
    }

    /// Long names are read and written.
    pub fn long_names(&self) -> bool {
        self.flags & MSDOSFSMNT_LONGNAME != 0
    }

    /// Access dates and creation times are kept.
    pub fn win95(&self) -> bool {
        self.flags & MSDOSFSMNT_NOWIN95 == 0
    }

    /// The MNT_GETARGS block (no `fspec`).
    pub fn getargs(&self) -> Vec<u8> {
        MsdosfsArgs {
            fspec: 0,
            uid: self.uid,
            gid: self.gid,
            mask: self.mask,
            flags: self.flags,
            version: MsdosfsArgs::VERSION,
            dirmask: self.dirmask,
            gmtoff: self.gmtoff,
        }
        .encode()
        .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_defaults() {
        let mut a = MsdosfsArgs {
            fspec: 0x1000,
            uid: 5,
            gid: 6,
            mask: 0o10644,
            flags: MSDOSFSMNT_VERSIONED | MSDOSFSMNT_LONGNAME,
            version: 3,
            dirmask: 0o755,
            gmtoff: 3600,
        };
        let (o, spec) = Options::parse(&a.encode()).unwrap();
        assert_eq!(spec, 0x1000);
        assert_eq!(
            (o.uid, o.gid, o.mask, o.dirmask, o.gmtoff),
            (5, 6, 0o644, 0o755, 3600)
        );
        assert!(o.long_names() && o.win95());
        let back = MsdosfsArgs::decode(&o.getargs());
        assert_eq!((back.fspec, back.version, back.mask), (0, 3, 0o644));
        a.flags = MSDOSFSMNT_NOWIN95;
        let (o, _) = Options::parse(&a.encode()).unwrap();
        assert_eq!((o.dirmask, o.gmtoff), (0o644, 0));
        assert!(!o.long_names() && !o.win95());
        assert_eq!(o.flags & MSDOSFSMNT_SHORTNAME, MSDOSFSMNT_SHORTNAME);
        assert_eq!(Options::parse(&a.encode()[..100]), Err(Errno::EINVAL));
        a.flags = MSDOSFSMNT_GEMDOSFS;
        assert_eq!(Options::parse(&a.encode()), Err(Errno::EINVAL));
    }
}
