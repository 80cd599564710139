//! ioctl(2) command encoding and the commands the kernel core answers.

pub const IOCPARM_MASK: u64 = 0x1fff;
pub const IOCPARM_MAX: usize = 4096;
pub const IOC_VOID: u64 = 0x2000_0000;
pub const IOC_OUT: u64 = 0x4000_0000;
pub const IOC_IN: u64 = 0x8000_0000;
pub const IOC_INOUT: u64 = IOC_IN | IOC_OUT;
pub const IOC_DIRMASK: u64 = 0xe000_0000;

/// Builds an ioctl command word.
pub const fn ioc(dir: u64, group: u8, num: u8, len: usize) -> u64 {
    dir | (((len as u64) & IOCPARM_MASK) << 16) | ((group as u64) << 8) | num as u64
}

/// The parameter length encoded in a command.
pub const fn parm_len(cmd: u64) -> usize {
    ((cmd >> 16) & IOCPARM_MASK) as usize
}

/// Size of `struct termios` on NetBSD amd64.
pub const TERMIOS_SIZE: usize = 44;

/// `_IO('f', 1)`: set close-on-exec.
pub const FIOCLEX: u64 = ioc(IOC_VOID, b'f', 1, 0);
/// `_IO('f', 2)`: clear close-on-exec.
pub const FIONCLEX: u64 = ioc(IOC_VOID, b'f', 2, 0);
/// `_IOR('f', 127, int)`: bytes ready to read.
pub const FIONREAD: u64 = ioc(IOC_OUT, b'f', 127, 4);
/// `_IOW('f', 126, int)`: set or clear non-blocking I/O.
pub const FIONBIO: u64 = ioc(IOC_IN, b'f', 126, 4);
/// `_IOW('f', 125, int)`: set or clear asynchronous I/O.
pub const FIOASYNC: u64 = ioc(IOC_IN, b'f', 125, 4);
/// `_IOR('t', 19, struct termios)`: get terminal attributes.
pub const TIOCGETA: u64 = ioc(IOC_OUT, b't', 19, TERMIOS_SIZE);
/// `_IOR('d', 132, off_t)`: media size of a disk in bytes.
pub const DIOCGMEDIASIZE: u64 = ioc(IOC_OUT, b'd', 132, 8);
/// `_IOW('d', 118, int)`: flush a disk's write cache.
pub const DIOCCACHESYNC: u64 = ioc(IOC_IN, b'd', 118, 4);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_netbsd() {
        assert_eq!(DIOCGMEDIASIZE, 0x4008_6484);
        assert_eq!(DIOCCACHESYNC, 0x8004_6476);
        assert_eq!(FIOCLEX, 0x2000_6601);
        assert_eq!(TIOCGETA, 0x402c_7413);
        assert_eq!(parm_len(TIOCGETA), 44);
    }
}
