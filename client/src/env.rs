//! The environment of a client: finding the server, carrying a connection
//! across exec, forking, and signals the server raises.

use crate::conn::{progname, Client};
use crate::error::ConnectError;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use std::os::fd::{AsRawFd, OwnedFd};

/// Names the server to connect to.
pub const RUMP_SERVER: &str = "RUMP_SERVER";
/// The server URL as a parent resolved it (takes priority).
pub const RUMP_PARSEDSERVER: &str = "RUMP__PARSEDSERVER";
/// `<socket fd>,<aux fd>` of a connection inherited across exec.
pub const RUMPCLIENT_EXECFD: &str = "RUMPCLIENT__EXECFD";

impl Client {
    /// Connects as librumpclient's `rumpclient_init` does: takes over a
    /// connection left by an exec'ing parent (an EXEC handshake), or else
    /// connects to RUMP__PARSEDSERVER or RUMP_SERVER as a new process.
    pub fn from_env() -> Result<Client, ConnectError> {
        let name = progname();
        if let Ok(v) = std::env::var(RUMPCLIENT_EXECFD) {
            let fd = inherited_fd(&v)?;
            // The descriptor now belongs to this connection alone.
            std::env::remove_var(RUMPCLIENT_EXECFD);
            let url = std::env::var(RUMP_PARSEDSERVER).unwrap_or_default();
            let c = Client::adopt(fd, url);
            c.exec_handshake(&name)?;
            return Ok(c);
        }
        let url = std::env::var(RUMP_PARSEDSERVER)
            .or_else(|_| std::env::var(RUMP_SERVER))
            .map_err(|_| ConnectError::NoServer)?;
        Client::connect(&url, &name)
    }

    /// Prepares the connection to survive an exec: clears close-on-exec on
    /// its socket and returns the variables to put in the new program's
    /// environment, whose [`Client::from_env`] then continues this process.
    pub fn exec_env(&self) -> std::io::Result<Vec<(String, String)>> {
        let fd = self.socket();
        fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).map_err(std::io::Error::from)?;
        Ok(vec![
            (
                RUMPCLIENT_EXECFD.to_string(),
                format!("{},-1", fd.as_raw_fd()),
            ),
            (RUMP_PARSEDSERVER.to_string(), self.url().to_string()),
        ])
    }
}

fn inherited_fd(v: &str) -> Result<OwnedFd, ConnectError> {
    let bad = || ConnectError::ExecFd(v.to_string());
    let fd: i32 = v
        .split(',')
        .next()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(bad)?;
    crate::inherit::adopt_fd(fd).ok_or_else(bad)
}

/// Acts on a signal the server raised (NetBSD numbering), as the program
/// would on the host.
pub(crate) fn raise(netbsd_signo: u32) {
    use nix::sys::signal::{raise, Signal};
    let sig = match netbsd_signo {
        1 => Signal::SIGHUP,
        2 => Signal::SIGINT,
        3 => Signal::SIGQUIT,
        6 => Signal::SIGABRT,
        13 => Signal::SIGPIPE,
        14 => Signal::SIGALRM,
        15 => Signal::SIGTERM,
        30 => Signal::SIGUSR1,
        31 => Signal::SIGUSR2,
        _ => return,
    };
    let _ = raise(sig);
}
