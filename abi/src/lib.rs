//! The NetBSD amd64 syscall ABI as a rump kernel speaks it: errno values,
//! syscall numbers, flag constants and the byte layouts of the structures
//! that travel between a client and the kernel.
//!
//! Everything here is a fact about NetBSD 7.99.34 (the rump kernel tree
//! that sysproxy clients are built from), written down once so that the
//! server, its plugins and its clients agree. Layouts are encoded and
//! decoded explicitly in little-endian byte order; nothing depends on the
//! host's own struct layout.
#![deny(unsafe_code)]

pub mod bytes;
pub mod dirent;
pub mod errno;
pub mod fcntl;
pub mod ioctl;
pub mod limits;
pub mod modctl;
pub mod mount;
pub mod reboot;
pub mod stat;
pub mod statvfs;
pub mod sysctl;
pub mod sysno;

pub use errno::Errno;
