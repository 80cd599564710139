//! `struct stat` (the `__stat50` layout), `struct timespec`, `struct
//! timeval`, file mode bits and device numbers.

use crate::bytes::{Reader, Writer};

pub const S_IFMT: u32 = 0o170000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFWHT: u32 = 0o160000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISTXT: u32 = 0o1000;
pub const ALLPERMS: u32 = 0o7777;
pub const ACCESSPERMS: u32 = 0o777;
pub const DEFFILEMODE: u32 = 0o666;

/// The "no device" value of `st_rdev`.
pub const NODEV: u64 = u64::MAX;

/// `makedev(major, minor)` as NetBSD encodes it.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma << 8) & 0x000f_ff00) | ((mi << 12) & 0xfff0_0000) | (mi & 0xff)
}

/// The major number of a device.
pub const fn major(dev: u64) -> u32 {
    ((dev & 0x000f_ff00) >> 8) as u32
}

/// The minor number of a device.
pub const fn minor(dev: u64) -> u32 {
    (((dev & 0xfff0_0000) >> 12) | (dev & 0xff)) as u32
}

/// A point in time: seconds and nanoseconds (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "stable-abi", derive(abi_stable::StableAbi))]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub const SIZE: usize = 16;
    /// `tv_nsec` value of utimensat meaning "now".
    pub const UTIME_NOW: i64 = 0x3fff_ffff;
    /// `tv_nsec` value of utimensat meaning "leave alone".
    pub const UTIME_OMIT: i64 = 0x3fff_fffe;

    /// The host's current wall-clock time.
    pub fn now() -> Timespec {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos() as i64,
        }
    }

    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        Writer::new(&mut b).i64(0, self.sec).i64(8, self.nsec);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        Timespec {
            sec: r.i64(0),
            nsec: r.i64(8),
        }
    }

    /// Decodes a `struct timeval` (16 bytes, a 4-byte `tv_usec`).
    pub fn decode_timeval(b: &[u8]) -> Self {
        let r = Reader::new(b);
        Timespec {
            sec: r.i64(0),
            nsec: r.i32(8) as i64 * 1000,
        }
    }

    /// Encodes as a `struct timeval`, padding zeroed.
    pub fn encode_timeval(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        Writer::new(&mut b)
            .i64(0, self.sec)
            .i32(8, (self.nsec / 1000) as i32);
        b
    }
}

/// `struct stat` in NetBSD's `__stat50` layout (152 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "stable-abi", derive(abi_stable::StableAbi))]
pub struct Stat {
    pub dev: u64,
    pub mode: u32,
    pub ino: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub birthtime: Timespec,
    pub size: i64,
    pub blocks: i64,
    pub blksize: i32,
    pub flags: u32,
    pub gen: u32,
}

impl Stat {
    pub const SIZE: usize = 152;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b)
            .u64(0, self.dev)
            .u32(8, self.mode)
            .u64(16, self.ino)
            .u32(24, self.nlink)
            .u32(28, self.uid)
            .u32(32, self.gid)
            .u64(40, self.rdev)
            .bytes(48, &self.atime.encode())
            .bytes(64, &self.mtime.encode())
            .bytes(80, &self.ctime.encode())
            .bytes(96, &self.birthtime.encode())
            .i64(112, self.size)
            .i64(120, self.blocks)
            .i32(128, self.blksize)
            .u32(132, self.flags)
            .u32(136, self.gen);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        Stat {
            dev: r.u64(0),
            mode: r.u32(8),
            ino: r.u64(16),
            nlink: r.u32(24),
            uid: r.u32(28),
            gid: r.u32(32),
            rdev: r.u64(40),
            atime: Timespec::decode(&b[48..64]),
            mtime: Timespec::decode(&b[64..80]),
            ctime: Timespec::decode(&b[80..96]),
            birthtime: Timespec::decode(&b[96..112]),
            size: r.i64(112),
            blocks: r.i64(120),
            blksize: r.i32(128),
            flags: r.u32(132),
            gen: r.u32(136),
        }
    }

    /// The file type bits of `mode`.
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_offsets() {
        let s = Stat {
            mode: S_IFREG | 0o640,
            nlink: 2,
            uid: 1234,
            gid: 5678,
            size: 5000,
            atime: Timespec {
                sec: 1_000_000_001,
                nsec: 111_111_000,
            },
            rdev: NODEV,
            ..Stat::default()
        };
        let b = s.encode();
        assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 0o100640);
        assert_eq!(u32::from_le_bytes(b[28..32].try_into().unwrap()), 1234);
        assert_eq!(i64::from_le_bytes(b[112..120].try_into().unwrap()), 5000);
        assert_eq!(
            i64::from_le_bytes(b[56..64].try_into().unwrap()),
            111_111_000
        );
        assert_eq!(&b[148..152], &[0; 4]);
        assert_eq!(Stat::decode(&b), s);
    }

    #[test]
    fn device_numbers() {
        assert_eq!(makedev(2, 2), 0x202);
        assert_eq!(makedev(2, 12), 0x20c);
        assert_eq!(makedev(3, 5), 0x305);
        let d = makedev(197, 0x12345);
        assert_eq!((major(d), minor(d)), (197, 0x12345));
    }
}
