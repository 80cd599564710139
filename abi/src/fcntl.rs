//! open(2) flags, fcntl(2) commands, *at() and access(2) values, lseek
//! whence values, and the kernel's file flags.

pub const O_RDONLY: i32 = 0x0;
pub const O_WRONLY: i32 = 0x1;
pub const O_RDWR: i32 = 0x2;
pub const O_ACCMODE: i32 = 0x3;
pub const O_NONBLOCK: i32 = 0x4;
pub const O_APPEND: i32 = 0x8;
pub const O_SHLOCK: i32 = 0x10;
pub const O_EXLOCK: i32 = 0x20;
pub const O_ASYNC: i32 = 0x40;
pub const O_SYNC: i32 = 0x80;
pub const O_NOFOLLOW: i32 = 0x100;
pub const O_CREAT: i32 = 0x200;
pub const O_TRUNC: i32 = 0x400;
pub const O_EXCL: i32 = 0x800;
pub const O_NOCTTY: i32 = 0x8000;
pub const O_DSYNC: i32 = 0x10000;
pub const O_RSYNC: i32 = 0x20000;
pub const O_ALT_IO: i32 = 0x40000;
pub const O_DIRECT: i32 = 0x80000;
pub const O_DIRECTORY: i32 = 0x200000;
pub const O_CLOEXEC: i32 = 0x400000;
pub const O_SEARCH: i32 = 0x800000;
pub const O_NOSIGPIPE: i32 = 0x1000000;

/// Kernel file flag: open for reading (`FFLAGS(O_RDONLY)`).
pub const FREAD: i32 = 0x1;
/// Kernel file flag: open for writing.
pub const FWRITE: i32 = 0x2;

/// The kernel's file flags for user open flags (`FFLAGS`).
pub const fn fflags(oflags: i32) -> i32 {
    oflags + 1
}

/// The user open flags for kernel file flags (`OFLAGS`).
pub const fn oflags(fflags: i32) -> i32 {
    fflags - 1
}

/// File-status flags that F_SETFL may change (`FCNTLFLAGS`).
pub const FCNTLFLAGS: i32 = O_APPEND
    | O_ASYNC
    | O_SYNC
    | O_NONBLOCK
    | O_DSYNC
    | O_RSYNC
    | O_ALT_IO
    | O_DIRECT
    | O_NOSIGPIPE;

pub const F_DUPFD: i32 = 0;
pub const F_GETFD: i32 = 1;
pub const F_SETFD: i32 = 2;
pub const F_GETFL: i32 = 3;
pub const F_SETFL: i32 = 4;
pub const F_GETOWN: i32 = 5;
pub const F_SETOWN: i32 = 6;
pub const F_GETLK: i32 = 7;
pub const F_SETLK: i32 = 8;
pub const F_SETLKW: i32 = 9;
pub const F_CLOSEM: i32 = 10;
pub const F_MAXFD: i32 = 11;
pub const F_DUPFD_CLOEXEC: i32 = 12;
pub const F_GETNOSIGPIPE: i32 = 13;
pub const F_SETNOSIGPIPE: i32 = 14;

/// Close-on-exec descriptor flag.
pub const FD_CLOEXEC: i32 = 1;

pub const F_RDLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;
pub const F_WRLCK: i16 = 3;

pub const AT_FDCWD: i32 = -100;
pub const AT_EACCESS: i32 = 0x100;
pub const AT_SYMLINK_NOFOLLOW: i32 = 0x200;
pub const AT_SYMLINK_FOLLOW: i32 = 0x400;
pub const AT_REMOVEDIR: i32 = 0x800;

pub const F_OK: i32 = 0;
pub const X_OK: i32 = 1;
pub const W_OK: i32 = 2;
pub const R_OK: i32 = 4;

pub const SEEK_SET: i32 = 0;
pub const SEEK_CUR: i32 = 1;
pub const SEEK_END: i32 = 2;

pub const LOCK_SH: i32 = 1;
pub const LOCK_EX: i32 = 2;
pub const LOCK_NB: i32 = 4;
pub const LOCK_UN: i32 = 8;

/// `struct flock` (24 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "stable-abi", derive(abi_stable::StableAbi))]
#[repr(C)]
pub struct Flock {
    pub start: i64,
    pub len: i64,
    pub pid: i32,
    pub ty: i16,
    pub whence: i16,
}

impl Flock {
    pub const SIZE: usize = 24;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        crate::bytes::Writer::new(&mut b)
            .i64(0, self.start)
            .i64(8, self.len)
            .i32(16, self.pid)
            .u16(20, self.ty as u16)
            .u16(22, self.whence as u16);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = crate::bytes::Reader::new(b);
        Flock {
            start: r.i64(0),
            len: r.i64(8),
            pid: r.i32(16),
            ty: r.u16(20) as i16,
            whence: r.u16(22) as i16,
        }
    }
}

/// pathconf(2) names.
pub const _PC_LINK_MAX: i32 = 1;
pub const _PC_MAX_CANON: i32 = 2;
pub const _PC_MAX_INPUT: i32 = 3;
pub const _PC_NAME_MAX: i32 = 4;
pub const _PC_PATH_MAX: i32 = 5;
pub const _PC_PIPE_BUF: i32 = 6;
pub const _PC_CHOWN_RESTRICTED: i32 = 7;
pub const _PC_NO_TRUNC: i32 = 8;
pub const _PC_VDISABLE: i32 = 9;
pub const _PC_SYNC_IO: i32 = 10;
pub const _PC_FILESIZEBITS: i32 = 11;
pub const _PC_SYMLINK_MAX: i32 = 12;
pub const _PC_2_SYMLINKS: i32 = 13;
pub const _PC_ACL_EXTENDED: i32 = 14;
pub const _PC_MIN_HOLE_SIZE: i32 = 15;
