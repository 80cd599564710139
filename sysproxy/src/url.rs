//! Server URLs: `unix://path`, `unix:///abs/path`, `tcp://a.b.c.d:port/`.
//!
//! Parsing follows NetBSD's `parseurl`: the same accepted forms and the
//! same diagnostics, so scripts that drive NetBSD's server see the same
//! messages from ours.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

/// Longest unix socket path a bind or connect accepts on this host
/// (`sizeof(sun_path) - 1`).
pub const MAX_UNIX_PATH: usize = 107;

/// Which end parses: only a server may name the wildcard address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

/// Where to listen or connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A unix-domain socket. `path` is absolute whenever the working
    /// directory was known; `cleanup` says whether a server should remove
    /// the socket file when it halts.
    Unix { path: PathBuf, cleanup: bool },
    /// A TCP/IPv4 address.
    Tcp(SocketAddrV4),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix { path, .. } => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}/"),
        }
    }
}

/// The errno class of a URL error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlErrorKind {
    /// EINVAL
    Invalid,
    /// ENAMETOOLONG
    NameTooLong,
    /// ERANGE
    Range,
    /// EOPNOTSUPP
    NotSupported,
}

/// A URL that cannot be used, with NetBSD's diagnostic text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UrlError {
    pub kind: UrlErrorKind,
    pub message: String,
}

fn err(kind: UrlErrorKind, message: String) -> UrlError {
    UrlError { kind, message }
}

/// Parses `url`. A relative unix path is joined to `cwd` (when known).
pub fn parse(url: &str, side: Side, cwd: Option<&Path>) -> Result<Endpoint, UrlError> {
    use UrlErrorKind::*;
    let Some(sep) = url.find("://") else {
        return Err(err(Invalid, format!("rump_sp: invalid locator ``{url}''")));
    };
    let (scheme, addr) = (&url[..sep], &url[sep + 3..]);
    if scheme.len() > 15 {
        return Err(err(
            Invalid,
            format!("rump_sp: identifier too long in ``{url}''"),
        ));
    }
    match scheme {
        "unix" => parse_unix(addr, cwd),
        "tcp" => parse_tcp(addr, side),
        "tcp6" => Err(err(
            NotSupported,
            "rump_sp: support not yet implemented".into(),
        )),
        _ => Err(err(
            Invalid,
            format!("rump_sp: invalid identifier ``{url}''"),
        )),
    }
}

fn parse_unix(addr: &str, cwd: Option<&Path>) -> Result<Endpoint, UrlError> {
    use UrlErrorKind::*;
    if addr.is_empty() {
        return Err(err(Invalid, "rump_sp: empty unix socket path".into()));
    }
    let too_long = || {
        err(
            NameTooLong,
            format!("rump_sp: unix socket path too long (at most {MAX_UNIX_PATH} bytes): {addr}"),
        )
    };
    if addr.len() > MAX_UNIX_PATH {
        return Err(too_long());
    }
    if addr.starts_with('/') {
        return Ok(Endpoint::Unix {
            path: PathBuf::from(addr),
            cleanup: true,
        });
    }
    match cwd {
        Some(dir) => {
            let path = dir.join(addr);
            if path.as_os_str().len() > MAX_UNIX_PATH {
                return Err(too_long());
            }
            Ok(Endpoint::Unix {
                path,
                cleanup: true,
            })
        }
        None => Ok(Endpoint::Unix {
            path: PathBuf::from(addr),
            cleanup: false,
        }),
    }
}

fn parse_tcp(addr: &str, side: Side) -> Result<Endpoint, UrlError> {
    use UrlErrorKind::*;
    let Some(colon) = addr.find(':') else {
        return Err(err(Invalid, "rump_sp_tcp: missing port specifier".into()));
    };
    let host = &addr[..colon];
    if host.len() > 63 {
        return Err(err(Invalid, "rump_sp_tcp: address too long".into()));
    }
    let ip = if host == "*" || host == "0" {
        Ipv4Addr::UNSPECIFIED
    } else {
        host.parse::<Ipv4Addr>()
            .map_err(|_| err(Invalid, format!("rump_sp_tcp: cannot parse {host}")))?
    };
    if side == Side::Client && ip.is_unspecified() {
        return Err(err(Invalid, "rump_sp_tcp: client needs !INADDR_ANY".into()));
    }
    let rest = &addr[colon + 1..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(err(Invalid, format!("rump_sp_tcp: port now found: {rest}")));
    }
    if !matches!(rest.as_bytes().get(digits), None | Some(b'/')) {
        return Err(err(
            Invalid,
            format!("rump_sp_tcp: junk at end of port: {addr}"),
        ));
    }
    let port: u64 = rest[..digits].bytes().fold(0u64, |p, d| {
        p.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    let port = u16::try_from(port)
        .map_err(|_| err(Range, format!("rump_sp_tcp: port {port} out of range")))?;
    Ok(Endpoint::Tcp(SocketAddrV4::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Result<Endpoint, UrlError> {
        parse(url, Side::Server, Some(Path::new("/home/u")))
    }

    #[test]
    fn unix_paths() {
        assert_eq!(
            server("unix://sock").unwrap(),
            Endpoint::Unix {
                path: "/home/u/sock".into(),
                cleanup: true
            }
        );
        assert_eq!(
            server("unix:///tmp/s").unwrap(),
            Endpoint::Unix {
                path: "/tmp/s".into(),
                cleanup: true
            }
        );
        assert_eq!(
            parse("unix://s", Side::Server, None).unwrap(),
            Endpoint::Unix {
                path: "s".into(),
                cleanup: false
            }
        );
        let long = format!("unix://{}", "x".repeat(103));
        assert_eq!(server(&long).unwrap_err().kind, UrlErrorKind::NameTooLong);
    }

    #[test]
    fn tcp_addresses() {
        assert_eq!(
            server("tcp://127.0.0.1:1234/").unwrap(),
            Endpoint::Tcp("127.0.0.1:1234".parse().unwrap())
        );
        assert_eq!(
            server("tcp://0:99").unwrap(),
            Endpoint::Tcp("0.0.0.0:99".parse().unwrap())
        );
        assert_eq!(
            server("tcp://*:99/anything").unwrap().to_string(),
            "tcp://0.0.0.0:99/"
        );
        let e = parse("tcp://0:99", Side::Client, None).unwrap_err();
        assert_eq!(e.message, "rump_sp_tcp: client needs !INADDR_ANY");
    }

    #[test]
    fn netbsd_diagnostics() {
        let msg = |u: &str| server(u).unwrap_err().message;
        assert_eq!(msg("sock"), "rump_sp: invalid locator ``sock''");
        assert_eq!(
            msg("udp://1.2.3.4:5"),
            "rump_sp: invalid identifier ``udp://1.2.3.4:5''"
        );
        assert_eq!(
            msg("abcdefghijklmnop://x"),
            "rump_sp: identifier too long in ``abcdefghijklmnop://x''"
        );
        assert_eq!(msg("tcp://1.2.3.4"), "rump_sp_tcp: missing port specifier");
        assert_eq!(
            msg("tcp://localhost:5"),
            "rump_sp_tcp: cannot parse localhost"
        );
        assert_eq!(msg("tcp://1.2.3.4:x"), "rump_sp_tcp: port now found: x");
        assert_eq!(
            msg("tcp://1.2.3.4:5x"),
            "rump_sp_tcp: junk at end of port: 1.2.3.4:5x"
        );
        assert_eq!(
            msg("tcp://1.2.3.4:70000"),
            "rump_sp_tcp: port 70000 out of range"
        );
        assert_eq!(
            server("tcp://1.2.3.4:70000").unwrap_err().kind,
            UrlErrorKind::Range
        );
        assert_eq!(
            msg("tcp6://[::1]:5"),
            "rump_sp: support not yet implemented"
        );
    }
}
