//! Revision-1 feature flags: their names, and whether an image that
//! has them can be mounted read-write, only read-only, or not at all.
//!
//! NetBSD refuses an image with an incompatible feature it lacks
//! (EINVAL) and refuses to mount read-write one with a read-only
//! compatible feature it lacks (EROFS); compatible features never stand
//! in the way. This implementation does the same with its own lists:
//!
//! | kind | understood for writing |
//! |---|---|
//! | incompat | `filetype`, `flex_bg` |
//! | ro_compat | `sparse_super`, `large_file`, `dir_nlink`, `extra_isize` |
//! | compat | all but `lazy_bg` (uninitialised groups), which makes the image read-only |
//!
//! Compatible features that need care when writing are honoured:
//! `dir_index` (a directory that is changed loses its hash index flag,
//! so the linear entries stay authoritative), `ext_attr` (deleting a
//! file drops its reference to a shared attribute block),
//! `resize_inode` and `has_journal` (their inodes and blocks are left
//! alone; an image whose journal needs recovery carries the incompatible
//! `needs_recovery` flag and is refused).

pub const COMPAT_DIR_PREALLOC: u32 = 0x0001;
pub const COMPAT_IMAGIC_INODES: u32 = 0x0002;
pub const COMPAT_HAS_JOURNAL: u32 = 0x0004;
pub const COMPAT_EXT_ATTR: u32 = 0x0008;
pub const COMPAT_RESIZE_INODE: u32 = 0x0010;
pub const COMPAT_DIR_INDEX: u32 = 0x0020;
pub const COMPAT_LAZY_BG: u32 = 0x0040;

pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
pub const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
pub const RO_COMPAT_HUGE_FILE: u32 = 0x0008;
pub const RO_COMPAT_DIR_NLINK: u32 = 0x0020;
pub const RO_COMPAT_EXTRA_ISIZE: u32 = 0x0040;

pub const INCOMPAT_FILETYPE: u32 = 0x0002;
pub const INCOMPAT_RECOVER: u32 = 0x0004;
pub const INCOMPAT_EXTENTS: u32 = 0x0040;
pub const INCOMPAT_64BIT: u32 = 0x0080;
pub const INCOMPAT_FLEX_BG: u32 = 0x0200;

/// Incompatible features this implementation understands.
pub const INCOMPAT_SUPP: u32 = INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG;
/// Read-only compatible features it can keep right when writing.
pub const RO_COMPAT_SUPP: u32 =
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE;
/// Compatible features that nevertheless keep it from writing.
pub const COMPAT_NOT_WRITABLE: u32 = COMPAT_LAZY_BG;

const COMPAT_NAMES: &[(u32, &str)] = &[
    (0x0001, "dir_prealloc"),
    (0x0002, "imagic_inodes"),
    (0x0004, "has_journal"),
    (0x0008, "ext_attr"),
    (0x0010, "resize_inode"),
    (0x0020, "dir_index"),
    (0x0040, "lazy_bg"),
    (0x0080, "exclude_inode"),
    (0x0100, "exclude_bitmap"),
    (0x0200, "sparse_super2"),
    (0x0400, "fast_commit"),
    (0x0800, "stable_inodes"),
    (0x1000, "orphan_file"),
];

const RO_COMPAT_NAMES: &[(u32, &str)] = &[
    (0x0001, "sparse_super"),
    (0x0002, "large_file"),
    (0x0004, "btree_dir"),
    (0x0008, "huge_file"),
    (0x0010, "uninit_bg"),
    (0x0020, "dir_nlink"),
    (0x0040, "extra_isize"),
    (0x0080, "snapshot"),
    (0x0100, "quota"),
    (0x0200, "bigalloc"),
    (0x0400, "metadata_csum"),
    (0x0800, "replica"),
    (0x1000, "read-only"),
    (0x2000, "project"),
    (0x4000, "shared_blocks"),
    (0x8000, "verity"),
    (0x10000, "orphan_present"),
];

const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x0001, "compression"),
    (0x0002, "filetype"),
    (0x0004, "needs_recovery"),
    (0x0008, "journal_dev"),
    (0x0010, "meta_bg"),
    (0x0040, "extent"),
    (0x0080, "64bit"),
    (0x0100, "mmp"),
    (0x0200, "flex_bg"),
    (0x0400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

/// The names of the bits set in `mask`, e2fsprogs' names where known
/// (`<kind>_0x<bit>` otherwise).
pub fn names(kind: &str, mask: u32) -> Vec<String> {
    let table = match kind {
        "compat" => COMPAT_NAMES,
        "ro_compat" => RO_COMPAT_NAMES,
        _ => INCOMPAT_NAMES,
    };
    (0..32)
        .map(|i| 1u32 << i)
        .filter(|bit| mask & bit != 0)
        .map(|bit| match table.iter().find(|(b, _)| *b == bit) {
            Some((_, n)) => (*n).to_string(),
            None => format!("{kind}_{bit:#x}"),
        })
        .collect()
}

/// The feature words of a superblock (all zero for revision 0, which
/// has none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
}

/// What an image's features allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Mountable for reading and writing.
    ReadWrite,
    /// Mountable only read-only, because of the features named.
    ReadOnly(Vec<String>),
    /// Not mountable, because of the features named.
    Refused(Vec<String>),
}

impl Features {
    pub fn has_compat(&self, bit: u32) -> bool {
        self.compat & bit != 0
    }

    pub fn has_ro_compat(&self, bit: u32) -> bool {
        self.ro_compat & bit != 0
    }

    pub fn has_incompat(&self, bit: u32) -> bool {
        self.incompat & bit != 0
    }

    /// What the features allow.
    pub fn verdict(&self) -> Verdict {
        let refused = self.incompat & !INCOMPAT_SUPP;
        if refused != 0 {
            return Verdict::Refused(names("incompat", refused));
        }
        let ro = self.ro_compat & !RO_COMPAT_SUPP;
        let compat_ro = self.compat & COMPAT_NOT_WRITABLE;
        if ro != 0 || compat_ro != 0 {
            let mut n = names("ro_compat", ro);
            n.extend(names("compat", compat_ro));
            return Verdict::ReadOnly(n);
        }
        Verdict::ReadWrite
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let ext2 = Features {
            compat: COMPAT_EXT_ATTR | COMPAT_RESIZE_INODE | COMPAT_DIR_INDEX,
            incompat: INCOMPAT_FILETYPE,
            ro_compat: RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE,
        };
        assert_eq!(ext2.verdict(), Verdict::ReadWrite);
        let ext3 = Features {
            compat: ext2.compat | COMPAT_HAS_JOURNAL,
            ..ext2
        };
        assert_eq!(ext3.verdict(), Verdict::ReadWrite);
        let dirty = Features {
            incompat: ext3.incompat | INCOMPAT_RECOVER,
            ..ext3
        };
        assert_eq!(
            dirty.verdict(),
            Verdict::Refused(vec!["needs_recovery".into()])
        );
        let ext4 = Features {
            incompat: INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG,
            ..ext2
        };
        assert_eq!(
            ext4.verdict(),
            Verdict::Refused(vec!["extent".into(), "64bit".into()])
        );
        let huge = Features {
            ro_compat: ext2.ro_compat | RO_COMPAT_HUGE_FILE | 0x0400,
            ..ext2
        };
        assert_eq!(
            huge.verdict(),
            Verdict::ReadOnly(vec!["huge_file".into(), "metadata_csum".into()])
        );
        let lazy = Features {
            compat: COMPAT_LAZY_BG,
            ..ext2
        };
        assert_eq!(lazy.verdict(), Verdict::ReadOnly(vec!["lazy_bg".into()]));
        assert_eq!(
            names("incompat", 0x4_0000),
            vec!["incompat_0x40000".to_string()]
        );
    }
}
