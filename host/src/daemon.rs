//! Detaching from the terminal, NetBSD style: the server forks, and the
//! parent waits on a socket pair for one status word from the child. It
//! exits 0 once the child listens, with the child's error number if the
//! child fails, and with 3 (ESRCH) if the child dies without a word.

use crate::sys::{self, Forked};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

/// The parent's exit status when the child vanished without reporting.
pub const STATUS_CHILD_VANISHED: i32 = 3;

/// The child's side of the protocol.
pub struct Detached {
    parent: UnixStream,
}

/// Forks. Returns in the child; the parent waits and exits.
pub fn begin() -> io::Result<Detached> {
    let (parent_end, child_end) = UnixStream::pair()?;
    match sys::fork()? {
        Forked::Parent { .. } => {
            drop(child_end);
            let mut word = [0u8; 4];
            let status = match (&parent_end).read_exact(&mut word) {
                Ok(()) => i32::from_le_bytes(word),
                Err(_) => STATUS_CHILD_VANISHED,
            };
            std::process::exit(status);
        }
        Forked::Child => {
            drop(parent_end);
            let _ = nix::unistd::setsid();
            Ok(Detached { parent: child_end })
        }
    }
}

impl Detached {
    /// Reports success: the parent exits 0 and the child's standard I/O
    /// moves to /dev/null.
    pub fn done(self) {
        let _ = std::io::stdout().flush();
        let _ = sys::stdio_to_devnull();
        let _ = (&self.parent).write_all(&0i32.to_le_bytes());
    }

    /// Reports a failure: the parent exits with `errno`.
    pub fn fail(self, errno: i32) {
        let _ = (&self.parent).write_all(&errno.to_le_bytes());
    }
}
