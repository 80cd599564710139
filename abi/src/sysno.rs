//! NetBSD syscall numbers (syscalls.master rev 1.285), with the component
//! that provides each one in a rump kernel and its argument count.
//!
//! A number absent from [`TABLE`] has no RUMP entry in NetBSD: a rump
//! kernel answers it with ENOSYS.
#![allow(missing_docs)]

/// Which part of a rump kernel serves a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The kernel core, always present.
    Kern,
    /// The VFS faction (librumpvfs).
    Vfs,
    /// The networking faction (librumpnet).
    Net,
    /// A kernel module (ksem, aio, nfsserver).
    Module,
    /// The compat_50 module.
    Compat,
}

/// One syscall: number, NetBSD name, provider, number of argument slots.
#[derive(Clone, Copy, Debug)]
pub struct SyscallInfo {
    pub num: i32,
    pub name: &'static str,
    pub provider: Provider,
    pub nargs: usize,
}

/// Looks a syscall up by number.
pub fn info(num: i32) -> Option<SyscallInfo> {
    TABLE.binary_search_by_key(&num, |e| e.0).ok().map(|i| {
        let (num, name, provider, nargs) = TABLE[i];
        SyscallInfo {
            num,
            name,
            provider,
            nargs,
        }
    })
}

/// The NetBSD name of a syscall number, if it has a RUMP entry.
pub fn name(num: i32) -> Option<&'static str> {
    info(num).map(|i| i.name)
}

/// Looks a syscall number up by its NetBSD name.
pub fn by_name(name: &str) -> Option<i32> {
    TABLE.iter().find(|e| e.1 == name).map(|e| e.0)
}

/// The number of syscall slots in NetBSD's table (SYS_NSYSENT).
pub const NSYSENT: i32 = 512;

/// Every RUMP-flagged syscall, sorted by number.
pub const TABLE: &[(i32, &str, Provider, usize)] = &[
    (3, "read", Provider::Kern, 3),
    (4, "write", Provider::Kern, 3),
    (5, "open", Provider::Vfs, 3),
    (6, "close", Provider::Kern, 1),
    (9, "link", Provider::Vfs, 2),
    (10, "unlink", Provider::Vfs, 1),
    (12, "chdir", Provider::Vfs, 1),
    (13, "fchdir", Provider::Vfs, 1),
    (14, "compat_50_mknod", Provider::Compat, 3),
    (15, "chmod", Provider::Vfs, 2),
    (16, "chown", Provider::Vfs, 3),
    (20, "getpid", Provider::Kern, 0),
    (22, "unmount", Provider::Vfs, 2),
    (23, "setuid", Provider::Kern, 1),
    (24, "getuid", Provider::Kern, 0),
    (25, "geteuid", Provider::Kern, 0),
    (27, "recvmsg", Provider::Net, 3),
    (28, "sendmsg", Provider::Net, 3),
    (29, "recvfrom", Provider::Net, 6),
    (30, "accept", Provider::Net, 3),
    (31, "getpeername", Provider::Net, 3),
    (32, "getsockname", Provider::Net, 3),
    (33, "access", Provider::Vfs, 2),
    (34, "chflags", Provider::Vfs, 2),
    (35, "fchflags", Provider::Vfs, 2),
    (36, "sync", Provider::Vfs, 0),
    (39, "getppid", Provider::Kern, 0),
    (41, "dup", Provider::Kern, 1),
    (42, "pipe", Provider::Kern, 0),
    (43, "getegid", Provider::Kern, 0),
    (45, "ktrace", Provider::Vfs, 4),
    (47, "getgid", Provider::Kern, 0),
    (49, "__getlogin", Provider::Kern, 2),
    (50, "__setlogin", Provider::Kern, 1),
    (54, "ioctl", Provider::Kern, 3),
    (56, "revoke", Provider::Vfs, 1),
    (57, "symlink", Provider::Vfs, 2),
    (58, "readlink", Provider::Vfs, 3),
    (60, "umask", Provider::Vfs, 1),
    (61, "chroot", Provider::Vfs, 1),
    (79, "getgroups", Provider::Kern, 2),
    (80, "setgroups", Provider::Kern, 2),
    (81, "getpgrp", Provider::Kern, 0),
    (82, "setpgid", Provider::Kern, 2),
    (90, "dup2", Provider::Kern, 2),
    (92, "fcntl", Provider::Kern, 3),
    (93, "compat_50_select", Provider::Compat, 5),
    (95, "fsync", Provider::Vfs, 1),
    (98, "connect", Provider::Net, 3),
    (104, "bind", Provider::Net, 3),
    (105, "setsockopt", Provider::Net, 5),
    (106, "listen", Provider::Net, 2),
    (118, "getsockopt", Provider::Net, 5),
    (120, "readv", Provider::Kern, 3),
    (121, "writev", Provider::Kern, 3),
    (123, "fchown", Provider::Vfs, 3),
    (124, "fchmod", Provider::Vfs, 2),
    (126, "setreuid", Provider::Kern, 2),
    (127, "setregid", Provider::Kern, 2),
    (128, "rename", Provider::Vfs, 2),
    (131, "flock", Provider::Kern, 2),
    (132, "mkfifo", Provider::Vfs, 2),
    (133, "sendto", Provider::Net, 6),
    (134, "shutdown", Provider::Net, 2),
    (135, "socketpair", Provider::Net, 4),
    (136, "mkdir", Provider::Vfs, 2),
    (137, "rmdir", Provider::Vfs, 1),
    (138, "compat_50_utimes", Provider::Compat, 2),
    (147, "setsid", Provider::Kern, 0),
    (155, "nfssvc", Provider::Module, 2),
    (173, "pread", Provider::Vfs, 5),
    (174, "pwrite", Provider::Vfs, 5),
    (181, "setgid", Provider::Kern, 1),
    (182, "setegid", Provider::Kern, 1),
    (183, "seteuid", Provider::Kern, 1),
    (191, "pathconf", Provider::Vfs, 2),
    (192, "fpathconf", Provider::Kern, 2),
    (194, "getrlimit", Provider::Kern, 2),
    (195, "setrlimit", Provider::Kern, 2),
    (199, "lseek", Provider::Vfs, 4),
    (200, "truncate", Provider::Vfs, 3),
    (201, "ftruncate", Provider::Vfs, 3),
    (202, "__sysctl", Provider::Kern, 6),
    (206, "compat_50_futimes", Provider::Compat, 2),
    (207, "getpgid", Provider::Kern, 1),
    (208, "reboot", Provider::Kern, 2),
    (209, "poll", Provider::Kern, 3),
    (235, "timer_create", Provider::Kern, 3),
    (236, "timer_delete", Provider::Kern, 1),
    (239, "timer_getoverrun", Provider::Kern, 1),
    (241, "fdatasync", Provider::Vfs, 1),
    (246, "modctl", Provider::Kern, 2),
    (247, "_ksem_init", Provider::Module, 2),
    (248, "_ksem_open", Provider::Module, 5),
    (249, "_ksem_unlink", Provider::Module, 1),
    (250, "_ksem_close", Provider::Module, 1),
    (251, "_ksem_post", Provider::Module, 1),
    (252, "_ksem_wait", Provider::Module, 1),
    (253, "_ksem_trywait", Provider::Module, 1),
    (254, "_ksem_getvalue", Provider::Module, 2),
    (255, "_ksem_destroy", Provider::Module, 1),
    (256, "_ksem_timedwait", Provider::Module, 2),
    (270, "__posix_rename", Provider::Vfs, 2),
    (274, "lchmod", Provider::Vfs, 2),
    (275, "lchown", Provider::Vfs, 3),
    (276, "compat_50_lutimes", Provider::Compat, 2),
    (283, "__posix_chown", Provider::Vfs, 3),
    (284, "__posix_fchown", Provider::Vfs, 3),
    (285, "__posix_lchown", Provider::Vfs, 3),
    (286, "getsid", Provider::Kern, 1),
    (288, "fktrace", Provider::Kern, 4),
    (289, "preadv", Provider::Vfs, 5),
    (290, "pwritev", Provider::Vfs, 5),
    (296, "__getcwd", Provider::Vfs, 2),
    (297, "fchroot", Provider::Vfs, 1),
    (304, "lchflags", Provider::Vfs, 2),
    (305, "issetugid", Provider::Kern, 0),
    (306, "utrace", Provider::Kern, 3),
    (344, "kqueue", Provider::Kern, 0),
    (345, "compat_50_kevent", Provider::Compat, 6),
    (354, "fsync_range", Provider::Vfs, 4),
    (356, "getvfsstat", Provider::Vfs, 3),
    (357, "statvfs1", Provider::Vfs, 3),
    (358, "fstatvfs1", Provider::Vfs, 3),
    (360, "extattrctl", Provider::Vfs, 5),
    (361, "extattr_set_file", Provider::Vfs, 5),
    (362, "extattr_get_file", Provider::Vfs, 5),
    (363, "extattr_delete_file", Provider::Vfs, 3),
    (364, "extattr_set_fd", Provider::Vfs, 5),
    (365, "extattr_get_fd", Provider::Vfs, 5),
    (366, "extattr_delete_fd", Provider::Vfs, 3),
    (367, "extattr_set_link", Provider::Vfs, 5),
    (368, "extattr_get_link", Provider::Vfs, 5),
    (369, "extattr_delete_link", Provider::Vfs, 3),
    (370, "extattr_list_fd", Provider::Vfs, 4),
    (371, "extattr_list_file", Provider::Vfs, 4),
    (372, "extattr_list_link", Provider::Vfs, 4),
    (373, "compat_50_pselect", Provider::Compat, 6),
    (374, "compat_50_pollts", Provider::Compat, 4),
    (375, "setxattr", Provider::Vfs, 5),
    (376, "lsetxattr", Provider::Vfs, 5),
    (377, "fsetxattr", Provider::Vfs, 5),
    (378, "getxattr", Provider::Vfs, 4),
    (379, "lgetxattr", Provider::Vfs, 4),
    (380, "fgetxattr", Provider::Vfs, 4),
    (381, "listxattr", Provider::Vfs, 3),
    (382, "llistxattr", Provider::Vfs, 3),
    (383, "flistxattr", Provider::Vfs, 3),
    (384, "removexattr", Provider::Vfs, 2),
    (385, "lremovexattr", Provider::Vfs, 2),
    (386, "fremovexattr", Provider::Vfs, 2),
    (387, "compat_50_stat30", Provider::Compat, 2),
    (388, "compat_50_fstat30", Provider::Compat, 2),
    (389, "compat_50_lstat30", Provider::Compat, 2),
    (390, "__getdents30", Provider::Vfs, 3),
    (394, "__socket30", Provider::Net, 3),
    (395, "__getfh30", Provider::Vfs, 3),
    (396, "__fhopen40", Provider::Vfs, 3),
    (397, "__fhstatvfs140", Provider::Vfs, 4),
    (398, "compat_50_fhstat40", Provider::Compat, 3),
    (399, "aio_cancel", Provider::Module, 2),
    (400, "aio_error", Provider::Module, 1),
    (401, "aio_fsync", Provider::Module, 2),
    (402, "aio_read", Provider::Module, 1),
    (403, "aio_return", Provider::Module, 1),
    (405, "aio_write", Provider::Module, 1),
    (406, "lio_listio", Provider::Module, 4),
    (410, "__mount50", Provider::Vfs, 5),
    (416, "__posix_fadvise50", Provider::Kern, 5),
    (417, "__select50", Provider::Kern, 5),
    (418, "__gettimeofday50", Provider::Kern, 2),
    (419, "__settimeofday50", Provider::Kern, 2),
    (420, "__utimes50", Provider::Vfs, 2),
    (421, "__adjtime50", Provider::Kern, 2),
    (423, "__futimes50", Provider::Vfs, 2),
    (424, "__lutimes50", Provider::Vfs, 2),
    (425, "__setitimer50", Provider::Kern, 3),
    (426, "__getitimer50", Provider::Kern, 2),
    (427, "__clock_gettime50", Provider::Kern, 2),
    (428, "__clock_settime50", Provider::Kern, 2),
    (429, "__clock_getres50", Provider::Kern, 2),
    (430, "__nanosleep50", Provider::Kern, 2),
    (435, "__kevent50", Provider::Kern, 6),
    (436, "__pselect50", Provider::Kern, 6),
    (437, "__pollts50", Provider::Kern, 4),
    (438, "__aio_suspend50", Provider::Module, 3),
    (439, "__stat50", Provider::Vfs, 2),
    (440, "__fstat50", Provider::Kern, 2),
    (441, "__lstat50", Provider::Vfs, 2),
    (446, "__timer_settime50", Provider::Kern, 4),
    (447, "__timer_gettime50", Provider::Kern, 2),
    (450, "__mknod50", Provider::Vfs, 3),
    (451, "__fhstat50", Provider::Vfs, 3),
    (453, "pipe2", Provider::Kern, 2),
    (454, "dup3", Provider::Kern, 3),
    (455, "kqueue1", Provider::Kern, 1),
    (456, "paccept", Provider::Net, 5),
    (457, "linkat", Provider::Vfs, 5),
    (458, "renameat", Provider::Vfs, 4),
    (459, "mkfifoat", Provider::Vfs, 3),
    (460, "mknodat", Provider::Vfs, 5),
    (461, "mkdirat", Provider::Vfs, 3),
    (462, "faccessat", Provider::Vfs, 4),
    (463, "fchmodat", Provider::Vfs, 4),
    (464, "fchownat", Provider::Vfs, 5),
    (466, "fstatat", Provider::Vfs, 4),
    (467, "utimensat", Provider::Vfs, 4),
    (468, "openat", Provider::Vfs, 4),
    (469, "readlinkat", Provider::Vfs, 4),
    (470, "symlinkat", Provider::Vfs, 3),
    (471, "unlinkat", Provider::Vfs, 3),
    (472, "futimens", Provider::Vfs, 2),
    (473, "__quotactl", Provider::Vfs, 2),
    (475, "recvmmsg", Provider::Net, 5),
    (476, "sendmmsg", Provider::Net, 4),
    (477, "clock_nanosleep", Provider::Kern, 4),
    (479, "posix_fallocate", Provider::Vfs, 4),
    (480, "fdiscard", Provider::Vfs, 4),
];

pub const READ: i32 = 3;
pub const WRITE: i32 = 4;
pub const OPEN: i32 = 5;
pub const CLOSE: i32 = 6;
pub const LINK: i32 = 9;
pub const UNLINK: i32 = 10;
pub const CHDIR: i32 = 12;
pub const FCHDIR: i32 = 13;
pub const COMPAT_50_MKNOD: i32 = 14;
pub const CHMOD: i32 = 15;
pub const CHOWN: i32 = 16;
pub const GETPID: i32 = 20;
pub const UNMOUNT: i32 = 22;
pub const SETUID: i32 = 23;
pub const GETUID: i32 = 24;
pub const GETEUID: i32 = 25;
pub const RECVMSG: i32 = 27;
pub const SENDMSG: i32 = 28;
pub const RECVFROM: i32 = 29;
pub const ACCEPT: i32 = 30;
pub const GETPEERNAME: i32 = 31;
pub const GETSOCKNAME: i32 = 32;
pub const ACCESS: i32 = 33;
pub const CHFLAGS: i32 = 34;
pub const FCHFLAGS: i32 = 35;
pub const SYNC: i32 = 36;
pub const GETPPID: i32 = 39;
pub const DUP: i32 = 41;
pub const PIPE: i32 = 42;
pub const GETEGID: i32 = 43;
pub const KTRACE: i32 = 45;
pub const GETGID: i32 = 47;
pub const GETLOGIN: i32 = 49;
pub const SETLOGIN: i32 = 50;
pub const IOCTL: i32 = 54;
pub const REVOKE: i32 = 56;
pub const SYMLINK: i32 = 57;
pub const READLINK: i32 = 58;
pub const UMASK: i32 = 60;
pub const CHROOT: i32 = 61;
pub const GETGROUPS: i32 = 79;
pub const SETGROUPS: i32 = 80;
pub const GETPGRP: i32 = 81;
pub const SETPGID: i32 = 82;
pub const DUP2: i32 = 90;
pub const FCNTL: i32 = 92;
pub const COMPAT_50_SELECT: i32 = 93;
pub const FSYNC: i32 = 95;
pub const CONNECT: i32 = 98;
pub const BIND: i32 = 104;
pub const SETSOCKOPT: i32 = 105;
pub const LISTEN: i32 = 106;
pub const GETSOCKOPT: i32 = 118;
pub const READV: i32 = 120;
pub const WRITEV: i32 = 121;
pub const FCHOWN: i32 = 123;
pub const FCHMOD: i32 = 124;
pub const SETREUID: i32 = 126;
pub const SETREGID: i32 = 127;
pub const RENAME: i32 = 128;
pub const FLOCK: i32 = 131;
pub const MKFIFO: i32 = 132;
pub const SENDTO: i32 = 133;
pub const SHUTDOWN: i32 = 134;
pub const SOCKETPAIR: i32 = 135;
pub const MKDIR: i32 = 136;
pub const RMDIR: i32 = 137;
pub const COMPAT_50_UTIMES: i32 = 138;
pub const SETSID: i32 = 147;
pub const NFSSVC: i32 = 155;
pub const PREAD: i32 = 173;
pub const PWRITE: i32 = 174;
pub const SETGID: i32 = 181;
pub const SETEGID: i32 = 182;
pub const SETEUID: i32 = 183;
pub const PATHCONF: i32 = 191;
pub const FPATHCONF: i32 = 192;
pub const GETRLIMIT: i32 = 194;
pub const SETRLIMIT: i32 = 195;
pub const LSEEK: i32 = 199;
pub const TRUNCATE: i32 = 200;
pub const FTRUNCATE: i32 = 201;
pub const SYSCTL: i32 = 202;
pub const COMPAT_50_FUTIMES: i32 = 206;
pub const GETPGID: i32 = 207;
pub const REBOOT: i32 = 208;
pub const POLL: i32 = 209;
pub const TIMER_CREATE: i32 = 235;
pub const TIMER_DELETE: i32 = 236;
pub const TIMER_GETOVERRUN: i32 = 239;
pub const FDATASYNC: i32 = 241;
pub const MODCTL: i32 = 246;
pub const KSEM_INIT: i32 = 247;
pub const KSEM_OPEN: i32 = 248;
pub const KSEM_UNLINK: i32 = 249;
pub const KSEM_CLOSE: i32 = 250;
pub const KSEM_POST: i32 = 251;
pub const KSEM_WAIT: i32 = 252;
pub const KSEM_TRYWAIT: i32 = 253;
pub const KSEM_GETVALUE: i32 = 254;
pub const KSEM_DESTROY: i32 = 255;
pub const KSEM_TIMEDWAIT: i32 = 256;
pub const POSIX_RENAME: i32 = 270;
pub const LCHMOD: i32 = 274;
pub const LCHOWN: i32 = 275;
pub const COMPAT_50_LUTIMES: i32 = 276;
pub const POSIX_CHOWN: i32 = 283;
pub const POSIX_FCHOWN: i32 = 284;
pub const POSIX_LCHOWN: i32 = 285;
pub const GETSID: i32 = 286;
pub const FKTRACE: i32 = 288;
pub const PREADV: i32 = 289;
pub const PWRITEV: i32 = 290;
pub const GETCWD: i32 = 296;
pub const FCHROOT: i32 = 297;
pub const LCHFLAGS: i32 = 304;
pub const ISSETUGID: i32 = 305;
pub const UTRACE: i32 = 306;
pub const KQUEUE: i32 = 344;
pub const COMPAT_50_KEVENT: i32 = 345;
pub const FSYNC_RANGE: i32 = 354;
pub const GETVFSSTAT: i32 = 356;
pub const STATVFS1: i32 = 357;
pub const FSTATVFS1: i32 = 358;
pub const EXTATTRCTL: i32 = 360;
pub const EXTATTR_SET_FILE: i32 = 361;
pub const EXTATTR_GET_FILE: i32 = 362;
pub const EXTATTR_DELETE_FILE: i32 = 363;
pub const EXTATTR_SET_FD: i32 = 364;
pub const EXTATTR_GET_FD: i32 = 365;
pub const EXTATTR_DELETE_FD: i32 = 366;
pub const EXTATTR_SET_LINK: i32 = 367;
pub const EXTATTR_GET_LINK: i32 = 368;
pub const EXTATTR_DELETE_LINK: i32 = 369;
pub const EXTATTR_LIST_FD: i32 = 370;
pub const EXTATTR_LIST_FILE: i32 = 371;
pub const EXTATTR_LIST_LINK: i32 = 372;
pub const COMPAT_50_PSELECT: i32 = 373;
pub const COMPAT_50_POLLTS: i32 = 374;
pub const SETXATTR: i32 = 375;
pub const LSETXATTR: i32 = 376;
pub const FSETXATTR: i32 = 377;
pub const GETXATTR: i32 = 378;
pub const LGETXATTR: i32 = 379;
pub const FGETXATTR: i32 = 380;
pub const LISTXATTR: i32 = 381;
pub const LLISTXATTR: i32 = 382;
pub const FLISTXATTR: i32 = 383;
pub const REMOVEXATTR: i32 = 384;
pub const LREMOVEXATTR: i32 = 385;
pub const FREMOVEXATTR: i32 = 386;
pub const COMPAT_50_STAT30: i32 = 387;
pub const COMPAT_50_FSTAT30: i32 = 388;
pub const COMPAT_50_LSTAT30: i32 = 389;
pub const GETDENTS30: i32 = 390;
pub const SOCKET30: i32 = 394;
pub const GETFH30: i32 = 395;
pub const FHOPEN40: i32 = 396;
pub const FHSTATVFS140: i32 = 397;
pub const COMPAT_50_FHSTAT40: i32 = 398;
pub const AIO_CANCEL: i32 = 399;
pub const AIO_ERROR: i32 = 400;
pub const AIO_FSYNC: i32 = 401;
pub const AIO_READ: i32 = 402;
pub const AIO_RETURN: i32 = 403;
pub const AIO_WRITE: i32 = 405;
pub const LIO_LISTIO: i32 = 406;
pub const MOUNT50: i32 = 410;
pub const POSIX_FADVISE50: i32 = 416;
pub const SELECT50: i32 = 417;
pub const GETTIMEOFDAY50: i32 = 418;
pub const SETTIMEOFDAY50: i32 = 419;
pub const UTIMES50: i32 = 420;
pub const ADJTIME50: i32 = 421;
pub const FUTIMES50: i32 = 423;
pub const LUTIMES50: i32 = 424;
pub const SETITIMER50: i32 = 425;
pub const GETITIMER50: i32 = 426;
pub const CLOCK_GETTIME50: i32 = 427;
pub const CLOCK_SETTIME50: i32 = 428;
pub const CLOCK_GETRES50: i32 = 429;
pub const NANOSLEEP50: i32 = 430;
pub const KEVENT50: i32 = 435;
pub const PSELECT50: i32 = 436;
pub const POLLTS50: i32 = 437;
pub const AIO_SUSPEND50: i32 = 438;
pub const STAT50: i32 = 439;
pub const FSTAT50: i32 = 440;
pub const LSTAT50: i32 = 441;
pub const TIMER_SETTIME50: i32 = 446;
pub const TIMER_GETTIME50: i32 = 447;
pub const MKNOD50: i32 = 450;
pub const FHSTAT50: i32 = 451;
pub const PIPE2: i32 = 453;
pub const DUP3: i32 = 454;
pub const KQUEUE1: i32 = 455;
pub const PACCEPT: i32 = 456;
pub const LINKAT: i32 = 457;
pub const RENAMEAT: i32 = 458;
pub const MKFIFOAT: i32 = 459;
pub const MKNODAT: i32 = 460;
pub const MKDIRAT: i32 = 461;
pub const FACCESSAT: i32 = 462;
pub const FCHMODAT: i32 = 463;
pub const FCHOWNAT: i32 = 464;
pub const FSTATAT: i32 = 466;
pub const UTIMENSAT: i32 = 467;
pub const OPENAT: i32 = 468;
pub const READLINKAT: i32 = 469;
pub const SYMLINKAT: i32 = 470;
pub const UNLINKAT: i32 = 471;
pub const FUTIMENS: i32 = 472;
pub const QUOTACTL: i32 = 473;
pub const RECVMMSG: i32 = 475;
pub const SENDMMSG: i32 = 476;
pub const CLOCK_NANOSLEEP: i32 = 477;
pub const POSIX_FALLOCATE: i32 = 479;
pub const FDISCARD: i32 = 480;
/// Not served by a rump kernel (no RUMP flag), but named for messages.
pub const EXIT: i32 = 1;
/// Not served by a rump kernel (no RUMP flag), but named for messages.
pub const FORK: i32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_consistent() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(name(GETPID), Some("getpid"));
        assert_eq!(info(STAT50).unwrap().nargs, 2);
        assert_eq!(info(LSEEK).unwrap().nargs, 4);
        assert_eq!(info(MOUNT50).unwrap().provider, Provider::Vfs);
        assert_eq!(info(FSTAT50).unwrap().provider, Provider::Kern);
        assert!(info(EXIT).is_none());
        assert!(info(511).is_none());
        assert_eq!(by_name("reboot"), Some(208));
    }
}
