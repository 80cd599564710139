//! The listening socket and the accept loop.

use super::conn::{Conn, Reader};
use super::stream::Stream;
use crate::kern::{pool, MACHINE, OSRELEASE, OSTYPE};
use parking_lot::Mutex;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use sysproxy::url::Endpoint;

/// Connections served at once; more are accepted and closed at once.
pub const MAX_CONNS: usize = 1024;

/// A bound listening socket.
pub enum Listener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener),
}

/// Why the server could not listen.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct BindError {
    pub reason: String,
    pub source: io::Error,
}

impl Listener {
    /// The unix socket path, if it is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Listener::Unix(_, p) => Some(p),
            Listener::Tcp(_) => None,
        }
    }
}

/// Binds `ep`. A unix socket file left behind by a server that is gone is
/// replaced (and a note says so); one that a live server answers on, or a
/// path that is not a socket, is refused.
pub fn bind(ep: &Endpoint) -> Result<(Listener, Option<String>), BindError> {
    match ep {
        Endpoint::Tcp(addr) => TcpListener::bind(addr)
            .map(|l| (Listener::Tcp(l), None))
            .map_err(|e| BindError {
                reason: e.to_string(),
                source: e,
            }),
        Endpoint::Unix { path, .. } => match UnixListener::bind(path) {
            Ok(l) => Ok((Listener::Unix(l, path.clone()), None)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => replace_stale(path, e),
            Err(e) => Err(BindError {
                reason: e.to_string(),
                source: e,
            }),
        },
    }
}

fn replace_stale(path: &Path, err: io::Error) -> Result<(Listener, Option<String>), BindError> {
    let shown = path.display();
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return Err(BindError {
            reason: format!("{shown} exists and is not a socket"),
            source: err,
        });
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(BindError {
            reason: format!("a server is already listening on {shown}"),
            source: err,
        }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(|e| BindError {
                reason: format!("cannot remove the stale socket {shown}: {e}"),
                source: e,
            })?;
            let l = UnixListener::bind(path).map_err(|e| BindError {
                reason: e.to_string(),
                source: e,
            })?;
            let note = format!(
                "rump_sp: replaced the stale socket {shown} (no server was listening on it)"
            );
            Ok((Listener::Unix(l, path.to_path_buf()), Some(note)))
        }
        Err(e) => Err(BindError {
            reason: format!("{shown} is in use ({e})"),
            source: err,
        }),
    }
}

struct Server {
    stopping: AtomicBool,
    conns: Mutex<Vec<Weak<Conn>>>,
    listener_fd: i32,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// Starts accepting clients on a thread of its own.
pub fn serve(listener: Listener) -> io::Result<()> {
    let fd = match &listener {
        Listener::Unix(l, _) => l.as_raw_fd(),
        Listener::Tcp(l) => l.as_raw_fd(),
    };
    let _ = SERVER.set(Server {
        stopping: AtomicBool::new(false),
        conns: Mutex::new(Vec::new()),
        listener_fd: fd,
    });
    std::thread::Builder::new()
        .name("rump-accept".into())
        .spawn(move || accept_loop(listener))?;
    Ok(())
}

fn accept_loop(listener: Listener) {
    let banner = sysproxy::banner::banner(OSTYPE, OSRELEASE, MACHINE);
    let ids = AtomicU64::new(1);
    let server = SERVER.get().expect("server state");
    loop {
        let accepted = match &listener {
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
        };
        if server.stopping.load(Ordering::Acquire) {
            return;
        }
        let stream = match accepted {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!("accept: {e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
        };
        let live = {
            let mut c = server.conns.lock();
            c.retain(|w| w.upgrade().is_some_and(|c| !c.is_dead()));
            c.len()
        };
        if live >= MAX_CONNS {
            tracing::warn!("refusing a client: {MAX_CONNS} connections are open");
            continue;
        }
        let id = ids.fetch_add(1, Ordering::Relaxed);
        // The banner goes out in one write, before anything else.
        if (&stream).write_all(banner.as_bytes()).is_err() {
            continue;
        }
        let conn = Conn::new(id, stream);
        server.conns.lock().push(Arc::downgrade(&conn));
        tracing::debug!(conn = id, "client connected");
        pool::spawn(move || Reader::new(conn).run());
    }
}

/// Stops accepting and closes every connection (reboot with RB_HALT).
pub fn stop() {
    let Some(server) = SERVER.get() else { return };
    server.stopping.store(true, Ordering::Release);
    let _ = nix::sys::socket::shutdown(server.listener_fd, nix::sys::socket::Shutdown::Both);
    for c in server.conns.lock().drain(..) {
        if let Some(c) = c.upgrade() {
            c.shutdown();
        }
    }
}
