//! Errors of connecting to a server.

use netbsd_abi::Errno;

/// Why a connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// RUMP_SERVER is not set.
    #[error("RUMP_SERVER not set")]
    NoServer,
    /// The URL cannot be used.
    #[error("{0}")]
    Url(#[from] sysproxy::url::UrlError),
    /// The socket could not be connected.
    #[error("client connect failed: {0}")]
    Connect(std::io::Error),
    /// The server did not send a valid banner.
    #[error("invalid banner")]
    Banner,
    /// The handshake failed.
    #[error("handshake failed: {0}")]
    Handshake(Errno),
    /// RUMPCLIENT__EXECFD does not name a usable descriptor.
    #[error("bad RUMPCLIENT__EXECFD `{0}'")]
    ExecFd(String),
}

impl ConnectError {
    /// The errno librumpclient would fail with.
    pub fn errno(&self) -> Errno {
        match self {
            ConnectError::NoServer => Errno::ENOENT,
            ConnectError::Url(u) => match u.kind {
                sysproxy::url::UrlErrorKind::Invalid => Errno::EINVAL,
                sysproxy::url::UrlErrorKind::NameTooLong => Errno::ENAMETOOLONG,
                sysproxy::url::UrlErrorKind::Range => Errno::ERANGE,
                sysproxy::url::UrlErrorKind::NotSupported => Errno::EOPNOTSUPP,
            },
            ConnectError::Connect(e) => Errno::from_io(e),
            ConnectError::Banner => Errno::EPROTO,
            ConnectError::Handshake(e) => *e,
            ConnectError::ExecFd(_) => Errno::EBADF,
        }
    }
}
