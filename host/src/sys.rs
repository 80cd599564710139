//! The host system calls the server needs beyond std, behind safe
//! functions. The only `unsafe` of the host crate lives here.
#![allow(unsafe_code)]

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{sendmsg, MsgFlags};
use nix::unistd::ForkResult;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd};

/// Sends what the socket takes of `parts` (gathered into one message)
/// without waiting and without SIGPIPE; `WouldBlock` when its buffer is
/// full.
pub fn send_parts_nowait(fd: impl AsFd, parts: &[IoSlice<'_>]) -> io::Result<usize> {
    sendmsg::<()>(
        fd.as_fd().as_raw_fd(),
        parts,
        &[],
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(io::Error::from)
}

/// Waits until `fd` can take more data (or has failed).
pub fn wait_writable(fd: impl AsFd) -> io::Result<()> {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Which side of a fork this process is on.
pub enum Forked {
    Parent { child: i32 },
    Child,
}

/// Forks the process.
///
/// Must be called while the process has a single thread (before the
/// kernel starts any): the child gets only the calling thread.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the server forks during start-up, before it has spawned any
    // thread, so the child inherits no lock held by a thread that does not
    // exist in it; the child then goes on to run ordinary Rust code.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { child } => Ok(Forked::Parent {
            child: child.as_raw(),
        }),
        ForkResult::Child => Ok(Forked::Child),
    }
}

/// Ignores SIGPIPE, so a write to a vanished client is an error, not death.
pub fn ignore_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_IGN runs no code in signal context.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

/// Points stdin, stdout and stderr at /dev/null (after detaching).
pub fn stdio_to_devnull() -> io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        nix::unistd::dup2(null.as_raw_fd(), fd).map_err(io::Error::from)?;
    }
    Ok(())
}

/// The host's name.
pub fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
}
