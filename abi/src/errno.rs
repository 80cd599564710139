//! NetBSD errno values, their names and their messages.
//!
//! `Errno` is the one error type that crosses the plugin boundary and the
//! wire: a positive NetBSD errno number. Its `Display` is NetBSD's own
//! message text, so a client on any host prints what a NetBSD program would.

use std::fmt;

/// A NetBSD errno value (always positive when it denotes an error).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "stable-abi", derive(abi_stable::StableAbi))]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($num:literal $name:ident $msg:literal;)*) => {
        impl Errno {
            $(
                #[doc = $msg]
                pub const $name: Errno = Errno($num);
            )*
        }

        /// `(name, message)` indexed by errno number; entry 0 is unused.
        const TABLE: &[(&str, &str)] = &[
            ("0", "Undefined error: 0"),
            $((stringify!($name), $msg),)*
        ];
    };
}

errnos! {
    1 EPERM "Operation not permitted";
    2 ENOENT "No such file or directory";
    3 ESRCH "No such process";
    4 EINTR "Interrupted system call";
    5 EIO "Input/output error";
    6 ENXIO "Device not configured";
    7 E2BIG "Argument list too long";
    8 ENOEXEC "Exec format error";
    9 EBADF "Bad file descriptor";
    10 ECHILD "No child processes";
    11 EDEADLK "Resource deadlock avoided";
    12 ENOMEM "Cannot allocate memory";
    13 EACCES "Permission denied";
    14 EFAULT "Bad address";
    15 ENOTBLK "Block device required";
    16 EBUSY "Device busy";
    17 EEXIST "File exists";
    18 EXDEV "Cross-device link";
    19 ENODEV "Operation not supported by device";
    20 ENOTDIR "Not a directory";
    21 EISDIR "Is a directory";
    22 EINVAL "Invalid argument";
    23 ENFILE "Too many open files in system";
    24 EMFILE "Too many open files";
    25 ENOTTY "Inappropriate ioctl for device";
    26 ETXTBSY "Text file busy";
    27 EFBIG "File too large";
    28 ENOSPC "No space left on device";
    29 ESPIPE "Illegal seek";
    30 EROFS "Read-only file system";
    31 EMLINK "Too many links";
    32 EPIPE "Broken pipe";
    33 EDOM "Numerical argument out of domain";
    34 ERANGE "Result too large or too small";
    35 EAGAIN "Resource temporarily unavailable";
    36 EINPROGRESS "Operation now in progress";
    37 EALREADY "Operation already in progress";
    38 ENOTSOCK "Socket operation on non-socket";
    39 EDESTADDRREQ "Destination address required";
    40 EMSGSIZE "Message too long";
    41 EPROTOTYPE "Protocol wrong type for socket";
    42 ENOPROTOOPT "Protocol option not available";
    43 EPROTONOSUPPORT "Protocol not supported";
    44 ESOCKTNOSUPPORT "Socket type not supported";
    45 EOPNOTSUPP "Operation not supported";
    46 EPFNOSUPPORT "Protocol family not supported";
    47 EAFNOSUPPORT "Address family not supported by protocol family";
    48 EADDRINUSE "Address already in use";
    49 EADDRNOTAVAIL "Can't assign requested address";
    50 ENETDOWN "Network is down";
    51 ENETUNREACH "Network is unreachable";
    52 ENETRESET "Network dropped connection on reset";
    53 ECONNABORTED "Software caused connection abort";
    54 ECONNRESET "Connection reset by peer";
    55 ENOBUFS "No buffer space available";
    56 EISCONN "Socket is already connected";
    57 ENOTCONN "Socket is not connected";
    58 ESHUTDOWN "Can't send after socket shutdown";
    59 ETOOMANYREFS "Too many references: can't splice";
    60 ETIMEDOUT "Operation timed out";
    61 ECONNREFUSED "Connection refused";
    62 ELOOP "Too many levels of symbolic links";
    63 ENAMETOOLONG "File name too long";
    64 EHOSTDOWN "Host is down";
    65 EHOSTUNREACH "No route to host";
    66 ENOTEMPTY "Directory not empty";
    67 EPROCLIM "Too many processes";
    68 EUSERS "Too many users";
    69 EDQUOT "Disc quota exceeded";
    70 ESTALE "Stale NFS file handle";
    71 EREMOTE "Too many levels of remote in path";
    72 EBADRPC "RPC struct is bad";
    73 ERPCMISMATCH "RPC version wrong";
    74 EPROGUNAVAIL "RPC prog. not avail";
    75 EPROGMISMATCH "Program version wrong";
    76 EPROCUNAVAIL "Bad procedure for program";
    77 ENOLCK "No locks available";
    78 ENOSYS "Function not implemented";
    79 EFTYPE "Inappropriate file type or format";
    80 EAUTH "Authentication error";
    81 ENEEDAUTH "Need authenticator";
    82 EIDRM "Identifier removed";
    83 ENOMSG "No message of desired type";
    84 EOVERFLOW "Value too large to be stored in data type";
    85 EILSEQ "Illegal byte sequence";
    86 ENOTSUP "Not supported";
    87 ECANCELED "Operation canceled";
    88 EBADMSG "Bad or Corrupt message";
    89 ENODATA "No message available";
    90 ENOSR "No STREAM resources";
    91 ENOSTR "Not a STREAM";
    92 ETIME "STREAM ioctl timeout";
    93 ENOATTR "Attribute not found";
    94 EMULTIHOP "Multihop attempted";
    95 ENOLINK "Link has been severed";
    96 EPROTO "Protocol error";
}

impl Errno {
    /// EAGAIN under its other name.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// The largest errno value NetBSD defines.
    pub const ELAST: Errno = Errno::EPROTO;

    /// The raw number.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// The symbolic name, e.g. `"ENOENT"`; `None` for unknown numbers.
    pub fn name(self) -> Option<&'static str> {
        self.entry().filter(|_| self.0 > 0).map(|e| e.0)
    }

    /// NetBSD's message text, e.g. `"No such file or directory"`.
    pub fn message(self) -> String {
        match self.entry() {
            Some((_, msg)) => (*msg).to_string(),
            None => format!("Unknown error: {}", self.0),
        }
    }

    fn entry(self) -> Option<&'static (&'static str, &'static str)> {
        usize::try_from(self.0).ok().and_then(|n| TABLE.get(n))
    }

    /// Looks an errno up by its symbolic name.
    pub fn from_name(name: &str) -> Option<Errno> {
        TABLE
            .iter()
            .position(|(n, _)| *n == name)
            .filter(|&i| i > 0)
            .map(|i| Errno(i as i32))
    }

    /// Translates an errno of the host this program runs on into NetBSD's
    /// numbering (the two agree up to ERANGE, 34, and differ after).
    pub fn from_host(host: i32) -> Errno {
        host_table()
            .iter()
            .find(|(h, _)| *h == host)
            .map(|&(_, n)| n)
            .unwrap_or(Errno::EIO)
    }

    /// Translates into the host's numbering, for handing an error to host
    /// code (`std::io::Error::from_raw_os_error`). Values the host lacks
    /// become the host's EIO.
    pub fn to_host(self) -> i32 {
        host_table()
            .iter()
            .find(|(_, n)| *n == self)
            .map(|&(h, _)| h)
            .unwrap_or(libc::EIO)
    }

    /// The NetBSD errno of a host I/O error (EIO when it carries none).
    pub fn from_io(err: &std::io::Error) -> Errno {
        err.raw_os_error().map_or(Errno::EIO, Errno::from_host)
    }
}

/// Pairs of (host errno, NetBSD errno) for every error both systems name.
fn host_table() -> &'static [(i32, Errno)] {
    use libc::*;
    &[
        (EPERM, Errno::EPERM),
        (ENOENT, Errno::ENOENT),
        (ESRCH, Errno::ESRCH),
        (EINTR, Errno::EINTR),
        (EIO, Errno::EIO),
        (ENXIO, Errno::ENXIO),
        (E2BIG, Errno::E2BIG),
        (ENOEXEC, Errno::ENOEXEC),
        (EBADF, Errno::EBADF),
        (ECHILD, Errno::ECHILD),
        (EDEADLK, Errno::EDEADLK),
        (ENOMEM, Errno::ENOMEM),
        (EACCES, Errno::EACCES),
        (EFAULT, Errno::EFAULT),
        (ENOTBLK, Errno::ENOTBLK),
        (EBUSY, Errno::EBUSY),
        (EEXIST, Errno::EEXIST),
        (EXDEV, Errno::EXDEV),
        (ENODEV, Errno::ENODEV),
        (ENOTDIR, Errno::ENOTDIR),
        (EISDIR, Errno::EISDIR),
        (EINVAL, Errno::EINVAL),
        (ENFILE, Errno::ENFILE),
        (EMFILE, Errno::EMFILE),
        (ENOTTY, Errno::ENOTTY),
        (ETXTBSY, Errno::ETXTBSY),
        (EFBIG, Errno::EFBIG),
        (ENOSPC, Errno::ENOSPC),
        (ESPIPE, Errno::ESPIPE),
        (EROFS, Errno::EROFS),
        (EMLINK, Errno::EMLINK),
        (EPIPE, Errno::EPIPE),
        (EDOM, Errno::EDOM),
        (ERANGE, Errno::ERANGE),
        (EAGAIN, Errno::EAGAIN),
        (EINPROGRESS, Errno::EINPROGRESS),
        (EALREADY, Errno::EALREADY),
        (ENOTSOCK, Errno::ENOTSOCK),
        (EDESTADDRREQ, Errno::EDESTADDRREQ),
        (EMSGSIZE, Errno::EMSGSIZE),
        (EPROTOTYPE, Errno::EPROTOTYPE),
        (ENOPROTOOPT, Errno::ENOPROTOOPT),
        (EPROTONOSUPPORT, Errno::EPROTONOSUPPORT),
        (ESOCKTNOSUPPORT, Errno::ESOCKTNOSUPPORT),
        (EOPNOTSUPP, Errno::EOPNOTSUPP),
        (EPFNOSUPPORT, Errno::EPFNOSUPPORT),
        (EAFNOSUPPORT, Errno::EAFNOSUPPORT),
        (EADDRINUSE, Errno::EADDRINUSE),
        (EADDRNOTAVAIL, Errno::EADDRNOTAVAIL),
        (ENETDOWN, Errno::ENETDOWN),
        (ENETUNREACH, Errno::ENETUNREACH),
        (ENETRESET, Errno::ENETRESET),
        (ECONNABORTED, Errno::ECONNABORTED),
        (ECONNRESET, Errno::ECONNRESET),
        (ENOBUFS, Errno::ENOBUFS),
        (EISCONN, Errno::EISCONN),
        (ENOTCONN, Errno::ENOTCONN),
        (ESHUTDOWN, Errno::ESHUTDOWN),
        (ETOOMANYREFS, Errno::ETOOMANYREFS),
        (ETIMEDOUT, Errno::ETIMEDOUT),
        (ECONNREFUSED, Errno::ECONNREFUSED),
        (ELOOP, Errno::ELOOP),
        (ENAMETOOLONG, Errno::ENAMETOOLONG),
        (EHOSTDOWN, Errno::EHOSTDOWN),
        (EHOSTUNREACH, Errno::EHOSTUNREACH),
        (ENOTEMPTY, Errno::ENOTEMPTY),
        (EUSERS, Errno::EUSERS),
        (EDQUOT, Errno::EDQUOT),
        (ESTALE, Errno::ESTALE),
        (EREMOTE, Errno::EREMOTE),
        (ENOLCK, Errno::ENOLCK),
        (ENOSYS, Errno::ENOSYS),
        (EIDRM, Errno::EIDRM),
        (ENOMSG, Errno::ENOMSG),
        (EOVERFLOW, Errno::EOVERFLOW),
        (EILSEQ, Errno::EILSEQ),
        (ECANCELED, Errno::ECANCELED),
        (EBADMSG, Errno::EBADMSG),
        (ENODATA, Errno::ENODATA),
        (ENOSR, Errno::ENOSR),
        (ENOSTR, Errno::ENOSTR),
        (ETIME, Errno::ETIME),
        (EMULTIHOP, Errno::EMULTIHOP),
        (ENOLINK, Errno::ENOLINK),
        (EPROTO, Errno::EPROTO),
    ]
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}({})", self.0),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl std::error::Error for Errno {}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Self {
        Errno::from_io(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_messages() {
        assert_eq!(Errno::ENOENT.get(), 2);
        assert_eq!(Errno::EAGAIN.get(), 35);
        assert_eq!(Errno::ENOSYS.get(), 78);
        assert_eq!(Errno::EFTYPE.get(), 79);
        assert_eq!(Errno::EPROTO.get(), 96);
        assert_eq!(Errno::ENOTCONN.message(), "Socket is not connected");
        assert_eq!(Errno::EADDRINUSE.to_string(), "Address already in use");
        assert_eq!(Errno::ENXIO.message(), "Device not configured");
        assert_eq!(Errno(0).message(), "Undefined error: 0");
        assert_eq!(Errno(500).message(), "Unknown error: 500");
        assert_eq!(format!("{:?}", Errno::EBADF), "EBADF(9)");
        assert_eq!(Errno::from_name("ENAMETOOLONG"), Some(Errno(63)));
    }

    #[test]
    fn host_numbers_translate() {
        assert_eq!(Errno::from_host(libc::EADDRINUSE), Errno::EADDRINUSE);
        assert_eq!(Errno::from_host(libc::ENOSYS), Errno::ENOSYS);
        assert_eq!(Errno::ENOTEMPTY.to_host(), libc::ENOTEMPTY);
        assert_eq!(Errno::EFTYPE.to_host(), libc::EIO, "no host equivalent");
    }
}
