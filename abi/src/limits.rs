//! Kernel limits of NetBSD amd64 that clients can observe.

/// Longest path, NUL included: the copyinstr bound of every path argument.
pub const MAXPATHLEN: usize = 1024;
/// Generic bound on one path component.
pub const MAXNAMLEN: usize = 511;
/// What tmpfs and rumpfs accept for one path component.
pub const NAME_MAX_FS: usize = 255;
/// Longest process name kept by the kernel.
pub const MAXCOMLEN: usize = 16;
/// Longest host name, NUL included.
pub const MAXHOSTNAMELEN: usize = 256;
/// Most iovecs in one readv/writev.
pub const IOV_MAX: usize = 1024;
/// Most sysctl MIB levels.
pub const CTL_MAXNAME: usize = 12;
/// Page size.
pub const PAGE_SIZE: usize = 4096;
/// Largest single I/O transfer of the kernel.
pub const MAXPHYS: usize = 65536;
/// Disk block unit.
pub const DEV_BSIZE: usize = 512;
/// Most CPUs a kernel supports (MAXCPUS on amd64).
pub const MAXCPUS: usize = 256;
/// Buffer size for atomic pipe writes.
pub const PIPE_BUF: usize = 512;
